#pragma once
// A TCP port on 127.0.0.1 that nothing listens on, for a service that must be told where to listen
// (PORT=... in its environment). squall binds port 0, reads the port the kernel chose and closes it.
//
// The race, and why it is acceptable: between the close and the service's own bind, another process
// may take the same port. The kernel hands out ephemeral ports in rotation, so this takes a busy
// machine and bad luck; when it happens the service fails to bind and exits (or never answers), and
// service_process::start reports that with the service's last lines ("address already in use"). The
// caller may then pick another port and start again. (A service that bound port 0 itself and printed
// the port would avoid the race; squall does not read such a line yet.)

#include <cstdint>

#include "sut/service_error.hpp"

namespace squall::sut {

service_result<std::uint16_t> free_loopback_port();

}  // namespace squall::sut
