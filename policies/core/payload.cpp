#include "policies/core/payload.hpp"

#include <utility>

namespace squall {
namespace {

std::string joined_contents(const std::vector<chat_message>& messages) {
  std::string text;
  for (const chat_message& m : messages) {
    if (!text.empty()) text += '\n';
    text += m.content;
  }
  return text;
}

}  // namespace

payload_ptr make_chat_payload(std::vector<chat_message> messages, std::optional<std::uint32_t> max_tokens,
                              std::optional<double> temperature) {
  auto p = std::make_shared<call_payload>();
  p->prompt = joined_contents(messages);
  p->messages = std::move(messages);
  p->max_tokens = max_tokens;
  p->temperature = temperature;
  return p;
}

payload_ptr make_raw_payload(std::string body, std::string path) {
  auto p = std::make_shared<call_payload>();
  p->prompt = body;
  p->raw_body = std::move(body);
  p->path = std::move(path);
  return p;
}

payload_ptr with_messages(const call_payload& from, std::vector<chat_message> messages) {
  auto p = std::make_shared<call_payload>(from);
  p->prompt = joined_contents(messages);
  p->messages = std::move(messages);
  return p;
}

std::uint32_t estimate_tokens(std::string_view text) noexcept {
  if (text.empty()) return 0;
  const std::size_t tokens = (text.size() + 3) / 4;
  return tokens > 0xFFFFFFFFU ? 0xFFFFFFFFU : static_cast<std::uint32_t>(tokens);
}

}  // namespace squall
