#include "sut/free_port.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

namespace squall::sut {

service_result<std::uint16_t> free_loopback_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    return service_error{service_error_kind::start_failed,
                         std::string("could not open a socket to find a free port: ") + std::strerror(errno)};
  }
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  socklen_t length = sizeof address;
  // NOLINTNEXTLINE: the sockets API takes sockaddr*
  auto* generic = reinterpret_cast<sockaddr*>(&address);
  if (::bind(fd, generic, sizeof address) != 0 || ::getsockname(fd, generic, &length) != 0) {
    const int err = errno;
    ::close(fd);
    return service_error{service_error_kind::start_failed,
                         std::string("could not find a free port on 127.0.0.1: ") + std::strerror(err)};
  }
  ::close(fd);
  return static_cast<std::uint16_t>(ntohs(address.sin_port));
}

}  // namespace squall::sut
