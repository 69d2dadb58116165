#include "tests/support/http_test_client.hpp"

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <cctype>
#include <chrono>

namespace squall::fake::testing {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

struct client::state {
  state(std::uint16_t port_, int timeout_ms_) : port(port_), timeout_ms(timeout_ms_) {}

  // Starts one asynchronous operation and runs the io_context until it is done: its error.
  template <class Start>
  boost::system::error_code run(Start start) {
    boost::system::error_code result;
    start([&result](boost::system::error_code e, std::size_t) { result = e; });
    io.restart();
    io.run();
    return result;
  }

  bool connect(boost::system::error_code& ec) {
    stream.expires_after(std::chrono::milliseconds(timeout_ms));
    ec = run([&](auto done) {
      stream.async_connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port),
                           [done](boost::system::error_code e) { done(e, 0); });
    });
    open = !ec;
    if (ec) close();
    return open;
  }

  void close() {
    boost::system::error_code ignored;
    stream.socket().close(ignored);
    buffer.consume(buffer.size());
    open = false;
  }

  asio::io_context io;
  beast::tcp_stream stream{io};
  beast::flat_buffer buffer;
  std::uint16_t port;
  int timeout_ms;
  bool open = false;
};

client::client(std::uint16_t port, int timeout_ms) : state_(std::make_unique<state>(port, timeout_ms)) {}

client::~client() = default;

reply client::get(const std::string& target, header_list headers) {
  return request("GET", target, "", std::move(headers));
}

reply client::post(const std::string& target, const std::string& body, header_list headers) {
  return request("POST", target, body, std::move(headers));
}

reply client::post(const std::string& target, const nlohmann::json& body, header_list headers) {
  return request("POST", target, body.dump(), std::move(headers));
}

reply client::request(const std::string& method, const std::string& target, const std::string& body,
                      header_list headers) {
  state& s = *state_;
  reply r;
  if (!s.open && !s.connect(r.error)) return r;
  http::request<http::string_body> req;
  req.method_string(method);
  req.target(target);
  req.version(11);
  req.set(http::field::host, "127.0.0.1");
  req.set(http::field::content_type, "application/json");
  for (auto& [k, v] : headers) req.set(k, v);
  req.body() = body;
  req.prepare_payload();
  s.stream.expires_after(std::chrono::milliseconds(s.timeout_ms));
  r.error = s.run([&](auto done) { http::async_write(s.stream, req, done); });
  if (r.error) {
    s.close();
    return r;
  }
  http::response_parser<http::string_body> parser;
  parser.body_limit(64 * 1024 * 1024);
  r.error = s.run([&](auto done) { http::async_read(s.stream, s.buffer, parser, done); });
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
  if (r.error || !parser.get().keep_alive()) s.close();
  return r;
}

std::string client::raw(const std::string& bytes, boost::system::error_code& ec, bool then_eof) {
  state& s = *state_;
  if (!s.open && !s.connect(ec)) return {};
  s.stream.expires_after(std::chrono::milliseconds(s.timeout_ms));
  ec = s.run([&](auto done) { asio::async_write(s.stream, asio::buffer(bytes), done); });
  if (then_eof) {
    boost::system::error_code ignored;
    s.stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
  }
  std::string out;
  char buf[4096];
  while (!ec) {
    std::size_t got = 0;
    ec = s.run([&](auto done) {
      s.stream.async_read_some(asio::buffer(buf), [&got, done](boost::system::error_code e, std::size_t n) {
        got = n;
        done(e, n);
      });
    });
    out.append(buf, got);
  }
  s.close();
  return out;
}

bool client::connected() const { return state_->open; }

void client::close() { state_->close(); }

boost::system::error_code connect_error(std::uint16_t port) {
  asio::io_context io;
  tcp::socket s(io);
  boost::system::error_code ec;
  s.connect({asio::ip::make_address("127.0.0.1"), port}, ec);
  return ec;
}

std::vector<sse_event> parse_sse(const std::string& body) {
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
