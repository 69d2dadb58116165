#include "cli/run_command.hpp"

#include <atomic>
#include <chrono>
#include <ctime>
#include <algorithm>
#include <cstdio>
#include <memory>
#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

#include "cli/exit_codes.hpp"
#include "cli/output_files.hpp"
#include "cli/run_guard.hpp"
#include "cli/run_outputs.hpp"
#include "fake_providers/fake_server.hpp"
#include "fake_providers/serve.hpp"
#include "reports/aggregate.hpp"
#include "reports/compare.hpp"
#include "reports/results_input.hpp"
#include "policies/pipeline/pipeline.hpp"
#include "reports/results.hpp"
#include "runs/service_run.hpp"
#include "sim/live/live_run.hpp"
#include "sim/run/run_budget.hpp"
#include "sim/run/simulation.hpp"
#include "sim/run/summary.hpp"
#include "sim/scenario/scenario.hpp"
#include "squall_version.hpp"
#include "traces/trace.hpp"

namespace fs = std::filesystem;

namespace squall::cli {

namespace {

constexpr std::uint64_t default_seed = 1;

// How each configuration of a live run reaches its providers.
struct live_setup {
  sim::live_options options;
  bool own_servers = false;  // start squall's fake providers afresh for each configuration
};

// One configuration, live: against the given targets, or against fresh in-process fake providers so
// that every configuration meets the fault timeline from its start, as in the simulation.
config_result<sim::configuration_result> run_live(const sim::scenario& s, std::size_t index, std::uint64_t seed,
                                                  live_setup& live, const sim::progress_fn& progress) {
  std::unique_ptr<fake::fake_server> servers;
  sim::live_options options = live.options;
  if (live.own_servers) {
    fake::serve_options serve;
    serve.seed = seed;
    servers = std::make_unique<fake::fake_server>(s.providers, fake::options_for(s, serve));
    if (auto error = servers->start()) return config_error{"fake providers", "", *error};
    options.targets.clear();
    for (const auto& e : servers->endpoints()) options.targets.push_back({e.provider, e.base_url});
  }
  return sim::run_live_configuration(s, index, seed, options, progress);
}

// A run with a service under test: where its logs go, and the failure that ended the run, if one did.
struct service_setup {
  runs::service_run_options options;
  std::string failure;  // the first: the service did not start, was not ready or died during the run
};

// The wall-clock time of a live trace's t_ms = 0, in UTC (ISO 8601, milliseconds). The command line is
// where squall may read the real clock; a simulated trace has no wall-clock start.
std::string utc_now_iso8601() {
  const auto now = std::chrono::system_clock::now();
  const std::time_t seconds = std::chrono::system_clock::to_time_t(now);
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char buffer[96];  // room for any int the format could meet, which -Wformat-truncation checks
  std::snprintf(buffer, sizeof buffer, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", utc.tm_year + 1900, utc.tm_mon + 1,
                utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec, static_cast<int>(ms));
  return buffer;
}

// A failure to write a trace: exit 3 (the run's other outputs are not written either).
struct trace_failure {
  std::string message;
};

// One pass over every configuration with one seed: the results document of that seed. Once `guard` has
// stopped the run, the configuration under way ends where it is and no further one starts.
config_result<json> run_once(const sim::scenario& s, std::uint64_t seed, const std::string& reproduce,
                             const terminal& term, const std::string& label_suffix, live_setup* live,
                             service_setup* service, const std::string& trace_path,
                             std::optional<trace_failure>& trace_error, const run_guard& guard) {
  std::vector<sim::configuration_result> results;
  std::vector<sim::summary> summaries;
  for (std::size_t i = 0; i < s.configurations.size(); ++i) {
    if (!results.empty() && guard.stopped()) break;  // the rest are reported as not run
    if (service && !service->failure.empty()) break;
    const auto& name = s.configurations[i].name;
    std::unique_ptr<traces::trace_writer> trace;
    if (!trace_path.empty()) {
      traces::trace_header header;
      header.source = live ? "live" : "sim";
      if (live) header.started_at = utc_now_iso8601();
      auto opened = traces::trace_writer::open(trace_path_for(trace_path, name, s.configurations.size()), header);
      if (!opened) {
        trace_error = trace_failure{opened.error().describe()};
        return config_error{};
      }
      trace = std::move(*opened);
    }
    progress_display progress(term, name + label_suffix);
    auto show = [&](double fraction) { progress.update(fraction); };
    if (service) {
      auto ran = runs::run_service_configuration(s, i, seed, service->options, show);
      if (ran.failure) {
        progress.finish();
        service->failure = name + ": " + ran.failure->message;
        break;  // the configurations after it are reported as not run
      }
      results.push_back(std::move(*ran.result));
      if (!term.quiet && !ran.log_path.empty()) std::printf("  service log: %s\n", ran.log_path.c_str());
      // A service that died mid-run ends the run, as one that does not start: the rest are not run.
      if (ran.service_died) service->failure = name + ": " + results.back().incomplete_reason;
    } else if (live) {
      live->options.trace = trace.get();
      auto result = run_live(s, i, seed, *live, show);
      live->options.trace = nullptr;
      if (!result) return result.error();
      results.push_back(std::move(*result));
    } else {
      results.push_back(sim::run_configuration(s, i, seed, show, trace.get(), &guard.stop_flag()));
    }
    // Say what stopped it: the signal or the limit, then where the run was.
    if (results.back().incomplete && guard.stopped()) {
      auto& reason = results.back().incomplete_reason;
      reason = reason == "stopped by the user" || reason.empty() ? guard.reason() : guard.reason() + ", " + reason;
    }
    if (trace) {
      if (auto error = trace->finish()) {
        trace_error = trace_failure{error->describe()};
        return config_error{};
      }
    }
    summaries.push_back(sim::summarize(results.back()));
    progress.finish();
    if (!term.quiet) {
      std::printf("  ran %-20s %10.0f requests in %.2f s%s%s\n", name.c_str(),
                  sim::summary_value(summaries.back(), "requests"), progress.elapsed_s(), label_suffix.c_str(),
                  results.back().incomplete ? " (stopped early: incomplete)" : "");
      std::fflush(stdout);
    }
  }
  const auto verdicts = sim::check_assertions(s, results, summaries);
  const char* mode = service ? "service" : live ? "live" : "sim";
  json doc = reports::results_document({s, seed, mode, reproduce, results, summaries, verdicts});
  if (service && !service->failure.empty()) {
    doc["incomplete"] = true;
    doc["incomplete_reason"] = "the service under test failed: " + service->failure;
    doc["verdict"] = "incomplete";
  }
  return doc;
}

// Prints where the outputs went and the verdict; returns the exit code: exit_incomplete for an
// interrupted run whatever its assertions say, since it has not shown that they hold.
int finish_run(const json& doc, const std::string& out_dir, const std::string& reproduce, const terminal& term,
               const service_setup* service = nullptr) {
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
    return service && !service->failure.empty() ? exit_service_failed : exit_incomplete;
  }
  if (!passed) {
    std::cerr << "squall: assertions failed; reproduce: " << reproduce << "\n";
    return exit_assertions_failed;
  }
  return exit_ok;
}

// Several seeds of which the last was stopped: the means of the seeds that finished (or the stopped
// run alone when none did), marked incomplete with how far the run got. The assertions keep their
// pass or fail over the finished seeds, but the run's verdict is "incomplete".
config_result<json> aggregate_stopped(std::vector<json> runs, std::uint32_t seeds, const std::string& reason) {
  json partial;
  if (!runs.empty() && runs.back().value("incomplete", false)) {
    partial = std::move(runs.back());
    runs.pop_back();
  }
  if (runs.empty()) return partial;
  const std::size_t finished = runs.size();
  json doc;
  if (finished == 1) {
    doc = std::move(runs.front());
  } else {
    auto aggregated = reports::aggregate_seeds(runs);
    if (!aggregated) return aggregated.error();
    doc = std::move(*aggregated);
  }
  doc["incomplete"] = true;
  doc["incomplete_reason"] = reason + "; " + std::to_string(finished) + " of " + std::to_string(seeds) +
                             " seeds finished, the figures are theirs";
  // Every configuration ran on the seeds that finished; the stopped seed's figures are left out.
  doc["not_run"] = json::array();
  for (auto& a : doc["assertions"]) a["verdict"] = a.value("passed", false) ? "pass" : "fail";
  doc["verdict"] = "incomplete";
  return doc;
}

}  // namespace

int run_command(const run_options& options, const terminal& term) {
  auto loaded = sim::load_scenario(options.scenario_path);
  if (!loaded) {
    std::cerr << "squall: error: " << loaded.error().describe() << "\n";
    return exit_bad_input;
  }
  return run_scenario(*loaded, options, "squall run " + shell_quote(options.scenario_path), term);
}

int run_scenario(const sim::scenario& s, const run_options& options, const std::string& command,
                 const terminal& term) {
  const std::uint64_t seed = options.seed.value_or(s.seed.value_or(default_seed));
  // The name comes from the scenario (or replay --name): one path component, never a way out of squall-out/.
  const std::string out_dir = options.out_dir.empty() ? "squall-out/" + path_component(s.name) : options.out_dir;
  std::string reproduce = command + " --seed " + std::to_string(seed);
  if (options.seeds > 1) reproduce += " --seeds " + std::to_string(options.seeds);

  if (!options.trace_path.empty() && options.seeds > 1) {
    std::cerr << "squall: error: --trace: a trace records one run; use it without --seeds\n";
    return exit_bad_input;
  }

  // A scenario with a service under test runs on the real clock against that service.
  std::unique_ptr<service_setup> service;
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
    service = std::make_unique<service_setup>();
    service->options.live.allow_remote = options.allow_remote;
    service->options.live.run_s_max = options.live_run_s_max;
    service->options.live.requests_max = options.live_requests_max;
    service->options.logs_dir = out_dir;
    if (auto error = runs::check_service_run(s, service->options)) {
      std::cerr << "squall: error: " << error->describe() << "\n";
      return exit_bad_input;
    }
    if (options.allow_remote) reproduce += " --allow-remote";
  }

  std::unique_ptr<live_setup> live;
  if (options.mode == "live") {
    live = std::make_unique<live_setup>();
    live->options.allow_remote = options.allow_remote;
    live->options.stream = options.live_stream;
    live->options.run_s_max = options.live_run_s_max;
    live->options.requests_max = options.live_requests_max;
    live->options.connections_per_target_max = options.live_connections_max;
    for (const auto& text : options.targets) {
      auto target = sim::parse_live_target(text);
      if (!target) {
        std::cerr << "squall: error: " << target.error().describe() << "\n";
        return exit_bad_input;
      }
      live->options.targets.push_back(*target);
    }
    live->own_servers = live->options.targets.empty();
    if (!live->own_servers) {
      if (auto error = sim::check_live_options(s, live->options)) {
        std::cerr << "squall: error: " << error->describe() << "\n";
        return exit_bad_input;
      }
    }
    reproduce += " --mode live";
    for (const auto& t : options.targets) reproduce += " --target " + shell_quote(t);
    if (options.allow_remote) reproduce += " --allow-remote";
    if (!options.live_stream) reproduce += " --no-stream";
  }

  // Bounded before it starts: the run's size is estimated from the scenario and refused beyond the
  // limits (live runs are capped in requests by their own flags).
  const auto estimate = sim::estimate_run(s, options.seeds);
  const sim::run_limits limits = options.allow_large_run ? sim::run_limits::large() : sim::run_limits{};
  const char* raise_hint = options.allow_large_run ? nullptr : "--allow-large-run";
  if (auto error = sim::check_run_limits(s, estimate, limits, !live && !service, raise_hint)) {
    if (error->file.empty()) error->file = s.file;
    std::cerr << "squall: error: " << error->describe() << "\n";
    return exit_bad_input;
  }
  if (options.allow_large_run) reproduce += " --allow-large-run";

  // From here on SIGINT, SIGTERM and (for a simulation) the wall-clock limit stop the run instead of
  // killing it; constructed before any thread of the run starts.
  const run_guard guard(live || service ? std::nullopt : std::optional<double>(options.wall_s_max));
  if (live) live->options.stop = &guard.stop_flag();
  if (service) service->options.live.stop = &guard.stop_flag();

  if (!term.quiet) {
    std::cout << "squall " << squall_version << " | scenario " << s.name << " (sha256:" << s.digest.substr(0, 12)
              << ") | seed " << seed;
    if (options.seeds > 1) std::cout << " to " << seed + options.seeds - 1;
    std::cout << " | " << s.configurations.size() << " configurations | " << s.duration_s << " s "
              << (live || service ? "live, on the real clock" : "simulated") << "\n";
    if (service) {
      std::cout << "service: " << (s.service->base_url.empty() ? "started by squall for each configuration, its "
                                                                  "providers squall's fakes on 127.0.0.1"
                                                                : s.service->base_url)
                << "\n";
    }
    if (live && live->own_servers) std::cout << "live: squall's fake providers on 127.0.0.1, fresh for each configuration\n";
    for (const auto& c : s.configurations) {
      for (const auto& w : c.pipeline.warnings) std::cout << "warning: " << c.name << ": " << w << "\n";
    }
    std::cout.flush();  // progress lines go to stderr; keep the two in order in a CI log
  }

  // Several seeds: seeds seed, seed+1, ... so that any one of them can be rerun alone with --seed.
  std::vector<json> runs;
  for (std::uint32_t k = 0; k < std::max<std::uint32_t>(options.seeds, 1); ++k) {
    const std::uint64_t run_seed = seed + k;
    const std::string suffix = options.seeds > 1 ? " (seed " + std::to_string(run_seed) + ")" : "";
    std::optional<trace_failure> trace_error;
    auto doc = run_once(s, run_seed, reproduce, term, suffix, live.get(), service.get(), options.trace_path,
                        trace_error, guard);
    if (trace_error) {
      std::cerr << "squall: error: " << trace_error->message << "\n";
      return exit_io_error;
    }
    if (!doc) {
      std::cerr << "squall: error: " << doc.error().describe() << "\n";
      return exit_bad_input;
    }
    runs.push_back(std::move(*doc));
    if (guard.stopped()) break;
  }
  if (runs.size() == 1 && (options.seeds <= 1 || !guard.stopped())) {
    const int code = finish_run(runs.front(), out_dir, reproduce, term, service.get());
    if (service && !service->failure.empty()) {
      std::cerr << "squall: the service under test failed: " << service->failure << "\n";
    }
    return code;
  }
  if (guard.stopped()) {
    auto doc = aggregate_stopped(std::move(runs), options.seeds, guard.reason());
    if (!doc) {
      std::cerr << "squall: internal error: " << doc.error().describe() << "\n";
      return exit_io_error;
    }
    (*doc)["reproduce"] = reproduce;
    return finish_run(*doc, out_dir, reproduce, term);
  }
  auto aggregated = reports::aggregate_seeds(runs);
  if (!aggregated) {  // cannot happen for runs of one scenario; say so rather than write a wrong file
    std::cerr << "squall: internal error: " << aggregated.error().describe() << "\n";
    return exit_io_error;
  }
  (*aggregated)["reproduce"] = reproduce;
  return finish_run(*aggregated, out_dir, reproduce, term);
}

std::string trace_path_for(const std::string& path, const std::string& name, std::size_t count) {
  if (count <= 1) return path;
  std::string safe = name;
  for (char& c : safe) {
    const bool keep = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
                      c == '_' || c == '-';
    if (!keep) c = '_';
  }
  const fs::path p(path);
  const std::string extension = p.extension().string();
  fs::path out = p;
  out.replace_filename(p.stem().string() + "." + safe + extension);
  return out.string();
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

int validate_command(const std::vector<std::string>& files, bool allow_large_run) {
  int status = exit_ok;
  for (const auto& f : files) {
    auto loaded = sim::load_scenario(f);
    if (!loaded) {
      std::cerr << "squall: error: " << loaded.error().describe() << "\n";
      status = exit_bad_input;
      continue;
    }
    // What `squall run` would refuse before running, validate refuses too (one seed, sim mode).
    const auto estimate = sim::estimate_run(*loaded, 1);
    const sim::run_limits limits = allow_large_run ? sim::run_limits::large() : sim::run_limits{};
    const char* raise_hint = allow_large_run ? nullptr : "--allow-large-run";
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
