// HTTP CONNECT: which proxy serves an endpoint, and the tunnel request on a connection to it.

#include "policies/http/proxy_tunnel.hpp"

#include <boost/asio/buffer.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/write.hpp>
#include <cctype>
#include <cstdlib>

#include "policies/http/transport_detail.hpp"

namespace squall::http_detail {
namespace {

constexpr std::size_t proxy_answer_bytes_max = 16 * 1024;

std::string first_env(std::initializer_list<const char*> names, std::string& source) {
  for (const char* name : names) {
    if (const char* value = std::getenv(name); value != nullptr && *value != '\0') {
      source = name;
      return value;
    }
  }
  return {};
}

std::string lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace

proxy_settings proxy_settings_from(const http_transport_options& options) {
  proxy_settings s;
  s.for_https = s.for_http = options.proxy;
  s.no_proxy = options.no_proxy;
  s.source = "proxy";
  if (!options.proxy_from_environment) return s;
  if (options.proxy.empty()) {
    std::string https_source, http_source;
    s.for_https = first_env({"HTTPS_PROXY", "https_proxy"}, https_source);
    s.for_http = first_env({"HTTP_PROXY", "http_proxy"}, http_source);
    s.source = !https_source.empty() ? https_source : http_source;
  }
  if (options.no_proxy.empty()) {
    std::string ignored;
    s.no_proxy = first_env({"NO_PROXY", "no_proxy"}, ignored);
  }
  return s;
}

std::string_view proxy_for(const proxy_settings& settings, const http_url& target) {
  const std::string& proxy = target.tls ? settings.for_https : settings.for_http;
  if (proxy.empty() || no_proxy_matches(settings.no_proxy, target.host)) return {};
  return proxy;
}

bool no_proxy_matches(std::string_view no_proxy, std::string_view host) {
  const std::string name = lower(host);
  boost::system::error_code ec;
  boost::asio::ip::make_address(name, ec);
  const bool literal = !ec;
  while (!no_proxy.empty()) {
    const std::size_t comma = no_proxy.find(',');
    std::string entry = lower(trim(no_proxy.substr(0, comma)));
    no_proxy = comma == std::string_view::npos ? std::string_view{} : no_proxy.substr(comma + 1);
    if (entry == "*") return true;
    if (entry.starts_with("[") && entry.ends_with("]")) entry = entry.substr(1, entry.size() - 2);
    if (entry.starts_with("*.")) entry.erase(0, 2);
    else if (entry.starts_with(".")) entry.erase(0, 1);
    if (entry.empty()) continue;
    if (entry == name) return true;
    if (!literal && name.size() > entry.size() && name.ends_with(entry) && name[name.size() - entry.size() - 1] == '.') {
      return true;
    }
  }
  return false;
}

namespace {

struct tunnel_exchange {
  std::string request;
  std::string answer;
};

}  // namespace

void open_tunnel(endpoint_state& e, connection& c, std::shared_ptr<open_waiter> waiter, std::function<void()> on_tunnel) {
  auto x = std::make_shared<tunnel_exchange>();
  x->request = "CONNECT " + e.where + " HTTP/1.1\r\nHost: " + e.where + "\r\n\r\n";
  const std::string proxy = "proxy " + e.proxy->where;
  boost::asio::async_write(
      c.socket(), boost::asio::buffer(x->request),
      [&e, &c, x, proxy, waiter = std::move(waiter), on_tunnel = std::move(on_tunnel)](
          const boost::system::error_code& ec, std::size_t) mutable {
        if (waiter->abandoned()) return;
        if (ec) {
          waiter->on_open({false, "cannot ask " + proxy + " for a tunnel to " + e.where + ": " + ec.message()});
          return;
        }
        boost::asio::async_read_until(
            c.socket(), boost::asio::dynamic_buffer(x->answer, proxy_answer_bytes_max), "\r\n\r\n",
            [&e, x, proxy, waiter = std::move(waiter), on_tunnel = std::move(on_tunnel)](
                const boost::system::error_code& read_ec, std::size_t head_bytes) {
              if (waiter->abandoned()) return;
              if (read_ec) {
                waiter->on_open({false, proxy + " gave no answer to CONNECT " + e.where + ": " + read_ec.message()});
                return;
              }
              // "HTTP/1.1 200 Connection established": any 2xx opens the tunnel (RFC 9110, 9.3.6).
              const std::string_view answer(x->answer.data(), head_bytes);
              const std::string_view line = answer.substr(0, answer.find("\r\n"));
              if (!line.starts_with("HTTP/1.") || line.size() < 12 || line[8] != ' ') {
                waiter->on_open({false, proxy + " answered CONNECT " + e.where + " with something not HTTP"});
                return;
              }
              if (line[9] != '2') {
                waiter->on_open({false, proxy + " refused the tunnel to " + e.where + ": " +
                                                   std::string(line.substr(9))});
                return;
              }
              if (x->answer.size() > head_bytes) {
                // Neither TLS nor HTTP lets the server speak first: bytes here are not the endpoint's.
                waiter->on_open({false, proxy + " sent bytes after its answer to CONNECT " + e.where});
                return;
              }
              on_tunnel();
            });
      });
}

}  // namespace squall::http_detail
