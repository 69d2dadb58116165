#include "policies/retry/retry_budget.hpp"

#include <algorithm>
#include <string>

namespace squall {

void read_retry_budget_options(json_reader& reader, std::string_view key, retry_budget_options& options) {
  const json* object = reader.child(key);
  if (object == nullptr || reader.failed()) return;
  json_reader budget(*object, json_path_key(reader.path(), key));
  std::string kind;
  if (!budget.failed() && !object->contains("kind")) {
    budget.fail(budget.path(), "missing key \"kind\"; expected \"token_bucket\" or \"percent\"");
  }
  budget.choice("kind", kind, {"token_bucket", "percent"});
  if (kind == "token_bucket") {
    options.kind = retry_budget_kind::token_bucket;
    budget.number("tokens_max", options.tokens_max, 1.0, 1000.0).number("token_ratio", options.token_ratio, 0.001, 1000.0);
  } else if (kind == "percent") {
    options.kind = retry_budget_kind::percent;
    budget.number("percent", options.percent, 0.0, 1000.0)
        .count("window_s", options.window_s, 1, 60)
        .number("retries_min_per_s", options.retries_min_per_s, 0.0, 10000.0);
  }
  if (auto e = budget.finish()) reader.fail(e->path, e->message);
}

retry_budget::retry_budget(const retry_budget_options& options) noexcept
    : options_(options),
      tokens_(options.tokens_max),
      slice_ns_(from_s(static_cast<double>(options.window_s)).count() / static_cast<std::int64_t>(slice_count)) {}

retry_budget::slice& retry_budget::current(time_point now) noexcept {
  const std::int64_t index = std::max<std::int64_t>(now.time_since_epoch().count(), 0) / slice_ns_;
  slice& s = slices_[static_cast<std::size_t>(index) % slice_count];
  if (s.index != index) s = slice{index, 0, 0};
  return s;
}

void retry_budget::on_call(time_point now) noexcept {
  if (options_.kind == retry_budget_kind::percent) ++current(now).calls;
}

void retry_budget::on_attempt_ok() noexcept {
  if (options_.kind == retry_budget_kind::token_bucket) tokens_ = std::min(options_.tokens_max, tokens_ + options_.token_ratio);
}

void retry_budget::on_attempt_failed() noexcept {
  if (options_.kind == retry_budget_kind::token_bucket) tokens_ = std::max(0.0, tokens_ - 1.0);
}

bool retry_budget::try_acquire(time_point now) noexcept {
  switch (options_.kind) {
    case retry_budget_kind::none: return true;
    case retry_budget_kind::token_bucket: return tokens_ > options_.tokens_max / 2.0;
    case retry_budget_kind::percent: {
      slice& here = current(now);
      std::uint64_t calls = 0;
      std::uint64_t extra = 0;
      for (const slice& s : slices_) {
        // Slices older than the window hold counts of an earlier lap of the ring.
        if (s.index > here.index - static_cast<std::int64_t>(slice_count)) {
          calls += s.calls;
          extra += s.extra;
        }
      }
      const double allowance = options_.percent / 100.0 * static_cast<double>(calls) +
                               options_.retries_min_per_s * static_cast<double>(options_.window_s);
      // A small tolerance keeps 10% of 10 calls (0.1 * 10 computed in floating point) equal to 1.
      if (static_cast<double>(extra + 1) > allowance + 1e-9) return false;
      ++here.extra;
      return true;
    }
  }
  return true;
}

}  // namespace squall
