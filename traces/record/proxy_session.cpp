// One client connection of the recording proxy and, while it lasts, its upstream connection: the
// request read, sent upstream, the answer relayed to the client byte for byte, and one trace line per
// exchange.
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "policies/core/outcome.hpp"
#include "traces/record/exchange.hpp"
#include "traces/record/proxy_detail.hpp"

namespace squall::traces::record::proxy_detail {

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

void start_session(record_proxy::impl& proxy, tcp::socket socket) {
  std::make_shared<session>(proxy, std::move(socket))->start();
}

void shutdown_session(session& s) { s.shutdown(); }

}  // namespace squall::traces::record::proxy_detail
