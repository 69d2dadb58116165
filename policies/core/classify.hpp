#pragma once
// The one error classifier: every transport maps what it saw onto an outcome_class with these rules, so
// that all policies agree on what a failure means.

#include <string_view>

#include "policies/core/outcome.hpp"

namespace squall {

// `error_type` is the provider's error type or code when the body had one ("insufficient_quota",
// "overloaded_error", "rate_limit_error"), else empty.
constexpr outcome_class classify_http(int status, std::string_view error_type = {}) noexcept {
  if (status >= 200 && status < 300) return outcome_class::ok;
  if (error_type == "insufficient_quota" || error_type == "billing_error") return outcome_class::quota;
  if (error_type == "overloaded_error") return outcome_class::overloaded;
  switch (status) {
    case 400: case 404: case 409: case 413: case 422: return outcome_class::invalid_request;
    case 401: case 403: return outcome_class::auth;
    case 402: return outcome_class::quota;
    case 408: return outcome_class::timeout;
    case 429: return outcome_class::rate_limited;
    case 503: case 529: return outcome_class::overloaded;
    default: break;
  }
  if (status >= 500) return outcome_class::server_error;
  return outcome_class::invalid_request;
}

}  // namespace squall
