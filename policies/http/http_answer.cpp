// The answer of one HTTP attempt: its head, then the body (JSON or an error) or the stream (server-sent
// events, decoded as they come), its classification, and the server's hints for the retry policy.
#include <array>
#include <charconv>
#include <string_view>

#include "policies/core/classify.hpp"
#include "policies/core/content_flaw.hpp"
#include "policies/http/http_attempt.hpp"
#include "policies/http/wire_payload.hpp"
#include "policies/retry/server_hints.hpp"

namespace squall::http_detail {

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

}  // namespace squall::http_detail
