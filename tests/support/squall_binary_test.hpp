#pragma once
// A fixture for tests that drive the squall binary end to end: a scratch directory per test (removed
// after it), and run(), which starts the binary in the source tree (so scenario paths read as in the
// README) with standard output and error captured together. The test target defines SQUALL_SOURCE_DIR and
// SQUALL_BINARY.

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace squall::testing {

// The source tree and the binary under test, for the files that need them outside the fixture.
inline const std::filesystem::path source_dir = SQUALL_SOURCE_DIR;
inline const std::string squall_binary = SQUALL_BINARY;

class squall_binary_test : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = std::filesystem::temp_directory_path() /
           ("squall-" + std::string(info->test_suite_name()) + "-" + std::to_string(::getpid()) + "-" + info->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // The exit code of `squall ARGS`, or -1 when it did not exit by itself.
  int run(const std::string& args) {
    const std::string command = "cd '" + std::string(SQUALL_SOURCE_DIR) + "' && '" + std::string(SQUALL_BINARY) +
                                "' " + args + " >'" + (dir_ / "out.txt").string() + "' 2>&1 </dev/null";
    const int status = std::system(command.c_str());
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }
  // What the last run() printed.
  std::string output() const { return slurp(dir_ / "out.txt"); }

  // `squall ARGS` with standard output and standard error kept apart (a command whose standard output is
  // a document); `env` ("NAME=VALUE ...", or "env -u NAME") goes before the binary.
  struct split_run {
    int exit_code;
    std::string out;
    std::string err;
  };
  split_run run_split(const std::string& args, const std::string& env = "") {
    const std::string command = "cd '" + std::string(SQUALL_SOURCE_DIR) + "' && " + env + " '" +
                                std::string(SQUALL_BINARY) + "' " + args + " >'" + (dir_ / "stdout.txt").string() +
                                "' 2>'" + (dir_ / "stderr.txt").string() + "' </dev/null";
    const int status = std::system(command.c_str());
    return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, slurp(dir_ / "stdout.txt"), slurp(dir_ / "stderr.txt")};
  }

  static std::string slurp(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }

  std::filesystem::path dir_;
};

}  // namespace squall::testing
