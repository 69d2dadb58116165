#include "policies/core/content_flaw.hpp"

#include <nlohmann/json.hpp>

#include "policies/core/json_parse.hpp"

namespace squall {

bool cut_by_length(std::string_view finish_reason) noexcept {
  return finish_reason == "length" || finish_reason == "max_tokens" || finish_reason == "MAX_TOKENS";
}

bool blank_text(std::string_view text) noexcept {
  return text.find_first_not_of(" \t\r\n") == std::string_view::npos;
}

content_flaw evident_flaw(std::string_view text, std::string_view finish_reason) {
  if (blank_text(text)) return content_flaw::empty;
  if (cut_by_length(finish_reason)) return content_flaw::truncated;
  const char first = text[text.find_first_not_of(" \t\r\n")];
  if ((first == '{' || first == '[') && !parse_json_as<nlohmann::json>(text)) return content_flaw::invalid_json;
  return content_flaw::none;
}

}  // namespace squall
