#include "policies/degrade/degrade_options.hpp"

#include <algorithm>
#include <string>

namespace squall {
namespace {

constexpr std::uint8_t all_request_classes = (1U << request_class_count) - 1;

std::string_view refuse_for_degrade(outcome_class c) {
  if (c == outcome_class::ok) return "ok is already an answer and is never replaced by a degraded one";
  if (c == outcome_class::cancelled) return "cancelled is never delivered: the caller has already gone";
  return {};
}

std::string in_quotes(std::string_view s) { return "\"" + std::string(s) + "\""; }

// Reads "request_class" of a rule's "when": a non-empty array of class names, into a bit mask.
void read_request_classes(json_reader& when, degrade_match& match) {
  const json* list = when.child("request_class");
  if (list == nullptr || when.failed()) return;
  const std::string path = json_path_key(when.path(), "request_class");
  if (!list->is_array() || list->empty()) {
    when.fail(path, "expected a non-empty array of request classes (\"simple\", \"moderate\", \"complex\", "
                    "\"critical\"), got " + describe_json(*list));
    return;
  }
  std::uint8_t mask = 0;
  for (std::size_t i = 0; i < list->size(); ++i) {
    const json& item = (*list)[i];
    const auto c = item.is_string() ? request_class_from_string(item.get_ref<const std::string&>()) : std::nullopt;
    if (!c) {
      when.fail(json_path_index(path, i), "expected one of \"simple\", \"moderate\", \"complex\", \"critical\", got " +
                                              describe_json(item));
      return;
    }
    mask = static_cast<std::uint8_t>(mask | (1U << *c));
  }
  match.request_classes = mask;
}

// Reads a rule's "model" or "provider": 1 to 64 non-empty names.
void read_names(json_reader& when, std::string_view key, std::vector<std::string>& out) {
  const json* list = when.child(key);
  if (list == nullptr || when.failed()) return;
  const std::string path = json_path_key(when.path(), key);
  if (!list->is_array() || list->empty() || list->size() > degrade_names_max) {
    when.fail(path, "expected an array of 1 to 64 names, got " +
                        (list->is_array() ? std::to_string(list->size()) + " entries" : describe_json(*list)));
    return;
  }
  for (std::size_t i = 0; i < list->size(); ++i) {
    const json& item = (*list)[i];
    if (!item.is_string() || item.get_ref<const std::string&>().empty()) {
      when.fail(json_path_index(path, i), "expected a non-empty name, got " + describe_json(item));
      return;
    }
    out.push_back(item.get<std::string>());
  }
}

// Reads a rule's "failure": classes that must all be in degrade_on.
void read_failures(json_reader& when, const degrade_options& options, degrade_match& match) {
  const json* list = when.child("failure");
  if (list == nullptr || when.failed()) return;
  if (list->is_array() && list->empty()) {
    when.fail_key("failure", "expected at least one outcome class; omit the key to match every class in degrade_on");
    return;
  }
  read_outcome_class_set(when, "failure", match.failures, refuse_for_degrade);
  if (when.failed()) return;
  const std::string path = json_path_key(when.path(), "failure");
  for (std::size_t i = 0; i < list->size(); ++i) {
    const auto c = outcome_class_from_string((*list)[i].get_ref<const std::string&>());
    if (c && !options.degrade_on.contains(*c)) {
      when.fail(json_path_index(path, i), in_quotes(to_string(*c)) +
                                              " is not in degrade_on, so it never reaches the rules; add it to "
                                              "degrade_on or remove it here");
      return;
    }
  }
}

void read_when(json_reader& rule, const degrade_options& options, degrade_match& match) {
  const json* value = rule.child("when");
  if (value == nullptr || rule.failed()) return;
  json_reader when(*value, json_path_key(rule.path(), "when"));
  when.allow_only({"request_class", "priority_min", "priority_max", "model", "provider", "failure"});
  read_request_classes(when, match);
  when.count("priority_min", match.priority_min, 0, 255).count("priority_max", match.priority_max, 0, 255);
  if (!when.failed() && match.priority_min > match.priority_max) {
    when.fail_key("priority_max", "expected at least priority_min (" + std::to_string(match.priority_min) +
                                      "), got " + std::to_string(match.priority_max));
  }
  read_names(when, "model", match.models);
  read_names(when, "provider", match.providers);
  read_failures(when, options, match);
  if (auto e = when.finish()) rule.fail(e->path, e->message);
}

void read_rule(json_reader& rule, std::size_t index, const degrade_options& options, degrade_rule& out) {
  rule.allow_only({"name", "when", "answer", "output_tokens", "text"});
  out.name = "rules[" + std::to_string(index) + "]";
  if (rule.child("name") != nullptr) {
    rule.string("name", out.name);
    if (!rule.failed() && out.name.empty()) rule.fail_key("name", "expected a non-empty name");
    if (!rule.failed() && out.name == "default") {
      rule.fail_key("name", "\"default\" is reserved for the decision when no rule matches; choose another name");
    }
    for (const auto& earlier : options.rules) {
      if (!rule.failed() && earlier.name == out.name) {
        rule.fail_key("name", "duplicate rule name " + in_quotes(out.name) + ": each rule's name must be unique");
      }
    }
  }
  read_when(rule, options, out.when);
  std::string answer;
  if (rule.required("answer", "\"static\", \"last_good\" or \"pass\"") != nullptr) {
    rule.choice("answer", answer, {"static", "last_good", "pass"});
  }
  if (answer == "static") out.answer = degrade_answer::static_answer;
  if (answer == "last_good") out.answer = degrade_answer::last_good;
  if (answer == "pass") out.answer = degrade_answer::pass;
  std::uint32_t tokens = 0;
  if (rule.child("output_tokens") != nullptr && !rule.failed()) {
    if (out.answer == degrade_answer::pass) {
      rule.fail_key("output_tokens", "does not apply to \"answer\": \"pass\", which serves no answer");
    } else {
      rule.count("output_tokens", tokens, 0, 1000000);
      if (!rule.failed()) out.output_tokens = tokens;
    }
  }
  if (rule.child("text") != nullptr && !rule.failed()) {
    if (out.answer == degrade_answer::pass) {
      rule.fail_key("text", "does not apply to \"answer\": \"pass\", which serves no answer");
    } else {
      std::string text;
      rule.string("text", text);
      if (!rule.failed() && text.size() > degrade_text_bytes_max) {
        rule.fail_key("text", "expected at most 65536 bytes of text");
      }
      if (!rule.failed()) out.text = std::move(text);
    }
  }
}

void read_rules(json_reader& reader, degrade_options& options) {
  const json* list = reader.child("rules");
  if (list == nullptr || reader.failed()) return;
  const std::string path = json_path_key(reader.path(), "rules");
  if (!list->is_array() || list->empty() || list->size() > degrade_rules_max) {
    reader.fail(path, "expected an array of 1 to 32 rule objects, got " +
                          (list->is_array() ? std::to_string(list->size()) + " entries" : describe_json(*list)));
    return;
  }
  for (std::size_t i = 0; i < list->size(); ++i) {
    json_reader rule((*list)[i], json_path_index(path, i));
    if (!options.rules.empty() && options.rules.back().when.matches_everything(options.degrade_on)) {
      rule.fail(rule.path(), "this rule never decides: " + in_quotes(options.rules.back().name) +
                                 " before it matches every failure; remove it or move it up");
    }
    degrade_rule r;
    if (!rule.failed()) read_rule(rule, i, options, r);
    if (auto e = rule.finish()) {
      reader.fail(e->path, e->message);
      return;
    }
    options.rules.push_back(std::move(r));
  }
}

}  // namespace

bool degrade_match::matches_request(const request& req) const noexcept {
  if (request_classes != 0 && (request_classes & (1U << request_class_of(req.complexity))) == 0) return false;
  if (req.priority < priority_min || req.priority > priority_max) return false;
  if (!models.empty() && std::find(models.begin(), models.end(), req.model) == models.end()) return false;
  if (!providers.empty() && std::find(providers.begin(), providers.end(), req.provider) == providers.end()) {
    return false;
  }
  return true;
}

bool degrade_match::matches_everything(outcome_class_set degrade_on) const noexcept {
  const bool every_class = request_classes == 0 || request_classes == all_request_classes;
  const bool every_priority = priority_min == 0 && priority_max == 255;
  const bool every_failure = failures.empty() || failures == degrade_on;
  return every_class && every_priority && models.empty() && providers.empty() && every_failure;
}

bool degrade_options::uses_last_good() const noexcept {
  if (answer == degrade_answer::last_good) return true;
  return std::any_of(rules.begin(), rules.end(), [](const degrade_rule& r) { return r.answer == degrade_answer::last_good; });
}

void read_degrade_options(json_reader& reader, degrade_options& options) {
  // degrade_on first: the rules' "failure" lists are checked against it.
  read_outcome_class_set(reader, "degrade_on", options.degrade_on, refuse_for_degrade);
  std::string answer;
  reader.choice("answer", answer, {"static", "last_good", "pass"});
  if (answer == "static") options.answer = degrade_answer::static_answer;
  if (answer == "last_good") options.answer = degrade_answer::last_good;
  if (answer == "pass") options.answer = degrade_answer::pass;
  reader.string("text", options.text);
  if (!reader.failed() && options.text.size() > degrade_text_bytes_max) {
    reader.fail_key("text", "expected at most 65536 bytes of text");
  }
  reader.count("output_tokens", options.output_tokens, 0, 1000000)
      .number("latency_ms", options.latency_ms, 0.0, 60000.0)
      .count("entries_max", options.entries_max, 1, 10000000);
  read_rules(reader, options);
  if (!reader.failed() && options.answer == degrade_answer::pass && options.rules.empty()) {
    reader.fail_key("answer", "\"pass\" without \"rules\" would never degrade anything; give rules, or use "
                              "\"static\" or \"last_good\"");
  }
  if (!reader.failed() && !options.uses_last_good() && reader.child("entries_max") != nullptr) {
    reader.fail_key("entries_max", "only applies when an answer (the policy's or a rule's) is \"last_good\"");
  }
}

}  // namespace squall
