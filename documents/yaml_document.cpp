#include "documents/yaml_document.hpp"

#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/exceptions.h>
#include <yaml-cpp/mark.h>
#include <yaml-cpp/parser.h>

#include <algorithm>
#include <map>

#include <charconv>
#include <cmath>
#include <limits>
#include <optional>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "policies/core/json_parse.hpp"

namespace squall::documents {
namespace {

const std::string tag_prefix = "tag:yaml.org,2002:";

// Thrown inside the converter only, caught in parse_yaml: a config_error on its way out of the recursion.
struct conversion_failure {
  config_error error;
};

std::string at(const YAML::Mark& mark) {
  if (mark.line < 0 || mark.column < 0) return {};
  return " at line " + std::to_string(mark.line + 1) + ", column " + std::to_string(mark.column + 1);
}

// --- PyYAML's implicit resolvers (yaml/resolver.py, YAML 1.1), written out as matchers. -----------------

bool is_digit(char c, int base) {
  if (base == 2) return c == '0' || c == '1';
  if (base == 8) return c >= '0' && c <= '7';
  if (base == 10) return c >= '0' && c <= '9';
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

// [digits of `base` or '_']+ from i; returns the index after them (i when none).
std::size_t skip_digits(std::string_view s, std::size_t i, int base) {
  while (i < s.size() && (is_digit(s[i], base) || s[i] == '_')) ++i;
  return i;
}

// (":" [0-5]?[0-9])+ from i; returns the index after, or npos when there is not at least one group.
std::size_t skip_sexagesimal(std::string_view s, std::size_t i) {
  std::size_t groups = 0;
  while (i < s.size() && s[i] == ':') {
    std::size_t j = i + 1;
    if (j + 1 < s.size() && s[j] >= '0' && s[j] <= '5' && is_digit(s[j + 1], 10)) {
      j += 2;
    } else if (j < s.size() && is_digit(s[j], 10)) {
      j += 1;
    } else {
      return std::string_view::npos;
    }
    i = j;
    ++groups;
  }
  return groups > 0 ? i : std::string_view::npos;
}

bool matches_int(std::string_view s) {
  std::size_t i = (!s.empty() && (s[0] == '-' || s[0] == '+')) ? 1 : 0;
  const std::string_view body = s.substr(i);
  if (body.empty()) return false;
  if (body.size() > 2 && body[0] == '0' && body[1] == 'b') return skip_digits(body, 2, 2) == body.size();
  if (body.size() > 2 && body[0] == '0' && body[1] == 'x') return skip_digits(body, 2, 16) == body.size();
  if (body == "0") return true;
  if (body[0] == '0') return body.size() > 1 && skip_digits(body, 1, 8) == body.size();
  if (body[0] < '1' || body[0] > '9') return false;
  const std::size_t end = skip_digits(body, 1, 10);
  if (end == body.size()) return true;
  return skip_sexagesimal(body, end) == body.size();
}

// [eE][-+][0-9]+ from i (PyYAML's exponent needs its sign), or i itself when absent; npos when malformed.
std::size_t skip_exponent(std::string_view s, std::size_t i) {
  if (i >= s.size() || (s[i] != 'e' && s[i] != 'E')) return i;
  if (i + 1 >= s.size() || (s[i + 1] != '-' && s[i + 1] != '+')) return std::string_view::npos;
  std::size_t j = i + 2;
  const std::size_t start = j;
  while (j < s.size() && is_digit(s[j], 10)) ++j;
  return j > start ? j : std::string_view::npos;
}

bool matches_float(std::string_view s) {
  if (s == ".nan" || s == ".NaN" || s == ".NAN") return true;
  if (!s.empty() && s[0] == '.' && s.size() > 1 && is_digit(s[1], 10)) {  // no sign before a bare "."
    return skip_exponent(s, skip_digits(s, 2, 10)) == s.size();
  }
  const std::size_t i = (!s.empty() && (s[0] == '-' || s[0] == '+')) ? 1 : 0;
  const std::string_view body = s.substr(i);
  if (body == ".inf" || body == ".Inf" || body == ".INF") return true;
  if (body.empty() || !is_digit(body[0], 10)) return false;
  std::size_t j = skip_digits(body, 1, 10);
  if (j < body.size() && body[j] == ':') {
    j = skip_sexagesimal(body, j);
    if (j == std::string_view::npos || j >= body.size() || body[j] != '.') return false;
    return skip_digits(body, j + 1, 10) == body.size();
  }
  if (j >= body.size() || body[j] != '.') return false;
  return skip_exponent(body, skip_digits(body, j + 1, 10)) == body.size();
}

bool is_bool_true(std::string_view s) {
  return s == "yes" || s == "Yes" || s == "YES" || s == "true" || s == "True" || s == "TRUE" || s == "on" ||
         s == "On" || s == "ON";
}
bool is_bool_false(std::string_view s) {
  return s == "no" || s == "No" || s == "NO" || s == "false" || s == "False" || s == "FALSE" || s == "off" ||
         s == "Off" || s == "OFF";
}
bool is_null_text(std::string_view s) { return s.empty() || s == "~" || s == "null" || s == "Null" || s == "NULL"; }

std::string without_underscores(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c != '_') out += c;
  }
  return out;
}

// PyYAML's construct_yaml_int on a matching scalar; nullopt when it does not fit 64 bits (Python has no
// such limit, squall's JSON numbers do).
std::optional<std::int64_t> construct_int(std::string_view text) {
  std::string v = without_underscores(text);
  bool negative = false;
  if (!v.empty() && (v[0] == '-' || v[0] == '+')) {
    negative = v[0] == '-';
    v.erase(0, 1);
  }
  std::uint64_t magnitude = 0;
  auto parse = [&](std::string_view digits, int base) {
    if (digits.empty()) return false;
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), magnitude, base);
    return ec == std::errc() && end == digits.data() + digits.size();
  };
  bool ok = false;
  if (v == "0") {
    ok = true;
  } else if (v.rfind("0b", 0) == 0) {
    ok = parse(std::string_view(v).substr(2), 2);
  } else if (v.rfind("0x", 0) == 0) {
    ok = parse(std::string_view(v).substr(2), 16);
  } else if (v[0] == '0') {
    ok = parse(std::string_view(v).substr(1), 8);
  } else if (v.find(':') != std::string::npos) {
    ok = true;
    std::string_view rest = v;
    while (ok && !rest.empty()) {
      const std::size_t colon = rest.find(':');
      std::uint64_t part = 0;
      const std::string_view digits = rest.substr(0, colon);
      auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), part);
      ok = ec == std::errc() && end == digits.data() + digits.size() &&
           magnitude <= (std::numeric_limits<std::uint64_t>::max() - part) / 60;
      if (ok) magnitude = magnitude * 60 + part;
      rest = colon == std::string_view::npos ? std::string_view() : rest.substr(colon + 1);
    }
  } else {
    ok = parse(v, 10);
  }
  constexpr auto max = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
  if (!ok || magnitude > max + (negative ? 1 : 0)) return std::nullopt;
  if (negative) return magnitude == max + 1 ? std::numeric_limits<std::int64_t>::min()
                                            : -static_cast<std::int64_t>(magnitude);
  return static_cast<std::int64_t>(magnitude);
}

// PyYAML's construct_yaml_float on a matching scalar.
double construct_float(std::string_view text) {
  std::string v = without_underscores(text);
  for (char& c : v) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  double sign = 1.0;
  if (!v.empty() && (v[0] == '-' || v[0] == '+')) {
    sign = v[0] == '-' ? -1.0 : 1.0;
    v.erase(0, 1);
  }
  if (v == ".inf") return sign * std::numeric_limits<double>::infinity();
  if (v == ".nan") return std::numeric_limits<double>::quiet_NaN();
  double value = 0.0;
  if (v.find(':') != std::string::npos) {
    std::string_view rest = v;
    while (!rest.empty()) {
      const std::size_t colon = rest.find(':');
      const std::string_view digits = rest.substr(0, colon);
      double part = 0.0;
      std::from_chars(digits.data(), digits.data() + digits.size(), part);
      value = value * 60.0 + part;
      rest = colon == std::string_view::npos ? std::string_view() : rest.substr(colon + 1);
    }
  } else {
    std::from_chars(v.data(), v.data() + v.size(), value);
  }
  return sign * value;
}

// PyYAML's Reader refuses characters outside YAML's printable set; the ASCII ones are checked here (UTF-8
// validity is checked as a whole before).
std::optional<std::size_t> first_unprintable(std::string_view text) {
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7F) return i;
  }
  return std::nullopt;
}

// Builds the JSON from yaml-cpp's parser events, not from its YAML::Node graph: every event counts against
// nodes_max (an alias counts the values it copies), so the bound also stops a parse that does not end.
// yaml-cpp 0.7 loops allocating nodes forever on some malformed flow collections (found by the
// gateway_config fuzzer: tests/fuzz/crashes/gateway_config/yaml-cpp-endless-flow-map); building from
// events, the count stops it after nodes_max events instead of after all of memory.
class json_builder : public YAML::EventHandler {
 public:
  explicit json_builder(const yaml_limits& limits) : limits_(limits) {}

  json take_root() { return std::move(root_); }
  std::size_t documents() const { return documents_; }

  void OnDocumentStart(const YAML::Mark&) override { ++documents_; }
  void OnDocumentEnd() override {}

  void OnNull(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    count(mark, 1);
    if (key_expected()) return set_key(mark, "null", false);
    complete(json(nullptr), anchor, 1);
  }

  void OnAlias(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    const auto found = anchors_.find(anchor);
    if (found == anchors_.end()) fail(mark, "an alias inside its own anchor; refused");
    count(mark, found->second.second);
    if (key_expected()) fail(mark, "an alias used as a key; squall reads scalar keys only");
    complete(found->second.first, YAML::NullAnchor, found->second.second);
  }

  void OnScalar(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t anchor,
                const std::string& value) override {
    count(mark, 1);
    if (key_expected()) {
      const bool merge = value == "<<" && (tag == "?" || tag == tag_prefix + "merge");
      return set_key(mark, value, merge);
    }
    complete(scalar(mark, tag, value), anchor, 1);
  }

  void OnSequenceStart(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t anchor,
                       YAML::EmitterStyle::value) override {
    open(mark, tag, anchor, false);
  }
  void OnSequenceEnd() override { close(); }
  void OnMapStart(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t anchor,
                  YAML::EmitterStyle::value) override {
    open(mark, tag, anchor, true);
  }
  void OnMapEnd() override { close(); }

 private:
  struct entry {
    std::string key;
    bool merge = false;
    json value;
  };
  struct frame {
    bool is_map = false;
    YAML::Mark mark;
    YAML::anchor_t anchor = YAML::NullAnchor;
    std::string path;
    json items = json::array();  // a sequence's values
    std::vector<entry> entries;  // a mapping's, in order
    bool has_key = false;        // a mapping: the key of the next value has been read
    std::size_t nodes = 1;       // values inside, itself included
  };

  [[noreturn]] void fail(const YAML::Mark& mark, const std::string& message) {
    throw conversion_failure{config_error{{}, path_here(), "invalid YAML" + at(mark) + ": " + message}};
  }

  std::string path_here() const {
    if (stack_.empty()) return "$";
    const frame& f = stack_.back();
    if (!f.is_map) return json_path_index(f.path, f.items.size());
    if (f.has_key) return json_path_key(f.path, f.entries.back().key);
    return f.path;
  }

  void count(const YAML::Mark& mark, std::size_t n) {
    nodes_ += n;
    if (nodes_ > limits_.nodes_max) {
      fail(mark, "the document holds more than " + std::to_string(limits_.nodes_max) +
                     " values once its aliases are expanded; refused (is it a \"billion laughs\"?)");
    }
  }

  bool key_expected() const { return !stack_.empty() && stack_.back().is_map && !stack_.back().has_key; }

  void set_key(const YAML::Mark& mark, const std::string& key, bool merge) {
    frame& f = stack_.back();
    if (limits_.repeated_keys_refused && !merge &&
        std::any_of(f.entries.begin(), f.entries.end(), [&](const entry& e) { return !e.merge && e.key == key; })) {
      fail(mark, "the key \"" + valid_utf8(cut_utf8(key, 80)) + "\" is written twice in one mapping; keep one");
    }
    f.entries.push_back(entry{key, merge, json()});
    f.has_key = true;
  }

  void open(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t anchor, bool is_map) {
    count(mark, 1);
    if (key_expected()) fail(mark, "a mapping or sequence used as a key; squall reads scalar keys only");
    if (!tag.empty() && tag != "?" && tag != "!" && tag != tag_prefix + (is_map ? "map" : "seq")) {
      fail(mark, "the tag " + valid_utf8(cut_utf8(tag, 80)) + " is not read (PyYAML's safe_load refuses it too)");
    }
    if (stack_.size() >= limits_.depth_max) {
      fail(mark, "nested deeper than " + std::to_string(limits_.depth_max) + " levels; refused");
    }
    frame f;
    f.is_map = is_map;
    f.mark = mark;
    f.anchor = anchor;
    f.path = path_here();
    stack_.push_back(std::move(f));
  }

  void close() {
    frame f = std::move(stack_.back());
    stack_.pop_back();
    if (!f.is_map) return complete(std::move(f.items), f.anchor, f.nodes);
    complete(mapping(f), f.anchor, f.nodes);
  }

  // A mapping with PyYAML's merge keys: the entries of every "<<" first (for a sequence of mappings, the
  // later mapping first, so that the earlier one wins), then the explicit keys, each assignment overriding
  // an earlier one of the same key as Python's dict does (SafeConstructor.flatten_mapping).
  json mapping(const frame& f) {
    std::vector<std::pair<std::string, const json*>> merged;
    for (const auto& e : f.entries) {
      if (!e.merge) continue;
      const std::string merge_path = json_path_key(f.path, "<<");
      auto take = [&](const json& m) {
        for (auto it = m.begin(); it != m.end(); ++it) merged.emplace_back(it.key(), &it.value());
      };
      if (e.value.is_object()) {
        take(e.value);
      } else if (e.value.is_array() && std::all_of(e.value.begin(), e.value.end(),
                                                   [](const json& m) { return m.is_object(); })) {
        for (auto m = e.value.rbegin(); m != e.value.rend(); ++m) take(*m);
      } else {
        throw conversion_failure{config_error{{}, merge_path, "invalid YAML" + at(f.mark) +
                                                                  ": a merge key (<<) takes a mapping or a "
                                                                  "sequence of mappings"}};
      }
    }
    json out = json::object();
    for (const auto& [k, v] : merged) out[k] = *v;
    for (const auto& e : f.entries) {
      if (!e.merge) out[e.key] = e.value;
    }
    return out;
  }

  void complete(json value, YAML::anchor_t anchor, std::size_t nodes) {
    if (anchor != YAML::NullAnchor) anchors_[anchor] = {value, nodes};
    if (stack_.empty()) {
      root_ = std::move(value);
      return;
    }
    frame& f = stack_.back();
    f.nodes += nodes;
    if (f.is_map) {
      f.entries.back().value = std::move(value);
      f.has_key = false;
    } else {
      f.items.push_back(std::move(value));
    }
  }

  json scalar(const YAML::Mark& mark, const std::string& tag, const std::string& text) {
    if (tag == "!") return json(text);  // quoted, or a block scalar: always a string
    if (tag == "?" || tag.empty()) return resolve_plain(mark, text);
    if (tag == tag_prefix + "str") return json(text);
    if (tag == tag_prefix + "null" && is_null_text(text)) return json(nullptr);
    if (tag == tag_prefix + "bool" && (is_bool_true(text) || is_bool_false(text))) return json(is_bool_true(text));
    if (tag == tag_prefix + "int" && matches_int(text)) return resolve_plain(mark, text);
    if (tag == tag_prefix + "float" && (matches_float(text) || matches_int(text))) {
      return number(mark, construct_float(text));
    }
    fail(mark, "the tag " + valid_utf8(cut_utf8(tag, 80)) + " on \"" + valid_utf8(cut_utf8(text, 40)) +
                   "\" is not read (PyYAML's safe_load refuses unknown tags)");
  }

  json number(const YAML::Mark& mark, double value) {
    if (!std::isfinite(value)) fail(mark, "an infinite or NaN number; squall's JSON has none");
    return json(value);
  }

  json resolve_plain(const YAML::Mark& mark, const std::string& text) {
    if (is_null_text(text)) return json(nullptr);
    if (is_bool_true(text)) return json(true);
    if (is_bool_false(text)) return json(false);
    if (matches_int(text)) {
      auto value = construct_int(text);
      if (!value) fail(mark, "the integer " + cut_utf8(text, 40) + " does not fit in 64 bits");
      return json(*value);
    }
    if (matches_float(text)) return number(mark, construct_float(text));
    return json(text);
  }

  const yaml_limits& limits_;
  std::vector<frame> stack_;
  std::map<YAML::anchor_t, std::pair<json, std::size_t>> anchors_;
  json root_;
  std::size_t nodes_ = 0;
  std::size_t documents_ = 0;
};

}  // namespace

config_result<json> parse_yaml(std::string_view text, const yaml_limits& limits) {
  if (text.size() > limits.bytes_max) {
    return config_error{{}, {}, "the text is " + std::to_string(text.size()) + " bytes; expected at most " +
                                    std::to_string(limits.bytes_max)};
  }
  if (!is_valid_utf8(text)) return config_error{{}, {}, "invalid YAML: the text is not UTF-8"};
  if (auto bad = first_unprintable(text)) {
    std::size_t line = 1, column = 1;
    for (std::size_t i = 0; i < *bad; ++i) {
      if (text[i] == '\n') {
        ++line;
        column = 1;
      } else {
        ++column;
      }
    }
    return config_error{{}, {}, "invalid YAML at line " + std::to_string(line) + ", column " + std::to_string(column) +
                                    ": a control character YAML does not allow"};
  }
  try {
    std::istringstream in{std::string(text)};
    YAML::Parser parser(in);
    json_builder builder(limits);
    if (!parser.HandleNextDocument(builder)) return json(nullptr);
    json root = builder.take_root();
    const std::size_t first = builder.documents();
    if (parser.HandleNextDocument(builder) && builder.documents() > first) {
      return config_error{{}, {}, "invalid YAML: a second document; expected one (as LiteLLM's yaml.safe_load does)"};
    }
    return root;
  } catch (const conversion_failure& f) {
    return f.error;
  } catch (const YAML::Exception& e) {
    return config_error{{}, {}, "invalid YAML" + at(e.mark) + ": " + valid_utf8(cut_utf8(e.msg, 200))};
  } catch (const std::exception& e) {
    return config_error{{}, {}, std::string("invalid YAML: ") + e.what()};
  }
}

config_result<json> read_yaml_file(const std::filesystem::path& file, const yaml_limits& limits) {
  auto text = read_text_file(file, limits.bytes_max, "a YAML file");
  if (!text) return std::move(text).error();
  auto parsed = parse_yaml(*text, limits);
  if (!parsed) {
    config_error e = std::move(parsed).error();
    e.file = file.string();
    return e;
  }
  return parsed;
}

}  // namespace squall::documents
