#pragma once
// The fake provider's pieces, shared by its source files and by nothing else: one provider_endpoint per
// provider (listener, fault timeline, routes, metrics), a session per connection, a job per AI request.
// Everything here runs on the server's one I/O thread.
//
//   session.cpp       a connection: the TLS handshake (with --tls), reading, parsing HTTP, writing, idle timeout
//   fake_server.cpp   listening, the accept loop, the fault timeline, routing, answers, fake_server
//   ai_requests.cpp   AI requests: attribution, admission, slots and queue, service timing, wire faults
//   apis/             what differs by API endpoint: the answers' bytes, whole and streamed (answer_format.hpp),
//                     the routes, and Gemini's request reader
//   control_api.cpp   /v1/models (Gemini's /v1beta/models), Gemini's countTokens and /squall/faults
//   metrics.cpp       /metrics (Prometheus text or OpenMetrics) and the exchange-duration histogram
//   attempt_log.cpp   attribution markers, attempt counts per request id, the attempt log (all providers')

#include <utility>  // before Asio, whose awaitable.hpp uses std::exchange without it

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <array>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>
#include <variant>

#include "fake_providers/apis/gemini_request.hpp"
#include "fake_providers/apis/routes.hpp"
#include "fake_providers/attempt_log.hpp"
#include "fake_providers/content/answer_content.hpp"
#include "fake_providers/fake_server.hpp"
#include "fake_providers/fault_control.hpp"
#include "fake_providers/real_clock.hpp"
#include "fake_providers/request_body.hpp"
#include "fake_providers/wire_format.hpp"
#include "policies/core/intrusive_fifo.hpp"
#include "sim/provider/provider_model.hpp"

namespace squall::fake::detail {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using error_code = boost::system::error_code;
using tls_stream = asio::ssl::stream<tcp::socket>;

class provider_endpoint;
class session;
struct answer_format;

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
  const answer_format* format = nullptr;  // how its answer is written: its API endpoint's (never null once routed)
  phase ph = phase::answering;
  bool stream = false;
  bool include_usage = false;
  bool keep_alive = true;
  bool embed_base64 = false;
  bool cut = false;  // max_tokens cut the answer short of its natural length
  std::uint32_t embed_dims = 0;
  std::size_t embed_inputs = 1;
  std::vector<std::string> embed_texts;  // as request_body's: one per input, or none
  answer_shape shape;  // as request_body's: tools, tool choice, output format
  answer_echo echo;    // as request_body's: what a Responses API answer repeats
  // What the answer says when the request shaped it (tool calls, JSON; kind text: words, as always), and
  // the text spread over its output tokens then: the JSON, or the call's arguments, cut short with the
  // answer when max_tokens cut it (a cut JSON is truncated JSON, as a real model's is).
  content::answer_content content;
  std::string content_text;
  // A streamed answer's events so far and its text, for a format whose events are numbered and whose
  // last events repeat the whole text (the Responses API's). Mutable because the stream writers see the
  // job const: they are its only writers, on the I/O thread.
  mutable std::uint32_t events_sent = 0;
  mutable std::string text_sent;
  // Gemini: a stream without ?alt=sse is one JSON array, not events; what the request asks the model to
  // produce (functions, JSON).
  bool stream_array = false;
  std::shared_ptr<const gemini_request> gemini;
  std::shared_ptr<const content::answer_content> gemini_content;  // Gemini: what the answer holds (text, a call, JSON)
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
  std::uint32_t attempt = 1;  // the request's attempt number (x-squall-attempt, or counted per request id)
  bool wire_struck = false;
  bool head_sent = false;
  std::uint64_t record = attempt_log::no_record;  // its upstream_attempt in the server's attempt_log
  bool exchange_observed = false;  // its exchange's duration is in /metrics (only the first end counts)
  job* prev = nullptr;  // provider_endpoint::jobs
  job* next = nullptr;
};

// A connection, plain or TLS. The stream is a variant, not an interface: each read and write picks its
// alternative with one branch, so a plain connection runs the code it ran before TLS existed (reads with
// recvmsg and the kernel's receive time; TLS reads go through OpenSSL, and their requests count from
// when they are parsed).
class session : public std::enable_shared_from_this<session> {
 public:
  // `tls`: the server's TLS context when it serves HTTPS, else null.
  session(std::shared_ptr<provider_endpoint> owner, tcp::socket socket, asio::ssl::context* tls);
  void start();
  void send(std::string bytes);
  // The current exchange is over; read the next request unless the connection should close.
  void complete_exchange(bool keep_alive);
  // Closes the connection; `reset` sends a TCP RST instead of a FIN.
  void close_now(bool reset);
  bool closed() const noexcept { return closed_; }
  void set_current(std::shared_ptr<job> j) { current_ = std::move(j); }
  // The job of the current exchange, which no longer answers on this connection.
  std::shared_ptr<job> take_current() noexcept { return std::move(current_); }
  // Whether any byte of the current exchange's answer has been handed to the connection.
  bool answer_started() const noexcept { return answer_started_; }
  // When the bytes of the request being handled reached this host (the kernel's receive time of the read
  // that completed it), or nothing for a request that waited in the buffer behind another.
  std::optional<time_point> arrived_at() const noexcept { return arrived_at_; }
  // The server's clock restarted `shift` after its previous start: this connection's times move onto the
  // new timeline (provider_endpoint::restart_timeline).
  void rebase(duration shift) noexcept {
    idle_since_ -= shift;
    if (arrived_at_) *arrived_at_ -= shift;
  }

 private:
  tcp::socket& socket() noexcept;  // the TCP socket, under TLS or not
  void handshake();
  void fail_handshake();
  void read();
  void on_readable(error_code ec);
  void on_tls_read(error_code ec, std::size_t n);
  void parse();
  void resume();
  void arm_idle();
  void wait_idle();
  void do_write();
  void bad_request(error_code ec);
  // Runs one step of this connection's work; anything it throws ends this exchange, not the thread
  // (provider_endpoint::internal_error).
  template <class Step>
  void guarded(const char* where, Step&& step) noexcept;

  std::shared_ptr<provider_endpoint> p_;
  std::variant<tcp::socket, tls_stream> stream_;
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
  bool answer_started_ = false;
  std::optional<time_point> arrived_at_;
};

// The buckets of /metrics' exchange-duration histogram: 5 ms to 120 s, then +Inf (metrics.cpp).
inline constexpr std::size_t exchange_duration_buckets = 16;

class provider_endpoint : public std::enable_shared_from_this<provider_endpoint> {
 public:
  provider_endpoint(asio::io_context& io, const real_clock& clock, attempt_log& log, const server_options& options,
                    const sim::provider_config& config);

  std::optional<std::string> listen(const tcp::endpoint& at);
  // Serve HTTPS with `context` (the server's, outliving this endpoint); before begin().
  void use_tls(asio::ssl::context* context) noexcept { tls_ = context; }
  std::uint16_t port() const noexcept { return bound_.port(); }
  const real_clock& clock() const noexcept { return clock_; }
  void begin();     // accept loop and timeline follower; on the I/O thread
  void shutdown();  // on the I/O thread
  // The server's clock has just restarted, `shift` after its previous start (an old scenario time minus
  // `shift` is the same instant in the new one): the provider model and the fault timeline start again
  // from the scenario's configuration (the armed windows go), the timeline follower is re-armed, and the
  // requests and connections in flight move their times onto the new timeline, so that they finish when
  // they would have. On the I/O thread.
  void restart_timeline(duration shift);

  void handle(const std::shared_ptr<session>& s, http::request<http::string_body>&& req);
  void client_gone(job& j);
  void bad_http(const std::shared_ptr<session>& s, int status, std::string message);
  // A handler threw (`what` it said) at `where` while serving `s` (may be null): counted, and the exchange
  // ends with a 500 in the provider's error shape (Connection: close), or, when part of the answer is out
  // already, with the connection reset. Never throws: it is the boundary exceptions stop at.
  void internal_error(const std::shared_ptr<session>& s, const char* where, std::string_view what) noexcept;
  // Runs a step of a job's timer work (`s`: the job's client when it began); what it throws goes to
  // job_error.
  template <class Step>
  void run_job_step(const std::shared_ptr<job>& j, const char* where, Step&& step) noexcept;
  // internal_error for a job's client `s`; a job still in service ends there, so that its slot is not lost.
  void job_error(const std::shared_ptr<job>& j, const std::shared_ptr<session>& s, const char* where,
                 std::string_view what) noexcept;
  // Calls options.fault_hook_for_tests, if any.
  void test_hook(std::string_view where) const {
    if (options.fault_hook_for_tests) options.fault_hook_for_tests(where);
  }

  // A TLS handshake failed (a client that does not trust the certificate, or speaks plain HTTP).
  void tls_handshake_failed() noexcept { ++tls_handshake_failures_; }
  // Whether a connection opened now meets an outage "handshake" (counted as an injected fault if so).
  bool handshake_outage_now();

  // For the session and job bookkeeping.
  std::unordered_set<session*> sessions;
  intrusive_fifo<job> jobs;  // threaded through the jobs: no allocation per request
  bool stopping = false;
  const server_options& options;
  asio::io_context& io;

 private:
  friend struct job;
  void accept();
  void on_accept(error_code ec, tcp::socket socket);
  // After EMFILE and its kin: accept again once the back-off timer fires.
  void accept_later();
  void follow_timeline();
  void follow_timeline_guarded() noexcept;
  void reopen();

  // Routes.
  // `query`: the target's query string (Gemini's ?alt=sse).
  void api_request(const std::shared_ptr<session>& s, http::request<http::string_body>& req, const ai_route& route,
                   std::string_view query);
  // Gemini's countTokens: the prompt's tokens at once, outside the provider model (no slot, no faults).
  void gemini_count_tokens(const std::shared_ptr<session>& s, http::request<http::string_body>& req,
                           const ai_route& route);
  void models(const std::shared_ptr<session>& s, bool keep_alive, std::string_view id);
  // Anthropic's /v1/messages/count_tokens: answered at once, not an AI attempt (apis/anthropic_count_tokens.cpp).
  void count_tokens(const std::shared_ptr<session>& s, http::request<http::string_body>& req);
  void metrics(const std::shared_ptr<session>& s, const http::request<http::string_body>& req);
  void faults(const std::shared_ptr<session>& s, http::request<http::string_body>& req, std::string_view query);
  // /squall/faults/{id}: `id` is what follows "/squall/faults/", as sent.
  void fault_by_id(const std::shared_ptr<session>& s, const http::request<http::string_body>& req,
                   std::string_view id);

  // Answers.
  void send_json(const std::shared_ptr<session>& s, int status, std::string body, bool keep_alive,
                 const header_list& headers = {}, bool counted = true);
  void send_error(const std::shared_ptr<session>& s, bool keep_alive, const error_spec& e,
                  std::optional<duration> retry_after = std::nullopt);
  header_list api_headers(std::string_view request_id, bool rate_headers);
  std::string next_request_id();

  // The life of a job.
  // `now`: when the request reached the host (session::arrived_at, when known, else when it was routed).
  void admit(const std::shared_ptr<job>& j, time_point now);
  void answer_after(const std::shared_ptr<job>& j, duration delay);
  void deliver_error(const std::shared_ptr<job>& j);
  // Service starts at `start`: the arrival for a request that found a free slot, now for one from the queue.
  void start_service(const std::shared_ptr<job>& j, time_point start);
  void tick(const std::shared_ptr<job>& j);
  void schedule_tick(const std::shared_ptr<job>& j, time_point now);
  void finish_service(const std::shared_ptr<job>& j);
  void end_exchange(job& j, bool keep_alive);
  // The attempt log: a job's exchange ended (`status` sent, 0 when none; `end` as upstream_attempt::end),
  // unless it had ended already or the server is stopping; the work was billed.
  void record_end(job& j, int status, const char* end);
  void record_billed(const job& j, double cost_usd);
  void send_stream_open(job& j);
  void send_stream_tokens(job& j, std::uint32_t upto);
  void send_stream_close(job& j);
  std::uint32_t tokens_due(const job& j, duration elapsed) const noexcept;
  void count_fault(const std::string& kind) { ++faults_injected_[kind]; }
  // A job's exchange ended with `status` sent (0 when none): its duration from arrival goes into the
  // histogram, once per job (metrics.cpp).
  void observe_exchange(job& j, int status);

  const real_clock& clock_;
  attempt_log& log_;
  sim::provider_config config_;  // as the scenario wrote it, for restart_timeline
  std::unique_ptr<sim::provider_model> model_;  // never null; rebuilt by restart_timeline
  api_style api_;
  std::uint64_t seed_;
  tcp::acceptor acceptor_;
  tcp::endpoint bound_;
  asio::ssl::context* tls_ = nullptr;
  bool accepting_ = false;
  asio::steady_timer accept_timer_;  // the back-off after EMFILE and its kin
  bool accept_backing_off_ = false;
  asio::steady_timer timeline_timer_;
  fault_control control_;

  std::uint32_t busy_ = 0;
  std::deque<std::shared_ptr<job>> queue_;
  std::size_t hung_ = 0;
  std::size_t answering_ = 0;
  std::uint64_t next_sequence_ = 0;     // requests without x-squall-request-id or a prompt marker
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
  std::uint64_t accept_backoffs_ = 0;                 // accepts that failed for want of descriptors or memory
  std::uint64_t tls_handshake_failures_ = 0;
  std::map<std::string, std::uint64_t> internal_errors_;  // handlers that threw, by where
  // Seconds from an AI request's arrival to the end of its exchange: counts per bucket (bounds in
  // metrics.cpp), not cumulative.
  struct duration_histogram {
    std::array<std::uint64_t, exchange_duration_buckets> counts{};
    std::uint64_t count = 0;
    double sum_s = 0;
  };
  // By model (an index into the scenario's models; models.size() for a name the provider does not
  // serve, so that clients cannot grow the label set) and status sent: bounded by the models times the
  // statuses a provider can send.
  std::map<std::pair<std::uint32_t, int>, duration_histogram> exchange_durations_;
};

// The part of a shaped answer's text (job::content_text) that its output tokens [from, upto) carry in a
// stream; never splits a UTF-8 sequence.
std::string content_piece(const job& j, std::uint32_t from, std::uint32_t upto);

// Logs nothing and never throws: the text of the exception in flight, for internal_error.
std::string_view exception_text() noexcept;

template <class Step>
void provider_endpoint::run_job_step(const std::shared_ptr<job>& j, const char* where, Step&& step) noexcept {
  const std::shared_ptr<session> s = j->s;  // a step may have moved it out of the job before it threw
  try {
    step();
  } catch (...) {
    job_error(j, s, where, exception_text());
  }
}

template <class Step>
void session::guarded(const char* where, Step&& step) noexcept {
  try {
    step();
  } catch (...) {
    p_->internal_error(shared_from_this(), where, exception_text());
  }
}

}  // namespace squall::fake::detail
