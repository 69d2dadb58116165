#include "policies/adaptive_throttle/adaptive_throttle_options.hpp"

namespace squall {
namespace {

std::string_view refuse_for_throttle(outcome_class c) {
  if (c == outcome_class::ok) return "ok is the provider accepting the request and cannot count as a refusal";
  return {};
}

}  // namespace

void read_adaptive_throttle_options(json_reader& reader, adaptive_throttle_options& options) {
  reader.count("window_s", options.window_s, 1, 3600).number("k", options.k, 1.0, 10.0);
  read_outcome_class_set(reader, "reject_on", options.reject_on, refuse_for_throttle);
}

}  // namespace squall
