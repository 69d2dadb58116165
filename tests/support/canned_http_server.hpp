#pragma once
// A real HTTP/1.1 server on 127.0.0.1, port 0, that answers each request with bytes a test scripts:
// exact status lines, headers, JSON and SSE bodies, pauses between pieces, and endings no library server
// would produce on purpose (a connection reset, a stream cut mid-chunk, a hang). It runs its own
// io_context on its own thread; the recorded requests are guarded by a mutex. Asio stays in
// canned_http_server.cpp, compiled once in squall_test_support.

#include <chrono>
#include <cstdio>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace squall::testing {

inline bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

struct received_request {
  std::string method;
  std::string target;
  std::map<std::string, std::string> headers;  // names in lower case
  std::string body;
  int connection = 0;  // which accepted connection carried it (1, 2, ...)

  std::string header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? std::string{} : it->second;
  }
};

// One piece of a scripted answer.
struct reply_step {
  enum class kind { write, close, reset, hang };
  kind what = kind::write;
  std::string bytes;                        // for write
  std::chrono::milliseconds delay{0};       // waited before this step
};

struct canned_reply {
  std::vector<reply_step> steps;
  bool keep_open = true;  // after the last step, read the next request on the same connection

  canned_reply& write(std::string bytes, int delay_ms = 0) {
    steps.push_back({reply_step::kind::write, std::move(bytes), std::chrono::milliseconds(delay_ms)});
    return *this;
  }
  canned_reply& close(int delay_ms = 0) {
    steps.push_back({reply_step::kind::close, {}, std::chrono::milliseconds(delay_ms)});
    return *this;
  }
  canned_reply& reset(int delay_ms = 0) {
    steps.push_back({reply_step::kind::reset, {}, std::chrono::milliseconds(delay_ms)});
    return *this;
  }
  canned_reply& hang() {
    steps.push_back({reply_step::kind::hang, {}, {}});
    return *this;
  }
};

// A complete response with a body and Content-Length.
inline std::string http_response(int status, const std::string& reason, const std::string& body,
                                 const std::vector<std::pair<std::string, std::string>>& headers = {},
                                 const std::string& content_type = "application/json") {
  std::string out = "HTTP/1.1 " + std::to_string(status) + " " + reason + "\r\n";
  out += "Content-Type: " + content_type + "\r\n";
  for (const auto& [k, v] : headers) out += k + ": " + v + "\r\n";
  out += "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n";
  out += body;
  return out;
}

// The head of a chunked response (an SSE stream); chunks follow with http_chunk, the end with "0\r\n\r\n".
inline std::string http_stream_head(int status = 200, const std::string& content_type = "text/event-stream") {
  return "HTTP/1.1 " + std::to_string(status) + " OK\r\nContent-Type: " + content_type +
         "\r\nTransfer-Encoding: chunked\r\nCache-Control: no-cache\r\n\r\n";
}

inline std::string http_chunk(const std::string& data) {
  char size[32];
  std::snprintf(size, sizeof size, "%zx\r\n", data.size());
  return size + data + "\r\n";
}

inline const std::string http_last_chunk = "0\r\n\r\n";

class canned_http_server {
 public:
  // Called on the server's thread for each request read whole.
  using responder = std::function<canned_reply(const received_request&)>;

  explicit canned_http_server(responder respond);
  ~canned_http_server();

  canned_http_server(const canned_http_server&) = delete;
  canned_http_server& operator=(const canned_http_server&) = delete;

  unsigned short port() const;
  std::string base_url(const std::string& path = "/v1") const {
    return "http://127.0.0.1:" + std::to_string(port()) + path;
  }

  std::vector<received_request> requests() const;
  int connections() const;
  // Requests fully read by the server whose connection later closed from the client's side.
  int client_closes() const;
  // Connections the server closed itself (a close or reset step, or keep_open = false).
  int server_closes() const;

 private:
  struct state;  // the io_context, the acceptor, the thread and what was recorded
  std::unique_ptr<state> state_;
};

}  // namespace squall::testing
