#pragma once
// Reading an answer's text for the flaws of a brownout (Anthropic, August-September 2025): what the
// validate policy refuses, and what a live run counts as bad content the way the simulation's providers
// state it (outcome::flaw).

#include <string_view>

#include "policies/core/outcome.hpp"

namespace squall {

// Whether a finish reason says the provider cut the answer at its length limit: OpenAI's "length",
// Anthropic's "max_tokens", Gemini's "MAX_TOKENS" (as the HTTP transport decodes them).
bool cut_by_length(std::string_view finish_reason) noexcept;

// Whether the text is empty or only white space.
bool blank_text(std::string_view text) noexcept;

// The flaw an ok answer shows by itself, without knowing what the caller asked: blank text is empty, a
// finish reason of the length limit is truncated, and text that opens like JSON ('{' or '[' after white
// space) but does not parse is invalid_json. Plain prose is no flaw: only the caller knows it wanted JSON
// (the validate policy's "json" option).
content_flaw evident_flaw(std::string_view text, std::string_view finish_reason);

}  // namespace squall
