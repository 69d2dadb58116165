// What the service sees and what it says: its environment (squall's, with overrides set and unset), and
// its output in the log file (stdout and stderr together, appended, cut at the byte limit).
#include <gtest/gtest.h>
#include <stdlib.h>

#include <algorithm>
#include <string>

#include "sut/service_process.hpp"
#include "tests/sut/sut_test_support.hpp"

namespace {

using namespace squall::sut;
using namespace squall::sut::testing;

class service_output_test : public sut_test {
 protected:
  service_options sh_options(const std::string& script) {
    service_options options;
    options.argv = {"/bin/sh", "-c", script};
    options.log_path = path("service.log");
    options.ready = output_ready{"ready"};
    options.ready_timeout_ms = generous_ms;
    options.stop_grace_ms = generous_ms;
    return options;
  }
};

TEST_F(service_output_test, environment_overrides_reach_the_child) {
  ::setenv("SQUALL_SUT_KEPT", "inherited", 1);
  ::setenv("SQUALL_SUT_UNSET", "should not be seen", 1);
  ::setenv("SQUALL_SUT_REPLACED", "old", 1);
  auto options = sh_options(
      "echo \"kept=$SQUALL_SUT_KEPT\"; echo \"unset=${SQUALL_SUT_UNSET-absent}\"; "
      "echo \"replaced=$SQUALL_SUT_REPLACED\"; echo \"base_url=$OPENAI_BASE_URL\"; echo ready; exec sleep "
      "600");
  options.env_set = {{"SQUALL_SUT_REPLACED", "new"}, {"OPENAI_BASE_URL", "http://127.0.0.1:9/v1"}};
  options.env_unset = {"SQUALL_SUT_UNSET"};
  auto service = service_process::start(options);
  ::unsetenv("SQUALL_SUT_KEPT");
  ::unsetenv("SQUALL_SUT_UNSET");
  ::unsetenv("SQUALL_SUT_REPLACED");
  ASSERT_TRUE(service) << service.error().describe();
  (*service)->stop();
  const std::string log = read_text(path("service.log"));
  EXPECT_NE(log.find("kept=inherited\n"), std::string::npos) << log;
  EXPECT_NE(log.find("unset=absent\n"), std::string::npos) << log;
  EXPECT_NE(log.find("replaced=new\n"), std::string::npos) << log;
  EXPECT_NE(log.find("base_url=http://127.0.0.1:9/v1\n"), std::string::npos) << log;
}

TEST_F(service_output_test, a_name_both_unset_and_set_ends_up_set) {
  auto options = sh_options("echo \"value=${SQUALL_SUT_BOTH-absent}\"; echo ready; exec sleep 600");
  options.env_set = {{"SQUALL_SUT_BOTH", "set"}};
  options.env_unset = {"SQUALL_SUT_BOTH"};
  auto service = service_process::start(options);
  ASSERT_TRUE(service) << service.error().describe();
  (*service)->stop();
  EXPECT_NE(read_text(path("service.log")).find("value=set\n"), std::string::npos);
}

TEST_F(service_output_test, the_log_holds_stdout_and_stderr_in_order) {
  auto service = service_process::start(
      sh_options("echo 'to stdout'; echo 'to stderr' >&2; echo 'stdout again'; echo ready; exec sleep 600"));
  ASSERT_TRUE(service) << service.error().describe();
  (*service)->stop();
  const std::string log = read_text(path("service.log"));
  const auto out = log.find("to stdout\n");
  const auto err = log.find("to stderr\n");
  const auto again = log.find("stdout again\n");
  ASSERT_NE(out, std::string::npos) << log;
  ASSERT_NE(err, std::string::npos) << log;
  ASSERT_NE(again, std::string::npos) << log;
  EXPECT_LT(out, err);  // one pipe for both: the order the service wrote in
  EXPECT_LT(err, again);
}

TEST_F(service_output_test, the_log_is_cut_at_its_byte_limit_and_the_output_still_drained) {
  // 2000 lines of 100 bytes (200 kB, more than a pipe holds), then "ready" past the cut: the service
  // only becomes ready if squall keeps reading after the limit, and sees the text there.
  auto options = sh_options("");
  options.argv = {"python3", "-c",
                  "import sys, time\n"
                  "sys.stdout.write(('x' * 99 + '\\n') * 2000)\n"
                  "sys.stdout.flush()\n"
                  "print('ready', file=sys.stderr, flush=True)\n"
                  "time.sleep(600)\n"};
  options.log_bytes_max = 10'000;
  auto service = service_process::start(options);
  ASSERT_TRUE(service) << service.error().describe();
  (*service)->stop();
  const std::string log = read_text(path("service.log"));
  // Exactly the first 10000 bytes of output: 100 whole lines of 99 x's, after squall's start line (which
  // quotes the command, and its 'x').
  const std::string output = log.substr(log.find('\n') + 1);
  EXPECT_EQ(std::count(output.begin(), output.end(), 'x'), 9'900);
  EXPECT_NE(log.find("[squall] output cut here: the log limit of 10000 bytes was reached"), std::string::npos)
      << log.substr(log.size() - std::min<std::size_t>(log.size(), 500));
  EXPECT_EQ(log.find("\nready"), std::string::npos);     // past the cut: not in the log...
  EXPECT_EQ((*service)->last_output_lines(1), "ready");  // ...but in the last lines kept in memory
  EXPECT_LT(log.size(), 11'000u);
}

TEST_F(service_output_test, the_log_is_appended_to_across_starts) {
  for (const char* word : {"first", "second"}) {
    auto service =
        service_process::start(sh_options(std::string("echo ") + word + "; echo ready; exec sleep 600"));
    ASSERT_TRUE(service) << service.error().describe();
  }
  const std::string log = read_text(path("service.log"));
  const auto first = log.find("first\n");
  const auto second = log.find("second\n");
  ASSERT_NE(first, std::string::npos) << log;
  ASSERT_NE(second, std::string::npos) << log;
  EXPECT_LT(first, second);
}

TEST_F(service_output_test, a_log_that_cannot_be_opened_is_reported) {
  write_text(path("file"), "");
  auto options = sh_options("echo ready");
  options.log_path = path("file/service.log");  // a file where its folder should be
  auto service = service_process::start(options);
  ASSERT_FALSE(service);
  EXPECT_EQ(service.error().kind, service_error_kind::log_failed);
  EXPECT_NE(service.error().describe().find(path("file/service.log")), std::string::npos)
      << service.error().describe();
}

}  // namespace
