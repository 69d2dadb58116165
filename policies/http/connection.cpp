#include "policies/http/connection.hpp"

#include <sys/socket.h>

#include <cerrno>

namespace squall::http_detail {

// Beast reads as much as the buffer's free capacity, and at least 512 bytes: from an empty buffer an
// answer of 600 bytes (a small JSON answer with its head) took two recv calls, every time.
connection::connection(boost::asio::io_context& io) : stream(std::in_place_index<0>, io) {
  buffer.reserve(read_buffer_bytes);
}

connection::connection(boost::asio::io_context& io, boost::asio::ssl::context& tls)
    : stream(std::in_place_index<1>, io, tls) {
  buffer.reserve(read_buffer_bytes);
}

boost::asio::ip::tcp::socket& connection::socket() noexcept {
  if (auto* plain = std::get_if<0>(&stream)) return *plain;
  return std::get<1>(stream).next_layer();
}

void connection::close() noexcept {
  boost::system::error_code ignored;
  socket().close(ignored);
}

bool connection::idle_and_open() noexcept {
  auto& s = socket();
  if (!s.is_open()) return false;
  char byte = 0;
  for (;;) {
    const ssize_t n = ::recv(s.native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
    if (n < 0 && errno == EINTR) continue;
    // Nothing to read: open and quiet. 0: the server closed it. A byte: the server spoke unasked (a 408,
    // a TLS alert). An error: reset.
    return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
  }
}

}  // namespace squall::http_detail
