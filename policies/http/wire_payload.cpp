#include "policies/http/wire_payload.hpp"

#include <cmath>

#include <nlohmann/json.hpp>

#include "policies/core/json_parse.hpp"
#include "policies/core/json_text.hpp"

namespace squall {
namespace {

using njson = nlohmann::json;

std::string string_at(const njson& parent, const char* key) {
  const auto it = parent.find(key);
  return it != parent.end() && it->is_string() ? it->get<std::string>() : std::string{};
}

void append_message(std::string& body, const chat_message& m) {
  body += R"({"role":)";
  append_json_string(body, m.role);
  body += R"(,"content":)";
  append_json_string(body, m.content);
  body += '}';
}

void append_number(std::string& body, double value) {
  body += njson(value).dump();  // the shortest text that reads back; never throws for a finite number
}

}  // namespace

std::string encode_payload_request(api_kind api, std::string_view model, const call_payload& payload,
                                   std::uint32_t max_tokens_default, bool stream) {
  std::string body;
  body.reserve(payload.prompt.size() + 64 * payload.messages.size() + model.size() + 160);
  body += R"({"model":)";
  append_json_string(body, model);
  const std::uint32_t* max_tokens = payload.max_tokens ? &*payload.max_tokens : nullptr;
  if (api == api_kind::anthropic) {
    body += R"(,"max_tokens":)" + std::to_string(max_tokens != nullptr ? *max_tokens : max_tokens_default);
    std::string system;
    for (const chat_message& m : payload.messages) {
      if (m.role != "system") continue;
      if (!system.empty()) system += "\n\n";
      system += m.content;
    }
    if (!system.empty()) {
      body += R"(,"system":)";
      append_json_string(body, system);
    }
  }
  body += R"(,"messages":[)";
  bool first = true;
  for (const chat_message& m : payload.messages) {
    if (api == api_kind::anthropic && m.role == "system") continue;
    if (!first) body += ',';
    first = false;
    append_message(body, m);
  }
  body += ']';
  if (api == api_kind::openai && max_tokens != nullptr) body += R"(,"max_tokens":)" + std::to_string(*max_tokens);
  if (payload.temperature && std::isfinite(*payload.temperature)) {
    body += R"(,"temperature":)";
    append_number(body, *payload.temperature);
  }
  body += stream ? R"(,"stream":true)" : R"(,"stream":false)";
  if (api == api_kind::openai && stream) body += R"(,"stream_options":{"include_usage":true})";
  body += '}';
  return body;
}

bool read_answer_text(api_kind api, std::string_view body, answer_payload& out) {
  auto parsed = parse_json_as<njson>(body);
  if (!parsed || !parsed->is_object()) return false;
  const njson& doc = *parsed;
  out.response_id = string_at(doc, "id");
  if (api == api_kind::openai) {
    const auto choices = doc.find("choices");
    if (choices == doc.end() || !choices->is_array()) return false;
    if (!choices->empty() && choices->front().is_object()) {
      const njson& choice = choices->front();
      out.finish_reason = string_at(choice, "finish_reason");
      if (const auto message = choice.find("message"); message != choice.end() && message->is_object()) {
        out.text = string_at(*message, "content");
      }
    }
    return true;
  }
  const auto content = doc.find("content");
  if (content == doc.end() || !content->is_array()) return false;
  for (const njson& block : *content) {
    if (block.is_object() && string_at(block, "type") == "text") out.text += string_at(block, "text");
  }
  out.finish_reason = string_at(doc, "stop_reason");
  return true;
}

void read_error_text(std::string_view body, answer_payload& out) {
  out.error_type = decode_error_type(body);
  auto parsed = parse_json_as<njson>(body);
  if (!parsed || !parsed->is_object()) return;
  const auto error = parsed->find("error");
  if (error != parsed->end() && error->is_object()) out.error_message = string_at(*error, "message");
}

}  // namespace squall
