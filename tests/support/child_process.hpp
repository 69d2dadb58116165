#pragma once
// A program run in a child process for the tests that drive the squall binary while it runs (record,
// serve, an interrupted simulation): its standard output and error come together on one pipe that the
// test reads line by line while it signals the child. A child still running when the test leaves it
// (an assertion failed first) is killed and reaped, so that no run outlives its test.

#include <sys/types.h>

#include <cstdio>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace squall::testing {

class child_process {
 public:
  // Executes `program` with `argv` (argv[0] included) in `working_dir`, or in the test's own directory
  // when it is empty.
  child_process(const std::string& program, const std::vector<std::string>& argv,
                const std::filesystem::path& working_dir = {});
  ~child_process();  // SIGKILL and reap, when not waited for
  child_process(const child_process&) = delete;
  child_process& operator=(const child_process&) = delete;

  // The next line of output with its newline, or "" when the output has ended.
  std::string line();
  // Reads lines until one contains `text`: false when the output ends first.
  bool wait_for(const std::string& text);
  // The rest of the first line from here on that starts with `prefix`, without its line ending; ""
  // when the output ends first.
  std::string line_after(const std::string& prefix);

  void signal(int signal_number);
  // Reads what remains of the output, then reaps the child: its exit code, or -1000 - the signal's
  // number when a signal ended it.
  int wait();
  // SIGTERM, then wait().
  int stop();

  // Everything read from the child so far.
  const std::string& output() const { return output_; }

 private:
  std::optional<std::string> read_line();

  pid_t pid_ = -1;
  std::FILE* out_ = nullptr;  // the read end of the child's stdout and stderr
  bool waited_ = false;
  std::string output_;
};

}  // namespace squall::testing
