#include "sim/scenario/placeholders.hpp"

#include <algorithm>
#include <charconv>

namespace squall::sim {
namespace {

// Walks `text`, calling on_literal for plain text and on_name for each ${name}; false on a syntax error
// (an unclosed "${"), with the offset in `at`.
template <class Literal, class Name>
bool scan(std::string_view text, Literal&& on_literal, Name&& on_name, std::size_t& at) {
  std::size_t i = 0;
  while (i < text.size()) {
    const std::size_t open = text.find('$', i);
    if (open == std::string_view::npos) {
      on_literal(text.substr(i));
      return true;
    }
    on_literal(text.substr(i, open - i));
    if (text.substr(open).starts_with("$${")) {  // an escaped "${"
      on_literal("${");
      i = open + 3;
      continue;
    }
    if (!text.substr(open).starts_with("${")) {
      on_literal("$");
      i = open + 1;
      continue;
    }
    const std::size_t close = text.find('}', open + 2);
    if (close == std::string_view::npos) {
      at = open;
      return false;
    }
    on_name(text.substr(open + 2, close - open - 2));
    i = close + 1;
  }
  return true;
}

}  // namespace

placeholder_rules start_placeholders(const std::vector<std::string>& providers) {
  placeholder_rules r;
  r.where = "in the service's command or environment";
  r.names.push_back("port");
  for (const auto& p : providers) {
    r.names.push_back("providers." + p + ".base_url");
    r.names.push_back("providers." + p + ".origin");
  }
  return r;
}

placeholder_rules request_placeholders() {
  return {{"request_id", "prompt", "model", "provider", "input_tokens", "output_tokens"}, "in the request template"};
}

std::optional<config_error> check_placeholders(std::string_view text, const placeholder_rules& rules,
                                               const std::string& path) {
  std::optional<config_error> error;
  std::size_t at = 0;
  const bool closed = scan(
      text, [](std::string_view) {},
      [&](std::string_view name) {
        if (error) return;
        if (std::find(rules.names.begin(), rules.names.end(), name) != rules.names.end()) return;
        std::string list;
        for (const auto& n : rules.names) list += (list.empty() ? "" : ", ") + ("${" + n + "}");
        error = config_error{{}, path, "unknown placeholder ${" + std::string(name) + "} " + rules.where +
                                            "; the placeholders are " + list + " (write $${ for a literal ${)"};
      },
      at);
  if (!closed) return config_error{{}, path, "\"${\" at offset " + std::to_string(at) + " is not closed by \"}\""};
  return error;
}

std::string expand_placeholders(std::string_view text, const std::function<std::string(std::string_view)>& value) {
  std::string out;
  out.reserve(text.size());
  std::size_t at = 0;
  scan(
      text, [&](std::string_view literal) { out.append(literal); },
      [&](std::string_view name) { out += value(name); }, at);
  return out;
}

std::string_view sole_placeholder(std::string_view text) noexcept {
  if (text.size() < 4 || !text.starts_with("${") || !text.ends_with("}")) return {};
  const std::string_view name = text.substr(2, text.size() - 3);
  if (name.find_first_of("${}") != std::string_view::npos) return {};
  return name;
}

std::optional<std::string> check_json_path(std::string_view path) {
  const std::string expected = "expected a JSON path such as \"$.answer\", \"$.choices[0].text\" or "
                               "\"$[\\\"key with spaces\\\"]\", got \"" + std::string(path) + "\"";
  if (path.empty() || path[0] != '$') return expected;
  std::size_t i = 1;
  while (i < path.size()) {
    if (path[i] == '.') {
      std::size_t j = i + 1;
      while (j < path.size() && path[j] != '.' && path[j] != '[') ++j;
      if (j == i + 1) return expected;
      i = j;
    } else if (path[i] == '[') {
      const std::size_t close = path.find(']', i);
      if (close == std::string_view::npos || close == i + 1) return expected;
      const std::string_view inside = path.substr(i + 1, close - i - 1);
      const bool quoted = inside.size() >= 2 && inside.front() == '"' && inside.back() == '"';
      const bool digits = std::all_of(inside.begin(), inside.end(), [](char c) { return c >= '0' && c <= '9'; });
      if (!quoted && !(digits && inside.size() <= 9)) return expected;
      i = close + 1;
    } else {
      return expected;
    }
  }
  return std::nullopt;
}

const json* find_json_path(const json& document, std::string_view path) {
  const json* at = &document;
  std::size_t i = 1;
  while (i < path.size() && at) {
    if (path[i] == '.') {
      std::size_t j = i + 1;
      while (j < path.size() && path[j] != '.' && path[j] != '[') ++j;
      const std::string key(path.substr(i + 1, j - i - 1));
      at = at->is_object() && at->contains(key) ? &(*at)[key] : nullptr;
      i = j;
    } else {
      const std::size_t close = path.find(']', i);
      const std::string_view inside = path.substr(i + 1, close - i - 1);
      if (inside.front() == '"') {
        const std::string key(inside.substr(1, inside.size() - 2));
        at = at->is_object() && at->contains(key) ? &(*at)[key] : nullptr;
      } else {
        std::size_t index = 0;
        std::from_chars(inside.data(), inside.data() + inside.size(), index);
        at = at->is_array() && index < at->size() ? &(*at)[index] : nullptr;
      }
      i = close + 1;
    }
  }
  return at;
}

}  // namespace squall::sim
