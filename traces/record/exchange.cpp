#include "traces/record/exchange.hpp"

#include <limits>

#include <nlohmann/json.hpp>

#include "policies/core/classify.hpp"
#include "policies/core/json_parse.hpp"
#include "policies/core/outcome.hpp"

namespace squall::traces::record {
namespace {

using njson = nlohmann::json;

// Appends the text of a "content"-like value: a string, or an array of parts whose "text" is a string
// (Anthropic text blocks, OpenAI content parts), or an array of strings (embedding inputs).
void append_text(const njson& value, std::string& out, bool& any) {
  const auto add = [&](const std::string& text) {
    if (any) out += '\n';
    out += text;
    any = true;
  };
  if (value.is_string()) {
    add(value.get<std::string>());
    return;
  }
  if (!value.is_array()) return;
  for (const njson& part : value) {
    if (part.is_string()) {
      add(part.get<std::string>());
    } else if (part.is_object()) {
      const auto text = part.find("text");
      if (text != part.end() && text->is_string()) add(text->get<std::string>());
    }
  }
}

std::optional<std::uint64_t> parse_u64(std::string_view text) noexcept {
  if (text.empty() || text.size() > 19) return std::nullopt;
  std::uint64_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + static_cast<std::uint64_t>(c - '0');
  }
  return value;
}

std::optional<std::uint32_t> usage_count(const njson& usage, const char* key) {
  const auto it = usage.find(key);
  if (it == usage.end() || !it->is_number_unsigned()) return std::nullopt;
  const auto value = it->get<std::uint64_t>();
  if (value > std::numeric_limits<std::uint32_t>::max()) return std::nullopt;
  return static_cast<std::uint32_t>(value);
}

}  // namespace

std::string_view path_of(std::string_view target) noexcept {
  const std::size_t q = target.find_first_of("?#");
  return q == std::string_view::npos ? target : target.substr(0, q);
}

api_kind api_for_path(std::string_view path) noexcept {
  path = path_of(path);
  while (!path.empty() && path.back() == '/') path.remove_suffix(1);
  if (path.ends_with(":generateContent") || path.ends_with(":streamGenerateContent")) return api_kind::gemini;
  return path.ends_with("/messages") || path == "messages" ? api_kind::anthropic : api_kind::openai;
}

void read_gemini_path(std::string_view path, request_facts& facts) {
  path = path_of(path);
  const std::size_t colon = path.rfind(':');
  const std::size_t models = path.rfind("/models/", colon);
  if (colon == std::string_view::npos || models == std::string_view::npos) return;
  const std::string_view method = path.substr(colon + 1);
  if (method != "generateContent" && method != "streamGenerateContent") return;
  facts.model = std::string(path.substr(models + 8, colon - models - 8));
  facts.stream = method == "streamGenerateContent";
}

request_facts read_request_body(std::string_view body) {
  request_facts facts;
  auto parsed = parse_json_as<njson>(body);  // depth-limited: a client's body may nest anything
  if (!parsed || !parsed->is_object()) return facts;
  const njson& doc = *parsed;
  if (const auto model = doc.find("model"); model != doc.end() && model->is_string()) {
    facts.model = model->get<std::string>();
  }
  if (const auto stream = doc.find("stream"); stream != doc.end() && stream->is_boolean()) {
    facts.stream = stream->get<bool>();
  }
  std::string prompt;
  bool any = false;
  if (const auto system = doc.find("system"); system != doc.end()) append_text(*system, prompt, any);
  if (const auto messages = doc.find("messages"); messages != doc.end() && messages->is_array()) {
    for (const njson& message : *messages) {
      if (!message.is_object()) continue;
      if (const auto content = message.find("content"); content != message.end()) append_text(*content, prompt, any);
    }
  }
  for (const char* key : {"input", "prompt"}) {
    const auto it = doc.find(key);
    if (it != doc.end() && (it->is_string() || it->is_array())) append_text(*it, prompt, any);
  }
  if (any) facts.prompt = std::move(prompt);
  return facts;
}

attempt_identity read_identity(std::string_view squall_request_id, std::string_view squall_attempt,
                               std::string_view stainless_retry_count) {
  attempt_identity id;
  id.request_id = std::string(squall_request_id);
  if (const auto n = parse_u64(squall_attempt); n && *n >= 1 && *n <= std::numeric_limits<std::uint32_t>::max()) {
    id.attempt = static_cast<std::uint32_t>(*n);
  } else if (const auto retries = parse_u64(stainless_retry_count);
             retries && *retries < std::numeric_limits<std::uint32_t>::max()) {
    id.attempt = static_cast<std::uint32_t>(*retries + 1);
  }
  return id;
}

answer_watcher::answer_watcher(api_kind api, int status, bool event_stream, std::size_t body_bytes_max)
    : api_(api),
      status_(status),
      streaming_(event_stream && status >= 200 && status < 300),
      body_bytes_max_(body_bytes_max),
      decoder_(api) {}

bool answer_watcher::feed(std::string_view bytes) {
  if (!streaming_) {
    if (body_overflow_) return false;
    if (body_.size() + bytes.size() > body_bytes_max_) {
      // Too large to decode: relayed all the same, but its usage and error type stay unknown.
      body_overflow_ = true;
      body_.clear();
      body_.shrink_to_fit();
      return false;
    }
    body_.append(bytes);
    return false;
  }
  if (malformed_ || decoder_.errored()) return false;
  if (!sse_.feed(bytes)) {
    malformed_ = true;
    return false;
  }
  bool first_now = false;
  while (auto event = sse_.next()) {
    if (!decoder_.on_event(*event)) {
      malformed_ = true;
      return first_now;
    }
    if (decoder_.saw_content() && !first_content_seen_) {
      first_content_seen_ = true;
      first_now = true;
    }
    if (decoder_.errored()) break;
  }
  return first_now;
}

void answer_watcher::finish(bool complete, trace_attempt& out) const {
  out.status = status_;
  const bool ok_status = status_ >= 200 && status_ < 300;
  if (!ok_status) {
    if (!body_overflow_) out.error_type = decode_error_type(body_);
    out.outcome = std::string(to_string(classify_http(status_, out.error_type)));
    return;
  }
  if (streaming_) {
    out.input_tokens = decoder_.input_tokens();
    out.output_tokens = decoder_.output_tokens();
    if (decoder_.errored()) {
      // An error event inside a 200 stream classifies as its type's usual status would (as the live
      // transport does), so that replay sees an overload, not a success.
      out.error_type = decoder_.error_type();
      out.outcome = std::string(to_string(classify_http(status_for_error_type(out.error_type), out.error_type)));
    } else if (malformed_) {
      out.outcome = std::string(to_string(outcome_class::server_error));
    } else if (!complete || !decoder_.done()) {
      out.outcome = std::string(to_string(outcome_class::connection_error));
    } else {
      out.outcome = std::string(to_string(outcome_class::ok));
    }
    return;
  }
  if (!complete) {
    out.outcome = std::string(to_string(outcome_class::connection_error));
    return;
  }
  if (body_overflow_) {
    out.outcome = std::string(to_string(outcome_class::ok));
    return;
  }
  const decoded_answer answer = decode_answer(api_, body_);
  if (answer.valid) {
    out.input_tokens = answer.input_tokens;
    out.output_tokens = answer.output_tokens;
    out.outcome = std::string(to_string(outcome_class::ok));
    return;
  }
  // Other endpoints (embeddings, models) answer other JSON; only a body that is not JSON at all means
  // the server misbehaved.
  auto parsed = parse_json_as<njson>(body_);
  if (!parsed) {
    out.outcome = std::string(to_string(outcome_class::server_error));
    return;
  }
  const njson& doc = *parsed;
  if (doc.is_object()) {
    if (const auto usage = doc.find("usage"); usage != doc.end() && usage->is_object()) {
      out.input_tokens = usage_count(*usage, api_ == api_kind::openai ? "prompt_tokens" : "input_tokens");
      out.output_tokens = usage_count(*usage, api_ == api_kind::openai ? "completion_tokens" : "output_tokens");
    }
  }
  out.outcome = std::string(to_string(outcome_class::ok));
}

}  // namespace squall::traces::record
