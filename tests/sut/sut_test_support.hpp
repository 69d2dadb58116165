#pragma once
// Helpers for the sut/ tests: a scratch folder per test, small files, and "is this process gone".
// Waits here are bounded by generous limits and the tests assert on what happened, never on how long
// it took: the machine running them may be loaded.

#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <thread>

namespace squall::sut::testing {

namespace fs = std::filesystem;

// Long enough for python3 to start on a busy machine; tests that expect readiness never come near it.
inline constexpr std::uint64_t generous_ms = 60'000;

// A process that no longer exists at all: not running, and not a zombie waiting to be reaped.
inline bool gone(pid_t pid) { return ::kill(pid, 0) == -1 && errno == ESRCH; }
inline bool group_gone(pid_t pgid) { return ::kill(-pgid, 0) == -1 && errno == ESRCH; }

inline std::string read_text(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

inline void write_text(const fs::path& path, const std::string& text) { std::ofstream(path) << text; }

inline pid_t read_pid(const fs::path& path) {
  const std::string text = read_text(path);
  return text.empty() ? -1 : static_cast<pid_t>(std::stol(text));
}

// Polls `done` until it holds or `bound_ms` passed; returns whether it held.
inline bool eventually(const std::function<bool()>& done, std::uint64_t bound_ms = generous_ms) {
  const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(bound_ms);
  while (!done()) {
    if (std::chrono::steady_clock::now() >= until) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return true;
}

// A fresh folder per test, removed afterwards.
class sut_test : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = fs::temp_directory_path() /
           ("squall_sut_" + std::to_string(::getpid()) + "_" + info->test_suite_name() + "_" + info->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }

  fs::path dir_;
};

}  // namespace squall::sut::testing
