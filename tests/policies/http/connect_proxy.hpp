#pragma once
// A small HTTP CONNECT proxy on 127.0.0.1, port 0, for the transport's proxy tests: it reads the CONNECT
// head, records it, and either answers a scripted refusal (407) or connects to the named host:port,
// answers 200 and relays bytes both ways until either side closes. Its own io_context on its own thread;
// the recorded heads are guarded by a mutex.

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
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace squall::testing {

class connect_proxy {
 public:
  // `refusal`: empty relays; otherwise the whole answer sent instead of the tunnel
  // ("HTTP/1.1 407 Proxy Authentication Required\r\n...").
  explicit connect_proxy(std::string refusal = {})
      : refusal_(std::move(refusal)),
        acceptor_(io_, boost::asio::ip::tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), 0)) {
    port_ = acceptor_.local_endpoint().port();
    boost::asio::co_spawn(io_, accept_loop(), boost::asio::detached);
    thread_ = std::thread([this] { io_.run(); });
  }

  ~connect_proxy() {
    io_.stop();
    thread_.join();
  }

  connect_proxy(const connect_proxy&) = delete;
  connect_proxy& operator=(const connect_proxy&) = delete;

  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  unsigned short port() const { return port_; }
  int tunnels() const { return tunnels_.load(); }  // 200s answered
  std::vector<std::string> heads() const {         // every CONNECT head received, whole
    std::lock_guard lock(mutex_);
    return heads_;
  }

 private:
  using tcp = boost::asio::ip::tcp;
  template <class T>
  using awaitable = boost::asio::awaitable<T>;

  awaitable<void> accept_loop() {
    for (;;) {
      tcp::socket socket = co_await acceptor_.async_accept(boost::asio::use_awaitable);
      boost::asio::co_spawn(io_, session(std::move(socket)), boost::asio::detached);
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
        std::lock_guard lock(mutex_);
        heads_.push_back(head);
      }
      if (!refusal_.empty()) {
        co_await boost::asio::async_write(client, boost::asio::buffer(refusal_), boost::asio::use_awaitable);
        client.close();
        co_return;
      }
      // "CONNECT host:port HTTP/1.1"
      const std::size_t first_space = head.find(' ');
      const std::string authority = head.substr(first_space + 1, head.find(' ', first_space + 1) - first_space - 1);
      const std::size_t colon = authority.rfind(':');
      std::string host = authority.substr(0, colon);
      if (host.starts_with('[')) host = host.substr(1, host.size() - 2);
      auto server = std::make_shared<tcp::socket>(io_);
      tcp::resolver resolver(io_);
      const auto found = co_await resolver.async_resolve(host, authority.substr(colon + 1), boost::asio::use_awaitable);
      co_await boost::asio::async_connect(*server, found, boost::asio::use_awaitable);
      const std::string ok = "HTTP/1.1 200 Connection established\r\n\r\n";
      co_await boost::asio::async_write(client, boost::asio::buffer(ok), boost::asio::use_awaitable);
      ++tunnels_;
      if (in.size() > 0) co_await boost::asio::async_write(*server, in.data(), boost::asio::use_awaitable);
      auto shared_client = std::make_shared<tcp::socket>(std::move(client));
      boost::asio::co_spawn(io_, relay(shared_client, server), boost::asio::detached);
      boost::asio::co_spawn(io_, relay(server, shared_client), boost::asio::detached);
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

  std::string refusal_;
  boost::asio::io_context io_;
  tcp::acceptor acceptor_;
  unsigned short port_ = 0;
  std::thread thread_;
  std::atomic<int> tunnels_{0};
  mutable std::mutex mutex_;
  std::vector<std::string> heads_;
};

}  // namespace squall::testing
