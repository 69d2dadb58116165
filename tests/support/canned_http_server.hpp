#pragma once
// A real HTTP/1.1 server on 127.0.0.1, port 0, that answers each request with bytes a test scripts:
// exact status lines, headers, JSON and SSE bodies, pauses between pieces, and endings no library server
// would produce on purpose (a connection reset, a stream cut mid-chunk, a hang). It runs its own
// io_context on its own thread; the recorded requests are guarded by a mutex.

#include <boost/asio/buffer.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace squall::testing {

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
  using responder = std::function<canned_reply(const received_request&)>;

  explicit canned_http_server(responder respond)
      : respond_(std::move(respond)),
        acceptor_(io_, boost::asio::ip::tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), 0)) {
    port_ = acceptor_.local_endpoint().port();
    boost::asio::co_spawn(io_, accept_loop(), boost::asio::detached);
    thread_ = std::thread([this] { io_.run(); });
  }

  ~canned_http_server() {
    io_.stop();
    thread_.join();
  }

  canned_http_server(const canned_http_server&) = delete;
  canned_http_server& operator=(const canned_http_server&) = delete;

  unsigned short port() const { return port_; }
  std::string base_url(const std::string& path = "/v1") const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }

  std::vector<received_request> requests() const {
    std::lock_guard lock(mutex_);
    return requests_;
  }
  int connections() const { return connections_.load(); }
  // Requests fully read by the server whose connection later closed from the client's side.
  int client_closes() const { return client_closes_.load(); }
  // Connections the server closed itself (a close or reset step, or keep_open = false).
  int server_closes() const { return server_closes_.load(); }

 private:
  using tcp = boost::asio::ip::tcp;
  template <class T>
  using awaitable = boost::asio::awaitable<T>;

  awaitable<void> accept_loop() {
    for (;;) {
      tcp::socket socket = co_await acceptor_.async_accept(boost::asio::use_awaitable);
      const int number = ++connections_;
      boost::asio::co_spawn(io_, session(std::move(socket), number), boost::asio::detached);
    }
  }

  awaitable<void> session(tcp::socket socket, int number) {
    boost::asio::streambuf in;
    try {
      for (;;) {
        const std::size_t head_bytes =
            co_await boost::asio::async_read_until(socket, in, "\r\n\r\n", boost::asio::use_awaitable);
        std::string head(boost::asio::buffers_begin(in.data()),
                         boost::asio::buffers_begin(in.data()) + static_cast<std::ptrdiff_t>(head_bytes));
        in.consume(head_bytes);
        received_request req = parse_head(head);
        req.connection = number;
        const std::size_t length = std::stoul(req.header("content-length").empty() ? "0" : req.header("content-length"));
        if (in.size() < length) {
          co_await boost::asio::async_read(socket, in, boost::asio::transfer_exactly(length - in.size()),
                                           boost::asio::use_awaitable);
        }
        req.body.assign(boost::asio::buffers_begin(in.data()),
                        boost::asio::buffers_begin(in.data()) + static_cast<std::ptrdiff_t>(length));
        in.consume(length);
        {
          std::lock_guard lock(mutex_);
          requests_.push_back(req);
        }
        const canned_reply reply = respond_(req);
        for (const reply_step& step : reply.steps) {
          if (step.delay.count() > 0) {
            boost::asio::steady_timer t(io_, step.delay);
            co_await t.async_wait(boost::asio::use_awaitable);
          }
          switch (step.what) {
            case reply_step::kind::write:
              co_await boost::asio::async_write(socket, boost::asio::buffer(step.bytes), boost::asio::use_awaitable);
              break;
            case reply_step::kind::close:
              socket.shutdown(tcp::socket::shutdown_both);
              socket.close();
              ++server_closes_;
              co_return;
            case reply_step::kind::reset:
              socket.set_option(boost::asio::socket_base::linger(true, 0));
              socket.close();
              ++server_closes_;
              co_return;
            case reply_step::kind::hang: {
              // Holds the connection open; a client closing it ends the wait with an error.
              char byte;
              co_await socket.async_read_some(boost::asio::buffer(&byte, 1), boost::asio::use_awaitable);
              co_return;
            }
          }
        }
        if (!reply.keep_open) {
          socket.shutdown(tcp::socket::shutdown_both);
          socket.close();
          ++server_closes_;
          co_return;
        }
      }
    } catch (const std::exception&) {
      ++client_closes_;  // the client went away (or the server is stopping)
    }
  }

  static received_request parse_head(const std::string& head) {
    received_request req;
    std::size_t line_end = head.find("\r\n");
    const std::string first = head.substr(0, line_end);
    const std::size_t sp1 = first.find(' ');
    const std::size_t sp2 = first.find(' ', sp1 + 1);
    req.method = first.substr(0, sp1);
    req.target = first.substr(sp1 + 1, sp2 - sp1 - 1);
    std::size_t pos = line_end + 2;
    while (pos < head.size()) {
      const std::size_t end = head.find("\r\n", pos);
      if (end == pos || end == std::string::npos) break;
      const std::string line = head.substr(pos, end - pos);
      const std::size_t colon = line.find(':');
      std::string name = line.substr(0, colon);
      std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
      std::string value = line.substr(colon + 1);
      while (!value.empty() && value.front() == ' ') value.erase(0, 1);
      req.headers[name] = value;
      pos = end + 2;
    }
    return req;
  }

  responder respond_;
  boost::asio::io_context io_;
  tcp::acceptor acceptor_;
  unsigned short port_ = 0;
  std::thread thread_;
  mutable std::mutex mutex_;
  std::vector<received_request> requests_;
  std::atomic<int> connections_{0};
  std::atomic<int> client_closes_{0};
  std::atomic<int> server_closes_{0};
};

}  // namespace squall::testing
