// Endpoints and their connections: opening one (a host name resolved again, the TCP connect, the TLS
// handshake for https), the idle keep-alive pool and its expiry, and building it all in create().

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/post.hpp>
#include <cmath>

#include "policies/http/request_head.hpp"
#include "policies/http/transport_detail.hpp"

namespace squall {
namespace http_detail {
namespace {

using tcp = boost::asio::ip::tcp;

// The first address of `found` that is not loopback, or nothing.
std::optional<std::string> first_remote(const tcp::resolver::results_type& found) {
  for (const auto& entry : found) {
    if (!entry.endpoint().address().is_loopback()) return entry.endpoint().address().to_string();
  }
  return std::nullopt;
}

void handshake(http_transport::impl& owner, endpoint_state& e, connection& c, std::shared_ptr<open_waiter> waiter) {
  std::string error;
  if (!prepare_tls_client(c.tls(), e.url.host, error)) {
    ++owner.stats.tls_failures;
    // Not from inside start(): the waiter hears of it from the io_context, like every other outcome.
    boost::asio::post(owner.runtime.io(), [waiter = std::move(waiter), error = std::move(error)]() mutable {
      if (!waiter->abandoned()) waiter->on_open({false, std::move(error)});
    });
    return;
  }
  c.tls().async_handshake(boost::asio::ssl::stream_base::client,
                          [&owner, &e, &c, waiter = std::move(waiter)](const boost::system::error_code& ec) {
                            if (waiter->abandoned()) return;
                            if (ec) {
                              ++owner.stats.tls_failures;
                              waiter->on_open(
                                  {false, "TLS handshake with " + e.where + " failed: " + describe_tls_failure(c.tls(), ec)});
                              return;
                            }
                            ++owner.stats.tls_handshakes;
                            waiter->on_open({true, {}});
                          });
}

// The TCP connection is up (to the endpoint, or through its proxy's tunnel): TLS next, or done.
void connected(http_transport::impl& owner, endpoint_state& e, connection& c, std::shared_ptr<open_waiter> waiter) {
  if (c.is_tls()) {
    handshake(owner, e, c, std::move(waiter));
  } else {
    waiter->on_open({true, {}});
  }
}

void connect(http_transport::impl& owner, endpoint_state& e, connection& c, const tcp::resolver::results_type& addresses,
             std::shared_ptr<open_waiter> waiter) {
  boost::asio::async_connect(c.socket(), addresses,
                             [&owner, &e, &c, waiter = std::move(waiter)](const boost::system::error_code& ec,
                                                                          const tcp::endpoint&) mutable {
                               if (waiter->abandoned()) return;
                               if (ec) {
                                 waiter->on_open({false,
                                                  e.proxy ? "cannot connect to proxy " + e.proxy->where + " (for " +
                                                                e.where + "): " + ec.message()
                                                          : "cannot connect to " + e.where + ": " + ec.message()});
                                 return;
                               }
                               boost::system::error_code ignored;
                               c.socket().set_option(tcp::no_delay(true), ignored);
                               if (!e.proxy) {
                                 connected(owner, e, c, std::move(waiter));
                                 return;
                               }
                               auto tunnelled = [&owner, &e, &c, waiter]() mutable { connected(owner, e, c, waiter); };
                               open_tunnel(e, c, std::move(waiter), std::move(tunnelled));
                             });
}

}  // namespace

void open_connection(http_transport::impl& owner, endpoint_state& e, connection& c, std::shared_ptr<open_waiter> waiter) {
  ++owner.stats.connections_opened;
  // Through a proxy, only the proxy's address matters here: the proxy resolves the endpoint's host.
  const http_url& dial = e.proxy ? e.proxy->url : e.url;
  tcp::resolver::results_type& addresses = e.proxy ? e.proxy->addresses : e.addresses;
  if (!(e.proxy ? e.proxy->resolve_each_connect : e.resolve_each_connect)) {
    connect(owner, e, c, addresses, std::move(waiter));
    return;
  }
  ++owner.stats.resolves;
  owner.resolver.async_resolve(
      dial.host, dial.port, tcp::resolver::numeric_service,
      [&owner, &e, &c, &dial, &addresses, waiter = std::move(waiter)](const boost::system::error_code& ec,
                                                                      const tcp::resolver::results_type& found) mutable {
        if (waiter->abandoned()) return;
        if (ec) {
          waiter->on_open({false, "cannot resolve \"" + dial.host + "\": " + ec.message()});
          return;
        }
        // The check create() made holds for every later answer too: a name may not move off this machine.
        if (owner.options.loopback_only) {
          if (auto remote = first_remote(found)) {
            waiter->on_open({false, "\"" + dial.host + "\" now resolves to " + *remote +
                                               ", which is not a loopback address"});
            return;
          }
        }
        addresses = found;
        connect(owner, e, c, addresses, std::move(waiter));
      });
}

std::unique_ptr<connection> take_idle(http_transport::impl& owner, endpoint_state& e) {
  if (e.idle.empty()) return nullptr;
  const double timeout_ms = owner.options.idle_timeout_ms;
  const time_point now = owner.runtime.now();
  while (!e.idle.empty()) {
    std::unique_ptr<connection> c = std::move(e.idle.back());
    e.idle.pop_back();
    if (timeout_ms > 0 && now - c->idle_since >= from_ms(timeout_ms)) {
      // The newest is too old: so is every other one.
      ++owner.stats.idle_expired;
      c->close();
      --e.open;
      for (auto& older : e.idle) {
        ++owner.stats.idle_expired;
        older->close();
        --e.open;
      }
      e.idle.clear();
      return nullptr;
    }
    // A connection idle for less than this was answered on a moment ago, with keep-alive: it skips the
    // peek, whose system call per request cost the closed-loop live generator 5% of its throughput. A
    // server that closed it within that time anyway makes the write fail, which is reported honestly as
    // a connection_error, never sent twice; idle timeouts, the closes that matter, are far longer.
    constexpr duration peek_after = std::chrono::milliseconds(1);
    if (now - c->idle_since < peek_after || c->idle_and_open()) return c;
    ++owner.stats.stale_reconnects;
    c->close();
    --e.open;
  }
  return nullptr;
}

bool put_idle(http_transport::impl& owner, endpoint_state& e, std::unique_ptr<connection>& c) {
  const time_point now = owner.runtime.now();
  // The oldest go first. Expiry happens here and in take_idle, when the pool is used: the transport arms
  // no timer for it, so that an io_context with nothing in flight runs out of work and returns.
  if (owner.options.idle_timeout_ms > 0) {
    const duration limit = from_ms(owner.options.idle_timeout_ms);
    std::size_t expired = 0;
    while (expired < e.idle.size() && now - e.idle[expired]->idle_since >= limit) e.idle[expired++]->close();
    if (expired > 0) {
      owner.stats.idle_expired += expired;
      e.open -= expired;
      e.idle.erase(e.idle.begin(), e.idle.begin() + static_cast<std::ptrdiff_t>(expired));
    }
  }
  if (e.idle.size() < owner.options.idle_max) {
    c->idle_since = now;
    e.idle.push_back(std::move(c));
    return true;
  }
  c->close();
  --e.open;
  return false;
}

}  // namespace http_detail

using http_detail::endpoint_state;

// ----- impl ------------------------------------------------------------------------------------------

endpoint_state* http_transport::impl::find(std::string_view provider) const noexcept {
  if (provider.empty()) return default_endpoint;
  for (const auto& e : endpoints) {
    if (e->config.provider == provider) return e.get();
  }
  return nullptr;
}

const http_price* http_transport::impl::price(std::string_view provider, std::string_view model) const noexcept {
  for (const http_price& p : options.prices) {
    if (p.provider == provider && p.model == model) return &p;
  }
  return nullptr;
}

std::string_view http_transport::impl::intern(std::string_view model) {
  constexpr std::size_t interned_models_max = 1024;
  if (model.empty()) return {};
  auto it = models.find(model);
  if (it != models.end()) return *it;
  if (models.size() >= interned_models_max) return {};  // bounded: past it, outcomes name no model
  return *models.emplace(model).first;
}

// ----- create ----------------------------------------------------------------------------------------

config_result<std::unique_ptr<http_transport>> http_transport::create(asio_runtime& runtime,
                                                                      http_transport_options options) {
  using tcp = boost::asio::ip::tcp;
  const auto fail = [](std::string where, std::string message) {
    return config_error{"", std::move(where), std::move(message)};
  };
  const auto duration_ms_ok = [](double ms) { return std::isfinite(ms) && ms >= 0; };
  if (options.endpoints.empty()) return fail("endpoints", "at least one endpoint is needed");
  if (options.connections_max < 1) return fail("connections_max", "must be at least 1");
  if (!(options.connect_timeout_ms > 0)) return fail("connect_timeout_ms", "must be greater than 0");
  if (!duration_ms_ok(options.read_timeout_ms)) return fail("read_timeout_ms", "must be 0 (none) or more");
  if (!duration_ms_ok(options.idle_timeout_ms)) return fail("idle_timeout_ms", "must be 0 (none) or more");
  if (options.response_bytes_max < 1024) return fail("response_bytes_max", "must be at least 1024");
  if (options.user_agent.empty() || options.user_agent.find_first_of("\r\n") != std::string::npos) {
    return fail("user_agent", "must be non-empty and hold no line break");
  }

  auto state = std::make_unique<impl>(runtime, std::move(options));
  const http_detail::proxy_settings proxies = http_detail::proxy_settings_from(state->options);
  tcp::resolver resolver(runtime.io());
  std::shared_ptr<boost::asio::ssl::context> tls;  // one for every https endpoint: the same trust
  for (std::size_t i = 0; i < state->options.endpoints.size(); ++i) {
    const http_endpoint& e = state->options.endpoints[i];
    const std::string where = "endpoints[" + std::to_string(i) + "] (" + e.provider + ")";
    if (e.provider.empty()) return fail(where, "the provider name is empty");
    for (std::size_t j = 0; j < i; ++j) {
      if (state->options.endpoints[j].provider == e.provider) return fail(where, "a second endpoint for this provider");
    }
    auto url = parse_http_url(e.base_url);
    if (!url) return fail(where, url.error().message);
    auto ep = std::make_unique<endpoint_state>();
    ep->config = e;
    ep->url = std::move(url.value());
    ep->target = ep->url.path + std::string(request_path(e.api)) + (ep->url.query.empty() ? "" : "?" + ep->url.query);
    const bool v6 = ep->url.host.find(':') != std::string::npos;
    const std::string host = v6 ? "[" + ep->url.host + "]" : ep->url.host;
    ep->where = host + ":" + ep->url.port;
    ep->host_header = host + (ep->url.port == (ep->url.tls ? "443" : "80") ? "" : ":" + ep->url.port);
    if (state->options.anthropic_version.find_first_of("\r\n") != std::string::npos) {
      return fail("anthropic_version", "holds a line break");
    }
    if (auto why = http_detail::build_endpoint_head(*ep, state->options)) return fail(where, *why);
    boost::system::error_code ec;
    if (const std::string_view proxy = http_detail::proxy_for(proxies, ep->url); !proxy.empty()) {
      auto proxy_url = parse_http_url(proxy);
      if (!proxy_url) return fail(proxies.source, proxy_url.error().message);
      if (proxy_url->tls || !proxy_url->path.empty() || !proxy_url->query.empty()) {
        return fail(proxies.source, "\"" + std::string(proxy) + "\": a proxy is http://host:port, without a path");
      }
      http_detail::proxy_route route;
      route.url = std::move(proxy_url.value());
      const bool proxy_v6 = route.url.host.find(':') != std::string::npos;
      route.where = (proxy_v6 ? "[" + route.url.host + "]" : route.url.host) + ":" + route.url.port;
      route.addresses = resolver.resolve(route.url.host, route.url.port, tcp::resolver::numeric_service, ec);
      if (ec) return fail(where, "cannot resolve proxy \"" + route.url.host + "\": " + ec.message());
      if (state->options.loopback_only) {
        if (auto remote = http_detail::first_remote(route.addresses)) {
          return fail(where, "proxy \"" + route.url.host + "\" resolves to " + *remote + ", which is not a loopback address");
        }
      }
      boost::asio::ip::make_address(route.url.host, ec);
      route.resolve_each_connect = static_cast<bool>(ec);
      ep->proxy = std::move(route);
    }
    // Through a proxy the endpoint's host is the proxy's to resolve (it may have no address here), unless
    // loopback_only asks that it be checked too.
    if (!ep->proxy || state->options.loopback_only) {
      ep->addresses = resolver.resolve(ep->url.host, ep->url.port, tcp::resolver::numeric_service, ec);
      if (ec) return fail(where, "cannot resolve \"" + ep->url.host + "\": " + ec.message());
      if (state->options.loopback_only) {
        if (auto remote = http_detail::first_remote(ep->addresses)) {
          return fail(where, "\"" + ep->url.host + "\" resolves to " + *remote + ", which is not a loopback address");
        }
      }
    }
    boost::asio::ip::make_address(ep->url.host, ec);
    ep->resolve_each_connect = static_cast<bool>(ec);  // a name, not an address literal
    if (ep->url.tls) {
      if (!tls) {
        auto made = http_detail::make_client_tls_context(state->options.ca_file);
        if (!made) return fail("ca_file", made.error().message);
        tls = std::move(made.value());
      }
      ep->tls = tls;
    }
    state->endpoints.push_back(std::move(ep));
  }
  if (state->options.default_provider.empty()) {
    state->default_endpoint = state->endpoints.front().get();
  } else {
    state->default_endpoint = state->find(state->options.default_provider);
    if (!state->default_endpoint) {
      return fail("default_provider", "\"" + state->options.default_provider + "\" names no endpoint");
    }
  }
  return std::unique_ptr<http_transport>(new http_transport(std::move(state)));
}

// ----- the pool's counts -----------------------------------------------------------------------------

std::size_t http_transport::open_connections() const noexcept {
  std::size_t n = 0;
  for (const auto& e : impl_->endpoints) n += e->open;
  return n;
}

std::size_t http_transport::idle_connections() const noexcept {
  std::size_t n = 0;
  for (const auto& e : impl_->endpoints) n += e->idle.size();
  return n;
}

}  // namespace squall
