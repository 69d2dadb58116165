#include "policies/circuit_breaker/circuit_breaker_options.hpp"

#include <string>

namespace squall {
namespace {

std::string_view refuse_for_breaker(outcome_class c) {
  if (c == outcome_class::ok) return "ok is a success and cannot be counted as a failure";
  return {};
}

// Reads a rate in (0, 1]: json_reader's ranges are closed, so the open end is checked here.
void read_rate(json_reader& reader, std::string_view key, double& out) {
  reader.number(key, out, 0.0, 1.0);
  if (!reader.failed() && !(out > 0.0)) {
    reader.fail_key(key, "expected a number greater than 0 and at most 1, got 0");
  }
}

}  // namespace

void read_circuit_breaker_options(json_reader& reader, circuit_breaker_options& options) {
  std::string window;
  reader.choice("window", window, {"count", "time"});
  if (window == "count") options.window = breaker_window_kind::count;
  if (window == "time") options.window = breaker_window_kind::time;

  reader.count("window_size", options.window_size, 1, 100000);
  if (!reader.failed() && options.window == breaker_window_kind::time && options.window_size > 3600) {
    reader.fail_key("window_size", "expected an integer from 1 to 3600 (seconds) for a \"time\" window, got " +
                                       std::to_string(options.window_size));
  }
  read_rate(reader, "failure_rate_threshold", options.failure_rate_threshold);
  read_rate(reader, "slow_call_rate_threshold", options.slow_call_rate_threshold);
  reader.number("slow_call_ms", options.slow_call_ms, 1.0, 86400000.0)
      .count("calls_min", options.calls_min, 1, 100000)
      .number("open_ms", options.open_ms, 1.0, 86400000.0)
      .count("half_open_calls", options.half_open_calls, 1, 1000);
  read_outcome_class_set(reader, "failure_on", options.failure_on, refuse_for_breaker);
}

}  // namespace squall
