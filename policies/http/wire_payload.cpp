#include "policies/http/wire_payload.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

#include <nlohmann/json.hpp>
#include <simdjson.h>

#include "policies/core/json_parse.hpp"
#include "policies/core/json_text.hpp"
#include "policies/http/json_fields.hpp"

namespace squall {
namespace {

using njson = nlohmann::json;

using wire_detail::string_at;

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

// The fast path reads only documents the tree reader would take as they are: no repeated key in any
// object, and nesting well inside json_parse's limit of 64 (anything deeper goes to the tree, which
// applies the exact rule). simdjson and nlohmann take the same grammar and both refuse invalid UTF-8;
// what simdjson refuses that nlohmann takes (integers beyond 64 bits) also goes to the tree.
constexpr std::size_t fast_depth_max = 32;

bool tree_would_take(simdjson::dom::element e, std::size_t depth) {
  simdjson::dom::object object;
  simdjson::dom::array array;
  if (e.get_object().get(object) == simdjson::SUCCESS) {
    if (depth >= fast_depth_max) return false;
    std::vector<std::string_view> keys;
    for (const simdjson::dom::key_value_pair field : object) {
      keys.push_back(field.key);
      if (!tree_would_take(field.value, depth + 1)) return false;
    }
    std::sort(keys.begin(), keys.end());
    return std::adjacent_find(keys.begin(), keys.end()) == keys.end();
  }
  if (e.get_array().get(array) == simdjson::SUCCESS) {
    if (depth >= fast_depth_max) return false;
    for (const simdjson::dom::element item : array) {
      if (!tree_would_take(item, depth + 1)) return false;
    }
  }
  return true;
}

std::string string_at(simdjson::dom::object parent, std::string_view key) {
  std::string_view s;
  return parent.at_key(key).get_string().get(s) == simdjson::SUCCESS ? std::string(s) : std::string{};
}

// Gemini's answer on simdjson: the first candidate's text parts joined, its finishReason, responseId.
bool read_gemini_answer_from(simdjson::dom::object doc, answer_payload& out) {
  out.response_id = string_at(doc, "responseId");
  simdjson::dom::array candidates;
  if (doc.at_key("candidates").get_array().get(candidates) != simdjson::SUCCESS) return false;
  simdjson::dom::object candidate;
  if (candidates.size() == 0 || candidates.at(0).get_object().get(candidate) != simdjson::SUCCESS) return true;
  out.finish_reason = string_at(candidate, "finishReason");
  simdjson::dom::array parts;
  if (candidate.at_key("content").at_key("parts").get_array().get(parts) != simdjson::SUCCESS) return true;
  for (const simdjson::dom::element part : parts) {
    simdjson::dom::object p;
    if (part.get_object().get(p) == simdjson::SUCCESS) out.text += string_at(p, "text");
  }
  return true;
}

// read_answer_text on a document tree_would_take: the same reads as the tree's below.
bool read_answer_from(api_kind api, simdjson::dom::element root, answer_payload& out) {
  simdjson::dom::object doc;
  if (root.get_object().get(doc) != simdjson::SUCCESS) return false;
  if (api == api_kind::gemini) return read_gemini_answer_from(doc, out);
  out.response_id = string_at(doc, "id");
  if (api == api_kind::openai) {
    simdjson::dom::array choices;
    if (doc.at_key("choices").get_array().get(choices) != simdjson::SUCCESS) return false;
    simdjson::dom::object choice;
    if (choices.size() > 0 && choices.at(0).get_object().get(choice) == simdjson::SUCCESS) {
      out.finish_reason = string_at(choice, "finish_reason");
      simdjson::dom::object message;
      if (choice.at_key("message").get_object().get(message) == simdjson::SUCCESS) {
        out.text = string_at(message, "content");
      }
    }
    return true;
  }
  simdjson::dom::array content;
  if (doc.at_key("content").get_array().get(content) != simdjson::SUCCESS) return false;
  for (const simdjson::dom::element block : content) {
    simdjson::dom::object b;
    if (block.get_object().get(b) == simdjson::SUCCESS && string_at(b, "type") == "text") out.text += string_at(b, "text");
  }
  out.finish_reason = string_at(doc, "stop_reason");
  return true;
}

}  // namespace

namespace {

// Gemini: {"systemInstruction"?, "contents": [{"role": "user" | "model", "parts": [{"text"}]}...],
// "generationConfig"?: {"maxOutputTokens", "temperature"}}. The model and streaming go in the path.
std::string encode_gemini_payload(const call_payload& payload) {
  std::string body;
  body.reserve(payload.prompt.size() + 64 * payload.messages.size() + 160);
  body += '{';
  std::string system;
  for (const chat_message& m : payload.messages) {
    if (m.role != "system") continue;
    if (!system.empty()) system += "\n\n";
    system += m.content;
  }
  if (!system.empty()) {
    body += R"("systemInstruction":{"parts":[{"text":)";
    append_json_string(body, system);
    body += "}]},";
  }
  body += R"("contents":[)";
  bool first = true;
  for (const chat_message& m : payload.messages) {
    if (m.role == "system") continue;
    if (!first) body += ',';
    first = false;
    body += m.role == "assistant" || m.role == "model" ? R"({"role":"model","parts":[{"text":)"
                                                       : R"({"role":"user","parts":[{"text":)";
    append_json_string(body, m.content);
    body += "}]}";
  }
  body += ']';
  const bool temperature = payload.temperature && std::isfinite(*payload.temperature);
  if (payload.max_tokens || temperature) {
    body += R"(,"generationConfig":{)";
    if (payload.max_tokens) body += R"("maxOutputTokens":)" + std::to_string(*payload.max_tokens);
    if (temperature) {
      body += payload.max_tokens ? R"(,"temperature":)" : R"("temperature":)";
      append_number(body, *payload.temperature);
    }
    body += '}';
  }
  body += '}';
  return body;
}

}  // namespace

std::string encode_payload_request(api_kind api, std::string_view model, const call_payload& payload,
                                   std::uint32_t max_tokens_default, bool stream) {
  if (api == api_kind::gemini) return encode_gemini_payload(payload);
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
  // simdjson first, on a parser this thread reuses: the production client reads every answer twice
  // (usage in wire.cpp, text here), and a second nlohmann tree was most of the client's own cost per call.
  thread_local simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (body.size() <= (std::size_t{256} << 20) && parser.parse(body.data(), body.size(), true).get(root) == simdjson::SUCCESS &&
      tree_would_take(root, 0)) {
    return read_answer_from(api, root, out);
  }
  return read_answer_text_by_tree_rules(api, body, out);
}

bool read_answer_text_by_tree_rules(api_kind api, std::string_view body, answer_payload& out) {
  auto parsed = parse_json_as<njson>(body);
  if (!parsed || !parsed->is_object()) return false;
  const njson& doc = *parsed;
  if (api == api_kind::gemini) {
    out.response_id = string_at(doc, "responseId");
    const auto candidates = doc.find("candidates");
    if (candidates == doc.end() || !candidates->is_array()) return false;
    if (candidates->empty() || !candidates->front().is_object()) return true;
    const njson& candidate = candidates->front();
    out.finish_reason = string_at(candidate, "finishReason");
    const auto content = candidate.find("content");
    if (content == candidate.end() || !content->is_object()) return true;
    const auto parts = content->find("parts");
    if (parts == content->end() || !parts->is_array()) return true;
    for (const njson& part : *parts) {
      if (part.is_object()) out.text += string_at(part, "text");
    }
    return true;
  }
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
