#include "policies/http/wire.hpp"

#include <array>
#include <charconv>
#include <limits>

#include <nlohmann/json.hpp>
#include <simdjson.h>

#include "policies/core/json_parse.hpp"
#include "policies/core/json_text.hpp"
#include "policies/http/json_fields.hpp"
#include "policies/core/rng.hpp"

namespace squall {
namespace {

using ojson = nlohmann::ordered_json;
using njson = nlohmann::json;

// Words that are one token each in the common tokenizers; 64 of them so that a draw is six bits.
constexpr std::array<std::string_view, 64> words = {
    "time", "work", "life", "home", "hand", "part", "case", "week", "fact", "area", "game", "line",
    "room", "name", "city", "team", "book", "word", "body", "face", "door", "idea", "head", "side",
    "road", "form", "food", "care", "rate", "tree", "test", "plan", "role", "news", "file", "step",
    "bank", "list", "data", "size", "type", "view", "unit", "cost", "rule", "page", "site", "task",
    "note", "item", "land", "wind", "rain", "snow", "fire", "gold", "iron", "salt", "milk", "rice",
    "ship", "farm", "star", "moon"};

std::optional<std::uint32_t> token_count(const njson& parent, const char* key) {
  const auto it = parent.find(key);
  if (it == parent.end() || !it->is_number_unsigned()) return std::nullopt;
  const auto value = it->get<std::uint64_t>();
  if (value > std::numeric_limits<std::uint32_t>::max()) return std::nullopt;
  return static_cast<std::uint32_t>(value);
}

using wire_detail::string_at;

std::string error_type_of(const njson& error) {
  if (!error.is_object()) return {};
  const std::string code = string_at(error, "code");
  if (code == "insufficient_quota" || code == "billing_error") return code;
  std::string type = string_at(error, "type");
  if (!type.empty()) return type;
  if (!code.empty()) return code;
  return string_at(error, "status");  // Google's: "code" is the HTTP status as a number
}

// Where each API puts what decode_answer reads.
struct answer_keys {
  std::string_view list, usage, in, out, model;
};

answer_keys keys_of(api_kind api) noexcept {
  switch (api) {
    case api_kind::openai: return {"choices", "usage", "prompt_tokens", "completion_tokens", "model"};
    case api_kind::anthropic: return {"content", "usage", "input_tokens", "output_tokens", "model"};
    case api_kind::gemini:
      return {"candidates", "usageMetadata", "promptTokenCount", "candidatesTokenCount", "modelVersion"};
  }
  return {"choices", "usage", "prompt_tokens", "completion_tokens", "model"};
}

}  // namespace

std::string_view to_string(api_kind api) noexcept {
  switch (api) {
    case api_kind::openai: return "openai";
    case api_kind::anthropic: return "anthropic";
    case api_kind::gemini: return "gemini";
  }
  return "openai";
}

std::optional<api_kind> api_kind_from_string(std::string_view name) noexcept {
  if (name == "openai") return api_kind::openai;
  if (name == "anthropic") return api_kind::anthropic;
  if (name == "gemini") return api_kind::gemini;
  return std::nullopt;
}

std::string_view request_path(api_kind api) noexcept {
  switch (api) {
    case api_kind::openai: return "/chat/completions";
    case api_kind::anthropic: return "/messages";
    case api_kind::gemini: return "/v1beta/models/";
  }
  return "/chat/completions";
}

std::string gemini_request_path(std::string_view model, bool stream) {
  std::string path = "/v1beta/models/";
  path.reserve(path.size() + model.size() + 40);
  static constexpr char hex[] = "0123456789ABCDEF";
  for (const char c : model) {
    const auto u = static_cast<unsigned char>(c);
    const bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
                       c == '.' || c == '_' || c == '~';
    if (plain) {
      path += c;
    } else {
      path += '%';
      path += hex[u >> 4];
      path += hex[u & 15];
    }
  }
  path += stream ? ":streamGenerateContent?alt=sse" : ":generateContent";
  return path;
}

std::string prompt_text(std::uint32_t tokens, std::uint64_t seed) {
  if (tokens == 0) tokens = 1;  // both APIs refuse an empty message
  rng draw(seed);
  std::string text;
  text.reserve(static_cast<std::size_t>(tokens) * 5);
  std::uint64_t bits = 0;
  int left = 0;
  for (std::uint32_t i = 0; i < tokens; ++i) {
    if (left < 6) {
      bits = draw.next();
      left = 64;
    }
    if (i > 0) text += ' ';
    text += words[bits & 63];
    bits >>= 6;
    left -= 6;
  }
  return text;
}

std::string encode_request(api_kind api, std::string_view model, std::uint32_t input_tokens,
                           std::uint32_t output_tokens, bool stream, std::uint64_t seed) {
  // Written by appending (policies/core/json_text.hpp): one of the two largest costs per live attempt
  // when built as a tree. Key order is the one the SDKs send.
  const std::uint32_t max_tokens = output_tokens == 0 ? 1 : output_tokens;
  const std::string prompt = prompt_text(input_tokens, seed);
  std::string body;
  body.reserve(prompt.size() + model.size() + 160);
  if (api == api_kind::gemini) {
    // The model and streaming are in the path (gemini_request_path), not the body.
    body += R"({"contents":[{"role":"user","parts":[{"text":)";
    append_json_string(body, prompt);
    body += R"(}]}],"generationConfig":{"maxOutputTokens":)" + std::to_string(max_tokens) + "}}";
    return body;
  }
  body += R"({"model":)";
  append_json_string(body, model);
  const std::string max = R"("max_tokens":)" + std::to_string(max_tokens);
  const std::string messages = R"("messages":[{"role":"user","content":)";
  if (api == api_kind::openai) {
    body += ',' + messages;
    append_json_string(body, prompt);
    body += "}]," + max;
  } else {
    body += ',' + max + ',' + messages;
    append_json_string(body, prompt);
    body += "}]";
  }
  body += stream ? R"(,"stream":true)" : R"(,"stream":false)";
  if (api == api_kind::openai && stream) body += R"(,"stream_options":{"include_usage":true})";
  body += '}';
  return body;
}

namespace {

// Reads an answer with nlohmann's SAX interface: the whole text is still checked to be JSON, but no tree
// is built (the tree was the other large cost per live attempt). The rules are a tree's: the top value
// must be an object holding the answer's list ("choices", "content", "candidates") as an array; the model
// ("model", Gemini's "modelVersion") a string;
// usage counts unsigned integers that fit 32 bits; a repeated key counts with its last value.
class answer_reader final : public nlohmann::json_sax<njson> {
 public:
  answer_reader(api_kind api, decoded_answer& out) : out_(out), keys_(keys_of(api)) {}

  bool valid() const noexcept { return top_object_ && list_ok_; }
  bool object() const noexcept { return top_object_; }

  bool null() override { return scalar(); }
  bool boolean(bool) override { return scalar(); }
  // "-0" is the only integer nlohmann reads as signed that is not negative; it counts as 0, as in simdjson.
  bool number_integer(number_integer_t value) override {
    return value == 0 ? number_unsigned(0) : scalar();
  }
  bool number_float(number_float_t, const string_t&) override { return scalar(); }
  bool binary(binary_t&) override { return scalar(); }
  bool number_unsigned(number_unsigned_t value) override {
    if (depth_ == 2 && in_usage_ && (key2_ == field::in || key2_ == field::out)) {
      std::optional<std::uint32_t> v;
      if (value <= std::numeric_limits<std::uint32_t>::max()) v = static_cast<std::uint32_t>(value);
      (key2_ == field::in ? out_.input_tokens : out_.output_tokens) = v;
      return true;
    }
    return scalar();
  }
  bool string(string_t& value) override {
    if (depth_ == 1 && key1_ == field::model) {
      out_.model = std::move(value);
      return true;
    }
    return scalar();
  }
  bool start_object(std::size_t) override {
    if (depth_ == 0) top_object_ = true;
    if (depth_ == 1) value_at_top(false, key1_ == field::usage);
    if (depth_ == 2) count_container();
    ++depth_;
    return true;
  }
  bool start_array(std::size_t) override {
    if (depth_ == 1) value_at_top(key1_ == field::list, false);
    if (depth_ == 2) count_container();
    ++depth_;
    return true;
  }
  bool end_object() override { return end(); }
  bool end_array() override { return end(); }
  bool key(string_t& name) override {
    if (depth_ == 1) {
      key1_ = name == keys_.model ? field::model : name == keys_.list ? field::list : name == keys_.usage ? field::usage
                                                                                                       : field::other;
    } else if (depth_ == 2 && in_usage_) {
      key2_ = name == keys_.in ? field::in : name == keys_.out ? field::out : field::other;
    }
    return true;
  }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) override {
    top_object_ = false;
    return false;
  }

 private:
  enum class field : std::uint8_t { other, model, list, usage, in, out };

  bool scalar() {
    if (depth_ == 1) value_at_top(false, false);
    if (depth_ == 2 && in_usage_ && (key2_ == field::in || key2_ == field::out)) {
      (key2_ == field::in ? out_.input_tokens : out_.output_tokens) = std::nullopt;
    }
    return true;
  }
  // A count that is an object or an array is no count (and replaces an earlier one).
  void count_container() {
    if (in_usage_ && (key2_ == field::in || key2_ == field::out)) {
      (key2_ == field::in ? out_.input_tokens : out_.output_tokens) = std::nullopt;
    }
  }
  // A value for a key of the top object: the last one for a key decides.
  void value_at_top(bool list_array, bool usage_object) {
    if (key1_ == field::list) list_ok_ = list_array;
    if (key1_ == field::model) out_.model.clear();
    if (key1_ == field::usage) {
      out_.input_tokens.reset();
      out_.output_tokens.reset();
    }
    in_usage_ = usage_object;
  }
  bool end() {
    --depth_;
    if (depth_ == 1) in_usage_ = false;
    return true;
  }

  decoded_answer& out_;
  answer_keys keys_;
  int depth_ = 0;
  field key1_ = field::other, key2_ = field::other;
  bool top_object_ = false, list_ok_ = false, in_usage_ = false;
};

}  // namespace

decoded_answer decode_answer_by_tree_rules(api_kind api, std::string_view body) {
  decoded_answer read;
  answer_reader reader(api, read);
  const bool parsed = njson::sax_parse(body, &reader, nlohmann::detail::input_format_t::json, true, false);
  if (!parsed || !reader.object()) return decoded_answer{};
  read.object = true;
  read.valid = reader.valid();
  return read;
}

decoded_answer decode_answer(api_kind api, std::string_view body) {
  // simdjson first: it validates the whole text (UTF-8 included) into a tape, in a parser this thread
  // reuses, at a fraction of the cost of nlohmann's lexer, which was the generator's largest cost per
  // answer (bench/README.md). Whatever it refuses (malformed bodies, and valid JSON it does not take,
  // such as integers beyond 64 bits) is read by the SAX reader, so the answer is always the tree's.
  thread_local simdjson::dom::parser parser;
  simdjson::dom::object top;
  if (parser.parse(body.data(), body.size(), true).get_object().get(top) != simdjson::SUCCESS) {
    return decode_answer_by_tree_rules(api, body);
  }
  const answer_keys keys = keys_of(api);
  auto count = [](simdjson::dom::element value) -> std::optional<std::uint32_t> {
    std::uint64_t n = 0;
    if (value.get_uint64().get(n) != simdjson::SUCCESS || n > std::numeric_limits<std::uint32_t>::max()) {
      return std::nullopt;
    }
    return static_cast<std::uint32_t>(n);
  };
  decoded_answer read;
  bool list_ok = false;
  for (const simdjson::dom::key_value_pair field : top) {  // in order: a repeated key's last value decides
    if (field.key == keys.model) {
      std::string_view model;
      read.model = field.value.get_string().get(model) == simdjson::SUCCESS ? std::string(model) : std::string();
    } else if (field.key == keys.list) {
      list_ok = field.value.is_array();
    } else if (field.key == keys.usage) {
      read.input_tokens.reset();
      read.output_tokens.reset();
      simdjson::dom::object usage;
      if (field.value.get_object().get(usage) != simdjson::SUCCESS) continue;
      for (const simdjson::dom::key_value_pair u : usage) {
        if (u.key == keys.in) read.input_tokens = count(u.value);
        if (u.key == keys.out) read.output_tokens = count(u.value);
      }
    }
  }
  read.object = true;
  read.valid = list_ok;
  return read;
}

std::string decode_error_type(std::string_view body) {
  auto parsed = parse_json_as<njson>(body);  // depth-limited: a provider's answer may nest anything
  if (!parsed || !parsed->is_object()) return {};
  const njson& doc = *parsed;
  const auto error = doc.find("error");
  return error == doc.end() ? std::string{} : error_type_of(*error);
}

std::optional<double> decode_retry_delay_s(std::string_view body) {
  auto parsed = parse_json_as<njson>(body);
  if (!parsed || !parsed->is_object()) return std::nullopt;
  const auto error = parsed->find("error");
  if (error == parsed->end() || !error->is_object()) return std::nullopt;
  const auto details = error->find("details");
  if (details == error->end() || !details->is_array()) return std::nullopt;
  for (const njson& d : *details) {
    if (!d.is_object() || !string_at(d, "@type").ends_with("google.rpc.RetryInfo")) continue;
    // A google.protobuf.Duration in JSON: seconds with up to nine decimals and an "s".
    const std::string delay = string_at(d, "retryDelay");
    if (delay.size() < 2 || delay.back() != 's') return std::nullopt;
    double seconds = 0;
    const char* end = delay.data() + delay.size() - 1;
    const auto [at, ec] = std::from_chars(delay.data(), end, seconds);
    if (ec != std::errc{} || at != end || !(seconds >= 0) || seconds > 1e9) return std::nullopt;
    return seconds;
  }
  return std::nullopt;
}

int status_for_error_type(std::string_view t) noexcept {
  // Google's statuses (google.rpc.Code), as its APIs map them onto HTTP.
  if (t == "INVALID_ARGUMENT" || t == "FAILED_PRECONDITION" || t == "OUT_OF_RANGE") return 400;
  if (t == "UNAUTHENTICATED") return 401;
  if (t == "PERMISSION_DENIED") return 403;
  if (t == "NOT_FOUND") return 404;
  if (t == "ABORTED" || t == "ALREADY_EXISTS") return 409;
  if (t == "RESOURCE_EXHAUSTED") return 429;
  if (t == "UNAVAILABLE") return 503;
  if (t == "DEADLINE_EXCEEDED") return 504;
  if (t == "invalid_request_error") return 400;
  if (t == "authentication_error" || t == "invalid_api_key") return 401;
  if (t == "billing_error") return 402;
  if (t == "permission_error") return 403;
  if (t == "not_found_error" || t == "model_not_found") return 404;
  if (t == "request_too_large") return 413;
  if (t == "rate_limit_error" || t == "rate_limit_exceeded" || t == "insufficient_quota" || t == "requests" ||
      t == "tokens")
    return 429;
  if (t == "overloaded_error") return 529;
  if (t == "timeout_error") return 504;
  return 500;
}

bool sse_reader::feed(std::string_view bytes) {
  if (failed_) return false;
  for (char c : bytes) {
    if (c == '\n' || c == '\r') {
      if (c == '\n' && after_cr_) {
        after_cr_ = false;
        continue;
      }
      after_cr_ = c == '\r';
      take_line(pending_);
      pending_.clear();
      continue;
    }
    after_cr_ = false;
    if (pending_.size() >= line_max_ || building_.data.size() >= line_max_) {
      failed_ = true;
      return false;
    }
    pending_ += c;
  }
  return true;
}

void sse_reader::take_line(std::string_view line) {
  if (line.empty()) {
    // A blank line ends an event; one without data is dropped, as the EventSource spec says.
    if (has_data_) ready_.push_back(std::move(building_));
    building_ = event{};
    has_data_ = false;
    return;
  }
  if (line.front() == ':') return;  // a comment (keep-alive)
  const std::size_t colon = line.find(':');
  std::string_view field = line.substr(0, colon);
  std::string_view value = colon == std::string_view::npos ? std::string_view{} : line.substr(colon + 1);
  if (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  if (field == "event") {
    building_.name = std::string(value);
  } else if (field == "data") {
    if (has_data_) building_.data += '\n';
    building_.data.append(value);
    has_data_ = true;
  }
  // "id" and "retry" mean nothing to a one-shot answer.
}

std::optional<sse_reader::event> sse_reader::next() {
  if (ready_.empty()) return std::nullopt;
  event e = std::move(ready_.front());
  ready_.pop_front();
  return e;
}

bool stream_decoder::on_event(const sse_reader::event& e) {
  if (api_ == api_kind::gemini) return on_gemini_event(e);
  if (api_ == api_kind::openai && e.data == "[DONE]") {
    done_ = true;
    return true;
  }
  auto parsed = parse_json_as<njson>(e.data);
  if (!parsed || !parsed->is_object()) return false;
  const njson& doc = *parsed;
  if (const auto error = doc.find("error"); error != doc.end() && (api_ == api_kind::openai || e.name == "error" ||
                                                                    string_at(doc, "type") == "error")) {
    errored_ = true;
    error_type_ = error_type_of(*error);
    if (collect_ && error->is_object()) error_message_ = string_at(*error, "message");
    return true;
  }
  if (api_ == api_kind::openai) {
    if (model_.empty()) model_ = string_at(doc, "model");
    if (collect_ && response_id_.empty()) response_id_ = string_at(doc, "id");
    if (const auto choices = doc.find("choices"); choices != doc.end() && choices->is_array()) {
      for (const auto& choice : *choices) {
        if (!choice.is_object()) continue;
        const auto delta = choice.find("delta");
        if (delta == choice.end() || !delta->is_object()) continue;
        const std::string content = string_at(*delta, "content");
        if (!content.empty()) content_ = true;
        if (!collect_) continue;
        const auto index = choice.find("index");  // the first choice is the answer
        if (index != choice.end() && index->is_number_unsigned() && index->get<std::uint64_t>() != 0) continue;
        text_ += content;
        if (std::string reason = string_at(choice, "finish_reason"); !reason.empty()) finish_reason_ = std::move(reason);
      }
    }
    if (const auto usage = doc.find("usage"); usage != doc.end() && usage->is_object()) {
      input_tokens_ = token_count(*usage, "prompt_tokens");
      output_tokens_ = token_count(*usage, "completion_tokens");
    }
    return true;
  }
  const std::string type = string_at(doc, "type");
  if (type == "message_start") {
    const auto message = doc.find("message");
    if (message == doc.end() || !message->is_object()) return false;
    model_ = string_at(*message, "model");
    if (collect_) response_id_ = string_at(*message, "id");
    if (const auto usage = message->find("usage"); usage != message->end() && usage->is_object()) {
      input_tokens_ = token_count(*usage, "input_tokens");
      if (auto out = token_count(*usage, "output_tokens")) output_tokens_ = out;
    }
  } else if (type == "content_block_delta") {
    const auto delta = doc.find("delta");
    if (delta != doc.end() && delta->is_object()) {
      const std::string text = string_at(*delta, "text");
      if (!text.empty()) content_ = true;
      if (collect_) text_ += text;
    }
  } else if (type == "message_delta") {
    if (const auto delta = doc.find("delta"); collect_ && delta != doc.end() && delta->is_object()) {
      if (std::string reason = string_at(*delta, "stop_reason"); !reason.empty()) finish_reason_ = std::move(reason);
    }
    if (const auto usage = doc.find("usage"); usage != doc.end() && usage->is_object()) {
      if (auto out = token_count(*usage, "output_tokens")) output_tokens_ = out;
      if (auto in = token_count(*usage, "input_tokens")) input_tokens_ = in;
    }
  } else if (type == "message_stop") {
    done_ = true;
  } else if (type.empty()) {
    return false;
  }
  return true;
}

bool stream_decoder::on_gemini_event(const sse_reader::event& e) {
  auto parsed = parse_json_as<njson>(e.data);
  if (!parsed || !parsed->is_object()) return false;
  const njson& doc = *parsed;
  if (const auto error = doc.find("error"); error != doc.end()) {
    errored_ = true;
    error_type_ = error_type_of(*error);
    if (collect_ && error->is_object()) error_message_ = string_at(*error, "message");
    return true;
  }
  const auto candidates = doc.find("candidates");
  const auto usage = doc.find("usageMetadata");
  if ((candidates == doc.end() || !candidates->is_array()) && usage == doc.end()) return false;
  if (std::string model = string_at(doc, "modelVersion"); !model.empty()) model_ = std::move(model);
  if (collect_ && response_id_.empty()) response_id_ = string_at(doc, "responseId");
  if (candidates != doc.end() && candidates->is_array() && !candidates->empty() && candidates->front().is_object()) {
    const njson& candidate = candidates->front();  // the first candidate is the answer
    const auto content = candidate.find("content");
    const njson* parts = nullptr;
    if (content != candidate.end() && content->is_object()) {
      if (const auto p = content->find("parts"); p != content->end() && p->is_array()) parts = &*p;
    }
    if (parts != nullptr) {
      for (const njson& part : *parts) {
        if (!part.is_object()) continue;
        const std::string text = string_at(part, "text");
        if (!text.empty() || part.contains("functionCall")) content_ = true;
        if (collect_) text_ += text;
      }
    }
    if (std::string reason = string_at(candidate, "finishReason"); !reason.empty()) {
      done_ = true;  // Gemini's stream has no terminator: the response that says why it ended is the last
      if (collect_) finish_reason_ = std::move(reason);
    }
  }
  if (usage != doc.end() && usage->is_object()) {
    if (auto in = token_count(*usage, "promptTokenCount")) input_tokens_ = in;
    if (auto out = token_count(*usage, "candidatesTokenCount")) output_tokens_ = out;
  }
  return true;
}

}  // namespace squall
