#include "sut/spawn.hpp"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>

extern char** environ;  // NOLINT: POSIX declares it nowhere else

namespace squall::sut::detail {
namespace {

namespace fs = std::filesystem;

// execvp's own fallback when PATH is not set at all (confstr _CS_PATH on glibc, plus /usr/local/bin).
constexpr const char* default_path = "/usr/local/bin:/usr/bin:/bin";
constexpr std::size_t command_display_chars_max = 120;

std::string env_value(const std::vector<std::string>& env, const std::string& name) {
  const std::string prefix = name + "=";
  for (const auto& entry : env) {
    if (entry.compare(0, prefix.size(), prefix) == 0) return entry.substr(prefix.size());
  }
  return {};
}

bool has_name(const std::vector<std::string>& env, const std::string& name) {
  const std::string prefix = name + "=";
  for (const auto& entry : env) {
    if (entry.compare(0, prefix.size(), prefix) == 0) return true;
  }
  return false;
}

bool executable_file(const fs::path& path) {
  std::error_code ec;
  return fs::is_regular_file(path, ec) && ::access(path.c_str(), X_OK) == 0;
}

// Owns the posix_spawn attribute and file-action objects, so every return path destroys them.
struct spawn_setup {
  posix_spawn_file_actions_t actions{};
  posix_spawnattr_t attributes{};
  spawn_setup() {
    posix_spawn_file_actions_init(&actions);
    posix_spawnattr_init(&attributes);
  }
  ~spawn_setup() {
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attributes);
  }
  spawn_setup(const spawn_setup&) = delete;
  spawn_setup& operator=(const spawn_setup&) = delete;
};

std::vector<char*> c_strings(const std::vector<std::string>& strings) {
  std::vector<char*> out;
  out.reserve(strings.size() + 1);
  for (const auto& s : strings) out.push_back(const_cast<char*>(s.c_str()));
  out.push_back(nullptr);
  return out;
}

}  // namespace

std::vector<std::string> child_environment(const std::map<std::string, std::string>& set,
                                           const std::vector<std::string>& unset) {
  std::vector<std::string> env;
  for (char** entry = environ; entry != nullptr && *entry != nullptr; ++entry) {
    const std::string text = *entry;
    const std::size_t equals = text.find('=');
    if (equals == std::string::npos || equals == 0) continue;  // not a NAME=value entry: dropped
    const std::string name = text.substr(0, equals);
    bool dropped = set.count(name) > 0;  // replaced below
    for (const auto& u : unset) dropped = dropped || u == name;
    if (!dropped) env.push_back(text);
  }
  for (const auto& [name, value] : set) env.push_back(name + "=" + value);
  return env;
}

service_result<std::string> find_program(const std::string& program, const std::vector<std::string>& env,
                                         const std::string& working_directory) {
  // Absolute, from squall's own working directory: the child changes directory before it executes the
  // program, so a relative result would be looked for a second time below working_directory.
  const fs::path base = working_directory.empty() ? fs::current_path() : fs::absolute(working_directory);
  if (program.find('/') != std::string::npos) {
    const fs::path path = fs::path(program).is_absolute() ? fs::path(program) : base / program;
    std::error_code ec;
    if (!fs::exists(path, ec)) {
      return service_error{service_error_kind::not_found, "`" + program + "` does not exist (looked for " +
                                                              path.lexically_normal().string() + ")"};
    }
    return path.lexically_normal().string();
  }
  const std::string path_value = has_name(env, "PATH") ? env_value(env, "PATH") : default_path;
  std::string not_executable;
  std::size_t start = 0;
  while (start <= path_value.size()) {
    std::size_t end = path_value.find(':', start);
    if (end == std::string::npos) end = path_value.size();
    const std::string entry = path_value.substr(start, end - start);
    start = end + 1;
    // An empty entry means the current directory, which for the child is its working directory.
    const fs::path dir =
        entry.empty() ? base : (fs::path(entry).is_absolute() ? fs::path(entry) : base / entry);
    const fs::path candidate = dir / program;
    if (executable_file(candidate)) return candidate.string();
    std::error_code ec;
    if (not_executable.empty() && fs::is_regular_file(candidate, ec)) not_executable = candidate.string();
  }
  if (!not_executable.empty()) {
    return service_error{service_error_kind::start_failed,
                         "`" + program + "` was found at " + not_executable + " but is not executable"};
  }
  return service_error{service_error_kind::not_found,
                       "`" + program + "` was not found on PATH (" + path_value + ")"};
}

service_result<pid_t> spawn_in_new_group(const std::string& program_path,
                                         const std::vector<std::string>& argv,
                                         const std::vector<std::string>& env,
                                         const std::string& working_directory, int output_fd) {
  spawn_setup setup;
  // File actions run in order in the child: stdin, then stdout and stderr on the pipe, then the working
  // directory, then every other descriptor closed (squall's sockets and files are close-on-exec, but a
  // library's might not be, and the service must not hold a listening socket of squall's).
  posix_spawn_file_actions_addopen(&setup.actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&setup.actions, output_fd, 1);
  posix_spawn_file_actions_adddup2(&setup.actions, output_fd, 2);
  if (!working_directory.empty())
    posix_spawn_file_actions_addchdir_np(&setup.actions, working_directory.c_str());
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 34))
  posix_spawn_file_actions_addclosefrom_np(&setup.actions, 3);
#endif

  sigset_t empty_mask;
  sigemptyset(&empty_mask);
  sigset_t defaults;
  sigfillset(&defaults);
  sigdelset(&defaults, SIGKILL);  // their actions cannot be changed anyway
  sigdelset(&defaults, SIGSTOP);
  posix_spawnattr_setflags(&setup.attributes,
                           POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  posix_spawnattr_setpgroup(&setup.attributes, 0);  // 0: a new group, whose id is the child's pid
  posix_spawnattr_setsigmask(&setup.attributes, &empty_mask);
  posix_spawnattr_setsigdefault(&setup.attributes, &defaults);

  std::vector<char*> argv_c = c_strings(argv);
  std::vector<char*> env_c = c_strings(env);
  pid_t pid = -1;
  const int rc = ::posix_spawn(&pid, program_path.c_str(), &setup.actions, &setup.attributes, argv_c.data(),
                               env_c.data());
  if (rc == 0) return pid;
  std::string message = "could not start " + command_display(argv) + ": " + std::strerror(rc);
  if (rc == ENOEXEC) message += " (a script without a #! line?)";
  if (rc == EACCES) message += " (is " + program_path + " executable, and its folders searchable?)";
  if (rc == ENOENT) message += " (" + program_path + ", or its #! interpreter, or the working directory)";
  return service_error{rc == ENOENT ? service_error_kind::not_found : service_error_kind::start_failed,
                       std::move(message)};
}

std::string command_display(const std::vector<std::string>& argv) {
  std::string text;
  for (const auto& arg : argv) {
    if (!text.empty()) text += ' ';
    const bool plain = !arg.empty() && arg.find_first_of(" \t\n'\"\\$`") == std::string::npos;
    if (plain) {
      text += arg;
    } else {
      text += '\'';
      for (char c : arg) text += c == '\'' ? std::string("'\\''") : std::string(1, c);
      text += '\'';
    }
    if (text.size() > command_display_chars_max) break;
  }
  // Newlines of an inline script would break the sentence the command sits in.
  for (char& c : text) {
    if (c == '\n' || c == '\t') c = ' ';
  }
  if (text.size() > command_display_chars_max) text = text.substr(0, command_display_chars_max) + "...";
  return "`" + text + "`";
}

}  // namespace squall::sut::detail
