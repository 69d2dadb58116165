#pragma once
// What a call ended with. Failures are values: nothing is thrown through the call path.

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>

#include "policies/core/payload.hpp"
#include "policies/core/time.hpp"

namespace squall {

// The classes every policy reasons about. The error classifier maps HTTP statuses, provider error types,
// timeouts and connection errors onto them; policies never look at raw statuses.
enum class outcome_class : std::uint8_t {
  ok,
  rate_limited,      // 429 with a rate-limit error: the provider is fine, we are too fast
  overloaded,        // 503 / 529: the provider cannot take the work now
  server_error,      // 500, 502 and other 5xx
  timeout,           // a timeout policy (or the transport) gave up waiting
  connection_error,  // refused, reset, broken stream
  invalid_request,   // 400, 404, 413, 422: retrying cannot help
  auth,              // 401, 403
  quota,             // 429 insufficient_quota / billing: retrying cannot help
  circuit_open,      // a circuit breaker rejected the call without trying
  rejected,          // a client-side limit (bulkhead, rate limiter, budget) rejected the call
  cancelled,         // the caller abandoned the call
  bad_answer,        // a 200 whose content a validate policy refused (empty, cut short, not JSON)
};

inline constexpr std::size_t outcome_class_count = 13;

inline constexpr std::array<std::string_view, outcome_class_count> outcome_class_names = {
    "ok",       "rate_limited", "overloaded",   "server_error", "timeout",  "connection_error",
    "invalid_request", "auth", "quota",        "circuit_open", "rejected", "cancelled", "bad_answer"};

// What is wrong with an ok answer's content, when whoever produced the outcome knows it without the
// text: a provider model that serves answers without text says so here, and so does the load generator's
// transport, which reads the text it does not keep (http_transport_options::read_content_flaws). A
// production call's transport leaves it at none; its text and finish reason (outcome::answer) tell.
enum class content_flaw : std::uint8_t { none, empty, truncated, invalid_json };

constexpr std::string_view to_string(outcome_class c) noexcept {
  return outcome_class_names[static_cast<std::size_t>(c)];
}

constexpr std::optional<outcome_class> outcome_class_from_string(std::string_view name) noexcept {
  for (std::size_t i = 0; i < outcome_class_count; ++i) {
    if (outcome_class_names[i] == name) return static_cast<outcome_class>(i);
  }
  return std::nullopt;
}

// Classes that no policy may retry: the same request will fail the same way.
constexpr bool is_permanent(outcome_class c) noexcept {
  return c == outcome_class::invalid_request || c == outcome_class::auth || c == outcome_class::quota;
}

struct outcome {
  outcome_class kind = outcome_class::ok;
  int http_status = 0;                      // 0 when no HTTP response was received
  duration latency{};                       // of the attempt or call that produced this value
  std::optional<duration> time_to_first_token;
  std::uint32_t input_tokens = 0;
  std::uint32_t output_tokens = 0;
  double cost_usd = 0.0;                    // billed for the attempt that produced this value
  std::optional<duration> retry_after;      // the server's hint (Retry-After in seconds or as an HTTP
                                            // date, or retry-after-ms), already parsed by the transport
  std::optional<bool> should_retry;         // x-should-retry, when the server sent it
  std::uint32_t ratelimit_requests_limit = 0;  // the provider's requests per minute, when it said so
                                               // (x-ratelimit-limit-requests, anthropic-ratelimit-
                                               // requests-limit); 0 = not said. Traces keep it.
  std::optional<duration> ratelimit_reset;  // time until the provider's rate-limit window resets
                                            // (x-ratelimit-reset-*, anthropic-ratelimit-*-reset)
  std::string_view provider;                // names live as long as the provider configuration
  std::string_view model;
  std::string_view decided_by;              // the policy that produced this outcome, empty for the transport
  std::uint32_t ratelimit_tokens_limit = 0;  // tokens per minute, likewise (x-ratelimit-limit-tokens)
  bool degraded = false;                    // served by a fallback answer: never counted as success
  bool from_cache = false;                  // answered by a cache, not by a provider
  content_flaw flaw = content_flaw::none;   // a known flaw of an ok answer's content (see content_flaw)
  // What the provider answered (text, finish reason, id, the raw body) or why it failed (error type and
  // message), when the call carried a payload; shared, so every copy of this outcome (a cache entry, a
  // coalesced follower, an idempotent replay) gives back the same bytes. Empty in the simulation.
  answer_ptr answer;

  bool ok() const noexcept { return kind == outcome_class::ok && !degraded; }

  static outcome failure(outcome_class c, std::string_view by = {}) {
    outcome o;
    o.kind = c;
    o.decided_by = by;
    return o;
  }
};

}  // namespace squall
