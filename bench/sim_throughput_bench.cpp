// Simulated requests per second through a policy pipeline, on one core. The workload is the
// foundation's reference: Poisson arrivals at 1,000/s to one provider with a 1% baseline of 503s, so
// retries, timeouts and the breaker all do real work.
#include <benchmark/benchmark.h>

#include <string>

#include "sim/run/simulation.hpp"
#include "sim/run/summary.hpp"
#include "sim/scenario/scenario.hpp"

namespace {

using namespace squall;

sim::scenario make_scenario(double duration_s, const std::string& policies, bool with_cache_keys) {
  const std::string text = R"({
    "name": "bench", "duration_s": )" + std::to_string(duration_s) + R"(,
    "providers": { "openai": {
      "models": { "gpt-4o-mini": { "usd_per_mtok_in": 0.15, "usd_per_mtok_out": 0.6 } },
      "latency": { "ttft_ms": { "dist": "lognormal", "median": 300, "sigma": 0.5 }, "ms_per_output_token": 5 },
      "capacity": { "slots": 2000, "queue": 2000 },
      "errors": { "503": 0.01 } } },
    "workload": { "arrivals": { "process": "poisson", "rate_per_s": 1000 }, )" +
                  std::string(with_cache_keys ? R"("cache_keys": { "count": 1000000, "zipf_s": 0.6 },)" : "") + R"(
                  "output_tokens": { "dist": "lognormal", "median": 100, "sigma": 0.5, "cap": 1000 } },
    "policies": { "c": { "policies": )" + policies + R"( } } })";
  auto s = sim::parse_scenario(json::parse(text), ".");
  if (!s) throw std::runtime_error(s.error().describe());
  return std::move(*s);
}

const char* retry_timeout_breaker = R"([
  { "type": "timeout", "timeout_ms": 30000 },
  { "type": "retry", "attempts_max": 3, "delay_ms_base": 100 },
  { "type": "circuit_breaker", "window": "time", "window_size": 10, "calls_min": 50 },
  { "type": "timeout", "timeout_ms": 5000 } ])";

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

void run(benchmark::State& state, const std::string& policies, bool with_cache_keys = false) {
  const sim::scenario s = make_scenario(60, policies, with_cache_keys);
  double requests = 0;
  double events = 0;
  double hits = 0;
  for (auto _ : state) {
    const auto r = sim::run_configuration(s, 0, 1);
    requests += static_cast<double>(r.metrics->offered());
    events += static_cast<double>(r.events);
    hits += static_cast<double>(r.metrics->total(policy_event_kind::cache_hit));
    benchmark::DoNotOptimize(r.metrics->succeeded());
  }
  state.counters["requests_per_s"] = benchmark::Counter(requests, benchmark::Counter::kIsRate);
  state.counters["events_per_s"] = benchmark::Counter(events, benchmark::Counter::kIsRate);
  state.counters["cache_hit_ratio"] = requests > 0 ? hits / requests : 0.0;
}

void BM_NoPolicies(benchmark::State& state) { run(state, "[]"); }
void BM_RetryTimeoutBreaker(benchmark::State& state) { run(state, retry_timeout_breaker); }
void BM_SevenPolicies(benchmark::State& state) { run(state, seven_policies, true); }

BENCHMARK(BM_NoPolicies)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_RetryTimeoutBreaker)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_SevenPolicies)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
