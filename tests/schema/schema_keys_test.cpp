// The schema's keys are the parser's keys. For each policy type in policy_registry() and for the scenario's
// objects, the parser is handed the object with one unknown key added; json_reader then answers "unknown key
// ...; expected one of: a b c", the list of every key it knows there (json_reader::report_unknown_keys). That
// list must be the schema's "properties" for the object, no more and no less: a key added to a parser and
// not to docs/schema/make_schema.py (or the other way round) fails here, naming the key.

#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <string>

#include "policies/core/json_reader.hpp"
#include "policies/pipeline/pipeline.hpp"
#include "policies/pipeline/registry.hpp"
#include "policies/core/outcome.hpp"
#include "sim/provider/provider_config.hpp"
#include "sim/scenario/scenario.hpp"

namespace squall {
namespace {

using sim::parse_scenario;

constexpr const char* unknown_key = "zz_unknown_key";

json read_schema(const std::string& name) {
  std::ifstream in(std::string(SQUALL_SOURCE_DIR) + "/docs/schema/" + name + ".schema.json");
  std::stringstream text;
  text << in.rdbuf();
  return json::parse(text.str());
}

// The keys the parser listed in its unknown-key message; empty (and a test failure) if it said otherwise.
std::set<std::string> listed_keys(const config_error& e) {
  const std::string marker = "unknown key \"" + std::string(unknown_key) + "\"; expected one of:";
  const auto at = e.message.find(marker);
  EXPECT_NE(at, std::string::npos) << "at " << e.path << ": " << e.message;
  std::set<std::string> keys;
  if (at == std::string::npos) return keys;
  std::istringstream words(e.message.substr(at + marker.size()));
  for (std::string w; words >> w;) keys.insert(w);
  return keys;
}

std::set<std::string> property_names(const json& object_schema) {
  std::set<std::string> keys;
  for (auto it = object_schema.at("properties").begin(); it != object_schema.at("properties").end(); ++it) {
    keys.insert(it.key());
  }
  return keys;
}

std::string differences(const std::set<std::string>& parser, const std::set<std::string>& schema) {
  std::string out;
  for (const auto& k : parser) {
    if (!schema.count(k)) out += " parser-only:" + k;
  }
  for (const auto& k : schema) {
    if (!parser.count(k)) out += " schema-only:" + k;
  }
  return out;
}

// Just enough for each type to reach the end of its options (its required keys).
json minimal_policy(std::string_view type) {
  json p = {{"type", std::string(type)}};
  if (type == "fallback") p["endpoints"] = json::array({json::object()});
  if (type == "litellm_router") p["deployments"] = json::array({json::object()});
  if (type == "loadbalance") p["targets"] = json::array({json::object()});
  if (type == "router") p["routes"] = {{"simple", {{"model", "m"}}}};
  if (type == "rate_limiter") p["rpm"] = 60;
  if (type == "token_budget") p["tokens_max"] = 1000;
  if (type == "prompt_trim") p["input_tokens_max"] = 1000;
  return p;
}

TEST(SchemaKeys, EveryPolicyTypeHasTheParsersKeys) {
  const json schema = read_schema("policy");
  const json scenario_schema = read_schema("scenario");
  std::size_t checked = 0;
  for (const auto& registration : policy_registry()) {
    const std::string type(registration.type);
    SCOPED_TRACE(type);
    json entry = minimal_policy(type);
    ASSERT_TRUE(parse_pipeline(json{{"policies", json::array({entry})}}, "$")) << "the minimal " << type << " is valid";
    entry[unknown_key] = 1;
    auto parsed = parse_pipeline(json{{"policies", json::array({entry})}}, "$");
    ASSERT_FALSE(parsed);
    const auto& definitions = schema.at("definitions");
    ASSERT_TRUE(definitions.contains("policy_" + type)) << "docs/schema has no definition for policy type " << type;
    const auto parser = listed_keys(parsed.error());
    const auto from_schema = property_names(definitions.at("policy_" + type));
    EXPECT_EQ(parser, from_schema) << differences(parser, from_schema);
    // The scenario schema carries the same definition for inline policies.
    EXPECT_EQ(scenario_schema.at("definitions").at("policy_" + type), definitions.at("policy_" + type));
    ++checked;
  }
  EXPECT_EQ(checked, policy_registry().size());
  // And the schema's list of types is the registry's, in its order.
  json types = json::array();
  for (const auto& registration : policy_registry()) types.push_back(std::string(registration.type));
  EXPECT_EQ(schema.at("definitions").at("policy").at("properties").at("type").at("enum"), types);
}

TEST(SchemaKeys, PolicyFileTopLevelHasTheParsersKeys) {
  const json schema = read_schema("policy");
  auto parsed = parse_pipeline(json{{"policies", json::array()}, {unknown_key, 1}}, "$");
  ASSERT_FALSE(parsed);
  const auto parser = listed_keys(parsed.error());
  EXPECT_EQ(parser, property_names(schema)) << differences(parser, property_names(schema));
}

// A small valid scenario with inline policies, and one with a service under test.
json policies_scenario() {
  return json::parse(R"({
    "duration_s": 10,
    "providers": {"openai": {
      "models": {"gpt-4o-mini": {"usd_per_mtok_in": 0.15, "usd_per_mtok_out": 0.6}},
      "latency": {"ttft_ms": 100}, "capacity": {"slots": 8}, "rate_limits": {"rpm": 600},
      "faults": [{"at_s": 1, "for_s": 2, "errors": {"503": 0.5}, "wire": {"malformed": 0},
                  "content": {"empty": 0}}]}},
    "workload": {"arrivals": {"rate_per_s": 5}},
    "policies": {"wrapped": {"policy": {"policies": []}, "fleet": {"instances": 2}}}
  })");
}

json service_scenario() {
  return json::parse(R"({
    "duration_s": 10,
    "providers": {"openai": {"models": {"gpt-4o-mini": {"usd_per_mtok_in": 0.15, "usd_per_mtok_out": 0.6}}}},
    "workload": {"users": {"count": 2}},
    "service": {"command": ["node", "server.mjs"], "ready": {"http": "/health"}, "stop": {"grace_ms": 100},
                "request": {"path": "/ask"}, "success": {"statuses": [200]},
                "configurations": {"a": {"env": {"X": "1"}}}}
  })");
}

struct object_case {
  const char* name;
  bool service;                // which base scenario
  const char* document_path;   // JSON pointer to the object in the scenario
  const char* schema_path;     // JSON pointer to its schema (an object schema with "properties")
};

TEST(SchemaKeys, ScenarioObjectsHaveTheParsersKeys) {
  const json schema = read_schema("scenario");
  const object_case cases[] = {
      {"top level", false, "", ""},
      {"provider", false, "/providers/openai", "/definitions/provider"},
      {"latency", false, "/providers/openai/latency", "/definitions/provider/properties/latency"},
      {"capacity", false, "/providers/openai/capacity", "/definitions/provider/properties/capacity"},
      {"rate_limits", false, "/providers/openai/rate_limits", "/definitions/provider/properties/rate_limits"},
      {"fault", false, "/providers/openai/faults/0", "/definitions/fault"},
      {"fault wire", false, "/providers/openai/faults/0/wire", "/definitions/fault/properties/wire"},
      {"fault content", false, "/providers/openai/faults/0/content", "/definitions/fault/properties/content"},
      {"workload", false, "/workload", "/definitions/workload"},
      {"arrivals", false, "/workload/arrivals", "/definitions/workload/properties/arrivals"},
      {"configuration wrapper", false, "/policies/wrapped", "/definitions/configuration/anyOf/2"},
      {"fleet", false, "/policies/wrapped/fleet", "/definitions/configuration/anyOf/2/properties/fleet"},
      {"inline policies", false, "/policies/wrapped/policy", "/definitions/pipeline"},
      {"users", true, "/workload/users", "/definitions/workload/properties/users"},
      {"service", true, "/service", "/definitions/service"},
      {"service ready", true, "/service/ready", "/definitions/service/properties/ready"},
      {"service stop", true, "/service/stop", "/definitions/service/properties/stop"},
      {"service request", true, "/service/request", "/definitions/service/properties/request"},
      {"service success", true, "/service/success", "/definitions/service/properties/success"},
      {"service configuration", true, "/service/configurations/a",
       "/definitions/service/properties/configurations/additionalProperties"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    json document = c.service ? service_scenario() : policies_scenario();
    ASSERT_TRUE(parse_scenario(document, SQUALL_SOURCE_DIR)) << "the base scenario is valid";
    document[json::json_pointer(c.document_path)][unknown_key] = 1;
    auto parsed = parse_scenario(document, SQUALL_SOURCE_DIR);
    ASSERT_FALSE(parsed);
    const auto parser = listed_keys(parsed.error());
    const auto from_schema = property_names(schema.at(json::json_pointer(c.schema_path)));
    EXPECT_EQ(parser, from_schema) << differences(parser, from_schema);
  }
}

// Ranges, types and choices: for every key of an object whose schema states a simple type, a value of
// another JSON type is refused by the parser; a number just outside a stated bound is refused; the bounds
// themselves are accepted (unless `no_bounds` names the key: another key then limits it, which only the
// parser states); a string outside a stated enum is refused. `parse` parses `base` with the object at
// `pointer` changed; `context` adds keys that another key's bounds need (a semantic cache for its keys).
using parse_fn = std::function<std::optional<config_error>(const json&)>;

struct value_checks {
  std::size_t refused = 0;
  std::size_t accepted = 0;
};

void check_values(const json& base, const std::string& pointer, const json& object_schema, const parse_fn& parse,
                  const std::map<std::string, json>& context, const std::set<std::string>& no_bounds,
                  value_checks& counts) {
  const json::json_pointer at(pointer);
  auto with = [&](const std::string& key, const json& value) {
    json document = base;
    if (auto c = context.find(key); c != context.end()) {
      for (auto it = c->second.begin(); it != c->second.end(); ++it) document[at][it.key()] = it.value();
    }
    document[at][key] = value;
    return document;
  };
  auto expect_refused = [&](const std::string& key, const json& value, const char* why) {
    const auto e = parse(with(key, value));
    EXPECT_TRUE(e.has_value()) << key << " = " << value.dump() << " is accepted by the parser (" << why << ")";
    // The refusal is about this key: its path names it, or (a key that excludes another) its message does.
    if (e) {
      EXPECT_TRUE(e->path.find(key) != std::string::npos || e->message.find(key) != std::string::npos)
          << key << " = " << value.dump() << ": " << e->path << ": " << e->message;
    }
    ++counts.refused;
  };
  for (auto it = object_schema.at("properties").begin(); it != object_schema.at("properties").end(); ++it) {
    const std::string& key = it.key();
    const json& p = it.value();
    if (key == "type" || !p.contains("type") || !p["type"].is_string()) continue;
    const std::string type = p["type"];
    const json wrong = type == "string" ? json(1) : type == "array" ? json::object() : type == "object" ? json::array()
                                                                                                          : json("1");
    expect_refused(key, wrong, "a value of another JSON type");
    if (p.contains("enum")) {
      expect_refused(key, "zz_not_a_choice", "not in the enum");
      // Every choice the schema offers is one the parser takes.
      for (const json& choice : p["enum"]) {
        if (no_bounds.count(key)) break;
        const auto e = parse(with(key, choice));
        EXPECT_FALSE(e.has_value()) << key << " = " << choice.dump() << " (a choice in the schema) is refused: "
                                    << (e ? e->path + ": " + e->message : "");
        ++counts.accepted;
      }
    }
    if (type != "number" && type != "integer") continue;
    const bool whole = type == "integer";
    // Just beyond a bound: the next integer, or a millionth further (and a millionth for a bound at 0).
    auto beyond = [&](const json& bound, double sign) {
      if (whole) return json(bound.get<std::int64_t>() + static_cast<std::int64_t>(sign));
      const double b = bound.get<double>();
      return json(b + sign * (std::fabs(b) * 1e-6 + 1e-6));
    };
    for (const char* side : {"minimum", "maximum"}) {
      if (!p.contains(side)) continue;
      const double sign = std::string(side) == "minimum" ? -1.0 : 1.0;
      // The seed's maximum is 2^64 - 1: nothing lies beyond it in a JSON integer the parser reads.
      if (!(p[side].is_number_unsigned() && p[side].get<std::uint64_t>() > 9'000'000'000'000'000'000ULL)) {
        expect_refused(key, beyond(p[side], sign), side);
      }
      if (!no_bounds.count(key)) {
        const auto e = parse(with(key, p[side]));
        EXPECT_FALSE(e.has_value()) << key << " = " << p[side].dump() << " (the " << side << ") is refused: "
                                    << (e ? e->path + ": " + e->message : "");
        ++counts.accepted;
      }
    }
    for (const char* side : {"exclusiveMinimum", "exclusiveMaximum"}) {
      if (p.contains(side)) expect_refused(key, p[side], side);
    }
  }
}

// Keys another key limits (in the parser only): their bounds or choices are not all accepted on their own.
// And what a key's bounds need beside it.
const std::map<std::string, std::set<std::string>> policy_no_bounds = {
    {"retry", {"delay_ms_base", "delay_ms_max"}},                        // delay_ms_max >= delay_ms_base
    {"hedging", {"latency_samples_min", "latency_window"}},              // samples <= window
    {"router", {"health_answers_min", "health_window", "priority"}},     // the same; priority needs candidates
    {"degrade", {"answer"}},                                             // "pass" needs "rules"
    {"token_budget", {"on_exceeded"}},                                   // "downgrade" needs "downgrade_model"
};
const std::map<std::string, std::map<std::string, json>> policy_context = {
    {"cache", {{"similarity_hit_ratio", {{"match", "semantic"}}}, {"similarity_min", {{"match", "semantic"}}},
               {"embeddings_max", {{"match", "semantic"}}}, {"embedding_timeout_ms", {{"match", "semantic"}}},
               {"embedder", {{"match", "semantic"}}}}},
    {"degrade", {{"entries_max", {{"answer", "last_good"}}}}},
};

TEST(SchemaValues, EveryPolicyOptionsRangesTypesAndChoicesAreTheParsers) {
  const json schema = read_schema("policy");
  value_checks counts;
  for (const auto& registration : policy_registry()) {
    const std::string type(registration.type);
    SCOPED_TRACE(type);
    const json base = {{"policies", json::array({minimal_policy(type)})}};
    const parse_fn parse = [](const json& document) -> std::optional<config_error> {
      auto parsed = parse_pipeline(document, "$");
      if (parsed) return std::nullopt;
      return parsed.error();
    };
    const auto context = policy_context.count(type) ? policy_context.at(type) : std::map<std::string, json>{};
    const auto no_bounds = policy_no_bounds.count(type) ? policy_no_bounds.at(type) : std::set<std::string>{};
    check_values(base, "/policies/0", schema.at("definitions").at("policy_" + type), parse, context, no_bounds, counts);
  }
  // Every type has options with types and ranges: hundreds of checks, not a loop that found nothing.
  EXPECT_GT(counts.refused, 200U);
  EXPECT_GT(counts.accepted, 80U);
}

TEST(SchemaValues, ScenarioObjectsRangesTypesAndChoicesAreTheParsers) {
  const json schema = read_schema("scenario");
  struct value_case {
    bool service;
    const char* document_path;
    const char* schema_path;
    std::set<std::string> no_bounds;
  };
  const value_case cases[] = {
      // duration_s at its maximum is a month of arrivals: the parser takes it (the run limits are validate's).
      {false, "", "", {}},
      {false, "/providers/openai/capacity", "/definitions/provider/properties/capacity", {}},
      {false, "/providers/openai/rate_limits", "/definitions/provider/properties/rate_limits", {}},
      // A window must do something: latency_x and friends at 1 with no errors would not, but the base has errors.
      {false, "/providers/openai/faults/0", "/definitions/fault", {}},
      {false, "/providers/openai/faults/0/wire", "/definitions/fault/properties/wire", {}},
      {false, "/providers/openai/faults/0/content", "/definitions/fault/properties/content", {}},
      // The arrival rate at 0 everywhere sends nothing, which the parser refuses; "recorded" needs "times_s".
      {false, "/workload/arrivals", "/definitions/workload/properties/arrivals", {"rate_per_s", "process"}},
      {false, "/workload", "/definitions/workload", {}},
      {false, "/policies/wrapped/fleet", "/definitions/configuration/anyOf/2/properties/fleet", {}},
      {true, "/workload/users", "/definitions/workload/properties/users", {}},
      {true, "/service", "/definitions/service", {}},
      {true, "/service/stop", "/definitions/service/properties/stop", {}},
      {true, "/service/request", "/definitions/service/properties/request", {}},
  };
  value_checks counts;
  for (const auto& c : cases) {
    SCOPED_TRACE(c.document_path);
    const json base = c.service ? service_scenario() : policies_scenario();
    const parse_fn parse = [](const json& document) -> std::optional<config_error> {
      auto parsed = parse_scenario(document, SQUALL_SOURCE_DIR);
      if (parsed) return std::nullopt;
      return parsed.error();
    };
    check_values(base, c.document_path, schema.at(json::json_pointer(c.schema_path)), parse, {}, c.no_bounds, counts);
  }
  EXPECT_GT(counts.refused, 80U);
  EXPECT_GT(counts.accepted, 30U);
}

// Lists the schema copies from the code: the metrics an assertion may bound, the statuses and error kinds
// a fault may inject, the outcome classes a policy may name.
TEST(SchemaKeys, CopiedListsAreTheCodes) {
  const json schema = read_schema("scenario");
  std::set<std::string> bounds;
  for (const auto& m : sim::summary_metric_names()) {
    bounds.insert(m + "_min");
    bounds.insert(m + "_max");
  }
  // Beside the summary's bounds: the slowest recovery, and the bounds scoped to a named fault window.
  bounds.insert({"recovery_s_max", "during", "after"});
  const auto from_schema = property_names(schema.at("definitions").at("assertions"));
  EXPECT_EQ(bounds, from_schema) << differences(bounds, from_schema);
  std::set<std::string> window_bounds;
  for (const auto& m : sim::window_metric_names()) {
    window_bounds.insert(m + "_min");
    window_bounds.insert(m + "_max");
  }
  const auto during = property_names(schema.at("definitions").at("window_assertions"));
  EXPECT_EQ(window_bounds, during) << differences(window_bounds, during);
  window_bounds.insert("recovery_s_max");
  const auto after = property_names(schema.at("definitions").at("after_assertions"));
  EXPECT_EQ(window_bounds, after) << differences(window_bounds, after);

  std::set<std::string> injectable;
  for (int status : sim::injectable_statuses) injectable.insert(std::to_string(status));
  for (const auto& kind : sim::error_kinds) injectable.insert(std::string(kind.name));
  std::set<std::string> mix;
  const json& errors = schema.at("definitions").at("fault").at("properties").at("errors");
  for (const auto& key : errors.at("propertyNames").at("enum")) {
    mix.insert(key.get<std::string>());
  }
  EXPECT_EQ(injectable, mix) << differences(injectable, mix);

  // retry_on offers every class but ok and the permanent ones (invalid_request, auth, quota).
  std::set<std::string> retryable;
  for (std::size_t i = 0; i < outcome_class_count; ++i) {
    const auto c = static_cast<outcome_class>(i);
    if (c != outcome_class::ok && !is_permanent(c)) retryable.insert(std::string(outcome_class_names[i]));
  }
  std::set<std::string> retry_on;
  const json& retry_on_schema = schema.at("definitions").at("policy_retry").at("properties").at("retry_on");
  for (const auto& name : retry_on_schema.at("items").at("enum")) {
    retry_on.insert(name.get<std::string>());
  }
  EXPECT_EQ(retryable, retry_on) << differences(retryable, retry_on);
}

// Editors find the schema from a top-level "$schema" key; the parsers take it and ignore it, and it changes
// nothing a run does (the scenario's digest included).
TEST(SchemaKeys, DollarSchemaKeyIsAcceptedAndIgnored) {
  json plain = policies_scenario();
  json marked = plain;
  marked["$schema"] = "../docs/schema/scenario.schema.json";
  auto without = parse_scenario(plain, SQUALL_SOURCE_DIR);
  auto with = parse_scenario(marked, SQUALL_SOURCE_DIR);
  ASSERT_TRUE(without);
  ASSERT_TRUE(with) << with.error().message;
  EXPECT_EQ(with->digest, without->digest);
  marked["$schema"] = 5;
  auto wrong = parse_scenario(marked, SQUALL_SOURCE_DIR);
  ASSERT_FALSE(wrong);
  EXPECT_EQ(wrong.error().path, "$[\"$schema\"]");

  json policy_file = {{"$schema", "policy.schema.json"}, {"policies", json::array({{{"type", "retry"}}})}};
  auto pipeline = parse_pipeline(policy_file, "$");
  ASSERT_TRUE(pipeline) << pipeline.error().message;
  EXPECT_FALSE(pipeline->source.contains("$schema"));
}

}  // namespace
}  // namespace squall
