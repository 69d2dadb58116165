#include "sut/output_capture.hpp"

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <vector>

namespace squall::sut::detail {
namespace {

// Enough for the few lines an error message quotes, whatever the log limit cut.
constexpr std::size_t tail_bytes_max = 8 * 1024;
// A line quoted in a message is cut here: a minified stack trace must not drown the sentence around it.
constexpr std::size_t quoted_line_chars_max = 300;
constexpr std::size_t read_chunk_bytes = 64 * 1024;
// On a stop request the reader takes what is already in the pipe, up to this many reads: a writer that
// never pauses must not keep it from stopping.
constexpr int final_drain_reads_max = 64;

service_error log_error(const std::string& what, const std::string& log_path, int err) {
  return {service_error_kind::log_failed, what + " " + log_path + ": " + std::strerror(err)};
}

void close_fd(int& fd) {
  if (fd >= 0) ::close(fd);
  fd = -1;
}

}  // namespace

service_result<std::unique_ptr<output_capture>> output_capture::open(const std::string& log_path,
                                                                     std::uint64_t log_bytes_max,
                                                                     std::string ready_text) {
  const std::filesystem::path parent = std::filesystem::path(log_path).parent_path();
  if (!parent.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(parent, ec);
    if (ec) return log_error("could not create the folder of the service log", log_path, ec.value());
  }
  const int log_fd = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (log_fd < 0) return log_error("could not open the service log", log_path, errno);
  int out[2];
  int wake[2];
  if (::pipe2(out, O_CLOEXEC) != 0) {
    const int err = errno;
    ::close(log_fd);
    return log_error("could not make a pipe for the output of the service logged in", log_path, err);
  }
  if (::pipe2(wake, O_CLOEXEC | O_NONBLOCK) != 0) {
    const int err = errno;
    ::close(log_fd);
    ::close(out[0]);
    ::close(out[1]);
    return log_error("could not make a pipe for the output of the service logged in", log_path, err);
  }
  // Squall's end only: the service keeps an ordinary blocking stdout.
  ::fcntl(out[0], F_SETFL, ::fcntl(out[0], F_GETFL) | O_NONBLOCK);
  return std::unique_ptr<output_capture>(
      new output_capture(log_fd, out[0], out[1], wake[0], wake[1], log_bytes_max, std::move(ready_text)));
}

output_capture::output_capture(int log_fd, int read_fd, int write_fd, int wake_read_fd, int wake_write_fd,
                               std::uint64_t log_bytes_max, std::string ready_text)
    : log_fd_(log_fd),
      read_fd_(read_fd),
      write_fd_(write_fd),
      wake_read_fd_(wake_read_fd),
      wake_write_fd_(wake_write_fd),
      log_bytes_max_(log_bytes_max),
      ready_text_(std::move(ready_text)) {}

output_capture::~output_capture() {
  finish(0);
  close_fd(log_fd_);
}

void output_capture::start_reading() {
  close_fd(write_fd_);
  reader_ = std::thread([this] { read_loop(); });
}

void output_capture::write_note(std::string_view text) {
  std::string line;
  if (last_char_ != '\n') line += '\n';  // the service's last line had no end: do not glue onto it
  line += "[squall] ";
  line += text;
  line += '\n';
  log_write(line.data(), line.size());
  last_char_ = '\n';
}

void output_capture::read_loop() {
  std::vector<char> buffer(read_chunk_bytes);
  for (;;) {
    pollfd fds[2] = {{read_fd_, POLLIN, 0}, {wake_read_fd_, POLLIN, 0}};
    if (::poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    // The pipe first: data that is there when the stop request comes still reaches the log.
    if ((fds[0].revents & (POLLIN | POLLHUP | POLLERR)) != 0) {
      const ssize_t got = ::read(read_fd_, buffer.data(), buffer.size());
      if (got > 0) {
        take(buffer.data(), static_cast<std::size_t>(got));
        continue;
      }
      if (got == 0) break;  // every writer is gone: the service's group has ended
      if (errno == EAGAIN || errno == EINTR) continue;
      break;
    }
    if (fds[1].revents != 0) {
      for (int i = 0; i < final_drain_reads_max; ++i) {
        const ssize_t got = ::read(read_fd_, buffer.data(), buffer.size());
        if (got <= 0) break;
        take(buffer.data(), static_cast<std::size_t>(got));
      }
      break;
    }
  }
  std::lock_guard lock(mutex_);
  ended_ = true;
  changed_.notify_all();
}

void output_capture::take(const char* data, std::size_t size) {
  std::size_t to_log = 0;
  bool cut_now = false;
  bool ready_now = false;
  {
    std::lock_guard lock(mutex_);
    if (!cut_) {
      const std::uint64_t room = log_bytes_max_ - bytes_logged_;
      to_log = static_cast<std::size_t>(std::min<std::uint64_t>(size, room));
      bytes_logged_ += to_log;
      cut_now = cut_ = to_log < size;
    }
    tail_.append(data, size);
    // Trimmed in steps of at least tail_bytes_max, so that appending stays amortised constant.
    if (tail_.size() > 2 * tail_bytes_max) tail_.erase(0, tail_.size() - tail_bytes_max);
    if (!ready_text_.empty() && !ready_seen_) {
      std::string window = scan_carry_;
      window.append(data, size);
      if (window.find(ready_text_) != std::string::npos) {
        ready_seen_ = ready_now = true;
        scan_carry_.clear();
      } else {
        const std::size_t keep = std::min(window.size(), ready_text_.size() - 1);
        scan_carry_ = window.substr(window.size() - keep);
      }
    }
  }
  if (to_log > 0) {
    log_write(data, to_log);
    last_char_ = data[to_log - 1];
  }
  if (cut_now) {
    write_note("output cut here: the log limit of " + std::to_string(log_bytes_max_) +
               " bytes was reached; the rest of the service's output is dropped");
  }
  if (ready_now) changed_.notify_all();
}

void output_capture::log_write(const char* data, std::size_t size) {
  while (size > 0 && !log_broken_) {
    const ssize_t wrote = ::write(log_fd_, data, size);
    if (wrote < 0) {
      if (errno == EINTR) continue;
      log_broken_ = true;  // disk full or the like: keep draining the pipe, stop writing
      break;
    }
    data += wrote;
    size -= static_cast<std::size_t>(wrote);
  }
}

bool output_capture::wait_for_ready_text(std::uint64_t ms) {
  std::unique_lock lock(mutex_);
  changed_.wait_for(lock, std::chrono::milliseconds(ms), [this] { return ready_seen_ || ended_; });
  return ready_seen_;
}

std::string output_capture::last_lines(std::size_t lines_max) const {
  std::string tail;
  {
    std::lock_guard lock(mutex_);
    tail = tail_;
  }
  std::vector<std::string> lines;
  std::size_t start = 0;
  while (start < tail.size()) {
    std::size_t end = tail.find('\n', start);
    if (end == std::string::npos) end = tail.size();
    std::string line = tail.substr(start, end - start);
    start = end + 1;
    // Control characters (colour codes, carriage returns) would garble the terminal that shows this.
    for (char& c : line) {
      if (static_cast<unsigned char>(c) < 0x20 && c != '\t') c = ' ';
    }
    if (line.find_first_not_of(" \t") == std::string::npos) continue;
    if (line.size() > quoted_line_chars_max) line = line.substr(0, quoted_line_chars_max) + "...";
    lines.push_back(std::move(line));
  }
  const std::size_t first = lines.size() > lines_max ? lines.size() - lines_max : 0;
  std::string out;
  for (std::size_t i = first; i < lines.size(); ++i) {
    if (!out.empty()) out += '\n';
    out += lines[i];
  }
  return out;
}

std::uint64_t output_capture::bytes_logged() const {
  std::lock_guard lock(mutex_);
  return bytes_logged_;
}

bool output_capture::cut() const {
  std::lock_guard lock(mutex_);
  return cut_;
}

void output_capture::finish(std::uint64_t drain_ms) {
  if (finished_) return;
  finished_ = true;
  if (reader_.joinable()) {
    {
      std::unique_lock lock(mutex_);
      changed_.wait_for(lock, std::chrono::milliseconds(drain_ms), [this] { return ended_; });
    }
    const char stop = 1;
    [[maybe_unused]] const ssize_t wrote = ::write(wake_write_fd_, &stop, 1);
    reader_.join();
  }
  close_fd(read_fd_);
  close_fd(write_fd_);
  close_fd(wake_read_fd_);
  close_fd(wake_write_fd_);
}

}  // namespace squall::sut::detail
