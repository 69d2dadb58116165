#pragma once
// Trimming real messages to a token budget, for calls that carry a payload (production). Tokens are
// estimated by estimate_tokens (four characters a token) per message; no tokenizer is needed.
//
// Order of sacrifice, so that the model keeps its instructions and the question being asked:
//  1. whole non-system messages, oldest first, while more than one non-system message remains;
//  2. the start of the remaining non-system message (its end, the latest words, is kept);
//  3. the end of system messages, last system message first.
// Cuts fall on UTF-8 character boundaries.

#include <cstdint>
#include <vector>

#include "policies/core/payload.hpp"

namespace squall {

// The estimated input tokens of a list of messages: the sum over their contents.
std::uint32_t estimate_message_tokens(const std::vector<chat_message>& messages) noexcept;

// The messages cut to at most `tokens_max` estimated tokens by the order above.
std::vector<chat_message> trim_messages(std::vector<chat_message> messages, std::uint32_t tokens_max);

}  // namespace squall
