#include "documents/environment.hpp"

#include <algorithm>
#include <cctype>
#include <cstdlib>

#include "policies/core/json_parse.hpp"

namespace squall::documents {
namespace {

bool is_upper_name_start(char c) { return (c >= 'A' && c <= 'Z') || c == '_'; }
bool is_upper_name_char(char c) { return is_upper_name_start(c) || (c >= '0' && c <= '9'); }

// One ${NAME} or ${NAME:-default} found in a text.
struct reference {
  std::size_t begin = 0;  // the '$'
  std::size_t end = 0;    // one past the '}'
  std::string name;
  std::optional<std::string> fallback;
};

class expander {
 public:
  explicit expander(const environment_lookup& lookup) : lookup_(lookup) {}

  std::optional<config_error> walk(json& node, const std::string& path) {
    if (node.is_object()) {
      for (auto it = node.begin(); it != node.end(); ++it) {
        if (auto e = walk(it.value(), json_path_key(path, it.key()))) return e;
      }
    } else if (node.is_array()) {
      for (std::size_t i = 0; i < node.size(); ++i) {
        if (auto e = walk(node[i], json_path_index(path, i))) return e;
      }
    } else if (node.is_string()) {
      return expand(node, path);
    }
    return std::nullopt;
  }

  std::vector<used_variable> take_used() { return std::move(used_); }

 private:
  std::optional<config_error> expand(json& node, const std::string& path) {
    const std::string text = node.get<std::string>();
    if (text.find("${") == std::string::npos) return std::nullopt;
    std::vector<reference> refs;
    if (auto e = find_references(text, path, refs)) return e;
    if (refs.empty()) return std::nullopt;
    std::string out;
    std::size_t at = 0;
    for (const auto& r : refs) {
      out.append(text, at, r.begin - at);
      auto value = resolve(r, path);
      if (!value) return std::move(value).error();
      out += *value;
      at = r.end;
    }
    out.append(text, at, std::string::npos);
    // Exactly one placeholder: a number or a boolean becomes one, so that "${RATE}" can stand for a number.
    if (refs.size() == 1 && refs.front().begin == 0 && refs.front().end == text.size()) {
      auto typed = parse_json(out);
      if (typed && (typed->is_number() || typed->is_boolean())) {
        node = std::move(*typed);
        return std::nullopt;
      }
    }
    node = std::move(out);
    return std::nullopt;
  }

  static std::optional<config_error> find_references(const std::string& text, const std::string& path,
                                                     std::vector<reference>& refs) {
    std::size_t i = 0;
    while ((i = text.find('$', i)) != std::string::npos) {
      if (text.compare(i, 3, "$${") == 0) {  // the service block's escape, left for its reader
        i += 3;
        continue;
      }
      if (text.compare(i, 2, "${") != 0) {
        ++i;
        continue;
      }
      const std::size_t start = i + 2;
      if (start >= text.size() || !is_upper_name_start(text[start])) {
        i = start;  // a lower-case ${name}: a service placeholder, or a mistake its reader reports
        continue;
      }
      std::size_t j = start;
      while (j < text.size() && is_upper_name_char(text[j])) ++j;
      reference r;
      r.begin = i;
      r.name = text.substr(start, j - start);
      if (j < text.size() && text[j] == '}') {
        r.end = j + 1;
      } else if (text.compare(j, 2, ":-") == 0) {
        const std::size_t close = text.find('}', j + 2);
        if (close == std::string::npos) {
          return config_error{{}, path, "unclosed \"${" + r.name + ":-\"; expected ${" + r.name + ":-default}"};
        }
        r.fallback = text.substr(j + 2, close - j - 2);
        r.end = close + 1;
      } else if (j >= text.size()) {
        return config_error{{}, path, "unclosed \"${" + r.name + "\"; expected ${" + r.name + "}"};
      } else {
        return config_error{{}, path,
                            "\"${" + cut_utf8(text.substr(start), 40) +
                                "\": an environment variable's name is upper-case letters, digits and _, then "
                                "\"}\" or \":-default}\" (e.g. ${RATE} or ${RATE:-50}); lower-case names are a "
                                "service block's own placeholders"};
      }
      refs.push_back(std::move(r));
      i = refs.back().end;
    }
    return std::nullopt;
  }

  config_result<std::string> resolve(const reference& r, const std::string& path) {
    std::optional<std::string> value = lookup_(r.name);
    bool defaulted = false;
    if (!value) {
      if (!r.fallback) {
        return config_error{{}, path,
                            "the environment variable " + r.name + " is not set; export it, pass --env " + r.name +
                                "=VALUE, or give a default: ${" + r.name + ":-VALUE}"};
      }
      value = r.fallback;
      defaulted = true;
    }
    const bool seen = std::any_of(used_.begin(), used_.end(), [&](const used_variable& u) { return u.name == r.name; });
    if (!seen) used_.push_back(used_variable{r.name, *value, defaulted});
    return *value;
  }

  const environment_lookup& lookup_;
  std::vector<used_variable> used_;
};

}  // namespace

environment_lookup process_environment() {
  return [](std::string_view name) -> std::optional<std::string> {
    const std::string key(name);
    const char* value = std::getenv(key.c_str());  // NOLINT(concurrency-mt-unsafe): read before any thread starts
    if (value == nullptr) return std::nullopt;
    return std::string(value);
  };
}

config_result<std::vector<used_variable>> expand_environment(json& document, const environment_lookup& lookup) {
  expander e(lookup);
  if (auto error = e.walk(document, "$")) return *error;
  return e.take_used();
}

bool looks_secret(std::string_view name) {
  std::string upper(name);
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  for (const char* word : {"KEY", "TOKEN", "SECRET", "PASSWORD", "PASSWD", "CREDENTIAL", "AUTH"}) {
    if (upper.find(word) != std::string::npos) return true;
  }
  return false;
}

}  // namespace squall::documents
