// Stopping a service and noticing one that ended: SIGTERM then SIGKILL after the grace period, the whole
// process group (grandchildren too), idempotence, the destructor, and a service dying mid-run.
#include <gtest/gtest.h>

#include <string>

#include "sut/process_registry.hpp"
#include "sut/service_process.hpp"
#include "tests/sut/sut_test_support.hpp"

namespace {

using namespace squall::sut;
using namespace squall::sut::testing;

class service_stop_test : public sut_test {
 protected:
  // python3 -c <script> <folder>: the script's sys.argv[1] is the test's folder; ready on "ready".
  service_options python_options(const std::string& script) {
    service_options options;
    options.argv = {"python3", "-c", script, dir_.string()};
    options.log_path = path("service.log");
    options.ready = output_ready{"ready"};
    options.ready_timeout_ms = generous_ms;
    options.stop_grace_ms = generous_ms;
    return options;
  }
  // /bin/sh -c <script> sh <folder>: the script's $1 is the test's folder.
  service_options sh_options(const std::string& script) {
    auto options = python_options("");
    options.argv = {"/bin/sh", "-c", script, "sh", dir_.string()};
    return options;
  }
};

TEST_F(service_stop_test, a_service_that_ignores_sigterm_is_killed_after_the_grace_period) {
  auto options = python_options(R"(
import signal, time
signal.signal(signal.SIGTERM, signal.SIG_IGN)
print('ready', flush=True)
time.sleep(600)
)");
  options.stop_grace_ms = 300;  // it ignores SIGTERM: the outcome is the same however slow the machine
  auto service = service_process::start(options);
  ASSERT_TRUE(service) << service.error().describe();
  const pid_t pid = (*service)->pid();
  const service_end end = (*service)->stop();
  EXPECT_EQ(end.kind, service_end_kind::killed);
  EXPECT_EQ(end.signal, SIGKILL);
  EXPECT_EQ(end.describe(), "killed with SIGKILL after the grace period of 300 ms (SIGTERM did not stop it)");
  EXPECT_TRUE(gone(pid));
  EXPECT_NE(read_text(path("service.log")).find("killed with SIGKILL after the grace period"),
            std::string::npos);
}

TEST_F(service_stop_test, a_graceful_shutdown_reports_its_exit_status) {
  auto options = python_options(R"(
import signal, sys, time
signal.signal(signal.SIGTERM, lambda *args: sys.exit(0))
print('ready', flush=True)
time.sleep(600)
)");
  auto service = service_process::start(options);
  ASSERT_TRUE(service) << service.error().describe();
  const service_end end = (*service)->stop();
  EXPECT_EQ(end.kind, service_end_kind::stopped);
  EXPECT_EQ(end.exit_status, 0);
  EXPECT_EQ(end.describe(), "stopped by SIGTERM (it exited with status 0)");
}

TEST_F(service_stop_test, a_grandchild_is_gone_after_stop) {
  auto options = python_options(R"(
import os, subprocess, sys, time
child = subprocess.Popen(['sleep', '600'])
open(os.path.join(sys.argv[1], 'child'), 'w').write(str(child.pid))
print('ready', flush=True)
time.sleep(600)
)");
  auto service = service_process::start(options);
  ASSERT_TRUE(service) << service.error().describe();
  const pid_t pid = (*service)->pid();
  const pid_t child = read_pid(path("child"));  // written before "ready"
  ASSERT_GT(child, 1);
  EXPECT_FALSE(gone(child));
  EXPECT_EQ((*service)->stop().kind, service_end_kind::stopped);
  EXPECT_TRUE(gone(pid));
  EXPECT_TRUE(gone(child));
  EXPECT_TRUE(group_gone(pid));
}

TEST_F(service_stop_test, a_grandchild_that_ignores_sigterm_is_gone_too) {
  // The service ends on SIGTERM at once; its child ignores it (and so does the child's own sleep, which
  // inherits the ignored signal): they are SIGKILLed with the rest of the group.
  auto options = python_options(R"(
import os, subprocess, sys, time
child = subprocess.Popen(['sh', '-c', "trap '' TERM; while :; do sleep 1; done"])
open(os.path.join(sys.argv[1], 'child'), 'w').write(str(child.pid))
print('ready', flush=True)
time.sleep(600)
)");
  auto service = service_process::start(options);
  ASSERT_TRUE(service) << service.error().describe();
  const pid_t pid = (*service)->pid();
  const pid_t child = read_pid(path("child"));
  ASSERT_GT(child, 1);
  const service_end end = (*service)->stop();
  EXPECT_EQ(end.kind, service_end_kind::stopped);
  EXPECT_EQ(end.signal, SIGTERM);
  EXPECT_TRUE(gone(child));
  EXPECT_TRUE(group_gone(pid));
}

TEST_F(service_stop_test, stop_is_idempotent) {
  auto service = service_process::start(sh_options("echo ready; exec sleep 600"));
  ASSERT_TRUE(service) << service.error().describe();
  const service_end first = (*service)->stop();
  const service_end second = (*service)->stop();
  EXPECT_EQ(first.kind, service_end_kind::stopped);
  EXPECT_EQ(second.kind, first.kind);
  EXPECT_EQ(second.describe(), first.describe());
  EXPECT_EQ((*service)->poll()->describe(), first.describe());
  // One line about the end in the log, not one per call.
  const std::string log = read_text(path("service.log"));
  EXPECT_EQ(log.find("stopped by SIGTERM"), log.rfind("stopped by SIGTERM")) << log;
}

TEST_F(service_stop_test, the_destructor_stops_the_service_and_its_group) {
  pid_t pid = -1;
  pid_t child = -1;
  {
    auto service = service_process::start(sh_options("sleep 600 & echo $! > \"$1/child\"; echo ready; wait"));
    ASSERT_TRUE(service) << service.error().describe();
    pid = (*service)->pid();
    child = read_pid(path("child"));
    ASSERT_GT(child, 1);
  }
  EXPECT_TRUE(gone(pid));
  EXPECT_TRUE(gone(child));
  EXPECT_EQ(registered_process_groups(), 0u);
  EXPECT_NE(read_text(path("service.log")).find("stopped by SIGTERM"), std::string::npos);
}

TEST_F(service_stop_test, poll_notices_a_service_killed_mid_run) {
  auto service = service_process::start(sh_options("echo ready; exec sleep 600"));
  ASSERT_TRUE(service) << service.error().describe();
  EXPECT_FALSE((*service)->poll().has_value());
  ASSERT_EQ(::kill((*service)->pid(), SIGKILL), 0);  // the OOM killer, say
  ASSERT_TRUE(eventually([&] { return !(*service)->running(); }));
  const auto end = (*service)->poll();
  ASSERT_TRUE(end.has_value());
  EXPECT_EQ(end->kind, service_end_kind::signaled);
  EXPECT_EQ(end->describe(), "ended by SIGKILL");
  // Stopping it later keeps the end it had.
  EXPECT_EQ((*service)->stop().describe(), "ended by SIGKILL");
}

TEST_F(service_stop_test, poll_notices_a_service_that_exits_mid_run_and_its_leftovers_go) {
  // Ready, then waits for the test to create "go", then exits 7 leaving a child behind.
  auto service =
      service_process::start(sh_options("sleep 600 & echo $! > \"$1/child\"; echo ready; while [ ! -e "
                                        "\"$1/go\" ]; do sleep 0.05; done; exit 7"));
  ASSERT_TRUE(service) << service.error().describe();
  const pid_t pid = (*service)->pid();
  const pid_t child = read_pid(path("child"));
  ASSERT_GT(child, 1);
  EXPECT_TRUE((*service)->running());
  write_text(path("go"), "");
  ASSERT_TRUE(eventually([&] { return !(*service)->running(); }));
  const auto end = (*service)->poll();
  ASSERT_TRUE(end.has_value());
  EXPECT_EQ(end->kind, service_end_kind::exited);
  EXPECT_EQ(end->exit_status, 7);
  EXPECT_EQ(end->describe(), "exited by itself with status 7");
  EXPECT_EQ((*service)->stop().kind, service_end_kind::exited);
  EXPECT_TRUE(gone(pid));
  EXPECT_TRUE(gone(child));
  EXPECT_EQ(registered_process_groups(), 0u);
}

}  // namespace
