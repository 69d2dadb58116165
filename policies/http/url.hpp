#pragma once
// Base URLs of HTTP endpoints: "http://host[:port][/path][?query]" or "https://..." (TLS; what real
// providers speak, and `squall serve --tls`). Parsed once, when a transport is built. A query (Azure
// OpenAI's "?api-version=2024-10-21") is kept and sent after the API path.

#include <string>
#include <string_view>

#include "policies/core/config_error.hpp"

namespace squall {

struct http_url {
  std::string host;  // without brackets for IPv6 literals ("::1")
  std::string port;  // "80" (http) or "443" (https) when the URL names none
  std::string path;  // the base path without a trailing slash ("" or "/v1")
  std::string query;  // after the '?', without it ("api-version=2024-10-21"); "" for none
  bool tls = false;  // https://
};

// Errors name what was expected; the caller adds where the URL came from.
config_result<http_url> parse_http_url(std::string_view text);

// True for hosts that can only be this machine: 127.0.0.0/8, ::1 and "localhost". Names other than
// "localhost" are not resolved here and count as remote.
bool is_loopback_host(std::string_view host) noexcept;

}  // namespace squall
