#include "fake_providers/attempt_log.hpp"

#include <limits>
#include <utility>

namespace squall::fake::detail {

std::optional<std::uint64_t> find_prompt_marker(std::string_view body) noexcept {
  constexpr std::string_view open = "[squall:";
  for (std::size_t at = body.find(open); at != std::string_view::npos; at = body.find(open, at + 1)) {
    std::size_t i = at + open.size();
    std::uint64_t id = 0;
    bool digits = false;
    bool fits = true;
    for (; i < body.size() && body[i] >= '0' && body[i] <= '9'; ++i) {
      const auto digit = static_cast<std::uint64_t>(body[i] - '0');
      if (id > (std::numeric_limits<std::uint64_t>::max() - digit) / 10) fits = false;
      id = id * 10 + digit;
      digits = true;
    }
    if (digits && fits && i < body.size() && body[i] == ']') return id;
  }
  return std::nullopt;
}

attempt_log::attempt_log(bool record, std::size_t records_max, std::size_t ids_max)
    : record_(record), records_max_(records_max), ids_max_(ids_max) {}

std::uint32_t attempt_log::count_attempt(std::uint64_t request_id) {
  const auto it = attempts_.find(request_id);
  if (it != attempts_.end()) {
    if (it->second < std::numeric_limits<std::uint32_t>::max()) ++it->second;
    return it->second;
  }
  if (attempts_.size() >= ids_max_) {
    ++counts_.ids_over_cap;
    return 1;
  }
  attempts_.emplace(request_id, 1U);
  return 1;
}

std::uint64_t attempt_log::open(upstream_attempt a) {
  if (!record_) return no_record;
  if (records_.size() >= records_max_) {
    ++counts_.not_recorded;
    return no_record;
  }
  records_.push_back(std::move(a));
  ++counts_.recorded;
  return first_ + records_.size() - 1;
}

std::vector<upstream_attempt> attempt_log::take() {
  std::vector<upstream_attempt> out(std::make_move_iterator(records_.begin()), std::make_move_iterator(records_.end()));
  first_ += records_.size();
  records_.clear();
  return out;
}

void attempt_log::restart() {
  const std::uint64_t discarded = counts_.discarded_by_restart + records_.size();
  first_ += records_.size();
  records_.clear();
  attempts_.clear();
  counts_ = upstream_log_counts{};
  counts_.discarded_by_restart = discarded;
}

}  // namespace squall::fake::detail
