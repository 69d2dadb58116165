#pragma once
// Starting the child itself: its environment, where its program is, and posix_spawn into a new process
// group. posix_spawn rather than fork/exec: squall has threads (the fake providers, the output readers),
// and after fork only async-signal-safe calls are allowed; glibc's posix_spawn does the dup2/chdir/
// setpgid/exec steps in the child safely, and reports a failed exec as an error code instead of a child
// that exits 127. Internal to sut/.

#include <sys/types.h>

#include <map>
#include <string>
#include <vector>

#include "sut/service_error.hpp"

namespace squall::sut::detail {

// The environment the child gets, as "NAME=value" entries: this process's own, without the names in
// `unset`, then with `set` applied (a name in both ends up set).
std::vector<std::string> child_environment(const std::map<std::string, std::string>& set,
                                           const std::vector<std::string>& unset);

// The file to execute for `program` (argv[0]): a name without '/' is looked up on the PATH of the
// child's environment `env` (as a shell started with that environment would; relative PATH entries are
// taken from the working directory); a path with '/' is taken relative to `working_directory`.
service_result<std::string> find_program(const std::string& program, const std::vector<std::string>& env,
                                         const std::string& working_directory);

// Starts `program_path` with `argv` and `env` in `working_directory` (empty: squall's own), in a new
// process group whose id is the child's pid, with stdin from /dev/null and stdout and stderr on
// `output_fd`, the signal mask emptied and every signal's action back to its default (squall blocks
// SIGINT and SIGTERM in its run threads and may ignore SIGPIPE; a service must not inherit either).
service_result<pid_t> spawn_in_new_group(const std::string& program_path,
                                         const std::vector<std::string>& argv,
                                         const std::vector<std::string>& env,
                                         const std::string& working_directory, int output_fd);

// The command as a user would type it, shortened for messages: `python3 -m http.server 8080`.
std::string command_display(const std::vector<std::string>& argv);

}  // namespace squall::sut::detail
