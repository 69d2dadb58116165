// Starting a service and waiting until it is ready: by HTTP, by a line of output, and every way that
// can fail (no such program, an exit or a crash on boot, never ready). Real child processes throughout.
#include "sut/service_process.hpp"

#include <gtest/gtest.h>

#include <string>

#include "sut/free_port.hpp"
#include "sut/process_registry.hpp"
#include "tests/sut/sut_test_support.hpp"

namespace {

using namespace squall::sut;
using namespace squall::sut::testing;

// An HTTP service on $PORT: 200 on /health, 404 elsewhere.
const char* const http_service = R"(
import http.server, os
class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200 if self.path == '/health' else 404)
        self.end_headers()
        self.wfile.write(b'ok')
    def log_message(self, *args):
        pass
server = http.server.HTTPServer(('127.0.0.1', int(os.environ['PORT'])), Handler)
print('serving on', os.environ['PORT'], flush=True)
server.serve_forever()
)";

class service_process_test : public sut_test {
 protected:
  service_options http_options(std::uint16_t port, const std::string& path = "/health") {
    service_options options;
    options.argv = {"python3", "-c", http_service};
    options.env_set = {{"PORT", std::to_string(port)}};
    options.log_path = this->path("out/service.log");
    options.ready = http_ready{port, path};
    options.ready_timeout_ms = generous_ms;
    options.stop_grace_ms = generous_ms;
    return options;
  }
  service_options sh_options(const std::string& script) {
    service_options options;
    options.argv = {"/bin/sh", "-c", script, "sh", dir_.string()};  // the script's $1 is the test's folder
    options.log_path = this->path("service.log");
    options.ready = output_ready{"ready"};
    options.ready_timeout_ms = generous_ms;
    options.stop_grace_ms = generous_ms;
    return options;
  }
};

TEST_F(service_process_test, an_http_service_becomes_ready_and_stops_on_sigterm) {
  const auto port = free_loopback_port();
  ASSERT_TRUE(port) << port.error().describe();
  auto service = service_process::start(http_options(*port));
  ASSERT_TRUE(service) << service.error().describe();
  const pid_t pid = (*service)->pid();
  EXPECT_TRUE((*service)->running());
  EXPECT_EQ(registered_process_groups(), 1u);

  const service_end end = (*service)->stop();
  EXPECT_EQ(end.kind, service_end_kind::stopped);
  EXPECT_EQ(end.signal, SIGTERM);  // python's default action for SIGTERM: end
  EXPECT_EQ(end.describe(), "stopped by SIGTERM");
  EXPECT_TRUE(gone(pid));
  EXPECT_TRUE(group_gone(pid));
  EXPECT_EQ(registered_process_groups(), 0u);
  EXPECT_FALSE((*service)->running());

  // The log folder was created; the log has squall's start line, the output, and how it ended.
  const std::string log = read_text(path("out/service.log"));
  EXPECT_NE(log.find("[squall] starting `python3 -c"), std::string::npos) << log;
  EXPECT_NE(log.find("serving on " + std::to_string(*port)), std::string::npos) << log;
  EXPECT_NE(log.find("[squall] the service (pid " + std::to_string(pid) + ") stopped by SIGTERM"),
            std::string::npos)
      << log;
}

TEST_F(service_process_test, readiness_by_a_line_of_output) {
  auto options = sh_options("echo booting; echo 'listening on :8080, ready'; exec sleep 600");
  options.ready = output_ready{"listening on :8080"};
  auto service = service_process::start(options);
  ASSERT_TRUE(service) << service.error().describe();
  EXPECT_TRUE((*service)->running());
  EXPECT_EQ((*service)->stop().kind, service_end_kind::stopped);
  EXPECT_EQ((*service)->last_output_lines(), "booting\nlistening on :8080, ready");
}

TEST_F(service_process_test, readiness_text_split_across_two_writes_is_found) {
  auto options = sh_options("printf 'liste'; sleep 0.2; printf 'ning\\n'; exec sleep 600");
  options.ready = output_ready{"listening"};
  auto service = service_process::start(options);
  ASSERT_TRUE(service) << service.error().describe();
}

TEST_F(service_process_test, a_command_not_on_path_is_reported_by_name_and_writes_nothing) {
  service_options options;
  options.argv = {"squall-no-such-program-7f3a", "--port", "1"};
  options.log_path = path("service.log");
  auto service = service_process::start(options);
  ASSERT_FALSE(service);
  EXPECT_EQ(service.error().kind, service_error_kind::not_found);
  EXPECT_NE(service.error().describe().find("`squall-no-such-program-7f3a` was not found on PATH"),
            std::string::npos)
      << service.error().describe();
  EXPECT_FALSE(fs::exists(path("service.log")));
}

TEST_F(service_process_test, the_path_searched_is_the_services_own) {
  // PATH in env_set is where the program is looked for, as a shell started with that environment would.
  write_text(path("tool"), "#!/bin/sh\necho tool-ran\necho ready\nexec sleep 600\n");
  fs::permissions(path("tool"), fs::perms::owner_all);
  auto options = sh_options("");
  options.argv = {"tool"};
  options.env_set = {{"PATH", dir_.string() + ":/usr/bin:/bin"}};
  auto service = service_process::start(options);
  ASSERT_TRUE(service) << service.error().describe();
  (*service)->stop();
  EXPECT_NE(read_text(path("service.log")).find("tool-ran"), std::string::npos);
}

TEST_F(service_process_test, a_relative_program_runs_in_its_working_directory) {
  fs::create_directories(dir_ / "app");
  write_text(dir_ / "app/serve.sh", "#!/bin/sh\npwd\necho ready\nexec sleep 600\n");
  fs::permissions(dir_ / "app/serve.sh", fs::perms::owner_all);
  auto options = sh_options("");
  options.argv = {"./serve.sh"};
  options.working_directory = (dir_ / "app").string();
  auto service = service_process::start(options);
  ASSERT_TRUE(service) << service.error().describe();
  (*service)->stop();
  EXPECT_NE(read_text(path("service.log")).find(fs::canonical(dir_ / "app").string()), std::string::npos);
}

TEST_F(service_process_test, a_relative_working_directory_and_program_are_taken_from_squalls_own) {
  fs::create_directories(dir_ / "app");
  write_text(dir_ / "app/serve.sh", "#!/bin/sh\necho ready\nexec sleep 600\n");
  fs::permissions(dir_ / "app/serve.sh", fs::perms::owner_all);
  auto options = sh_options("");
  options.argv = {"./serve.sh"};
  options.working_directory = fs::relative(dir_ / "app", fs::current_path()).string();
  ASSERT_TRUE(fs::path(options.working_directory).is_relative());
  auto service = service_process::start(options);
  ASSERT_TRUE(service) << service.error().describe();
}

TEST_F(service_process_test, a_missing_working_directory_is_reported) {
  auto options = sh_options("echo ready");
  options.working_directory = path("nowhere");
  auto service = service_process::start(options);
  ASSERT_FALSE(service);
  EXPECT_EQ(service.error().kind, service_error_kind::not_found);
  EXPECT_NE(service.error().describe().find(path("nowhere") + " is not a folder"), std::string::npos)
      << service.error().describe();
}

TEST_F(service_process_test, a_script_without_a_shebang_line_is_reported) {
  write_text(path("no-shebang"), "echo hello\n");
  fs::permissions(path("no-shebang"), fs::perms::owner_all);
  auto options = sh_options("");
  options.argv = {path("no-shebang")};
  auto service = service_process::start(options);
  ASSERT_FALSE(service);
  EXPECT_EQ(service.error().kind, service_error_kind::start_failed);
  EXPECT_NE(service.error().describe().find("#! line"), std::string::npos) << service.error().describe();
}

TEST_F(service_process_test, a_service_that_exits_before_ready_reports_its_status_and_last_lines) {
  const auto port = free_loopback_port();
  ASSERT_TRUE(port);
  auto options = http_options(*port);
  options.argv = {"/bin/sh", "-c", "echo starting up; echo 'Error: OPENAI_API_KEY is not set' >&2; exit 3"};
  auto service = service_process::start(options);
  ASSERT_FALSE(service);
  const std::string& message = service.error().describe();
  EXPECT_EQ(service.error().kind, service_error_kind::exited_before_ready);
  EXPECT_NE(message.find("exited with status 3 before it was ready"), std::string::npos) << message;
  EXPECT_NE(message.find("(log: " + path("out/service.log") + ")"), std::string::npos) << message;
  EXPECT_NE(message.find("last lines:\n    starting up\n    Error: OPENAI_API_KEY is not set"),
            std::string::npos)
      << message;
  EXPECT_EQ(registered_process_groups(), 0u);
}

TEST_F(service_process_test, a_crash_on_boot_names_the_signal) {
  auto options = sh_options("ulimit -c 0; echo loading model; kill -SEGV $$");  // no core file
  auto service = service_process::start(options);
  ASSERT_FALSE(service);
  EXPECT_EQ(service.error().kind, service_error_kind::exited_before_ready);
  EXPECT_NE(service.error().describe().find("was ended by SIGSEGV before it was ready"), std::string::npos)
      << service.error().describe();
  EXPECT_NE(service.error().describe().find("loading model"), std::string::npos)
      << service.error().describe();
}

TEST_F(service_process_test, a_service_never_ready_times_out_and_is_stopped_with_its_children) {
  // The pid files are written at once; the timeout leaves python and sh far more time than they need.
  auto options =
      sh_options("echo $$ > \"$1/pid\"; sleep 600 & echo $! > \"$1/child\"; echo 'still booting'; wait");
  options.ready = output_ready{"listening"};
  options.ready_timeout_ms = 5'000;
  auto service = service_process::start(options);
  ASSERT_FALSE(service);
  const std::string& message = service.error().describe();
  EXPECT_EQ(service.error().kind, service_error_kind::not_ready);
  EXPECT_NE(message.find("was not ready within 5000 ms (waiting for its output to contain \"listening\"); "
                         "it was stopped by SIGTERM (log: " +
                         path("service.log") + "); last lines:\n    still booting"),
            std::string::npos)
      << message;
  const pid_t pid = read_pid(path("pid"));
  const pid_t child = read_pid(path("child"));
  ASSERT_GT(pid, 1);
  ASSERT_GT(child, 1);
  EXPECT_TRUE(gone(pid));
  EXPECT_TRUE(gone(child));
  EXPECT_EQ(registered_process_groups(), 0u);
}

TEST_F(service_process_test, an_http_service_that_never_answers_2xx_names_the_last_probe) {
  const auto port = free_loopback_port();
  ASSERT_TRUE(port);
  auto options = http_options(*port, "/not-here");  // the service answers 404 there
  options.ready_timeout_ms = 5'000;
  auto service = service_process::start(options);
  ASSERT_FALSE(service);
  EXPECT_EQ(service.error().kind, service_error_kind::not_ready);
  const std::string& message = service.error().describe();
  // Python may still have been starting when the time was up: then the probe saw a refused connection.
  const bool named = message.find("the last probe saw: HTTP 404") != std::string::npos ||
                     message.find("the last probe saw: Connection refused") != std::string::npos;
  EXPECT_TRUE(named) << message;
  EXPECT_NE(message.find("GET http://127.0.0.1:" + std::to_string(*port) + "/not-here"), std::string::npos);
}

TEST_F(service_process_test, no_readiness_means_ready_once_started) {
  auto options = sh_options("exec sleep 600");
  options.ready = std::monostate{};
  auto service = service_process::start(options);
  ASSERT_TRUE(service) << service.error().describe();
  EXPECT_TRUE((*service)->running());
}

TEST_F(service_process_test, invalid_options_are_reported_before_anything_starts) {
  service_options options;
  options.log_path = path("service.log");
  auto empty = service_process::start(options);
  ASSERT_FALSE(empty);
  EXPECT_EQ(empty.error().kind, service_error_kind::invalid_options);
  EXPECT_EQ(empty.error().describe(), "service options: argv is empty: name the program to start");

  options.argv = {"/bin/true"};
  options.ready = http_ready{0, "/"};
  EXPECT_EQ(service_process::start(options).error().kind, service_error_kind::invalid_options);
  options.ready = output_ready{""};
  EXPECT_EQ(service_process::start(options).error().kind, service_error_kind::invalid_options);
  options.ready = std::monostate{};
  options.env_set = {{"A=B", "c"}};
  EXPECT_EQ(service_process::start(options).error().kind, service_error_kind::invalid_options);
  options.env_set = {};
  options.log_path = "";
  EXPECT_EQ(service_process::start(options).error().kind, service_error_kind::invalid_options);
  EXPECT_FALSE(fs::exists(path("service.log")));
}

}  // namespace
