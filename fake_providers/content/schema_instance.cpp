#include "fake_providers/content/schema_instance.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <numeric>
#include <optional>
#include <utility>
#include <vector>

#include "fake_providers/content/schema_strings.hpp"

namespace squall::fake::content {

namespace {

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

const json& empty_schema() {
  static const json schema = json::object();
  return schema;
}

const json* find(const part& p, const char* key) {
  if (!p.schema->is_object()) return nullptr;
  auto it = p.schema->find(key);
  return it == p.schema->end() ? nullptr : &*it;
}

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

class generator {
 public:
  generator(const json& root, rng& r, const schema_limits& limits, std::string root_path)
      : root_(root), r_(r), limits_(limits), root_path_(std::move(root_path)) {}

  std::optional<json> value(parts_t parts, std::uint32_t depth) {
    if (depth > limits_.depth_max) {
      return fail(parts.front().path, "nesting deeper than depth_max (" + std::to_string(limits_.depth_max) + ")");
    }
    if (!flatten(parts, 0)) return std::nullopt;
    return choose(std::move(parts), depth, 0);
  }

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
  bool flatten(parts_t& parts, std::size_t from) {
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
  const json* resolve(const json& ref, const std::string& where, std::string& path) {
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
  std::optional<json> choose(parts_t parts, std::uint32_t depth, std::size_t from) {
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

  // Near the limits, only what the schema forces: no optional property, minItems, null when allowed.
  bool minimal(std::uint32_t depth) const { return depth * 2 >= limits_.depth_max || nodes_ * 2 >= limits_.nodes_max; }

  // Random first branch, the rest after it; near the limits the branches least likely to recurse first.
  std::vector<std::size_t> branch_order(const json& branches, std::uint32_t depth) {
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

  unsigned parse_type(const json& type, const std::string& path) {
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
  static unsigned implied_type(const part& p) {
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

  std::optional<json> leaf(const parts_t& parts, std::uint32_t depth) {
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
      std::erase_if(*candidates, [&](const json* c) { return (type_of(*c) & allowed) == 0; });
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

  // A count keyword (minItems, maxLength, ...): a non-negative integer, or Gemini's decimal string of one.
  std::optional<std::uint64_t> count(const part& p, const char* key) {
    const json* v = find(p, key);
    if (v == nullptr) return std::nullopt;
    if (v->is_number_unsigned()) return v->get<std::uint64_t>();
    if (v->is_number_integer() && v->get<std::int64_t>() >= 0) return static_cast<std::uint64_t>(v->get<std::int64_t>());
    if (v->is_number_float() && v->get<double>() >= 0 && std::floor(v->get<double>()) == v->get<double>()) {
      return v->get<double>() >= 1e18 ? std::uint64_t{1000000000000000000ULL} : static_cast<std::uint64_t>(v->get<double>());
    }
    if (v->is_string()) {
      const std::string& s = v->get_ref<const std::string&>();
      if (!s.empty() && s.size() <= 18 && s.find_first_not_of("0123456789") == std::string::npos) return std::stoull(s);
    }
    fatal(p.path + "." + key, "expected a non-negative integer");
    return std::nullopt;
  }

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

std::optional<json> generator::string_value(const parts_t& parts) {
  const std::string& where = parts.front().path;
  const std::uint64_t length_min = count_max(parts, "minLength", 0);
  const std::uint64_t length_max = count_min(parts, "maxLength", limits_.string_length_max);
  const json* pattern = nullptr;
  std::string pattern_path;
  const json* format = nullptr;
  for (const part& p : parts) {
    if (const json* pt = find(p, "pattern")) {
      if (!pt->is_string()) return fatal(p.path + ".pattern", "expected a string");
      if (pattern != nullptr && *pattern != *pt) {
        return fatal(p.path + ".pattern", "two different patterns apply to one string; the fake cannot honour both");
      }
      pattern = pt;
      pattern_path = p.path + ".pattern";
    }
    if (const json* f = find(p, "format")) {
      if (!f->is_string()) return fatal(p.path + ".format", "expected a string");
      if (format == nullptr) format = f;
    }
  }
  if (broken()) return std::nullopt;
  if (length_min > limits_.string_length_max) {
    return fatal(where, "minLength " + std::to_string(length_min) + " is above string_length_max (" +
                            std::to_string(limits_.string_length_max) + ")");
  }
  if (length_min > length_max) return fail(where, "minLength is above maxLength");
  const auto lo = static_cast<std::uint32_t>(length_min);
  const auto hi = static_cast<std::uint32_t>(std::min<std::uint64_t>(length_max, limits_.string_length_max));
  if (pattern != nullptr) {
    const std::string& text = pattern->get_ref<const std::string&>();
    if (text.size() > limits_.pattern_length_max) {
      return fatal(pattern_path, "longer than pattern_length_max (" + std::to_string(limits_.pattern_length_max) + ")");
    }
    // A pattern's optional parts are drawn anew until the length fits (JSON Schema counts characters; the
    // generated strings are ASCII).
    constexpr int tries = 16;
    for (int t = 0; t < tries; ++t) {
      pattern_outcome drawn = pattern_string(text, r_, hi);
      if (!drawn.text) return fatal(pattern_path, drawn.reason);
      if (drawn.text->size() >= lo) return json(std::move(*drawn.text));
    }
    return fatal(pattern_path, "no string matching the pattern within minLength " + std::to_string(lo) +
                                   " and maxLength " + std::to_string(hi) + " was found");
  }
  if (format != nullptr) {
    if (auto s = format_string(format->get_ref<const std::string&>(), r_)) {
      if (s->size() < lo || s->size() > hi) return fail(where, "format " + format->get<std::string>() + " does not fit minLength/maxLength");
      return json(std::move(*s));
    }
  }
  return json(words_between(r_, lo, hi));
}

std::optional<json> generator::number_value(const parts_t& parts, bool integer) {
  const std::string& where = parts.front().path;
  double lo = -std::numeric_limits<double>::infinity();
  double hi = std::numeric_limits<double>::infinity();
  bool lo_open = false;
  bool hi_open = false;
  std::optional<double> multiple;
  auto number = [&](const part& p, const char* key) -> std::optional<double> {
    const json* v = find(p, key);
    if (v == nullptr || v->is_boolean()) return std::nullopt;
    if (!v->is_number()) return fatal(p.path + "." + key, "expected a number");
    return v->get<double>();
  };
  auto flag = [&](const part& p, const char* key) {
    const json* v = find(p, key);
    return v != nullptr && *v == true;  // draft 4 and OpenAPI 3.0: exclusiveMinimum is a boolean
  };
  for (const part& p : parts) {
    if (auto v = number(p, "minimum"); v && (*v > lo || (*v == lo && !lo_open))) lo = *v, lo_open = flag(p, "exclusiveMinimum");
    if (auto v = number(p, "exclusiveMinimum"); v && *v >= lo) lo = *v, lo_open = true;
    if (auto v = number(p, "maximum"); v && (*v < hi || (*v == hi && !hi_open))) hi = *v, hi_open = flag(p, "exclusiveMaximum");
    if (auto v = number(p, "exclusiveMaximum"); v && *v <= hi) hi = *v, hi_open = true;
    if (auto m = number(p, "multipleOf")) {
      if (!(*m > 0)) return fatal(p.path + ".multipleOf", "expected a number above 0");
      if (multiple && *multiple != *m) {
        const bool whole = std::floor(*m) == *m && std::floor(*multiple) == *multiple && *m < 1e6 && *multiple < 1e6;
        if (!whole) return fatal(p.path + ".multipleOf", "two different multipleOf that are not both small integers");
        multiple = std::lcm(static_cast<std::int64_t>(*m), static_cast<std::int64_t>(*multiple));
      } else {
        multiple = m;
      }
    }
  }
  if (broken()) return std::nullopt;
  // Unbounded sides get a readable range next to the bound that is given, or [0, 100].
  if (std::isinf(lo) && std::isinf(hi)) lo = 0, hi = default_span;
  else if (std::isinf(lo)) lo = hi - default_span;
  else if (std::isinf(hi)) hi = lo + default_span;
  auto inside = [&](double v) { return (lo_open ? v > lo : v >= lo) && (hi_open ? v < hi : v <= hi); };
  if (integer || (multiple && std::floor(*multiple) == *multiple)) {
    if (lo > integer_limit || hi < -integer_limit) return fail(where, "the bounds lie beyond the integers the fake emits (2^53)");
    double ilo = std::ceil(std::max(lo, -integer_limit));
    double ihi = std::floor(std::min(hi, integer_limit));
    if (lo_open && ilo == lo) ilo += 1;
    if (hi_open && ihi == hi) ihi -= 1;
    const double m = multiple ? *multiple : 1.0;
    if (std::floor(m) != m) return fail(where, "multipleOf " + std::to_string(m) + " with type integer is not supported");
    if (m > integer_limit) return fail(where, "multipleOf is beyond the integers the fake emits (2^53)");
    const double k_lo = std::ceil(ilo / m);
    const double k_hi = std::floor(ihi / m);
    if (k_lo > k_hi) return fail(where, "no integer lies within minimum, maximum and multipleOf");
    const double k = k_lo + static_cast<double>(r_.below(static_cast<std::uint64_t>(std::min(k_hi - k_lo, default_span)) + 1));
    const auto v = static_cast<std::int64_t>(k) * static_cast<std::int64_t>(m);
    if (!integer) return json(static_cast<double>(v));
    return json(v);
  }
  if (multiple) {
    // value = k * m, kept only when dividing back gives k exactly (validators test the quotient).
    const double k_lo = std::ceil(lo / *multiple);
    const double k_hi = std::floor(hi / *multiple);
    for (int t = 0; t < 8 && k_lo <= k_hi; ++t) {
      const double k = k_lo + static_cast<double>(r_.below(static_cast<std::uint64_t>(std::min(k_hi - k_lo, default_span)) + 1));
      const double v = k * *multiple;
      if (inside(v) && v / *multiple == k) return json(v);
    }
    return fail(where, "no number within minimum and maximum is an exact multipleOf " + std::to_string(*multiple));
  }
  const double u = r_.uniform();
  double v = lo * (1 - u) + hi * u;
  if (std::fabs(v) < 1e9) v = std::round(v * 100) / 100;  // two decimals read like a model's numbers
  if (!inside(v)) v = lo / 2 + hi / 2;
  if (!inside(v)) return fail(where, "no number lies within minimum and maximum");
  return json(v);
}

std::optional<json> generator::array_value(const parts_t& parts, std::uint32_t depth) {
  const std::string& where = parts.front().path;
  std::uint64_t items_min = count_max(parts, "minItems", 0);
  std::uint64_t items_max = count_min(parts, "maxItems", std::numeric_limits<std::uint64_t>::max());
  bool unique = false;
  for (const part& p : parts) {
    if (const json* u = find(p, "uniqueItems"); u != nullptr && *u == true) unique = true;
    // A tuple (prefixItems, or items as an array) closed by items/additionalItems false bounds the length.
    const json* prefix = find(p, "prefixItems");
    const char* rest_key = "items";
    if (prefix == nullptr && find(p, "items") != nullptr && find(p, "items")->is_array()) {
      prefix = find(p, "items");
      rest_key = "additionalItems";
    }
    if (prefix != nullptr && !prefix->is_array()) return fatal(p.path + ".prefixItems", "expected an array of schemas");
    if (const json* rest = find(p, rest_key); prefix != nullptr && rest != nullptr && *rest == false) {
      items_max = std::min<std::uint64_t>(items_max, prefix->size());
    }
  }
  if (broken()) return std::nullopt;
  if (items_min > limits_.nodes_max) {
    return fatal(where, "minItems " + std::to_string(items_min) + " is above nodes_max (" + std::to_string(limits_.nodes_max) + ")");
  }
  if (items_min > items_max) return fail(where, "minItems is above maxItems");
  std::uint64_t length = items_min;
  if (!minimal(depth) && depth < 3) length += 1 + r_.below(3 - depth);  // 1-3 items at the top, fewer deeper
  length = std::min(length, items_max);

  json out = json::array();
  for (std::uint64_t i = 0; i < length; ++i) {
    parts_t item;
    for (const part& p : parts) {
      const json* prefix = find(p, "prefixItems");
      const char* rest_key = "items";
      if (prefix == nullptr && find(p, "items") != nullptr && find(p, "items")->is_array()) {
        prefix = find(p, "items");
        rest_key = "additionalItems";
      }
      if (prefix != nullptr && i < prefix->size()) {
        item.push_back({&(*prefix)[i], p.path + (rest_key[0] == 'i' ? ".prefixItems[" : ".items[") + std::to_string(i) + "]"});
      } else if (const json* rest = find(p, rest_key)) {
        item.push_back({rest, p.path + "." + rest_key});
      }
    }
    if (item.empty()) item.push_back({&empty_schema(), where + ".items"});
    std::optional<json> v;
    for (int t = 0; t < (unique ? 4 : 1); ++t) {
      const json* outer_items = std::exchange(unique_items_, unique ? &out : nullptr);
      const std::uint32_t outer_depth = std::exchange(unique_depth_, depth + 1);
      v = value(item, depth + 1);
      unique_items_ = outer_items;
      unique_depth_ = outer_depth;
      if (!v || !unique || std::find(out.begin(), out.end(), *v) == out.end()) break;
      v.reset();
      fail(where, "uniqueItems: could not draw " + std::to_string(items_min) + " different items");
    }
    if (!v) {
      if (broken() || i < items_min) return std::nullopt;
      break;  // items beyond minItems are optional: stop here
    }
    out.push_back(std::move(*v));
  }
  return out;
}

std::optional<json> generator::object_value(const parts_t& parts, std::uint32_t depth) {
  const std::string& where = parts.front().path;
  std::map<std::string, parts_t> properties;
  std::vector<std::string> required;
  parts_t additional;           // additionalProperties schemas, for keys no `properties` names
  std::vector<const json*> closed;  // `properties` of parts with additionalProperties false
  for (const part& p : parts) {
    const json* props = find(p, "properties");
    if (props != nullptr) {
      if (!props->is_object()) return fatal(p.path + ".properties", "expected an object of schemas");
      if (!charge(props->size(), p.path + ".properties")) return std::nullopt;
      for (const auto& [name, schema] : props->items()) properties[name].push_back({&schema, p.path + ".properties." + name});
    }
    if (const json* req = find(p, "required")) {
      if (!req->is_array()) return fatal(p.path + ".required", "expected an array of property names");
      for (const json& name : *req) {
        if (!name.is_string()) return fatal(p.path + ".required", "expected an array of property names");
        if (std::find(required.begin(), required.end(), name.get<std::string>()) == required.end()) {
          required.push_back(name.get<std::string>());
        }
      }
    }
    if (const json* extra = find(p, "additionalProperties")) {
      if (*extra == false) closed.push_back(props != nullptr ? props : &empty_schema());
      else additional.push_back({extra, p.path + ".additionalProperties"});
    }
  }
  const std::uint64_t props_min = count_max(parts, "minProperties", 0);
  const std::uint64_t props_max = count_min(parts, "maxProperties", std::numeric_limits<std::uint64_t>::max());
  if (broken()) return std::nullopt;
  if (props_min > limits_.nodes_max) {
    return fatal(where, "minProperties " + std::to_string(props_min) + " is above nodes_max (" + std::to_string(limits_.nodes_max) + ")");
  }
  if (required.size() > props_max || props_min > props_max) return fail(where, "more properties are required than maxProperties");
  auto allowed = [&](const std::string& name) {
    return std::all_of(closed.begin(), closed.end(), [&](const json* props) { return props->contains(name); });
  };
  auto schemas_of = [&](const std::string& name) {
    auto it = properties.find(name);
    parts_t of = it != properties.end() ? it->second : additional;
    if (of.empty()) of.push_back({&empty_schema(), where + ".properties." + name});
    return of;
  };

  json out = json::object();
  for (const std::string& name : required) {
    if (!allowed(name)) return fail(where, "required property " + name + " is not allowed by additionalProperties false");
    std::optional<json> v = value(schemas_of(name), depth + 1);
    if (!v) return std::nullopt;
    out[name] = std::move(*v);
  }
  const bool small = minimal(depth);
  // Optional properties: about half of them, none near the limits; more when minProperties asks.
  for (const auto& [name, of] : properties) {
    if (out.contains(name) || !allowed(name) || out.size() >= props_max) continue;
    if (out.size() >= props_min && (small || r_.below(2) == 0)) continue;
    std::optional<json> v = value(of, depth + 1);
    if (v) out[name] = std::move(*v);
    else if (broken()) return std::nullopt;
  }
  // Keys of a map (additionalProperties with a schema and no named properties), or to reach minProperties.
  const bool open = closed.empty();
  std::uint64_t extra = properties.empty() && !additional.empty() && !small ? 1 + r_.below(2) : 0;
  for (std::uint64_t i = 0; open && (out.size() < props_min || extra > 0) && out.size() < props_max; ++i) {
    if (extra > 0) --extra;
    const std::string name = std::string(word(r_)) + "_" + std::to_string(i);
    if (out.contains(name) || properties.contains(name)) continue;
    std::optional<json> v = value(schemas_of(name), depth + 1);
    if (!v) return std::nullopt;
    out[name] = std::move(*v);
  }
  if (out.size() < props_min) return fail(where, "minProperties cannot be reached");
  return out;
}

}  // namespace

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
