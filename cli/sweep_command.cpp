#include "cli/sweep_command.hpp"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <mutex>
#include <thread>

#include "cli/exit_codes.hpp"
#include "cli/flag_checks.hpp"
#include "cli/output_files.hpp"
#include "cli/run_guard.hpp"
#include "cli/run_command.hpp"
#include "cli/run_inputs.hpp"
#include "policies/core/json_parse.hpp"
#include "reports/html/sweep_html.hpp"
#include "reports/sweep_report.hpp"
#include "sim/run/run_budget.hpp"
#include "squall_version.hpp"
#include "sweeps/sweep_plan.hpp"
#include "sweeps/sweep_results.hpp"
#include "sweeps/sweep_runner.hpp"

namespace fs = std::filesystem;

namespace squall::cli {
namespace {

constexpr std::uint64_t sweep_default_seed = 1;

// Writes sweep.json, .md, .csv and .html together (nothing half-written), prints the frontier and the
// recommendation, and returns the exit code.
int finish_sweep(const std::string& out_dir, const json& doc, bool quiet) {
  std::string error;
  if (!write_file_set(out_dir, {{"sweep.json", dump_json(doc, 2) + "\n"},
                                {"sweep.md", reports::sweep_markdown(doc)},
                                {"sweep.csv", reports::sweep_csv(doc)},
                                {"sweep.html", reports::sweep_html(doc)}},
                      error)) {
    std::cerr << "squall: error: " << error << "\n";
    return exit_io_error;
  }
  if (!quiet) {
    std::cout << "\n" << reports::sweep_terminal(doc);
    std::cout << "\nreport:  " << (fs::path(out_dir) / "sweep.html").string() << "\n";
    std::cout << "results: " << out_dir << "/{sweep.json,sweep.md,sweep.csv}\n";
    std::cout << "reproduce: " << doc["reproduce"].get<std::string>() << "\n";
  }
  if (doc["incomplete"].get<bool>()) {
    std::cerr << "squall: the sweep is incomplete (" << doc.value("incomplete_reason", std::string()) << "); reproduce: "
              << doc["reproduce"].get<std::string>() << "\n";
    return exit_incomplete;
  }
  if (!doc["constraints"].empty() && doc["recommendation"]["cell"].is_null()) {
    std::cerr << "squall: no cell meets the constraints; see the violations in " << (fs::path(out_dir) / "sweep.md").string() << "\n";
    return exit_assertions_failed;
  }
  return exit_ok;
}

std::string sweep_reproduce(const sweep_args& args, const sim::scenario& base, std::uint64_t seed, bool drawn) {
  std::string command = scenario_command(args.scenario, base);
  command.replace(0, std::string("squall run").size(), "squall sweep");
  for (const auto& p : args.params) command += " --param " + shell_quote(p);
  for (const auto& c : args.configurations) command += " --config " + shell_quote(c);
  if (args.objective != "success_rate") command += " --objective " + shell_quote(args.objective);
  for (const auto& r : args.constraints) command += " --require " + shell_quote(r);
  if (drawn) command += " --draws " + std::to_string(args.draws);
  command += " --seed " + std::to_string(seed);
  if (args.seeds > 1) command += " --seeds " + std::to_string(args.seeds);
  if (args.allow_large_run) command += " --allow-large-run";
  return command;
}

}  // namespace

CLI::App* add_sweep_command(CLI::App& app, sweep_args& args) {
  auto* cmd = app.add_subcommand(
      "sweep", "Run a scenario over a grid of its options on every core: every cell's results, the Pareto frontier "
               "and a recommendation");
  cmd->add_option("scenario", args.scenario, "Scenario file (JSON or YAML)")->required();
  cmd->add_option("--param", args.params,
                  "PATH=VALUES, repeatable: a list (0.2,0.5 or a JSON array), a range (1..5, 0.1..0.5:0.1) or a\n"
                  "random draw (~500..8000, ~log:10..1000). A PATH not starting with a scenario key is read in\n"
                  "the configuration's policy: retry.attempts_max=1..5 (docs/sweeps.md)")
      ->required()
      ->allow_extra_args(false);
  cmd->add_option("--config", args.configurations,
                  "The configuration(s) to sweep, repeatable (default: every configuration of the scenario)")
      ->allow_extra_args(false);
  cmd->add_option("--require", args.constraints,
                  "METRIC<=VALUE or METRIC>=VALUE a recommended cell must meet, repeatable; VALUE may be a\n"
                  "multiple of the baseline (the first configuration as written): cost_usd<=1.1x")
      ->allow_extra_args(false);
  cmd->add_option("--objective", args.objective,
                  "The metric the recommendation optimises among cells meeting --require (default success_rate,\n"
                  "maximised; latencies, cost and attempts_per_request are minimised)");
  cmd->add_option("--draws", args.draws, "Cells per grid point for ~ parameters (default 20)")
      ->check(unsigned_integer)
      ->check(CLI::Range(1u, 10000u));
  cmd->add_option("--seed", args.seed, "Root seed (default: the scenario's \"seed\", else 1)")->check(unsigned_integer);
  cmd->add_option("--seeds", args.seeds, "Run every cell on N seeds (seed, seed+1, ...): pooled figures, min and max")
      ->check(unsigned_integer)
      ->check(CLI::Range(1u, 1000u));
  cmd->add_option("--jobs,-j", args.jobs, "Threads (default: every core)")->check(unsigned_integer)->check(CLI::Range(1u, 256u));
  cmd->add_option("--shard", args.shard,
                  "I/N: run only this shard's part (units whose index % N == I) and write shard-I-of-N.json for\n"
                  "squall merge; I from 0 (a Kubernetes Indexed Job's JOB_COMPLETION_INDEX)");
  cmd->add_option("--out", args.out_dir, "Output directory (default: squall-out/<scenario name>-sweep)")->check(output_folder);
  cmd->add_option("--set", args.sets, "PATH=VALUE applied to the scenario before the sweep, as squall run takes it")
      ->allow_extra_args(false);
  cmd->add_option("-e,--env", args.env, "NAME=VALUE, as squall run takes it")->allow_extra_args(false);
  cmd->add_option("--max-wall-s", args.wall_s_max,
                  "Stop after this many seconds of real time (default 3600): what finished is written, marked\n"
                  "incomplete, and squall exits 4")
      ->check(CLI::Range(0.001, 31'536'000.0));
  cmd->add_flag("--allow-large-run", args.allow_large_run, "Raise the run limits (requests, memory, cells)");
  cmd->add_flag("-q,--quiet", args.quiet, "Print nothing but errors");
  cmd->add_flag("--no-color", args.no_color, "No colors");
  cmd->footer("Exit codes: 0 done, 1 --require given and no cell meets it, 2 bad input, 3 outputs not written, "
              "4 stopped early (outputs marked incomplete).");
  return cmd;
}

CLI::App* add_merge_command(CLI::App& app, merge_args& args) {
  auto* cmd = app.add_subcommand("merge", "Combine the shard files of a sweep (squall sweep --shard I/N) or of a run of several "
                                          "scenarios (squall run FOLDER --shard I/N) into the outputs the unsharded one writes");
  cmd->add_option("shards", args.paths, "Shard files, or folders holding shard-*.json or run-shard-*.json")->required();
  cmd->add_option("--out", args.out_dir,
                  "Output directory (default: squall-out/<scenario name>-sweep for a sweep; for run shards the one folder\n"
                  "given, where the scenarios' folders are)")
      ->check(output_folder);
  cmd->add_flag("-q,--quiet", args.quiet, "Print nothing but errors");
  cmd->footer("The outputs are byte for byte those of the sweep run unsharded. Exit codes as squall sweep's.");
  return cmd;
}

int sweep_command(const sweep_args& args) {
  const terminal term = detect_terminal(args.quiet, args.no_color);
  auto inputs = command_line_inputs(args.sets, args.env);
  if (!inputs) {
    std::cerr << "squall: error: " << inputs.error().describe() << "\n";
    return exit_bad_input;
  }
  auto base = sim::load_scenario(args.scenario, *inputs);
  if (!base) {
    std::cerr << "squall: error: " << base.error().describe() << "\n";
    return exit_bad_input;
  }
  sweeps::sweep_request request;
  for (const auto& text : args.params) {
    auto p = sweeps::parse_parameter(text);
    if (!p) {
      std::cerr << "squall: error: " << p.error().describe() << "\n";
      return exit_bad_input;
    }
    request.parameters.push_back(std::move(*p));
  }
  sweeps::sweep_definition definition;
  for (const auto& text : args.constraints) {
    auto c = sweeps::parse_constraint(text);
    if (!c) {
      std::cerr << "squall: error: " << c.error().describe() << "\n";
      return exit_bad_input;
    }
    definition.constraints.push_back(std::move(*c));
  }
  auto goal = sweeps::parse_objective(args.objective);
  if (!goal) {
    std::cerr << "squall: error: " << goal.error().describe() << "\n";
    return exit_bad_input;
  }
  definition.goal = *goal;
  sweeps::shard_spec shard;
  if (!args.shard.empty()) {
    auto parsed = sweeps::parse_shard(args.shard);
    if (!parsed) {
      std::cerr << "squall: error: " << parsed.error().describe() << "\n";
      return exit_bad_input;
    }
    shard = *parsed;
  }
  const std::uint64_t seed = args.seed.value_or(base->seed.value_or(sweep_default_seed));
  request.configurations = args.configurations;
  request.draws = args.draws;
  request.seed = seed;
  request.seeds = args.seeds;
  request.cells_max = args.allow_large_run ? 1'000'000 : 10'000;
  auto plan = sweeps::plan_sweep(*base, request);
  if (!plan) {
    config_error e = std::move(plan).error();
    if (e.file.empty() && !e.path.empty()) e.file = args.scenario;
    std::cerr << "squall: error: " << e.describe() << "\n";
    return exit_bad_input;
  }
  const std::uint32_t cores = std::max(1u, std::thread::hardware_concurrency());
  const std::uint32_t jobs = args.jobs > 0 ? args.jobs : cores;
  const sim::run_limits limits = args.allow_large_run ? sim::run_limits::large() : sim::run_limits{};
  if (auto error = sweeps::check_sweep(args.scenario, *inputs, *plan, limits, jobs, args.allow_large_run ? nullptr : "--allow-large-run")) {
    std::cerr << "squall: error: " << error->describe() << "\n";
    return exit_bad_input;
  }
  definition.scenario_name = base->name;
  definition.scenario_file = args.scenario;
  definition.scenario_digest = base->digest;
  definition.reproduce = sweep_reproduce(args, *base, seed, plan->draws > 0);
  definition.run_prefix = scenario_command(args.scenario, *base);
  definition.quote = shell_quote;
  const json plan_doc = sweeps::plan_json(*plan, definition);
  const std::string out_dir = args.out_dir.empty() ? "squall-out/" + path_component(base->name) + "-sweep" : args.out_dir;

  std::size_t owned = 0;
  for (std::size_t u = 0; u < plan->units(); ++u) owned += shard.owns(u) ? 1u : 0u;
  if (!term.quiet) {
    std::cout << "squall " << squall_version << " | sweep of " << base->name << " (sha256:" << base->digest.substr(0, 12) << ") | "
              << plan->cells.size() << " cells x " << plan->seeds << " seed(s) from " << seed << " = " << plan->units() << " runs";
    if (!args.shard.empty()) std::cout << " | shard " << shard.index << "/" << shard.count << ": " << owned << " runs";
    std::cout << " | " << std::min<std::size_t>(jobs, std::max<std::size_t>(owned, 1)) << " threads\n";
    std::cout.flush();
  }

  const run_guard guard(args.wall_s_max);
  std::optional<progress_display> progress;
  if (!term.quiet) progress.emplace(term, "sweep");
  sweeps::sweep_run_options options;
  options.jobs = jobs;
  options.shard = shard;
  options.stop = &guard.stop_flag();
  options.progress = [&](std::size_t done, std::size_t total) {
    if (progress) progress->update(static_cast<double>(done) / static_cast<double>(std::max<std::size_t>(total, 1)));
  };
  const auto units = sweeps::run_units(args.scenario, *inputs, *plan, options);
  if (progress) {
    const double elapsed = progress->elapsed_s();
    progress->finish();
    std::printf("  ran %zu runs in %.2f s\n", owned, elapsed);
    std::fflush(stdout);
  }
  const std::string reason = guard.stopped() ? guard.reason() : std::string();

  if (!args.shard.empty()) {
    const json doc = sweeps::shard_document(plan_doc, shard, units, reason);
    const std::string name = "shard-" + std::to_string(shard.index) + "-of-" + std::to_string(shard.count) + ".json";
    std::string error;
    if (!write_file_set(out_dir, {{name, dump_json(doc) + "\n"}}, error)) {
      std::cerr << "squall: error: " << error << "\n";
      return exit_io_error;
    }
    if (!term.quiet) {
      std::cout << "shard:   " << (fs::path(out_dir) / name).string() << "\nmerge the " << shard.count
                << " shards with: squall merge DIR_WITH_ALL_SHARDS --out DIR\n";
    }
    if (!reason.empty()) {
      std::cerr << "squall: the shard is incomplete (" << reason << ")\n";
      return exit_incomplete;
    }
    return exit_ok;
  }
  return finish_sweep(out_dir, sweeps::sweep_document(plan_doc, units, reason), term.quiet);
}

int merge_command(const merge_args& args) {
  std::vector<std::string> files;
  for (const auto& path : args.paths) {
    std::error_code ec;
    if (!fs::is_directory(path, ec)) {
      files.push_back(path);
      continue;
    }
    std::vector<std::string> found;
    for (fs::directory_iterator it(path, ec), end; !ec && it != end; it.increment(ec)) {
      const std::string name = it->path().filename().string();
      const bool shard_file = name.rfind("shard-", 0) == 0 || name.rfind("run-shard-", 0) == 0;
      if (shard_file && it->path().extension() == ".json") found.push_back(it->path().string());
    }
    if (found.empty()) {
      std::cerr << "squall: error: " << path << ": no shard-*.json (squall sweep --shard) or run-shard-*.json (squall run --shard) "
                   "files in the folder\n";
      return exit_bad_input;
    }
    std::sort(found.begin(), found.end());
    files.insert(files.end(), found.begin(), found.end());
  }
  std::vector<std::pair<std::string, json>> docs;
  for (const auto& f : files) {
    auto doc = read_json_file(f, json_parse_limits{64, std::size_t{1} << 30});
    if (!doc) {
      config_error e = std::move(doc).error();
      if (e.file.empty()) e.file = f;
      std::cerr << "squall: error: " << e.describe() << "\n";
      return exit_bad_input;
    }
    docs.emplace_back(f, std::move(*doc));
  }
  // Shards of a run of several scenarios: the index of their outputs, by default beside them.
  if (!docs.empty() && docs.front().second.is_object() && docs.front().second.value("format", "") == "squall-run-shard/1") {
    std::error_code ec;
    const bool one_folder = args.paths.size() == 1 && fs::is_directory(args.paths.front(), ec);
    return merge_run_shards(docs, args.out_dir.empty() ? (one_folder ? args.paths.front() : "squall-out") : args.out_dir, args.quiet);
  }
  auto merged = sweeps::merge_shards(docs);
  if (!merged) {
    std::cerr << "squall: error: " << merged.error().describe() << "\n";
    return exit_bad_input;
  }
  const std::string name = merged->plan.value("scenario", std::string("sweep"));
  const std::string out_dir = args.out_dir.empty() ? "squall-out/" + path_component(name) + "-sweep" : args.out_dir;
  if (!args.quiet) std::cout << "squall: merged " << docs.size() << " shards of the sweep of " << name << "\n";
  return finish_sweep(out_dir, sweeps::sweep_document(merged->plan, merged->units, merged->incomplete_reason), args.quiet);
}

}  // namespace squall::cli
