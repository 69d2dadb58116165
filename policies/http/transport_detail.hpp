#pragma once
// The HTTP transport's inner parts (private to policies/http), shared by its source files:
//
//   http_transport.cpp    one attempt: the request on the wire, the answer read and classified, the
//                         failures it decides (with the sentence saying why), its timers
//   connection_pool.cpp   endpoints and their connections: opening one (resolve, connect, TLS
//                         handshake), the idle pool and its expiry, create()
//   connection.cpp        one connection: plain or TLS stream, the liveness check before reuse
//   request_head.cpp      request heads: built and checked once per endpoint, completed per attempt
//   proxy_tunnel.cpp      HTTP CONNECT through a proxy, and which hosts go through it
//   tls_client.cpp        the TLS client context, SNI and certificate name checks, failures in words

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/http.hpp>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "policies/http/connection.hpp"
#include "policies/http/http_transport.hpp"
#include "policies/http/proxy_tunnel.hpp"
#include "policies/http/url.hpp"

namespace squall {
namespace http_detail {

struct attempt;

struct endpoint_state {
  http_endpoint config;
  http_url url;
  std::string target;  // the request path, with the base URL's query
  std::string host_header;
  std::string head;    // the request head's lines that are the same for every attempt
  std::string key_header;  // "Authorization: Bearer ", "x-api-key: " or "api-key: "
  bool key_per_attempt = false;  // api_key_env or api_key_provider: the key is not in `head`
  std::string where;   // "host:port", for messages and the proxy's CONNECT
  // From create(). An IP literal keeps them; a host name is looked up again for every new connection,
  // so that a provider moving to other addresses is followed.
  boost::asio::ip::tcp::resolver::results_type addresses;
  bool resolve_each_connect = false;
  std::optional<proxy_route> proxy;  // connections go through this proxy (HTTP CONNECT)
  std::shared_ptr<boost::asio::ssl::context> tls;  // https endpoints only
  std::vector<std::unique_ptr<connection>> idle;   // newest last: reused first; oldest first: expired first
  std::size_t open = 0;                            // in use, idle or connecting
  std::deque<attempt*> waiting;
};

}  // namespace http_detail

struct http_transport::impl {
  asio_runtime& runtime;
  http_transport_options options;
  std::vector<std::unique_ptr<http_detail::endpoint_state>> endpoints;
  http_detail::endpoint_state* default_endpoint = nullptr;
  http_transport_stats stats;
  http_detail::attempt* live_head = nullptr;  // attempts in flight, for teardown
  std::size_t live = 0;
  std::set<std::string, std::less<>> models;  // names of unpriced models, so outcomes can point at them
  std::string last_error;                     // the message of the latest failure the transport decided
  boost::asio::ip::tcp::resolver resolver;    // host names, when a new connection is opened

  impl(asio_runtime& rt, http_transport_options o) : runtime(rt), options(std::move(o)), resolver(rt.io()) {}
  ~impl();

  http_detail::endpoint_state* find(std::string_view provider) const noexcept;
  const http_price* price(std::string_view provider, std::string_view model) const noexcept;
  std::string_view intern(std::string_view model);
  void link(http_detail::attempt& a) noexcept;
  void unlink(http_detail::attempt& a) noexcept;
};

namespace http_detail {

// What opening a connection came to: ok, or why not.
struct open_result {
  bool ok = false;
  std::string message;  // why not, in a sentence naming the endpoint
};

// Who waits for a connection to open: an attempt.
class open_waiter {
 public:
  // True once the waiter gave up (answered or cancelled): the remaining steps touch nothing, since the
  // connection, the endpoint and the transport itself may be gone by then.
  virtual bool abandoned() const noexcept = 0;
  virtual void on_open(open_result result) = 0;

 protected:
  ~open_waiter() = default;
};

// Opens `c` (a new connection of `e`): resolves a host name, connects, and for https runs the TLS
// handshake, then calls waiter->on_open once, from the io_context, never from inside this call. The
// waiter bounds it in time (its connect timer closes `c`) and keeps `c` alive until it has given up or
// been called.
void open_connection(http_transport::impl& owner, endpoint_state& e, connection& c, std::shared_ptr<open_waiter> waiter);

// On `c`, connected to e.proxy: asks for a tunnel to e.where with HTTP CONNECT, then calls on_tunnel()
// once the proxy agreed, or waiter->on_open with why not (proxy_tunnel.cpp). Nothing once the waiter gave up.
void open_tunnel(endpoint_state& e, connection& c, std::shared_ptr<open_waiter> waiter, std::function<void()> on_tunnel);

// An idle connection of `e` that can carry a request now, or null. Idle connections past
// idle_timeout_ms, or found closed by the server (connection::idle_and_open), are closed on the way and
// their slots freed.
std::unique_ptr<connection> take_idle(http_transport::impl& owner, endpoint_state& e);

// Hands `c` back: into the idle pool when there is room, else closed (and `c` kept, closed, by the caller
// until its own handlers have run). Returns whether it was pooled.
bool put_idle(http_transport::impl& owner, endpoint_state& e, std::unique_ptr<connection>& c);

}  // namespace http_detail
}  // namespace squall
