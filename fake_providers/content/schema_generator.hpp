#pragma once
// Internal to fake_providers/content: the generator behind schema_instance, shared by the files that
// implement it (schema_instance.cpp walks the schema: $ref, allOf, anyOf, types, enum; schema_values.cpp
// draws strings, numbers, arrays and objects). Not a public header.

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "fake_providers/content/schema_instance.hpp"
#include "policies/core/rng.hpp"

namespace squall::fake::content::detail {

using json = nlohmann::json;

// JSON types as bits, so that the types several schemas allow are intersected with `&`.
enum type_bit : unsigned {
  t_null = 1,
  t_boolean = 2,
  t_integer = 4,
  t_number = 8,  // "number" also admits integers: see parse_type
  t_string = 16,
  t_array = 32,
  t_object = 64,
  t_any = 127,
};

// One schema that applies to the value being drawn, and where it sits (for error messages).
struct part {
  const json* schema;
  std::string path;
};
using parts_t = std::vector<part>;

// A constraint that cannot be met here (an anyOf tries its next branch, an optional property is left out)
// or, when fatal, a schema that is broken or a limit reached (generation stops).
struct failure {
  std::string path;
  std::string message;
  bool fatal = false;
};

// The largest integer emitted: beyond 2^53 doubles (and most JSON parsers) lose integers.
constexpr double integer_limit = 9007199254740992.0;
// How many values an unbounded number or integer ranges over.
constexpr double default_span = 100.0;

inline const json& empty_schema() {
  static const json schema = json::object();
  return schema;
}

inline const json* find(const part& p, const char* key) {
  if (!p.schema->is_object()) return nullptr;
  auto it = p.schema->find(key);
  return it == p.schema->end() ? nullptr : &*it;
}

class generator {
 public:
  generator(const json& root, rng& r, const schema_limits& limits, std::string root_path)
      : root_(root), r_(r), limits_(limits), root_path_(std::move(root_path)) {}

  std::optional<json> value(parts_t parts, std::uint32_t depth);

  const failure& failed() const { return failure_; }

 private:
  std::nullopt_t fail(std::string path, std::string message, bool fatal = false) {
    if (!failure_.fatal) failure_ = {std::move(path), std::move(message), fatal};
    return std::nullopt;
  }
  std::nullopt_t fatal(std::string path, std::string message) { return fail(std::move(path), std::move(message), true); }
  bool broken() const { return failure_.fatal; }

  bool step(const std::string& path) { return charge(1, path); }
  // Work proportional to a schema's size (its properties, its enum lists) counts against steps_max too.
  bool charge(std::uint64_t steps, const std::string& path) {
    steps_ += steps;
    if (steps_ <= limits_.steps_max) return true;
    fatal(path, "the schema takes more than steps_max (" + std::to_string(limits_.steps_max) + ") steps to satisfy");
    return false;
  }

  // Replaces $ref and allOf by the schemas they name, appended to `parts` (from index `from` on), so that
  // every part left applies to the value directly.
  bool flatten(parts_t& parts, std::size_t from);

  // A local JSON pointer ("#", "#/$defs/node", "#/definitions/a~1b"), resolved from the root schema.
  const json* resolve(const json& ref, const std::string& where, std::string& path);

  // Picks a branch of the first anyOf/oneOf at or after `from`, trying the others when it fails.
  std::optional<json> choose(parts_t parts, std::uint32_t depth, std::size_t from);

  // Near the limits, only what the schema forces: no optional property, minItems, null when allowed.
  bool minimal(std::uint32_t depth) const { return depth * 2 >= limits_.depth_max || nodes_ * 2 >= limits_.nodes_max; }

  // Random first branch, the rest after it; near the limits the branches least likely to recurse first.
  std::vector<std::size_t> branch_order(const json& branches, std::uint32_t depth);

  unsigned parse_type(const json& type, const std::string& path);

  // Which keywords say what an untyped schema is about.
  static unsigned implied_type(const part& p);

  std::optional<json> leaf(const parts_t& parts, std::uint32_t depth);

  // A count keyword (minItems, maxLength, ...): a non-negative integer, or Gemini's decimal string of one.
  std::optional<std::uint64_t> count(const part& p, const char* key);

  // The largest of a lower bound and the smallest of an upper bound over all parts.
  std::uint64_t count_max(const parts_t& parts, const char* key, std::uint64_t none) {
    std::uint64_t out = none;
    for (const part& p : parts) {
      if (auto c = count(p, key)) out = std::max(out, *c);
    }
    return out;
  }
  std::uint64_t count_min(const parts_t& parts, const char* key, std::uint64_t none) {
    std::uint64_t out = none;
    for (const part& p : parts) {
      if (auto c = count(p, key)) out = std::min(out, *c);
    }
    return out;
  }

  // Whether an enum or const value keeps the other keywords' simple bounds (lengths, ranges, multipleOf,
  // item and property counts, required keys). Patterns, formats and the schemas of a structured value's
  // items and properties are not checked: a schema whose enum contradicts them asks for the impossible,
  // and the enum wins.
  bool fits(const json& candidate, const parts_t& parts);

  std::optional<json> string_value(const parts_t& parts);
  std::optional<json> number_value(const parts_t& parts, bool integer);
  std::optional<json> array_value(const parts_t& parts, std::uint32_t depth);
  std::optional<json> object_value(const parts_t& parts, std::uint32_t depth);

  const json& root_;
  rng& r_;
  const schema_limits& limits_;
  std::string root_path_;
  const json* unique_items_ = nullptr;  // the items so far of a uniqueItems array, while drawing the next
  std::uint32_t unique_depth_ = 0;
  std::uint64_t steps_ = 0;
  std::uint64_t nodes_ = 0;
  failure failure_;
};

}  // namespace squall::fake::content::detail
