#pragma once
// "What the model says" when a request asks for structured output: a JSON value valid against a JSON
// schema, drawn from an injected rng so that the same seed gives the same value. API-neutral: the wire
// code of each provider (OpenAI response_format / text.format / tool parameters, Anthropic input_schema,
// Gemini responseSchema / functionDeclarations) hands the schema over as JSON and serialises the result.
//
// The schemas come from untrusted request bodies, so generation is bounded by `schema_limits`: a hostile
// schema (deep nesting, a huge minItems, a $ref cycle, wrong types) yields an error value, never a crash,
// unbounded recursion or unbounded memory. When the generator cannot honour a constraint (an unsupported
// pattern, contradictory bounds) it says so in the error rather than emit an instance that is not valid.
//
// Supported: type (names and arrays of names; Gemini's upper-case names and `nullable`), enum, const,
// properties, required, additionalProperties, minProperties/maxProperties, items, prefixItems (and the
// older array form of items), minItems/maxItems, uniqueItems, minLength/maxLength, pattern (a regex
// subset: literals, classes, groups with |, quantifiers), format (date-time, date, time, email, uuid,
// uri, hostname, ipv4, ipv6), minimum/maximum/exclusiveMinimum/exclusiveMaximum (numbers and draft-4
// booleans), multipleOf, anyOf/oneOf (one branch chosen), allOf and $ref siblings (the parts taken
// together), $ref to local JSON pointers ("#", "#/$defs/x", "#/definitions/x"), boolean schemas.
// Counts may be JSON numbers or decimal strings (Gemini sends int64 fields as strings).
// Annotations are ignored (title, description, default, examples, Gemini's propertyOrdering). So are a few
// rare assertions, which an instance may then break: not, contains, patternProperties, propertyNames,
// dependentRequired, if/then/else. Known limits: oneOf is drawn like anyOf, so branches that overlap (two
// that both admit null) can give a value matching several; an enum or const value is checked against the
// types, lengths, bounds, counts and required keys beside it, not against a pattern or format, nor (for an
// array or object value) against the items or properties schemas beside it.

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

#include <nlohmann/json.hpp>

#include "policies/core/rng.hpp"

namespace squall::fake::content {

struct schema_limits {
  // Nesting of arrays and objects in the instance. Past half of it (or past half of nodes_max) the
  // generator only takes what the schema forces (required properties, minItems, null where allowed, the
  // anyOf branches least likely to recurse first), so recursive schemas end. The default value is 24.
  std::uint32_t depth_max = 24;
  // Values in the instance (each string, number, object, ... counts one). The default value is 1000.
  std::uint32_t nodes_max = 1000;
  // Schema visits, counting the branches tried and abandoned: bounds the time a schema full of anyOf
  // that cannot be satisfied may take. The default value is 20000.
  std::uint32_t steps_max = 20000;
  // Characters in a generated string; a minLength above it is an error. The default value is 200.
  std::uint32_t string_length_max = 200;
  // Characters in a `pattern`; a longer one is refused. The default value is 256.
  std::uint32_t pattern_length_max = 256;
  // Schemas applying to one value at once (allOf parts, $ref targets, chosen anyOf branches): bounds a
  // chain of $ref that never reaches a value. The default value is 64.
  std::uint32_t parts_max = 64;
};

// Where in the schema (a JSON path such as "$.properties.steps.items", under the root path given) and
// what could not be satisfied or was not a schema.
struct schema_error {
  std::string path;
  std::string message;

  std::string describe() const { return path.empty() ? message : path + ": " + message; }
};

// An instance, or the error that prevented one.
class instance_result {
 public:
  instance_result(nlohmann::json value) : state_(std::move(value)) {}  // NOLINT: implicit, like expected
  instance_result(schema_error error) : state_(std::move(error)) {}    // NOLINT

  bool ok() const noexcept { return state_.index() == 0; }
  explicit operator bool() const noexcept { return ok(); }
  const nlohmann::json& value() const& { return std::get<0>(state_); }
  nlohmann::json&& value() && { return std::get<0>(std::move(state_)); }
  const schema_error& error() const& { return std::get<1>(state_); }

 private:
  std::variant<nlohmann::json, schema_error> state_;
};

// A value valid against `schema`, deterministic in `r`. Required properties are always present, optional
// ones sometimes; arrays get a few items beyond minItems near the top and none deeper down; strings are
// short words from a small vocabulary unless a format or pattern says otherwise. `root_path` prefixes
// the paths in errors, so that the wire code can name where the schema sits in the request body
// ("$.response_format.json_schema.schema").
instance_result schema_instance(const nlohmann::json& schema, rng& r, const schema_limits& limits,
                                std::string_view root_path = "$");

// The same, but the value must be an object: tool arguments are one (OpenAI's `arguments`, Anthropic's
// `input`, Gemini's `args`), and a tool declared without parameters, or with `{}`, is called with `{}`.
instance_result object_instance(const nlohmann::json& schema, rng& r, const schema_limits& limits,
                                std::string_view root_path = "$");

}  // namespace squall::fake::content
