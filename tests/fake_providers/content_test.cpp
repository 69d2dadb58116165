// The fake model's content: schema instances (fake_providers/content/schema_instance) and tool-call
// answers (fake_providers/content/answer_content). A real validator checks a corpus of schemas in
// content/validate.py; these tests pin each feature, the limits and the answer rule.

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <regex>
#include <set>
#include <string>

#include <nlohmann/json.hpp>

#include "fake_providers/content/answer_content.hpp"
#include "fake_providers/content/schema_instance.hpp"
#include "fake_providers/content/schema_strings.hpp"

namespace squall::fake::content {
namespace {

using nlohmann::json;

json instance(const json& schema, std::uint64_t seed, const schema_limits& limits = {}) {
  rng r(seed);
  instance_result result = schema_instance(schema, r, limits);
  EXPECT_TRUE(result.ok()) << "seed " << seed << ": " << (result.ok() ? "" : result.error().describe());
  return result.ok() ? result.value() : json();
}

schema_error refusal(const json& schema, const schema_limits& limits = {}, std::string_view root = "$") {
  rng r(1);
  instance_result result = schema_instance(schema, r, limits, root);
  EXPECT_FALSE(result.ok()) << "accepted: " << (result.ok() ? result.value().dump() : "");
  return result.ok() ? schema_error{} : result.error();
}

std::size_t nodes(const json& v) {
  std::size_t n = 1;
  if (v.is_structured()) {
    for (const json& child : v) n += nodes(child);
  }
  return n;
}

std::size_t depth(const json& v) {
  std::size_t d = 0;
  if (v.is_structured()) {
    for (const json& child : v) d = std::max(d, depth(child));
    return d + 1;
  }
  return 0;
}

const json ui_component = json::parse(R"({
  "type": "object",
  "properties": {
    "type": {"type": "string", "enum": ["div", "button", "header", "section", "field", "form"]},
    "label": {"type": "string"},
    "children": {"type": "array", "items": {"$ref": "#"}},
    "attributes": {"type": "array", "items": {"type": "object",
      "properties": {"name": {"type": "string"}, "value": {"type": "string"}},
      "required": ["name", "value"], "additionalProperties": false}}},
  "required": ["type", "label", "children", "attributes"], "additionalProperties": false})");

TEST(SchemaInstance, SameSeedSameInstanceOtherSeedsDiffer) {
  std::set<std::string> seen;
  for (std::uint64_t seed = 1; seed <= 20; ++seed) {
    const json a = instance(ui_component, seed);
    EXPECT_EQ(a, instance(ui_component, seed));
    seen.insert(a.dump());
  }
  EXPECT_GT(seen.size(), 15U);
}

TEST(SchemaInstance, RequiredAlwaysOptionalSometimesNothingElseWhenClosed) {
  const json schema = json::parse(R"({"type": "object",
    "properties": {"id": {"type": "integer"}, "note": {"type": "string"}, "tags": {"type": "array"}},
    "required": ["id"], "additionalProperties": false})");
  int with_note = 0;
  for (std::uint64_t seed = 1; seed <= 60; ++seed) {
    const json v = instance(schema, seed);
    ASSERT_TRUE(v.is_object());
    EXPECT_TRUE(v.contains("id"));
    EXPECT_TRUE(v["id"].is_number_integer());
    for (const auto& [key, _] : v.items()) EXPECT_TRUE(key == "id" || key == "note" || key == "tags") << key;
    with_note += v.contains("note") ? 1 : 0;
  }
  EXPECT_GT(with_note, 10);
  EXPECT_LT(with_note, 50);
}

TEST(SchemaInstance, EveryTypeAndTypeArrays) {
  EXPECT_TRUE(instance(json{{"type", "string"}}, 1).is_string());
  EXPECT_TRUE(instance(json{{"type", "integer"}}, 1).is_number_integer());
  EXPECT_TRUE(instance(json{{"type", "number"}}, 1).is_number());
  EXPECT_TRUE(instance(json{{"type", "boolean"}}, 1).is_boolean());
  EXPECT_TRUE(instance(json{{"type", "null"}}, 1).is_null());
  EXPECT_TRUE(instance(json{{"type", "object"}}, 1).is_object());
  EXPECT_TRUE(instance(json{{"type", "array"}}, 1).is_array());
  std::set<json::value_t> kinds;
  for (std::uint64_t seed = 1; seed <= 40; ++seed) {
    const json v = instance(json::parse(R"({"type": ["string", "null"]})"), seed);
    EXPECT_TRUE(v.is_string() || v.is_null());
    kinds.insert(v.type());
  }
  EXPECT_EQ(kinds.size(), 2U);
}

TEST(SchemaInstance, GeminiUpperCaseTypesNullableAndCountsAsStrings) {
  const json schema = json::parse(R"({"type": "ARRAY", "minItems": "2", "maxItems": "2",
    "items": {"type": "OBJECT", "properties": {"n": {"type": "INTEGER", "nullable": true, "minimum": 3, "maximum": 3},
                                               "s": {"type": "STRING", "maxLength": "4"}},
              "required": ["n", "s"]}})");
  std::set<std::string> n_kinds;
  for (std::uint64_t seed = 1; seed <= 30; ++seed) {
    const json v = instance(schema, seed);
    ASSERT_EQ(v.size(), 2U);
    for (const json& item : v) {
      EXPECT_TRUE(item["n"].is_null() || item["n"] == 3);
      n_kinds.insert(item["n"].type_name());
      EXPECT_LE(item["s"].get<std::string>().size(), 4U);
    }
  }
  EXPECT_EQ(n_kinds.size(), 2U);
}

TEST(SchemaInstance, EnumConstAndTheirIntersectionWithTypes) {
  const json colours = json::parse(R"({"enum": ["red", "green", 3, null], "type": "string"})");
  std::set<std::string> seen;
  for (std::uint64_t seed = 1; seed <= 30; ++seed) seen.insert(instance(colours, seed).get<std::string>());
  EXPECT_EQ(seen, (std::set<std::string>{"red", "green"}));
  EXPECT_EQ(instance(json::parse(R"({"const": {"a": [1, 2]}})"), 5), json::parse(R"({"a": [1, 2]})"));
  EXPECT_EQ(instance(json::parse(R"({"allOf": [{"enum": [1, 2, 3]}, {"enum": [3, 4]}]})"), 2), 3);
  EXPECT_NE(refusal(json::parse(R"({"enum": ["a"], "type": "integer"})")).message.find("enum"), std::string::npos);
}

TEST(SchemaInstance, AnyOfOneOfAllOfAndRefSiblings) {
  const json schema = json::parse(R"({
    "$defs": {"base": {"type": "object", "properties": {"id": {"type": "integer", "minimum": 1, "maximum": 9}}, "required": ["id"]}},
    "type": "object",
    "properties": {
      "either": {"anyOf": [{"type": "string", "maxLength": 3}, {"type": "boolean"}]},
      "shape": {"oneOf": [{"properties": {"kind": {"const": "circle"}}, "required": ["kind"]},
                          {"properties": {"kind": {"const": "square"}}, "required": ["kind"]}]},
      "both": {"allOf": [{"$ref": "#/$defs/base"}, {"properties": {"tag": {"const": "x"}}, "required": ["tag"]}]},
      "short": {"$ref": "#/definitions/word", "maxLength": 4}},
    "definitions": {"word": {"type": "string", "minLength": 2}},
    "required": ["either", "shape", "both", "short"]})");
  std::set<std::string> either_kinds, shapes;
  for (std::uint64_t seed = 1; seed <= 40; ++seed) {
    const json v = instance(schema, seed);
    either_kinds.insert(v["either"].type_name());
    if (v["either"].is_string()) {
      EXPECT_LE(v["either"].get<std::string>().size(), 3U);
    }
    shapes.insert(v["shape"]["kind"].get<std::string>());
    EXPECT_GE(v["both"]["id"].get<int>(), 1);
    EXPECT_LE(v["both"]["id"].get<int>(), 9);
    EXPECT_EQ(v["both"]["tag"], "x");
    const std::size_t length = v["short"].get<std::string>().size();
    EXPECT_GE(length, 2U);
    EXPECT_LE(length, 4U);
  }
  EXPECT_EQ(either_kinds, (std::set<std::string>{"string", "boolean"}));
  EXPECT_EQ(shapes, (std::set<std::string>{"circle", "square"}));
}

TEST(SchemaInstance, RecursiveRefsEndWithinTheDepthLimit) {
  const json list = json::parse(R"({"$defs": {"node": {"type": "object",
      "properties": {"value": {"type": "number"}, "next": {"anyOf": [{"$ref": "#/$defs/node"}, {"type": "null"}]}},
      "required": ["value", "next"], "additionalProperties": false}},
    "$ref": "#/$defs/node"})");
  const schema_limits limits;
  std::size_t deepest = 0;
  for (std::uint64_t seed = 1; seed <= 50; ++seed) {
    const json ui = instance(ui_component, seed);
    EXPECT_LE(depth(ui), limits.depth_max);
    const json l = instance(list, seed);
    EXPECT_LE(depth(l), limits.depth_max);
    deepest = std::max(deepest, depth(l));
  }
  EXPECT_GT(deepest, 2U);  // the recursive branch is taken too, not only the null one
  // With a low limit the generator still finds the terminating branch.
  schema_limits shallow;
  shallow.depth_max = 4;
  for (std::uint64_t seed = 1; seed <= 20; ++seed) EXPECT_LE(depth(instance(list, seed, shallow)), 4U);
}

TEST(SchemaInstance, ArraysItemsPrefixItemsCountsAndUniqueness) {
  const json schema = json::parse(R"({"type": "object", "properties": {
      "pair": {"type": "array", "prefixItems": [{"type": "string"}, {"type": "integer"}], "items": false, "minItems": 2},
      "old_pair": {"type": "array", "items": [{"type": "boolean"}], "additionalItems": false},
      "few": {"type": "array", "items": {"type": "integer"}, "minItems": 4, "maxItems": 5},
      "distinct": {"type": "array", "items": {"enum": [1, 2, 3]}, "minItems": 3, "uniqueItems": true}},
    "required": ["pair", "old_pair", "few", "distinct"]})");
  for (std::uint64_t seed = 1; seed <= 40; ++seed) {
    const json v = instance(schema, seed);
    ASSERT_EQ(v["pair"].size(), 2U);
    EXPECT_TRUE(v["pair"][0].is_string());
    EXPECT_TRUE(v["pair"][1].is_number_integer());
    EXPECT_LE(v["old_pair"].size(), 1U);
    EXPECT_GE(v["few"].size(), 4U);
    EXPECT_LE(v["few"].size(), 5U);
    EXPECT_EQ(std::set<int>(v["distinct"].begin(), v["distinct"].end()).size(), 3U);
  }
}

TEST(SchemaInstance, StringLengthsAndWords) {
  const std::regex words("[a-z ]+");
  for (std::uint64_t seed = 1; seed <= 30; ++seed) {
    const std::string s = instance(json::parse(R"({"type": "string", "minLength": 30, "maxLength": 35})"), seed);
    EXPECT_GE(s.size(), 30U);
    EXPECT_LE(s.size(), 35U);
    EXPECT_TRUE(std::regex_match(s, words)) << s;
    EXPECT_EQ(instance(json::parse(R"({"type": "string", "minLength": 7, "maxLength": 7})"), seed).get<std::string>().size(), 7U);
  }
  EXPECT_EQ(instance(json::parse(R"({"type": "string", "maxLength": 0})"), 1), "");
}

TEST(SchemaInstance, NumberBoundsExclusiveAndMultipleOf) {
  const json schema = json::parse(R"({"type": "object", "properties": {
      "i": {"type": "integer", "exclusiveMinimum": 3, "exclusiveMaximum": 5},
      "m": {"type": "integer", "multipleOf": 7, "minimum": 10, "maximum": 30},
      "x": {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1},
      "q": {"type": "number", "multipleOf": 0.25},
      "d4": {"type": "integer", "minimum": 1, "exclusiveMinimum": true, "maximum": 3, "exclusiveMaximum": true},
      "big": {"type": "integer", "minimum": 1e15}},
    "required": ["i", "m", "x", "q", "d4", "big"]})");
  for (std::uint64_t seed = 1; seed <= 40; ++seed) {
    const json v = instance(schema, seed);
    EXPECT_EQ(v["i"], 4);
    EXPECT_TRUE(v["m"] == 14 || v["m"] == 21 || v["m"] == 28) << v["m"];
    EXPECT_GT(v["x"].get<double>(), 0.0);
    EXPECT_LT(v["x"].get<double>(), 1.0);
    const double q = v["q"].get<double>() / 0.25;
    EXPECT_EQ(q, static_cast<double>(static_cast<std::int64_t>(q)));
    EXPECT_EQ(v["d4"], 2);
    EXPECT_GE(v["big"].get<std::int64_t>(), 1000000000000000);
  }
  EXPECT_FALSE(refusal(json::parse(R"({"type": "integer", "minimum": 5, "maximum": 4})")).message.empty());
  EXPECT_FALSE(refusal(json::parse(R"({"type": "integer", "multipleOf": 10, "minimum": 1, "maximum": 9})")).message.empty());
  // Quotients beyond what a double holds exactly, and bounds at the ends of the doubles.
  EXPECT_FALSE(refusal(json::parse(R"({"type": "number", "multipleOf": 1e-300, "minimum": -1e300, "maximum": 1e300})"))
                   .message.empty());
  const double wide = instance(json::parse(R"({"type": "number", "minimum": -1.7e308, "maximum": 1.7e308})"), 3);
  EXPECT_TRUE(std::isfinite(wide));
  EXPECT_FALSE(refusal(json::parse(R"({"type": "integer", "minimum": 1e300})")).message.empty());
}

TEST(SchemaInstance, Formats) {
  const json schema = json::parse(R"({"type": "object", "properties": {
      "dt": {"type": "string", "format": "date-time"}, "d": {"type": "string", "format": "date"},
      "t": {"type": "string", "format": "time"}, "e": {"type": "string", "format": "email"},
      "u": {"type": "string", "format": "uuid"}, "uri": {"type": "string", "format": "uri"},
      "ip": {"type": "string", "format": "ipv4"}},
    "required": ["dt", "d", "t", "e", "u", "uri", "ip"]})");
  // Built once: std::regex construction dominates this test under the sanitizers.
  const std::regex ip(R"((\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3}))");
  const std::regex date_time(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ)");
  const std::regex date(R"(\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d))");
  const std::regex time(R"(([01]\d|2[0-3]):[0-5]\d:[0-5]\dZ)");
  const std::regex email(R"([a-z]+\.[a-z]+@example\.com)");
  const std::regex uuid("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}");
  const std::regex uri(R"(https://example\.com/[a-z]+/[a-z]+)");
  for (std::uint64_t seed = 1; seed <= 30; ++seed) {
    const json v = instance(schema, seed);
    EXPECT_TRUE(std::regex_match(v["dt"].get<std::string>(), date_time));
    EXPECT_TRUE(std::regex_match(v["d"].get<std::string>(), date));
    EXPECT_TRUE(std::regex_match(v["t"].get<std::string>(), time));
    EXPECT_TRUE(std::regex_match(v["e"].get<std::string>(), email));
    EXPECT_TRUE(std::regex_match(v["u"].get<std::string>(), uuid));
    EXPECT_TRUE(std::regex_match(v["uri"].get<std::string>(), uri));
    std::smatch m;
    const std::string address = v["ip"].get<std::string>();
    ASSERT_TRUE(std::regex_match(address, m, ip)) << address;
    for (std::size_t i = 1; i <= 4; ++i) EXPECT_LE(std::stoi(m[i]), 255);
  }
}

TEST(SchemaInstance, PatternsOfTheSimpleShapesMatch) {
  // std::regex is ECMAScript, the dialect JSON Schema names for `pattern`.
  for (const char* pattern : {"^[A-Z]{3}-[0-9]{4}$", R"(^\d{3}-\d{2}-\d{4}$)", "^(foo|bar)+_[a-z]{2,5}$",
                              R"(^[^@\s]+@[a-z]+\.com$)", "^#[0-9a-fA-F]{6}$", R"(^\+?[0-9]{7,12}$)",
                              R"(^v\d+\.\d+(\.\d+)?(?:-[a-z]+)?$)", "ab*c", R"(^[\w.-]+$)", "^$",
                              R"(^[A-Za-z0-9._%+-]+@[a-z0-9.-]+\.[a-z]{2,}$)", R"(^\$\d+(\.\d\d)?$)"}) {
    const std::regex compiled(pattern);
    for (std::uint64_t seed = 1; seed <= 20; ++seed) {
      const std::string s = instance(json{{"type", "string"}, {"pattern", pattern}}, seed);
      EXPECT_TRUE(std::regex_search(s, compiled)) << pattern << " gave " << s;
    }
  }
}

TEST(SchemaInstance, PatternsItCannotHonourAreRefusedByName) {
  for (const char* pattern : {R"(^(a)\1$)", "^(?=a)a$", R"(\bword\b)", "a^b", "[z-a]", "(unclosed", "a{2,1}",
                              "x{5000}", "caf\xc3\xa9"}) {
    const schema_error error = refusal(json{{"type", "string"}, {"pattern", pattern}}, {}, "$.response_format.schema");
    EXPECT_EQ(error.path, "$.response_format.schema.pattern") << pattern;
    EXPECT_NE(error.message.find("pattern"), std::string::npos) << error.message;
  }
  // A pattern whose shortest match passes string_length_max.
  EXPECT_NE(refusal(json{{"type", "string"}, {"pattern", "^a{300}$"}}).message.find("longer than"), std::string::npos);
}

TEST(SchemaInstance, MapsAndPropertyCounts) {
  const json map = json::parse(R"({"type": "object", "additionalProperties": {"type": "integer", "minimum": 0},
                                   "minProperties": 2, "maxProperties": 3})");
  for (std::uint64_t seed = 1; seed <= 20; ++seed) {
    const json v = instance(map, seed);
    EXPECT_GE(v.size(), 2U);
    EXPECT_LE(v.size(), 3U);
    for (const json& n : v) EXPECT_GE(n.get<int>(), 0);
  }
  const json closed = json::parse(R"({"type": "object", "properties": {"a": {}}, "required": ["a", "b"],
                                      "additionalProperties": false})");
  EXPECT_NE(refusal(closed).message.find("b"), std::string::npos);
}

// Found by a random-schema run against python3-jsonschema: an allOf part's additionalProperties applies to
// a property that only another part names.
TEST(SchemaInstance, AdditionalPropertiesOfOnePartConstrainPropertiesOfAnother) {
  const json schema = json::parse(R"({"allOf": [
      {"type": "object", "properties": {"next": {"type": ["integer", "null"]}}, "required": ["next"]},
      {"type": "object", "properties": {"id": {"type": "string"}}, "additionalProperties": {"type": "null"}}]})");
  for (std::uint64_t seed = 1; seed <= 20; ++seed) EXPECT_TRUE(instance(schema, seed)["next"].is_null());
}

// Found the same way: enum and const values must keep the bounds that apply beside them.
TEST(SchemaInstance, EnumValuesKeepTheOtherBounds) {
  const json schema = json::parse(R"({"type": "object", "properties": {
      "s": {"allOf": [{"enum": ["a", "abcd", "abcdefgh"]}, {"minLength": 2, "maxLength": 5}]},
      "n": {"enum": [1, 5, 10, 15], "minimum": 5, "exclusiveMaximum": 15, "multipleOf": 5},
      "o": {"enum": [{"a": 1}, {"b": 2}], "required": ["b"]}},
    "required": ["s", "n", "o"]})");
  for (std::uint64_t seed = 1; seed <= 20; ++seed) {
    const json v = instance(schema, seed);
    EXPECT_EQ(v["s"], "abcd");
    EXPECT_TRUE(v["n"] == 5 || v["n"] == 10) << v["n"];
    EXPECT_EQ(v["o"], json::parse(R"({"b": 2})"));
  }
}

TEST(SchemaInstance, BooleanAndEmptySchemas) {
  const json schema = json::parse(R"({"type": "object", "properties": {"never": false, "always": true},
                                      "required": ["always"]})");
  for (std::uint64_t seed = 1; seed <= 20; ++seed) EXPECT_FALSE(instance(schema, seed).contains("never"));
  EXPECT_TRUE(instance(json::object(), 1).is_string());
  EXPECT_TRUE(instance(json(true), 1).is_string());
  EXPECT_FALSE(refusal(json(false)).message.empty());
}

// --- hostile schemas: an error value or a bounded instance, fast, never a crash --------------------------

TEST(SchemaInstanceHostile, DeepNestingStopsAtDepthMax) {
  json schema;
  json* at = &schema;
  for (int i = 0; i < 3000; ++i) {
    *at = {{"type", "array"}, {"minItems", 1}};
    at = &(*at)["items"];
  }
  *at = {{"type", "integer"}};
  const schema_error error = refusal(schema);
  EXPECT_NE(error.message.find("depth_max"), std::string::npos) << error.describe();
}

TEST(SchemaInstanceHostile, HugeCountsAreRefusedBeforeAnyAllocation) {
  EXPECT_NE(refusal(json::parse(R"({"type": "array", "minItems": 1000000000})")).message.find("minItems"), std::string::npos);
  EXPECT_NE(refusal(json::parse(R"({"type": "array", "minItems": 1e300})")).message.find("minItems"), std::string::npos);
  EXPECT_NE(refusal(json::parse(R"({"type": "object", "minProperties": "99999999"})")).message.find("minProperties"),
            std::string::npos);
  EXPECT_NE(refusal(json::parse(R"({"type": "string", "minLength": 100000000})")).message.find("string_length_max"),
            std::string::npos);
  // Each count is small, their product is not: the nodes limit stops it.
  const json wide = json::parse(R"({"type": "array", "minItems": 200, "items": {"type": "array", "minItems": 200}})");
  EXPECT_NE(refusal(wide).message.find("nodes_max"), std::string::npos);
}

TEST(SchemaInstanceHostile, RefCyclesAndUnsatisfiableRecursion) {
  EXPECT_NE(refusal(json::parse(R"({"$ref": "#"})")).message.find("parts_max"), std::string::npos);
  EXPECT_FALSE(refusal(json::parse(R"({"$defs": {"a": {"$ref": "#/$defs/b"}, "b": {"allOf": [{"$ref": "#/$defs/a"}]}},
                                       "$ref": "#/$defs/a"})")).message.empty());
  EXPECT_NE(refusal(json::parse(R"({"type": "object", "properties": {"next": {"$ref": "#"}}, "required": ["next"]})"))
                .message.find("depth_max"),
            std::string::npos);
  // A tree that must branch twice at every level, under two equivalent branches: backtracking is bounded.
  const json bushy = json::parse(R"({"$defs": {"n": {"anyOf": [
      {"type": "array", "items": {"$ref": "#/$defs/n"}, "minItems": 2},
      {"type": "array", "items": {"$ref": "#/$defs/n"}, "minItems": 2}]}}, "$ref": "#/$defs/n"})");
  const schema_error error = refusal(bushy);
  EXPECT_TRUE(error.message.find("nodes_max") != std::string::npos || error.message.find("steps_max") != std::string::npos)
      << error.describe();
}

TEST(SchemaInstanceHostile, WrongTypesNameTheirPath) {
  const std::pair<const char*, const char*> cases[] = {
      {R"({"type": 5})", "$.type"},
      {R"({"type": "strang"})", "$.type"},
      {R"({"type": "object", "properties": [1]})", "$.properties"},
      {R"({"type": "object", "required": "id"})", "$.required"},
      {R"({"enum": {"a": 1}})", "$.enum"},
      {R"({"anyOf": []})", "$.anyOf"},
      {R"({"allOf": {}})", "$.allOf"},
      {R"({"$ref": 3})", "$.$ref"},
      {R"({"$ref": "https://example.com/schema.json"})", "$.$ref"},
      {R"({"$ref": "#/$defs/missing"})", "$.$ref"},
      {R"({"type": "string", "minLength": -1})", "$.minLength"},
      {R"({"type": "array", "maxItems": "many"})", "$.maxItems"},
      {R"({"type": "integer", "minimum": "zero"})", "$.minimum"},
      {R"({"type": "number", "multipleOf": 0})", "$.multipleOf"},
      {R"({"type": "object", "properties": {"a": 7}, "required": ["a"]})", "$.properties.a"},
      {R"({"type": "string", "pattern": ["x"]})", "$.pattern"},
  };
  for (const auto& [schema, path] : cases) {
    const schema_error error = refusal(json::parse(schema));
    EXPECT_EQ(error.path, path) << schema << " -> " << error.describe();
  }
}

TEST(SchemaInstanceHostile, InstancesStayWithinTheLimits) {
  schema_limits limits;
  limits.nodes_max = 50;
  limits.depth_max = 6;
  limits.string_length_max = 10;
  for (std::uint64_t seed = 1; seed <= 30; ++seed) {
    const json v = instance(ui_component, seed, limits);
    EXPECT_LE(nodes(v), 50U);
    EXPECT_LE(depth(v), 6U);
    EXPECT_LE(v["label"].get<std::string>().size(), 10U);
  }
}

// --- answers: tool calls, text, JSON ---------------------------------------------------------------------

answer_request two_tools() {
  answer_request request;
  request.tools.push_back({"get_weather", json::parse(R"({"type": "object",
      "properties": {"city": {"type": "string"}, "units": {"enum": ["c", "f"]}}, "required": ["city", "units"],
      "additionalProperties": false})"), "$.tools[0].function.parameters"});
  request.tools.push_back({"now", json(), "$.tools[1].function.parameters"});
  return request;
}

answer_content answered(const answer_request& request, std::uint64_t seed) {
  rng r(seed);
  answer_result result = answer(request, r);
  EXPECT_TRUE(result.ok()) << (result.ok() ? "" : result.error().describe());
  return result.ok() ? result.value() : answer_content{};
}

TEST(AnswerContent, AutoCallsAToolUntilTheLastTurnIsAToolResult) {
  answer_request request = two_tools();
  std::set<std::string> called;
  for (std::uint64_t seed = 1; seed <= 20; ++seed) {
    const answer_content a = answered(request, seed);
    ASSERT_EQ(a.kind, answer_kind::tool_calls);
    ASSERT_EQ(a.tool_calls.size(), 1U);
    called.insert(a.tool_calls[0].name);
    EXPECT_TRUE(std::regex_match(a.tool_calls[0].id, std::regex("call_[A-Za-z0-9]{24}"))) << a.tool_calls[0].id;
    const json arguments = json::parse(a.tool_calls[0].arguments_json);
    EXPECT_TRUE(arguments.is_object());
    EXPECT_EQ(a.tool_calls[0].arguments_json, arguments.dump());  // compact
    if (a.tool_calls[0].name == "now") {
      EXPECT_EQ(a.tool_calls[0].arguments_json, "{}");
    } else {
      EXPECT_TRUE(arguments["city"].is_string());
    }
  }
  EXPECT_EQ(called, (std::set<std::string>{"get_weather", "now"}));
  request.last_turn_is_tool_result = true;
  EXPECT_EQ(answered(request, 1).kind, answer_kind::text);
  request.format = {output_kind::json_schema, json::parse(R"({"type": "object", "properties": {"temp": {"type": "number"}},
                                                            "required": ["temp"]})")};
  const answer_content final_answer = answered(request, 1);
  ASSERT_EQ(final_answer.kind, answer_kind::json);
  EXPECT_TRUE(json::parse(final_answer.json_text)["temp"].is_number());
}

TEST(AnswerContent, RequiredNamedAndNone) {
  answer_request request = two_tools();
  request.last_turn_is_tool_result = true;
  request.choice.mode = tool_choice_mode::required;
  EXPECT_EQ(answered(request, 1).kind, answer_kind::tool_calls);
  request.choice = {tool_choice_mode::named, "get_weather"};
  for (std::uint64_t seed = 1; seed <= 10; ++seed) EXPECT_EQ(answered(request, seed).tool_calls.at(0).name, "get_weather");
  request.last_turn_is_tool_result = false;
  request.choice.mode = tool_choice_mode::none;
  EXPECT_EQ(answered(request, 1).kind, answer_kind::text);
  request.id_prefix = "toolu_";
  request.choice.mode = tool_choice_mode::automatic;
  EXPECT_EQ(answered(request, 1).tool_calls.at(0).id.rfind("toolu_", 0), 0U);
}

TEST(AnswerContent, RefusesWhatCannotBeAnswered) {
  answer_request request = two_tools();
  request.choice = {tool_choice_mode::named, "missing"};
  rng r(1);
  EXPECT_NE(answer(request, r).error().message.find("missing"), std::string::npos);
  answer_request no_tools;
  no_tools.choice.mode = tool_choice_mode::required;
  EXPECT_FALSE(answer(no_tools, r).ok());
  request.choice = {tool_choice_mode::named, "now"};
  request.tools[1].parameters = json::parse(R"({"type": "object", "properties": {"x": {"type": "strang"}}, "required": ["x"]})");
  const answer_result broken = answer(request, r);
  ASSERT_FALSE(broken.ok());
  EXPECT_EQ(broken.error().path, "$.tools[1].function.parameters.properties.x.type");
}

TEST(AnswerContent, JsonObjectAndDeterminism) {
  answer_request request;
  request.format.kind = output_kind::json_object;
  const answer_content a = answered(request, 4);
  ASSERT_EQ(a.kind, answer_kind::json);
  const json object = json::parse(a.json_text);
  EXPECT_TRUE(object["answer"].is_string());
  EXPECT_EQ(a.json_text, answered(request, 4).json_text);
  const answer_request tools = two_tools();
  EXPECT_EQ(answered(tools, 9).tool_calls.at(0).arguments_json, answered(tools, 9).tool_calls.at(0).arguments_json);
  EXPECT_EQ(answered(tools, 9).tool_calls.at(0).id, answered(tools, 9).tool_calls.at(0).id);
}

TEST(SchemaStrings, WordsBetweenKeepsItsBounds) {
  rng r(2);
  for (std::uint32_t lo = 0; lo < 40; lo += 3) {
    for (std::uint32_t hi = lo; hi < lo + 12; ++hi) {
      const std::string s = words_between(r, lo, hi);
      EXPECT_GE(s.size(), lo);
      EXPECT_LE(s.size(), hi);
    }
  }
}

}  // namespace
}  // namespace squall::fake::content
