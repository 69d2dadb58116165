#include "fake_providers/wire_format.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>

#include "policies/core/json_parse.hpp"
#include "policies/core/text_embedding.hpp"

namespace squall::fake {

api_style api_of(std::string_view api) noexcept {
  if (api == "anthropic") return api_style::anthropic;
  if (api == "gemini") return api_style::gemini;
  return api_style::openai;
}

std::string_view status_reason(int status) noexcept {
  switch (status) {
    case 200: return "OK";
    case 201: return "Created";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 402: return "Payment Required";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 411: return "Length Required";
    case 413: return "Payload Too Large";
    case 422: return "Unprocessable Entity";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    case 529: return "Site Overloaded";
    default: return "Unknown";
  }
}

void append_response_head(std::string& out, int status, std::string_view content_type, const header_list& headers,
                          std::optional<std::size_t> content_length, bool keep_alive) {
  out += "HTTP/1.1 ";
  out += std::to_string(status);
  out += ' ';
  out += status_reason(status);
  out += "\r\n";
  if (!content_type.empty()) {
    out += "Content-Type: ";
    out += content_type;
    out += "\r\n";
  }
  for (const auto& [name, value] : headers) {
    out += name;
    out += ": ";
    out += value;
    out += "\r\n";
  }
  if (content_length) {
    out += "Content-Length: ";
    out += std::to_string(*content_length);
    out += "\r\n";
  } else {
    out += "Transfer-Encoding: chunked\r\n";
  }
  out += keep_alive ? "Connection: keep-alive\r\n\r\n" : "Connection: close\r\n\r\n";
}

std::string response_head(int status, const header_list& headers, std::optional<std::size_t> content_length,
                          bool keep_alive) {
  std::string out;
  append_response_head(out, status, {}, headers, content_length, keep_alive);
  return out;
}

std::string chunk(std::string_view data) {
  char size[20];
  std::snprintf(size, sizeof size, "%zx\r\n", data.size());
  std::string out = size;
  out += data;
  out += "\r\n";
  return out;
}

std::string default_error_type(api_style api, int status) {
  if (api == api_style::gemini) {
    // google.rpc.Code names, as Google maps them onto HTTP statuses.
    switch (status) {
      case 400: case 405: case 411: case 413: case 422: case 431: return "INVALID_ARGUMENT";
      case 401: return "UNAUTHENTICATED";
      case 403: return "PERMISSION_DENIED";
      case 404: return "NOT_FOUND";
      case 408: case 504: return "DEADLINE_EXCEEDED";
      case 409: return "ABORTED";
      case 429: return "RESOURCE_EXHAUSTED";
      case 499: return "CANCELLED";
      case 501: return "UNIMPLEMENTED";
      case 502: case 503: case 529: return "UNAVAILABLE";
      case 500: return "INTERNAL";
      default: return status >= 500 ? "UNKNOWN" : "FAILED_PRECONDITION";
    }
  }
  if (api == api_style::anthropic) {
    switch (status) {
      case 400: case 409: case 422: return "invalid_request_error";
      case 401: return "authentication_error";
      case 402: return "billing_error";
      case 403: return "permission_error";
      case 404: case 405: return "not_found_error";
      case 408: case 504: return "timeout_error";
      case 413: case 431: return "request_too_large";
      case 429: return "rate_limit_error";
      case 529: case 503: return "overloaded_error";
      default: return "api_error";
    }
  }
  switch (status) {
    case 401: case 403: case 400: case 404: case 405: case 409: case 413: case 422: case 431:
      return "invalid_request_error";
    case 429: return "rate_limit_exceeded";  // the code; OpenAI's type names the limit ("requests", "tokens")
    default: return "server_error";
  }
}

namespace {

// The messages the Gemini API answers with (generativelanguage.googleapis.com).
std::string gemini_error_message(int status) {
  switch (status) {
    case 400: return "Request contains an invalid argument.";
    case 401: return "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or "
                     "other valid authentication credential.";
    case 403: return "Method doesn't allow unregistered callers (callers without established identity). Please use API "
                     "Key or other form of API consumer identity to call this API.";
    case 404: return "Requested entity was not found.";
    case 408: case 504: return "Deadline expired before operation could complete.";
    case 429: return "Resource has been exhausted (e.g. check quota).";
    case 500: return "An internal error has occurred. Please retry or report in "
                     "https://developers.generativeai.google/guide/troubleshooting";
    case 502: case 503: case 529: return "The model is overloaded. Please try again later.";
    default: return "Error";
  }
}

}  // namespace

std::string default_error_message(api_style api, int status) {
  if (api == api_style::gemini) return gemini_error_message(status);
  const bool anthropic = api == api_style::anthropic;
  switch (status) {
    case 400: return anthropic ? "invalid request" : "Invalid request.";
    case 401: return anthropic ? "invalid x-api-key" : "Incorrect API key provided.";
    case 403: return anthropic ? "Your API key does not have permission to use the specified resource."
                               : "You are not allowed to access this resource.";
    case 404: return anthropic ? "Not found" : "The requested resource does not exist.";
    case 408: return anthropic ? "Request timed out" : "Request timed out.";
    case 409: return anthropic ? "Conflict" : "Conflict.";
    case 413: return anthropic ? "Request exceeds the maximum allowed number of bytes." : "Request too large.";
    case 422: return anthropic ? "Unprocessable request" : "Unprocessable request.";
    case 429: return anthropic ? "Number of requests has exceeded your rate limit."
                               : "Rate limit reached for requests. Please try again later.";
    case 500: return anthropic ? "Internal server error"
                               : "The server had an error while processing your request. Sorry about that!";
    case 502: return anthropic ? "Bad gateway" : "Bad gateway.";
    case 503: return anthropic ? "Service unavailable" : "The engine is currently overloaded, please try again later.";
    case 504: return anthropic ? "Gateway timeout" : "Gateway timeout.";
    case 529: return "Overloaded";
    default: return "Error";
  }
}

std::string error_body(api_style api, const error_spec& e, std::string_view request_id,
                       std::optional<double> retry_delay_s) {
  const std::string type = e.type.empty() ? default_error_type(api, e.status) : e.type;
  const std::string message = e.message.empty() ? default_error_message(api, e.status) : e.message;
  if (api == api_style::gemini) {
    // The shape of every Google API error; the wait before a retry is a RetryInfo detail (Gemini's 429s
    // carry a QuotaFailure and a Help link too, which no client reads).
    json details = json::array();
    if (e.param) {
      details.push_back({{"@type", "type.googleapis.com/google.rpc.BadRequest"},
                         {"fieldViolations", json::array({{{"field", *e.param}, {"description", message}}})}});
    }
    if (retry_delay_s) {
      details.push_back({{"@type", "type.googleapis.com/google.rpc.RetryInfo"},
                         {"retryDelay", protobuf_duration(*retry_delay_s)}});
    }
    json err = {{"code", e.status}, {"message", message}, {"status", type}};
    if (!details.empty()) err["details"] = std::move(details);
    return dump_json(json{{"error", std::move(err)}});
  }
  if (api == api_style::anthropic) {
    json body = {{"type", "error"}, {"error", {{"type", type}, {"message", message}}}};
    if (!request_id.empty()) body["request_id"] = request_id;
    return dump_json(body);
  }
  json err = {{"message", message}, {"type", type}, {"param", nullptr}, {"code", nullptr}};
  if (e.param) err["param"] = *e.param;
  if (e.code) {
    err["code"] = *e.code;
  } else if (e.status == 429) {
    err["code"] = "rate_limit_exceeded";
  }
  if (e.status == 429 && e.type.empty()) err["type"] = "requests";
  return dump_json(json{{"error", err}});
}

error_spec error_for_kind(api_style api, sim::error_kind kind) {
  const sim::error_kind_info* k = sim::info(kind);
  if (k == nullptr) return error_spec{};
  error_spec e{k->status, std::string(k->message), std::string(k->classified_as), std::nullopt, std::nullopt};
  if (api == api_style::openai) {
    switch (kind) {
      case sim::error_kind::insufficient_quota:
        e.code = "insufficient_quota";  // type and code both, as OpenAI writes it
        break;
      case sim::error_kind::rate_limit_account:
      case sim::error_kind::rate_limit_temporary:
        e.type = "requests";  // OpenAI's type names the limit; the code is rate_limit_exceeded
        e.code = "rate_limit_exceeded";
        break;
      case sim::error_kind::overloaded_500:
      case sim::error_kind::overloaded_529:
        e.type = "server_error";
        break;
      case sim::error_kind::status:
        break;
    }
  }
  // Google writes the status name of the code (RESOURCE_EXHAUSTED, INTERNAL, ...), whatever the cause.
  if (api == api_style::gemini) e.type.clear();
  return e;
}

std::uint32_t count_words(std::string_view text) noexcept {
  std::uint32_t words = 0;
  bool in_word = false;
  for (char c : text) {
    const bool space = c == ' ' || c == '\n' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
    if (!space && !in_word) ++words;
    in_word = !space;
  }
  return words;
}

std::uint32_t count_prompt_tokens(const json& value) noexcept {
  if (value.is_string()) return count_words(value.get_ref<const std::string&>());
  std::uint32_t total = 0;
  if (value.is_array()) {
    for (const json& item : value) total += count_prompt_tokens(item);
  } else if (value.is_object()) {
    // A message ({"role", "content"}) or a content part ({"type": "text", "text"}): only text counts,
    // not roles, types or image data.
    if (auto it = value.find("content"); it != value.end()) total += count_prompt_tokens(*it);
    if (auto it = value.find("text"); it != value.end() && it->is_string()) total += count_prompt_tokens(*it);
  }
  return total;
}

namespace {

constexpr std::array<std::string_view, 32> vocabulary = {
    "the",   "model", "answers", "with",    "a",      "short", "plain",  "sentence", "about",  "retry",  "budget",
    "and",   "every", "token",   "arrives", "on",     "time",  "under",  "load",     "while",  "the",    "fake",
    "server", "keeps", "its",    "slots",   "busy",   "until", "service", "ends",    "then",   "stops"};

constexpr std::array<char, 64> base64_alphabet = {
    'A', 'B', 'C', 'D', 'E', 'F', 'G', 'H', 'I', 'J', 'K', 'L', 'M', 'N', 'O', 'P', 'Q', 'R', 'S', 'T', 'U', 'V',
    'W', 'X', 'Y', 'Z', 'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'k', 'l', 'm', 'n', 'o', 'p', 'q', 'r',
    's', 't', 'u', 'v', 'w', 'x', 'y', 'z', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9', '+', '/'};

}  // namespace

std::string generate_words(rng& r, std::uint32_t tokens) {
  std::string out;
  out.reserve(tokens * 6U);
  for (std::uint32_t i = 0; i < tokens; ++i) {
    out += ' ';
    out += vocabulary[r.below(vocabulary.size())];
  }
  return out;
}

std::vector<float> embedding_vector(rng& r, std::uint32_t dims) {
  std::vector<float> v(dims);
  double norm = 0;
  for (float& x : v) {
    x = static_cast<float>(r.uniform(-1.0, 1.0));
    norm += static_cast<double>(x) * static_cast<double>(x);
  }
  const double scale = norm > 0 ? 1.0 / std::sqrt(norm) : 0.0;
  for (float& x : v) x = static_cast<float>(static_cast<double>(x) * scale);
  return v;
}

std::vector<float> text_embedding_vector(std::string_view text, std::uint32_t dims) {
  // A dense part drawn from a seed of the normalised text (so the same words give the same vector, and
  // every component has digits, as a real model's do) ...
  std::uint64_t seed = 0xcbf29ce484222325ULL;
  for (const char c : normalise_text(text)) seed = (seed ^ static_cast<unsigned char>(c)) * 0x100000001b3ULL;
  rng r(seed);
  std::vector<float> dense = embedding_vector(r, dims);
  const text_embedding e = embed_text(text);
  if (dims == 0 || e.empty()) return dense;
  // ... and the lexical embedding, bucket b % 512 on component i % dims for i up to the larger of the two,
  // each copy after the first with its own sign: wider vectors repeat the buckets, narrower ones fold them.
  std::vector<double> lexical(dims, 0.0);
  const std::size_t spread = std::max<std::size_t>(text_embedding_dimension, dims);
  for (std::size_t i = 0; i < spread; ++i) {
    const double count = e.counts[i % text_embedding_dimension];
    const bool flip = i >= text_embedding_dimension && ((i * 0x9E3779B97F4A7C15ULL) >> 63) != 0;
    lexical[i % dims] += flip ? -count : count;
  }
  double norm = 0;
  for (double x : lexical) norm += x * x;
  if (norm == 0) return dense;
  // 95% of the energy lexical: similarities are 0.95 times the lexical ones, 1 for the same words.
  const double lexical_scale = std::sqrt(0.95 / norm);
  const double dense_scale = std::sqrt(0.05);
  std::vector<float> v(dims);
  double total = 0;
  for (std::size_t i = 0; i < dims; ++i) {
    const double x = lexical[i] * lexical_scale + static_cast<double>(dense[i]) * dense_scale;
    v[i] = static_cast<float>(x);
    total += x * x;
  }
  const double scale = 1.0 / std::sqrt(total);
  for (float& x : v) x = static_cast<float>(static_cast<double>(x) * scale);
  return v;
}

std::string base64_floats(const std::vector<float>& v) {
  std::string bytes(v.size() * sizeof(float), '\0');
  if (!v.empty()) std::memcpy(bytes.data(), v.data(), bytes.size());  // x86-64 and arm64 are little-endian
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  std::size_t i = 0;
  auto at = [&](std::size_t k) { return static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[k])); };
  for (; i + 2 < bytes.size(); i += 3) {
    const std::uint32_t n = (at(i) << 16) | (at(i + 1) << 8) | at(i + 2);
    out += base64_alphabet[(n >> 18) & 63];
    out += base64_alphabet[(n >> 12) & 63];
    out += base64_alphabet[(n >> 6) & 63];
    out += base64_alphabet[n & 63];
  }
  if (i < bytes.size()) {
    const std::uint32_t n = (at(i) << 16) | (i + 1 < bytes.size() ? at(i + 1) << 8 : 0U);
    out += base64_alphabet[(n >> 18) & 63];
    out += base64_alphabet[(n >> 12) & 63];
    out += i + 1 < bytes.size() ? base64_alphabet[(n >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

std::string protobuf_duration(double seconds) {
  if (!(seconds > 0)) return "0s";
  const auto ms = static_cast<long long>(std::ceil(seconds * 1000));
  char buf[48];
  if (ms % 1000 == 0) {
    std::snprintf(buf, sizeof buf, "%llds", ms / 1000);
  } else {
    std::snprintf(buf, sizeof buf, "%lld.%03llds", ms / 1000, ms % 1000);
  }
  return buf;
}

std::string go_duration(double seconds) {
  if (!(seconds > 0)) return "0s";
  char buf[48];
  if (seconds < 1) {
    std::snprintf(buf, sizeof buf, "%dms", static_cast<int>(std::ceil(seconds * 1000)));
  } else if (seconds < 60) {
    std::snprintf(buf, sizeof buf, "%gs", std::ceil(seconds * 1000) / 1000);
  } else {
    const auto minutes = static_cast<long long>(seconds / 60);
    std::snprintf(buf, sizeof buf, "%lldm%gs", minutes,
                  std::ceil((seconds - static_cast<double>(minutes) * 60) * 1000) / 1000);
  }
  return buf;
}

std::string sse(std::string_view event, std::string_view data) {
  std::string out;
  if (!event.empty()) {
    out += "event: ";
    out += event;
    out += "\n";
  }
  out += "data: ";
  out += data;
  out += "\n\n";
  return out;
}

// The longest shortest form of a float is 15 characters ("-1.17549435e-38"); with its comma, 16.
constexpr std::size_t float_text_bytes_max = 16;

void append_float_array(std::string& out, const std::vector<float>& v) {
  out += '[';
  char text[32];
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (i > 0) out += ',';
    // Not finite cannot happen (the vectors are unit length), but JSON has no text for it.
    const float x = std::isfinite(v[i]) ? v[i] : 0.0F;
    const auto [end, ec] = std::to_chars(text, text + sizeof text, x);
    out.append(text, ec == std::errc{} ? end : text);
  }
  out += ']';
}

std::size_t embeddings_answer_bytes_bound(std::size_t inputs, std::uint32_t dims, bool base64) noexcept {
  // {"object":"embedding","index":N,"embedding":[...]}, with room to spare for the index and separators.
  constexpr std::size_t item_bytes = 80;
  // {"object":"list","data":[...],"model":...,"usage":{...}} without the model name.
  constexpr std::size_t frame_bytes = 256;
  const std::size_t vector_bytes = base64 ? (std::size_t{dims} * 4 + 2) / 3 * 4 + 2 : std::size_t{dims} * float_text_bytes_max + 2;
  const std::size_t per_item = item_bytes + vector_bytes;
  if (inputs > (std::numeric_limits<std::size_t>::max() - frame_bytes) / per_item) {
    return std::numeric_limits<std::size_t>::max();
  }
  return frame_bytes + inputs * per_item;
}

}  // namespace squall::fake
