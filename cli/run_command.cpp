#include "cli/run_command.hpp"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include "cli/exit_codes.hpp"
#include "cli/output_files.hpp"
#include "cli/run_guard.hpp"
#include "cli/run_inputs.hpp"
#include "cli/run_outputs.hpp"
#include "reports/compare.hpp"
#include "reports/html/suite_index_html.hpp"
#include "reports/results.hpp"
#include "reports/results_input.hpp"
#include "reports/suite_index.hpp"
#include "runs/scenario_run.hpp"
#include "sim/live/live_run.hpp"
#include "sim/run/run_budget.hpp"
#include "sim/run/summary.hpp"
#include "sim/scenario/scenario.hpp"
#include "squall_version.hpp"
#include "sweeps/sweep_plan.hpp"

namespace fs = std::filesystem;

namespace squall::cli {

namespace {

constexpr std::uint64_t default_seed = 1;
constexpr const char* run_shard_format = "squall-run-shard/1";

// Prints what a run does while it goes: a progress bar (or plain lines in a CI log) per configuration,
// then one line when it ends.
class printing_observer final : public runs::scenario_run_observer {
 public:
  explicit printing_observer(const terminal& term) : term_(term) {}
  void configuration_started(const std::string& label) override { progress_.emplace(term_, label); }
  void progress(double fraction) override {
    if (progress_) progress_->update(fraction);
  }
  void configuration_finished(const std::string& label, const sim::summary& summary, bool incomplete,
                              const std::string& service_log) override {
    const double elapsed_s = progress_ ? progress_->elapsed_s() : 0;
    if (progress_) progress_->finish();
    progress_.reset();
    if (term_.quiet) return;
    std::printf("  ran %-20s %10.0f requests in %.2f s%s\n", label.c_str(), sim::summary_value(summary, "requests"),
                elapsed_s, incomplete ? " (stopped early: incomplete)" : "");
    if (!service_log.empty()) std::printf("      service log: %s\n", service_log.c_str());
    std::fflush(stdout);
  }
  void configuration_failed(const std::string&) override {
    if (progress_) progress_->finish();
    progress_.reset();
  }

 private:
  const terminal& term_;
  std::optional<progress_display> progress_;
};

// Prints where the outputs went and the verdict; returns the exit code: exit_incomplete for an
// interrupted run whatever its assertions say, since it has not shown that they hold.
int finish_run(const json& doc, const std::string& out_dir, const std::string& reproduce, const terminal& term,
               bool service_failed = false) {
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
  if (doc.value("incomplete", false)) {
    std::string not_run;
    if (doc.contains("not_run")) {
      for (const auto& n : doc["not_run"]) not_run += (not_run.empty() ? "" : ", ") + n.get<std::string>();
    }
    std::cerr << "squall: the run is incomplete (" << doc.value("incomplete_reason", std::string("stopped early"))
              << ")" << (not_run.empty() ? "" : "; not run: " + not_run)
              << "; every output is marked incomplete; reproduce: " << reproduce << "\n";
    return service_failed ? exit_service_failed : exit_incomplete;
  }
  if (!passed) {
    std::cerr << "squall: assertions failed; reproduce: " << reproduce << "\n";
    return exit_assertions_failed;
  }
  return exit_ok;
}

}  // namespace

namespace {

// The most serious outcome of several runs decides the exit code of the whole: a mistake in the input
// first, then outputs that could not be written, a service that failed, a run cut short, failed assertions.
int severity(int code) {
  switch (code) {
    case exit_ok: return 0;
    case exit_assertions_failed: return 1;
    case exit_incomplete: return 2;
    case exit_service_failed: return 3;
    case exit_io_error: return 4;
    default: return 5;  // exit_bad_input and anything unexpected
  }
}

bool write_summary_json(const std::string& where, const json& summary) {
  const std::string text = dump_json(summary, 2) + "\n";
  if (where == "-") {
    std::cout << text << std::flush;
    return static_cast<bool>(std::cout);
  }
  std::string error;
  if (!write_atomically(where, text, error)) {
    std::cerr << "squall: error: --summary-json: " << error << "\n";
    return false;
  }
  return true;
}

// Distinct output folders for scenarios that share a name: the second is "<name>-2".
std::string unique_folder(const std::string& name, std::vector<std::string>& taken) {
  std::string folder = path_component(name);
  for (int n = 2; std::find(taken.begin(), taken.end(), folder) != taken.end(); ++n) {
    folder = path_component(name) + "-" + std::to_string(n);
  }
  taken.push_back(folder);
  return folder;
}

}  // namespace

int run_command(const run_options& options, const terminal& term_given) {
  terminal term = term_given;
  if (options.summary_json == "-") term.quiet = true;  // standard output carries the JSON alone
  auto inputs = command_line_inputs(options.sets, options.env);
  if (!inputs) {
    std::cerr << "squall: error: " << inputs.error().describe() << "\n";
    return exit_bad_input;
  }
  bool from_folder = false;
  auto files = scenario_files(options.scenario_paths, from_folder);
  if (!files) {
    std::cerr << "squall: error: " << files.error().describe() << "\n";
    return exit_bad_input;
  }
  std::vector<sim::scenario> scenarios;
  if (!load_scenarios(*files, *inputs, scenarios)) return exit_bad_input;
  std::optional<sweeps::shard_spec> shard;
  if (!options.shard.empty()) {
    auto parsed = sweeps::parse_shard(options.shard);
    if (!parsed) {
      std::cerr << "squall: error: " << parsed.error().describe() << "\n";
      return exit_bad_input;
    }
    if (scenarios.size() == 1 && !from_folder) {
      std::cerr << "squall: error: --shard splits the scenarios of a folder (or several files) between jobs; "
                   "this run has one scenario (a sweep of one is split by squall sweep --shard)\n";
      return exit_bad_input;
    }
    shard = *parsed;
  }

  if (scenarios.size() == 1 && !from_folder) {
    json results;
    const int code = run_scenario(scenarios.front(), options, scenario_command(files->front(), scenarios.front()),
                                  term, &results);
    if (!options.summary_json.empty()) {
      reports::suite_run run{files->front(), options.out_dir.empty() ? "squall-out/" + path_component(scenarios.front().name)
                                                                     : options.out_dir,
                             code, std::move(results), {}};
      if (!write_summary_json(options.summary_json, reports::suite_summary({run}, code))) {
        return std::max(code, exit_io_error, [](int a, int b) { return severity(a) < severity(b); });
      }
    }
    return code;
  }

  // Several scenarios: every one checked against the run limits before the first starts.
  for (const auto& s : scenarios) {
    const auto estimate = sim::estimate_run(s, options.seeds);
    const sim::run_limits limits = options.allow_large_run ? sim::run_limits::large() : sim::run_limits{};
    if (auto error = sim::check_run_limits(s, estimate, limits, options.mode == "sim" && !s.service,
                                           options.allow_large_run ? nullptr : "--allow-large-run")) {
      if (error->file.empty()) error->file = s.file;
      std::cerr << "squall: error: " << error->describe() << "\n";
      return exit_bad_input;
    }
  }
  const std::string root = options.out_dir.empty() ? "squall-out" : options.out_dir;
  if (!term.quiet) {
    std::cout << "squall: " << scenarios.size() << " scenarios";
    if (shard) std::cout << ", shard " << shard->index << "/" << shard->count << " runs those at positions " << shard->index << " + " << shard->count << "k";
    std::cout << ", outputs under " << root << "/\n\n";
  }
  std::vector<reports::suite_run> runs;
  std::vector<std::string> taken;
  int code = exit_ok;
  bool interrupted = false;
  for (std::size_t i = 0; i < scenarios.size(); ++i) {
    const sim::scenario& s = scenarios[i];
    reports::suite_run run;
    run.file = (*files)[i];
    run.out_dir = unique_folder(s.name, taken);  // named as in the whole run, whichever shard runs it
    if (shard && !shard->owns(i)) continue;
    if (interrupted) {
      run.exit_code = exit_incomplete;
      run.error = "not run: the run was interrupted before it started";
    } else {
      run_options one = options;
      one.out_dir = (fs::path(root) / run.out_dir).string();
      run.exit_code = run_scenario(s, one, scenario_command(run.file, s), term, &run.results);
      if (run.results.is_null()) run.error = "no results (exit code " + std::to_string(run.exit_code) + "; see the messages above)";
      const json& reason = run.results.is_object() && run.results.contains("incomplete_reason") ? run.results["incomplete_reason"] : json();
      interrupted = reason.is_string() && reason.get<std::string>().rfind("interrupted", 0) == 0;
      if (!term.quiet) std::cout << "\n";
    }
    if (severity(run.exit_code) > severity(code)) code = run.exit_code;
    runs.push_back(std::move(run));
  }
  std::string error;
  if (shard) {
    // The shard's part, for `squall merge`: the runs' results whole, so that the merged index is the one the
    // unsharded run writes.
    json list = json::array();
    for (std::size_t i = 0, r = 0; i < scenarios.size(); ++i) {
      if (!shard->owns(i)) continue;
      const auto& run = runs[r++];
      list.push_back({{"index", i}, {"file", run.file}, {"out_dir", run.out_dir}, {"exit_code", run.exit_code},
                      {"results", run.results}, {"error", run.error}});
    }
    const std::string name = "run-shard-" + std::to_string(shard->index) + "-of-" + std::to_string(shard->count) + ".json";
    const json doc = {{"format", run_shard_format}, {"squall_version", squall_version}, {"shard", shard->index},
                      {"shards", shard->count}, {"files", *files}, {"runs", list}};
    if (!write_file_set(root, {{name, dump_json(doc) + "\n"}}, error)) {
      std::cerr << "squall: error: " << error << "\n";
      return severity(exit_io_error) > severity(code) ? exit_io_error : code;
    }
    if (!term.quiet) {
      std::cout << runs.size() << " scenarios of shard " << shard->index << "/" << shard->count << " ran; shard file: "
                << (fs::path(root) / name).string() << "\nmerge the shards' folders into one and run: squall merge FOLDER\n";
    }
    if (!options.summary_json.empty() && !write_summary_json(options.summary_json, reports::suite_summary(runs, code))) {
      code = severity(exit_io_error) > severity(code) ? exit_io_error : code;
    }
    return code;
  }
  if (!write_file_set(root, {{"index.md", reports::suite_markdown(runs, code)}, {"index.html", reports::suite_index_html(runs, code)}},
                      error)) {
    std::cerr << "squall: error: " << error << "\n";
    code = severity(exit_io_error) > severity(code) ? exit_io_error : code;
  }
  std::size_t passed = 0;
  for (const auto& r : runs) passed += r.exit_code == exit_ok ? 1 : 0;
  if (!term.quiet) {
    std::cout << passed << " of " << runs.size() << " scenarios passed\n";
    for (const auto& r : runs) {
      if (r.exit_code != exit_ok) std::cout << "  failed: " << r.file << " (exit code " << r.exit_code << ")\n";
    }
    std::cout << "index: " << (fs::path(root) / "index.html").string() << "\n";
  }
  if (!options.summary_json.empty() && !write_summary_json(options.summary_json, reports::suite_summary(runs, code))) {
    code = severity(exit_io_error) > severity(code) ? exit_io_error : code;
  }
  return code;
}

int merge_run_shards(const std::vector<std::pair<std::string, json>>& shards, const std::string& out_dir, bool quiet) {
  auto bad = [](const std::string& file, const std::string& path, const std::string& why) {
    std::cerr << "squall: error: " << config_error{file, path, why}.describe() << "\n";
    return exit_bad_input;
  };
  std::optional<std::uint32_t> count;
  json files;
  std::string first;
  std::vector<std::string> seen;
  std::vector<std::optional<reports::suite_run>> runs;
  for (const auto& [file, doc] : shards) {
    if (!doc.is_object() || doc.value("format", "") != run_shard_format) {
      return bad(file, "$.format", std::string("expected a run shard (\"") + run_shard_format + "\", written by squall run FOLDER --shard I/N)");
    }
    const json& n = doc.contains("shards") ? doc["shards"] : json();
    const json& i = doc.contains("shard") ? doc["shard"] : json();
    if (!n.is_number_unsigned() || !i.is_number_unsigned() || n.get<std::uint64_t>() == 0 || n.get<std::uint64_t>() > 10'000 ||
        i.get<std::uint64_t>() >= n.get<std::uint64_t>()) {
      return bad(file, "$.shard", "expected \"shard\" I and \"shards\" N with 0 <= I < N <= 10000");
    }
    if (!doc.contains("files") || !doc["files"].is_array() || doc["files"].size() > 100'000 || !doc.contains("runs") || !doc["runs"].is_array()) {
      return bad(file, "$", "expected the run's \"files\" and this shard's \"runs\"");
    }
    const auto index = i.get<std::uint32_t>();
    if (!count) {
      count = n.get<std::uint32_t>();
      files = doc["files"];
      first = file;
      seen.assign(*count, "");
      runs.assign(files.size(), std::nullopt);
    } else if (n.get<std::uint32_t>() != *count) {
      return bad(file, "$.shards", "one of " + std::to_string(n.get<std::uint32_t>()) + " shards, " + first + " one of " + std::to_string(*count));
    } else if (doc["files"] != files) {
      return bad(file, "$.files", "a run of other scenarios than " + first + "'s; merge the shards of one run");
    }
    if (!seen[index].empty()) return bad(file, "$.shard", "shard " + std::to_string(index) + " is given twice (also " + seen[index] + ")");
    seen[index] = file;
    for (std::size_t k = 0; k < doc["runs"].size(); ++k) {
      const json& r = doc["runs"][k];
      const std::string where = json_path_index("$.runs", k);
      if (!r.is_object() || !r.contains("index") || !r["index"].is_number_unsigned() || r["index"].get<std::uint64_t>() >= runs.size() ||
          r["index"].get<std::uint64_t>() % *count != index || !r.contains("file") || !r["file"].is_string() || !r.contains("out_dir") ||
          !r["out_dir"].is_string() || !r.contains("exit_code") || !r["exit_code"].is_number_integer() || !r.contains("error") ||
          !r["error"].is_string() || !r.contains("results")) {
        return bad(file, where, "expected {index (one of this shard's), file, out_dir, exit_code, results, error}");
      }
      const auto at = r["index"].get<std::size_t>();
      if (runs[at]) return bad(file, where, "scenario " + std::to_string(at) + " twice");
      runs[at] = reports::suite_run{r["file"].get<std::string>(), r["out_dir"].get<std::string>(), r["exit_code"].get<int>(), r["results"],
                                    r["error"].get<std::string>()};
    }
  }
  std::string missing;
  for (std::size_t k = 0; k < seen.size(); ++k) {
    if (seen[k].empty()) missing += (missing.empty() ? "" : ", ") + std::to_string(k);
  }
  if (!missing.empty()) return bad("", "", "run shards missing: " + missing + " of 0 to " + std::to_string(*count - 1));
  std::vector<reports::suite_run> all;
  int code = exit_ok;
  for (std::size_t k = 0; k < runs.size(); ++k) {
    if (!runs[k]) return bad(seen[k % *count], "$.runs", "scenario " + std::to_string(k) + " (" + files[k].get<std::string>() + ") is missing");
    if (severity(runs[k]->exit_code) > severity(code)) code = runs[k]->exit_code;
    all.push_back(std::move(*runs[k]));
  }
  std::string error;
  if (!write_file_set(out_dir, {{"index.md", reports::suite_markdown(all, code)}, {"index.html", reports::suite_index_html(all, code)}}, error)) {
    std::cerr << "squall: error: " << error << "\n";
    return exit_io_error;
  }
  if (!quiet) {
    std::size_t passed = 0;
    for (const auto& r : all) passed += r.exit_code == exit_ok ? 1u : 0u;
    std::cout << "squall: merged " << shards.size() << " run shards: " << passed << " of " << all.size() << " scenarios passed\n";
    for (const auto& r : all) {
      if (r.exit_code != exit_ok) std::cout << "  failed: " << r.file << " (exit code " << r.exit_code << ")\n";
    }
    std::cout << "index: " << (fs::path(out_dir) / "index.html").string() << "\n";
  }
  return code;
}

int run_scenario(const sim::scenario& s, const run_options& options, const std::string& command,
                 const terminal& term, json* results) {
  const std::uint64_t seed = options.seed.value_or(s.seed.value_or(default_seed));
  // The name comes from the scenario (or replay --name): one path component, never a way out of squall-out/.
  const std::string out_dir = options.out_dir.empty() ? "squall-out/" + path_component(s.name) : options.out_dir;
  std::string reproduce = command + " --seed " + std::to_string(seed);
  if (options.seeds > 1) reproduce += " --seeds " + std::to_string(options.seeds);

  if (!options.trace_path.empty() && options.seeds > 1) {
    std::cerr << "squall: error: --trace: a trace records one run; use it without --seeds\n";
    return exit_bad_input;
  }

  // The flags, as a run setup (runs/scenario_run.hpp), checked before anything starts.
  runs::scenario_run_setup setup;
  setup.seed = seed;
  setup.seeds = options.seeds;
  setup.trace_path = options.trace_path;
  // A scenario with a service under test runs on the real clock against that service.
  if (s.service) {
    if (options.mode != "sim" || !options.targets.empty()) {
      std::cerr << "squall: error: --mode/--target: scenario " << s.file
                << " has a \"service\": squall runs it on the real clock against that service and its own fake "
                   "providers; drop --mode and --target\n";
      return exit_bad_input;
    }
    if (!options.trace_path.empty() || options.seeds > 1) {
      std::cerr << "squall: error: " << (options.seeds > 1 ? "--seeds" : "--trace")
                << ": not available for a scenario with a \"service\" yet\n";
      return exit_bad_input;
    }
    setup.mode = runs::run_mode::service;
    setup.service.live.allow_remote = options.allow_remote;
    setup.service.live.run_s_max = options.live_run_s_max;
    setup.service.live.requests_max = options.live_requests_max;
    setup.service.logs_dir = out_dir;
    if (auto error = runs::check_service_run(s, setup.service)) {
      std::cerr << "squall: error: " << error->describe() << "\n";
      return exit_bad_input;
    }
    if (options.allow_remote) reproduce += " --allow-remote";
  } else if (options.mode == "live") {
    setup.mode = runs::run_mode::live;
    setup.live.allow_remote = options.allow_remote;
    setup.live.stream = options.live_stream;
    setup.live.run_s_max = options.live_run_s_max;
    setup.live.requests_max = options.live_requests_max;
    setup.live.connections_per_target_max = options.live_connections_max;
    for (const auto& text : options.targets) {
      auto target = sim::parse_live_target(text);
      if (!target) {
        std::cerr << "squall: error: " << target.error().describe() << "\n";
        return exit_bad_input;
      }
      setup.live.targets.push_back(*target);
    }
    if (!setup.live.targets.empty()) {
      if (auto error = sim::check_live_options(s, setup.live)) {
        std::cerr << "squall: error: " << error->describe() << "\n";
        return exit_bad_input;
      }
    }
    reproduce += " --mode live";
    for (const auto& t : options.targets) reproduce += " --target " + shell_quote(t);
    if (options.allow_remote) reproduce += " --allow-remote";
    if (!options.live_stream) reproduce += " --no-stream";
  }
  const bool real_clock = setup.mode != runs::run_mode::sim;

  // Bounded before it starts: the run's size is estimated from the scenario and refused beyond the
  // limits (live runs are capped in requests by their own flags).
  const auto estimate = sim::estimate_run(s, options.seeds);
  const sim::run_limits limits = options.allow_large_run ? sim::run_limits::large() : sim::run_limits{};
  const char* raise_hint = options.allow_large_run ? nullptr : "--allow-large-run";
  if (auto error = sim::check_run_limits(s, estimate, limits, !real_clock, raise_hint)) {
    if (error->file.empty()) error->file = s.file;
    std::cerr << "squall: error: " << error->describe() << "\n";
    return exit_bad_input;
  }
  if (options.allow_large_run) reproduce += " --allow-large-run";
  setup.reproduce = reproduce;

  // From here on SIGINT, SIGTERM and (for a simulation) the wall-clock limit stop the run instead of
  // killing it; constructed before any thread of the run starts.
  const run_guard guard(real_clock ? std::nullopt : std::optional<double>(options.wall_s_max));
  setup.stop = &guard.stop_flag();
  setup.stop_reason = [&guard] { return guard.reason(); };

  if (!term.quiet) {
    std::cout << "squall " << squall_version << " | scenario " << s.name << " (sha256:" << s.digest.substr(0, 12)
              << ") | seed " << seed;
    if (options.seeds > 1) std::cout << " to " << seed + options.seeds - 1;
    std::cout << " | " << s.configurations.size() << " configurations | " << s.duration_s << " s "
              << (real_clock ? "live, on the real clock" : "simulated") << "\n";
    if (setup.mode == runs::run_mode::service) {
      std::cout << "service: " << (s.service->base_url.empty() ? "started by squall for each configuration, its "
                                                                  "providers squall's fakes on 127.0.0.1"
                                                                : s.service->base_url)
                << "\n";
    }
    if (setup.mode == runs::run_mode::live && setup.live.targets.empty()) {
      std::cout << "live: squall's fake providers on 127.0.0.1, fresh for each configuration\n";
    }
    for (const auto& c : s.configurations) {
      for (const auto& w : c.pipeline.warnings) std::cout << "warning: " << c.name << ": " << w << "\n";
    }
    std::cout.flush();  // progress lines go to stderr; keep the two in order in a CI log
  }

  printing_observer observer(term);
  runs::scenario_run_result ran = runs::run_scenario(s, setup, observer);
  if (!ran.trace_error.empty()) {
    std::cerr << "squall: error: " << ran.trace_error << "\n";
    return exit_io_error;
  }
  if (ran.bad_input) {
    std::cerr << "squall: error: " << ran.bad_input->describe() << "\n";
    return exit_bad_input;
  }
  const int code = finish_run(*ran.document, out_dir, reproduce, term, !ran.service_failure.empty());
  if (results != nullptr && code != exit_io_error) *results = *ran.document;
  if (!ran.service_failure.empty()) std::cerr << "squall: the service under test failed: " << ran.service_failure << "\n";
  return code;
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

int validate_command(const validate_options& options) {
  auto inputs = command_line_inputs(options.sets, options.env);
  if (!inputs) {
    std::cerr << "squall: error: " << inputs.error().describe() << "\n";
    return exit_bad_input;
  }
  bool from_folder = false;
  auto files = scenario_files(options.paths, from_folder);
  if (!files) {
    std::cerr << "squall: error: " << files.error().describe() << "\n";
    return exit_bad_input;
  }
  int status = exit_ok;
  for (const auto& f : *files) {
    auto loaded = sim::load_scenario(f, *inputs);
    if (!loaded) {
      std::cerr << "squall: error: " << loaded.error().describe() << "\n";
      status = exit_bad_input;
      continue;
    }
    // What `squall run` would refuse before running, validate refuses too (one seed, sim mode).
    const auto estimate = sim::estimate_run(*loaded, 1);
    const sim::run_limits limits = options.allow_large_run ? sim::run_limits::large() : sim::run_limits{};
    const char* raise_hint = options.allow_large_run ? nullptr : "--allow-large-run";
    if (auto error = sim::check_run_limits(*loaded, estimate, limits, true, raise_hint)) {
      std::cerr << "squall: error: " << error->describe() << "\n";
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
