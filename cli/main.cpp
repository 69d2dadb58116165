// squall: the command line. It ties the parts together and owns the user-facing contract; the exit
// codes are in cli/exit_codes.hpp and README.md.
#include <CLI/CLI.hpp>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include "cli/exit_codes.hpp"
#include "cli/fatal_signals.hpp"
#include "cli/flag_checks.hpp"
#include "cli/import_command.hpp"
#include "cli/import_config_command.hpp"
#include "cli/record_command.hpp"
#include "cli/replay_command.hpp"
#include "cli/run_command.hpp"
#include "cli/schema_command.hpp"
#include "cli/serve_command.hpp"
#include "cli/sweep_command.hpp"
#include "cli/terminal.hpp"
#include "policies/core/json_parse.hpp"
#include "policies/core/json_reader.hpp"
#include "policies/pipeline/registry.hpp"
#include "squall_version.hpp"

using namespace squall;
using namespace squall::cli;

int main(int argc, char** argv) {
  squall::cli::install_fatal_signal_handlers();  // no service under test outlives a crash of squall
  CLI::App app{"squall: simulation and chaos testing for the resilience policies around AI-provider calls.\n"
               "Exit codes: 0 ok, 1 an assertion failed or a comparison regressed, 2 bad input (scenario, policy\n"
               "file, results file or flag, or a run beyond the run limits), 3 outputs could not be written, 4 the\n"
               "run was interrupted (SIGINT, SIGTERM, --max-wall-s or a live cap): outputs written, marked incomplete,\n"
               "5 the service under test failed (did not start, was not ready, or exited during the run),\n"
               "70 an internal error (a bug in squall, or memory exhausted)."};
  app.set_version_flag("--version", std::string("squall ") + squall_version);
  app.require_subcommand(1);

  run_options run_opts;
  bool quiet = false;
  bool no_color = false;
  auto* run = app.add_subcommand(
      "run", "Run a scenario (virtual time, live, or against its service under test) and write results.json");
  run->add_option("scenarios", run_opts.scenario_paths,
                  "Scenario files (JSON or YAML) or folders of them; several run one after the other, each into\n"
                  "its own folder under --out, with an index.html and one exit code (the most serious)")
      ->required();
  run->add_option("--set", run_opts.sets,
                  "PATH=VALUE: change the scenario before it is read, e.g. --set workload.rate_rps=200 or\n"
                  "--set policies.candidate.retry.attempts_max=2 (docs/scenario-format.md#command-line-changes)")
      ->allow_extra_args(false);
  run->add_option("-e,--env", run_opts.env,
                  "NAME=VALUE: the value of ${NAME} in scenario files, before the process environment")
      ->allow_extra_args(false);
  run->add_option("--summary-json", run_opts.summary_json,
                  "Write the runs' verdicts and summaries as JSON to FILE; \"-\" writes it to standard output\n"
                  "(nothing else goes there then)");
  run->add_option("--seed", run_opts.seed, "Root seed (default: the scenario's \"seed\", else 1)")
      ->check(unsigned_integer);
  run->add_option("--out", run_opts.out_dir, "Output directory (default: squall-out/<scenario name>)")
      ->check(output_folder);
  run->add_option("--seeds", run_opts.seeds,
                  "Run each configuration on N seeds (seed, seed+1, ...) and report means with 95% intervals")
      ->check(unsigned_integer)
      ->check(CLI::Range(1u, 1000u));
  run->add_option("--mode", run_opts.mode, "sim: virtual time (default); live: real clock, real HTTP on loopback")
      ->check(CLI::IsMember({"sim", "live"}));
  run->add_option("--target", run_opts.targets,
                  "Live: provider=URL for each provider (default: squall's fake providers, started in-process)");
  run->add_flag("--allow-remote", run_opts.allow_remote, "Live: allow targets that are not loopback addresses");
  run->add_flag("!--no-stream", run_opts.live_stream,
                "Live: ask for whole JSON answers instead of server-sent events (no time to first token)");
  run->add_option("--live-max-s", run_opts.live_run_s_max, "Live: stop a configuration after this many seconds")
      ->check(CLI::Range(1.0, 86400.0));
  run->add_option("--live-max-requests", run_opts.live_requests_max, "Live: offer at most this many requests")
      ->check(unsigned_integer)
      ->check(CLI::Range(std::uint64_t{1}, std::uint64_t{100000000}));
  run->add_option("--live-connections", run_opts.live_connections_max,
                  "Live: connections per target at most, like a client's pool (default 256); past them\n"
                  "requests wait for a free one")
      ->check(unsigned_integer)
      ->check(CLI::Range(std::uint32_t{1}, std::uint32_t{10000}));
  run->add_option("--max-wall-s", run_opts.wall_s_max,
                  "Sim: stop the run after this many seconds of real time (default 3600); what finished is\n"
                  "written, marked incomplete, and squall exits 4")
      ->check(CLI::Range(0.001, 31'536'000.0));
  run->add_flag("--allow-large-run", run_opts.allow_large_run,
                "Raise the run limits (requests, time-series intervals, memory; docs/scenario-format.md)");
  run->add_option("--trace", run_opts.trace_path,
                  "Write a trace of every attempt sent (JSON Lines, docs/trace-format.md); with several\n"
                  "configurations one trace each: FILE with .<configuration> inserted before its extension");
  run->add_option("--shard", run_opts.shard,
                  "I/N: of several scenarios, run those at positions I, I+N, ... into their folders under --out and\n"
                  "write run-shard-I-of-N.json; squall merge FOLDER then writes the index (I from 0)");
  run->add_flag("-q,--quiet", quiet, "Print nothing but errors and failed assertions");
  run->add_flag("--no-color", no_color, "No colors (NO_COLOR in the environment does the same)");

  compare_options compare_opts;
  auto* compare = app.add_subcommand(
      "compare", "Compare two results.json (e.g. main against a pull request); exit 1 when the candidate regresses");
  compare->add_option("base", compare_opts.base_path, "Base results.json")->required();
  compare->add_option("candidate", compare_opts.candidate_path, "Candidate results.json")->required();
  compare->add_option("--tolerances", compare_opts.tolerances_path,
                      "JSON file of tolerances, e.g. {\"latency_p99_growth_pct_max\": 20} (docs/results-format.md)");
  compare->add_option("--out", compare_opts.out_dir, "Output directory (default: squall-out/compare)")
      ->check(output_folder);
  compare->add_flag("-q,--quiet", quiet, "Print nothing but errors and regressions");
  compare->add_flag("--no-color", no_color, "No colors (NO_COLOR in the environment does the same)");

  validate_options validate_opts;
  auto* validate = app.add_subcommand(
      "validate", "Check scenario files (and the policy files they name), and each run's size against the run limits, "
                  "without running");
  validate->add_option("scenarios", validate_opts.paths, "Scenario files (JSON or YAML) or folders of them")->required();
  validate->add_option("--set", validate_opts.sets, "PATH=VALUE, as squall run takes it")->allow_extra_args(false);
  validate->add_option("-e,--env", validate_opts.env, "NAME=VALUE, as squall run takes it")->allow_extra_args(false);
  validate->add_flag("--allow-large-run", validate_opts.allow_large_run, "Check against the raised run limits");
  validate->footer("The keys, types, ranges and choices checked are those of the JSON Schema `squall schema "
                   "scenario|policy` prints (a test keeps them the same); squall validate also checks what a schema "
                   "cannot: names that must exist, policy files, sums of probabilities, run limits.");

  auto* policies = app.add_subcommand("policies", "List the policy types a policy file may use");
  schema_args schema_opts;
  auto* schema = add_schema_command(app, schema_opts);

  serve_args serve_opts;
  auto* serve = add_serve_command(app, serve_opts);

  import_args import_opts;
  auto* import_cmd = add_import_command(app, import_opts);
  import_config_args import_config_opts;
  auto* import_config = add_import_config_command(app, import_config_opts);
  record_args record_opts;
  auto* record = add_record_command(app, record_opts);
  replay_args trace2scenario_opts;
  auto* trace2scenario = add_trace2scenario_command(app, trace2scenario_opts);

  replay_args replay_opts;
  auto* replay = add_replay_command(app, replay_opts);

  sweep_args sweep_opts;
  auto* sweep = add_sweep_command(app, sweep_opts);
  merge_args merge_opts;
  auto* merge = add_merge_command(app, merge_opts);

  // `squall help [COMMAND]`: what `squall [COMMAND] --help` prints, as git and go have it.
  if (argc > 1 && std::string_view(argv[1]) == "help") {
    if (argc == 2) {
      std::cout << app.help();
      return exit_ok;
    }
    const auto named = app.get_subcommands([&](const CLI::App* c) { return c->get_name() == argv[2]; });
    if (!named.empty()) {
      std::cout << named.front()->help();
      return exit_ok;
    }
  }
  // An unknown command would otherwise read "A subcommand is required", which hides the typo.
  const char* asked = argc > 1 && std::string_view(argv[1]) == "help" ? (argc > 2 ? argv[2] : nullptr) : (argc > 1 ? argv[1] : nullptr);
  if (asked != nullptr && asked[0] != '-') {
    const auto named = app.get_subcommands([&](const CLI::App* c) { return c->get_name() == asked; });
    if (named.empty()) {
      std::string known;
      std::string nearest;
      std::size_t nearest_distance = 3;  // a typo: at most two edits away
      for (const CLI::App* c : app.get_subcommands([](const CLI::App*) { return true; })) {
        known += (known.empty() ? "" : ", ") + c->get_name();
        const std::size_t d = edit_distance(asked, c->get_name());
        if (d < nearest_distance) {
          nearest_distance = d;
          nearest = c->get_name();
        }
      }
      std::cerr << "squall: error: unknown command \"" << asked << "\""
                << (nearest.empty() ? std::string() : "; did you mean \"" + nearest + "\"?")
                << " The commands are " << known << " (squall help COMMAND tells more)\n";
      return exit_bad_input;
    }
  }

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

  // The last line of defence: every command returns its documented code, and what escapes it is a bug,
  // reported as such rather than as std::terminate's abort.
  try {
    if (run->parsed()) return run_command(run_opts, detect_terminal(quiet, no_color));
    if (compare->parsed()) return compare_command(compare_opts, detect_terminal(quiet, no_color));
    if (validate->parsed()) return validate_command(validate_opts);
    if (schema->parsed()) return schema_command(schema_opts);
    if (serve->parsed()) return serve_command(serve_opts);
    if (import_cmd->parsed()) return import_command(import_opts);
    if (import_config->parsed()) return import_config_command(import_config_opts);
    if (record->parsed()) return record_command(record_opts);
    if (trace2scenario->parsed()) return trace2scenario_command(trace2scenario_opts);
    if (replay->parsed()) return replay_command(replay_opts);
    if (sweep->parsed()) return sweep_command(sweep_opts);
    if (merge->parsed()) return merge_command(merge_opts);
    if (policies->parsed()) {
      for (const auto& r : policy_registry()) std::cout << r.type << "\t" << r.summary << "\n";
      return exit_ok;
    }
  } catch (const std::bad_alloc&) {
    std::cerr << "squall: internal error: out of memory; lower the run's size (docs/scenario-format.md#limits-of-a-run)\n";
    return exit_internal_error;
  } catch (const std::exception& e) {
    std::cerr << "squall: internal error: " << valid_utf8(cut_utf8(e.what(), 400))
              << "; this is a bug in squall, please report it with the command that led to it\n";
    return exit_internal_error;
  }
  return exit_bad_input;
}
