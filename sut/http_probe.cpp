#include "sut/http_probe.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "sut/real_time.hpp"

namespace squall::sut::detail {
namespace {

// Enough for any status line; the rest of the answer is not read.
constexpr std::size_t status_line_bytes_max = 1024;

class socket_fd {
 public:
  explicit socket_fd(int fd) : fd_(fd) {}
  ~socket_fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  socket_fd(const socket_fd&) = delete;
  socket_fd& operator=(const socket_fd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

// Waits for `events` on fd until the deadline; false on timeout or error.
bool wait_for(int fd, short events, const deadline& until) {
  for (;;) {
    pollfd p{fd, events, 0};
    const int r = ::poll(&p, 1, static_cast<int>(until.remaining_ms(60'000)));
    if (r > 0) return true;
    if (r == 0) return false;
    if (errno != EINTR) return false;
  }
}

probe_result not_ready(std::string seen) { return {false, std::move(seen)}; }

}  // namespace

probe_result probe_http(std::uint16_t port, const std::string& path, std::uint64_t timeout_ms) {
  const deadline until = deadline::after_ms(timeout_ms);
  const std::string timed_out = "no answer within " + std::to_string(timeout_ms) + " ms";
  socket_fd sock(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (sock.get() < 0) return not_ready(std::string("no socket: ") + std::strerror(errno));

  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = htons(port);
  // NOLINTNEXTLINE: the sockets API takes sockaddr*
  if (::connect(sock.get(), reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) {
    if (errno != EINPROGRESS) return not_ready(std::strerror(errno));
    if (!wait_for(sock.get(), POLLOUT, until)) return not_ready(timed_out);
    int err = 0;
    socklen_t length = sizeof err;
    ::getsockopt(sock.get(), SOL_SOCKET, SO_ERROR, &err, &length);
    if (err != 0) return not_ready(std::strerror(err));
  }

  const std::string request = "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(port) +
                              "\r\nUser-Agent: squall-readiness\r\nConnection: close\r\n\r\n";
  std::size_t sent = 0;
  while (sent < request.size()) {
    // MSG_NOSIGNAL: a service that closes at once must not SIGPIPE squall.
    const ssize_t n = ::send(sock.get(), request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    if (n > 0) {
      sent += static_cast<std::size_t>(n);
    } else if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
      if (!wait_for(sock.get(), POLLOUT, until)) return not_ready(timed_out);
    } else {
      return not_ready(std::string("sending the request failed: ") + std::strerror(errno));
    }
  }

  std::string answer;
  while (answer.find("\r\n") == std::string::npos && answer.size() < status_line_bytes_max) {
    if (!wait_for(sock.get(), POLLIN, until)) return not_ready(timed_out);
    char buffer[512];
    const ssize_t n = ::recv(sock.get(), buffer, sizeof buffer, 0);
    if (n > 0) {
      answer.append(buffer, static_cast<std::size_t>(n));
    } else if (n == 0) {
      break;
    } else if (errno != EAGAIN && errno != EINTR) {
      return not_ready(std::string("reading the answer failed: ") + std::strerror(errno));
    }
  }
  // "HTTP/1.1 200 OK": the status is the three digits after the first space.
  const std::size_t space = answer.find(' ');
  if (answer.compare(0, 5, "HTTP/") != 0 || space == std::string::npos || answer.size() < space + 4) {
    return not_ready(answer.empty() ? "the connection closed without an answer"
                                    : "an answer that is not HTTP");
  }
  const std::string status = answer.substr(space + 1, 3);
  if (status.find_first_not_of("0123456789") != std::string::npos)
    return not_ready("an answer that is not HTTP");
  return {status[0] == '2', "HTTP " + status};
}

}  // namespace squall::sut::detail
