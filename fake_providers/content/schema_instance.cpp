#include "fake_providers/content/schema_instance.hpp"

#include <algorithm>
#include <cmath>
#include <utility>

#include "fake_providers/content/schema_generator.hpp"

namespace squall::fake::content {

namespace detail {

namespace {

// The type bits of a value, for enum and const candidates.
unsigned type_of(const json& v) {
  switch (v.type()) {
    case json::value_t::null: return t_null;
    case json::value_t::boolean: return t_boolean;
    case json::value_t::number_integer:
    case json::value_t::number_unsigned: return t_integer | t_number;
    case json::value_t::number_float: {
      const double d = v.get<double>();
      return std::floor(d) == d ? t_integer | t_number : t_number;
    }
    case json::value_t::string: return t_string;
    case json::value_t::array: return t_array;
    case json::value_t::object: return t_object;
    default: return 0;
  }
}

}  // namespace

std::optional<json> generator::value(parts_t parts, std::uint32_t depth) {
  if (depth > limits_.depth_max) {
    return fail(parts.front().path, "nesting deeper than depth_max (" + std::to_string(limits_.depth_max) + ")");
  }
  if (!flatten(parts, 0)) return std::nullopt;
  return choose(std::move(parts), depth, 0);
}

// Replaces $ref and allOf by the schemas they name, appended to `parts` (from index `from` on), so that
// every part left applies to the value directly.
bool generator::flatten(parts_t& parts, std::size_t from) {
  for (std::size_t i = from; i < parts.size(); ++i) {
    if (!step(parts[i].path)) return false;
    if (parts.size() > limits_.parts_max) {
      fail(parts[i].path, "more than parts_max (" + std::to_string(limits_.parts_max) +
                              ") schemas apply to one value (a $ref cycle that never reaches a value?)");
      return false;
    }
    const json& schema = *parts[i].schema;
    if (schema.is_boolean()) {
      if (!schema.get<bool>()) {
        fail(parts[i].path, "the schema false admits no value");
        return false;
      }
      continue;
    }
    if (!schema.is_object()) {
      fatal(parts[i].path, "expected a schema (an object or a boolean)");
      return false;
    }
    if (const json* ref = find(parts[i], "$ref")) {
      std::string path;
      const json* target = resolve(*ref, parts[i].path + ".$ref", path);
      if (target == nullptr) return false;
      parts.push_back({target, std::move(path)});
    }
    if (const json* all = find(parts[i], "allOf")) {
      if (!all->is_array() || all->empty()) {
        fatal(parts[i].path + ".allOf", "expected a non-empty array of schemas");
        return false;
      }
      const std::string base = parts[i].path;  // parts may reallocate below
      for (std::size_t k = 0; k < all->size(); ++k) {
        parts.push_back({&(*all)[k], base + ".allOf[" + std::to_string(k) + "]"});
      }
    }
  }
  return true;
}

// A local JSON pointer ("#", "#/$defs/node", "#/definitions/a~1b"), resolved from the root schema.
const json* generator::resolve(const json& ref, const std::string& where, std::string& path) {
  if (!ref.is_string()) return fatal(where, "expected a string"), nullptr;
  const std::string& text = ref.get_ref<const std::string&>();
  if (text.empty() || text[0] != '#') {
    return fatal(where, "only local references (\"#/...\") are supported, not " + text), nullptr;
  }
  const json* at = &root_;
  path = root_path_;
  std::size_t pos = 1;
  if (text.size() > 1 && text[1] != '/') return fatal(where, "anchors (" + text + ") are not supported"), nullptr;
  while (pos < text.size()) {
    const std::size_t end = std::min(text.find('/', pos + 1), text.size());
    std::string token;
    for (std::size_t i = pos + 1; i < end; ++i) {
      if (text[i] == '~' && i + 1 < end && (text[i + 1] == '0' || text[i + 1] == '1')) {
        token += text[++i] == '0' ? '~' : '/';
      } else {
        token += text[i];
      }
    }
    pos = end;
    if (at->is_object() && at->contains(token)) {
      at = &(*at)[token];
      path += "." + token;
    } else if (at->is_array() && !token.empty() && token.size() < 10 &&
               token.find_first_not_of("0123456789") == std::string::npos && std::stoul(token) < at->size()) {
      at = &(*at)[std::stoul(token)];
      path += "[" + token + "]";
    } else {
      return fatal(where, "$ref " + text + " points at nothing"), nullptr;
    }
  }
  return at;
}

// Picks a branch of the first anyOf/oneOf at or after `from`, trying the others when it fails.
std::optional<json> generator::choose(parts_t parts, std::uint32_t depth, std::size_t from) {
  for (std::size_t i = from; i < parts.size(); ++i) {
    const json* branches = find(parts[i], "anyOf");
    const char* keyword = "anyOf";
    if (branches == nullptr) {
      branches = find(parts[i], "oneOf");
      keyword = "oneOf";
    }
    if (branches == nullptr) continue;
    const std::string base = parts[i].path + "." + keyword;
    if (!branches->is_array() || branches->empty()) return fatal(base, "expected a non-empty array of schemas");
    for (std::size_t b : branch_order(*branches, depth)) {
      parts_t tried = parts;
      tried.push_back({&(*branches)[b], base + "[" + std::to_string(b) + "]"});
      if (flatten(tried, parts.size())) {
        if (auto v = choose(std::move(tried), depth, i + 1)) return v;
      }
      if (broken()) return std::nullopt;
    }
    return std::nullopt;  // the last branch's failure says why
  }
  return leaf(parts, depth);
}

// Random first branch, the rest after it; near the limits the branches least likely to recurse first.
std::vector<std::size_t> generator::branch_order(const json& branches, std::uint32_t depth) {
  std::vector<std::size_t> order(branches.size());
  const std::size_t first = r_.below(branches.size());
  for (std::size_t k = 0; k < order.size(); ++k) order[k] = (first + k) % order.size();
  if (minimal(depth)) {
    auto weight = [&](std::size_t k) {
      const json& b = branches[k];
      if (!b.is_object()) return 1;
      if (b.contains("$ref") || b.contains("properties") || b.contains("items")) return 2;
      return 0;
    };
    std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return weight(a) < weight(b); });
  }
  return order;
}

unsigned generator::parse_type(const json& type, const std::string& path) {
  auto one = [&](const json& name) -> unsigned {
    if (!name.is_string()) return fatal(path, "expected a type name"), 0U;
    std::string n = name.get<std::string>();
    for (char& c : n) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);  // Gemini's "STRING"
    if (n == "null") return t_null;
    if (n == "boolean") return t_boolean;
    if (n == "integer") return t_integer;
    if (n == "number") return t_number | t_integer;
    if (n == "string") return t_string;
    if (n == "array") return t_array;
    if (n == "object") return t_object;
    if (n == "type_unspecified") return t_any;
    return fatal(path, "unknown type " + name.get<std::string>()), 0U;
  };
  if (!type.is_array()) return one(type);
  unsigned bits = 0;
  for (const json& name : type) bits |= one(name);
  return bits;
}

// Which keywords say what an untyped schema is about.
unsigned generator::implied_type(const part& p) {
  for (const char* k : {"properties", "required", "additionalProperties", "minProperties", "maxProperties"}) {
    if (find(p, k) != nullptr) return t_object;
  }
  for (const char* k : {"items", "prefixItems", "minItems", "maxItems", "uniqueItems"}) {
    if (find(p, k) != nullptr) return t_array;
  }
  for (const char* k : {"minLength", "maxLength", "pattern", "format"}) {
    if (find(p, k) != nullptr) return t_string;
  }
  for (const char* k : {"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf"}) {
    if (find(p, k) != nullptr) return t_number;
  }
  return 0;
}

std::optional<json> generator::leaf(const parts_t& parts, std::uint32_t depth) {
  if (++nodes_ > limits_.nodes_max) {
    return fatal(parts.front().path, "the instance would have more than nodes_max (" +
                                         std::to_string(limits_.nodes_max) + ") values");
  }
  unsigned allowed = t_any;
  bool typed = false;
  unsigned implied = 0;
  std::optional<std::vector<const json*>> candidates;  // from enum and const, when any
  for (const part& p : parts) {
    if (const json* type = find(p, "type")) {
      unsigned bits = parse_type(*type, p.path + ".type");
      if (const json* nullable = find(p, "nullable"); nullable != nullptr && *nullable == true) bits |= t_null;
      allowed &= bits;
      typed = true;
    }
    implied |= implied_type(p);
    for (const char* key : {"const", "enum"}) {
      const json* listed = find(p, key);
      if (listed == nullptr) continue;
      if (key[0] == 'e' && !listed->is_array()) return fatal(p.path + ".enum", "expected an array");
      std::vector<const json*> values;
      if (key[0] == 'c') {
        values.push_back(listed);
      } else {
        for (const json& v : *listed) values.push_back(&v);
      }
      if (!charge(values.size() * (candidates ? candidates->size() : 1), p.path + "." + key)) return std::nullopt;
      if (!candidates) {
        candidates = std::move(values);
      } else {
        std::erase_if(*candidates, [&](const json* c) {
          return std::none_of(values.begin(), values.end(), [&](const json* v) { return *v == *c; });
        });
      }
    }
  }
  if (broken()) return std::nullopt;
  if (candidates) {
    std::erase_if(*candidates, [&](const json* c) { return (type_of(*c) & allowed) == 0 || !fits(*c, parts); });
    if (broken()) return std::nullopt;
    if (candidates->empty()) return fail(parts.front().path, "no value of enum or const fits the other constraints");
    if (unique_items_ != nullptr && depth == unique_depth_) {
      // An item of a uniqueItems array: prefer the values its siblings have not taken.
      std::vector<const json*> fresh = *candidates;
      std::erase_if(fresh, [&](const json* c) { return std::find(unique_items_->begin(), unique_items_->end(), *c) != unique_items_->end(); });
      if (!fresh.empty()) *candidates = std::move(fresh);
    }
    return *(*candidates)[r_.below(candidates->size())];
  }
  if (!typed) allowed = implied != 0 ? implied : t_string;  // an empty schema admits anything: say a word
  if (allowed == 0) return fail(parts.front().path, "the types allowed here have nothing in common");
  const bool small = minimal(depth);
  if ((allowed & t_null) != 0 && (allowed == t_null || small || r_.below(4) == 0)) return json(nullptr);
  allowed &= ~static_cast<unsigned>(t_null);
  if ((allowed & t_number) != 0) allowed &= ~static_cast<unsigned>(t_integer);  // number covers integer
  const unsigned scalars = allowed & (t_boolean | t_integer | t_number | t_string);
  if (small && scalars != 0) allowed = scalars;
  std::vector<unsigned> bits;
  for (unsigned b = 1; b < t_any; b <<= 1) {
    if ((allowed & b) != 0) bits.push_back(b);
  }
  switch (bits[r_.below(bits.size())]) {
    case t_boolean: {
      const bool drawn = r_.below(2) == 1;
      const bool taken = unique_items_ != nullptr && depth == unique_depth_ &&
                         std::find(unique_items_->begin(), unique_items_->end(), json(drawn)) != unique_items_->end();
      return json(taken ? !drawn : drawn);
    }
    case t_integer: return number_value(parts, true);
    case t_number: return number_value(parts, false);
    case t_string: return string_value(parts);
    case t_array: return array_value(parts, depth);
    default: return object_value(parts, depth);
  }
}

}  // namespace detail

using detail::empty_schema;
using detail::generator;
using detail::json;

instance_result schema_instance(const nlohmann::json& schema, rng& r, const schema_limits& limits,
                                std::string_view root_path) {
  generator g(schema, r, limits, std::string(root_path));
  if (auto v = g.value({{&schema, std::string(root_path)}}, 0)) return std::move(*v);
  return schema_error{g.failed().path, g.failed().message};
}

instance_result object_instance(const nlohmann::json& schema, rng& r, const schema_limits& limits,
                                std::string_view root_path) {
  static const json object_type = {{"type", "object"}};
  const json& used = schema.is_null() ? empty_schema() : schema;
  generator g(used, r, limits, std::string(root_path));
  if (auto v = g.value({{&used, std::string(root_path)}, {&object_type, std::string(root_path)}}, 0)) return std::move(*v);
  return schema_error{g.failed().path, g.failed().message};
}

}  // namespace squall::fake::content
