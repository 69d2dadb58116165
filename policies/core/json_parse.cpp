#include "policies/core/json_parse.hpp"

#include <fstream>
#include <memory>
#include <optional>
#include <sstream>
#include <type_traits>
#include <unordered_set>
#include <vector>

#include "policies/core/json_reader.hpp"

namespace squall {
namespace {

}  // namespace

std::size_t utf8_length_at(std::string_view text, std::size_t i) noexcept {
  const auto b0 = static_cast<unsigned char>(text[i]);
  if (b0 < 0x80) return 1;
  std::size_t n = 0;
  unsigned char lo = 0x80, hi = 0xBF;  // the allowed range of the second byte
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    n = 2;
  } else if (b0 == 0xE0) {
    n = 3;
    lo = 0xA0;  // no overlong forms
  } else if ((b0 >= 0xE1 && b0 <= 0xEC) || b0 == 0xEE || b0 == 0xEF) {
    n = 3;
  } else if (b0 == 0xED) {
    n = 3;
    hi = 0x9F;  // no UTF-16 surrogates
  } else if (b0 == 0xF0) {
    n = 4;
    lo = 0x90;
  } else if (b0 >= 0xF1 && b0 <= 0xF3) {
    n = 4;
  } else if (b0 == 0xF4) {
    n = 4;
    hi = 0x8F;  // nothing past U+10FFFF
  } else {
    return 0;
  }
  if (i + n > text.size()) return 0;
  for (std::size_t k = 1; k < n; ++k) {
    const auto b = static_cast<unsigned char>(text[i + k]);
    if (k == 1 ? (b < lo || b > hi) : (b < 0x80 || b > 0xBF)) return 0;
  }
  return n;
}

namespace {

// A key or an array index on the way from the root to where the parser is.
struct path_step {
  bool in_array = false;
  std::size_t index = 0;
  std::string key;
};

std::string render_path(const std::vector<path_step>& steps, std::size_t count) {
  std::string path = "$";
  for (std::size_t i = 0; i < count && i < steps.size(); ++i) {
    path = steps[i].in_array ? json_path_index(path, steps[i].index) : json_path_key(path, valid_utf8(cut_utf8(steps[i].key, 80)));
  }
  return path;
}

// What the parser expected, for nlohmann messages that do not say ("syntax error while parsing value -
// invalid literal; last read: 'N'"): a person needs to know what would have been right.
std::string expectation_for(const std::string& message) {
  if (message.find("expected") != std::string::npos) return {};
  if (message.find("while parsing value") != std::string::npos) {
    return "; expected a JSON value: an object, an array, a string in double quotes, a number, true, false or null";
  }
  if (message.find("while parsing object key") != std::string::npos) return "; expected a key in double quotes";
  if (message.find("while parsing object separator") != std::string::npos) return "; expected ':' after the key";
  if (message.find("while parsing object") != std::string::npos) return "; expected ',' or '}'";
  if (message.find("while parsing array") != std::string::npos) return "; expected ',' or ']'";
  if (message.find("end of input") != std::string::npos) return "; expected the end of the document";
  return "; expected valid JSON (RFC 8259)";
}

// Builds the tree from nlohmann's SAX events (its parser is iterative; only a tree builder recurses,
// and this one does not), refusing depth, repeated keys and oversized input as it goes.
template <class Json>
class tree_builder {
 public:
  using number_integer_t = typename Json::number_integer_t;
  using number_unsigned_t = typename Json::number_unsigned_t;
  using number_float_t = typename Json::number_float_t;
  using string_t = typename Json::string_t;
  using binary_t = typename Json::binary_t;
  using object_t = typename Json::object_t;

  tree_builder(Json& root, const json_parse_limits& limits) : root_(root), limits_(limits) {}

  bool null() { return value(Json(nullptr)); }
  bool boolean(bool v) { return value(Json(v)); }
  bool number_integer(number_integer_t v) { return value(Json(v)); }
  bool number_unsigned(number_unsigned_t v) { return value(Json(v)); }
  bool number_float(number_float_t v, const string_t& /*text*/) { return value(Json(v)); }
  bool string(string_t& v) { return value(Json(std::move(v))); }
  bool binary(binary_t& /*v*/) { return fail_at(frames_.size(), "binary values are not JSON"); }

  bool start_object(std::size_t /*size*/) { return open(Json::value_t::object); }
  bool start_array(std::size_t /*size*/) { return open(Json::value_t::array); }
  bool end_object() { return close(); }
  bool end_array() { return close(); }

  bool key(string_t& k) {
    frame& f = frames_.back();
    auto& members = f.container->template get_ref<object_t&>();
    steps_.back().key = k;
    bool repeated = false;
    if constexpr (std::is_same_v<object_t, nlohmann::ordered_map<std::string, Json>>) {
      // ordered_map finds by a linear scan: past a few members, a hash set keeps a large object linear.
      if (members.size() >= 16 && !f.seen) {
        f.seen = std::make_unique<std::unordered_set<std::string>>();
        for (const auto& [name, v] : members) f.seen->insert(name);
      }
      if (f.seen) {
        repeated = !f.seen->insert(k).second;
      } else {
        for (const auto& [name, v] : members) {
          if (name == k) {
            repeated = true;
            break;
          }
        }
      }
      if (!repeated) {
        members.emplace_back(std::move(k), Json());
        f.pending = &members.back().second;
      }
    } else {
      auto [it, inserted] = members.emplace(std::move(k), Json());
      repeated = !inserted;
      if (inserted) f.pending = &it->second;
    }
    if (repeated) return fail_at(frames_.size(), "the key appears twice in its object; expected each key once");
    return true;
  }

  bool parse_error(std::size_t /*byte*/, const std::string& /*last_token*/, const nlohmann::detail::exception& e) {
    // "[json.exception.parse_error.101] parse error at line 1, column 16: syntax error while parsing value -
    // invalid literal; last read: 'N'": keep the place and the reason, add what was expected.
    std::string what = e.what();
    const std::size_t at = what.find("at line ");
    std::string place;
    std::string reason = what;
    if (at != std::string::npos) {
      const std::size_t colon = what.find(": ", at);
      if (colon != std::string::npos) {
        place = what.substr(at, colon - at);
        reason = what.substr(colon + 2);
      }
    }
    if (const std::size_t dash = reason.find(" - "); dash != std::string::npos && reason.rfind("syntax error", 0) == 0) {
      reason = reason.substr(dash + 3);  // "invalid literal; last read: 'N'"
    }
    std::string message = "invalid JSON" + (place.empty() ? std::string() : " " + place) + ": " +
                          valid_utf8(cut_utf8(reason, 200)) + expectation_for(what);
    if (!error_) error_ = config_error{{}, {}, std::move(message)};
    return false;
  }

  std::optional<config_error>& error() { return error_; }

 private:
  struct frame {
    Json* container = nullptr;
    Json* pending = nullptr;  // the member a key() has just added, waiting for its value
    std::unique_ptr<std::unordered_set<std::string>> seen;
  };

  // Where the next value goes: the root, the member named by the last key, or the end of an array.
  Json* slot() {
    if (frames_.empty()) return &root_;
    frame& f = frames_.back();
    if (f.container->is_array()) {
      steps_.back().index = f.container->size();
      f.container->push_back(Json());
      return &f.container->back();
    }
    Json* p = f.pending;
    f.pending = nullptr;
    return p;
  }

  bool value(Json v) {
    *slot() = std::move(v);
    return true;
  }

  bool open(typename Json::value_t type) {
    if (frames_.size() >= limits_.depth_max) {
      if (frames_.back().container->is_array()) steps_.back().index = frames_.back().container->size();
      return fail_at(frames_.size(), "objects and arrays nested more than " + std::to_string(limits_.depth_max) +
                                         " deep; expected at most " + std::to_string(limits_.depth_max) +
                                         " levels");
    }
    Json* target = slot();
    *target = Json(type);
    frames_.push_back(frame{target, nullptr, nullptr});
    path_step step;
    step.in_array = type == Json::value_t::array;
    steps_.push_back(std::move(step));
    return true;
  }

  bool close() {
    frames_.pop_back();
    steps_.pop_back();
    return true;
  }

  bool fail_at(std::size_t depth, std::string message) {
    if (!error_) error_ = config_error{{}, render_path(steps_, depth), std::move(message)};
    return false;
  }

  Json& root_;
  const json_parse_limits& limits_;
  std::vector<frame> frames_;
  std::vector<path_step> steps_;
  std::optional<config_error> error_;
};

}  // namespace

template <class Json>
config_result<Json> parse_json_as(std::string_view text, const json_parse_limits& limits) {
  if (text.size() > limits.bytes_max) {
    return config_error{{}, {}, "the text is " + std::to_string(text.size()) + " bytes; expected at most " +
                                    std::to_string(limits.bytes_max)};
  }
  Json root;
  tree_builder<Json> builder(root, limits);
  bool parsed = false;
  try {
    parsed = Json::sax_parse(text.begin(), text.end(), &builder, Json::input_format_t::json, /*strict=*/true,
                             /*ignore_comments=*/false);
  } catch (const std::exception& e) {  // allocation failure or a limit of nlohmann's: still an error value
    if (!builder.error()) builder.error() = config_error{{}, {}, std::string("cannot read the JSON: ") + e.what()};
  }
  if (builder.error()) return std::move(*builder.error());
  if (!parsed) return config_error{{}, {}, "invalid JSON; expected one JSON document"};
  return root;
}

template config_result<nlohmann::json> parse_json_as<nlohmann::json>(std::string_view, const json_parse_limits&);
template config_result<nlohmann::ordered_json> parse_json_as<nlohmann::ordered_json>(std::string_view,
                                                                                      const json_parse_limits&);

config_result<nlohmann::ordered_json> parse_json(std::string_view text, const json_parse_limits& limits) {
  return parse_json_as<nlohmann::ordered_json>(text, limits);
}

config_result<nlohmann::ordered_json> parse_json_line(std::string_view line, const json_parse_limits& limits) {
  auto parsed = parse_json(line, limits);
  if (!parsed) {
    config_error e = std::move(parsed).error();
    const std::string_view first_line = "invalid JSON at line 1, ";
    if (e.message.rfind(first_line, 0) == 0) e.message = "invalid JSON at " + e.message.substr(first_line.size());
    return e;
  }
  return parsed;
}

config_result<std::string> read_text_file(const std::filesystem::path& file, std::size_t bytes_max,
                                          std::string_view kind) {
  std::error_code ec;
  if (std::filesystem::is_directory(file, ec)) {
    return config_error{file.string(), {}, "is a directory; expected " + std::string(kind)};
  }
  std::ifstream in(file, std::ios::binary);
  if (!in) return config_error{file.string(), {}, "cannot open the file (does it exist and is it readable?)"};
  const auto size = std::filesystem::file_size(file, ec);
  if (!ec && size > bytes_max) {
    return config_error{file.string(), {}, "the file is " + std::to_string(size) + " bytes; expected at most " +
                                               std::to_string(bytes_max)};
  }
  std::stringstream buffer;
  buffer << in.rdbuf();
  if (in.bad()) return config_error{file.string(), {}, "cannot read the file"};
  return buffer.str();
}

config_result<nlohmann::ordered_json> read_json_file(const std::filesystem::path& file,
                                                     const json_parse_limits& limits) {
  auto text = read_text_file(file, limits.bytes_max, "a JSON file");
  if (!text) return std::move(text).error();
  auto parsed = parse_json(*text, limits);
  if (!parsed) {
    config_error e = std::move(parsed).error();
    e.file = file.string();
    // A YAML file where JSON is read: say so rather than only where the JSON went wrong.
    const std::string extension = file.extension().string();
    if (extension == ".yaml" || extension == ".yml") {
      e.message = "is a YAML file (by its name); squall reads policy, trace and results files as JSON, only "
                  "scenario files may be YAML (" + e.message + ")";
    }
    return e;
  }
  return parsed;
}

std::string cut_utf8(std::string_view text, std::size_t bytes_max) {
  if (text.size() <= bytes_max) return std::string(text);
  const std::size_t room = bytes_max > 3 ? bytes_max - 3 : 0;
  std::size_t end = 0;
  while (end < room) {
    const std::size_t n = utf8_length_at(text, end);
    const std::size_t step = n == 0 ? 1 : n;  // a stray byte is cut alone; valid_utf8 replaces it later
    if (end + step > room) break;
    end += step;
  }
  return std::string(text.substr(0, end)) + "...";
}

std::string valid_utf8(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  std::size_t i = 0;
  while (i < text.size()) {
    const std::size_t n = utf8_length_at(text, i);
    if (n == 0) {
      out += "\xEF\xBF\xBD";
      ++i;
    } else {
      out.append(text.substr(i, n));
      i += n;
    }
  }
  return out;
}

bool is_valid_utf8(std::string_view text) noexcept {
  for (std::size_t i = 0; i < text.size();) {
    const std::size_t n = utf8_length_at(text, i);
    if (n == 0) return false;
    i += n;
  }
  return true;
}

}  // namespace squall
