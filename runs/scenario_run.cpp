#include "runs/scenario_run.hpp"

#include <chrono>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <memory>

#include "fake_providers/fake_server.hpp"
#include "fake_providers/serve.hpp"
#include "reports/aggregate.hpp"
#include "reports/results.hpp"
#include "sim/run/simulation.hpp"
#include "traces/trace.hpp"

namespace squall::runs {
namespace {

// One configuration, live: against the given targets, or against fresh in-process fake providers so
// that every configuration meets the fault timeline from its start, as in the simulation.
config_result<sim::configuration_result> run_live(const sim::scenario& s, std::size_t index, std::uint64_t seed,
                                                  sim::live_options options, const sim::progress_fn& progress) {
  std::unique_ptr<fake::fake_server> servers;
  if (options.targets.empty()) {
    fake::serve_options serve;
    serve.seed = seed;
    servers = std::make_unique<fake::fake_server>(s.providers, fake::options_for(s, serve));
    if (auto error = servers->start()) return config_error{"fake providers", "", *error};
    for (const auto& e : servers->endpoints()) options.targets.push_back({e.provider, e.transport_base_url});
  }
  return sim::run_live_configuration(s, index, seed, options, progress);
}

// The wall-clock time of a live trace's t_ms = 0, in UTC (ISO 8601, milliseconds). A simulated trace has
// no wall-clock start.
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

bool stopped(const scenario_run_setup& setup) {
  return setup.stop && setup.stop->load(std::memory_order_acquire);
}

std::string stop_reason(const scenario_run_setup& setup) {
  return setup.stop_reason ? setup.stop_reason() : std::string("stopped by the user");
}

// One pass over every configuration with one seed: the results document of that seed. Once the stop flag
// is set, the configuration under way ends where it is and no further one starts; a failing service ends
// the pass the same way.
scenario_run_result run_pass(const sim::scenario& s, std::uint64_t seed, const std::string& label_suffix,
                             const scenario_run_setup& setup, scenario_run_observer& observer) {
  scenario_run_result out;
  std::vector<sim::configuration_result> results;
  std::vector<sim::summary> summaries;
  for (std::size_t i = 0; i < s.configurations.size(); ++i) {
    if (!results.empty() && stopped(setup)) break;  // the rest are reported as not run
    if (!out.service_failure.empty()) break;
    const auto& name = s.configurations[i].name;
    const std::string label = name + label_suffix;
    std::unique_ptr<traces::trace_writer> trace;
    if (!setup.trace_path.empty()) {
      traces::trace_header header;
      header.source = setup.mode == run_mode::live ? "live" : "sim";
      if (setup.mode == run_mode::live) header.started_at = utc_now_iso8601();
      auto opened = traces::trace_writer::open(trace_path_for(setup.trace_path, name, s.configurations.size()), header);
      if (!opened) {
        out.trace_error = opened.error().describe();
        return out;
      }
      trace = std::move(*opened);
    }
    observer.configuration_started(label);
    const sim::progress_fn show = [&](double fraction) { observer.progress(fraction); };
    std::string service_log;
    switch (setup.mode) {
      case run_mode::service: {
        service_run_options options = setup.service;
        options.live.stop = setup.stop;
        auto ran = run_service_configuration(s, i, seed, options, show);
        if (ran.failure) {
          observer.configuration_failed(label);
          out.service_failure = name + ": " + ran.failure->message;
          break;
        }
        results.push_back(std::move(*ran.result));
        service_log = ran.log_path;
        // A service that died mid-run ends the run, as one that does not start: the rest are not run.
        if (ran.service_died) out.service_failure = name + ": " + results.back().incomplete_reason;
        break;
      }
      case run_mode::live: {
        sim::live_options options = setup.live;
        options.stop = setup.stop;
        options.trace = trace.get();
        auto result = run_live(s, i, seed, std::move(options), show);
        if (!result) {
          out.bad_input = result.error();
          return out;
        }
        results.push_back(std::move(*result));
        break;
      }
      case run_mode::sim:
        results.push_back(sim::run_configuration(s, i, seed, show, trace.get(), setup.stop));
        break;
    }
    if (results.size() < i + 1) break;  // the service could not start: nothing ran
    // Say what stopped it: the signal or the limit, then where the run was.
    if (results.back().incomplete && stopped(setup)) {
      auto& reason = results.back().incomplete_reason;
      const std::string why = stop_reason(setup);
      reason = reason == "stopped by the user" || reason.empty() ? why : why + ", " + reason;
    }
    if (trace) {
      if (auto error = trace->finish()) {
        out.trace_error = error->describe();
        return out;
      }
    }
    summaries.push_back(sim::summarize(results.back()));
    observer.configuration_finished(label, summaries.back(), results.back().incomplete, service_log);
  }
  const auto verdicts = sim::check_assertions(s, results, summaries);
  json doc = reports::results_document({s, seed, to_string(setup.mode), setup.reproduce, results, summaries, verdicts});
  if (!out.service_failure.empty()) {
    doc["incomplete"] = true;
    doc["incomplete_reason"] = "the service under test failed: " + out.service_failure;
    doc["verdict"] = "incomplete";
  }
  out.document = std::move(doc);
  return out;
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

const char* to_string(run_mode mode) noexcept {
  switch (mode) {
    case run_mode::sim: return "sim";
    case run_mode::live: return "live";
    case run_mode::service: return "service";
  }
  return "sim";
}

scenario_run_result run_scenario(const sim::scenario& s, const scenario_run_setup& setup,
                                 scenario_run_observer& observer) {
  const std::uint32_t seeds = std::max<std::uint32_t>(setup.seeds, 1);
  std::vector<json> runs;
  std::string service_failure;
  for (std::uint32_t k = 0; k < seeds; ++k) {
    const std::uint64_t run_seed = setup.seed + k;
    const std::string suffix = seeds > 1 ? " (seed " + std::to_string(run_seed) + ")" : "";
    scenario_run_result pass = run_pass(s, run_seed, suffix, setup, observer);
    if (pass.bad_input || !pass.trace_error.empty()) return pass;
    runs.push_back(std::move(*pass.document));
    service_failure = std::move(pass.service_failure);
    if (stopped(setup) || !service_failure.empty()) break;
  }
  scenario_run_result out;
  out.service_failure = std::move(service_failure);
  if (runs.size() == 1 && (seeds <= 1 || (!stopped(setup) && out.service_failure.empty()))) {
    out.document = std::move(runs.front());
    return out;
  }
  // Aggregation takes documents of one scenario; it cannot fail on these, and says so if it does.
  if (stopped(setup) || !out.service_failure.empty()) {
    auto doc = aggregate_stopped(std::move(runs), seeds,
                                 stopped(setup) ? stop_reason(setup) : "the service under test failed: " + out.service_failure);
    if (!doc) throw std::logic_error("aggregating the seeds of one scenario: " + doc.error().describe());
    (*doc)["reproduce"] = setup.reproduce;
    out.document = std::move(*doc);
    return out;
  }
  auto aggregated = reports::aggregate_seeds(runs);
  if (!aggregated) throw std::logic_error("aggregating the seeds of one scenario: " + aggregated.error().describe());
  (*aggregated)["reproduce"] = setup.reproduce;
  out.document = std::move(*aggregated);
  return out;
}

std::string trace_path_for(const std::string& path, const std::string& name, std::size_t count) {
  if (count <= 1) return path;
  std::string safe = name;
  for (char& c : safe) {
    const bool keep = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
                      c == '_' || c == '-';
    if (!keep) c = '_';
  }
  const std::filesystem::path p(path);
  const std::string extension = p.extension().string();
  std::filesystem::path out = p;
  out.replace_filename(p.stem().string() + "." + safe + extension);
  return out.string();
}

}  // namespace squall::runs
