#pragma once
// A small HTTP CONNECT proxy on 127.0.0.1, port 0, for the transport's proxy tests: it reads the CONNECT
// head, records it, and either answers a scripted refusal (407) or connects to the named host:port,
// answers 200 and relays bytes both ways until either side closes. Its own io_context on its own thread;
// the recorded heads are guarded by a mutex. Asio stays in connect_proxy.cpp.

#include <memory>
#include <string>
#include <vector>

namespace squall::testing {

class connect_proxy {
 public:
  // `refusal`: empty relays; otherwise the whole answer sent instead of the tunnel
  // ("HTTP/1.1 407 Proxy Authentication Required\r\n...").
  explicit connect_proxy(std::string refusal = {});
  ~connect_proxy();

  connect_proxy(const connect_proxy&) = delete;
  connect_proxy& operator=(const connect_proxy&) = delete;

  std::string url() const { return "http://127.0.0.1:" + std::to_string(port()); }
  unsigned short port() const;
  int tunnels() const;                     // 200s answered
  std::vector<std::string> heads() const;  // every CONNECT head received, whole

 private:
  struct state;  // the io_context, the acceptor, the thread and what was recorded
  std::unique_ptr<state> state_;
};

}  // namespace squall::testing
