#include "tests/policies/http/connect_proxy.hpp"

// First: Boost 1.74's asio/awaitable.hpp uses std::exchange without including <utility>.
#include <utility>

#include <boost/asio/buffer.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <atomic>
#include <mutex>
#include <thread>

namespace squall::testing {

struct connect_proxy::state {
  using tcp = boost::asio::ip::tcp;
  template <class T>
  using awaitable = boost::asio::awaitable<T>;

  explicit state(std::string refusal_)
      : refusal(std::move(refusal_)),
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
      boost::asio::co_spawn(io, session(std::move(socket)), boost::asio::detached);
    }
  }

  awaitable<void> session(tcp::socket client) {
    try {
      boost::asio::streambuf in;
      const std::size_t head_bytes = co_await boost::asio::async_read_until(client, in, "\r\n\r\n", boost::asio::use_awaitable);
      std::string head(boost::asio::buffers_begin(in.data()),
                       boost::asio::buffers_begin(in.data()) + static_cast<std::ptrdiff_t>(head_bytes));
      in.consume(head_bytes);
      {
        std::lock_guard lock(mutex);
        heads.push_back(head);
      }
      if (!refusal.empty()) {
        co_await boost::asio::async_write(client, boost::asio::buffer(refusal), boost::asio::use_awaitable);
        client.close();
        co_return;
      }
      // "CONNECT host:port HTTP/1.1"
      const std::size_t first_space = head.find(' ');
      const std::string authority = head.substr(first_space + 1, head.find(' ', first_space + 1) - first_space - 1);
      const std::size_t colon = authority.rfind(':');
      std::string host = authority.substr(0, colon);
      if (host.starts_with('[')) host = host.substr(1, host.size() - 2);
      auto server = std::make_shared<tcp::socket>(io);
      tcp::resolver resolver(io);
      const auto found = co_await resolver.async_resolve(host, authority.substr(colon + 1), boost::asio::use_awaitable);
      co_await boost::asio::async_connect(*server, found, boost::asio::use_awaitable);
      const std::string ok = "HTTP/1.1 200 Connection established\r\n\r\n";
      co_await boost::asio::async_write(client, boost::asio::buffer(ok), boost::asio::use_awaitable);
      ++tunnels;
      if (in.size() > 0) co_await boost::asio::async_write(*server, in.data(), boost::asio::use_awaitable);
      auto shared_client = std::make_shared<tcp::socket>(std::move(client));
      boost::asio::co_spawn(io, relay(shared_client, server), boost::asio::detached);
      boost::asio::co_spawn(io, relay(server, shared_client), boost::asio::detached);
    } catch (const std::exception&) {
      // The client went away or the target refused: the session ends, the test sees what came of it.
    }
  }

  awaitable<void> relay(std::shared_ptr<tcp::socket> from, std::shared_ptr<tcp::socket> to) {
    std::vector<char> buffer(16 * 1024);
    try {
      for (;;) {
        const std::size_t n = co_await from->async_read_some(boost::asio::buffer(buffer), boost::asio::use_awaitable);
        co_await boost::asio::async_write(*to, boost::asio::buffer(buffer.data(), n), boost::asio::use_awaitable);
      }
    } catch (const std::exception&) {
      boost::system::error_code ignored;
      to->shutdown(tcp::socket::shutdown_both, ignored);
      from->close(ignored);
    }
  }

  std::string refusal;
  boost::asio::io_context io;
  tcp::acceptor acceptor;
  unsigned short port = 0;
  std::thread thread;
  std::atomic<int> tunnels{0};
  mutable std::mutex mutex;
  std::vector<std::string> heads;
};

connect_proxy::connect_proxy(std::string refusal) : state_(std::make_unique<state>(std::move(refusal))) {}

connect_proxy::~connect_proxy() = default;

unsigned short connect_proxy::port() const { return state_->port; }

int connect_proxy::tunnels() const { return state_->tunnels.load(); }

std::vector<std::string> connect_proxy::heads() const {
  std::lock_guard lock(state_->mutex);
  return state_->heads;
}

}  // namespace squall::testing
