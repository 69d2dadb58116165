#pragma once
// One readiness probe: GET a path on 127.0.0.1:port over a plain socket, bounded in time. A plain
// blocking-style socket (non-blocking with poll, for the bound) rather than Asio: one short request at a
// time, from the thread that waits for readiness, needs no event loop. Internal to sut/.

#include <cstdint>
#include <string>

namespace squall::sut::detail {

struct probe_result {
  bool ready = false;  // the service answered with a 2xx status
  std::string seen;    // what the probe saw, for the timeout message: "HTTP 503", "connection refused", ...
};

probe_result probe_http(std::uint16_t port, const std::string& path, std::uint64_t timeout_ms);

}  // namespace squall::sut::detail
