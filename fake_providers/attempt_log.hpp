#pragma once
// The fake server's attempt log and attempt counts, shared by all of its provider endpoints and touched
// only on its one I/O thread (fake_server calls in from other threads by posting there and waiting).
//
// Attribution: an AI request names the user request behind it with x-squall-request-id, or, for a
// service that cannot add headers to its SDK's calls, with a marker "[squall:<id>]" anywhere in its body
// (a prompt usually). A request that names its id but not x-squall-attempt gets the next attempt number
// for that id, counted here, so that a service's own retries draw afresh as squall's retries do.

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "fake_providers/upstream_attempt.hpp"

namespace squall::fake::detail {

// The id of the first well-formed marker "[squall:<decimal digits>]" in `body` (the digits fit 64 bits);
// malformed ones ("[squall:]", "[squall:12x]", an id beyond 2^64 - 1) are skipped.
std::optional<std::uint64_t> find_prompt_marker(std::string_view body) noexcept;

class attempt_log {
 public:
  // A record's handle when there is none (not recording, the log full).
  static constexpr std::uint64_t no_record = ~std::uint64_t{0};

  // `record`: keep records at all. At most `records_max` records are held (take() makes room again)
  // and at most `ids_max` request ids counted.
  attempt_log(bool record, std::size_t records_max, std::size_t ids_max);

  bool recording() const noexcept { return record_; }

  // The next attempt number of `request_id`: 1, 2, ... A new id when the table is full counts as 1.
  std::uint32_t count_attempt(std::uint64_t request_id);

  // Keeps `a` at the end of the log: its handle, or no_record when not recording or the log is full.
  std::uint64_t open(upstream_attempt a);
  // The record of `handle`, or nullptr once it was taken or discarded (or for no_record). Records
  // never move while held: a handle is an index counted from the server's first record.
  upstream_attempt* find(std::uint64_t handle) noexcept {
    if (handle < first_ || handle - first_ >= records_.size()) return nullptr;
    return &records_[static_cast<std::size_t>(handle - first_)];
  }

  // The records in arrival order; the log is empty afterwards. Records still open keep end "open" and
  // ended_ms -1: their handles no longer find them.
  std::vector<upstream_attempt> take();
  // The timeline restarted: records and attempt counts go, and the counts restart (but for
  // discarded_by_restart, which grows by the records that went).
  void restart();

  upstream_log_counts counts() const noexcept { return counts_; }

 private:
  bool record_;
  std::size_t records_max_;
  std::size_t ids_max_;
  std::deque<upstream_attempt> records_;  // a deque: appending never moves a held record
  std::uint64_t first_ = 0;               // handle of records_.front()
  std::unordered_map<std::uint64_t, std::uint32_t> attempts_;  // by request id
  upstream_log_counts counts_;
};

}  // namespace squall::fake::detail
