#pragma once
// One connection of the HTTP transport (private to policies/http): a plain TCP socket or a TLS stream
// over one, its read buffers, and when it went idle.
//
// The stream is a variant rather than a virtual interface or a TLS stream in pass-through mode: every
// read and write picks its alternative with one branch, so the plain path runs exactly the code it ran
// before TLS existed, and it never allocates an SSL object.

#include <array>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <cstddef>
#include <variant>

#include "policies/core/time.hpp"
#include "policies/http/tls_client.hpp"

namespace squall::http_detail {

inline constexpr std::size_t read_chunk_bytes = 16 * 1024;
inline constexpr std::size_t read_buffer_bytes = 4 * 1024;

struct connection {
  // A plain connection.
  explicit connection(boost::asio::io_context& io);
  // A TLS connection with `tls`'s settings (the context must outlive the connection's handshake; the
  // stream holds its own reference to OpenSSL's context afterwards).
  connection(boost::asio::io_context& io, boost::asio::ssl::context& tls);

  bool is_tls() const noexcept { return stream.index() == 1; }
  boost::asio::ip::tcp::socket& socket() noexcept;  // the TCP socket, under TLS or not
  tls_stream& tls() noexcept { return std::get<1>(stream); }

  // Calls `f` with the stream to read and write (tcp::socket& or tls_stream&).
  template <class F>
  decltype(auto) visit(F&& f) {
    if (auto* plain = std::get_if<0>(&stream)) return f(*plain);
    return f(std::get<1>(stream));
  }

  // Closes the socket; operations in flight end with operation_aborted. No TLS close_notify: the
  // connection is given up, not handed back, and waiting for the server's reply would delay that.
  void close() noexcept;

  // Whether an idle keep-alive connection can carry a request: the server has neither closed it nor
  // sent anything on it (an idle connection with bytes waiting, a TLS alert included, is not reusable).
  // One non-blocking peek at the socket (a system call), no wait: a request is not written to a connection
  // this already shows to be closed, so a close while idle is replaced transparently, and a failure after
  // the write can be reported honestly, never re-sent. take_idle skips it for connections idle under 1 ms.
  bool idle_and_open() noexcept;

  std::variant<boost::asio::ip::tcp::socket, tls_stream> stream;
  boost::beast::flat_buffer buffer;
  time_point idle_since{};  // when it went back to the idle pool
  // Where answer bodies are read to, with the connection because it outlives many attempts: inside each
  // attempt it made every attempt a 16 KiB allocation, and freeing those (chunk consolidation) showed in
  // the live generator's profile. Deliberately left uninitialised: it is only ever read after the parser
  // wrote into it, and zeroing 16 KiB per attempt was 4% of the generator's time.
  std::array<char, read_chunk_bytes> chunk;
};

}  // namespace squall::http_detail
