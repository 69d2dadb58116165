// squall: the command line. It ties the parts together and owns the user-facing contract:
//   exit 0  the run finished and every assertion held
//   exit 1  the run finished and at least one assertion failed
//   exit 2  bad input: scenario, policy file or command-line flag (nothing is written)
//   exit 3  the run could not write its outputs
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include "policies/pipeline/registry.hpp"
#include "reports/results.hpp"
#include "sim/run/simulation.hpp"
#include "sim/run/summary.hpp"
#include "sim/scenario/scenario.hpp"
#include "squall_version.hpp"

namespace fs = std::filesystem;
using namespace squall;

namespace {

constexpr int exit_ok = 0;
constexpr int exit_assertions_failed = 1;
constexpr int exit_bad_input = 2;
constexpr int exit_io_error = 3;

constexpr std::uint64_t default_seed = 1;

struct terminal {
  bool quiet = false;
  bool color = false;
  bool progress = false;  // a live progress line on stderr (terminals only; CI gets plain lines)
};

terminal detect_terminal(bool quiet, bool no_color) {
  terminal t;
  t.quiet = quiet;
  const bool tty_out = isatty(STDOUT_FILENO) != 0;
  const bool tty_err = isatty(STDERR_FILENO) != 0;
  const char* no_color_env = std::getenv("NO_COLOR");
  t.color = tty_out && !no_color && !(no_color_env && *no_color_env);
  t.progress = tty_err && !quiet;
  return t;
}

// Writes `text` to `file` through a temporary file and a rename, so a reader never sees half a file.
bool write_atomically(const fs::path& file, const std::string& text, std::string& error) {
  const fs::path temp = file.string() + ".tmp";
  {
    std::ofstream out(temp, std::ios::binary | std::ios::trunc);
    if (!out) {
      error = "cannot write " + temp.string();
      return false;
    }
    out << text;
    out.flush();
    if (!out) {
      error = "cannot write " + temp.string() + " (disk full?)";
      return false;
    }
  }
  std::error_code ec;
  fs::rename(temp, file, ec);
  if (ec) {
    error = "cannot rename " + temp.string() + " to " + file.string() + ": " + ec.message();
    return false;
  }
  return true;
}

std::string shell_quote(const std::string& s) {
  const bool plain = !s.empty() && s.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./=:") == std::string::npos;
  if (plain) return s;
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

int run_command(const std::string& scenario_path, std::optional<std::uint64_t> seed_flag, std::string out_dir,
                const terminal& term) {
  auto loaded = sim::load_scenario(scenario_path);
  if (!loaded) {
    std::cerr << "squall: error: " << loaded.error().describe() << "\n";
    return exit_bad_input;
  }
  const sim::scenario& s = *loaded;
  const std::uint64_t seed = seed_flag.value_or(s.seed.value_or(default_seed));
  if (out_dir.empty()) out_dir = "squall-out/" + s.name;
  const std::string reproduce = "squall run " + shell_quote(scenario_path) + " --seed " + std::to_string(seed);

  if (!term.quiet) {
    std::cout << "squall " << squall_version << " | scenario " << s.name << " (sha256:" << s.digest.substr(0, 12)
              << ") | seed " << seed << " | " << s.configurations.size() << " configurations | "
              << s.duration_s << " s simulated\n";
    for (const auto& c : s.configurations) {
      for (const auto& w : c.pipeline.warnings) std::cout << "warning: " << c.name << ": " << w << "\n";
    }
  }

  std::vector<sim::configuration_result> results;
  std::vector<sim::summary> summaries;
  for (std::size_t i = 0; i < s.configurations.size(); ++i) {
    const auto& name = s.configurations[i].name;
    const auto wall_start = std::chrono::steady_clock::now();  // progress display only, never results
    auto show = [&](double fraction) {
      const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();
      const double remaining = fraction > 0 ? elapsed * (1 - fraction) / fraction : 0;
      std::fprintf(stderr, "\r  %-20s %5.1f%%  %6.1f s elapsed, ~%.1f s left   ", name.c_str(), fraction * 100,
                   elapsed, remaining);
      std::fflush(stderr);
    };
    sim::progress_fn progress;
    if (term.progress) progress = show;
    results.push_back(sim::run_configuration(s, i, seed, progress));
    summaries.push_back(sim::summarize(results.back()));
    if (!term.quiet) {
      const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();
      if (term.progress) std::fprintf(stderr, "\r%*s\r", 72, "");
      std::printf("  ran %-20s %10.0f requests in %.2f s\n", name.c_str(),
                   sim::summary_value(summaries.back(), "requests"), wall);
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

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"squall: simulation and chaos testing for the resilience policies around AI-provider calls.\n"
               "Exit codes: 0 ok, 1 an assertion failed, 2 bad input (scenario, policy file or flag), "
               "3 outputs could not be written."};
  app.set_version_flag("--version", std::string("squall ") + squall_version);
  app.require_subcommand(1);

  std::string scenario_path;
  std::optional<std::uint64_t> seed;
  std::string out_dir;
  bool quiet = false;
  bool no_color = false;
  auto* run = app.add_subcommand("run", "Run a scenario in virtual time and write results.json");
  run->add_option("scenario", scenario_path, "Scenario file (JSON)")->required();
  run->add_option("--seed", seed, "Root seed (default: the scenario's \"seed\", else 1)");
  run->add_option("--out", out_dir, "Output directory (default: squall-out/<scenario name>)");
  run->add_flag("-q,--quiet", quiet, "Print nothing but errors and failed assertions");
  run->add_flag("--no-color", no_color, "No colors (NO_COLOR in the environment does the same)");

  std::vector<std::string> validate_files;
  auto* validate = app.add_subcommand("validate", "Check scenario files (and the policy files they name) without running");
  validate->add_option("scenarios", validate_files, "Scenario files")->required();

  auto* policies = app.add_subcommand("policies", "List the policy types a policy file may use");

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return exit_bad_input;
  }

  if (run->parsed()) return run_command(scenario_path, seed, out_dir, detect_terminal(quiet, no_color));
  if (validate->parsed()) return validate_command(validate_files);
  if (policies->parsed()) {
    for (const auto& r : policy_registry()) std::cout << r.type << "\t" << r.summary << "\n";
    return exit_ok;
  }
  return exit_bad_input;
}
