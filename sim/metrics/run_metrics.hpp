#pragma once
// Everything measured about one configuration's run, in memory that does not grow with its length:
// histograms for latency, counters for the rest, and a time series with one row per interval (the
// number of intervals is fixed by the scenario, never by the request count).

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "policies/core/call.hpp"
#include "policies/core/events.hpp"
#include "policies/core/outcome.hpp"
#include "sim/metrics/histogram.hpp"
#include "sim/metrics/traffic_tables.hpp"

namespace squall::sim {

enum class breaker_state : std::uint8_t { closed = 0, half_open = 1, open = 2 };

// One row of the time series: what happened during [start, end) of one interval.
struct interval_row {
  double end_s = 0;
  std::uint64_t offered = 0;      // arrivals (including those the load generator shed)
  std::uint64_t shed = 0;         // arrivals dropped because the generator's in-flight limit was reached
  std::uint64_t completed = 0;
  std::array<std::uint64_t, outcome_class_count> outcomes{};  // completed requests by class
  std::uint64_t degraded = 0;
  std::uint64_t attempts = 0;     // attempts that reached a provider
  std::uint64_t retries = 0;      // retries scheduled by retry policies
  std::uint64_t timeouts = 0;     // timeouts fired
  std::uint64_t breaker_openings = 0;
  std::uint64_t breaker_rejections = 0;
  double latency_p50_ms = 0, latency_p95_ms = 0, latency_p99_ms = 0;  // of requests completed here
  double cost_usd = 0;            // billed during the interval, abandoned work included
  std::uint64_t in_flight = 0;    // the client's requests in flight at the end of the interval
  std::uint64_t provider_busy = 0;   // summed over providers, at the end of the interval
  std::uint64_t provider_queue = 0;
  breaker_state breaker = breaker_state::closed;  // the worst state of any breaker at the end
  double breaker_open_s = 0;      // time any breaker spent open during the interval
  std::uint64_t breakers_open = 0;  // breakers open at the end, over every instance of a fleet
  std::uint64_t cache_hits = 0;   // fresh and stale hits
  std::uint64_t cache_misses = 0;
  std::uint64_t hedges = 0;
  std::uint64_t fallbacks = 0;
  std::uint64_t client_rejections = 0;  // limiter, throttle, bulkhead and budget refusals
};

// How often each policy of a configuration decided each thing: the "who decided what" of a run.
struct policy_decisions {
  std::string policy;
  std::array<std::uint64_t, policy_event_kind_count> counts{};
};

// The decisions taken for one request, in order: a readable account of what the pipeline did.
struct explained_request {
  std::uint64_t request_id = 0;
  struct step {
    double at_s;
    std::string policy;
    policy_event_kind kind;
    outcome_class cause;
    double delay_ms;
    std::uint64_t value;
    std::string detail;
  };
  std::vector<step> steps;  // at most explain_steps_max
};

struct breaker_track {
  std::string name;
  std::uint32_t instance = 0;     // which instance of a fleet it belongs to (0 without a fleet)
  breaker_state state = breaker_state::closed;
  time_point open_since{};
  double open_s = 0;
  std::uint64_t openings = 0;
};

class run_metrics final : public event_sink {
 public:
  static constexpr std::size_t explain_requests_max = 12;
  static constexpr std::size_t explain_steps_max = 24;

  run_metrics() = default;

  // A request arrived at its intended send time (it may still be shed).
  void on_offered() noexcept { ++current_.offered; ++offered_; }
  void on_shed() noexcept { ++current_.shed; ++shed_; }
  void on_attempt() noexcept { ++current_.attempts; }
  // A request finished; `latency` is measured from its intended send time. A failed final outcome goes
  // to the error table too, at the time it was delivered.
  void on_completed(const call_context& call, const outcome& result, duration latency);
  // A request still in flight when the run stopped; it counts as not successful.
  void on_unfinished(const call_context& call) noexcept;
  // Work the provider did for a request the client had abandoned (billed all the same).
  void on_abandoned_billed(double usd) noexcept;
  void on_policy_event(const policy_event& event) override { on_policy_event(event, 0); }
  // An event of the policies of fleet instance `instance` (sim/run/fleet.hpp): counted with every other
  // instance's, except a breaker's state, which is each instance's own.
  void on_policy_event(const policy_event& event, std::uint32_t instance);

  // Closes the interval ending at `end` with the gauges read at that instant.
  void close_interval(time_point end, std::uint64_t in_flight, std::uint64_t provider_busy,
                      std::uint64_t provider_queue);
  // Ends the run at `end` (closes the open breaker periods).
  void finish(time_point end);

  const std::vector<interval_row>& series() const noexcept { return series_; }
  const std::vector<breaker_track>& breakers() const noexcept { return breakers_; }
  const histogram& latency() const noexcept { return latency_; }
  const histogram& latency_ok() const noexcept { return latency_ok_; }
  const histogram& ttft() const noexcept { return ttft_; }
  const std::vector<policy_decisions>& decisions() const noexcept { return decisions_; }
  const std::vector<explained_request>& explained() const noexcept { return explained_; }
  // Where failures came from and where the attempts went (traffic_tables.hpp); the attempt meter
  // (attempt_meter.hpp) fills the attempts' side.
  error_table& errors() noexcept { return errors_; }
  const error_table& errors() const noexcept { return errors_; }
  traffic_table& traffic() noexcept { return traffic_; }
  const traffic_table& traffic() const noexcept { return traffic_; }
  std::uint64_t total(policy_event_kind kind) const noexcept { return totals_[static_cast<std::size_t>(kind)]; }
  // Calls refused on the client's side (is_client_rejection), over the run.
  std::uint64_t client_rejections() const noexcept {
    std::uint64_t n = 0;
    for (std::size_t k = 0; k < policy_event_kind_count; ++k)
      if (is_client_rejection(static_cast<policy_event_kind>(k))) n += totals_[k];
    return n;
  }

  std::uint64_t offered() const noexcept { return offered_; }
  std::uint64_t shed() const noexcept { return shed_; }
  std::uint64_t completed() const noexcept { return completed_; }
  std::uint64_t unfinished() const noexcept { return unfinished_; }
  std::uint64_t succeeded() const noexcept { return outcomes_[0]; }
  std::uint64_t degraded() const noexcept { return degraded_; }
  // Successes whose content was bad (outcome::flaw: empty, cut short, not JSON): the answers users got
  // from a brownout that no policy caught. They count as successes too, as the provider's 200 says.
  std::uint64_t bad_content() const noexcept { return bad_content_; }
  const std::array<std::uint64_t, outcome_class_count>& outcomes() const noexcept { return outcomes_; }
  std::uint64_t attempts() const noexcept { return attempts_; }
  std::uint64_t retries() const noexcept { return retries_; }
  std::uint64_t timeouts() const noexcept { return timeouts_; }
  std::uint64_t breaker_rejections() const noexcept { return breaker_rejections_; }
  // The most breakers open at once at an interval's end (over a fleet's instances: how many pods had
  // given up on the provider at the worst moment).
  std::uint64_t breakers_open_max() const noexcept { return breakers_open_max_; }
  double cost_usd() const noexcept { return cost_usd_; }
  double cost_useful_usd() const noexcept { return cost_useful_usd_; }

 private:
  breaker_track& breaker_for(std::string_view name, std::uint32_t instance);
  void record_decision(const policy_event& event);
  void explain(const policy_event& event);

  interval_row current_;
  time_point interval_start_{};
  histogram interval_latency_;
  std::vector<interval_row> series_;
  std::vector<breaker_track> breakers_;
  std::vector<policy_decisions> decisions_;
  std::size_t last_decision_ = 0;  // events come in runs from one policy: check it first
  std::array<std::uint64_t, policy_event_kind_count> totals_{};
  std::vector<explained_request> explained_;
  error_table errors_;
  traffic_table traffic_;

  histogram latency_;
  histogram latency_ok_;
  histogram ttft_;
  std::array<std::uint64_t, outcome_class_count> outcomes_{};
  std::uint64_t offered_ = 0, shed_ = 0, completed_ = 0, unfinished_ = 0, degraded_ = 0, bad_content_ = 0;
  std::uint64_t attempts_ = 0, retries_ = 0, timeouts_ = 0, breaker_rejections_ = 0, breakers_open_max_ = 0;
  double cost_usd_ = 0;         // everything billed
  double cost_useful_usd_ = 0;  // billed for the attempts whose answers were used
};

}  // namespace squall::sim
