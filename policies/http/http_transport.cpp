#include "policies/http/http_transport.hpp"

#include <algorithm>
#include <array>
#include <boost/asio/write.hpp>
#include <boost/beast/http.hpp>
#include <charconv>
#include <limits>
#include <optional>
#include <string_view>

#include "policies/core/classify.hpp"
#include "policies/core/content_flaw.hpp"
#include "policies/http/request_head.hpp"
#include "policies/http/transport_detail.hpp"
#include "policies/http/wire_payload.hpp"
#include "policies/retry/server_hints.hpp"

namespace squall {
namespace {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;

constexpr std::size_t header_bytes_max = 64 * 1024;

enum cookie : std::uint32_t { cookie_deadline = 1, cookie_connect = 2, cookie_answer = 3, cookie_read = 4 };

std::string_view header_value(const bhttp::fields& fields, std::string_view name) {
  const auto it = fields.find(beast::string_view(name.data(), name.size()));
  if (it == fields.end()) return {};
  const auto v = it->value();
  return {v.data(), v.size()};
}

std::string ms_text(double ms) { return std::to_string(static_cast<long long>(ms)) + " ms"; }

}  // namespace

using http_detail::endpoint_state;
using http_detail::connection;

namespace http_detail {

struct attempt final : operation, timer_target, open_waiter, std::enable_shared_from_this<attempt> {
  attempt(http_transport::impl& o, const call_scope& scope, outcome_receiver& r)
      : owner(o), call(scope.call), receiver(&r), started(o.runtime.now()) {}

  // -- operation / timer_target ----------------------------------------------------------------------
  void cancel() noexcept override;
  void on_timer(std::uint32_t which) override;
  // -- open_waiter (connection_pool.cpp opens new connections) -------------------------------------------
  bool abandoned() const noexcept override { return finished; }
  void on_open(open_result result) override;

  // -- the steps of one attempt ----------------------------------------------------------------------
  void begin(const call_scope& scope);
  void acquire();
  void open_new();  // the endpoint's `open` already counts it
  void send();
  void on_write(const boost::system::error_code& ec, std::size_t written);
  void on_header(const boost::system::error_code& ec);
  void read_body();
  void on_body(boost::system::error_code ec);
  void complete();
  void transport_failure(const boost::system::error_code& ec);

  void answer_later(outcome&& o);
  void deliver(outcome&& o, bool keep_connection);
  void fail_because(outcome_class kind, std::string message) { fail_because(outcome::failure(kind), std::move(message)); }
  void fail_because(outcome&& o, std::string message);
  // Gives up the connection: to the idle pool when `keep` and there is room, else closed; then hands a
  // free slot or connection to the next waiting attempt.
  void release_connection(bool keep);
  void stop_timers() noexcept;
  void note_progress() noexcept { last_progress = owner.runtime.now(); }
  void read_hints(outcome& o) const;
  void classify_failure_status(outcome& o);
  std::string encode_payload(const call_payload& p) const;
  void finish_fields(outcome& o);

  http_transport::impl& owner;
  endpoint_state* ep = nullptr;
  call_context* call;
  outcome_receiver* receiver;
  std::shared_ptr<attempt> self;  // keeps the attempt alive until it is answered or cancelled
  time_point started;
  time_point last_progress{};     // the request's write began, or the latest answer bytes arrived
  bool finished = false;          // answered or cancelled: every late completion handler does nothing
  bool waiting = false;
  bool reused = false;
  bool replaced_stale = false;
  std::unique_ptr<connection> conn;
  std::string wire;  // the whole request, head and body: one buffer, one write
  std::optional<bhttp::response_parser<bhttp::buffer_body>> parser;
  bool streaming = false;
  std::string body;  // of a JSON or error answer, at most response_bytes_max
  std::optional<sse_reader> sse;  // only for streams: its deque allocates on construction
  std::optional<stream_decoder> decoder;
  std::optional<duration> ttft;
  outcome pending;  // an answer decided in start(), delivered by a zero timer
  timer_id deadline_timer, connect_timer, answer_timer, read_timer;
  attempt* prev = nullptr;
  attempt* next = nullptr;
};

}  // namespace http_detail

using http_detail::attempt;

// ----- impl ------------------------------------------------------------------------------------------

http_transport::impl::~impl() {
  // Attempts still in flight are abandoned: no receiver hears of them again.
  while (live_head) {
    attempt* a = live_head;
    unlink(*a);
    a->finished = true;
    a->stop_timers();
    if (a->conn) a->conn->close();
    a->ep = nullptr;
    auto keep = std::move(a->self);
  }
}

void http_transport::impl::link(attempt& a) noexcept {
  a.prev = nullptr;
  a.next = live_head;
  if (live_head) live_head->prev = &a;
  live_head = &a;
  ++live;
}

void http_transport::impl::unlink(attempt& a) noexcept {
  if (a.prev) a.prev->next = a.next;
  else live_head = a.next;
  if (a.next) a.next->prev = a.prev;
  a.prev = a.next = nullptr;
  --live;
}

namespace http_detail {

// ----- attempt ---------------------------------------------------------------------------------------

void attempt::begin(const call_scope& scope) {
  ep = owner.find(call->req.provider);
  if (!ep) {
    ++owner.stats.unroutable;
    answer_later(outcome::failure(outcome_class::invalid_request));
    return;
  }
  const request& r = call->req;
  // Written as text rather than through Beast's serializer: a field list per attempt was a measurable
  // part of the generator's cost (bench/README.md). Values were checked for line breaks in create().
  // A production call carries its payload; the simulation's requests get a synthesized prompt.
  const std::string payload =
      r.payload ? encode_payload(*r.payload)
                : encode_request(ep->config.api, r.model, r.input_tokens, r.output_tokens, ep->config.stream, r.id);
  if (std::string error; !build_request(*ep, owner.options, r, call->attempts, payload, wire, error)) {
    // A key read for this attempt that is missing: a configuration problem no retry will fix.
    outcome o = outcome::failure(outcome_class::invalid_request);
    if (r.payload) {
      auto a = std::make_shared<answer_payload>();
      a->error_message = error;
      o.answer = std::move(a);
    }
    owner.last_error = std::move(error);
    answer_later(std::move(o));
    return;
  }

  if (owner.options.honor_deadline && scope.deadline != time_never) {
    const time_point now = owner.runtime.now();
    if (scope.deadline <= now) {
      answer_later(outcome::failure(outcome_class::timeout));
      return;
    }
    deadline_timer = owner.runtime.start_timer(scope.deadline - now, *this, cookie_deadline);
  }
  acquire();
}

std::string attempt::encode_payload(const call_payload& p) const {
  if (!p.raw_body.empty()) return p.raw_body;
  return encode_payload_request(ep->config.api, call->req.model, p, ep->config.max_tokens_default, ep->config.stream);
}

void attempt::acquire() {
  if ((conn = take_idle(owner, *ep))) {
    reused = true;
    ++owner.stats.connections_reused;
    send();
  } else if (ep->open < owner.options.connections_max) {
    ++ep->open;
    open_new();
  } else if (ep->waiting.size() < owner.options.waiting_max) {
    waiting = true;
    ++owner.stats.waited;
    ep->waiting.push_back(this);
  } else {
    ++owner.stats.rejected;
    answer_later(outcome::failure(outcome_class::rejected));
  }
}

void attempt::open_new() {
  conn = ep->tls ? std::make_unique<connection>(owner.runtime.io(), *ep->tls)
                 : std::make_unique<connection>(owner.runtime.io());
  reused = false;
  // Resolving, connecting and the TLS handshake all count against the connect timeout.
  connect_timer = owner.runtime.start_timer(from_ms(owner.options.connect_timeout_ms), *this, cookie_connect);
  open_connection(owner, *ep, *conn, shared_from_this());
}

void attempt::on_open(open_result result) {
  owner.runtime.cancel_timer(connect_timer);
  connect_timer = {};
  if (!result.ok) {
    fail_because(outcome_class::connection_error, std::move(result.message));
    return;
  }
  send();
}

void attempt::send() {
  if (owner.options.read_timeout_ms > 0) {
    note_progress();
    owner.runtime.cancel_timer(read_timer);
    read_timer = owner.runtime.start_timer(from_ms(owner.options.read_timeout_ms), *this, cookie_read);
  }
  conn->visit([&](auto& stream) {
    boost::asio::async_write(stream, boost::asio::buffer(wire),
                             [self = shared_from_this()](const boost::system::error_code& ec, std::size_t written) {
                               self->on_write(ec, written);
                             });
  });
}

void attempt::on_write(const boost::system::error_code& ec, std::size_t written) {
  if (finished) return;
  if (ec) {
    // Not one byte left: the server cannot have seen this request, so a fresh connection is not a retry.
    // (A reused connection found closed before the write never gets here: take_idle checks first.)
    if (written == 0 && reused && !replaced_stale) {
      replaced_stale = true;
      ++owner.stats.stale_reconnects;
      conn->close();
      owner.runtime.cancel_timer(read_timer);
      read_timer = {};
      open_new();  // keeps the endpoint's slot
      return;
    }
    transport_failure(ec);
    return;
  }
  if (owner.options.read_timeout_ms > 0) note_progress();
  parser.emplace();
  parser->header_limit(header_bytes_max);
  parser->body_limit(owner.options.response_bytes_max);
  conn->visit([&](auto& stream) {
    bhttp::async_read_header(stream, conn->buffer, *parser,
                             [self = shared_from_this()](const boost::system::error_code& e, std::size_t) {
                               self->on_header(e);
                             });
  });
}

void attempt::transport_failure(const boost::system::error_code& ec) {
  // Some or all of the request was written: the server may have received it, and a POST is not sent
  // twice behind the caller's back. The retry policy, which knows the request, decides.
  if (reused) ++owner.stats.not_resent;
  fail_because(outcome_class::connection_error,
               std::string(reused ? "the reused keep-alive connection to " : "the connection to ") + ep->where +
                   " broke before the answer (" + ec.message() + "); the request was written, so it is not sent again");
}

void attempt::on_header(const boost::system::error_code& ec) {
  if (finished) return;
  if (owner.options.read_timeout_ms > 0) note_progress();
  if (ec) {
    transport_failure(ec);
    return;
  }
  const auto& res = parser->get();
  const bool ok_status = static_cast<int>(res.result_int()) >= 200 && static_cast<int>(res.result_int()) < 300;
  const std::string_view type = header_value(res.base(), "content-type");
  streaming = ok_status && type.starts_with("text/event-stream");
  if (streaming) {
    decoder.emplace(ep->config.api, call->req.payload != nullptr || owner.options.read_content_flaws);
    sse.emplace();
  }
  if (parser->is_done()) {
    complete();
    return;
  }
  read_body();
}

void attempt::read_body() {
  auto& b = parser->get().body();
  b.data = conn->chunk.data();
  b.size = conn->chunk.size();
  conn->visit([&](auto& stream) {
    bhttp::async_read_some(stream, conn->buffer, *parser,
                           [self = shared_from_this()](const boost::system::error_code& ec, std::size_t) {
                             self->on_body(ec);
                           });
  });
}

void attempt::on_body(boost::system::error_code ec) {
  if (finished) return;
  if (owner.options.read_timeout_ms > 0) note_progress();
  if (ec == bhttp::error::need_buffer) ec = {};
  const std::size_t got = conn->chunk.size() - parser->get().body().size;
  if (got > 0) {
    const std::string_view bytes(conn->chunk.data(), got);
    if (streaming) {
      if (!sse->feed(bytes)) {
        deliver(outcome::failure(outcome_class::server_error), false);
        return;
      }
      while (auto event = sse->next()) {
        if (!decoder->on_event(*event)) {
          // A malformed event: the server is broken, not the network.
          outcome o = outcome::failure(outcome_class::server_error);
          o.http_status = static_cast<int>(parser->get().result_int());
          deliver(std::move(o), false);
          return;
        }
        if (decoder->saw_content() && !ttft) ttft = owner.runtime.now() - started;
        if (decoder->errored()) {
          const std::string& type = decoder->error_type();
          outcome o;
          if (call->req.payload) {
            auto a = std::make_shared<answer_payload>();
            a->error_type = type;
            a->error_message = decoder->error_message();
            o.answer = std::move(a);
          }
          o.kind = classify_http(status_for_error_type(type), type);
          o.http_status = static_cast<int>(parser->get().result_int());
          read_hints(o);
          deliver(std::move(o), false);
          return;
        }
      }
    } else {
      body.append(bytes);
    }
  }
  if (ec) {
    // The answer broke off: a cut stream or a reset after the status line.
    outcome o = outcome::failure(outcome_class::connection_error);
    const int status = static_cast<int>(parser->get().result_int());
    o.http_status = status;
    if (status < 200 || status >= 300) {
      o.kind = classify_http(status);
      read_hints(o);
    }
    fail_because(std::move(o), "the answer from " + ep->where + " broke off: " + ec.message());
    return;
  }
  if (parser->is_done()) {
    complete();
    return;
  }
  read_body();
}

void attempt::complete() {
  const auto& res = parser->get();
  const int status = static_cast<int>(res.result_int());
  const bool keep = res.keep_alive() && conn->buffer.size() == 0;
  outcome o;
  o.http_status = status;
  if (status < 200 || status >= 300) {
    classify_failure_status(o);
    deliver(std::move(o), keep);
    return;
  }
  const request& r = call->req;
  std::optional<std::uint32_t> in, out;
  if (streaming) {
    // A stream that ends without its terminator ([DONE], message_stop) was cut short.
    if (!decoder->done()) {
      deliver(outcome::failure(outcome_class::connection_error), false);
      return;
    }
    in = decoder->input_tokens();
    out = decoder->output_tokens();
    if (r.payload) {
      auto a = std::make_shared<answer_payload>();
      a->text = decoder->text();
      a->finish_reason = decoder->finish_reason();
      a->response_id = decoder->response_id();
      o.answer = std::move(a);
    } else if (owner.options.read_content_flaws) {
      o.flaw = evident_flaw(decoder->text(), decoder->finish_reason());
    }
  } else {
    const decoded_answer answer = decode_answer(ep->config.api, body);
    // A raw call to another endpoint (embeddings) answers any JSON object; a chat call must answer a chat.
    const bool raw = r.payload && !r.payload->raw_body.empty();
    if (raw ? !answer.object : !answer.valid) {
      o.kind = outcome_class::server_error;
      deliver(std::move(o), keep);
      return;
    }
    in = answer.input_tokens;
    out = answer.output_tokens;
    if (r.payload) {
      auto a = std::make_shared<answer_payload>();
      if (!r.payload->raw_body.empty() || read_answer_text(ep->config.api, body, *a)) a->body = std::move(body);
      o.answer = std::move(a);
    } else if (owner.options.read_content_flaws) {
      if (answer_payload a; read_answer_text(ep->config.api, body, a)) o.flaw = evident_flaw(a.text, a.finish_reason);
    }
  }
  o.kind = outcome_class::ok;
  o.input_tokens = in.value_or(r.input_tokens);
  o.output_tokens = out.value_or(r.output_tokens);
  o.time_to_first_token = ttft ? *ttft : owner.runtime.now() - started;
  if (const http_price* p = owner.price(ep->config.provider, r.model)) {
    const double list = static_cast<double>(o.input_tokens) * p->usd_per_mtok_in / 1e6 +
                        static_cast<double>(o.output_tokens) * p->usd_per_mtok_out / 1e6;
    o.cost_usd = r.batch_size > 1 ? list * (1.0 - p->batch_discount) : list;
  }
  deliver(std::move(o), keep);
}

void attempt::classify_failure_status(outcome& o) {
  const std::string type = decode_error_type(body);
  if (call->req.payload) {
    auto a = std::make_shared<answer_payload>();
    read_error_text(body, *a);
    a->body = body;
    o.answer = std::move(a);
  }
  o.kind = classify_http(o.http_status, type);
  read_hints(o);
  if (!o.retry_after && ep->config.api == api_kind::gemini) {  // Gemini: no header, a RetryInfo in the body
    if (const std::optional<double> s = decode_retry_delay_s(body)) o.retry_after = from_s(*s);
  }
}

void attempt::read_hints(outcome& o) const {
  if (!parser) return;
  const auto& h = parser->get().base();
  const std::int64_t unix_now = owner.runtime.unix_now_s();
  if (auto ms = header_value(h, "retry-after-ms"); !ms.empty()) o.retry_after = parse_retry_after_ms(ms);
  if (!o.retry_after) {
    if (auto s = header_value(h, "retry-after"); !s.empty()) o.retry_after = parse_retry_after(s, unix_now);
  }
  if (auto v = header_value(h, "x-should-retry"); !v.empty()) o.should_retry = parse_should_retry(v);

  // The reset that matters is that of an exhausted window (remaining 0); when none says so, the latest.
  static constexpr std::array<std::pair<std::string_view, std::string_view>, 6> windows = {{
      {"x-ratelimit-reset-requests", "x-ratelimit-remaining-requests"},
      {"x-ratelimit-reset-tokens", "x-ratelimit-remaining-tokens"},
      {"anthropic-ratelimit-requests-reset", "anthropic-ratelimit-requests-remaining"},
      {"anthropic-ratelimit-tokens-reset", "anthropic-ratelimit-tokens-remaining"},
      {"anthropic-ratelimit-input-tokens-reset", "anthropic-ratelimit-input-tokens-remaining"},
      {"anthropic-ratelimit-output-tokens-reset", "anthropic-ratelimit-output-tokens-remaining"},
  }};
  std::optional<duration> exhausted, any;
  for (const auto& [reset_name, remaining_name] : windows) {
    const std::string_view value = header_value(h, reset_name);
    if (value.empty()) continue;
    const std::optional<duration> reset = parse_reset(value, unix_now);
    if (!reset) continue;
    any = any ? std::max(*any, *reset) : *reset;
    if (header_value(h, remaining_name) == "0") exhausted = exhausted ? std::max(*exhausted, *reset) : *reset;
  }
  o.ratelimit_reset = exhausted ? exhausted : any;

  // The limits themselves, per minute, for traces (a replay rebuilds the provider's limiter from them).
  auto limit = [&](std::string_view openai_name, std::string_view anthropic_name) -> std::uint32_t {
    std::string_view v = header_value(h, openai_name);
    if (v.empty()) v = header_value(h, anthropic_name);
    std::uint64_t n = 0;
    const auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
    if (ec != std::errc{} || end != v.data() + v.size() || v.empty()) return 0;
    return static_cast<std::uint32_t>(std::min<std::uint64_t>(n, std::numeric_limits<std::uint32_t>::max()));
  };
  o.ratelimit_requests_limit = limit("x-ratelimit-limit-requests", "anthropic-ratelimit-requests-limit");
  o.ratelimit_tokens_limit = limit("x-ratelimit-limit-tokens", "anthropic-ratelimit-tokens-limit");
}

void attempt::answer_later(outcome&& o) {
  pending = std::move(o);
  answer_timer = owner.runtime.start_timer(duration::zero(), *this, cookie_answer);
}

void attempt::on_timer(std::uint32_t which) {
  if (finished) return;
  switch (which) {
    case cookie_deadline:
      deadline_timer = {};
      fail_because(outcome_class::timeout, "the call's deadline passed before the answer from " + ep->where);
      break;
    case cookie_connect:
      connect_timer = {};
      fail_because(outcome_class::connection_error,
                   "no connection to " + ep->where + (ep->proxy ? " through proxy " + ep->proxy->where : "") +
                       " (resolve, connect" + (ep->proxy ? ", CONNECT" : "") + (ep->tls ? ", TLS handshake" : "") +
                       ") within connect_timeout_ms (" + ms_text(owner.options.connect_timeout_ms) + ")");
      break;
    case cookie_read: {
      // Re-armed lazily: answer bytes only move `last_progress`, so a stream costs no timer work per chunk.
      read_timer = {};
      const duration limit = from_ms(owner.options.read_timeout_ms);
      const duration quiet = owner.runtime.now() - last_progress;
      if (quiet < limit) {
        read_timer = owner.runtime.start_timer(limit - quiet, *this, cookie_read);
        break;
      }
      ++owner.stats.read_timeouts;
      fail_because(outcome_class::timeout, "nothing from " + ep->where + " for read_timeout_ms (" +
                                               ms_text(owner.options.read_timeout_ms) + ") while waiting for the answer");
      break;
    }
    case cookie_answer:
      answer_timer = {};
      deliver(std::move(pending), false);
      break;
    default:
      break;
  }
}

void attempt::stop_timers() noexcept {
  owner.runtime.cancel_timer(deadline_timer);
  owner.runtime.cancel_timer(connect_timer);
  owner.runtime.cancel_timer(answer_timer);
  owner.runtime.cancel_timer(read_timer);
  deadline_timer = connect_timer = answer_timer = read_timer = {};
}

void attempt::release_connection(bool keep) {
  if (waiting) {
    waiting = false;
    std::erase(ep->waiting, this);
  }
  if (!conn) return;
  endpoint_state& e = *ep;
  if (keep) {
    put_idle(owner, e, conn);  // or closes it, when the pool is full
  } else {
    conn->close();
    --e.open;
  }
  // Keep `conn` (closed) alive until our own pending handlers have run; it goes with the attempt.
  while (!e.waiting.empty() && (!e.idle.empty() || e.open < owner.options.connections_max)) {
    attempt* waiter = e.waiting.front();
    e.waiting.pop_front();
    waiter->waiting = false;
    waiter->acquire();
  }
}

void attempt::finish_fields(outcome& o) {
  o.latency = owner.runtime.now() - started;
  if (ep) {
    o.provider = ep->config.provider;
    if (const http_price* p = owner.price(ep->config.provider, call->req.model)) {
      o.model = p->model;
    } else {
      o.model = owner.intern(call->req.model);
    }
  }
}

void attempt::fail_because(outcome&& o, std::string message) {
  // A production call learns why (the certificate, the refused connect, the read timeout) from its answer.
  if (call != nullptr && call->req.payload && !o.answer) {
    auto a = std::make_shared<answer_payload>();
    a->error_message = message;
    o.answer = std::move(a);
  }
  owner.last_error = std::move(message);
  deliver(std::move(o), false);
}

void attempt::deliver(outcome&& o, bool keep_connection) {
  finished = true;
  stop_timers();
  if (ep) release_connection(keep_connection);
  owner.unlink(*this);
  finish_fields(o);
  call->cost_usd += o.cost_usd;
  outcome_receiver* r = receiver;
  const auto keep_alive = std::move(self);  // frees the attempt once this call and its handlers are done
  r->on_outcome(std::move(o));
}

void attempt::cancel() noexcept {
  if (finished) return;
  finished = true;
  ++owner.stats.cancelled;
  stop_timers();
  if (ep) {
    try {
      release_connection(false);
    } catch (...) {
      // Handing the slot to a waiter may allocate; a failure there must not escape cancel().
    }
  }
  owner.unlink(*this);
  receiver = nullptr;
  const auto keep_alive = std::move(self);
}

}  // namespace http_detail

// ----- http_transport --------------------------------------------------------------------------------

http_transport::http_transport(std::unique_ptr<impl> state) : impl_(std::move(state)) {}
http_transport::~http_transport() = default;

operation& http_transport::start(const call_scope& scope, outcome_receiver& receiver) {
  ++scope.call->attempts;
  ++impl_->stats.attempts;
  auto a = std::make_shared<attempt>(*impl_, scope, receiver);
  a->self = a;
  impl_->link(*a);
  a->begin(scope);
  return *a;
}

const http_transport_stats& http_transport::stats() const noexcept { return impl_->stats; }
std::size_t http_transport::in_flight() const noexcept { return impl_->live; }

const std::string& http_transport::last_error() const noexcept { return impl_->last_error; }

}  // namespace squall
