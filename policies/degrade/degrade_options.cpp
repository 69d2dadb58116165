#include "policies/degrade/degrade_options.hpp"

#include <string>

namespace squall {
namespace {

std::string_view refuse_for_degrade(outcome_class c) {
  if (c == outcome_class::ok) return "ok is already an answer and is never replaced by a degraded one";
  if (c == outcome_class::cancelled) return "cancelled is never delivered: the caller has already gone";
  return {};
}

}  // namespace

void read_degrade_options(json_reader& reader, degrade_options& options) {
  read_outcome_class_set(reader, "degrade_on", options.degrade_on, refuse_for_degrade);
  std::string answer;
  reader.choice("answer", answer, {"static", "last_good"});
  if (answer == "static") options.answer = degrade_answer::static_answer;
  if (answer == "last_good") options.answer = degrade_answer::last_good;
  reader.count("output_tokens", options.output_tokens, 0, 1000000)
      .number("latency_ms", options.latency_ms, 0.0, 60000.0)
      .count("entries_max", options.entries_max, 1, 10000000);
  if (!reader.failed() && options.answer != degrade_answer::last_good && reader.child("entries_max") != nullptr) {
    reader.fail_key("entries_max", "only applies to \"answer\": \"last_good\"");
  }
}

}  // namespace squall
