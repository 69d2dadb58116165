#include "cli/replay_command.hpp"

#include <cstdio>
#include <filesystem>
#include <iostream>

#include "cli/exit_codes.hpp"
#include "cli/flag_checks.hpp"
#include "cli/output_files.hpp"
#include "policies/core/json_parse.hpp"
#include "sim/scenario/scenario.hpp"
#include "traces/replay/reconstruct.hpp"
#include "traces/trace.hpp"

namespace fs = std::filesystem;

namespace squall::cli {
namespace {

void add_reconstruction_flags(CLI::App* cmd, replay_args& args) {
  cmd->add_option("trace", args.trace_path, "Trace file (JSON Lines, docs/trace-format.md)")->required();
  cmd->add_option("--policies", args.policy_files,
                  "Policy file(s); each becomes a configuration named after the file's stem (default: one\n"
                  "configuration \"as-recorded\" with no policy)");
  cmd->add_option("--window-s", args.window_s,
                  "Length of the windows the trace is cut into (default: its span / 60, within 1 to 60 s)")
      ->check(CLI::Range(0.001, 86400.0));
  cmd->add_option("--name", args.name, "The scenario's name (default: the trace file's stem)");
  cmd->add_option("--service", args.service_file,
                  "A JSON file holding a \"service\" block (docs/black-box.md): replay the incident against your\n"
                  "own service instead of squall's policies (not with --policies)");
}

// The service block of --service, its "cwd" made relative to `base_dir` (where the scenario is parsed
// from). Prints the error and returns nullopt on bad input.
std::optional<json> read_service_block(const std::string& file, const fs::path& base_dir) {
  auto block = read_json_file(file);
  if (!block) {
    std::cerr << "squall: error: --service: " << block.error().describe() << "\n";
    return std::nullopt;
  }
  if (!block->is_object()) {
    std::cerr << "squall: error: --service: " << file << ": expected an object, the \"service\" block of a scenario\n";
    return std::nullopt;
  }
  json service = std::move(*block);
  std::error_code ec;
  const fs::path folder = fs::absolute(fs::path(file), ec).parent_path();
  const fs::path cwd = folder / (service.contains("cwd") && service["cwd"].is_string()
                                     ? service["cwd"].get<std::string>()
                                     : std::string());
  service["cwd"] = cwd.lexically_normal().lexically_proximate(fs::absolute(base_dir, ec)).generic_string();
  return service;
}

// The scenario document for the trace; policy paths are written relative to `base_dir` (where the
// scenario will be parsed from). Prints the error and returns nullopt on bad input.
std::optional<json> reconstruct(const replay_args& args, const fs::path& base_dir) {
  auto t = traces::read_trace(args.trace_path);
  if (!t) {
    std::cerr << "squall: error: " << t.error().describe() << "\n";
    return std::nullopt;
  }
  traces::reconstruct_options o;
  o.source = args.trace_path;
  o.name = args.name.empty() ? fs::path(args.trace_path).stem().string() : args.name;
  o.window_s = args.window_s;
  if (args.run.seed) o.seed = *args.run.seed;
  for (const auto& file : args.policy_files) {
    const std::string name = fs::path(file).stem().string();
    std::error_code ec;
    const fs::path absolute = fs::absolute(file, ec);
    const fs::path relative = ec ? fs::path(file) : absolute.lexically_proximate(fs::absolute(base_dir, ec));
    o.policies.emplace_back(name, relative.generic_string());
  }
  auto doc = traces::scenario_from_trace(*t, o);
  if (!doc) {
    std::cerr << "squall: error: " << doc.error().describe() << "\n";
    return std::nullopt;
  }
  if (!args.service_file.empty()) {
    if (!args.policy_files.empty()) {
      std::cerr << "squall: error: --service: the incident is replayed against your service or against "
                   "policies, not both; drop --policies\n";
      return std::nullopt;
    }
    auto service = read_service_block(args.service_file, base_dir);
    if (!service) return std::nullopt;
    doc->erase("policies");
    (*doc)["service"] = std::move(*service);
  }
  return std::move(*doc);
}

// The scenario as a person reads it: pretty JSON, except the arrival times on one line each 10 values
// (a trace's thousands of times would otherwise take a line each).
std::string pretty(json doc) {
  json times = std::move(doc["workload"]["arrivals"]["times_s"]);
  const std::string marker = "\"@times_s@\"";
  doc["workload"]["arrivals"]["times_s"] = "@times_s@";
  std::string text = dump_json(doc, 2);
  std::string list = "[";
  for (std::size_t i = 0; i < times.size(); ++i) {
    if (i > 0) list += i % 10 == 0 ? ",\n          " : ", ";
    list += times[i].dump();
  }
  list += "]";
  text.replace(text.find(marker), marker.size(), list);
  return text + "\n";
}

void print_windows(const json& doc) {
  std::cout << doc["description"].get<std::string>() << "\n";
  for (const auto& [name, provider] : doc["providers"].items()) {
    if (!provider.contains("faults")) continue;
    for (const auto& f : provider["faults"]) {
      const double at = f["at_s"].get<double>();
      std::printf("  %-12s [%8.1f s, %8.1f s)", name.c_str(), at, at + f["for_s"].get<double>());
      if (f.contains("outage")) std::printf("  outage %s", f["outage"].get<std::string>().c_str());
      if (f.contains("errors")) std::printf("  errors %s", dump_json(f["errors"]).c_str());
      if (f.contains("latency_x")) std::printf("  latency x%s", f["latency_x"].dump().c_str());
      if (f.contains("retry_after_s")) std::printf("  retry-after %s s", f["retry_after_s"].dump().c_str());
      std::printf("\n");
    }
  }
  std::fflush(stdout);
}

}  // namespace

CLI::App* add_trace2scenario_command(CLI::App& app, replay_args& args) {
  auto* cmd = app.add_subcommand("trace2scenario",
                                 "Reconstruct a scenario from a trace (arrivals, request mix, provider behaviour over "
                                 "time) and write it as an ordinary scenario file to edit and commit");
  add_reconstruction_flags(cmd, args);
  cmd->add_option("--out", args.out, "Scenario file to write (default: <trace stem>.scenario.json)");
  cmd->add_option("--seed", args.run.seed, "The scenario's \"seed\" (default 1)")->check(unsigned_integer);
  return cmd;
}

CLI::App* add_replay_command(CLI::App& app, replay_args& args) {
  auto* cmd = app.add_subcommand("replay",
                                 "Replay a trace: reconstruct its scenario in memory and run it against the given "
                                 "policies, as `squall run` does");
  add_reconstruction_flags(cmd, args);
  cmd->add_option("--mode", args.run.mode, "sim: virtual time (default); live: real clock, real HTTP on loopback")
      ->check(CLI::IsMember({"sim", "live"}));
  cmd->add_option("--out", args.out, "Output directory (default: squall-out/<name>)")->check(output_folder);
  cmd->add_option("--seed", args.run.seed, "Root seed (default 1)")->check(unsigned_integer);
  cmd->add_option("--max-wall-s", args.run.wall_s_max, "Sim: stop after this many seconds of real time (default 3600)")
      ->check(CLI::Range(0.001, 31'536'000.0));
  cmd->add_flag("--allow-large-run", args.run.allow_large_run, "Raise the run limits (docs/scenario-format.md)");
  cmd->add_flag("-q,--quiet", args.quiet, "Print nothing but errors and failed assertions");
  cmd->add_flag("--no-color", args.no_color, "No colors (NO_COLOR in the environment does the same)");
  return cmd;
}

int trace2scenario_command(const replay_args& args) {
  const fs::path out = args.out.empty() ? fs::path(fs::path(args.trace_path).stem().string() + ".scenario.json")
                                        : fs::path(args.out);
  const fs::path base_dir = out.has_parent_path() ? out.parent_path() : fs::path(".");
  auto doc = reconstruct(args, base_dir);
  if (!doc) return exit_bad_input;
  // What is written must load: the policy files exist and are valid from where the scenario lies.
  auto parsed = sim::parse_scenario(*doc, base_dir);
  if (!parsed) {
    config_error e = parsed.error();
    if (e.file.empty()) e.file = out.string();
    std::cerr << "squall: error: " << e.describe() << "\n";
    return exit_bad_input;
  }
  std::string error;
  if (!write_atomically(out, pretty(*doc), error)) {
    std::cerr << "squall: error: " << error << "\n";
    return exit_io_error;
  }
  print_windows(*doc);
  std::cout << "wrote " << out.string() << " (" << parsed->configurations.size() << " configurations)\n";
  return exit_ok;
}

int replay_command(const replay_args& args) {
  auto doc = reconstruct(args, ".");
  if (!doc) return exit_bad_input;
  auto parsed = sim::parse_scenario(*doc, ".");
  if (!parsed) {
    std::cerr << "squall: error: " << args.trace_path << " (reconstructed): " << parsed.error().describe() << "\n";
    return exit_bad_input;
  }
  parsed->file = args.trace_path;
  if (parsed->name.empty()) parsed->name = fs::path(args.trace_path).stem().string();
  const terminal term = detect_terminal(args.quiet, args.no_color);
  if (!term.quiet) print_windows(*doc);
  std::string command = "squall replay " + shell_quote(args.trace_path);
  for (const auto& f : args.policy_files) command += " --policies " + shell_quote(f);
  if (!args.service_file.empty()) command += " --service " + shell_quote(args.service_file);
  if (args.window_s) command += " --window-s " + json(*args.window_s).dump();
  if (!args.name.empty()) command += " --name " + shell_quote(args.name);
  run_options options = args.run;
  options.out_dir = args.out;
  return run_scenario(*parsed, options, command, term);
}

}  // namespace squall::cli
