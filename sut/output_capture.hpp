#pragma once
// The service's stdout and stderr, read from one pipe by a thread of their own and appended to the log
// file, up to a byte limit after which one line says the output was cut and the rest is read and dropped.
// The pipe must be drained all the time, not only while squall looks: a service whose pipe fills up
// blocks in write() and would look hung to the load generator. The reader also keeps the last few KiB in
// memory (for error messages, whatever the limit cut) and watches for the readiness text.
// Internal to sut/ (service_process owns one); the log format is: a "[squall] ..." line when the service
// starts, its output, "[squall] ..." lines for the cut and for how it ended.

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

#include "sut/service_error.hpp"

namespace squall::sut::detail {

class output_capture {
 public:
  // Creates the log's parent folders, opens the log for appending and makes the pipe. `ready_text`:
  // the text whose appearance in the output means ready; empty: none is watched for.
  static service_result<std::unique_ptr<output_capture>> open(const std::string& log_path,
                                                              std::uint64_t log_bytes_max,
                                                              std::string ready_text);
  ~output_capture();  // finish(0)
  output_capture(const output_capture&) = delete;
  output_capture& operator=(const output_capture&) = delete;

  // The pipe's write end, for the child's stdout and stderr (close-on-exec in squall).
  int write_fd() const noexcept { return write_fd_; }
  // Once the child has its copy: closes squall's, so that the pipe ends when the service's group does,
  // and starts the reader thread.
  void start_reading();
  // Appends one line of squall's own ("[squall] " + text) to the log; not counted against the limit.
  // Only before start_reading() or after finish(): the reader owns the file in between.
  void write_note(std::string_view text);

  // Waits up to `ms` for the readiness text; true once it was seen (at any time before).
  bool wait_for_ready_text(std::uint64_t ms);
  // The last `lines_max` non-empty lines of output, each cut to a readable length, "\n"-separated.
  std::string last_lines(std::size_t lines_max) const;
  // How many bytes of output reached the log, and whether the limit cut it.
  std::uint64_t bytes_logged() const;
  bool cut() const;

  // Waits up to `drain_ms` for the end of the output (every writer gone), then stops the reader.
  // Idempotent. A process that escaped the group may hold the pipe open forever: hence the bound.
  void finish(std::uint64_t drain_ms);

 private:
  output_capture(int log_fd, int read_fd, int write_fd, int wake_read_fd, int wake_write_fd,
                 std::uint64_t log_bytes_max, std::string ready_text);
  void read_loop();
  void take(const char* data, std::size_t size);  // one chunk of output: log, tail, readiness
  void log_write(const char* data, std::size_t size);

  int log_fd_;
  int read_fd_;
  int write_fd_;
  int wake_read_fd_;  // a byte here tells the reader to stop
  int wake_write_fd_;
  const std::uint64_t log_bytes_max_;
  const std::string ready_text_;

  // Reader thread only (and the owner before start / after finish).
  std::string scan_carry_;   // the end of the previous chunk, for a ready text split across two reads
  bool log_broken_ = false;  // a write to the log failed (disk full): stop writing, keep draining
  char last_char_ = '\n';    // the last byte written to the log, so that a note starts on a line of its own

  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::string tail_;  // the last output bytes, bounded by tail_bytes_max
  std::uint64_t bytes_logged_ = 0;
  bool cut_ = false;
  bool ready_seen_ = false;
  bool ended_ = false;  // the pipe reached end of file (or the reader stopped)

  std::thread reader_;
  bool finished_ = false;
};

}  // namespace squall::sut::detail
