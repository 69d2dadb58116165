#include "tests/support/canned_http_server.hpp"

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
#include <cctype>
#include <mutex>
#include <thread>

namespace squall::testing {

struct canned_http_server::state {
  using tcp = boost::asio::ip::tcp;
  template <class T>
  using awaitable = boost::asio::awaitable<T>;

  explicit state(responder respond_)
      : respond(std::move(respond_)),
        acceptor(io, boost::asio::ip::tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), 0)) {
    port = acceptor.local_endpoint().port();
    boost::asio::co_spawn(io, accept_loop(), boost::asio::detached);
    thread = std::thread([this] { io.run(); });
  }

  ~state() {
    io.stop();
    thread.join();
  }

  awaitable<void> accept_loop() {
    for (;;) {
      tcp::socket socket = co_await acceptor.async_accept(boost::asio::use_awaitable);
      const int number = ++connections;
      boost::asio::co_spawn(io, session(std::move(socket), number), boost::asio::detached);
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
          std::lock_guard lock(mutex);
          requests.push_back(req);
        }
        const canned_reply reply = respond(req);
        for (const reply_step& step : reply.steps) {
          if (step.delay.count() > 0) {
            boost::asio::steady_timer t(io, step.delay);
            co_await t.async_wait(boost::asio::use_awaitable);
          }
          switch (step.what) {
            case reply_step::kind::write:
              co_await boost::asio::async_write(socket, boost::asio::buffer(step.bytes), boost::asio::use_awaitable);
              break;
            case reply_step::kind::close:
              socket.shutdown(tcp::socket::shutdown_both);
              socket.close();
              ++server_closes;
              co_return;
            case reply_step::kind::reset:
              socket.set_option(boost::asio::socket_base::linger(true, 0));
              socket.close();
              ++server_closes;
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
          ++server_closes;
          co_return;
        }
      }
    } catch (const std::exception&) {
      ++client_closes;  // the client went away (or the server is stopping)
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

  responder respond;
  boost::asio::io_context io;
  tcp::acceptor acceptor;
  unsigned short port = 0;
  std::thread thread;
  mutable std::mutex mutex;
  std::vector<received_request> requests;
  std::atomic<int> connections{0};
  std::atomic<int> client_closes{0};
  std::atomic<int> server_closes{0};
};

canned_http_server::canned_http_server(responder respond) : state_(std::make_unique<state>(std::move(respond))) {}

canned_http_server::~canned_http_server() = default;

unsigned short canned_http_server::port() const { return state_->port; }

std::vector<received_request> canned_http_server::requests() const {
  std::lock_guard lock(state_->mutex);
  return state_->requests;
}

int canned_http_server::connections() const { return state_->connections.load(); }

int canned_http_server::client_closes() const { return state_->client_closes.load(); }

int canned_http_server::server_closes() const { return state_->server_closes.load(); }

}  // namespace squall::testing
