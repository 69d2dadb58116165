#include "tests/support/child_process.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>

namespace squall::testing {

child_process::child_process(const std::string& program, const std::vector<std::string>& argv,
                             const std::filesystem::path& working_dir) {
  // Everything the child needs is made before fork: after it, in a process that may run other threads
  // (a fake provider serving the test), only system calls are safe.
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  const std::string dir = working_dir.string();
  int fds[2];
  // Close-on-exec: a child started later must not inherit this pipe.
  if (::pipe2(fds, O_CLOEXEC) != 0) return;
  pid_ = ::fork();
  if (pid_ == 0) {
    ::dup2(fds[1], 1);
    ::dup2(fds[1], 2);
    if (!dir.empty() && ::chdir(dir.c_str()) != 0) ::_exit(120);
    ::execv(program.c_str(), args.data());
    ::_exit(127);
  }
  ::close(fds[1]);
  if (pid_ < 0) {
    ::close(fds[0]);
    return;
  }
  out_ = ::fdopen(fds[0], "r");
}

child_process::~child_process() {
  if (pid_ > 0 && !waited_) {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
  if (out_) std::fclose(out_);
}

std::optional<std::string> child_process::read_line() {
  if (!out_) return std::nullopt;
  char* text = nullptr;
  std::size_t capacity = 0;
  const ssize_t length = ::getline(&text, &capacity, out_);
  std::optional<std::string> line;
  if (length >= 0) line.emplace(text, static_cast<std::size_t>(length));
  std::free(text);
  if (line) output_ += *line;
  return line;
}

std::string child_process::line() { return read_line().value_or(std::string{}); }

bool child_process::wait_for(const std::string& text) {
  while (const auto line = read_line()) {
    if (line->find(text) != std::string::npos) return true;
  }
  return false;
}

std::string child_process::line_after(const std::string& prefix) {
  while (auto line = read_line()) {
    if (line->rfind(prefix, 0) != 0) continue;
    std::string rest = line->substr(prefix.size());
    while (!rest.empty() && (rest.back() == '\n' || rest.back() == '\r')) rest.pop_back();
    return rest;
  }
  return {};
}

void child_process::signal(int signal_number) {
  if (pid_ > 0 && !waited_) ::kill(pid_, signal_number);
}

int child_process::wait() {
  while (read_line()) {
  }
  if (out_) std::fclose(out_);
  out_ = nullptr;
  if (pid_ <= 0 || waited_) return -1;
  int status = 0;
  ::waitpid(pid_, &status, 0);
  waited_ = true;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1000 - (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}

int child_process::stop() {
  signal(SIGTERM);
  return wait();
}

}  // namespace squall::testing
