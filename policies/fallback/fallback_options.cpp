#include "policies/fallback/fallback_options.hpp"

#include <string>

namespace squall {
namespace {

constexpr std::size_t endpoints_max = 16;

std::string_view refuse_for_fallback(outcome_class c) {
  if (c == outcome_class::ok) return "ok is a success and never moves a call to the next endpoint";
  if (c == outcome_class::cancelled) return "cancelled is never delivered: the caller has already gone";
  return {};
}

// Reads a provider or model name: a non-empty string when present.
void read_name(json_reader& reader, std::string_view key, std::string& out) {
  reader.string(key, out);
  if (!reader.failed() && out.empty() && reader.child(key) != nullptr) {
    reader.fail_key(key, "expected a non-empty name; omit the key to keep the request's own " + std::string(key));
  }
}

}  // namespace

void read_fallback_options(json_reader& reader, fallback_options& options) {
  const json* list = reader.required("endpoints", "the chain of {\"provider\", \"model\"} endpoints, tried in order");
  if (list != nullptr && !reader.failed()) {
    const std::string list_path = json_path_key(reader.path(), "endpoints");
    if (!list->is_array() || list->empty() || list->size() > endpoints_max) {
      reader.fail(list_path, "expected an array of 1 to 16 {\"provider\", \"model\"} objects, got " +
                                 (list->is_array() ? std::to_string(list->size()) + " entries" : describe_json(*list)));
    } else {
      std::vector<fallback_endpoint> endpoints;
      for (std::size_t i = 0; i < list->size() && !reader.failed(); ++i) {
        json_reader entry((*list)[i], json_path_index(list_path, i));
        fallback_endpoint e;
        read_name(entry, "provider", e.provider);
        read_name(entry, "model", e.model);
        if (auto error = entry.finish()) {
          reader.fail(error->path, error->message);
          break;
        }
        e.name = (e.provider.empty() ? std::string("*") : e.provider) + "/" + (e.model.empty() ? "*" : e.model);
        endpoints.push_back(std::move(e));
      }
      if (!reader.failed()) options.endpoints = std::move(endpoints);
    }
  }
  read_outcome_class_set(reader, "fallback_on", options.fallback_on, refuse_for_fallback);
  read_target_breaker(reader, "breaker", options.breaker);
  if (options.breaker && !reader.failed()) {
    // Two health models on one chain would contradict each other: the breaker replaces the cooldown.
    for (std::string_view key : {"failures_to_cooldown", "cooldown_ms", "probe_calls", "when_all_cooling"}) {
      if (reader.child(key) != nullptr) {
        reader.fail_key(key, "not allowed with \"breaker\", which replaces the cooldown and its probes (use "
                             "the breaker's own \"cooldown_ms\")");
        return;
      }
    }
  }
  reader.count("failures_to_cooldown", options.failures_to_cooldown, 1, 1000)
      .number("cooldown_ms", options.cooldown_ms, 1.0, 86400000.0)
      .count("probe_calls", options.probe_calls, 1, 1000);
  std::string all_cooling;
  reader.choice("when_all_cooling", all_cooling, {"try_first", "fail"});
  if (all_cooling == "try_first") options.when_all_cooling = all_cooling_mode::try_first;
  if (all_cooling == "fail") options.when_all_cooling = all_cooling_mode::fail;
}

}  // namespace squall
