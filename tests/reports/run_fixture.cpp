#include "tests/reports/run_fixture.hpp"

#include <stdexcept>
#include <vector>

#include "reports/results.hpp"
#include "sim/run/simulation.hpp"
#include "sim/run/summary.hpp"
#include "sim/scenario/scenario.hpp"

namespace squall::reports::testing {

json run_document(const json& scenario, std::uint64_t seed, const std::string& file) {
  auto parsed = sim::parse_scenario(scenario, ".");
  if (!parsed) throw std::runtime_error(parsed.error().describe());
  const sim::scenario& s = *parsed;
  std::vector<sim::configuration_result> results;
  std::vector<sim::summary> summaries;
  for (std::size_t i = 0; i < s.configurations.size(); ++i) {
    results.push_back(sim::run_configuration(s, i, seed));
    summaries.push_back(sim::summarize(results.back()));
  }
  const auto verdicts = sim::check_assertions(s, results, summaries);
  const std::string reproduce = "squall run " + file + " --seed " + std::to_string(seed);
  // Through text and back, as a reader of results.json would see it.
  return json::parse(results_document({s, seed, "sim", reproduce, results, summaries, verdicts}).dump(2));
}

json run_scenario(std::uint64_t seed, double fault_rate, bool with_assertions) {
  json text = json::parse(R"({
    "name": "writers-test", "duration_s": 60, "drain_s": 30, "interval_s": 5,
    "providers": { "p": { "models": { "m": { "usd_per_mtok_in": 1, "usd_per_mtok_out": 2 } },
                          "latency": { "ttft_ms": { "dist": "exponential", "mean": 200 }, "ms_per_output_token": 1 },
                          "capacity": { "slots": 1000, "queue": 1000 },
                          "faults": [ { "at_s": 20, "for_s": 20, "errors": { "503": 0.5 } } ] } },
    "workload": { "arrivals": { "process": "poisson", "rate_per_s": 20 }, "output_tokens": 100 },
    "policies": { "plain": { "policies": [] },
                  "retry": { "policies": [ { "type": "retry", "attempts_max": 3, "delay_ms_base": 100, "jitter": "full" } ] } },
    "assert": { "retry": { "success_rate_min": 0.9 },
                "plain": { "success_rate_min": 0.99, "latency_p99_ms_max": 100000 } }
  })");
  text["providers"]["p"]["faults"][0]["errors"]["503"] = fault_rate;
  text["policies"][odd_name] = json::parse(R"({ "policies": [] })");
  if (!with_assertions) text.erase("assert");
  return run_document(text, seed, "writers-test.json");
}

json run_fallback_scenario(std::uint64_t seed) {
  json text = json::parse(R"({
    "name": "fallback-test", "duration_s": 60, "drain_s": 30, "interval_s": 5,
    "providers": {
      "primary": { "models": { "m1": { "usd_per_mtok_in": 1, "usd_per_mtok_out": 2 } },
                   "latency": { "ttft_ms": { "dist": "exponential", "mean": 200 }, "ms_per_output_token": 1 },
                   "capacity": { "slots": 1000, "queue": 1000 },
                   "faults": [ { "at_s": 20, "for_s": 20, "errors": { "503": 1.0 } } ] },
      "backup": { "models": { "MODEL": { "usd_per_mtok_in": 3, "usd_per_mtok_out": 6 } },
                  "latency": { "ttft_ms": { "dist": "exponential", "mean": 300 }, "ms_per_output_token": 1 },
                  "capacity": { "slots": 1000, "queue": 1000 } } },
    "workload": { "arrivals": { "process": "poisson", "rate_per_s": 20 }, "output_tokens": 100,
                  "provider": "primary", "model": "m1" },
    "policies": { "plain": { "policies": [] },
                  "fallback": { "policies": [ { "type": "fallback", "endpoints": [
                      { "provider": "primary", "model": "m1" }, { "provider": "backup", "model": "MODEL" } ] } ] } }
  })");
  auto& models = text["providers"]["backup"]["models"];
  models[script_model] = models["MODEL"];
  models.erase("MODEL");
  text["policies"]["fallback"]["policies"][0]["endpoints"][1]["model"] = script_model;
  return run_document(text, seed, "fallback-test.json");
}

}  // namespace squall::reports::testing
