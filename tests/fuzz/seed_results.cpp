// Writes results documents to seed the results target: the tree holds no results.json (the tests make
// theirs by running a simulation), so this runs the scenarios named on the command line, each cut to a
// short run, and writes what `squall run` would write, plus one aggregate of two seeds (the multi-seed
// shape that compare_results reads differently). It also seeds the sweep_shard target: the shard files of a
// small sweep of scenarios/quickstart.json, into SHARD_DIR. Run by scripts/fuzz.sh; not a fuzz target.
//
//   fuzz_seed_results OUT_DIR SHARD_DIR SCENARIO...

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "reports/aggregate.hpp"
#include "reports/results.hpp"
#include "sim/run/simulation.hpp"
#include "sim/run/summary.hpp"
#include "sim/scenario/scenario.hpp"
#include "sweeps/sweep_runner.hpp"

namespace {

squall::json run(const squall::sim::scenario& s, std::uint64_t seed) {
  std::vector<squall::sim::configuration_result> results;
  std::vector<squall::sim::summary> summaries;
  for (std::size_t i = 0; i < s.configurations.size(); ++i) {
    results.push_back(squall::sim::run_configuration(s, i, seed));
    summaries.push_back(squall::sim::summarize(results.back()));
  }
  const auto verdicts = squall::sim::check_assertions(s, results, summaries);
  const std::string reproduce = "squall run " + s.file + " --seed " + std::to_string(seed);
  return squall::reports::results_document({s, seed, "sim", reproduce, results, summaries, verdicts});
}

bool write(const std::filesystem::path& file, const squall::json& document) {
  std::ofstream out(file, std::ios::binary);
  out << document.dump(1);
  return static_cast<bool>(out);
}

// The quickstart's retry-backoff over two values of attempts_max on two seeds (six runs of 20 s), as one
// shard and as the two of a split.
bool write_shards(const std::filesystem::path& out_dir, const std::string& quickstart) {
  using namespace squall;
  sim::scenario_inputs inputs;
  inputs.sets.push_back(documents::parse_set_override("duration_s=20").value());
  inputs.sets.push_back(documents::parse_set_override("interval_s=5").value());
  auto base = sim::load_scenario(quickstart, inputs);
  if (!base) return false;
  sweeps::sweep_request request;
  request.parameters.push_back(sweeps::parse_parameter("retry.attempts_max=1,3").value());
  request.configurations = {"retry-backoff"};
  request.seeds = 2;
  auto plan = sweeps::plan_sweep(*base, request);
  if (!plan) return false;
  sweeps::sweep_definition definition;
  definition.scenario_name = base->name;
  definition.constraints.push_back(sweeps::parse_constraint("cost_usd<=1.1x").value());
  const json plan_doc = sweeps::plan_json(*plan, definition);
  const auto units = sweeps::run_units(quickstart, inputs, *plan, {});
  std::filesystem::create_directories(out_dir);
  bool ok = write(out_dir / "shard-0-of-1.json", sweeps::shard_document(plan_doc, {0, 1}, units, ""));
  for (std::uint32_t i = 0; i < 2; ++i) {
    ok = ok && write(out_dir / ("shard-" + std::to_string(i) + "-of-2.json"), sweeps::shard_document(plan_doc, {i, 2}, units, ""));
  }
  return ok;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: fuzz_seed_results OUT_DIR SHARD_DIR SCENARIO...\n");
    return 2;
  }
  const std::filesystem::path out_dir = argv[1];
  std::filesystem::create_directories(out_dir);
  if (!write_shards(argv[2], argv[3])) {
    std::fprintf(stderr, "the sweep of %s for the shard seeds did not run\n", argv[3]);
    return 2;
  }
  for (int i = 3; i < argc; ++i) {
    auto s = squall::sim::load_scenario(argv[i]);
    if (!s) {
      std::fprintf(stderr, "%s\n", s.error().describe().c_str());
      return 2;
    }
    // Short runs with few intervals: seeds of a few kilobytes, which libFuzzer mutates far faster.
    s->duration_s = std::min(s->duration_s, 20.0);
    s->drain_s = std::min(s->drain_s, 10.0);
    s->interval_s = 5;
    const std::uint64_t seed = s->seed.value_or(1);
    const squall::json first = run(*s, seed);
    const std::string stem = std::filesystem::path(argv[i]).stem().string();
    if (!write(out_dir / (stem + ".json"), first)) return 3;
    if (i == 3) {
      auto aggregate = squall::reports::aggregate_seeds({first, run(*s, seed + 1)});
      if (!aggregate) {
        std::fprintf(stderr, "%s\n", aggregate.error().describe().c_str());
        return 2;
      }
      if (!write(out_dir / (stem + "-2-seeds.json"), *aggregate)) return 3;
    }
  }
  return 0;
}
