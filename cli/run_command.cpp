#include "cli/run_command.hpp"

#include <cstdio>
#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

#include "cli/exit_codes.hpp"
#include "cli/output_files.hpp"
#include "cli/run_outputs.hpp"
#include "reports/aggregate.hpp"
#include "reports/compare.hpp"
#include "reports/results_input.hpp"
#include "policies/pipeline/pipeline.hpp"
#include "reports/results.hpp"
#include "sim/run/simulation.hpp"
#include "sim/run/summary.hpp"
#include "sim/scenario/scenario.hpp"
#include "squall_version.hpp"

namespace fs = std::filesystem;

namespace squall::cli {

namespace {

constexpr std::uint64_t default_seed = 1;


// One pass over every configuration with one seed: the results document of that seed.
json run_once(const sim::scenario& s, std::uint64_t seed, const std::string& reproduce, const terminal& term,
              const std::string& label_suffix) {
  std::vector<sim::configuration_result> results;
  std::vector<sim::summary> summaries;
  for (std::size_t i = 0; i < s.configurations.size(); ++i) {
    const auto& name = s.configurations[i].name;
    progress_display progress(term, name + label_suffix);
    results.push_back(sim::run_configuration(s, i, seed, [&](double fraction) { progress.update(fraction); }));
    summaries.push_back(sim::summarize(results.back()));
    progress.finish();
    if (!term.quiet) {
      std::printf("  ran %-20s %10.0f requests in %.2f s%s\n", name.c_str(),
                  sim::summary_value(summaries.back(), "requests"), progress.elapsed_s(), label_suffix.c_str());
      std::fflush(stdout);
    }
  }
  const auto verdicts = sim::check_assertions(s, results, summaries);
  return reports::results_document({s, seed, "sim", reproduce, results, summaries, verdicts});
}

// Prints where the outputs went and the verdict; returns the exit code.
int finish_run(const json& doc, const std::string& out_dir, const std::string& reproduce, const terminal& term) {
  std::string error;
  if (!write_run_outputs(out_dir, doc, error)) {
    std::cerr << "squall: error: " << error << "\n";
    return exit_io_error;
  }
  if (!term.quiet) std::cout << "\n" << reports::summary_table(doc, term.color);
  const bool passed = print_assertions(doc, term);
  if (!term.quiet) {
    std::cout << "\nreport:  " << (fs::path(out_dir) / "report.html").string() << "\n";
    std::cout << "results: " << out_dir << "/{results.json,summary.md,junit.xml,timeseries.csv}\n";
    std::cout << "reproduce: " << reproduce << "\n";
  }
  if (!passed) {
    std::cerr << "squall: assertions failed; reproduce: " << reproduce << "\n";
    return exit_assertions_failed;
  }
  return exit_ok;
}

}  // namespace

int run_command(const run_options& options, const terminal& term) {
  auto loaded = sim::load_scenario(options.scenario_path);
  if (!loaded) {
    std::cerr << "squall: error: " << loaded.error().describe() << "\n";
    return exit_bad_input;
  }
  const sim::scenario& s = *loaded;
  const std::uint64_t seed = options.seed.value_or(s.seed.value_or(default_seed));
  const std::string out_dir = options.out_dir.empty() ? "squall-out/" + s.name : options.out_dir;
  std::string reproduce = "squall run " + shell_quote(options.scenario_path) + " --seed " + std::to_string(seed);
  if (options.seeds > 1) reproduce += " --seeds " + std::to_string(options.seeds);

  if (!term.quiet) {
    std::cout << "squall " << squall_version << " | scenario " << s.name << " (sha256:" << s.digest.substr(0, 12)
              << ") | seed " << seed;
    if (options.seeds > 1) std::cout << " to " << seed + options.seeds - 1;
    std::cout << " | " << s.configurations.size() << " configurations | " << s.duration_s << " s simulated\n";
    for (const auto& c : s.configurations) {
      for (const auto& w : c.pipeline.warnings) std::cout << "warning: " << c.name << ": " << w << "\n";
    }
    std::cout.flush();  // progress lines go to stderr; keep the two in order in a CI log
  }

  if (options.seeds <= 1) return finish_run(run_once(s, seed, reproduce, term, ""), out_dir, reproduce, term);

  // Several seeds: seeds seed, seed+1, ... so that any one of them can be rerun alone with --seed.
  std::vector<json> runs;
  for (std::uint32_t k = 0; k < options.seeds; ++k) {
    const std::uint64_t run_seed = seed + k;
    runs.push_back(run_once(s, run_seed, reproduce, term, " (seed " + std::to_string(run_seed) + ")"));
  }
  auto aggregated = reports::aggregate_seeds(runs);
  if (!aggregated) {  // cannot happen for runs of one scenario; say so rather than write a wrong file
    std::cerr << "squall: internal error: " << aggregated.error().describe() << "\n";
    return exit_io_error;
  }
  (*aggregated)["reproduce"] = reproduce;
  return finish_run(*aggregated, out_dir, reproduce, term);
}

int compare_command(const compare_options& options, const terminal& term) {
  auto base = reports::load_results(options.base_path);
  if (!base) {
    std::cerr << "squall: error: " << base.error().describe() << "\n";
    return exit_bad_input;
  }
  auto candidate = reports::load_results(options.candidate_path);
  if (!candidate) {
    std::cerr << "squall: error: " << candidate.error().describe() << "\n";
    return exit_bad_input;
  }
  reports::compare_tolerances tolerances;
  if (!options.tolerances_path.empty()) {
    auto text = read_json_file(options.tolerances_path);
    if (!text) {
      std::cerr << "squall: error: " << text.error().describe() << "\n";
      return exit_bad_input;
    }
    auto parsed = reports::parse_tolerances(*text, options.tolerances_path);
    if (!parsed) {
      std::cerr << "squall: error: " << parsed.error().describe() << "\n";
      return exit_bad_input;
    }
    tolerances = *parsed;
  }
  auto compared = reports::compare_results(*base, *candidate, tolerances);
  if (!compared) {
    std::cerr << "squall: error: " << compared.error().describe() << "\n";
    return exit_bad_input;
  }
  std::string reproduce = "squall compare " + shell_quote(options.base_path) + " " + shell_quote(options.candidate_path);
  if (!options.tolerances_path.empty()) reproduce += " --tolerances " + shell_quote(options.tolerances_path);
  compared->merged["reproduce"] = reproduce;
  const std::string out_dir = options.out_dir.empty() ? "squall-out/compare" : options.out_dir;
  if (!term.quiet) std::cout << compared->verdict_text();
  return finish_run(compared->merged, out_dir, reproduce, term);
}

int validate_command(const std::vector<std::string>& files) {
  int status = exit_ok;
  for (const auto& f : files) {
    auto loaded = sim::load_scenario(f);
    if (!loaded) {
      std::cerr << "squall: error: " << loaded.error().describe() << "\n";
      status = exit_bad_input;
      continue;
    }
    std::cout << f << ": ok (" << loaded->configurations.size() << " configurations, sha256:"
              << loaded->digest.substr(0, 12) << ")\n";
    for (const auto& c : loaded->configurations) {
      for (const auto& w : c.pipeline.warnings) std::cout << "  warning: " << c.name << ": " << w << "\n";
    }
  }
  return status;
}

}  // namespace squall::cli
