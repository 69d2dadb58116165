#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <numeric>
#include <utility>

#include "fake_providers/content/schema_generator.hpp"
#include "fake_providers/content/schema_strings.hpp"

namespace squall::fake::content::detail {

std::optional<std::uint64_t> generator::count(const part& p, const char* key) {
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

bool generator::fits(const json& candidate, const parts_t& parts) {
  auto number = [](const part& p, const char* key) -> std::optional<double> {
    const json* v = find(p, key);
    return v != nullptr && v->is_number() ? std::optional<double>(v->get<double>()) : std::nullopt;
  };
  auto flag = [](const part& p, const char* key) {
    const json* v = find(p, key);
    return v != nullptr && *v == true;
  };
  for (const part& p : parts) {
    if (candidate.is_string()) {
      const std::string& s = candidate.get_ref<const std::string&>();
      // JSON Schema counts characters: every byte but UTF-8 continuation bytes.
      const auto length = static_cast<std::uint64_t>(
          std::count_if(s.begin(), s.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
      if (auto lo = count(p, "minLength"); lo && length < *lo) return false;
      if (auto hi = count(p, "maxLength"); hi && length > *hi) return false;
    } else if (candidate.is_number()) {
      const double v = candidate.get<double>();
      if (auto lo = number(p, "minimum"); lo && (flag(p, "exclusiveMinimum") ? v <= *lo : v < *lo)) return false;
      if (auto hi = number(p, "maximum"); hi && (flag(p, "exclusiveMaximum") ? v >= *hi : v > *hi)) return false;
      if (auto lo = number(p, "exclusiveMinimum"); lo && v <= *lo) return false;
      if (auto hi = number(p, "exclusiveMaximum"); hi && v >= *hi) return false;
      if (auto m = number(p, "multipleOf"); m && *m > 0 && std::floor(v / *m) != v / *m) return false;
    } else if (candidate.is_array()) {
      if (auto lo = count(p, "minItems"); lo && candidate.size() < *lo) return false;
      if (auto hi = count(p, "maxItems"); hi && candidate.size() > *hi) return false;
    } else if (candidate.is_object()) {
      if (auto lo = count(p, "minProperties"); lo && candidate.size() < *lo) return false;
      if (auto hi = count(p, "maxProperties"); hi && candidate.size() > *hi) return false;
      if (const json* req = find(p, "required"); req != nullptr && req->is_array()) {
        for (const json& name : *req) {
          if (name.is_string() && !candidate.contains(name.get<std::string>())) return false;
        }
      }
    }
  }
  return true;
}

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
    // A tiny multipleOf over a wide range gives quotients no double holds exactly (or infinite ones).
    if (!(std::fabs(k_lo) <= integer_limit && std::fabs(k_hi) <= integer_limit)) {
      return fail(where, "multipleOf " + std::to_string(*multiple) + " is too small for the range of minimum and maximum");
    }
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
  // additionalProperties schemas, each with the `properties` of its part: it applies to the other keys,
  // including those that another part (an allOf, a $ref) names.
  std::vector<std::pair<const json*, part>> additional;
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
      else additional.push_back({props != nullptr ? props : &empty_schema(), {extra, p.path + ".additionalProperties"}});
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
    parts_t of = it != properties.end() ? it->second : parts_t{};
    for (const auto& [props, extra] : additional) {
      if (!props->contains(name)) of.push_back(extra);
    }
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
  for (const auto& named : properties) {
    const std::string& name = named.first;
    if (out.contains(name) || !allowed(name) || out.size() >= props_max) continue;
    if (out.size() >= props_min && (small || r_.below(2) == 0)) continue;
    std::optional<json> v = value(schemas_of(name), depth + 1);
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

}  // namespace squall::fake::content::detail
