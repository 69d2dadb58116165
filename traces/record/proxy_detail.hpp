#pragma once
// What the recording proxy's two halves share: record_proxy.cpp (listening, starting and stopping) and
// proxy_session.cpp (one client connection and its exchanges). Private to traces/record.

#include "traces/record/record_proxy.hpp"

#include <array>
#include <atomic>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <cctype>
#include <cmath>
#include <mutex>
#include <thread>
#include <unordered_set>
#include <vector>

#include <nlohmann/json.hpp>

#include "policies/core/outcome.hpp"
#include "policies/http/url.hpp"
#include "traces/record/exchange.hpp"
#include "traces/record/record_clock.hpp"

namespace squall::traces::record {
namespace proxy_detail {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using error_code = boost::system::error_code;

inline constexpr std::size_t relay_chunk_bytes = 16 * 1024;
inline constexpr std::size_t client_watch_bytes = 4 * 1024;

inline std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

inline std::string_view field_value(const http::fields& fields, std::string_view name) {
  const auto it = fields.find(beast::string_view(name.data(), name.size()));
  if (it == fields.end()) return {};
  const auto v = it->value();
  return {v.data(), v.size()};
}

// Headers that describe one connection, not the message (RFC 9110, 7.6.1), plus those the proxy sets.
inline bool hop_by_hop(std::string_view lowercase_name) noexcept {
  return lowercase_name == "connection" || lowercase_name == "keep-alive" || lowercase_name == "proxy-connection" ||
         lowercase_name == "proxy-authorization" || lowercase_name == "proxy-authenticate" || lowercase_name == "te" ||
         lowercase_name == "trailer" || lowercase_name == "transfer-encoding" || lowercase_name == "upgrade" ||
         lowercase_name == "host" || lowercase_name == "expect" || lowercase_name == "content-length";
}

// Names listed in a Connection header are hop-by-hop too.
inline bool named_by_connection(std::string_view connection, std::string_view lowercase_name) {
  std::size_t at = 0;
  while (at <= connection.size()) {
    std::size_t comma = connection.find(',', at);
    if (comma == std::string_view::npos) comma = connection.size();
    std::string_view token = connection.substr(at, comma - at);
    while (!token.empty() && (token.front() == ' ' || token.front() == '\t')) token.remove_prefix(1);
    while (!token.empty() && (token.back() == ' ' || token.back() == '\t')) token.remove_suffix(1);
    if (!token.empty() && lower(token) == lowercase_name) return true;
    at = comma + 1;
  }
  return false;
}

struct listen_address {
  std::string host;
  std::uint16_t port = 0;
};


// Times in the trace are kept to the microsecond: finer digits are the clock's noise, not information.
inline double round_us(double ms) noexcept { return std::round(ms * 1000.0) / 1000.0; }

class session;

// Starts serving one accepted client connection (proxy_session.cpp).
void start_session(record_proxy::impl& proxy, tcp::socket socket);
// The proxy is stopping: an exchange in flight is recorded as cancelled and the session closes.
void shutdown_session(session& s);

}  // namespace proxy_detail

// The impl below and both .cpp files speak in these names.
using namespace proxy_detail;

struct record_proxy::impl {
  explicit impl(record_options o) : options(std::move(o)) {}

  record_options options;
  http_url url;
  std::string host_header;
  tcp::resolver::results_type upstream_addresses;
  listen_address listen_at;
  record_clock clock;
  asio::io_context io;
  tcp::acceptor acceptor{io};
  asio::steady_timer grace{io};  // between refusing new connections and closing the open ones
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work;
  std::thread thread;
  attempt_sink sink;
  std::unordered_set<session*> sessions;  // I/O thread only
  bool stopping = false;                  // I/O thread only
  std::uint16_t bound_port = 0;
  std::once_flag stop_once;

  std::atomic<std::uint64_t> exchanges{0};
  std::atomic<std::uint64_t> connections{0};
  std::atomic<std::uint64_t> rejected{0};
  std::atomic<std::uint64_t> refused_requests{0};

  void accept();
  void shutdown();
  void close_sessions();
  void emit(trace_attempt&& a) {
    ++exchanges;
    if (sink) sink(std::move(a));
  }
};

}  // namespace squall::traces::record
