#include "cli/run_command.hpp"

#include <cstdio>
#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

#include "cli/exit_codes.hpp"
#include "cli/output_files.hpp"
#include "reports/results.hpp"
#include "sim/run/simulation.hpp"
#include "sim/run/summary.hpp"
#include "sim/scenario/scenario.hpp"
#include "squall_version.hpp"

namespace fs = std::filesystem;

namespace squall::cli {

namespace {
constexpr std::uint64_t default_seed = 1;
}  // namespace

int run_command(const run_options& options, const terminal& term) {
  const std::string& scenario_path = options.scenario_path;
  std::string out_dir = options.out_dir;
  auto loaded = sim::load_scenario(scenario_path);
  if (!loaded) {
    std::cerr << "squall: error: " << loaded.error().describe() << "\n";
    return exit_bad_input;
  }
  const sim::scenario& s = *loaded;
  const std::uint64_t seed = options.seed.value_or(s.seed.value_or(default_seed));
  if (out_dir.empty()) out_dir = "squall-out/" + s.name;
  const std::string reproduce = "squall run " + shell_quote(scenario_path) + " --seed " + std::to_string(seed);

  if (!term.quiet) {
    std::cout << "squall " << squall_version << " | scenario " << s.name << " (sha256:" << s.digest.substr(0, 12)
              << ") | seed " << seed << " | " << s.configurations.size() << " configurations | "
              << s.duration_s << " s simulated\n";
    for (const auto& c : s.configurations) {
      for (const auto& w : c.pipeline.warnings) std::cout << "warning: " << c.name << ": " << w << "\n";
    }
    std::cout.flush();  // progress lines go to stderr; keep the two in order in a CI log
  }

  std::vector<sim::configuration_result> results;
  std::vector<sim::summary> summaries;
  for (std::size_t i = 0; i < s.configurations.size(); ++i) {
    const auto& name = s.configurations[i].name;
    progress_display progress(term, name);
    results.push_back(sim::run_configuration(s, i, seed, [&](double fraction) { progress.update(fraction); }));
    summaries.push_back(sim::summarize(results.back()));
    progress.finish();
    if (!term.quiet) {
      std::printf("  ran %-20s %10.0f requests in %.2f s\n", name.c_str(),
                  sim::summary_value(summaries.back(), "requests"), progress.elapsed_s());
      std::fflush(stdout);
    }
  }
  const auto verdicts = sim::check_assertions(s, results, summaries);
  const json doc = reports::results_document({s, seed, "sim", reproduce, results, summaries, verdicts});

  std::error_code ec;
  fs::create_directories(out_dir, ec);
  if (ec) {
    std::cerr << "squall: error: cannot create output directory " << out_dir << ": " << ec.message() << "\n";
    return exit_io_error;
  }
  std::string error;
  if (!write_atomically(fs::path(out_dir) / "results.json", doc.dump(2) + "\n", error)) {
    std::cerr << "squall: error: " << error << "\n";
    return exit_io_error;
  }

  bool failed = false;
  if (!term.quiet) std::cout << "\n" << reports::summary_table(doc, term.color);
  if (!verdicts.empty() && !term.quiet) std::cout << "\nassertions:\n";
  for (const auto& v : verdicts) {
    failed = failed || !v.passed;
    if (term.quiet && v.passed) continue;
    char line[256];
    std::snprintf(line, sizeof line, "  %s  %s: %s = %g, %s %g\n", v.passed ? "pass" : "FAIL",
                  v.bound.configuration.c_str(), v.bound.metric.c_str(), v.measured,
                  v.bound.is_min ? "must be >=" : "must be <=", v.bound.bound);
    (v.passed ? std::cout : std::cerr) << line;
  }
  if (!term.quiet) {
    std::cout << "\nresults: " << (fs::path(out_dir) / "results.json").string() << "\n";
    std::cout << "reproduce: " << reproduce << "\n";
  }
  if (failed) {
    std::cerr << "squall: " << "assertions failed (seed " << seed << "); reproduce: " << reproduce << "\n";
    return exit_assertions_failed;
  }
  return exit_ok;
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
