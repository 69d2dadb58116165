#include "policies/hedging/hedging_options.hpp"

#include <string>

namespace squall {
namespace {

std::string_view refuse_for_hedging(outcome_class c) {
  if (c == outcome_class::ok) return "ok is a success and never starts a hedge";
  if (is_permanent(c)) return "a permanent failure never starts a hedge: another attempt fails the same way";
  return {};
}

}  // namespace

void read_hedging_options(json_reader& reader, hedging_options& options) {
  reader.number("delay_ms", options.delay_ms, 0.0, 3600000.0);
  reader.number("delay_percentile", options.delay_percentile, 0.0, 1.0);
  if (!reader.failed() && options.delay_percentile && !(*options.delay_percentile > 0.0 && *options.delay_percentile < 1.0)) {
    reader.fail_key("delay_percentile", "expected a number greater than 0 and less than 1, got " +
                                            describe_json(*options.delay_percentile));
  }
  reader.count("latency_window", options.latency_window, 1, 100000)
      .count("latency_samples_min", options.latency_samples_min, 1, 100000);
  if (!reader.failed() && options.latency_samples_min > options.latency_window) {
    reader.fail_key("latency_samples_min", "expected at most latency_window (" +
                                               std::to_string(options.latency_window) + "), got " +
                                               std::to_string(options.latency_samples_min));
  }
  reader.count("hedges_max", options.hedges_max, 1, 5);
  read_outcome_class_set(reader, "hedge_on", options.hedge_on, refuse_for_hedging);
  read_retry_budget_options(reader, "budget", options.budget);
}

}  // namespace squall
