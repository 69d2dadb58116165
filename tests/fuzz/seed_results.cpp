// Writes results documents to seed the results target: the tree holds no results.json (the tests make
// theirs by running a simulation), so this runs the scenarios named on the command line, each cut to a
// short run, and writes what `squall run` would write, plus one aggregate of two seeds (the multi-seed
// shape that compare_results reads differently). Run by scripts/fuzz.sh; not a fuzz target.
//
//   fuzz_seed_results OUT_DIR SCENARIO...

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

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: fuzz_seed_results OUT_DIR SCENARIO...\n");
    return 2;
  }
  const std::filesystem::path out_dir = argv[1];
  std::filesystem::create_directories(out_dir);
  for (int i = 2; i < argc; ++i) {
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
    if (i == 2) {
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
