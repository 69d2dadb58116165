#pragma once
// A small blocking HTTP/1.1 client for the fake-provider tests: one keep-alive connection, a receive
// timeout so that a test never hangs on a server that does not answer, and helpers that split a
// server-sent event stream into events. Beast and Asio stay in http_test_client.cpp, compiled once in
// squall_test_support instead of in every test file that includes this header.

#include <boost/system/error_code.hpp>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace squall::fake::testing {

using header_list = std::vector<std::pair<std::string, std::string>>;

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
  explicit client(std::uint16_t port, int timeout_ms = 10'000);
  ~client();
  client(const client&) = delete;
  client& operator=(const client&) = delete;

  reply get(const std::string& target, header_list headers = {});
  reply post(const std::string& target, const std::string& body, header_list headers = {});
  reply post(const std::string& target, const nlohmann::json& body, header_list headers = {});
  // `method` as it goes on the request line: "GET", "DELETE", ...
  reply request(const std::string& method, const std::string& target, const std::string& body,
                header_list headers = {});

  // Sends raw bytes (then half-closes when `then_eof`) and reads whatever comes back until the server
  // closes or the deadline.
  std::string raw(const std::string& bytes, boost::system::error_code& ec, bool then_eof = false);

  bool connected() const;
  void close();

 private:
  struct state;  // the io_context, the Beast stream and its read buffer
  std::unique_ptr<state> state_;
};

// A plain blocking TCP connect to 127.0.0.1:`port`, closed at once: its error (connection_refused when
// nothing listens there).
boost::system::error_code connect_error(std::uint16_t port);

struct sse_event {
  std::string event;
  std::string data;
};

std::vector<sse_event> parse_sse(const std::string& body);

}  // namespace squall::fake::testing
