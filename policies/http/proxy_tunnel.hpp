#pragma once
// Reaching endpoints through an HTTP proxy (private to policies/http): which proxy, if any, serves an
// endpoint (the options, the environment when asked, NO_PROXY), and where that proxy is. The CONNECT
// exchange itself is open_tunnel (transport_detail.hpp), since it runs as a step of opening a connection.

#include <boost/asio/ip/tcp.hpp>
#include <string>
#include <string_view>

#include "policies/http/http_transport.hpp"
#include "policies/http/url.hpp"

namespace squall::http_detail {

// A proxy an endpoint's connections go through.
struct proxy_route {
  http_url url;       // http://host:port
  std::string where;  // "host:port", for messages
  // Like an endpoint's own: an IP literal keeps them, a host name is looked up again per connection.
  boost::asio::ip::tcp::resolver::results_type addresses;
  bool resolve_each_connect = false;
};

// The proxy settings create() works with: the options' own, or where they are empty and
// proxy_from_environment is set, HTTPS_PROXY / https_proxy, HTTP_PROXY / http_proxy and NO_PROXY / no_proxy.
struct proxy_settings {
  std::string for_https;  // proxy URL for https endpoints; "" = direct
  std::string for_http;   // proxy URL for http endpoints; "" = direct
  std::string no_proxy;
  std::string source;     // where they came from, for messages: "proxy" or "HTTPS_PROXY"...
};
proxy_settings proxy_settings_from(const http_transport_options& options);

// The proxy URL serving an endpoint on `target`, or "" when it is reached directly.
std::string_view proxy_for(const proxy_settings& settings, const http_url& target);

// Whether `host` is exempt from the proxy under `no_proxy`: "*", an exact IP literal, or a host name
// equal to an entry or ending in "." + entry (a leading "." or "*." of the entry is ignored). Case-blind.
bool no_proxy_matches(std::string_view no_proxy, std::string_view host);

}  // namespace squall::http_detail
