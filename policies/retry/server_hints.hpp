#pragma once
// Parsers for the retry hints an OpenAI- or Anthropic-style server sends, as pure functions: the live
// HTTP transport calls them on the raw header values and stores the results in the outcome
// (outcome.retry_after, should_retry, ratelimit_reset), where the retry policy reads them.
//
// Every parser accepts surrounding spaces and tabs (HTTP's optional whitespace) and returns nullopt for
// anything else it does not recognise: a malformed header is ignored, never an error on the call path.
// Durations are clamped to hint_max (about 31 years), which keeps every result representable.

#include <cstdint>
#include <optional>
#include <string_view>

#include "policies/core/time.hpp"

namespace squall {

inline constexpr duration hint_max = from_s(1e9);

// Retry-After (RFC 9110 §10.2.3): delay-seconds, here also fractional as the OpenAI SDK accepts ("2",
// "1.5"), or an HTTP date in IMF-fixdate form ("Wed, 21 Oct 2015 07:28:00 GMT"), relative to
// `now_unix_s`; a date in the past gives 0. Negative numbers, exponents and other date forms are refused.
std::optional<duration> parse_retry_after(std::string_view value, std::int64_t now_unix_s);

// retry-after-ms (OpenAI, Anthropic): milliseconds, possibly fractional ("250", "12.5").
std::optional<duration> parse_retry_after_ms(std::string_view value);

// x-should-retry: exactly "true" or "false", as the OpenAI and Anthropic SDKs compare it.
std::optional<bool> parse_should_retry(std::string_view value);

// Time until a rate-limit window resets: OpenAI's x-ratelimit-reset-requests / -tokens durations in Go's
// format ("1s", "6m0s", "20ms", "1h2m3.5s"; units h, m, s, ms, us, µs, ns; "0" alone), or Anthropic's
// anthropic-ratelimit-*-reset RFC 3339 timestamps ("2025-01-01T12:00:30Z", "...30.5+01:00"), relative
// to `now_unix_s`; a timestamp in the past gives 0.
std::optional<duration> parse_reset(std::string_view value, std::int64_t now_unix_s);

}  // namespace squall
