#include "policies/http/url.hpp"

#include <boost/asio/ip/address.hpp>

namespace squall {

config_result<http_url> parse_http_url(std::string_view text) {
  const auto fail = [&](const std::string& why) {
    return config_error{"", "", "\"" + std::string(text) + "\" is not a usable base URL: " + why};
  };
  const bool tls = text.starts_with("https://");
  if (!tls && !text.starts_with("http://")) return fail("expected http://host[:port][/path][?query] or https://...");
  std::string_view rest = text.substr(tls ? 8 : 7);
  std::string_view query;
  if (const std::size_t mark = rest.find('?'); mark != std::string_view::npos) {
    query = rest.substr(mark + 1);
    rest = rest.substr(0, mark);
    // It goes into the request line as written: nothing that would end or split it.
    for (char c : query) {
      if (c == ' ' || c == '\r' || c == '\n' || c == '\t' || c == '#' || static_cast<unsigned char>(c) < 0x20) {
        return fail("the query holds a space, a control character or a '#'");
      }
    }
  }
  const std::size_t slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  std::string_view path = slash == std::string_view::npos ? std::string_view{} : rest.substr(slash);
  if (path.find('#') != std::string_view::npos) return fail("a base URL has no fragment");
  if (path.find_first_of(" \r\n\t") != std::string_view::npos) return fail("the path holds a space or a line break");
  while (!path.empty() && path.back() == '/') path.remove_suffix(1);
  if (authority.find('@') != std::string_view::npos) return fail("credentials in the URL are not supported");

  http_url url;
  url.tls = tls;
  std::string_view port;
  if (authority.starts_with('[')) {
    const std::size_t close = authority.find(']');
    if (close == std::string_view::npos) return fail("unclosed '[' in the host");
    url.host = std::string(authority.substr(1, close - 1));
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return fail("expected ':port' after the IPv6 address");
      port = after.substr(1);
    }
  } else {
    const std::size_t colon = authority.find(':');
    url.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) port = authority.substr(colon + 1);
  }
  if (url.host.empty()) return fail("the host is missing");
  if (port.data() != nullptr && port.empty()) return fail("the port is empty");
  if (!port.empty()) {
    unsigned value = 0;
    for (char c : port) {
      if (c < '0' || c > '9') return fail("the port must be a number");
      value = value * 10 + static_cast<unsigned>(c - '0');
      if (value > 65535) return fail("the port must be at most 65535");
    }
    if (value == 0) return fail("the port must be at least 1");
    url.port = std::string(port);
  } else {
    url.port = tls ? "443" : "80";
  }
  url.path = std::string(path);
  url.query = std::string(query);
  return url;
}

bool is_loopback_host(std::string_view host) noexcept {
  if (host == "localhost") return true;
  boost::system::error_code ec;
  const auto address = boost::asio::ip::make_address(std::string(host), ec);
  return !ec && address.is_loopback();
}

}  // namespace squall
