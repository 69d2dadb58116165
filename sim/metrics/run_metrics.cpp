#include "sim/metrics/run_metrics.hpp"

#include <algorithm>

namespace squall::sim {
namespace {

std::uint64_t to_us(duration d) noexcept {
  const auto us = std::chrono::duration_cast<std::chrono::microseconds>(d).count();
  return us < 0 ? 0 : static_cast<std::uint64_t>(us);
}

double us_to_ms(std::uint64_t us) noexcept { return static_cast<double>(us) / 1000.0; }

}  // namespace


void run_metrics::on_completed(const call_context& call, const outcome& result, duration latency) {
  ++completed_;
  ++current_.completed;
  const auto cls = static_cast<std::size_t>(result.kind);
  const bool success = result.ok();
  if (result.degraded) {
    ++degraded_;
    ++current_.degraded;
  } else {
    ++outcomes_[cls];
    ++current_.outcomes[cls];
    if (!success) errors_.record_request(result, to_s(call.started_at + latency));
  }
  attempts_ += call.attempts;
  const std::uint64_t us = to_us(latency);
  latency_.record(us);
  interval_latency_.record(us);
  if (success) {
    if (result.flaw != content_flaw::none) ++bad_content_;
    latency_ok_.record(us);
    if (result.time_to_first_token) ttft_.record(to_us(*result.time_to_first_token));
    cost_useful_usd_ += result.cost_usd;
  }
  cost_usd_ += call.cost_usd;
  current_.cost_usd += call.cost_usd;
}

void run_metrics::on_unfinished(const call_context& call) noexcept {
  ++unfinished_;
  attempts_ += call.attempts;
  cost_usd_ += call.cost_usd;
}

void run_metrics::on_abandoned_billed(double usd) noexcept {
  cost_usd_ += usd;
  current_.cost_usd += usd;
}

breaker_track& run_metrics::breaker_for(std::string_view name, std::uint32_t instance) {
  for (auto& b : breakers_) {
    if (b.instance == instance && b.name == name) return b;
  }
  breakers_.push_back(breaker_track{std::string(name), instance});
  return breakers_.back();
}

void run_metrics::record_decision(const policy_event& event) {
  ++totals_[static_cast<std::size_t>(event.kind)];
  if (last_decision_ < decisions_.size() && decisions_[last_decision_].policy == event.policy) {
    ++decisions_[last_decision_].counts[static_cast<std::size_t>(event.kind)];
    return;
  }
  for (std::size_t i = 0; i < decisions_.size(); ++i) {
    if (decisions_[i].policy == event.policy) {
      last_decision_ = i;
      ++decisions_[i].counts[static_cast<std::size_t>(event.kind)];
      return;
    }
  }
  decisions_.push_back(policy_decisions{std::string(event.policy), {}});
  last_decision_ = decisions_.size() - 1;
  ++decisions_.back().counts[static_cast<std::size_t>(event.kind)];
}

void run_metrics::explain(const policy_event& event) {
  // The first requests that needed a decision are kept, each with its first steps: enough to read
  // what the pipeline did, bounded whatever the run's length.
  if (event.request_id == 0 || event.kind == policy_event_kind::cache_miss) return;
  explained_request* target = nullptr;
  for (auto& r : explained_) {
    if (r.request_id == event.request_id) target = &r;
  }
  if (!target) {
    if (explained_.size() >= explain_requests_max) return;
    explained_.push_back(explained_request{event.request_id, {}});
    target = &explained_.back();
  }
  if (target->steps.size() >= explain_steps_max) return;
  target->steps.push_back(explained_request::step{to_s(event.at), std::string(event.policy), event.kind, event.cause,
                                                  to_ms(event.delay), event.value, std::string(event.detail)});
}

void run_metrics::on_policy_event(const policy_event& event, std::uint32_t instance) {
  record_decision(event);
  explain(event);
  switch (event.kind) {
    case policy_event_kind::retry_scheduled:
      ++retries_;
      ++current_.retries;
      break;
    case policy_event_kind::timeout_fired:
      ++timeouts_;
      ++current_.timeouts;
      break;
    case policy_event_kind::breaker_rejected:
      ++breaker_rejections_;
      ++current_.breaker_rejections;
      break;
    case policy_event_kind::breaker_opened: {
      auto& b = breaker_for(event.policy, instance);
      if (b.state != breaker_state::open) b.open_since = event.at;
      b.state = breaker_state::open;
      ++b.openings;
      ++current_.breaker_openings;
      break;
    }
    case policy_event_kind::breaker_half_opened:
    case policy_event_kind::breaker_closed: {
      auto& b = breaker_for(event.policy, instance);
      if (b.state == breaker_state::open) {
        const time_point from = std::max(b.open_since, interval_start_);
        current_.breaker_open_s = std::max(current_.breaker_open_s, to_s(event.at - from));
        b.open_s += to_s(event.at - b.open_since);
      }
      b.state = event.kind == policy_event_kind::breaker_closed ? breaker_state::closed : breaker_state::half_open;
      break;
    }
    case policy_event_kind::cache_hit:
    case policy_event_kind::cache_stale_served:
      ++current_.cache_hits;
      break;
    case policy_event_kind::cache_miss:
      ++current_.cache_misses;
      break;
    case policy_event_kind::hedge_sent:
      ++current_.hedges;
      break;
    case policy_event_kind::fallback_used:
      ++current_.fallbacks;
      break;
    default:
      break;
  }
  if (is_client_rejection(event.kind)) ++current_.client_rejections;
}

void run_metrics::close_interval(time_point end, std::uint64_t in_flight, std::uint64_t provider_busy,
                                 std::uint64_t provider_queue) {
  current_.end_s = to_s(end);
  current_.latency_p50_ms = us_to_ms(interval_latency_.quantile(0.50));
  current_.latency_p95_ms = us_to_ms(interval_latency_.quantile(0.95));
  current_.latency_p99_ms = us_to_ms(interval_latency_.quantile(0.99));
  current_.in_flight = in_flight;
  current_.provider_busy = provider_busy;
  current_.provider_queue = provider_queue;
  breaker_state worst = breaker_state::closed;
  for (const auto& b : breakers_) {
    worst = std::max(worst, b.state);
    if (b.state == breaker_state::open) {
      ++current_.breakers_open;
      const time_point from = std::max(b.open_since, interval_start_);
      current_.breaker_open_s = std::max(current_.breaker_open_s, to_s(end - from));
    }
  }
  current_.breaker = worst;
  breakers_open_max_ = std::max(breakers_open_max_, current_.breakers_open);
  series_.push_back(current_);
  current_ = interval_row{};
  interval_latency_.reset();
  interval_start_ = end;
}

void run_metrics::finish(time_point end) {
  for (auto& b : breakers_) {
    if (b.state == breaker_state::open) {
      b.open_s += to_s(end - b.open_since);
      b.open_since = end;
    }
  }
}

}  // namespace squall::sim
