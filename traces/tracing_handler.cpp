#include "traces/tracing_handler.hpp"

#include <cinttypes>
#include <cstdio>
#include <utility>

namespace squall::traces {
namespace {

// Milliseconds, exactly: the integer part and up to six decimals of the nanosecond count, trailing zeros
// dropped ("250", "1500.5"). Integer arithmetic, so the same duration always prints the same text.
std::string format_ms(duration d) {
  std::int64_t ns = d.count();
  if (ns < 0) ns = 0;
  const std::int64_t whole = ns / 1'000'000;
  std::int64_t frac = ns % 1'000'000;
  char buffer[48];
  if (frac == 0) {
    std::snprintf(buffer, sizeof buffer, "%" PRId64, whole);
    return buffer;
  }
  int digits = 6;
  while (frac % 10 == 0) {
    frac /= 10;
    --digits;
  }
  std::snprintf(buffer, sizeof buffer, "%" PRId64 ".%0*" PRId64, whole, digits, frac);
  return buffer;
}

// The hints the transport parsed, re-encoded as the headers that carry them; each parses back to the same
// value with policies/retry/server_hints.hpp.
void encode_hints(const outcome& o, trace_attempt& line) {
  if (o.retry_after) line.headers.emplace_back("retry-after-ms", format_ms(*o.retry_after));
  if (o.should_retry) line.headers.emplace_back("x-should-retry", *o.should_retry ? "true" : "false");
  if (o.ratelimit_reset) line.headers.emplace_back("x-ratelimit-reset-requests", format_ms(*o.ratelimit_reset) + "ms");
  if (o.ratelimit_requests_limit != 0) {
    line.headers.emplace_back("x-ratelimit-limit-requests", std::to_string(o.ratelimit_requests_limit));
  }
  if (o.ratelimit_tokens_limit != 0) {
    line.headers.emplace_back("x-ratelimit-limit-tokens", std::to_string(o.ratelimit_tokens_limit));
  }
}

}  // namespace

std::string default_endpoint(std::string_view api) {
  if (api == "gemini") return "/v1beta/models/{model}:generateContent";
  return api == "anthropic" ? "/v1/messages" : "/v1/chat/completions";
}

std::string endpoint_of(const trace_route& route, std::string_view model, bool stream) {
  if (route.api != "gemini") return route.endpoint;
  // Gemini names the model and the method in the path: what the live transport sends.
  std::string path = "/v1beta/models/";
  path += model;
  path += stream ? ":streamGenerateContent" : ":generateContent";
  return path;
}

tracing_handler::tracing_handler(runtime& clock, handler& next, trace_writer& writer, tracing_options options)
    : clock_(clock), next_(next), writer_(writer), options_(std::move(options)) {}

const trace_route* tracing_handler::find(std::string_view provider) const noexcept {
  for (const trace_route& r : options_.routes) {
    if (r.provider == provider) return &r;
  }
  return nullptr;
}

tracing_handler::relay& tracing_handler::allocate() {
  relay& r = pool_.take();
  r.owner = this;
  return r;
}

void tracing_handler::release(relay& r) noexcept {
  r.receiver = nullptr;
  r.inner = nullptr;
  pool_.give_back(r);
}

operation& tracing_handler::start(const call_scope& scope, outcome_receiver& receiver) {
  relay& r = allocate();
  r.receiver = &receiver;
  r.sent = clock_.now();
  trace_attempt& line = r.line;
  line = trace_attempt{};
  line.t_ms = to_ms(r.sent - options_.origin);
  line.stream = options_.stream;
  if (const call_context* call = scope.call) {
    const request& req = call->req;
    line.request_id = std::to_string(req.id);
    line.provider = req.provider.empty() ? options_.default_provider : req.provider;
    line.model = req.model;
    line.input_tokens = req.input_tokens;
    // The prompt is a view valid only during the call: keep a copy; the writer hashes or drops it.
    line.prompt.assign(req.prompt());
  }
  r.inner = &next_.start(scope, r);
  // The transport counts the attempt as it starts it, and never answers from inside start().
  if (scope.call) line.attempt = scope.call->attempts;
  return r;
}

void tracing_handler::complete(relay& r, outcome&& result) {
  trace_attempt& line = r.line;
  if (!result.provider.empty()) line.provider = std::string(result.provider);
  if (!result.model.empty()) line.model = std::string(result.model);
  if (const trace_route* route = find(line.provider)) {
    line.api = route->api;
    line.endpoint = endpoint_of(*route, line.model, line.stream);
  }
  line.status = result.http_status;
  line.outcome = std::string(to_string(result.kind));
  line.latency_ms = to_ms(clock_.now() - r.sent);
  if (result.time_to_first_token) line.ttft_ms = to_ms(*result.time_to_first_token);
  if (result.input_tokens > 0) line.input_tokens = result.input_tokens;
  if (result.kind == outcome_class::ok || result.output_tokens > 0) line.output_tokens = result.output_tokens;
  encode_hints(result, line);
  writer_.append(std::move(line));
  outcome_receiver* receiver = r.receiver;
  release(r);
  receiver->on_outcome(std::move(result));
}

void tracing_handler::cancel_relay(relay& r) noexcept {
  trace_attempt& line = r.line;
  if (const trace_route* route = find(line.provider)) {
    line.api = route->api;
    line.endpoint = endpoint_of(*route, line.model, line.stream);
  }
  line.status = 0;
  if (ending_) {
    line.outcome = std::string(to_string(outcome_class::cancelled));
  } else {
    line.outcome = std::string(to_string(outcome_class::timeout));
    line.latency_ms = to_ms(clock_.now() - r.sent);
  }
  r.inner->cancel();
  // Writing may allocate; a failure to write is the writer's to report at finish(), never a throw here.
  try {
    writer_.append(std::move(line));
  } catch (...) {  // NOLINT(bugprone-empty-catch): cancel() is noexcept; the writer reports disk errors
  }
  release(r);
}

}  // namespace squall::traces
