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
#include "traces/record/proxy_detail.hpp"
#include "traces/record/record_clock.hpp"

namespace squall::traces::record {
namespace {

config_result<listen_address> parse_listen(std::string_view text) {
  const auto fail = [&](const std::string& why) {
    return config_error{"", "--listen", "\"" + std::string(text) + "\" is not a listen address: " + why};
  };
  listen_address out;
  std::string_view port;
  if (text.starts_with('[')) {
    const std::size_t close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      return fail("expected [v6-address]:port");
    }
    out.host = std::string(text.substr(1, close - 1));
    port = text.substr(close + 2);
  } else {
    const std::size_t colon = text.rfind(':');
    if (colon == std::string_view::npos) return fail("expected host:port (port 0 picks a free one)");
    out.host = std::string(text.substr(0, colon));
    port = text.substr(colon + 1);
  }
  if (out.host.empty()) return fail("the host is missing");
  if (out.host == "localhost") out.host = "127.0.0.1";
  if (port.empty()) return fail("the port is missing");
  unsigned value = 0;
  for (char c : port) {
    if (c < '0' || c > '9') return fail("the port must be a number");
    value = value * 10 + static_cast<unsigned>(c - '0');
    if (value > 65535) return fail("the port must be at most 65535");
  }
  out.port = static_cast<std::uint16_t>(value);
  error_code ec;
  asio::ip::make_address(out.host, ec);
  if (ec) return fail("the host must be an IP address (or localhost)");
  return out;
}

}  // namespace

void record_proxy::impl::accept() {
  acceptor.async_accept([this](error_code ec, tcp::socket socket) {
    if (stopping) return;
    if (ec == asio::error::operation_aborted) return;
    if (!ec) {
      if (sessions.size() >= options.connections_max) {
        ++rejected;
        error_code ignored;
        socket.set_option(asio::socket_base::linger(true, 0), ignored);
        socket.close(ignored);
      } else {
        ++connections;
        start_session(*this, std::move(socket));
      }
    }
    accept();
  });
}

void record_proxy::impl::shutdown() {
  stopping = true;
  error_code ignored;
  acceptor.close(ignored);
  // A short grace before the open exchanges are cut: an answer whose last bytes already went out may
  // still have its write completion queued, and its client was served, not cancelled.
  grace.expires_after(std::chrono::milliseconds(50));
  grace.async_wait([this](error_code) { close_sessions(); });
}

void record_proxy::impl::close_sessions() {
  const std::vector<session*> open(sessions.begin(), sessions.end());
  for (session* s : open) shutdown_session(*s);
  work.reset();  // run() returns once the handlers of the closed sockets have run
}

// ----- record_proxy ----------------------------------------------------------------------------------

record_proxy::record_proxy(std::unique_ptr<impl> state) : impl_(std::move(state)) {}

record_proxy::~record_proxy() { stop(); }

config_result<std::unique_ptr<record_proxy>> record_proxy::create(record_options options) {
  const auto fail = [](std::string where, std::string message) {
    return config_error{"", std::move(where), std::move(message)};
  };
  if (options.connections_max < 1) return fail("connections_max", "must be at least 1");
  if (options.header_bytes_max < 1024) return fail("header_bytes_max", "must be at least 1024");
  if (options.answer_decode_bytes_max < 1024) return fail("answer_decode_bytes_max", "must be at least 1024");
  if (!(options.connect_timeout_ms > 0)) return fail("connect_timeout_ms", "must be greater than 0");
  if (!(options.upstream_silence_timeout_ms > 0)) return fail("upstream_silence_timeout_ms", "must be greater than 0");
  if (!(options.client_idle_timeout_ms > 0)) return fail("client_idle_timeout_ms", "must be greater than 0");

  auto url = parse_http_url(options.upstream);
  if (!url) return fail("--upstream", url.error().message);
  // parse_http_url accepts https:// for the transport; the recorder relays plain HTTP only.
  if (url->tls) return fail("--upstream", "https upstreams are not supported: the recorder speaks plain http://");
  if (!url->query.empty()) {
    return fail("--upstream", "expected no query string (\"?" + url->query + "\"): the recorder relays each request's own target");
  }
  auto listen = parse_listen(options.listen);
  if (!listen) return std::move(listen).error();
  if (!options.allow_remote && !is_loopback_host(listen->host)) {
    return fail("--listen", "\"" + listen->host + "\" is not a loopback address; add --allow-remote to listen on it");
  }

  // Decided on the text of the URL, before any lookup: resolving a remote name would already send a DNS
  // query off the machine, which is what the flag is there to prevent.
  if (!options.allow_remote && !is_loopback_host(url->host)) {
    return fail("--upstream", "\"" + url->host +
                                  "\" is not a loopback address (127.0.0.0/8, ::1 or localhost; names are not "
                                  "resolved to check); add --allow-remote to record a remote upstream");
  }

  auto state = std::make_unique<impl>(std::move(options));
  state->url = std::move(url.value());
  state->listen_at = std::move(listen.value());
  const bool v6 = state->url.host.find(':') != std::string::npos;
  state->host_header = (v6 ? "[" + state->url.host + "]" : state->url.host) +
                       (state->url.port == "80" ? "" : ":" + state->url.port);
  tcp::resolver resolver(state->io);
  error_code ec;
  state->upstream_addresses = resolver.resolve(state->url.host, state->url.port, tcp::resolver::numeric_service, ec);
  if (ec) return fail("--upstream", "cannot resolve \"" + state->url.host + "\": " + ec.message());
  if (!state->options.allow_remote) {
    for (const auto& entry : state->upstream_addresses) {
      if (!entry.endpoint().address().is_loopback()) {
        return fail("--upstream", "\"" + state->url.host + "\" resolves to " + entry.endpoint().address().to_string() +
                                      ", which is not a loopback address; add --allow-remote to record a remote upstream");
      }
    }
  }
  return std::unique_ptr<record_proxy>(new record_proxy(std::move(state)));
}

const std::string& record_proxy::started_at() const noexcept { return impl_->clock.started_at(); }

std::optional<std::string> record_proxy::start(attempt_sink sink) {
  impl& s = *impl_;
  s.sink = std::move(sink);
  const tcp::endpoint at(asio::ip::make_address(s.listen_at.host), s.listen_at.port);
  error_code ec;
  s.acceptor.open(at.protocol(), ec);
  if (!ec) s.acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) s.acceptor.bind(at, ec);
  if (!ec) s.acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (!ec) s.bound_port = s.acceptor.local_endpoint(ec).port();
  if (ec) {
    error_code ignored;
    s.acceptor.close(ignored);
    return "cannot listen on " + s.options.listen + ": " + ec.message();
  }
  s.work.emplace(asio::make_work_guard(s.io));
  s.accept();
  s.thread = std::thread([&s] { s.io.run(); });
  return std::nullopt;
}

void record_proxy::stop() noexcept {
  impl& s = *impl_;
  std::call_once(s.stop_once, [&s] {
    if (!s.thread.joinable()) return;
    asio::post(s.io, [&s] { s.shutdown(); });
    s.thread.join();
  });
}

std::string record_proxy::listen_url() const {
  const std::string& host = impl_->listen_at.host;
  const bool v6 = host.find(':') != std::string::npos;
  return "http://" + (v6 ? "[" + host + "]" : host) + ":" + std::to_string(impl_->bound_port);
}

std::uint16_t record_proxy::port() const noexcept { return impl_->bound_port; }
const std::string& record_proxy::upstream() const noexcept { return impl_->options.upstream; }

record_stats record_proxy::stats() const {
  record_stats out;
  out.exchanges = impl_->exchanges.load();
  out.connections = impl_->connections.load();
  out.rejected = impl_->rejected.load();
  out.refused_requests = impl_->refused_requests.load();
  return out;
}

}  // namespace squall::traces::record
