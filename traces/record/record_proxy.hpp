#pragma once
// The recording reverse proxy behind `squall record`: an HTTP/1.1 server that forwards every request to
// one upstream provider (a base URL) and relays the answer back, writing one trace_attempt per exchange.
//
//  - Forwarding: method, target (the upstream's base path + the request's target), body and every header
//    but the hop-by-hop ones are passed on; Host names the upstream. Authorization, x-api-key and the rest
//    reach the upstream but never the trace (only traces::is_kept_header headers are kept).
//  - Streams are relayed as they arrive, chunk by chunk (a Beast buffer_body parser feeding a
//    serializer), never buffered whole; an SSE reader watches the same bytes for the first content token
//    and the usage. JSON answers are relayed the same way; at most `answer_decode_bytes_max` of them is
//    kept to read the usage or error type.
//  - Failures are passed on as the client would have met them directly: an upstream that refuses, times
//    out connecting, resets or goes silent before its status line makes the proxy reset the client
//    connection (recorded with status 0); a stream cut mid-way is cut for the client too (recorded with
//    its status and outcome connection_error). A client that leaves mid-exchange closes the upstream
//    connection (recorded as cancelled).
//  - Bounded: connections_max client connections (more are closed at once), request headers and body
//    limits (431 / 413 answered by the proxy, not recorded), answer_bytes_max per answer, a connect
//    timeout, an idle timeout between requests and a silence timeout on the upstream.
//
// Threading: everything runs on one I/O thread started by start(); the sink is called on it, one
// exchange at a time, so a trace_writer needs no lock. stop() joins it.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "policies/core/config_error.hpp"
#include "traces/trace.hpp"

namespace squall::traces::record {

struct record_options {
  std::string upstream;               // "http://127.0.0.1:8080" or with a base path, "http://host:port/api"
  std::string listen = "127.0.0.1:0";  // host:port ("[::1]:0" for IPv6); port 0 picks a free one
  std::string provider;               // the trace's provider name; "" = the API the path speaks
  bool keep_prompts = false;          // prompt text in the trace; else only its SHA-256
  bool allow_remote = false;          // allow an upstream or listen address that is not loopback
  std::size_t connections_max = 1024;             // client connections open at once. Default 1024.
  std::size_t header_bytes_max = 64 * 1024;       // request or answer header. Default 64 KiB.
  std::size_t request_body_bytes_max = 32 << 20;  // beyond it the proxy answers 413. Default 32 MiB.
  std::uint64_t answer_bytes_max = 1ULL << 30;    // one answer's body; beyond it both sides are closed. 1 GiB.
  std::size_t answer_decode_bytes_max = 1 << 20;  // of a JSON answer kept to read usage. Default 1 MiB.
  double connect_timeout_ms = 10'000;             // connecting to the upstream. Default 10 s.
  double upstream_silence_timeout_ms = 600'000;   // no byte from the upstream for this long. Default 10 min.
  double client_idle_timeout_ms = 120'000;        // a client connection without a request. Default 2 min.
};

// Receives each finished exchange, on the proxy's I/O thread.
using attempt_sink = std::function<void(trace_attempt&&)>;

struct record_stats {
  std::uint64_t exchanges = 0;     // recorded
  std::uint64_t connections = 0;   // client connections accepted
  std::uint64_t rejected = 0;      // client connections closed at once (connections_max)
  std::uint64_t refused_requests = 0;  // answered by the proxy itself (413, 431, 400), not recorded
};

class record_proxy {
 public:
  // Validates the options (upstream URL, listen address, limits) and resolves the upstream. Errors name
  // the option ("--upstream: ...").
  static config_result<std::unique_ptr<record_proxy>> create(record_options options);
  ~record_proxy();  // stops
  record_proxy(const record_proxy&) = delete;
  record_proxy& operator=(const record_proxy&) = delete;

  // The UTC time of t_ms = 0 (the proxy's creation), for the trace header.
  const std::string& started_at() const noexcept;

  // Binds the listener and starts the I/O thread. An error message when it cannot bind. Call once.
  std::optional<std::string> start(attempt_sink sink);
  // Closes the listener and every connection (exchanges in flight are recorded as cancelled), then joins
  // the I/O thread. Idempotent; not from the I/O thread (the sink).
  void stop() noexcept;

  std::string listen_url() const;    // "http://127.0.0.1:PORT", once started
  std::uint16_t port() const noexcept;
  const std::string& upstream() const noexcept;
  record_stats stats() const;        // safe from any thread

  struct impl;

 private:
  explicit record_proxy(std::unique_ptr<impl> state);
  std::shared_ptr<impl> impl_;
};

}  // namespace squall::traces::record
