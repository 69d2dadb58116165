#include "traces/record/record_proxy.hpp"

#include <array>
#include <atomic>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <cctype>
#include <cmath>
#include <mutex>
#include <thread>
#include <unordered_set>
#include <vector>

#include <nlohmann/json.hpp>

#include "policies/core/outcome.hpp"
#include "policies/http/url.hpp"
#include "traces/record/exchange.hpp"
#include "traces/record/record_clock.hpp"

namespace squall::traces::record {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using error_code = boost::system::error_code;

constexpr std::size_t relay_chunk_bytes = 16 * 1024;
constexpr std::size_t client_watch_bytes = 4 * 1024;

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view field_value(const http::fields& fields, std::string_view name) {
  const auto it = fields.find(beast::string_view(name.data(), name.size()));
  if (it == fields.end()) return {};
  const auto v = it->value();
  return {v.data(), v.size()};
}

// Headers that describe one connection, not the message (RFC 9110, 7.6.1), plus those the proxy sets.
bool hop_by_hop(std::string_view lowercase_name) noexcept {
  return lowercase_name == "connection" || lowercase_name == "keep-alive" || lowercase_name == "proxy-connection" ||
         lowercase_name == "proxy-authorization" || lowercase_name == "proxy-authenticate" || lowercase_name == "te" ||
         lowercase_name == "trailer" || lowercase_name == "transfer-encoding" || lowercase_name == "upgrade" ||
         lowercase_name == "host" || lowercase_name == "expect" || lowercase_name == "content-length";
}

// Names listed in a Connection header are hop-by-hop too.
bool named_by_connection(std::string_view connection, std::string_view lowercase_name) {
  std::size_t at = 0;
  while (at <= connection.size()) {
    std::size_t comma = connection.find(',', at);
    if (comma == std::string_view::npos) comma = connection.size();
    std::string_view token = connection.substr(at, comma - at);
    while (!token.empty() && (token.front() == ' ' || token.front() == '\t')) token.remove_prefix(1);
    while (!token.empty() && (token.back() == ' ' || token.back() == '\t')) token.remove_suffix(1);
    if (!token.empty() && lower(token) == lowercase_name) return true;
    at = comma + 1;
  }
  return false;
}

struct listen_address {
  std::string host;
  std::uint16_t port = 0;
};

config_result<listen_address> parse_listen(std::string_view text) {
  const auto fail = [&](const std::string& why) {
    return config_error{"", "--listen", "\"" + std::string(text) + "\" is not a listen address: " + why};
  };
  listen_address out;
  std::string_view port;
  if (text.starts_with('[')) {
    const std::size_t close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      return fail("expected [v6-address]:port");
    }
    out.host = std::string(text.substr(1, close - 1));
    port = text.substr(close + 2);
  } else {
    const std::size_t colon = text.rfind(':');
    if (colon == std::string_view::npos) return fail("expected host:port (port 0 picks a free one)");
    out.host = std::string(text.substr(0, colon));
    port = text.substr(colon + 1);
  }
  if (out.host.empty()) return fail("the host is missing");
  if (out.host == "localhost") out.host = "127.0.0.1";
  if (port.empty()) return fail("the port is missing");
  unsigned value = 0;
  for (char c : port) {
    if (c < '0' || c > '9') return fail("the port must be a number");
    value = value * 10 + static_cast<unsigned>(c - '0');
    if (value > 65535) return fail("the port must be at most 65535");
  }
  out.port = static_cast<std::uint16_t>(value);
  error_code ec;
  asio::ip::make_address(out.host, ec);
  if (ec) return fail("the host must be an IP address (or localhost)");
  return out;
}

class session;

// Times in the trace are kept to the microsecond: finer digits are the clock's noise, not information.
double round_us(double ms) noexcept { return std::round(ms * 1000.0) / 1000.0; }

}  // namespace

struct record_proxy::impl {
  explicit impl(record_options o) : options(std::move(o)) {}

  record_options options;
  http_url url;
  std::string host_header;
  tcp::resolver::results_type upstream_addresses;
  listen_address listen_at;
  record_clock clock;
  asio::io_context io;
  tcp::acceptor acceptor{io};
  asio::steady_timer grace{io};  // between refusing new connections and closing the open ones
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work;
  std::thread thread;
  attempt_sink sink;
  std::unordered_set<session*> sessions;  // I/O thread only
  bool stopping = false;                  // I/O thread only
  std::uint16_t bound_port = 0;
  std::once_flag stop_once;

  std::atomic<std::uint64_t> exchanges{0};
  std::atomic<std::uint64_t> connections{0};
  std::atomic<std::uint64_t> rejected{0};
  std::atomic<std::uint64_t> refused_requests{0};

  void accept();
  void shutdown();
  void close_sessions();
  void emit(trace_attempt&& a) {
    ++exchanges;
    if (sink) sink(std::move(a));
  }
};

namespace {

// One client connection and, while it lasts, its own upstream connection (kept alive between
// exchanges). Its steps run one after another; a generation number tells a timer whether the step it
// was armed for is still the current one.
class session : public std::enable_shared_from_this<session> {
 public:
  session(record_proxy::impl& p, tcp::socket socket)
      : p_(p), client_(std::move(socket)), upstream_(p.io), timer_(p.io) {}

  void start() {
    p_.sessions.insert(this);
    error_code ignored;
    client_.set_option(tcp::no_delay(true), ignored);
    read_request();
  }

  // The proxy is stopping: an exchange in flight is recorded as cancelled.
  void shutdown() {
    if (in_exchange_) cancelled();
    close();
  }

 private:
  enum class phase : std::uint8_t { idle, connecting, upstream, relaying, done };

  // ----- timers -------------------------------------------------------------------------------------
  void arm(double after_ms, phase for_phase) {
    const std::uint64_t generation = ++timer_generation_;
    timer_.expires_at(record_clock::deadline_after_ms(after_ms));
    timer_.async_wait([self = shared_from_this(), generation, for_phase](error_code ec) {
      if (ec || generation != self->timer_generation_ || self->closed_) return;
      self->on_timeout(for_phase);
    });
  }
  void disarm() {
    ++timer_generation_;
    timer_.cancel();
  }
  void on_timeout(phase what) {
    switch (what) {
      case phase::idle:
        if (!in_exchange_) close();
        break;
      case phase::connecting:
        upstream_failed(0, outcome_class::connection_error);
        break;
      case phase::upstream:
      case phase::relaying:
        timed_out_ = true;
        // Closing the socket ends the pending read or write with an error; its handler (same
        // generation) records the timeout.
        upstream_open_ = false;
        upstream_.close(ignored_);
        break;
      case phase::done:
        break;
    }
  }

  // ----- the request --------------------------------------------------------------------------------
  void read_request() {
    if (closed_) return;
    if (p_.stopping) return close();  // no new exchange once the proxy stops
    arm(p_.options.client_idle_timeout_ms, phase::idle);
    parser_.emplace();
    parser_->header_limit(static_cast<std::uint32_t>(p_.options.header_bytes_max));
    parser_->body_limit(p_.options.request_body_bytes_max);
    http::async_read_header(client_, client_buffer_, *parser_, [self = shared_from_this()](error_code ec, std::size_t) {
      self->on_request_header(ec);
    });
  }

  void on_request_header(error_code ec) {
    if (closed_) return;
    if (ec) return request_failed(ec);
    // A client that waits for "100 Continue" before its body (curl does for large bodies) gets it here:
    // the upstream never sees the Expect header, since the proxy sends it the whole request at once.
    const auto& req = parser_->get();
    if (lower(field_value(req.base(), "expect")) == "100-continue" && !parser_->is_done()) {
      static const std::string continue_line = "HTTP/1.1 100 Continue\r\n\r\n";
      asio::async_write(client_, asio::buffer(continue_line), [self = shared_from_this()](error_code e, std::size_t) {
        if (self->closed_) return;
        if (e) return self->close();
        self->read_rest_of_request();
      });
      return;
    }
    read_rest_of_request();
  }

  void read_rest_of_request() {
    http::async_read(client_, client_buffer_, *parser_, [self = shared_from_this()](error_code ec, std::size_t) {
      if (self->closed_) return;
      if (ec) return self->request_failed(ec);
      self->begin_exchange();
    });
  }

  void request_failed(error_code ec) {
    // The client closed between requests (or mid-request): nothing reached the upstream, nothing to record.
    if (ec == http::error::end_of_stream || ec == asio::error::eof || ec == asio::error::connection_reset ||
        ec == asio::error::operation_aborted || ec == http::error::partial_message) {
      return close();
    }
    int status = 400;
    std::string message = "Malformed HTTP request: " + ec.message();
    if (ec == http::error::header_limit) {
      status = 431;
      message = "Request header fields too large: at most " + std::to_string(p_.options.header_bytes_max) + " bytes";
    } else if (ec == http::error::body_limit) {
      status = 413;
      message = "Request body too large: at most " + std::to_string(p_.options.request_body_bytes_max) + " bytes";
    }
    ++p_.refused_requests;
    refuse(status, message);
  }

  // An answer from the proxy itself (a request it will not forward), then the connection closes.
  void refuse(int status, const std::string& message) {
    disarm();
    auto res = std::make_shared<http::response<http::string_body>>(static_cast<http::status>(status), 11);
    res->set(http::field::content_type, "application/json");
    res->set(http::field::server, "squall-record");
    res->body() = nlohmann::json{{"error", {{"message", "squall record: " + message}, {"type", "invalid_request_error"}}}}.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    res->keep_alive(false);
    res->prepare_payload();
    http::async_write(client_, *res, [self = shared_from_this(), res](error_code, std::size_t) { self->close(); });
  }

  // ----- the exchange -------------------------------------------------------------------------------
  void begin_exchange() {
    disarm();
    http::request<http::string_body> req = parser_->release();
    parser_.reset();
    in_exchange_ = true;
    client_left_ = false;
    timed_out_ = false;
    status_ = 0;
    answer_bytes_ = 0;
    watcher_.reset();
    t0_ms_ = p_.clock.now_ms();

    rec_ = trace_attempt{};
    rec_.t_ms = round_us(t0_ms_);
    const std::string_view target(req.target().data(), req.target().size());
    const api_kind api = api_for_path(target);
    rec_.api = std::string(to_string(api));
    rec_.provider = p_.options.provider.empty() ? rec_.api : p_.options.provider;
    rec_.endpoint = std::string(path_of(target));
    request_facts facts = read_request_body(req.body());
    if (api == api_kind::gemini) read_gemini_path(target, facts);
    rec_.model = std::move(facts.model);
    rec_.stream = facts.stream;
    if (facts.prompt) {
      rec_.prompt_sha256 = prompt_sha256_hex(*facts.prompt);
      if (p_.options.keep_prompts) rec_.prompt = std::move(*facts.prompt);
    }
    attempt_identity id = read_identity(field_value(req.base(), "x-squall-request-id"),
                                        field_value(req.base(), "x-squall-attempt"),
                                        field_value(req.base(), "x-stainless-retry-count"));
    rec_.request_id = std::move(id.request_id);
    rec_.attempt = id.attempt;
    api_ = api;

    client_keep_alive_ = req.keep_alive();
    client_version_ = req.version();
    head_request_ = req.method() == http::verb::head;

    // The upstream request: the same message, re-addressed, without the client's hop-by-hop headers.
    out_ = http::request<http::string_body>{};
    out_.method(req.method());
    if (req.method() == http::verb::unknown) out_.method_string(req.method_string());
    out_.target(p_.url.path + std::string(target));
    out_.version(11);
    const std::string connection = std::string(field_value(req.base(), "connection"));
    for (const auto& f : req.base()) {
      const std::string name = lower(std::string_view(f.name_string().data(), f.name_string().size()));
      if (hop_by_hop(name) || named_by_connection(connection, name)) continue;
      out_.insert(f.name_string(), f.value());
    }
    out_.set(http::field::host, p_.host_header);
    out_.body() = std::move(req.body());
    out_.keep_alive(true);
    if (!out_.body().empty() || req.method() == http::verb::post || req.method() == http::verb::put ||
        req.method() == http::verb::patch) {
      out_.content_length(out_.body().size());
    }

    watch_client();
    if (upstream_open_ && !upstream_dead_) {
      stop_upstream_watch();
      send();
    } else {
      connect();
    }
  }

  void connect() {
    close_upstream();
    upstream_ = tcp::socket(p_.io);
    upstream_buffer_.consume(upstream_buffer_.size());
    upstream_dead_ = false;
    arm(p_.options.connect_timeout_ms, phase::connecting);
    asio::async_connect(upstream_, p_.upstream_addresses,
                        [self = shared_from_this(), gen = upstream_generation_](error_code ec, const tcp::endpoint&) {
                          if (gen != self->upstream_generation_ || !self->in_exchange_) return;
                          self->disarm();
                          if (ec) return self->upstream_failed(0, outcome_class::connection_error);
                          error_code ignored;
                          self->upstream_.set_option(tcp::no_delay(true), ignored);
                          self->upstream_open_ = true;
                          self->send();
                        });
  }

  void send() {
    arm(p_.options.upstream_silence_timeout_ms, phase::upstream);
    http::async_write(upstream_, out_, [self = shared_from_this(), gen = upstream_generation_](error_code ec, std::size_t) {
      if (gen != self->upstream_generation_ || !self->in_exchange_) return;
      if (ec) return self->upstream_failed(0, self->timed_out_ ? outcome_class::timeout : outcome_class::connection_error);
      self->response_ = std::make_shared<http::response_parser<http::buffer_body>>();
      self->response_->header_limit(static_cast<std::uint32_t>(self->p_.options.header_bytes_max));
      self->response_->body_limit(self->p_.options.answer_bytes_max);
      if (self->head_request_) self->response_->skip(true);
      http::async_read_header(self->upstream_, self->upstream_buffer_, *self->response_,
                              [self, gen, keep = self->response_](error_code e, std::size_t) {
                                if (gen != self->upstream_generation_ || !self->in_exchange_) return;
                                self->on_answer_header(e);
                              });
    });
  }

  void on_answer_header(error_code ec) {
    disarm();
    if (ec) {
      return upstream_failed(0, timed_out_ ? outcome_class::timeout : outcome_class::connection_error);
    }
    auto& res = response_->get();
    status_ = static_cast<int>(res.result_int());
    rec_.status = status_;
    for (const auto& f : res.base()) {
      std::string name = lower(std::string_view(f.name_string().data(), f.name_string().size()));
      if (is_kept_header(name)) rec_.headers.emplace_back(std::move(name), std::string(f.value()));
    }
    const bool event_stream = lower(field_value(res.base(), "content-type")).starts_with("text/event-stream");
    watcher_.emplace(api_, status_, event_stream, p_.options.answer_decode_bytes_max);

    upstream_keep_alive_ = res.keep_alive();
    // The client's side of the framing: a body that ends only when the upstream closes must end the
    // same way for the client; an HTTP/1.0 client cannot read chunks.
    const bool delimited = res.chunked() || res.has_content_length() || response_->is_done();
    close_client_after_ = !client_keep_alive_ || !delimited;
    if (client_version_ < 11 && res.chunked()) {
      res.chunked(false);
      close_client_after_ = true;
    }
    res.version(client_version_ < 11 ? 10 : 11);
    res.keep_alive(!close_client_after_);

    serializer_ = std::make_shared<http::response_serializer<http::buffer_body>>(res);
    client_writing_ = true;
    http::async_write_header(client_, *serializer_, [self = shared_from_this(), keep = response_,
                                                     keep_sr = serializer_](error_code e, std::size_t) {
      self->client_writing_ = false;
      if (!self->in_exchange_) return;
      if (e || self->client_left_) return self->cancelled_by_client();
      self->relay_read();
    });
  }

  void relay_read() {
    if (response_->is_done()) return relay_write(0, false);
    auto& body = response_->get().body();
    body.data = chunk_.data();
    body.size = chunk_.size();
    arm(p_.options.upstream_silence_timeout_ms, phase::relaying);
    http::async_read_some(upstream_, upstream_buffer_, *response_,
                          [self = shared_from_this(), gen = upstream_generation_, keep = response_](error_code ec,
                                                                                                  std::size_t) {
                            if (gen != self->upstream_generation_ || !self->in_exchange_) return;
                            self->on_relay_read(ec);
                          });
  }

  void on_relay_read(error_code ec) {
    disarm();
    if (ec == http::error::need_buffer) ec = {};
    const std::size_t got = chunk_.size() - response_->get().body().size;
    if (got > 0) {
      answer_bytes_ += got;
      if (watcher_->feed(std::string_view(chunk_.data(), got)) && !rec_.ttft_ms) {
        rec_.ttft_ms = round_us(p_.clock.now_ms() - t0_ms_);
      }
    }
    if (ec) {
      // The answer broke off (reset, EOF before its end, the silence timeout, the size limit): what
      // arrived goes to the client, then its connection is cut the same way.
      cut_ = true;
      cut_outcome_ = timed_out_ ? outcome_class::timeout : outcome_class::connection_error;
      rec_.latency_ms = round_us(p_.clock.now_ms() - t0_ms_);
      if (got == 0) return finish_cut();
      return relay_write(got, true);
    }
    if (got == 0 && !response_->is_done()) return relay_read();
    relay_write(got, !response_->is_done());
  }

  void relay_write(std::size_t got, bool more) {
    auto& body = response_->get().body();
    body.data = got > 0 ? chunk_.data() : nullptr;
    body.size = got;
    body.more = more;
    client_writing_ = true;
    http::async_write(client_, *serializer_, [self = shared_from_this(), keep = response_,
                                              keep_sr = serializer_](error_code ec, std::size_t) {
      self->client_writing_ = false;
      if (!self->in_exchange_) return;
      if (ec == http::error::need_buffer) ec = {};
      if (ec) return self->cancelled_by_client();
      if (self->cut_) return self->finish_cut();
      // A client that closed its side after reading the whole answer was served, not cancelled.
      if (self->serializer_->is_done()) return self->finish_ok();
      if (self->client_left_) return self->cancelled_by_client();
      self->relay_read();
    });
  }

  void finish_ok() {
    rec_.latency_ms = round_us(p_.clock.now_ms() - t0_ms_);
    watcher_->finish(true, rec_);
    const bool reuse = upstream_keep_alive_ && upstream_buffer_.size() == 0;
    end_exchange();
    if (reuse) {
      watch_upstream();
    } else {
      close_upstream();
    }
    if (close_client_after_ || client_left_) {
      error_code ignored;
      client_.shutdown(tcp::socket::shutdown_send, ignored);
      return close();
    }
    next_request();
  }

  void finish_cut() {
    watcher_->finish(false, rec_);
    if (cut_outcome_ == outcome_class::timeout) rec_.outcome = std::string(to_string(outcome_class::timeout));
    end_exchange();
    close_upstream();
    close();
  }

  // No answer at all: refused, connect timeout, reset or silence before the status line. The client
  // meets the same failure: its connection is reset.
  void upstream_failed(int status, outcome_class kind) {
    rec_.status = status;
    rec_.outcome = std::string(to_string(kind));
    rec_.latency_ms = round_us(p_.clock.now_ms() - t0_ms_);
    end_exchange();
    close_upstream();
    reset_client();
  }

  void cancelled_by_client() {
    cancelled();
    close_upstream();
    close();
  }

  void cancelled() {
    rec_.status = status_;
    if (watcher_) watcher_->finish(false, rec_);
    rec_.outcome = std::string(to_string(outcome_class::cancelled));
    rec_.latency_ms.reset();  // the answer never ended
    end_exchange();
  }

  void end_exchange() {
    in_exchange_ = false;
    cut_ = false;
    disarm();
    serializer_.reset();
    response_.reset();
    p_.emit(std::move(rec_));
  }

  // ----- watching the client during an exchange, and the idle upstream between them --------------------
  // A client that closes while the upstream is still thinking (or hangs) must free the upstream
  // connection at once, not when the next chunk fails to write. Bytes it pipelines meanwhile are kept.
  void watch_client() {
    if (watching_client_ || closed_ || client_buffer_.size() >= p_.options.header_bytes_max) return;
    watching_client_ = true;
    client_.async_read_some(client_buffer_.prepare(client_watch_bytes),
                            [self = shared_from_this()](error_code ec, std::size_t n) {
                              self->watching_client_ = false;
                              if (self->closed_) return;
                              if (!ec) {
                                self->client_buffer_.commit(n);
                                if (self->in_exchange_) return self->watch_client();
                                if (self->resume_after_watch_) {
                                  self->resume_after_watch_ = false;
                                  self->read_request();
                                }
                                return;
                              }
                              if (self->in_exchange_) {
                                // With a write in flight, its handler decides: the client may have read
                                // the whole answer before it closed.
                                if (self->client_writing_) {
                                  self->client_left_ = true;
                                  return;
                                }
                                return self->cancelled_by_client();
                              }
                              if (ec == asio::error::operation_aborted && self->resume_after_watch_) {
                                self->resume_after_watch_ = false;
                                return self->read_request();
                              }
                              self->close();
                            });
  }

  void next_request() {
    if (watching_client_) {
      // The watch read must end before the next request is read from the same socket.
      resume_after_watch_ = true;
      error_code ignored;
      client_.cancel(ignored);
      return;
    }
    read_request();
  }

  // An idle keep-alive upstream connection: a read that completes means the upstream closed it (or
  // sent bytes no request asked for), so the next exchange opens a fresh one instead of failing.
  void watch_upstream() {
    upstream_watching_ = true;
    upstream_.async_read_some(asio::buffer(upstream_probe_),
                              [self = shared_from_this(), gen = upstream_generation_](error_code, std::size_t) {
                                if (gen != self->upstream_generation_) return;
                                self->upstream_watching_ = false;
                                self->upstream_dead_ = true;
                              });
  }

  void stop_upstream_watch() {
    if (!upstream_watching_) return;
    // Cancel the probe read; its handler runs later and must not mark the connection dead.
    ++upstream_generation_;
    upstream_watching_ = false;
    error_code ignored;
    upstream_.cancel(ignored);
  }

  void close_upstream() {
    ++upstream_generation_;
    upstream_watching_ = false;
    if (!upstream_open_) {
      error_code ignored;
      upstream_.close(ignored);
      return;
    }
    upstream_open_ = false;
    error_code ignored;
    upstream_.close(ignored);
  }

  void reset_client() {
    error_code ignored;
    client_.set_option(asio::socket_base::linger(true, 0), ignored);
    close();
  }

  void close() {
    if (closed_) return;
    closed_ = true;
    disarm();
    error_code ignored;
    client_.close(ignored);
    close_upstream();
    p_.sessions.erase(this);
  }

  record_proxy::impl& p_;
  tcp::socket client_;
  beast::flat_buffer client_buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  tcp::socket upstream_;
  beast::flat_buffer upstream_buffer_;
  // Shared with the operations in flight on them: an exchange that ends (the client left, the proxy
  // stops) drops the session's references, while a write whose completion is already queued still
  // consumes from its own serializer, never from a destroyed or newer one.
  std::shared_ptr<http::response_parser<http::buffer_body>> response_;
  std::shared_ptr<http::response_serializer<http::buffer_body>> serializer_;
  bool client_writing_ = false;  // a write of the answer to the client is in flight
  bool client_left_ = false;     // the client closed its side while that write was in flight
  http::request<http::string_body> out_;
  std::array<char, relay_chunk_bytes> chunk_{};
  std::array<char, 64> upstream_probe_{};
  asio::steady_timer timer_;
  std::uint64_t timer_generation_ = 0;
  std::uint64_t upstream_generation_ = 0;
  error_code ignored_;  // bumped when the upstream socket is closed or replaced

  trace_attempt rec_;
  std::optional<answer_watcher> watcher_;
  api_kind api_ = api_kind::openai;
  double t0_ms_ = 0;
  int status_ = 0;
  std::uint64_t answer_bytes_ = 0;
  unsigned client_version_ = 11;
  bool in_exchange_ = false;
  bool client_keep_alive_ = true;
  bool close_client_after_ = false;
  bool head_request_ = false;
  bool upstream_open_ = false;
  bool upstream_dead_ = false;
  bool upstream_keep_alive_ = false;
  bool upstream_watching_ = false;
  bool watching_client_ = false;
  bool resume_after_watch_ = false;
  bool timed_out_ = false;
  bool cut_ = false;
  outcome_class cut_outcome_ = outcome_class::connection_error;
  bool closed_ = false;
};

}  // namespace

void record_proxy::impl::accept() {
  acceptor.async_accept([this](error_code ec, tcp::socket socket) {
    if (stopping) return;
    if (ec == asio::error::operation_aborted) return;
    if (!ec) {
      if (sessions.size() >= options.connections_max) {
        ++rejected;
        error_code ignored;
        socket.set_option(asio::socket_base::linger(true, 0), ignored);
        socket.close(ignored);
      } else {
        ++connections;
        std::make_shared<session>(*this, std::move(socket))->start();
      }
    }
    accept();
  });
}

void record_proxy::impl::shutdown() {
  stopping = true;
  error_code ignored;
  acceptor.close(ignored);
  // A short grace before the open exchanges are cut: an answer whose last bytes already went out may
  // still have its write completion queued, and its client was served, not cancelled.
  grace.expires_after(std::chrono::milliseconds(50));
  grace.async_wait([this](error_code) { close_sessions(); });
}

void record_proxy::impl::close_sessions() {
  const std::vector<session*> open(sessions.begin(), sessions.end());
  for (session* s : open) s->shutdown();
  work.reset();  // run() returns once the handlers of the closed sockets have run
}

// ----- record_proxy ----------------------------------------------------------------------------------

record_proxy::record_proxy(std::unique_ptr<impl> state) : impl_(std::move(state)) {}

record_proxy::~record_proxy() { stop(); }

config_result<std::unique_ptr<record_proxy>> record_proxy::create(record_options options) {
  const auto fail = [](std::string where, std::string message) {
    return config_error{"", std::move(where), std::move(message)};
  };
  if (options.connections_max < 1) return fail("connections_max", "must be at least 1");
  if (options.header_bytes_max < 1024) return fail("header_bytes_max", "must be at least 1024");
  if (options.answer_decode_bytes_max < 1024) return fail("answer_decode_bytes_max", "must be at least 1024");
  if (!(options.connect_timeout_ms > 0)) return fail("connect_timeout_ms", "must be greater than 0");
  if (!(options.upstream_silence_timeout_ms > 0)) return fail("upstream_silence_timeout_ms", "must be greater than 0");
  if (!(options.client_idle_timeout_ms > 0)) return fail("client_idle_timeout_ms", "must be greater than 0");

  auto url = parse_http_url(options.upstream);
  if (!url) return fail("--upstream", url.error().message);
  // parse_http_url accepts https:// for the transport; the recorder relays plain HTTP only.
  if (url->tls) return fail("--upstream", "https upstreams are not supported: the recorder speaks plain http://");
  if (!url->query.empty()) {
    return fail("--upstream", "expected no query string (\"?" + url->query + "\"): the recorder relays each request's own target");
  }
  auto listen = parse_listen(options.listen);
  if (!listen) return std::move(listen).error();
  if (!options.allow_remote && !is_loopback_host(listen->host)) {
    return fail("--listen", "\"" + listen->host + "\" is not a loopback address; add --allow-remote to listen on it");
  }

  // Decided on the text of the URL, before any lookup: resolving a remote name would already send a DNS
  // query off the machine, which is what the flag is there to prevent.
  if (!options.allow_remote && !is_loopback_host(url->host)) {
    return fail("--upstream", "\"" + url->host +
                                  "\" is not a loopback address (127.0.0.0/8, ::1 or localhost; names are not "
                                  "resolved to check); add --allow-remote to record a remote upstream");
  }

  auto state = std::make_unique<impl>(std::move(options));
  state->url = std::move(url.value());
  state->listen_at = std::move(listen.value());
  const bool v6 = state->url.host.find(':') != std::string::npos;
  state->host_header = (v6 ? "[" + state->url.host + "]" : state->url.host) +
                       (state->url.port == "80" ? "" : ":" + state->url.port);
  tcp::resolver resolver(state->io);
  error_code ec;
  state->upstream_addresses = resolver.resolve(state->url.host, state->url.port, tcp::resolver::numeric_service, ec);
  if (ec) return fail("--upstream", "cannot resolve \"" + state->url.host + "\": " + ec.message());
  if (!state->options.allow_remote) {
    for (const auto& entry : state->upstream_addresses) {
      if (!entry.endpoint().address().is_loopback()) {
        return fail("--upstream", "\"" + state->url.host + "\" resolves to " + entry.endpoint().address().to_string() +
                                      ", which is not a loopback address; add --allow-remote to record a remote upstream");
      }
    }
  }
  return std::unique_ptr<record_proxy>(new record_proxy(std::move(state)));
}

const std::string& record_proxy::started_at() const noexcept { return impl_->clock.started_at(); }

std::optional<std::string> record_proxy::start(attempt_sink sink) {
  impl& s = *impl_;
  s.sink = std::move(sink);
  const tcp::endpoint at(asio::ip::make_address(s.listen_at.host), s.listen_at.port);
  error_code ec;
  s.acceptor.open(at.protocol(), ec);
  if (!ec) s.acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) s.acceptor.bind(at, ec);
  if (!ec) s.acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (!ec) s.bound_port = s.acceptor.local_endpoint(ec).port();
  if (ec) {
    error_code ignored;
    s.acceptor.close(ignored);
    return "cannot listen on " + s.options.listen + ": " + ec.message();
  }
  s.work.emplace(asio::make_work_guard(s.io));
  s.accept();
  s.thread = std::thread([&s] { s.io.run(); });
  return std::nullopt;
}

void record_proxy::stop() noexcept {
  impl& s = *impl_;
  std::call_once(s.stop_once, [&s] {
    if (!s.thread.joinable()) return;
    asio::post(s.io, [&s] { s.shutdown(); });
    s.thread.join();
  });
}

std::string record_proxy::listen_url() const {
  const std::string& host = impl_->listen_at.host;
  const bool v6 = host.find(':') != std::string::npos;
  return "http://" + (v6 ? "[" + host + "]" : host) + ":" + std::to_string(impl_->bound_port);
}

std::uint16_t record_proxy::port() const noexcept { return impl_->bound_port; }
const std::string& record_proxy::upstream() const noexcept { return impl_->options.upstream; }

record_stats record_proxy::stats() const {
  record_stats out;
  out.exchanges = impl_->exchanges.load();
  out.connections = impl_->connections.load();
  out.rejected = impl_->rejected.load();
  out.refused_requests = impl_->refused_requests.load();
  return out;
}

}  // namespace squall::traces::record
