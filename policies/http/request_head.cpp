#include "policies/http/request_head.hpp"

#include <algorithm>
#include <cstdlib>
#include <exception>
#include <string_view>

#include "policies/http/transport_detail.hpp"

namespace squall::http_detail {
namespace {

// RFC 9110 token characters: what a header name may be made of.
bool is_token(std::string_view name) noexcept {
  if (name.empty()) return false;
  for (char c : name) {
    const bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    if (!alnum && std::string_view("!#$%&'*+-.^_`|~").find(c) == std::string_view::npos) return false;
  }
  return true;
}

bool has_line_break(std::string_view value) noexcept { return value.find_first_of("\r\n") != std::string_view::npos; }

http_auth auth_of(const http_endpoint& e) noexcept {
  if (e.auth != http_auth::by_api) return e.auth;
  return e.api == api_kind::openai ? http_auth::bearer : http_auth::x_api_key;
}

}  // namespace

std::optional<std::string> build_endpoint_head(endpoint_state& e, const http_transport_options& options) {
  const http_endpoint& c = e.config;
  const int key_sources = int{!c.api_key.empty()} + int{!c.api_key_env.empty()} + int{c.api_key_provider != nullptr};
  if (key_sources > 1) return "set at most one of api_key, api_key_env and api_key_provider";
  if (has_line_break(c.api_key)) return "the api key holds a line break";
  if (c.api_key_env.find_first_of("=") != std::string::npos || has_line_break(c.api_key_env)) {
    return "api_key_env is not a usable variable name";
  }
  for (std::size_t i = 0; i < c.headers.size(); ++i) {
    const auto& [name, value] = c.headers[i];
    const std::string where = "headers[" + std::to_string(i) + "]: ";
    if (!is_token(name)) return where + "\"" + name + "\" is not a header name (letters, digits and !#$%&'*+-.^_`|~)";
    if (has_line_break(value)) return where + "the value of " + name + " holds a line break";
    for (std::string_view own : {"host", "content-length", "transfer-encoding", "connection"}) {
      if (name.size() == own.size() &&
          std::equal(name.begin(), name.end(), own.begin(), [](char a, char b) { return (a | 0x20) == b; })) {
        return where + name + " is the transport's own header";
      }
    }
  }

  switch (auth_of(c)) {
    case http_auth::bearer: e.key_header = "Authorization: Bearer "; break;
    case http_auth::api_key: e.key_header = "api-key: "; break;
    default: e.key_header = "x-api-key: "; break;
  }
  e.key_per_attempt = !c.api_key_env.empty() || c.api_key_provider != nullptr;

  e.head = "POST " + e.target + " HTTP/1.1\r\nHost: " + e.host_header + "\r\nUser-Agent: " + options.user_agent +
           "\r\nContent-Type: application/json\r\nAccept: " + (c.stream ? "text/event-stream" : "application/json") +
           "\r\n";
  if (!c.api_key.empty()) e.head += e.key_header + c.api_key + "\r\n";
  if (c.api == api_kind::anthropic) e.head += "anthropic-version: " + options.anthropic_version + "\r\n";
  for (const auto& [name, value] : c.headers) e.head += name + ": " + value + "\r\n";
  return std::nullopt;
}

bool build_request(const endpoint_state& e, const http_transport_options& options, const request& r,
                   std::uint32_t attempt_number, const std::string& body, std::string& wire, std::string& error) {
  wire.reserve(e.head.size() + body.size() + 128);
  if (r.payload && !r.payload->raw_body.empty() && !r.payload->path.empty()) {
    // Another endpoint of the same API (embeddings): only the request line differs.
    wire = "POST " + e.url.path + r.payload->path + (e.url.query.empty() ? "" : "?" + e.url.query) +
           e.head.substr(e.head.find(" HTTP/1.1\r\n"));
  } else {
    wire = e.head;
  }
  if (e.key_per_attempt) {
    // Read again for every attempt, so that a rotated key is used from the next attempt on.
    std::string key;
    if (e.config.api_key_provider) {
      try {
        key = e.config.api_key_provider();
      } catch (const std::exception& ex) {
        error = e.where + ": api_key_provider failed: " + ex.what();
        return false;
      } catch (...) {
        error = e.where + ": api_key_provider failed";
        return false;
      }
    } else if (const char* value = std::getenv(e.config.api_key_env.c_str())) {
      key = value;
    }
    const std::string source = e.config.api_key_provider ? std::string("api_key_provider")
                                                          : "the environment variable " + e.config.api_key_env;
    if (key.empty()) {
      error = "no API key for " + e.where + ": " + source + " gave none";
      return false;
    }
    if (has_line_break(key)) {
      error = "the API key for " + e.where + " from " + source + " holds a line break";
      return false;
    }
    wire += e.key_header + key + "\r\n";
  }
  if (options.squall_headers) {
    wire += "x-squall-request-id: " + std::to_string(r.id) + "\r\n";
    wire += "x-squall-attempt: " + std::to_string(attempt_number) + "\r\n";
    wire += "x-squall-input-tokens: " + std::to_string(r.input_tokens) + "\r\n";
    // The planned length of the answer: the fake providers serve exactly this many tokens unless
    // max_tokens cuts it, as the simulation does.
    wire += "x-squall-output-tokens: " + std::to_string(r.output_tokens) + "\r\n";
  }
  wire += "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n";
  wire += body;
  return true;
}

}  // namespace squall::http_detail
