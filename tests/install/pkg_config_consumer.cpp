// Compiled and linked by tests/install/install_test.cmake with nothing but the compiler and the flags of
// `pkg-config --cflags --libs squall`: proof that squall.pc is enough for a build without CMake.
#include <iostream>

#include "policies/core/events.hpp"

int main() {
  std::cout << squall::to_string(squall::policy_event_kind::retry_scheduled) << "\n";
  return 0;
}
