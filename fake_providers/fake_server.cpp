#include "fake_providers/fake_server.hpp"

#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <deque>
#include <limits>
#include <map>
#include <thread>
#include <unordered_set>

#include "fake_providers/fault_control.hpp"
#include "fake_providers/real_clock.hpp"
#include "fake_providers/request_body.hpp"
#include "fake_providers/wire_format.hpp"
#include "policies/core/intrusive_fifo.hpp"
#include "policies/core/json_text.hpp"
#include "sim/provider/provider_model.hpp"

namespace squall::fake {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using error_code = boost::system::error_code;

constexpr std::size_t read_chunk_bytes = 16 * 1024;
constexpr std::size_t outbox_bytes_max = 16 * 1024 * 1024;  // a client that stops reading is dropped
// Stream chunks go out at most this often: a 2,000-token answer at 1 ms per token becomes 200 writes.
constexpr duration stream_tick_min = std::chrono::milliseconds{10};
constexpr duration reopen_retry = std::chrono::milliseconds{50};

class provider_endpoint;
class session;

std::string hex64(std::uint64_t v) {
  char buf[20];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
  return buf;
}

// One request to an AI endpoint, from admission to the end of its service. The server-side work (the
// slot) and the client's exchange end separately: a client that leaves, a stream cut or an error event
// ends the exchange, while the work goes on until its service time is over, as on a real server.
struct job : std::enable_shared_from_this<job> {
  using kind = request_kind;
  enum class phase : std::uint8_t { answering, queued, in_service, hung, done };

  job(std::shared_ptr<provider_endpoint> owner, std::shared_ptr<session> client, asio::io_context& io);
  ~job();

  std::shared_ptr<provider_endpoint> p;
  std::shared_ptr<session> s;  // null once the exchange is over
  asio::steady_timer timer;
  kind k = kind::chat;
  phase ph = phase::answering;
  bool stream = false;
  bool include_usage = false;
  bool keep_alive = true;
  bool embed_base64 = false;
  std::uint32_t embed_dims = 0;
  std::size_t embed_inputs = 1;
  request req;
  sim::attempt_draws draws;
  sim::admission adm;
  rng text_rng;
  std::string request_id;
  std::string object_id;
  std::int64_t created_unix_s = 0;
  time_point arrival{};
  time_point started{};
  sim::service_plan plan;
  std::uint32_t tokens_sent = 0;
  bool wire_struck = false;
  bool head_sent = false;
  job* prev = nullptr;  // provider_endpoint::jobs
  job* next = nullptr;
};

class session : public std::enable_shared_from_this<session> {
 public:
  session(std::shared_ptr<provider_endpoint> owner, tcp::socket socket);
  void start();
  void send(std::string bytes);
  // The current exchange is over; read the next request unless the connection should close.
  void complete_exchange(bool keep_alive);
  // Closes the connection; `reset` sends a TCP RST instead of a FIN.
  void close_now(bool reset);
  bool closed() const noexcept { return closed_; }
  void set_current(std::shared_ptr<job> j) { current_ = std::move(j); }
  // When the bytes of the request being handled reached this host (the kernel's receive time of the read
  // that completed it), or nothing for a request that waited in the buffer behind another.
  std::optional<time_point> arrived_at() const noexcept { return arrived_at_; }

 private:
  void read();
  void on_readable(error_code ec);
  void parse();
  void resume();
  void arm_idle();
  void wait_idle();
  void do_write();
  void bad_request(error_code ec);

  std::shared_ptr<provider_endpoint> p_;
  tcp::socket socket_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  // One wait per connection, re-armed lazily: an exchange only moves `idle_since_`, so keep-alive
  // traffic costs no timer cancel, heap update or aborted handler per request (it did, in the profile).
  asio::steady_timer idle_timer_;
  time_point idle_since_{};
  bool idle_waiting_ = false;
  std::deque<std::string> outbox_;
  std::size_t outbox_bytes_ = 0;
  std::shared_ptr<job> current_;
  bool writing_ = false;
  bool reading_ = false;
  bool busy_ = false;
  bool close_after_drain_ = false;
  bool closed_ = false;
  std::optional<time_point> arrived_at_;
};

class provider_endpoint : public std::enable_shared_from_this<provider_endpoint> {
 public:
  provider_endpoint(asio::io_context& io, const real_clock& clock, const server_options& options,
                    const sim::provider_config& config);

  std::optional<std::string> listen(const tcp::endpoint& at);
  std::uint16_t port() const noexcept { return bound_.port(); }
  const real_clock& clock() const noexcept { return clock_; }
  void begin();     // accept loop and timeline follower; on the I/O thread
  void shutdown();  // on the I/O thread

  void handle(const std::shared_ptr<session>& s, http::request<http::string_body>&& req);
  void client_gone(job& j);
  void bad_http(const std::shared_ptr<session>& s, int status, std::string message);

  // For the session and job bookkeeping.
  std::unordered_set<session*> sessions;
  intrusive_fifo<job> jobs;  // threaded through the jobs: no allocation per request
  bool stopping = false;
  const server_options& options;
  asio::io_context& io;

 private:
  friend struct job;
  void accept();
  void follow_timeline();
  void reopen();

  // Routes.
  void api_request(const std::shared_ptr<session>& s, http::request<http::string_body>& req, job::kind k);
  void models(const std::shared_ptr<session>& s, bool keep_alive, std::string_view id);
  void metrics(const std::shared_ptr<session>& s, bool keep_alive);
  void faults(const std::shared_ptr<session>& s, http::request<http::string_body>& req, std::string_view query);

  // Answers.
  void send_json(const std::shared_ptr<session>& s, int status, const std::string& body, bool keep_alive,
                 const header_list& headers = {}, bool counted = true);
  void send_error(const std::shared_ptr<session>& s, bool keep_alive, const error_spec& e,
                  std::optional<duration> retry_after = std::nullopt);
  header_list api_headers(std::string_view request_id, bool rate_headers);
  std::string next_request_id();

  // The life of a job.
  // `arrived_at`: when the request reached the host, if known (session::arrived_at); else now.
  void admit(const std::shared_ptr<job>& j, std::optional<time_point> arrived_at);
  void answer_after(const std::shared_ptr<job>& j, duration delay);
  void deliver_error(const std::shared_ptr<job>& j);
  // Service starts at `start`: the arrival for a request that found a free slot, now for one from the queue.
  void start_service(const std::shared_ptr<job>& j, time_point start);
  void tick(const std::shared_ptr<job>& j);
  void schedule_tick(const std::shared_ptr<job>& j, time_point now);
  void finish_service(const std::shared_ptr<job>& j);
  void end_exchange(job& j, bool keep_alive);
  void send_stream_open(job& j);
  void send_stream_tokens(job& j, std::uint32_t upto);
  void send_stream_close(job& j);
  std::string full_body(job& j);
  std::string chunk_head(const job& j) const;
  std::uint32_t tokens_due(const job& j, duration elapsed) const noexcept;
  void count_fault(const std::string& kind) { ++faults_injected_[kind]; }

  const real_clock& clock_;
  sim::provider_model model_;
  api_style api_;
  std::uint64_t seed_;
  tcp::acceptor acceptor_;
  tcp::endpoint bound_;
  bool accepting_ = false;
  asio::steady_timer timeline_timer_;
  fault_control control_;

  std::uint32_t busy_ = 0;
  std::deque<std::shared_ptr<job>> queue_;
  std::size_t hung_ = 0;
  std::size_t answering_ = 0;
  std::uint64_t next_sequence_ = 0;     // requests without x-squall-request-id
  std::uint64_t request_counter_ = 0;   // request-id strings

  // Metrics.
  std::map<int, std::uint64_t> responses_;
  std::map<std::string, std::uint64_t> faults_injected_;
  std::uint64_t api_requests_ = 0;
  std::uint64_t input_tokens_ = 0;
  std::uint64_t output_tokens_ = 0;
  double cost_usd_ = 0;
  std::uint64_t connections_accepted_ = 0;
  std::uint64_t connections_rejected_ = 0;
  std::uint64_t bad_requests_ = 0;
};

// ---------------------------------------------------------------------------------------------------
// job

job::job(std::shared_ptr<provider_endpoint> owner, std::shared_ptr<session> client, asio::io_context& io)
    : p(std::move(owner)), s(std::move(client)), timer(io) {
  p->jobs.push_back(*this);
}

job::~job() { p->jobs.unlink(*this); }

// ---------------------------------------------------------------------------------------------------
// session

session::session(std::shared_ptr<provider_endpoint> owner, tcp::socket socket)
    : p_(std::move(owner)), socket_(std::move(socket)), idle_timer_(p_->io) {}

void session::start() {
  p_->sessions.insert(this);
  error_code ec;
  socket_.set_option(tcp::no_delay(true), ec);
  // The kernel stamps each read with the time its bytes arrived, so that injected latency counts from
  // the request's arrival, not from when this one I/O thread got to it: under a burst of thousands of
  // requests the difference is the server's own backlog, which a provider with cores to spare would
  // not add (bench/README.md). Without the option every request counts from when it is parsed.
  const int on = 1;
  ::setsockopt(socket_.native_handle(), SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof on);
  arm_idle();
  read();
}

void session::arm_idle() {
  idle_since_ = p_->clock().now();
  if (!idle_waiting_) wait_idle();
}

void session::wait_idle() {
  idle_waiting_ = true;
  const duration timeout = std::chrono::duration_cast<duration>(std::chrono::duration<double>(p_->options.idle_timeout_s));
  idle_timer_.expires_at(p_->clock().steady_at(idle_since_ + timeout));
  idle_timer_.async_wait([self = shared_from_this(), timeout](error_code ec) {
    self->idle_waiting_ = false;
    // Busy: the exchange's end calls arm_idle, which waits again from then.
    if (ec || self->closed_ || self->busy_) return;
    if (self->p_->clock().now() - self->idle_since_ >= timeout) {
      self->close_now(false);
    } else {
      self->wait_idle();  // traffic since the wait began: wait out the rest
    }
  });
}

void session::read() {
  if (closed_ || reading_) return;
  // While a request is being answered, keep reading only to notice the client leaving; a client that
  // pipelines more than a header's worth waits until the answer is out.
  if (busy_ && buffer_.size() >= p_->options.header_bytes_max) return;
  reading_ = true;
  // Wait for bytes, then read them with recvmsg, which also hands over their receive time.
  socket_.async_wait(tcp::socket::wait_read, [self = shared_from_this()](error_code ec) { self->on_readable(ec); });
}

void session::on_readable(error_code ec) {
  reading_ = false;
  if (closed_) return;
  if (ec) {
    close_now(false);
    return;
  }
  const auto space = buffer_.prepare(read_chunk_bytes);
  iovec iov{space.data(), space.size()};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(timespec)) * 2];
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  const ssize_t n = ::recvmsg(socket_.native_handle(), &msg, MSG_DONTWAIT);
  if (n < 0) {
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
      read();  // woken for nothing: wait again
    } else {
      close_now(false);
    }
    return;
  }
  if (n == 0) {  // the client closed its side
    close_now(false);
    return;
  }
  arrived_at_.reset();
  for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS) {
      timespec at{};
      std::memcpy(&at, CMSG_DATA(c), sizeof at);
      arrived_at_ = p_->clock().from_wall(at);
    }
  }
  buffer_.commit(static_cast<std::size_t>(n));
  parse();
  arrived_at_.reset();  // a request still in the buffer is handled later, from when it is parsed
  read();
}

void session::parse() {
  while (!busy_ && !closed_ && buffer_.size() > 0) {
    if (!parser_) {
      parser_.emplace();
      parser_->header_limit(static_cast<std::uint32_t>(std::min<std::size_t>(p_->options.header_bytes_max,
                                                                             std::numeric_limits<std::uint32_t>::max())));
      parser_->body_limit(p_->options.body_bytes_max);
      parser_->eager(true);
    }
    error_code ec;
    const std::size_t used = parser_->put(buffer_.data(), ec);
    buffer_.consume(used);
    if (ec == http::error::need_more) {
      if (used == 0) break;
      continue;
    }
    if (ec) {
      bad_request(ec);
      return;
    }
    if (parser_->is_done()) {
      http::request<http::string_body> req = parser_->release();
      parser_.reset();
      busy_ = true;  // the idle timer no longer applies
      p_->handle(shared_from_this(), std::move(req));
    }
  }
  // A whole header that is still incomplete at the limit is too large; the parser reports it, but a
  // buffer that only grows (a header with no end) must stop somewhere too.
  if (!busy_ && !closed_ && buffer_.size() > p_->options.header_bytes_max + p_->options.body_bytes_max) {
    p_->bad_http(shared_from_this(), 431, "Request header fields too large");
  }
}

void session::bad_request(error_code ec) {
  parser_.reset();
  buffer_.consume(buffer_.size());
  busy_ = true;
  if (ec == http::error::header_limit) {
    p_->bad_http(shared_from_this(), 431, "Request header fields too large");
  } else if (ec == http::error::body_limit) {
    p_->bad_http(shared_from_this(), 413, "Request body too large: at most " +
                                              std::to_string(p_->options.body_bytes_max) + " bytes");
  } else {
    p_->bad_http(shared_from_this(), 400, "Malformed HTTP request: " + ec.message());
  }
}

void session::send(std::string bytes) {
  if (closed_ || bytes.empty()) return;
  outbox_bytes_ += bytes.size();
  outbox_.push_back(std::move(bytes));
  if (outbox_bytes_ > outbox_bytes_max) {
    close_now(true);
    return;
  }
  if (!writing_) do_write();
}

void session::do_write() {
  writing_ = true;
  asio::async_write(socket_, asio::buffer(outbox_.front()),
                    [self = shared_from_this()](error_code ec, std::size_t) {
                      self->writing_ = false;
                      if (self->closed_) return;
                      if (ec) {
                        self->close_now(false);
                        return;
                      }
                      self->outbox_bytes_ -= self->outbox_.front().size();
                      self->outbox_.pop_front();
                      if (!self->outbox_.empty()) {
                        self->do_write();
                      } else if (self->close_after_drain_) {
                        error_code ignored;
                        self->socket_.shutdown(tcp::socket::shutdown_send, ignored);
                        self->close_now(false);
                      }
                    });
}

void session::complete_exchange(bool keep_alive) {
  current_.reset();
  busy_ = false;
  if (closed_) return;
  if (!keep_alive) {
    close_after_drain_ = true;
    if (!writing_ && outbox_.empty()) close_now(false);
    return;
  }
  // Not from inside the job's own call chain: the next request may be waiting in the buffer already.
  asio::post(p_->io, [self = shared_from_this()] { self->resume(); });
}

void session::resume() {
  if (closed_ || busy_) return;
  arm_idle();
  parse();
  read();
}

void session::close_now(bool reset) {
  if (closed_) return;
  closed_ = true;
  error_code ec;
  if (reset) socket_.set_option(asio::socket_base::linger(true, 0), ec);
  socket_.close(ec);
  idle_timer_.cancel();
  p_->sessions.erase(this);
  if (std::shared_ptr<job> j = std::move(current_)) p_->client_gone(*j);
}

// ---------------------------------------------------------------------------------------------------
// provider_endpoint: listening and the fault timeline

provider_endpoint::provider_endpoint(asio::io_context& io_context, const real_clock& clock,
                                     const server_options& opts, const sim::provider_config& config)
    : options(opts),
      io(io_context),
      clock_(clock),
      model_(config, time_point{}),
      api_(api_of(config.api)),
      seed_(stream_seed(opts.seed, "provider/" + config.name)),
      acceptor_(io_context),
      timeline_timer_(io_context),
      control_(config.faults, opts.armed_faults_max) {}

std::optional<std::string> provider_endpoint::listen(const tcp::endpoint& at) {
  error_code ec;
  acceptor_.open(at.protocol(), ec);
  if (!ec) acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor_.bind(at, ec);
  if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (!ec) bound_ = acceptor_.local_endpoint(ec);
  if (ec) {
    error_code ignored;
    acceptor_.close(ignored);
    return "cannot listen on " + at.address().to_string() + ":" + std::to_string(at.port()) + " for provider \"" +
           model_.config().name + "\": " + ec.message();
  }
  accepting_ = true;
  return std::nullopt;
}

void provider_endpoint::begin() {
  accept();
  follow_timeline();
}

void provider_endpoint::accept() {
  acceptor_.async_accept([self = shared_from_this()](error_code ec, tcp::socket socket) {
    if (self->stopping || !self->accepting_) return;
    if (ec == asio::error::operation_aborted) return;
    if (!ec) {
      if (self->sessions.size() >= self->options.connections_max) {
        ++self->connections_rejected_;
        error_code ignored;
        socket.set_option(asio::socket_base::linger(true, 0), ignored);
        socket.close(ignored);
      } else {
        ++self->connections_accepted_;
        std::make_shared<session>(self, std::move(socket))->start();
      }
    }
    self->accept();
  });
}

// An outage "refuse" closes the listening socket for its duration, so that connecting fails the way it
// does against a dead server (ECONNREFUSED); the listener reopens on the same port when it ends.
void provider_endpoint::follow_timeline() {
  if (stopping) return;
  const time_point now = clock_.now();
  const sim::fault_window* w = model_.window_at(now);
  const bool refuse = w && w->outage == sim::outage_kind::refuse;
  if (refuse && accepting_) {
    accepting_ = false;
    error_code ignored;
    acceptor_.close(ignored);
  } else if (!refuse && !accepting_) {
    reopen();
  }
  const std::optional<time_point> next = control_.next_boundary_after(model_.config().faults, now);
  timeline_timer_.cancel();
  if (!next) return;
  timeline_timer_.expires_at(clock_.steady_at(*next));
  timeline_timer_.async_wait([self = shared_from_this()](error_code ec) {
    if (!ec) self->follow_timeline();
  });
}

void provider_endpoint::reopen() {
  if (listen(bound_)) {
    // The port is briefly unavailable (a connection racing the close): try again shortly.
    timeline_timer_.expires_after(std::chrono::duration_cast<asio::steady_timer::duration>(reopen_retry));
    timeline_timer_.async_wait([self = shared_from_this()](error_code ec) {
      if (!ec) self->follow_timeline();
    });
    return;
  }
  accept();
}

void provider_endpoint::shutdown() {
  stopping = true;
  accepting_ = false;
  error_code ignored;
  acceptor_.close(ignored);
  timeline_timer_.cancel();
  queue_.clear();
  const std::vector<session*> open(sessions.begin(), sessions.end());
  for (session* s : open) s->close_now(false);
  for (job* j = jobs.front(); j != nullptr; j = j->next) j->timer.cancel();  // handlers run later: no unlink now
}

// ---------------------------------------------------------------------------------------------------
// provider_endpoint: routing

void provider_endpoint::handle(const std::shared_ptr<session>& s, http::request<http::string_body>&& req) {
  const std::string_view target(req.target().data(), req.target().size());
  const std::size_t q = target.find('?');
  const std::string_view path = target.substr(0, q);
  const std::string_view query = q == std::string_view::npos ? std::string_view{} : target.substr(q + 1);
  const bool keep_alive = req.keep_alive();
  const http::verb method = req.method();

  auto wrong_method = [&](std::string_view allowed) {
    error_spec e{405, "Method " + std::string(req.method_string()) + " not allowed on " + std::string(path) + "; use " +
                          std::string(allowed), "", std::nullopt, std::nullopt};
    send_error(s, keep_alive, e);
  };

  if (path == "/healthz") {
    if (method != http::verb::get) return wrong_method("GET");
    return send_json(s, 200, R"({"status":"ok"})", keep_alive, {}, false);
  }
  if (path == "/metrics") {
    if (method != http::verb::get) return wrong_method("GET");
    return metrics(s, keep_alive);
  }
  if (path == "/squall/faults") return faults(s, req, query);

  if (path == "/v1/models" || path.rfind("/v1/models/", 0) == 0) {
    if (method != http::verb::get) return wrong_method("GET");
    return models(s, keep_alive, path.size() > 11 ? path.substr(11) : std::string_view{});
  }
  const bool openai = api_ == api_style::openai;
  std::optional<job::kind> k;
  if (openai && path == "/v1/chat/completions") k = job::kind::chat;
  if (openai && path == "/v1/embeddings") k = job::kind::embeddings;
  if (!openai && path == "/v1/messages") k = job::kind::messages;
  if (k) {
    if (method != http::verb::post) return wrong_method("POST");
    return api_request(s, req, *k);
  }
  error_spec e{404, openai ? "Invalid URL (" + std::string(req.method_string()) + " " + std::string(path) + ")" : "Not Found", "",
               std::nullopt, std::nullopt};
  send_error(s, keep_alive, e);
}

void provider_endpoint::bad_http(const std::shared_ptr<session>& s, int status, std::string message) {
  ++bad_requests_;
  error_spec e{status, std::move(message), "", std::nullopt, std::nullopt};
  send_error(s, false, e);
}

std::string provider_endpoint::next_request_id() {
  const std::uint64_t n = ++request_counter_;
  // "req_", 16 hex digits of a hash, the low 8 of the counter; written once (this was five strings).
  char id[4 + 16 + 8 + 1];
  std::snprintf(id, sizeof id, "req_%016llx%08llx", static_cast<unsigned long long>(mix_seed(seed_, n)),
                static_cast<unsigned long long>(n & 0xffffffffULL));
  return std::string(id, sizeof id - 1);
}

header_list provider_endpoint::api_headers(std::string_view request_id, bool rate_headers) {
  header_list h;
  const bool openai = api_ == api_style::openai;
  h.emplace_back(openai ? "x-request-id" : "request-id", std::string(request_id));
  if (!rate_headers) return h;
  const sim::provider_config& c = model_.config();
  const time_point now = clock_.now();
  auto add = [&](const std::optional<double>& limit, double remaining, std::string_view what) {
    if (!limit) return;
    const double left = std::max(0.0, std::floor(remaining));
    const double reset_s = (*limit - remaining) / (*limit / 60.0);
    const auto limit_text = std::to_string(static_cast<long long>(*limit));
    const auto left_text = std::to_string(static_cast<long long>(left));
    if (openai) {
      h.emplace_back("x-ratelimit-limit-" + std::string(what), limit_text);
      h.emplace_back("x-ratelimit-remaining-" + std::string(what), left_text);
      h.emplace_back("x-ratelimit-reset-" + std::string(what), go_duration(reset_s));
    } else {
      h.emplace_back("anthropic-ratelimit-" + std::string(what) + "-limit", limit_text);
      h.emplace_back("anthropic-ratelimit-" + std::string(what) + "-remaining", left_text);
      h.emplace_back("anthropic-ratelimit-" + std::string(what) + "-reset", real_clock::rfc3339_after(reset_s));
    }
  };
  add(c.rpm, c.rpm ? model_.requests_remaining(now) : 0.0, "requests");
  add(c.tpm, c.tpm ? model_.tokens_remaining(now) : 0.0, "tokens");
  return h;
}

void provider_endpoint::send_json(const std::shared_ptr<session>& s, int status, const std::string& body,
                                  bool keep_alive, const header_list& headers, bool counted) {
  if (counted) ++responses_[status];
  std::string out;
  out.reserve(256 + body.size());
  append_response_head(out, status, "application/json", headers, body.size(), keep_alive);
  out += body;
  s->send(std::move(out));
  s->complete_exchange(keep_alive);
}

void provider_endpoint::send_error(const std::shared_ptr<session>& s, bool keep_alive, const error_spec& e,
                                   std::optional<duration> retry_after) {
  const std::string id = next_request_id();
  header_list h = api_headers(id, e.status == 429);
  if (retry_after) {
    const double seconds = to_s(*retry_after);
    h.emplace_back("retry-after", std::to_string(static_cast<long long>(std::ceil(seconds))));
    h.emplace_back("retry-after-ms", std::to_string(static_cast<long long>(std::ceil(seconds * 1000))));
  }
  if (e.status == 405) h.emplace_back("Allow", "GET, POST");
  if (api_ == api_style::anthropic && e.status == 529) h.emplace_back("x-should-retry", "true");
  send_json(s, e.status, error_body(api_, e, api_ == api_style::anthropic ? id : ""), keep_alive, std::move(h));
}

void provider_endpoint::models(const std::shared_ptr<session>& s, bool keep_alive, std::string_view id) {
  const bool openai = api_ == api_style::openai;
  auto entry = [&](const std::string& name) {
    return openai ? json{{"id", name}, {"object", "model"}, {"created", 1700000000}, {"owned_by", "squall"}}
                  : json{{"type", "model"}, {"id", name}, {"display_name", name},
                         {"created_at", "2025-01-01T00:00:00Z"}};
  };
  const auto& list = model_.config().models;
  if (!id.empty()) {
    for (const auto& [name, price] : list) {
      if (name == id) return send_json(s, 200, entry(name).dump(), keep_alive, api_headers(next_request_id(), false));
    }
    error_spec e{404, openai ? "The model `" + std::string(id) + "` does not exist or you do not have access to it."
                             : "model: " + std::string(id),
                 "", std::nullopt, openai ? std::optional<std::string>("model_not_found") : std::nullopt};
    return send_error(s, keep_alive, e);
  }
  json data = json::array();
  for (const auto& [name, price] : list) data.push_back(entry(name));
  json body;
  if (openai) {
    body = {{"object", "list"}, {"data", data}};
  } else {
    body = {{"data", data}, {"has_more", false}, {"first_id", list.front().first}, {"last_id", list.back().first}};
  }
  send_json(s, 200, body.dump(), keep_alive, api_headers(next_request_id(), false));
}

void provider_endpoint::faults(const std::shared_ptr<session>& s, http::request<http::string_body>& req,
                               std::string_view query) {
  const bool keep_alive = req.keep_alive();
  const time_point now = clock_.now();
  auto answer = [&](int status, const json& body) { send_json(s, status, body.dump(), keep_alive, {}, false); };
  switch (req.method()) {
    case http::verb::get:
      return answer(200, control_.list(model_.config().faults, now));
    case http::verb::post: {
      const json body = json::parse(req.body(), nullptr, false);
      auto armed = control_.arm(body, now);
      if (!armed.ok()) {
        return answer(400, json{{"error", {{"message", armed.error().describe()}, {"path", armed.error().path}}}});
      }
      model_.set_faults(control_.timeline());
      follow_timeline();
      return answer(201, *armed);
    }
    case http::verb::delete_: {
      const bool all = query.find("all=true") != std::string_view::npos || query.find("all=1") != std::string_view::npos;
      const std::size_t cleared = control_.clear(all);
      model_.set_faults(control_.timeline());
      follow_timeline();
      return answer(200, json{{"cleared", cleared}});
    }
    default: {
      error_spec e{405, "Method not allowed on /squall/faults; use GET, POST or DELETE", "", std::nullopt,
                   std::nullopt};
      return send_error(s, keep_alive, e);
    }
  }
}

void provider_endpoint::metrics(const std::shared_ptr<session>& s, bool keep_alive) {
  const std::string label = "provider=\"" + model_.config().name + "\"";
  std::string out;
  auto family = [&](std::string_view name, std::string_view type, std::string_view help) {
    out += "# HELP ";
    out += name;
    out += ' ';
    out += help;
    out += "\n# TYPE ";
    out += name;
    out += ' ';
    out += type;
    out += '\n';
  };
  auto sample = [&](std::string_view name, const std::string& labels, double value) {
    char num[40];
    std::snprintf(num, sizeof num, "%.17g", value);
    out += name;
    out += '{';
    out += labels;
    out += "} ";
    out += num;
    out += '\n';
  };
  family("squall_fake_requests_total", "counter", "AI requests received (chat, embeddings, messages).");
  sample("squall_fake_requests_total", label, static_cast<double>(api_requests_));
  family("squall_fake_responses_total", "counter", "HTTP responses sent on the provider API, by status.");
  for (const auto& [status, n] : responses_) {
    sample("squall_fake_responses_total", label + ",status=\"" + std::to_string(status) + "\"",
           static_cast<double>(n));
  }
  family("squall_fake_in_flight", "gauge", "Requests in service, queued, hung or waiting out an error's latency.");
  sample("squall_fake_in_flight", label, static_cast<double>(busy_ + queue_.size() + hung_ + answering_));
  family("squall_fake_busy_slots", "gauge", "Requests in service.");
  sample("squall_fake_busy_slots", label, busy_);
  family("squall_fake_slots", "gauge", "Requests the provider serves at once.");
  sample("squall_fake_slots", label, model_.config().slots);
  family("squall_fake_queue_depth", "gauge", "Requests waiting for a slot.");
  sample("squall_fake_queue_depth", label, static_cast<double>(queue_.size()));
  family("squall_fake_hung", "gauge", "Requests held without an answer by a hang outage.");
  sample("squall_fake_hung", label, static_cast<double>(hung_));
  family("squall_fake_faults_injected_total", "counter",
         "Faults injected, by kind: an HTTP status, rate_limited, shed, refuse, reset, hang, malformed, "
         "stream_cut, error_event.");
  for (const auto& [kind, n] : faults_injected_) {
    sample("squall_fake_faults_injected_total", label + ",kind=\"" + kind + "\"", static_cast<double>(n));
  }
  family("squall_fake_tokens_total", "counter", "Tokens of served requests, billed.");
  sample("squall_fake_tokens_total", label + ",direction=\"input\"", static_cast<double>(input_tokens_));
  sample("squall_fake_tokens_total", label + ",direction=\"output\"", static_cast<double>(output_tokens_));
  family("squall_fake_cost_usd_total", "counter", "USD billed for served requests at the scenario's prices.");
  sample("squall_fake_cost_usd_total", label, cost_usd_);
  family("squall_fake_connections", "gauge", "Open client connections.");
  sample("squall_fake_connections", label, static_cast<double>(sessions.size()));
  family("squall_fake_connections_total", "counter", "Connections accepted.");
  sample("squall_fake_connections_total", label, static_cast<double>(connections_accepted_));
  family("squall_fake_connections_rejected_total", "counter", "Connections closed at once: over the limit.");
  sample("squall_fake_connections_rejected_total", label, static_cast<double>(connections_rejected_));
  family("squall_fake_bad_requests_total", "counter", "Requests that were not valid HTTP or were too large.");
  sample("squall_fake_bad_requests_total", label, static_cast<double>(bad_requests_));
  family("squall_fake_scenario_time_seconds", "gauge", "Seconds since the server started (scenario time).");
  sample("squall_fake_scenario_time_seconds", label, to_s(clock_.now()));
  header_list h{{"Content-Type", "text/plain; version=0.0.4; charset=utf-8"}};
  s->send(response_head(200, h, out.size(), keep_alive) + out);
  s->complete_exchange(keep_alive);
}


// ---------------------------------------------------------------------------------------------------
// provider_endpoint: AI requests

namespace {

bool parse_u64(std::string_view text, std::uint64_t& out) {
  if (text.empty() || text.size() > 20) return false;
  std::uint64_t v = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
    const auto digit = static_cast<std::uint64_t>(c - '0');
    if (v > (std::numeric_limits<std::uint64_t>::max() - digit) / 10) return false;
    v = v * 10 + digit;
  }
  out = v;
  return true;
}

}  // namespace

void provider_endpoint::api_request(const std::shared_ptr<session>& s, http::request<http::string_body>& req,
                                    job::kind k) {
  const bool keep_alive = req.keep_alive();
  ++api_requests_;
  parsed_request pr;
  if (auto e = read_request_body(api_, k, req.body(), request_limits{options.output_tokens_max,
                                                                         options.embedding_dims_default}, pr)) {
    return send_error(s, keep_alive, *e);
  }

  // Common random numbers with the simulation, when the load generator names the request and attempt.
  std::uint64_t id = 0;
  std::uint64_t attempt = 1;
  const auto id_header = req.find("x-squall-request-id");
  const auto attempt_header = req.find("x-squall-attempt");
  if (id_header != req.end() && !parse_u64(std::string_view(id_header->value().data(), id_header->value().size()), id)) {
    return send_error(s, keep_alive, invalid_request("x-squall-request-id must be an unsigned integer"));
  }
  if (attempt_header != req.end() &&
      (!parse_u64(std::string_view(attempt_header->value().data(), attempt_header->value().size()), attempt) ||
       attempt < 1 || attempt > std::numeric_limits<std::uint32_t>::max())) {
    return send_error(s, keep_alive, invalid_request("x-squall-attempt must be an integer from 1"));
  }
  if (id_header == req.end()) id = ++next_sequence_;

  auto j = std::make_shared<job>(shared_from_this(), s, io);
  j->k = k;
  j->stream = pr.stream;
  j->include_usage = pr.include_usage;
  j->keep_alive = keep_alive;
  j->embed_inputs = pr.embed_inputs;
  j->embed_dims = pr.embed_dims;
  j->embed_base64 = pr.embed_base64;
  j->req.id = id;
  j->req.provider = model_.config().name;
  j->req.model = pr.model;
  j->req.input_tokens = pr.input_tokens;

  rng r(mix_seed(mix_seed(seed_, id), attempt));
  j->draws = model_.draw(r);
  if (pr.max_tokens) {
    j->req.output_tokens = *pr.max_tokens;
  } else {
    const double drawn = std::clamp(std::round(options.output_tokens.sample(r)), 0.0,
                                    static_cast<double>(options.output_tokens_max));
    j->req.output_tokens = static_cast<std::uint32_t>(drawn);
  }
  j->text_rng = r;
  j->request_id = next_request_id();
  j->object_id = (k == job::kind::messages ? "msg_" : "chatcmpl-") + hex64(mix_seed(seed_ ^ 0x5eedULL, request_counter_));
  j->created_unix_s = real_clock::unix_s();
  s->set_current(j);
  admit(j, s->arrived_at());
}

void provider_endpoint::admit(const std::shared_ptr<job>& j, std::optional<time_point> arrived_at) {
  const time_point now = arrived_at ? std::min(*arrived_at, clock_.now()) : clock_.now();
  j->arrival = now;
  j->adm = model_.admit(now, j->req, j->draws);
  switch (j->adm.kind) {
    case sim::admission_kind::refuse: {
      // A request on a connection opened before the outage: the dead server resets it.
      count_fault("refuse");
      j->ph = job::phase::done;
      std::shared_ptr<session> s = std::move(j->s);
      if (s) s->close_now(true);
      return;
    }
    case sim::admission_kind::reset:
      count_fault("reset");
      return answer_after(j, model_.error_latency(j->draws));
    case sim::admission_kind::hang:
      count_fault("hang");
      j->ph = job::phase::hung;
      ++hung_;
      return;
    case sim::admission_kind::unknown_model:
      return answer_after(j, model_.error_latency(j->draws));
    case sim::admission_kind::injected:
      count_fault(std::to_string(j->adm.http_status));
      return answer_after(j, model_.error_latency(j->draws));
    case sim::admission_kind::rate_limited:
      count_fault("rate_limited");
      return answer_after(j, model_.error_latency(j->draws));
    case sim::admission_kind::serve:
      switch (model_.place(busy_, queue_.size())) {
        case sim::capacity_decision::start:
          return start_service(j, now);
        case sim::capacity_decision::enqueue:
          j->ph = job::phase::queued;
          queue_.push_back(j);
          return;
        case sim::capacity_decision::shed:
          count_fault("shed");
          j->adm.http_status = model_.shed_status();
          j->adm.cls = outcome_class::overloaded;
          j->adm.kind = sim::admission_kind::injected;
          return answer_after(j, model_.error_latency(j->draws));
      }
  }
}

void provider_endpoint::answer_after(const std::shared_ptr<job>& j, duration delay) {
  j->ph = job::phase::answering;
  ++answering_;
  j->timer.expires_at(clock_.steady_at(j->arrival + delay));
  j->timer.async_wait([j](error_code ec) {
    if (ec || j->ph != job::phase::answering || j->p->stopping) return;
    j->p->deliver_error(j);
  });
}

void provider_endpoint::deliver_error(const std::shared_ptr<job>& j) {
  j->ph = job::phase::done;
  --answering_;
  std::shared_ptr<session> s = std::move(j->s);
  if (!s) return;
  const bool openai = api_ == api_style::openai;
  const sim::admission& a = j->adm;
  if (a.kind == sim::admission_kind::reset) {
    s->close_now(true);
    return;
  }
  error_spec e{a.http_status, "", "", std::nullopt, std::nullopt};
  if (a.kind == sim::admission_kind::unknown_model) {
    e.message = openai ? "The model `" + j->req.model + "` does not exist or you do not have access to it."
                       : "model: " + j->req.model;
    if (openai) e.code = "model_not_found";
  } else if (a.kind == sim::admission_kind::rate_limited) {
    const std::string wait = a.retry_after ? go_duration(to_s(*a.retry_after)) : std::string("a minute");
    e.message = openai ? "Rate limit reached for " + j->req.model + " on requests per min (RPM). Please try again in " +
                             wait + "."
                       : "This request would exceed your organization's rate limit. Please try again in " + wait + ".";
  }
  send_error(s, j->keep_alive, e, a.retry_after);
}

void provider_endpoint::client_gone(job& j) {
  switch (j.ph) {
    case job::phase::answering:
      j.ph = job::phase::done;
      --answering_;
      j.timer.cancel();
      break;
    case job::phase::hung:
      j.ph = job::phase::done;
      --hung_;
      break;
    case job::phase::queued:
    case job::phase::in_service:
    case job::phase::done:
      break;  // the server never learns the client left: the work goes on
  }
  j.s.reset();
}

void provider_endpoint::start_service(const std::shared_ptr<job>& j, time_point start) {
  ++busy_;
  j->ph = job::phase::in_service;
  j->started = start;
  const sim::service_factors f = model_.factors_at(start);
  j->plan = model_.plan_service(j->draws, j->req.output_tokens, f.latency_x, busy_, f.ttft_x);
  if (j->stream && j->s) send_stream_open(*j);
  schedule_tick(j, clock_.now());
}

std::uint32_t provider_endpoint::tokens_due(const job& j, duration elapsed) const noexcept {
  const std::uint32_t n = j.req.output_tokens;
  if (n == 0 || elapsed < j.plan.ttft) return 0;
  if (elapsed >= j.plan.total) return n;
  const duration gap = (j.plan.total - j.plan.ttft) / n;
  if (gap.count() <= 0) return n;
  const auto k = 1 + static_cast<std::uint64_t>((elapsed - j.plan.ttft) / gap);
  return static_cast<std::uint32_t>(std::min<std::uint64_t>(k, n));
}

void provider_endpoint::schedule_tick(const std::shared_ptr<job>& j, time_point now) {
  const duration elapsed = now - j->started;
  duration next = j->plan.total;
  const bool strikes = j->adm.wire == sim::wire_fault::stream_cut || j->adm.wire == sim::wire_fault::error_event;
  if (strikes && !j->wire_struck && j->s) next = std::min(next, j->plan.wire_fault_at());
  if (j->stream && j->s && j->tokens_sent < j->req.output_tokens) {
    const duration gap = (j->plan.total - j->plan.ttft) / j->req.output_tokens;
    duration due = j->plan.ttft + gap * j->tokens_sent;
    if (j->tokens_sent > 0) due = std::max(due, elapsed + stream_tick_min);
    next = std::min(next, due);
  }
  if (j->started + next <= now) {
    // Due already (no latency): a posted handler, not a timer. Arming a timer that is the earliest one
    // re-arms the reactor's timerfd, a system call per answer that showed up in the profile.
    asio::post(io, [j] {
      if (!j->p->stopping) j->p->tick(j);
    });
    return;
  }
  j->timer.expires_at(clock_.steady_at(j->started + next));
  j->timer.async_wait([j](error_code ec) {
    if (ec || j->p->stopping) return;
    j->p->tick(j);
  });
}

void provider_endpoint::tick(const std::shared_ptr<job>& j) {
  const time_point now = clock_.now();
  const duration elapsed = now - j->started;
  const bool strikes = j->adm.wire == sim::wire_fault::stream_cut || j->adm.wire == sim::wire_fault::error_event;
  const bool strike_now = strikes && !j->wire_struck && j->s && elapsed >= j->plan.wire_fault_at();
  if (j->stream && j->s && elapsed < j->plan.total) {
    send_stream_tokens(*j, tokens_due(*j, strike_now ? j->plan.wire_fault_at() : elapsed));
  }
  if (strike_now) {
    j->wire_struck = true;
    std::shared_ptr<session> s = j->s;
    if (j->adm.wire == sim::wire_fault::stream_cut) {
      count_fault("stream_cut");
      if (!j->stream) {
        // The head promises the whole body; half of it arrives, then the connection closes.
        ++responses_[200];
        const std::string body = full_body(*j);
        header_list h = api_headers(j->request_id, true);
        h.emplace(h.begin(), "Content-Type", "application/json");
        s->send(response_head(200, h, body.size(), true) + body.substr(0, body.size() / 2));
      }
      end_exchange(*j, false);
    } else {
      count_fault("error_event");
      if (j->stream) {
        std::string events;
        if (api_ == api_style::anthropic) {
          events = sse("error", json{{"type", "error"},
                                     {"error", {{"type", "overloaded_error"}, {"message", "Overloaded"}}}}.dump());
        } else {
          events = sse("", json{{"error", {{"message", default_error_message(api_, 503)},
                                           {"type", "server_error"}, {"param", nullptr}, {"code", nullptr}}}}
                               .dump());
        }
        s->send(chunk(events) + chunk(""));
        end_exchange(*j, j->keep_alive);
      } else {
        j->s.reset();
        send_error(s, j->keep_alive, error_spec{model_.shed_status(), "", "", std::nullopt, std::nullopt});
      }
    }
  }
  if (elapsed >= j->plan.total) {
    finish_service(j);
  } else {
    schedule_tick(j, now);
  }
}

void provider_endpoint::end_exchange(job& j, bool keep_alive) {
  std::shared_ptr<session> s = std::move(j.s);
  if (s) s->complete_exchange(keep_alive);
}

void provider_endpoint::finish_service(const std::shared_ptr<job>& j) {
  --busy_;
  j->ph = job::phase::done;
  const double cost = model_.cost_usd(j->adm.model_index, j->req.input_tokens, j->req.output_tokens);
  input_tokens_ += j->req.input_tokens;
  output_tokens_ += j->req.output_tokens;
  cost_usd_ += cost;
  // The freed slot goes to the head of the queue first, as in the simulation.
  if (!stopping && !queue_.empty()) {
    std::shared_ptr<job> next = std::move(queue_.front());
    queue_.pop_front();
    start_service(next, clock_.now());
  }
  if (!j->s || j->wire_struck) return;
  const bool malformed = j->adm.wire == sim::wire_fault::malformed;
  if (malformed) count_fault("malformed");
  if (j->stream) {
    if (malformed) {
      // The last content event does not parse.
      std::string data = j->k == job::kind::messages
                             ? R"({"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":" tru)"
                             : R"({"id":")" + j->object_id + R"(","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":" tru)";
      j->s->send(chunk(sse(j->k == job::kind::messages ? "content_block_delta" : "", data)));
    }
    send_stream_tokens(*j, j->req.output_tokens);
    send_stream_close(*j);
    end_exchange(*j, j->keep_alive);
    return;
  }
  std::string body = full_body(*j);
  if (malformed) body.resize(body.size() / 2);
  header_list h = api_headers(j->request_id, true);
  if (api_ == api_style::openai) {
    h.emplace_back("openai-processing-ms",
                   std::to_string(static_cast<long long>(to_ms(clock_.now() - j->started))));
  }
  std::shared_ptr<session> s = std::move(j->s);
  send_json(s, 200, body, j->keep_alive, std::move(h));
}

std::string provider_endpoint::full_body(job& j) {
  const std::string& model = j.req.model;
  const std::uint32_t in = j.req.input_tokens;
  const std::uint32_t out = j.req.output_tokens;
  if (j.k == job::kind::embeddings) {
    json data = json::array();
    for (std::size_t i = 0; i < j.embed_inputs; ++i) {
      const std::vector<float> v = embedding_vector(j.text_rng, j.embed_dims);
      json item = {{"object", "embedding"}, {"index", i}};
      if (j.embed_base64) {
        item["embedding"] = base64_floats(v);
      } else {
        item["embedding"] = v;
      }
      data.push_back(std::move(item));
    }
    return json{{"object", "list"}, {"data", std::move(data)}, {"model", model},
                {"usage", {{"prompt_tokens", in}, {"total_tokens", in}}}}
        .dump();
  }
  const std::string text = generate_words(j.text_rng, out);
  std::string b;
  b.reserve(text.size() + model.size() + 400);
  if (j.k == job::kind::messages) {
    b += R"({"id":")";
    b += j.object_id;
    b += R"(","type":"message","role":"assistant","model":)";
    append_json_string(b, model);
    b += R"(,"content":[{"type":"text","text":)";
    append_json_string(b, text);
    b += R"(}],"stop_reason":"end_turn","stop_sequence":null,"usage":{"input_tokens":)";
    b += std::to_string(in);
    b += R"(,"output_tokens":)";
    b += std::to_string(out);
    b += R"(,"cache_creation_input_tokens":0,"cache_read_input_tokens":0}})";
    return b;
  }
  b += R"({"id":")";
  b += j.object_id;
  b += R"(","object":"chat.completion","created":)";
  b += std::to_string(j.created_unix_s);
  b += R"(,"model":)";
  append_json_string(b, model);
  b += R"(,"choices":[{"index":0,"message":{"role":"assistant","content":)";
  append_json_string(b, text);
  b += R"(,"refusal":null},"logprobs":null,"finish_reason":"stop"}],"usage":{"prompt_tokens":)";
  b += std::to_string(in);
  b += R"(,"completion_tokens":)";
  b += std::to_string(out);
  b += R"(,"total_tokens":)";
  b += std::to_string(in + out);
  b += R"(},"system_fingerprint":"fp_squall"})";
  return b;
}

// The head of an OpenAI stream chunk, up to and including `"choices":`.
std::string provider_endpoint::chunk_head(const job& j) const {
  std::string c = R"({"id":")";
  c += j.object_id;
  c += R"(","object":"chat.completion.chunk","created":)";
  c += std::to_string(j.created_unix_s);
  c += R"(,"model":)";
  append_json_string(c, j.req.model);
  c += R"(,"system_fingerprint":"fp_squall","choices":)";
  return c;
}

void provider_endpoint::send_stream_open(job& j) {
  ++responses_[200];
  j.head_sent = true;
  header_list h = api_headers(j.request_id, true);
  h.emplace(h.begin(), "Cache-Control", "no-cache");
  h.emplace(h.begin(), "Content-Type", "text/event-stream; charset=utf-8");
  std::string bytes = response_head(200, h, std::nullopt, j.keep_alive);
  if (j.k == job::kind::messages) {
    const json start = {{"type", "message_start"},
                        {"message",
                         {{"id", j.object_id},
                          {"type", "message"},
                          {"role", "assistant"},
                          {"content", json::array()},
                          {"model", j.req.model},
                          {"stop_reason", nullptr},
                          {"stop_sequence", nullptr},
                          {"usage", {{"input_tokens", j.req.input_tokens}, {"output_tokens", 1}}}}}};
    const json block = {{"type", "content_block_start"}, {"index", 0}, {"content_block", {{"type", "text"}, {"text", ""}}}};
    bytes += chunk(sse("message_start", start.dump()) + sse("content_block_start", block.dump()) +
                   sse("ping", R"({"type": "ping"})"));
  }
  j.s->send(std::move(bytes));
}

void provider_endpoint::send_stream_tokens(job& j, std::uint32_t upto) {
  if (upto <= j.tokens_sent || !j.s) return;
  const std::string text = generate_words(j.text_rng, upto - j.tokens_sent);
  std::string event;
  if (j.k == job::kind::messages) {
    event = R"({"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":)";
    append_json_string(event, text);
    event += "}}";
    event = sse("content_block_delta", event);
  } else {
    event = chunk_head(j);
    event += j.tokens_sent == 0 ? R"([{"index":0,"delta":{"role":"assistant","content":)"
                                : R"([{"index":0,"delta":{"content":)";
    append_json_string(event, text);
    event += R"(},"logprobs":null,"finish_reason":null}])";
    event += j.include_usage ? R"(,"usage":null})" : "}";
    event = sse("", event);
  }
  j.tokens_sent = upto;
  j.s->send(chunk(event));
}

void provider_endpoint::send_stream_close(job& j) {
  std::string events;
  const std::uint32_t in = j.req.input_tokens;
  const std::uint32_t out = j.req.output_tokens;
  if (j.k == job::kind::messages) {
    events += sse("content_block_stop", R"({"type":"content_block_stop","index":0})");
    events += sse("message_delta",
                  R"({"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"output_tokens":)" +
                      std::to_string(out) + "}}");
    events += sse("message_stop", R"({"type":"message_stop"})");
  } else {
    std::string last = chunk_head(j);
    last += j.tokens_sent == 0 ? R"([{"index":0,"delta":{"role":"assistant","content":""},)"
                               : R"([{"index":0,"delta":{},)";
    last += R"("logprobs":null,"finish_reason":"stop"}])";
    last += j.include_usage ? R"(,"usage":null})" : "}";
    events += sse("", last);
    if (j.include_usage) {
      std::string usage = chunk_head(j);
      usage += R"([],"usage":{"prompt_tokens":)" + std::to_string(in) + R"(,"completion_tokens":)" +
               std::to_string(out) + R"(,"total_tokens":)" + std::to_string(in + out) + "}}";
      events += sse("", usage);
    }
    events += sse("", "[DONE]");
  }
  j.s->send(chunk(events) + chunk(""));
}

}  // namespace

// ---------------------------------------------------------------------------------------------------
// fake_server

struct fake_server::impl {
  // The io_context outlives every socket and timer: the endpoints go first (declared after it).
  asio::io_context io{1};
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work;
  real_clock clock;
  server_options options;
  std::vector<sim::provider_config> configs;
  std::vector<std::shared_ptr<provider_endpoint>> providers;
  std::vector<endpoint_info> info;
  std::thread thread;
  bool started = false;
  bool stopped = false;
};

fake_server::fake_server(std::vector<sim::provider_config> providers, server_options options)
    : impl_(std::make_unique<impl>()) {
  impl_->options = std::move(options);
  impl_->configs = std::move(providers);
}

fake_server::~fake_server() { stop(); }

std::optional<std::string> fake_server::start() {
  impl& m = *impl_;
  if (m.started) return "the server was started already";
  m.started = true;
  error_code ec;
  const asio::ip::address address = asio::ip::make_address(m.options.host, ec);
  if (ec) return "cannot listen on \"" + m.options.host + "\": not an IP address";
  m.clock = real_clock{};
  for (std::size_t i = 0; i < m.configs.size(); ++i) {
    const sim::provider_config& c = m.configs[i];
    auto p = std::make_shared<provider_endpoint>(m.io, m.clock, m.options, c);
    const auto port = m.options.port == 0 ? std::uint16_t{0} : static_cast<std::uint16_t>(m.options.port + i);
    if (auto e = p->listen(tcp::endpoint(address, port))) {
      m.providers.clear();
      return e;
    }
    const std::string host = address.is_v6() ? "[" + m.options.host + "]" : m.options.host;
    endpoint_info e;
    e.provider = c.name;
    e.api = c.api;
    e.port = p->port();
    e.origin = "http://" + host + ":" + std::to_string(e.port);
    e.base_url = c.api == "anthropic" ? e.origin : e.origin + "/v1";
    m.info.push_back(std::move(e));
    m.providers.push_back(std::move(p));
  }
  m.clock = real_clock{};  // scenario time 0: everything is listening
  m.work.emplace(m.io.get_executor());
  // The I/O thread is not running yet: apply the timeline's state at time 0 (a refuse window closes the
  // listener) before start() returns, so that a caller never sees a moment the scenario does not have.
  for (auto& p : m.providers) p->begin();
  m.thread = std::thread([&io = m.io] { io.run(); });
  return std::nullopt;
}

void fake_server::stop() noexcept {
  impl& m = *impl_;
  if (!m.started || m.stopped) return;
  m.stopped = true;
  if (m.thread.joinable()) {
    asio::post(m.io, [&m] {
      for (auto& p : m.providers) p->shutdown();
      m.work.reset();
    });
    m.thread.join();
  }
  m.providers.clear();
}

const std::vector<endpoint_info>& fake_server::endpoints() const noexcept { return impl_->info; }

const endpoint_info* fake_server::find(std::string_view provider) const noexcept {
  for (const endpoint_info& e : impl_->info) {
    if (e.provider == provider) return &e;
  }
  return nullptr;
}

}  // namespace squall::fake
