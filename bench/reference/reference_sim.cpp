// A reference model for the simulation benchmark (issue 19): the load of bench/sim_throughput_bench.cpp's
// BM_RetryTimeoutBreaker, hand-written as one plain event-queue simulation with no squall code, so that
// squall's speed can be stated as a ratio to what a competent direct implementation of the same model
// reaches on the same machine in the same run.
//
// The model, with the benchmark's parameters (bench/README.md, "Against a reference model"):
//   - Poisson arrivals at --rate requests/s for --duration-s simulated seconds, then a drain of at most
//     60 s until every request has its answer (as squall's runs end);
//   - each request: output tokens lognormal (median 100, sigma 0.5, capped at 1000);
//   - an overall timeout of 30 s, around a retry of at most 3 attempts on 503 or a per-attempt timeout,
//     exponential backoff from 100 ms (x2, capped at 30 s) with full jitter (uniform in [0, d]), no retry
//     whose wait would reach the overall deadline;
//   - a circuit breaker counting every attempt (time window of 10 one-second buckets, at least 50 calls,
//     opens at a 50% failure rate or 100% of calls slower than 60 s, open 60 s, 10 half-open probes), and
//     inside it a per-attempt timeout of 5 s, started with each attempt and cancelled by its answer;
//   - the provider: 1% of attempts answered 503 after 30 ms; the rest take one of --slots slots, else wait
//     in a FIFO queue of at most --queue, else are shed with a 503 after 30 ms; service lasts
//     ttft (lognormal, median 300 ms, sigma 0.5) + 5 ms per output token. Work whose client left (a timeout)
//     goes on and holds its slot, as a real server's would.
//
// The engine is the textbook one: a binary heap (std::priority_queue) of timestamped events with a sequence
// number for ties, and lazy cancellation: an event carries the token its request had when it was
// scheduled, and a request's token moves on when the attempt or the request ends, so a cancelled timer
// is skipped when it comes to the top. Randomness is one std::mt19937_64 with the standard distributions.
//
// Usage: squall_reference_sim --rate RPS --duration-s S --seed N [--slots N --queue N --breaker-calls-min N --timeout-queues 0|1 --iterations N]
// Prints one JSON object: requests, seconds (wall, simulation only), requests_per_s, succeeded, attempts,
// and more detail for comparing results with squall's (success rate, attempts per request, latency).
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <deque>
#include <functional>
#include <queue>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "bench/reference/reference_model.hpp"

namespace {

using namespace squall_reference;

struct event {
  ns_t at;
  std::uint64_t seq;  // equal times fire in the order scheduled
  std::uint32_t slot;
  std::uint32_t token;
  event_kind kind;
};

struct later {
  bool operator()(const event& a, const event& b) const noexcept {
    return a.at != b.at ? a.at > b.at : a.seq > b.seq;
  }
};

enum class result_kind : std::uint8_t { ok, overloaded, timeout, circuit_open };

struct request_state {
  ns_t arrived = 0;
  ns_t deadline = 0;
  ns_t attempt_started = 0;
  std::uint32_t output_tokens = 0;
  std::uint32_t attempt = 0;         // attempts started, the running one included
  std::uint32_t attempt_token = 0;   // moves on when an attempt ends: its pending events go stale
  std::uint32_t request_token = 0;   // moves on when the request ends: its overall timeout goes stale
  std::uint64_t breaker_epoch = 0;
  bool in_attempt = false;           // an attempt is at the provider (not waiting out a backoff)
  bool probe = false;
};

struct totals {
  std::uint64_t requests = 0;
  std::uint64_t succeeded = 0;
  std::uint64_t attempts = 0;
  std::uint64_t timeouts = 0;          // requests that failed with a timeout (overall or last attempt's)
  std::uint64_t overloaded = 0;        // requests that failed with a 503 after their last attempt
  std::uint64_t breaker_rejected = 0;
  std::uint64_t unfinished = 0;        // still in flight at the end of the drain
  std::uint64_t events = 0;            // events that did something (stale ones not counted)
  std::uint64_t stale_events = 0;
  std::uint64_t shed = 0;
  ns_t simulated = 0;
  std::vector<std::uint64_t> latency_ms;  // per millisecond, the last bucket catching everything longer
};

class simulation {
 public:
  explicit simulation(const parameters& p)
      : p_(p),
        rng_(p.seed),
        arrival_gap_s_(p.rate_per_s),
        ttft_ms_(std::log(p.ttft_median_ms), p.ttft_sigma),
        output_tokens_(std::log(p.output_tokens_median), p.output_tokens_sigma),
        breaker_(p) {
    totals_.latency_ms.assign(static_cast<std::size_t>(p.overall_timeout_ms) + 2, 0);
  }

  totals run() {
    const ns_t end_of_arrivals = from_s(p_.duration_s);
    const ns_t end_of_run = from_s(p_.duration_s + p_.drain_s);
    next_arrival_ = from_s(arrival_gap_s_(rng_));
    if (next_arrival_ < end_of_arrivals) push(next_arrival_, event_kind::arrival, 0, 0);
    for (;;) {
      // The earliest of the heap's top and the two timeout queues' fronts.
      enum class source : std::uint8_t { none, heap, overall, attempt } from = source::none;
      const event* e = nullptr;
      auto consider = [&](const event* candidate, source s) {
        if (candidate != nullptr && (e == nullptr || later{}(*e, *candidate))) {
          e = candidate;
          from = s;
        }
      };
      consider(heap_.empty() ? nullptr : &heap_.top(), source::heap);
      consider(overall_timeouts_.empty() ? nullptr : &overall_timeouts_.front(), source::overall);
      consider(attempt_timeouts_.empty() ? nullptr : &attempt_timeouts_.front(), source::attempt);
      if (e == nullptr || e->at > end_of_run) break;
      // Arrivals are over and every request has its answer: what is left is stale timers and work
      // nobody waits for.
      if (e->at > end_of_arrivals && in_flight_ == 0) break;
      const event next = *e;
      switch (from) {
        case source::heap: heap_.pop(); break;
        case source::overall: overall_timeouts_.pop_front(); break;
        case source::attempt: attempt_timeouts_.pop_front(); break;
        case source::none: break;
      }
      now_ = next.at;
      dispatch(next, end_of_arrivals);
    }
    totals_.unfinished = in_flight_;
    totals_.simulated = now_;
    return totals_;
  }

 private:
  void push(ns_t at, event_kind kind, std::uint32_t slot, std::uint32_t token) {
    const event e{at, seq_++, slot, token, kind};
    // Timers of one fixed duration are started in time order, so each kind falls due in the order it
    // was started: a FIFO holds them in order at O(1) (libevent's "common timeouts"). Equal times still
    // fire by sequence number, so both ways give the same run, event for event.
    if (p_.timeout_queues && kind == event_kind::overall_timeout) {
      overall_timeouts_.push_back(e);
    } else if (p_.timeout_queues && kind == event_kind::attempt_timeout) {
      attempt_timeouts_.push_back(e);
    } else {
      heap_.push(e);
    }
  }

  void dispatch(const event& e, ns_t end_of_arrivals) {
    switch (e.kind) {
      case event_kind::arrival: {
        ++totals_.events;
        arrive();
        next_arrival_ += from_s(arrival_gap_s_(rng_));
        if (next_arrival_ < end_of_arrivals) push(next_arrival_, event_kind::arrival, 0, 0);
        return;
      }
      case event_kind::service_end: {
        ++totals_.events;
        // The freed slot goes to the head of the queue before the answer is delivered, so that a retry
        // cannot jump the queue.
        --busy_;
        if (!queue_.empty()) {
          const queued q = queue_.front();
          queue_.pop_front();
          start_service(q);
        }
        request_state& r = requests_[e.slot];
        if (r.attempt_token == e.token) attempt_done(e.slot, result_kind::ok);
        return;
      }
      case event_kind::error_answer:
      case event_kind::attempt_timeout: {
        request_state& r = requests_[e.slot];
        if (r.attempt_token != e.token) break;
        ++totals_.events;
        attempt_done(e.slot, e.kind == event_kind::error_answer ? result_kind::overloaded : result_kind::timeout);
        return;
      }
      case event_kind::backoff_end: {
        request_state& r = requests_[e.slot];
        if (r.attempt_token != e.token) break;
        ++totals_.events;
        start_attempt(e.slot);
        return;
      }
      case event_kind::overall_timeout: {
        request_state& r = requests_[e.slot];
        if (r.request_token != e.token) break;
        ++totals_.events;
        // The attempt in flight is abandoned: it reports nothing to the breaker, and the provider's work
        // on it goes on.
        if (r.in_attempt) breaker_.cancelled(r.breaker_epoch, r.probe);
        complete(e.slot, result_kind::timeout);
        return;
      }
      case event_kind::breaker_half_open:
        ++totals_.events;
        breaker_.half_open();
        return;
    }
    ++totals_.stale_events;
  }

  void arrive() {
    std::uint32_t slot;
    if (!free_.empty()) {
      slot = free_.back();
      free_.pop_back();
    } else {
      slot = static_cast<std::uint32_t>(requests_.size());
      requests_.emplace_back();
    }
    request_state& r = requests_[slot];
    ++totals_.requests;
    ++in_flight_;
    r.arrived = now_;
    r.deadline = now_ + from_ms(p_.overall_timeout_ms);
    r.attempt = 0;
    r.output_tokens = static_cast<std::uint32_t>(std::lround(std::min(output_tokens_(rng_), p_.output_tokens_cap)));
    push(r.deadline, event_kind::overall_timeout, slot, r.request_token);
    start_attempt(slot);
  }

  void start_attempt(std::uint32_t slot) {
    request_state& r = requests_[slot];
    ++r.attempt;
    bool probe = false;
    if (!breaker_.admit(probe)) {
      ++totals_.breaker_rejected;
      complete(slot, result_kind::circuit_open);  // not a class the retry retries
      return;
    }
    ++totals_.attempts;
    r.in_attempt = true;
    r.probe = probe;
    r.breaker_epoch = breaker_.epoch();
    r.attempt_started = now_;
    push(now_ + from_ms(p_.attempt_timeout_ms), event_kind::attempt_timeout, slot, r.attempt_token);
    // The provider: an injected 503, else a slot, else the queue, else shed with a 503.
    if (unit_(rng_) < p_.error_503) {
      push(now_ + from_ms(p_.error_latency_ms), event_kind::error_answer, slot, r.attempt_token);
    } else if (busy_ < p_.slots) {
      start_service(queued{slot, r.attempt_token, r.output_tokens});
    } else if (queue_.size() < p_.queue_max) {
      queue_.push_back(queued{slot, r.attempt_token, r.output_tokens});
    } else {
      ++totals_.shed;
      push(now_ + from_ms(p_.error_latency_ms), event_kind::error_answer, slot, r.attempt_token);
    }
  }

  struct queued {
    std::uint32_t slot;
    std::uint32_t token;
    std::uint32_t output_tokens;
  };

  void start_service(const queued& q) {
    ++busy_;
    const double service_ms = ttft_ms_(rng_) + static_cast<double>(q.output_tokens) * p_.ms_per_output_token;
    push(now_ + from_ms(service_ms), event_kind::service_end, q.slot, q.token);
  }

  void attempt_done(std::uint32_t slot, result_kind result) {
    request_state& r = requests_[slot];
    ++r.attempt_token;  // the attempt's other pending event (its timeout or its answer) goes stale
    r.in_attempt = false;
    if (breaker_.record(r.breaker_epoch, r.probe, now_ - r.attempt_started, result != result_kind::ok, now_)) {
      push(now_ + from_ms(p_.breaker_open_ms), event_kind::breaker_half_open, 0, 0);
    }
    if (result == result_kind::ok || r.attempt >= p_.attempts_max) {
      complete(slot, result);
      return;
    }
    const double backoff_ms =
        std::min(p_.backoff_ms_base * std::pow(p_.backoff_multiplier, static_cast<double>(r.attempt - 1)),
                 p_.backoff_ms_max);
    const ns_t delay = from_ms(backoff_ms * unit_(rng_));
    // Waiting past the deadline only to be cut off wastes the wait and hides the real failure.
    if (r.deadline - now_ <= delay) {
      complete(slot, result);
      return;
    }
    push(now_ + delay, event_kind::backoff_end, slot, r.attempt_token);
  }

  void complete(std::uint32_t slot, result_kind result) {
    request_state& r = requests_[slot];
    ++r.attempt_token;
    ++r.request_token;
    r.in_attempt = false;
    --in_flight_;
    switch (result) {
      case result_kind::ok: ++totals_.succeeded; break;
      case result_kind::overloaded: ++totals_.overloaded; break;
      case result_kind::timeout: ++totals_.timeouts; break;
      case result_kind::circuit_open: break;  // counted when rejected
    }
    const auto ms = static_cast<std::size_t>((now_ - r.arrived) / ns_per_ms);
    ++totals_.latency_ms[std::min(ms, totals_.latency_ms.size() - 1)];
    free_.push_back(slot);
  }

  const parameters& p_;
  std::mt19937_64 rng_;
  std::exponential_distribution<double> arrival_gap_s_;
  std::lognormal_distribution<double> ttft_ms_;
  std::lognormal_distribution<double> output_tokens_;
  std::uniform_real_distribution<double> unit_{0.0, 1.0};
  breaker breaker_;

  std::priority_queue<event, std::vector<event>, later> heap_;
  std::deque<event> overall_timeouts_;  // used with --timeout-queues 1
  std::deque<event> attempt_timeouts_;
  std::uint64_t seq_ = 0;
  ns_t now_ = 0;
  ns_t next_arrival_ = 0;

  std::vector<request_state> requests_;  // pooled: a finished request's slot is reused
  std::vector<std::uint32_t> free_;
  std::uint64_t in_flight_ = 0;

  std::uint32_t busy_ = 0;
  std::deque<queued> queue_;

  totals totals_;
};

double quantile_ms(const std::vector<std::uint64_t>& h, double q) {
  std::uint64_t n = 0;
  for (const std::uint64_t c : h) n += c;
  if (n == 0) return 0;
  const auto rank = static_cast<std::uint64_t>(std::ceil(q * static_cast<double>(n)));
  std::uint64_t seen = 0;
  for (std::size_t i = 0; i < h.size(); ++i) {
    seen += h[i];
    if (seen >= rank) return static_cast<double>(i) + 0.5;  // the middle of its millisecond
  }
  return static_cast<double>(h.size());
}

[[noreturn]] void usage(const char* why) {
  std::fprintf(stderr,
               "squall_reference_sim: %s\n"
               "usage: squall_reference_sim --rate RPS --duration-s S --seed N [--slots N] [--queue N] [--breaker-calls-min N] [--timeout-queues 0|1] [--iterations N]\n",
               why);
  std::exit(2);
}

parameters parse(int argc, char** argv) {
  parameters p;
  for (int i = 1; i < argc; ++i) {
    const std::string_view flag = argv[i];
    if (i + 1 >= argc) usage("a flag without its value");
    const char* value = argv[++i];
    char* end = nullptr;
    const double v = std::strtod(value, &end);
    if (end == value || *end != '\0' || !(v >= 0)) usage("a value is not a non-negative number");
    if (flag == "--rate") {
      p.rate_per_s = v;
    } else if (flag == "--duration-s") {
      p.duration_s = v;
    } else if (flag == "--seed") {
      p.seed = static_cast<std::uint64_t>(v);
    } else if (flag == "--slots") {
      p.slots = static_cast<std::uint32_t>(v);
    } else if (flag == "--queue") {
      p.queue_max = static_cast<std::size_t>(v);
    } else if (flag == "--iterations") {
      p.iterations = std::max(1U, static_cast<std::uint32_t>(v));
    } else if (flag == "--timeout-queues") {
      p.timeout_queues = v != 0;
    } else if (flag == "--breaker-calls-min") {
      p.breaker_calls_min = static_cast<std::uint32_t>(v);
    } else {
      usage("unknown flag");
    }
  }
  if (!(p.rate_per_s > 0)) usage("--rate must be positive");
  return p;
}

}  // namespace

int main(int argc, char** argv) {
  const parameters p = parse(argc, argv);
  // Like one Google Benchmark run: the same simulation `iterations` times, timed as a whole, so that a
  // short simulation is measured over as long a stretch of wall time as squall's benchmark is.
  const auto started = std::chrono::steady_clock::now();
  const std::clock_t cpu_started = std::clock();
  totals t;
  for (std::uint32_t i = 0; i < p.iterations; ++i) {
    simulation sim(p);
    const totals one = sim.run();
    if (i == 0) {
      t = one;
      continue;
    }
    t.requests += one.requests;
    t.succeeded += one.succeeded;
    t.attempts += one.attempts;
    t.timeouts += one.timeouts;
    t.overloaded += one.overloaded;
    t.breaker_rejected += one.breaker_rejected;
    t.unfinished += one.unfinished;
    t.events += one.events;
    t.stale_events += one.stale_events;
    t.shed += one.shed;
    for (std::size_t k = 0; k < t.latency_ms.size(); ++k) t.latency_ms[k] += one.latency_ms[k];
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  // CPU time too: on a machine shared with other work, wall time also counts the time others had the core.
  const double cpu_seconds = static_cast<double>(std::clock() - cpu_started) / CLOCKS_PER_SEC;
  const double n = static_cast<double>(t.requests);
  std::printf(
      "{\"model\": \"reference-cpp\", \"rate_per_s\": %g, \"duration_s\": %g, \"seed\": %llu, \"slots\": %u, "
      "\"queue\": %zu, \"breaker_calls_min\": %u, \"timeout_queues\": %d, \"iterations\": %u,\n \"requests\": %llu, \"seconds\": %.6f, \"requests_per_s\": %.1f, \"cpu_seconds\": %.6f, "
      "\"requests_per_cpu_s\": %.1f, \"succeeded\": %llu, "
      "\"attempts\": %llu,\n \"success_rate\": %.6f, \"attempts_per_request\": %.6f, \"timeouts\": %llu, "
      "\"overloaded\": %llu, \"breaker_rejected\": %llu, \"shed\": %llu, \"unfinished\": %llu,\n "
      "\"latency_p50_ms\": %.1f, \"latency_p99_ms\": %.1f, \"events\": %llu, \"stale_events\": %llu, "
      "\"simulated_s\": %.3f}\n",
      p.rate_per_s, p.duration_s, static_cast<unsigned long long>(p.seed), p.slots, p.queue_max, p.breaker_calls_min, p.timeout_queues ? 1 : 0, p.iterations,
      static_cast<unsigned long long>(t.requests), seconds, n / seconds, cpu_seconds, n / cpu_seconds,
      static_cast<unsigned long long>(t.succeeded),
      static_cast<unsigned long long>(t.attempts), n > 0 ? static_cast<double>(t.succeeded) / n : 0.0,
      n > 0 ? static_cast<double>(t.attempts) / n : 0.0, static_cast<unsigned long long>(t.timeouts),
      static_cast<unsigned long long>(t.overloaded), static_cast<unsigned long long>(t.breaker_rejected),
      static_cast<unsigned long long>(t.shed), static_cast<unsigned long long>(t.unfinished),
      quantile_ms(t.latency_ms, 0.50), quantile_ms(t.latency_ms, 0.99), static_cast<unsigned long long>(t.events),
      static_cast<unsigned long long>(t.stale_events), static_cast<double>(t.simulated) / 1e9);
  return 0;
}
