// The process-wide registry of live service groups, and its kill-all called from a real signal handler;
// the free-port helper.
#include "sut/process_registry.hpp"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "sut/free_port.hpp"
#include "sut/service_process.hpp"
#include "tests/sut/sut_test_support.hpp"

namespace {

using namespace squall::sut;
using namespace squall::sut::testing;

extern "C" void kill_all_on_signal(int) { kill_all_service_groups(); }

class process_registry_test : public sut_test {
 protected:
  service_options sh_options(const std::string& script) {
    service_options options;
    options.argv = {"/bin/sh", "-c", script, "sh", dir_.string()};
    options.log_path = path("service.log");
    options.ready = output_ready{"ready"};
    options.ready_timeout_ms = generous_ms;
    options.stop_grace_ms = generous_ms;
    return options;
  }
};

TEST_F(process_registry_test, kill_all_from_a_signal_handler_kills_every_service_and_its_children) {
  auto first = service_process::start(sh_options("echo ready; exec sleep 600"));
  ASSERT_TRUE(first) << first.error().describe();
  auto second = service_process::start(sh_options("sleep 600 & echo $! > \"$1/child\"; echo ready; wait"));
  ASSERT_TRUE(second) << second.error().describe();
  const pid_t child = read_pid(path("child"));
  ASSERT_GT(child, 1);
  EXPECT_EQ(registered_process_groups(), 2u);

  struct sigaction action {};
  struct sigaction previous {};
  action.sa_handler = kill_all_on_signal;
  sigemptyset(&action.sa_mask);
  ASSERT_EQ(::sigaction(SIGUSR1, &action, &previous), 0);
  ::raise(SIGUSR1);  // the handler runs before raise returns
  ::sigaction(SIGUSR1, &previous, nullptr);

  for (auto* service : {&*first, &*second}) {
    ASSERT_TRUE(eventually([&] { return !(*service)->running(); }));
    EXPECT_EQ((*service)->poll()->describe(), "ended by SIGKILL");
    (*service)->stop();
    EXPECT_TRUE(gone((*service)->pid()));
  }
  EXPECT_TRUE(gone(child));
  EXPECT_EQ(registered_process_groups(), 0u);
}

TEST_F(process_registry_test, kill_all_with_nothing_registered_signals_nothing) {
  EXPECT_EQ(registered_process_groups(), 0u);
  EXPECT_EQ(kill_all_service_groups(), 0);
}

TEST_F(process_registry_test, groups_that_are_not_real_are_refused) {
  // kill(-1) would signal every process squall may signal, kill(0) squall's own group.
  EXPECT_FALSE(register_process_group(1));
  EXPECT_FALSE(register_process_group(0));
  EXPECT_FALSE(register_process_group(-5));
  EXPECT_EQ(registered_process_groups(), 0u);
}

TEST_F(process_registry_test, a_start_beyond_the_registrys_limit_is_refused_and_leaves_nothing) {
  // Fill the registry with group ids above Linux's largest pid (2^22): no signal can reach anything.
  std::vector<pid_t> fake;
  for (pid_t id = 0x7fff0000; fake.size() < process_groups_max; ++id) {
    ASSERT_TRUE(register_process_group(id));
    fake.push_back(id);
  }
  auto service = service_process::start(sh_options("echo $$ > \"$1/pid\"; echo ready; exec sleep 600"));
  for (pid_t id : fake) unregister_process_group(id);
  ASSERT_FALSE(service);
  EXPECT_EQ(service.error().kind, service_error_kind::too_many);
  EXPECT_EQ(registered_process_groups(), 0u);
  const pid_t pid = read_pid(path("pid"));  // may be -1: killed before the shell wrote it
  if (pid > 1) {
    EXPECT_TRUE(gone(pid));
  }
}

TEST_F(process_registry_test, a_free_loopback_port_can_be_bound) {
  const auto port = free_loopback_port();
  ASSERT_TRUE(port) << port.error().describe();
  EXPECT_NE(*port, 0);
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = htons(*port);
  // NOLINTNEXTLINE: the sockets API takes sockaddr*
  EXPECT_EQ(::bind(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address), 0);
  ::close(fd);
}

}  // namespace
