#pragma once
// Options of the retry policy (type "retry"). Each member is one JSON key of the policy file, with the
// same name; the member initialisers are the defaults.
//
//   { "type": "retry", "attempts_max": 4, "backoff": "exponential", "delay_ms_base": 500,
//     "jitter": "full", "retry_on": ["overloaded", "server_error"], "retry_after": "honor",
//     "per_class": { "rate_limited": { "attempts_max": 6, "delay_ms_base": 2000 } },
//     "budget": { "kind": "token_bucket", "tokens_max": 100, "token_ratio": 0.1 } }

#include <array>
#include <cstdint>
#include <optional>

#include "policies/core/http_status_set.hpp"
#include "policies/core/json_reader.hpp"
#include "policies/core/outcome.hpp"
#include "policies/core/outcome_class_set.hpp"
#include "policies/retry/backoff.hpp"
#include "policies/retry/retry_budget.hpp"

namespace squall {

// What to do with a server's Retry-After hint.
enum class retry_after_mode : std::uint8_t { honor, ignore };
// What to do when the server's hint is longer than retry_after_ms_max: wait the maximum, deliver the
// failure at once, or ignore the hint and back off as if there were none.
enum class retry_after_over_max_mode : std::uint8_t { cap, give_up, backoff };
// What the backoff is after a server hint was waited once in a call: as usual, or none at all.
enum class backoff_after_hint_mode : std::uint8_t { keep, none };
// What a hint of zero (or a date already past) does: retry at once, or back off as if there were none.
enum class retry_after_zero_mode : std::uint8_t { at_once, backoff };
// What to do with the other server hints (x-should-retry, the rate-limit reset).
enum class hint_mode : std::uint8_t { honor, ignore };

// The settings of one outcome class under "per_class": each key present replaces the top-level option of
// the same name for failures of that class; an absent key keeps the top-level value. Same ranges as there.
struct retry_class_options {
  std::optional<std::uint32_t> attempts_max;
  std::optional<backoff_kind> backoff;
  std::optional<double> delay_ms_base;
  std::optional<double> delay_ms_max;
  std::optional<double> multiplier;
  std::optional<jitter_kind> jitter;
};

struct retry_options {
  // Total attempts, the first one included, so 1 means "never retry". From 1 to 100.
  // The default is 3 attempts.
  std::uint32_t attempts_max = 3;

  // How the delay grows with the retry number n (n = 1 for the first retry): "constant" (base),
  // "linear" (base * n) or "exponential" (base * multiplier^(n-1)). The default is "exponential".
  backoff_kind backoff = backoff_kind::exponential;

  // The first retry's delay before jitter, in milliseconds. From 0 to 3600000. The default is 200 ms.
  double delay_ms_base = 200.0;

  // The growth factor of exponential backoff. From 1 to 10. The default is 2.
  double multiplier = 2.0;

  // The cap on any backoff delay (before and after jitter), in milliseconds. From 0 to 3600000, and
  // at least delay_ms_base. The default is 30000 ms.
  double delay_ms_max = 30000.0;

  // How delays are spread: "none", "full" (uniform in [0, d]), "equal" (d/2 + uniform in [0, d/2]) or
  // "decorrelated" (min(cap, uniform in [base, 3 * previous])). The default is "full".
  jitter_kind jitter = jitter_kind::full;

  // How much "shrink" jitter may take off a delay: d * (1 - jitter_fraction * U), U uniform in [0, 1).
  // From 0 to 1. The default is 0.25, the OpenAI and Anthropic SDKs' value.
  double jitter_fraction = 0.25;

  // The outcome classes worth another attempt. invalid_request, auth and quota may not be listed:
  // the same request fails the same way again. The default is
  // ["rate_limited", "overloaded", "server_error", "timeout", "connection_error", "bad_answer"]
  // (bad_answer: a validate policy inside refused an answer; another attempt may well be good).
  outcome_class_set retry_on{outcome_class::rate_limited, outcome_class::overloaded, outcome_class::server_error,
                             outcome_class::timeout,      outcome_class::connection_error, outcome_class::bad_answer};

  // When set, a failure that carries an HTTP status is retried by its status, as the SDKs decide, not by
  // its class: a listed status is retried whatever its class (a 429 insufficient_quota, a 409), an
  // unlisted one is not, and a failure after a 2xx status (a stream cut or an error event inside a 200)
  // never is. x-should-retry, when honoured, still comes first. Failures without a status (timeouts,
  // connection errors before the status line, inner policies' refusals) are decided by retry_on.
  // Items are statuses from 100 to 599 or classes "1xx" to "5xx". The default is unset.
  std::optional<http_status_set> retry_on_status;

  // "honor": when a failure carries the server's Retry-After hint, wait that long instead of the
  // backoff; "ignore": always use the backoff. The default is "honor".
  retry_after_mode retry_after = retry_after_mode::honor;

  // The longest hint honoured, in milliseconds. From 0 to 2147483647 (2^31 - 1, the longest wait one
  // JavaScript timer holds, which @anthropic-ai/sdk honours). The default is 60000 ms.
  double retry_after_ms_max = 60000.0;

  // A hint above retry_after_ms_max is shortened to it ("cap"), makes the policy give up and deliver the
  // failure at once ("give_up", for callers who would rather fail over than wait), or is ignored for the
  // backoff ("backoff", as most SDKs do). The default is "cap".
  retry_after_over_max_mode retry_after_over_max = retry_after_over_max_mode::cap;

  // When set, Retry-After (and retry-after-ms) is read only on failures with one of these statuses (Portkey
  // reads it on 429 alone); on the others the backoff applies. Same items as retry_on_status. The default
  // is unset: on any failure.
  std::optional<http_status_set> retry_after_on_status;

  // "none": once a server hint has set a wait in a call, its later retries without a hint do not wait at
  // all (Portkey's gateway does this); "keep": they back off as usual. The default is "keep".
  backoff_after_hint_mode backoff_after_hint = backoff_after_hint_mode::keep;

  // A hint of zero (or an HTTP date already past) retries at once ("at_once") or is ignored for the
  // backoff ("backoff", as the Python SDKs do). The default is "at_once".
  retry_after_zero_mode retry_after_zero = retry_after_zero_mode::at_once;

  // "honor": the server's x-should-retry decides, as in the OpenAI and Anthropic SDKs: "true" retries a
  // failure even of a class not in retry_on (never a permanent class), "false" delivers it at once;
  // "ignore": only retry_on decides. The default is "honor".
  hint_mode should_retry_header = hint_mode::honor;

  // "honor": a rate_limited failure without an honoured Retry-After waits until the provider's rate-limit
  // window resets (x-ratelimit-reset-*, anthropic-ratelimit-*-reset) instead of the backoff, under the
  // same retry_after_ms_max and retry_after_over_max; "ignore": it backs off. The default is "honor".
  hint_mode ratelimit_reset = hint_mode::honor;

  // Settings per failure class, indexed by outcome_class: "per_class": { "<class>": {...} }. A key must
  // be a class in retry_on. The default is no per-class settings.
  std::array<retry_class_options, outcome_class_count> per_class{};

  // The budget shared by every call through this policy instance (see retry_budget.hpp). The default is
  // no budget.
  retry_budget_options budget;
};

// The settings that apply to failures of class `c`: its per_class entries over the top-level ones.
struct retry_class_settings {
  std::uint32_t attempts_max;
  backoff_kind backoff;
  double delay_ms_base;
  double delay_ms_max;
  double multiplier;
  jitter_kind jitter;
};
retry_class_settings resolve_retry_settings(const retry_options& options, outcome_class c) noexcept;

// Reads every key above from `reader`, checking ranges; leaves absent keys at their defaults.
void read_retry_options(json_reader& reader, retry_options& options);

}  // namespace squall
