#include "policies/prompt_trim/trim_messages.hpp"

#include <algorithm>

namespace squall {
namespace {

// Byte counts a message may keep to stay within `tokens` (the inverse of estimate_tokens).
std::size_t bytes_for(std::uint32_t tokens) noexcept { return static_cast<std::size_t>(tokens) * 4; }

// The last at most `bytes_max` bytes of `text`, starting on a character boundary.
std::string keep_tail(const std::string& text, std::size_t bytes_max) {
  if (text.size() <= bytes_max) return text;
  std::size_t start = text.size() - bytes_max;
  // Step past continuation bytes (10xxxxxx) to the next character's first byte.
  while (start < text.size() && (static_cast<unsigned char>(text[start]) & 0xC0U) == 0x80U) ++start;
  return text.substr(start);
}

// The first at most `bytes_max` bytes of `text`, ending before a character that would not fit whole.
std::string keep_head(const std::string& text, std::size_t bytes_max) {
  if (text.size() <= bytes_max) return text;
  std::size_t end = bytes_max;
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0U) == 0x80U) --end;
  return text.substr(0, end);
}

}  // namespace

std::uint32_t estimate_message_tokens(const std::vector<chat_message>& messages) noexcept {
  std::uint64_t total = 0;
  for (const chat_message& m : messages) total += estimate_tokens(m.content);
  return total > 0xFFFFFFFFU ? 0xFFFFFFFFU : static_cast<std::uint32_t>(total);
}

std::vector<chat_message> trim_messages(std::vector<chat_message> messages, std::uint32_t tokens_max) {
  auto non_system = [&] {
    std::size_t n = 0;
    for (const chat_message& m : messages) n += m.role != "system" ? 1U : 0U;
    return n;
  };
  // 1. Whole turns, oldest first, keeping the last one.
  while (estimate_message_tokens(messages) > tokens_max && non_system() > 1) {
    for (auto it = messages.begin(); it != messages.end(); ++it) {
      if (it->role != "system") {
        messages.erase(it);
        break;
      }
    }
  }
  // 2. The start of the last turn; 3. the end of system messages, last first.
  const std::uint32_t total = estimate_message_tokens(messages);
  if (total <= tokens_max) return messages;
  std::uint32_t over = total - tokens_max;
  auto shrink = [&](chat_message& m, bool keep_end) {
    const std::uint32_t have = estimate_tokens(m.content);
    const std::uint32_t keep = have > over ? have - over : 0;
    m.content = keep_end ? keep_tail(m.content, bytes_for(keep)) : keep_head(m.content, bytes_for(keep));
    const std::uint32_t now = estimate_tokens(m.content);
    over -= std::min(over, have - now);
  };
  for (chat_message& m : messages) {
    if (over > 0 && m.role != "system") shrink(m, true);
  }
  for (auto it = messages.rbegin(); it != messages.rend() && over > 0; ++it) {
    if (it->role == "system") shrink(*it, false);
  }
  return messages;
}

}  // namespace squall
