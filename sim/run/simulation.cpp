#include "sim/run/simulation.hpp"

#include <algorithm>
#include <cmath>
#include <memory>

#include "policies/core/rng.hpp"
#include "policies/pipeline/pipeline.hpp"
#include "sim/engine/event_loop.hpp"
#include "sim/provider/sim_provider.hpp"
#include "sim/provider/sim_transport.hpp"
#include "sim/workload/arrivals.hpp"
#include "sim/metrics/attempt_meter.hpp"
#include "sim/run/call_slots.hpp"
#include "sim/run/fleet.hpp"
#include "sim/workload/request_factory.hpp"

namespace squall::sim {
namespace {

class billing_listener final : public provider_listener {
 public:
  explicit billing_listener(run_metrics& m) : metrics_(m) {}
  void on_abandoned_billed(double usd) override { metrics_.on_abandoned_billed(usd); }

 private:
  run_metrics& metrics_;
};

// The load generator of the simulation: open-loop arrivals (with bursts) or closed-loop users, one
// in-flight slot per request, and the interval clock of the time series.
class driver final : public timer_target {
 public:
  driver(const scenario& s, std::uint64_t seed, event_loop& loop, handler& pipeline, run_metrics& metrics,
         std::vector<sim_provider*> providers, std::vector<provider_summary>& summaries)
      : workload_(s.workload),
        loop_(loop),
        pipeline_(pipeline),
        metrics_(metrics),
        providers_(std::move(providers)),
        summaries_(summaries),
        factory_(s.workload, stream_seed(seed, "workload/requests")),
        arrivals_(s.workload, s.duration_s, stream_seed(seed, "workload/arrivals")),
        think_rng_(stream_seed(seed, "workload/think")),
        end_of_arrivals_(time_point{from_s(s.duration_s)}),
        end_of_run_(time_point{from_s(s.duration_s + s.drain_s)}),
        interval_(from_s(s.effective_interval_s())),
        burst_sent_(s.workload.bursts.size(), 0) {}


  void start() {
    loop_.start_timer(interval_, *this, driver_cookie::interval);
    if (workload_.users > 0) {
      for (std::uint32_t u = 0; u < workload_.users; ++u)
        loop_.start_timer(duration{0}, *this, driver_cookie::user | u);
    } else {
      schedule_next_arrival();
    }
    for (std::size_t b = 0; b < workload_.bursts.size(); ++b) {
      loop_.start_timer(from_s(workload_.bursts[b].at_s), *this,
                        driver_cookie::burst | static_cast<std::uint32_t>(b));
    }
  }

  // Cancels whatever is still in flight when the run is over; it counts as unfinished.
  void stop() {
    while (request_slot* slot = slots_.first_in_flight()) {
      slots_.unlink(*slot);
      slot->op->cancel();
      metrics_.on_unfinished(slot->call);
      slots_.release(*slot);
    }
    const time_point end = loop_.now();
    if (end > last_interval_end_) close_interval(end);
    metrics_.finish(end);
  }

  std::size_t in_flight() const noexcept { return slots_.in_flight(); }

  void on_timer(std::uint32_t cookie) override {
    if (cookie == driver_cookie::arrival) {
      offer(0, next_open_id_++);
      schedule_next_arrival();
    } else if (cookie == driver_cookie::interval) {
      close_interval(loop_.now());
      if (loop_.now() < end_of_arrivals_ || slots_.in_flight() > 0)
        loop_.start_timer(interval_, *this, driver_cookie::interval);
    } else if ((cookie & driver_cookie::kind_mask) == driver_cookie::burst) {
      fire_burst(cookie & ~driver_cookie::kind_mask);
    } else if ((cookie & driver_cookie::kind_mask) == driver_cookie::user) {
      const std::uint32_t user = cookie & ~driver_cookie::kind_mask;
      if (loop_.now() < end_of_arrivals_) {
        const std::uint64_t id = (static_cast<std::uint64_t>(user + 1) << 32) | user_sequence_(user);
        offer(user + 1, id);
      }
    }
  }

 private:
  using request_slot = call_slot<driver>;
  friend request_slot;

  std::uint32_t user_sequence_(std::uint32_t user) {
    if (user_sequences_.size() < workload_.users) user_sequences_.resize(workload_.users, 0);
    return user_sequences_[user]++;
  }

  void schedule_next_arrival() {
    const std::optional<double> t = arrivals_.next_s();
    if (!t) return;
    const time_point due{from_s(*t)};
    if (due >= end_of_arrivals_) return;
    loop_.start_timer(due - loop_.now(), *this, driver_cookie::arrival);
  }

  void fire_burst(std::uint32_t index) {
    const burst& b = workload_.bursts[index];
    std::uint32_t& sent = burst_sent_[index];
    // Requests of a burst are spread evenly; each firing sends the ones due by now.
    const double step_s = b.requests > 1 ? b.over_s / (b.requests - 1) : 0.0;
    do {
      offer(0, next_open_id_++);
      ++sent;
    } while (sent < b.requests && step_s <= 0);
    if (sent < b.requests) {
      const time_point due = time_point{from_s(burst_time_s(b, sent))};
      loop_.start_timer(due - loop_.now(), *this, driver_cookie::burst | index);
    }
  }

  void offer(std::uint32_t user, std::uint64_t id) {
    metrics_.on_offered();
    if (slots_.in_flight() >= workload_.in_flight_max) {
      metrics_.on_shed();
      if (user > 0)
        loop_.start_timer(from_ms(workload_.think_ms.sample(think_rng_)), *this,
                          driver_cookie::user | (user - 1));
      return;
    }
    request_slot* slot = &slots_.acquire();
    slot->owner = this;
    slot->user = user;
    slot->intended = loop_.now();
    slot->call.started_at = loop_.now();
    slot->call.attempts = 0;
    slot->call.cost_usd = 0;
    factory_.fill(slot->call.req, id, loop_.now());
    slots_.link(*slot);
    slot->op = &pipeline_.start(call_scope{&slot->call, slot->call.req.deadline}, *slot);
  }

  void complete(request_slot& slot, outcome&& result) {
    slots_.unlink(slot);
    metrics_.on_completed(slot.call, result, loop_.now() - slot.intended);
    const std::uint32_t user = slot.user;
    slots_.release(slot);
    if (user > 0 && loop_.now() < end_of_arrivals_) {
      loop_.start_timer(from_ms(workload_.think_ms.sample(think_rng_)), *this,
                        driver_cookie::user | (user - 1));
    }
  }

  void close_interval(time_point end) {
    std::uint64_t busy = 0;
    std::uint64_t queued = 0;
    for (std::size_t i = 0; i < providers_.size(); ++i) {
      const std::uint64_t b = providers_[i]->busy();
      const std::uint64_t q = providers_[i]->queue_depth();
      busy += b;
      queued += q;
      summaries_[i].busy_max = std::max(summaries_[i].busy_max, b);
      summaries_[i].queue_max = std::max(summaries_[i].queue_max, q);
    }
    metrics_.close_interval(end, slots_.in_flight(), busy, queued);
    last_interval_end_ = end;
  }

  const workload_config& workload_;
  event_loop& loop_;
  handler& pipeline_;
  run_metrics& metrics_;
  std::vector<sim_provider*> providers_;
  std::vector<provider_summary>& summaries_;
  request_factory factory_;
  open_arrivals arrivals_;
  rng think_rng_;
  time_point end_of_arrivals_;
  time_point end_of_run_;
  duration interval_;
  std::vector<std::uint32_t> burst_sent_;
  std::vector<std::uint32_t> user_sequences_;
  std::uint64_t next_open_id_ = 1;
  call_slots<request_slot> slots_;  // at most the in-flight limit: one per request in flight
  time_point last_interval_end_{};

 public:
  time_point end_of_run() const noexcept { return end_of_run_; }
};

}  // namespace

queue_wait_summary summarize_queue_wait(const sim_provider& provider) {
  const histogram& h = provider.queue_wait_us();
  auto ms = [](std::uint64_t us) { return static_cast<double>(us) / 1000.0; };
  queue_wait_summary q;
  q.service_started = provider.stats().service_started;
  if (q.service_started > 0) {
    q.waited_share = static_cast<double>(provider.stats().service_waited) / static_cast<double>(q.service_started);
  }
  q.mean_ms = h.mean() / 1000.0;
  q.p50_ms = ms(h.quantile(0.50));
  q.p90_ms = ms(h.quantile(0.90));
  q.p99_ms = ms(h.quantile(0.99));
  return q;
}

traces::tracing_options trace_options_for(const scenario& s, bool stream) {
  traces::tracing_options options;
  for (const auto& p : s.providers) options.routes.push_back({p.name, p.api, traces::default_endpoint(p.api)});
  options.default_provider = s.workload.provider;
  if (options.default_provider.empty() && !s.providers.empty()) options.default_provider = s.providers.front().name;
  options.stream = stream;
  return options;
}

configuration_result run_configuration(const scenario& s, std::size_t index, std::uint64_t seed,
                                       const progress_fn& progress, traces::trace_writer* trace,
                                       const std::atomic<bool>* stop) {
  const configuration& config = s.configurations.at(index);
  configuration_result result;
  result.name = config.name;
  result.policy_source = config.source;
  result.policy_name = config.pipeline.name;
  result.warnings = config.pipeline.warnings;
  result.metrics = std::make_unique<run_metrics>();
  run_metrics& metrics = *result.metrics;

  event_loop loop;
  billing_listener billing(metrics);
  std::vector<std::unique_ptr<sim_provider>> providers;
  std::vector<sim_provider*> provider_ptrs;
  for (const auto& p : s.providers) {
    providers.push_back(std::make_unique<sim_provider>(loop, p, stream_seed(seed, "provider/" + p.name), &billing));
    provider_ptrs.push_back(providers.back().get());
    result.providers.push_back(provider_summary{p.name});
  }
  sim_transport transport(loop);
  for (std::size_t i = 0; i < s.providers.size(); ++i) {
    transport.add_route(s.providers[i].name, *providers[i], s.providers[i].name == s.workload.provider);
  }
  // Traced runs put the tracer right above the transport; untraced runs do not have it at all.
  std::unique_ptr<traces::tracing_handler> tracer;
  if (trace) tracer = std::make_unique<traces::tracing_handler>(loop, transport, *trace, trace_options_for(s, false));
  attempt_meter meter(tracer ? static_cast<handler&>(*tracer) : transport, metrics, loop,
                      trace_options_for(s, false).default_provider);
  // Policies draw from streams keyed by their position, the same root for every configuration.
  fleet chain(config.pipeline, config.fleet, loop, metrics, stream_seed(seed, "policies"),
              stream_seed(seed, "fleet/spread"), meter);

  driver load(s, seed, loop, chain, metrics, provider_ptrs, result.providers);
  load.start();
  const time_point end_of_arrivals{from_s(s.duration_s)};
  const time_point end_of_run = load.end_of_run();
  const double total_s = s.duration_s + s.drain_s;
  std::uint64_t next_report = 1 << 20;
  // Every 4,096 events (a few milliseconds of work at the slowest) is often enough to stop promptly
  // and rare enough to cost nothing measurable.
  constexpr std::uint64_t stop_check_mask = 4095;
  bool stopped = false;
  for (std::uint64_t steps = 0;; ++steps) {
    if (stop && (steps & stop_check_mask) == 0 && stop->load(std::memory_order_relaxed)) {
      stopped = true;
      break;
    }
    const time_point due = loop.next_due();
    if (due == time_never || due > end_of_run) break;
    if (due > end_of_arrivals && load.in_flight() == 0) {
      // Arrivals are over and every request has its answer; what remains is abandoned work and
      // idle policy timers, which must not stretch the run.
      break;
    }
    loop.step();
    if (progress && loop.fired() >= next_report) {
      next_report += 1 << 20;
      progress(std::min(1.0, to_s(loop.now()) / total_s));
    }
  }
  if (!stopped && loop.now() < end_of_arrivals) loop.run_until(end_of_arrivals);
  if (tracer) tracer->end_of_run();
  load.stop();
  result.simulated_s = to_s(loop.now());
  result.events = loop.fired();
  result.fleet = fleet_document(chain);
  for (std::size_t i = 0; i < providers.size(); ++i) result.providers[i].queue_wait = summarize_queue_wait(*providers[i]);
  if (stopped) {
    result.incomplete = true;
    result.incomplete_reason = "stopped at " + std::to_string(static_cast<long long>(result.simulated_s)) +
                               " s of simulated time";
  }
  return result;
}

}  // namespace squall::sim
