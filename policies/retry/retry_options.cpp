#include "policies/retry/retry_options.hpp"

#include <string>

namespace squall {
namespace {

std::string_view refuse_for_retry(outcome_class c) {
  if (is_permanent(c)) {
    switch (c) {
      case outcome_class::invalid_request:
        return "invalid_request is never retried: the same request fails the same way again";
      case outcome_class::auth: return "auth is never retried: the same credentials fail the same way again";
      default: return "quota is never retried: an exhausted quota or billing limit does not recover by waiting";
    }
  }
  if (c == outcome_class::ok) return "ok is a success and is never retried";
  return {};
}

}  // namespace

void read_retry_options(json_reader& reader, retry_options& options) {
  reader.count("attempts_max", options.attempts_max, 1, 100);

  std::string backoff;
  reader.choice("backoff", backoff, {"constant", "linear", "exponential"});
  if (backoff == "constant") options.backoff = backoff_kind::constant;
  if (backoff == "linear") options.backoff = backoff_kind::linear;
  if (backoff == "exponential") options.backoff = backoff_kind::exponential;

  reader.number("delay_ms_base", options.delay_ms_base, 0.0, 3600000.0)
      .number("multiplier", options.multiplier, 1.0, 10.0)
      .number("delay_ms_max", options.delay_ms_max, 0.0, 3600000.0);
  if (!reader.failed() && options.delay_ms_max < options.delay_ms_base) {
    reader.fail_key("delay_ms_max", "expected at least delay_ms_base (" + describe_json(options.delay_ms_base) +
                                        "), got " + describe_json(options.delay_ms_max));
  }

  std::string jitter;
  reader.choice("jitter", jitter, {"none", "full", "equal", "decorrelated"});
  if (jitter == "none") options.jitter = jitter_kind::none;
  if (jitter == "full") options.jitter = jitter_kind::full;
  if (jitter == "equal") options.jitter = jitter_kind::equal;
  if (jitter == "decorrelated") options.jitter = jitter_kind::decorrelated;

  read_outcome_class_set(reader, "retry_on", options.retry_on, refuse_for_retry);

  std::string hint;
  reader.choice("retry_after", hint, {"honor", "ignore"});
  if (hint == "honor") options.retry_after = retry_after_mode::honor;
  if (hint == "ignore") options.retry_after = retry_after_mode::ignore;

  reader.number("retry_after_ms_max", options.retry_after_ms_max, 0.0, 86400000.0);

  std::string over;
  reader.choice("retry_after_over_max", over, {"cap", "give_up"});
  if (over == "cap") options.retry_after_over_max = retry_after_over_max_mode::cap;
  if (over == "give_up") options.retry_after_over_max = retry_after_over_max_mode::give_up;
}

}  // namespace squall
