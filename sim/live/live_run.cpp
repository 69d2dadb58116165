#include "sim/live/live_run.hpp"

#include <algorithm>
#include <memory>
#include <boost/asio/io_context.hpp>

#include "policies/asio/asio_runtime.hpp"
#include "policies/core/rng.hpp"
#include "policies/http/http_transport.hpp"
#include "policies/http/url.hpp"
#include "policies/pipeline/pipeline.hpp"
#include "sim/run/fleet.hpp"
#include "sim/metrics/attempt_meter.hpp"
#include "sim/run/call_slots.hpp"
#include "sim/workload/arrivals.hpp"
#include "sim/workload/request_factory.hpp"

namespace squall::sim {
namespace {

// How often the generator looks at the stop flag and the end of the run.
constexpr duration poll_period = from_ms(20);
// Open-loop arrivals already due when one fires go in the same callback, up to this many: a generator
// that fell behind its schedule catches up in batches (and the server sees them together) instead of
// paying a trip through the io_context per request; the bound keeps answers from waiting behind a backlog.
constexpr std::uint32_t arrival_batch_max = 64;

// The live load generator: the simulation's driver on the real clock. Arrival times are scenario times
// (runtime time 0 is the start of the run); a timer that fires late still records its request as sent
// at the intended time, so lateness counts as latency.
class live_driver final : public timer_target {
 public:
  live_driver(const scenario& s, std::uint64_t seed, const live_options& options, asio_runtime& rt, handler& pipeline,
              run_metrics& metrics)
      : workload_(s.workload),
        options_(options),
        rt_(rt),
        pipeline_(pipeline),
        metrics_(metrics),
        factory_(s.workload, stream_seed(seed, "workload/requests")),
        arrivals_(s.workload, s.duration_s, stream_seed(seed, "workload/arrivals")),
        think_rng_(stream_seed(seed, "workload/think")),
        end_of_arrivals_(time_point{from_s(std::min(s.duration_s, options.run_s_max))}),
        end_of_run_(time_point{from_s(std::min(s.duration_s + s.drain_s, options.run_s_max))}),
        interval_(from_s(s.effective_interval_s())),
        in_flight_max_(std::min(workload_.in_flight_max, options.in_flight_max)),
        burst_sent_(s.workload.bursts.size(), 0),
        burst_timers_(s.workload.bursts.size()) {
    if (s.duration_s > options.run_s_max) note_incomplete("the run was cut at run_s_max");
  }


  void start() {
    next_interval_end_ = time_point{} + interval_;
    interval_timer_ = rt_.start_timer(next_interval_end_ - rt_.now(), *this, driver_cookie::interval);
    poll_timer_ = rt_.start_timer(poll_period, *this, driver_cookie::poll);
    if (workload_.users > 0) {
      user_due_.assign(workload_.users, time_point{});
      user_timers_.assign(workload_.users, timer_id{});
      user_sequences_.assign(workload_.users, 0);
      for (std::uint32_t u = 0; u < workload_.users; ++u)
        user_timers_[u] = rt_.start_timer(duration::zero(), *this, driver_cookie::user | u);
    } else {
      schedule_next_arrival();
    }
    for (std::size_t b = 0; b < workload_.bursts.size(); ++b) {
      const time_point due{from_s(workload_.bursts[b].at_s)};
      if (due >= end_of_arrivals_) continue;
      burst_timers_[b] =
          rt_.start_timer(due - rt_.now(), *this, driver_cookie::burst | static_cast<std::uint32_t>(b));
    }
  }

  bool incomplete() const noexcept { return !incomplete_reason_.empty(); }
  const std::string& incomplete_reason() const noexcept { return incomplete_reason_; }
  void set_progress(const progress_fn* p) noexcept { progress_ = p; }
  void set_tracer(traces::tracing_handler* t) noexcept { tracer_ = t; }

  void on_timer(std::uint32_t cookie) override {
    if (finished_) return;
    if (cookie == driver_cookie::arrival) {
      arrival_timer_ = {};
      const time_point now = rt_.now();
      for (std::uint32_t sent = 1;; ++sent) {
        offer(0, next_open_id_++, next_arrival_);
        if (finished_ || capped_ || !pull_next_arrival()) break;
        if (next_arrival_ > now || sent == arrival_batch_max) {
          arrival_timer_ = rt_.start_timer(next_arrival_ - now, *this, driver_cookie::arrival);
          break;
        }
      }
    } else if (cookie == driver_cookie::interval) {
      metrics_.close_interval(next_interval_end_, slots_.in_flight(), 0, 0);
      last_interval_end_ = next_interval_end_;
      next_interval_end_ += interval_;
      interval_timer_ = rt_.start_timer(next_interval_end_ - rt_.now(), *this, driver_cookie::interval);
    } else if (cookie == driver_cookie::poll) {
      poll();
    } else if ((cookie & driver_cookie::kind_mask) == driver_cookie::burst) {
      fire_burst(cookie & ~driver_cookie::kind_mask);
    } else if ((cookie & driver_cookie::kind_mask) == driver_cookie::user) {
      const std::uint32_t user = cookie & ~driver_cookie::kind_mask;
      user_timers_[user] = {};
      if (user_due_[user] < end_of_arrivals_) {
        const std::uint64_t id = (static_cast<std::uint64_t>(user + 1) << 32) | user_sequences_[user]++;
        offer(user + 1, id, user_due_[user]);
      }
    }
  }

 private:
  using request_slot = call_slot<live_driver>;
  friend request_slot;

  void note_incomplete(std::string reason) {
    if (incomplete_reason_.empty()) incomplete_reason_ = std::move(reason);
  }

  bool arrivals_over() const noexcept { return capped_ || rt_.now() >= end_of_arrivals_; }

  // Sets next_arrival_ to the next open-loop arrival; false when there is none before the end of arrivals.
  bool pull_next_arrival() {
    const std::optional<double> t = arrivals_.next_s();
    if (!t) return false;
    const time_point due{from_s(*t)};
    if (due >= end_of_arrivals_) return false;
    next_arrival_ = due;
    return true;
  }

  void schedule_next_arrival() {
    if (pull_next_arrival()) arrival_timer_ = rt_.start_timer(next_arrival_ - rt_.now(), *this, driver_cookie::arrival);
  }

  void fire_burst(std::uint32_t index) {
    burst_timers_[index] = {};
    const burst& b = workload_.bursts[index];
    std::uint32_t& sent = burst_sent_[index];
    // Every request of the burst that is due by now goes, each with its own intended time.
    const time_point now = rt_.now();
    do {
      const time_point due{from_s(burst_time_s(b, sent))};
      if (due >= end_of_arrivals_) {
        sent = b.requests;
        break;
      }
      offer(0, next_open_id_++, due);
      ++sent;
    } while (!finished_ && !capped_ && sent < b.requests && time_point{from_s(burst_time_s(b, sent))} <= now);
    if (!finished_ && !capped_ && sent < b.requests) {
      const time_point due{from_s(burst_time_s(b, sent))};
      if (due < end_of_arrivals_)
        burst_timers_[index] = rt_.start_timer(due - rt_.now(), *this, driver_cookie::burst | index);
    }
  }

  void offer(std::uint32_t user, std::uint64_t id, time_point intended) {
    if (offered_ >= options_.requests_max) {
      cap_arrivals("the run reached requests_max");
      return;
    }
    ++offered_;
    metrics_.on_offered();
    if (slots_.in_flight() >= in_flight_max_) {
      metrics_.on_shed();
      if (user > 0) think(user - 1);
      return;
    }
    request_slot* slot = &slots_.acquire();
    slot->owner = this;
    slot->user = user;
    slot->intended = intended;
    slot->call.started_at = intended;
    slot->call.attempts = 0;
    slot->call.cost_usd = 0;
    factory_.fill(slot->call.req, id, intended);
    slots_.link(*slot);
    slot->op = &pipeline_.start(call_scope{&slot->call, slot->call.req.deadline}, *slot);
  }

  void think(std::uint32_t user) {
    if (capped_) return;
    user_due_[user] = rt_.now() + from_ms(workload_.think_ms.sample(think_rng_));
    if (user_due_[user] >= end_of_arrivals_) return;
    user_timers_[user] = rt_.start_timer(user_due_[user] - rt_.now(), *this, driver_cookie::user | user);
  }

  void complete(request_slot& slot, outcome&& result) {
    slots_.unlink(slot);
    const time_point now = rt_.now();
    metrics_.on_completed(slot.call, result, now - slot.intended);
    const std::uint32_t user = slot.user;
    slots_.release(slot);
    if (user > 0 && now < end_of_arrivals_) think(user - 1);
    if (arrivals_over() && slots_.in_flight() == 0) finish();
  }

  void cap_arrivals(std::string reason) {
    if (capped_) return;
    capped_ = true;
    note_incomplete(std::move(reason));
    rt_.cancel_timer(arrival_timer_);
    for (timer_id& t : burst_timers_) rt_.cancel_timer(std::exchange(t, {}));
    for (timer_id& t : user_timers_) rt_.cancel_timer(std::exchange(t, {}));
  }

  void poll() {
    poll_timer_ = {};
    const time_point now = rt_.now();
    if (options_.stop && options_.stop->load(std::memory_order_relaxed)) {
      note_incomplete("stopped by the user");
      finish();
      return;
    }
    if (options_.watch) {
      if (std::string reason = options_.watch(); !reason.empty()) {
        note_incomplete(std::move(reason));
        finish();
        return;
      }
    }
    if (now >= end_of_run_ || (arrivals_over() && slots_.in_flight() == 0)) {
      finish();
      return;
    }
    if (progress_ && *progress_ && now >= next_progress_) {
      next_progress_ = now + from_s(1);
      (*progress_)(std::min(1.0, to_s(now) / to_s(end_of_run_)));
    }
    poll_timer_ = rt_.start_timer(poll_period, *this, driver_cookie::poll);
  }

  // Ends the run: what is still in flight is cancelled and counts as unfinished, the last interval is
  // closed, and the io_context is stopped (policies may still hold idle timers of their own).
  void finish() {
    if (finished_) return;
    finished_ = true;
    if (tracer_) tracer_->end_of_run();
    rt_.cancel_timer(arrival_timer_);
    rt_.cancel_timer(interval_timer_);
    rt_.cancel_timer(poll_timer_);
    for (timer_id t : burst_timers_) rt_.cancel_timer(t);
    for (timer_id t : user_timers_) rt_.cancel_timer(t);
    while (request_slot* slot = slots_.first_in_flight()) {
      slots_.unlink(*slot);
      slot->op->cancel();
      metrics_.on_unfinished(slot->call);
      slots_.release(*slot);
    }
    const time_point end = rt_.now();
    if (end > last_interval_end_) metrics_.close_interval(end, 0, 0, 0);
    metrics_.finish(end);
    rt_.io().stop();
  }

  const workload_config& workload_;
  const live_options& options_;
  asio_runtime& rt_;
  handler& pipeline_;
  run_metrics& metrics_;
  request_factory factory_;
  open_arrivals arrivals_;
  rng think_rng_;
  time_point end_of_arrivals_;
  time_point end_of_run_;
  duration interval_;
  std::size_t in_flight_max_;
  std::vector<std::uint32_t> burst_sent_;
  std::vector<timer_id> burst_timers_;
  std::vector<time_point> user_due_;
  std::vector<timer_id> user_timers_;
  std::vector<std::uint32_t> user_sequences_;
  std::uint64_t next_open_id_ = 1;
  std::uint64_t offered_ = 0;
  time_point next_arrival_{};
  timer_id arrival_timer_, interval_timer_, poll_timer_;
  time_point next_interval_end_{};
  time_point last_interval_end_{};
  time_point next_progress_{};
  const progress_fn* progress_ = nullptr;
  traces::tracing_handler* tracer_ = nullptr;
  bool capped_ = false;
  bool finished_ = false;
  std::string incomplete_reason_;
  call_slots<request_slot> slots_;  // at most the in-flight limit: one per request in flight
};

config_error target_error(const std::string& provider, std::string message) {
  return config_error{"", provider.empty() ? "--target" : "--target " + provider, std::move(message)};
}

}  // namespace

config_result<live_target> parse_live_target(const std::string& text) {
  const std::size_t eq = text.find('=');
  if (eq == std::string::npos || eq == 0 || eq + 1 == text.size()) {
    return target_error("", "expected PROVIDER=URL (for example openai=http://127.0.0.1:8081/v1), got \"" + text + "\"");
  }
  return live_target{text.substr(0, eq), text.substr(eq + 1)};
}

std::optional<config_error> check_live_options(const scenario& s, const live_options& options) {
  for (std::size_t i = 0; i < options.targets.size(); ++i) {
    const live_target& t = options.targets[i];
    const bool known = std::any_of(s.providers.begin(), s.providers.end(),
                                   [&](const provider_config& p) { return p.name == t.provider; });
    if (!known) {
      std::string names;
      for (const auto& p : s.providers) names += (names.empty() ? "" : ", ") + p.name;
      return target_error(t.provider, "the scenario has no provider \"" + t.provider + "\" (it has: " + names + ")");
    }
    for (std::size_t j = 0; j < i; ++j) {
      if (options.targets[j].provider == t.provider) return target_error(t.provider, "given twice");
    }
    auto url = parse_http_url(t.base_url);
    if (!url) return target_error(t.provider, url.error().message);
    if (!options.allow_remote && !is_loopback_host(url->host)) {
      return target_error(t.provider, "\"" + url->host +
                                          "\" is not a loopback address: live load goes only to 127.0.0.0/8, ::1 or "
                                          "localhost unless --allow-remote is given");
    }
  }
  for (const auto& p : s.providers) {
    const bool targeted = std::any_of(options.targets.begin(), options.targets.end(),
                                      [&](const live_target& t) { return t.provider == p.name; });
    if (!targeted) {
      return target_error("", "provider \"" + p.name + "\" has no target: pass --target " + p.name +
                                  "=http://127.0.0.1:PORT");
    }
  }
  if (options.in_flight_max < 1) return config_error{"", "in_flight_max", "must be at least 1"};
  if (!(options.run_s_max > 0)) return config_error{"", "run_s_max", "must be greater than 0"};
  if (options.requests_max < 1) return config_error{"", "requests_max", "must be at least 1"};
  if (options.connections_per_target_max < 1) {
    return config_error{"", "connections_per_target_max", "must be at least 1"};
  }
  return std::nullopt;
}

config_result<configuration_result> run_live_configuration(const scenario& s, std::size_t index, std::uint64_t seed,
                                                           const live_options& options, const progress_fn& progress) {
  if (auto error = check_live_options(s, options)) return *error;
  const configuration& config = s.configurations.at(index);

  http_transport_options transport_options;
  transport_options.squall_headers = true;       // the fake providers key their draws on them
  transport_options.read_content_flaws = true;  // bad content counted as the simulation counts it
  for (const auto& p : s.providers) {
    const auto target = std::find_if(options.targets.begin(), options.targets.end(),
                                     [&](const live_target& t) { return t.provider == p.name; });
    transport_options.endpoints.push_back(
        {p.name, api_kind_from_string(p.api).value_or(api_kind::openai), target->base_url, options.api_key, options.stream});
    for (const auto& [model, price] : p.models) {
      transport_options.prices.push_back({p.name, model, price.usd_per_mtok_in, price.usd_per_mtok_out, price.batch_discount});
    }
  }
  transport_options.default_provider = s.workload.provider;
  transport_options.connections_max = options.connections_per_target_max;
  transport_options.idle_max = options.connections_per_target_max;
  // Every request in flight may wait for a connection; more cannot exist.
  transport_options.waiting_max = std::max<std::uint32_t>(options.in_flight_max, 1) * 2;
  transport_options.loopback_only = !options.allow_remote;

  configuration_result result;
  result.name = config.name;
  result.policy_source = config.source;
  result.policy_name = config.pipeline.name;
  result.warnings = config.pipeline.warnings;
  result.metrics = std::make_unique<run_metrics>();
  for (const auto& p : s.providers) result.providers.push_back(provider_summary{p.name});
  run_metrics& metrics = *result.metrics;

  // Declared in the order they must outlive one another: the io_context outlives the runtime, the
  // runtime the transport, the transport the pipeline, the pipeline the driver.
  boost::asio::io_context io;
  asio_runtime rt(io);
  auto transport = http_transport::create(rt, std::move(transport_options));
  if (!transport) {
    const config_error& e = transport.error();
    const std::size_t open = e.path.find('(');
    const std::string provider = open == std::string::npos ? std::string{} : e.path.substr(open + 1, e.path.size() - open - 2);
    return target_error(provider, e.message);
  }
  std::unique_ptr<traces::tracing_handler> tracer;
  if (options.trace) {
    tracer = std::make_unique<traces::tracing_handler>(rt, *transport.value(), *options.trace,
                                                       trace_options_for(s, options.stream));
  }
  attempt_meter meter(tracer ? static_cast<handler&>(*tracer) : *transport.value(), metrics, rt,
                      trace_options_for(s, options.stream).default_provider);
  fleet chain(config.pipeline, config.fleet, rt, metrics, stream_seed(seed, "policies"),
              stream_seed(seed, "fleet/spread"), meter);
  const live_drive drive = drive_live_workload(s, seed, options, rt, chain, metrics, progress, tracer.get());
  result.simulated_s = drive.elapsed_s;
  result.events = drive.events;
  result.incomplete = drive.incomplete;
  result.incomplete_reason = drive.incomplete_reason;
  result.fleet = fleet_document(chain);
  return result;
}

live_drive drive_live_workload(const scenario& s, std::uint64_t seed, const live_options& options, asio_runtime& rt,
                               handler& chain, run_metrics& metrics, const progress_fn& progress,
                               traces::tracing_handler* tracer) {
  live_driver driver(s, seed, options, rt, chain, metrics);
  driver.set_tracer(tracer);
  driver.set_progress(&progress);
  driver.start();
  rt.io().run();
  return {driver.incomplete(), driver.incomplete_reason(), to_s(rt.now()), rt.fired()};
}

}  // namespace squall::sim
