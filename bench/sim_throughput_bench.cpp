// Simulated requests per second through a policy pipeline, on one core. The workload is the
// foundation's reference: Poisson arrivals at 1,000/s to one provider with a 1% baseline of 503s, so
// retries, timeouts and the breaker all do real work. BM_RetryTimeoutBreaker100k offers the same
// pipeline 100,000/s with the provider's capacity scaled by as much (issue 19); bench/reference/ holds
// the same model written directly in C++ and in SimPy, to which bench/reference/run.sh compares these.
#include <benchmark/benchmark.h>

#include <string>

#include "sim/run/simulation.hpp"
#include "sim/run/summary.hpp"
#include "sim/scenario/scenario.hpp"

namespace {

using namespace squall;

// The offered load and the provider's capacity: the benchmark's reference at 1,000 requests/s, and the
// same scaled a hundredfold.
struct load {
  double duration_s;
  double rate_per_s;
  int slots;
  int queue;
  int in_flight_max;  // the load generator's own limit (10,000 by default)
};
constexpr load load_1k{60, 1000, 2000, 2000, 10000};
// 10 simulated seconds (a million requests, about a second of work an iteration), with room for 200,000
// attempts in service and as many queued, so that the provider (about 90,000 busy at this rate) is never
// the bottleneck, nor the load generator's in-flight limit (at the default 10,000 it would shed 89% of
// the arrivals).
constexpr load load_100k{10, 100000, 200000, 200000, 1000000};

std::string number(double v) { return json(v).dump(); }

sim::scenario make_scenario(const load& l, const std::string& policies, bool with_cache_keys) {
  const std::string text = R"({
    "name": "bench", "duration_s": )" + number(l.duration_s) + R"(,
    "providers": { "openai": {
      "models": { "gpt-4o-mini": { "usd_per_mtok_in": 0.15, "usd_per_mtok_out": 0.6 } },
      "latency": { "ttft_ms": { "dist": "lognormal", "median": 300, "sigma": 0.5 }, "ms_per_output_token": 5 },
      "capacity": { "slots": )" + std::to_string(l.slots) + R"(, "queue": )" + std::to_string(l.queue) + R"( },
      "errors": { "503": 0.01 } } },
    "workload": { "arrivals": { "process": "poisson", "rate_per_s": )" + number(l.rate_per_s) + R"( },
                  "in_flight_max": )" + std::to_string(l.in_flight_max) + R"(, )" +
                  std::string(with_cache_keys ? R"("cache_keys": { "count": 1000000, "zipf_s": 0.6 },)" : "") + R"(
                  "output_tokens": { "dist": "lognormal", "median": 100, "sigma": 0.5, "cap": 1000 } },
    "policies": { "c": { "policies": )" + policies + R"( } } })";
  auto s = sim::parse_scenario(json::parse(text), ".");
  if (!s) throw std::runtime_error(s.error().describe());
  return std::move(*s);
}

// The breaker judges once it holds calls_min calls. 50 at 1,000 requests/s; at 100,000/s the same 50 would
// be the first 50 answers of the run, all of them 503s (an error answers in 30 ms, a success takes 300 ms
// or more), and the breaker would open in the first 80 ms and reject the rest of the run. Scaled with the
// rate (5,000), it judges the same share of a second's traffic as at 1,000/s.
std::string retry_timeout_breaker(const load& l) {
  return R"([
  { "type": "timeout", "timeout_ms": 30000 },
  { "type": "retry", "attempts_max": 3, "delay_ms_base": 100 },
  { "type": "circuit_breaker", "window": "time", "window_size": 10, "calls_min": )" +
         std::to_string(static_cast<int>(50 * l.rate_per_s / 1000)) + R"( },
  { "type": "timeout", "timeout_ms": 5000 } ])";
}

// Seven policies from the catalogue, in the recommended order. Cache keys are spread thinly (a million
// keys, Zipf 0.6) so that most requests miss and really travel the whole pipeline.
const char* seven_policies = R"([
  { "type": "cache", "entries_max": 100000 },
  { "type": "fallback", "endpoints": [ { "model": "gpt-4o-mini" } ] },
  { "type": "timeout", "timeout_ms": 30000 },
  { "type": "retry", "attempts_max": 3, "delay_ms_base": 100,
    "budget": { "kind": "token_bucket", "tokens_max": 100, "token_ratio": 0.1 } },
  { "type": "rate_limiter", "rpm": 600000, "burst_s": 10 },
  { "type": "circuit_breaker", "window": "time", "window_size": 10, "calls_min": 50 },
  { "type": "timeout", "timeout_ms": 5000 } ])";

// The success rate and attempts per request are reported beside the speed so that bench/reference/run.sh
// can check that the reference models compute the same results, not only how fast.
void run(benchmark::State& state, const load& l, const std::string& policies, bool with_cache_keys = false) {
  const sim::scenario s = make_scenario(l, policies, with_cache_keys);
  double requests = 0;
  double events = 0;
  double hits = 0;
  double succeeded = 0;
  double attempts = 0;
  for (auto _ : state) {
    const auto r = sim::run_configuration(s, 0, 1);
    requests += static_cast<double>(r.metrics->offered());
    events += static_cast<double>(r.events);
    hits += static_cast<double>(r.metrics->total(policy_event_kind::cache_hit));
    succeeded += static_cast<double>(r.metrics->succeeded());
    attempts += static_cast<double>(r.metrics->attempts());
    benchmark::DoNotOptimize(r.metrics->succeeded());
  }
  state.counters["requests_per_s"] = benchmark::Counter(requests, benchmark::Counter::kIsRate);
  state.counters["events_per_s"] = benchmark::Counter(events, benchmark::Counter::kIsRate);
  state.counters["cache_hit_ratio"] = requests > 0 ? hits / requests : 0.0;
  state.counters["success_rate"] = requests > 0 ? succeeded / requests : 0.0;
  state.counters["attempts_per_request"] = requests > 0 ? attempts / requests : 0.0;
}

void BM_NoPolicies(benchmark::State& state) { run(state, load_1k, "[]"); }
void BM_RetryTimeoutBreaker(benchmark::State& state) { run(state, load_1k, retry_timeout_breaker(load_1k)); }
void BM_RetryTimeoutBreaker100k(benchmark::State& state) {
  run(state, load_100k, retry_timeout_breaker(load_100k));
}
void BM_SevenPolicies(benchmark::State& state) { run(state, load_1k, seven_policies, true); }

BENCHMARK(BM_NoPolicies)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_RetryTimeoutBreaker)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_RetryTimeoutBreaker100k)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_SevenPolicies)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
