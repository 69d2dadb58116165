#pragma once
// A small blocking HTTP/1.1 client over Beast for the fake-provider tests: one keep-alive connection,
// a receive timeout so that a test never hangs on a server that does not answer, and helpers that split
// a server-sent event stream into events.

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace squall::fake::testing {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

struct reply {
  int status = 0;                              // 0: no complete response
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;
  boost::system::error_code error;             // transport or parse error

  std::string header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? std::string{} : it->second;
  }
  bool has(const std::string& name) const { return headers.count(name) != 0; }
  nlohmann::json json() const { return nlohmann::json::parse(body, nullptr, false); }
};

// Every operation runs asynchronously on the client's own io_context under a deadline (beast::tcp_stream
// closes the socket when it passes), so a server that never answers fails the call instead of the test.
class client {
 public:
  explicit client(std::uint16_t port, int timeout_ms = 10'000) : port_(port), timeout_ms_(timeout_ms) {}

  reply get(const std::string& target, std::vector<std::pair<std::string, std::string>> headers = {}) {
    return request(http::verb::get, target, "", std::move(headers));
  }
  reply post(const std::string& target, const std::string& body,
             std::vector<std::pair<std::string, std::string>> headers = {}) {
    return request(http::verb::post, target, body, std::move(headers));
  }
  reply post(const std::string& target, const nlohmann::json& body,
             std::vector<std::pair<std::string, std::string>> headers = {}) {
    return request(http::verb::post, target, body.dump(), std::move(headers));
  }

  reply request(http::verb method, const std::string& target, const std::string& body,
                std::vector<std::pair<std::string, std::string>> headers = {}) {
    reply r;
    if (!open_ && !connect(r.error)) return r;
    http::request<http::string_body> req{method, target, 11};
    req.set(http::field::host, "127.0.0.1");
    req.set(http::field::content_type, "application/json");
    for (auto& [k, v] : headers) req.set(k, v);
    req.body() = body;
    req.prepare_payload();
    stream_.expires_after(std::chrono::milliseconds(timeout_ms_));
    r.error = run([&](auto done) { http::async_write(stream_, req, done); });
    if (r.error) {
      close();
      return r;
    }
    http::response_parser<http::string_body> parser;
    parser.body_limit(64 * 1024 * 1024);
    r.error = run([&](auto done) { http::async_read(stream_, buffer_, parser, done); });
    // Keep what arrived even when the body broke off (a cut stream).
    if (parser.is_header_done()) {
      const auto& m = parser.get();
      r.status = static_cast<int>(m.result_int());
      for (const auto& f : m) {
        std::string name(f.name_string());
        for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        r.headers[name] = std::string(f.value());
      }
      r.body = m.body();
    }
    if (r.error || !parser.get().keep_alive()) close();
    return r;
  }

  // Sends raw bytes (then half-closes when `then_eof`) and reads whatever comes back until the server
  // closes or the deadline.
  std::string raw(const std::string& bytes, boost::system::error_code& ec, bool then_eof = false) {
    if (!open_ && !connect(ec)) return {};
    stream_.expires_after(std::chrono::milliseconds(timeout_ms_));
    ec = run([&](auto done) { asio::async_write(stream_, asio::buffer(bytes), done); });
    if (then_eof) {
      boost::system::error_code ignored;
      stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    }
    std::string out;
    char buf[4096];
    while (!ec) {
      std::size_t got = 0;
      ec = run([&](auto done) {
        stream_.async_read_some(asio::buffer(buf), [&got, done](boost::system::error_code e, std::size_t n) {
          got = n;
          done(e, n);
        });
      });
      out.append(buf, got);
    }
    close();
    return out;
  }

  bool connected() const { return open_; }
  void close() {
    boost::system::error_code ignored;
    stream_.socket().close(ignored);
    buffer_.consume(buffer_.size());
    open_ = false;
  }

 private:
  template <class Start>
  boost::system::error_code run(Start start) {
    boost::system::error_code result;
    start([&result](boost::system::error_code e, std::size_t) { result = e; });
    io_.restart();
    io_.run();
    return result;
  }

  bool connect(boost::system::error_code& ec) {
    stream_.expires_after(std::chrono::milliseconds(timeout_ms_));
    ec = run([&](auto done) {
      stream_.async_connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port_),
                            [done](boost::system::error_code e) { done(e, 0); });
    });
    open_ = !ec;
    if (ec) close();
    return open_;
  }

  asio::io_context io_;
  beast::tcp_stream stream_{io_};
  beast::flat_buffer buffer_;
  std::uint16_t port_;
  int timeout_ms_;
  bool open_ = false;
};

struct sse_event {
  std::string event;
  std::string data;
};

inline std::vector<sse_event> parse_sse(const std::string& body) {
  std::vector<sse_event> events;
  sse_event current;
  std::size_t at = 0;
  while (at < body.size()) {
    std::size_t end = body.find('\n', at);
    if (end == std::string::npos) end = body.size();
    const std::string line = body.substr(at, end - at);
    at = end + 1;
    if (line.empty()) {
      if (!current.data.empty() || !current.event.empty()) events.push_back(current);
      current = {};
    } else if (line.rfind("event: ", 0) == 0) {
      current.event = line.substr(7);
    } else if (line.rfind("data: ", 0) == 0) {
      current.data += line.substr(6);
    }
  }
  return events;
}

}  // namespace squall::fake::testing
