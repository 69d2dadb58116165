#include "reports/suite_index.hpp"

#include <sstream>

#include "reports/format.hpp"
#include "squall_version.hpp"

namespace squall::reports {
namespace {

const json& field(const json& j, const char* key) {
  static const json null_value;
  if (!j.is_object()) return null_value;
  const auto it = j.find(key);
  return it == j.end() ? null_value : *it;
}

std::string verdict_of(const suite_run& run) {
  if (run.results.is_object() && field(run.results, "verdict").is_string()) return field(run.results, "verdict").get<std::string>();
  return "error";
}

std::pair<std::size_t, std::size_t> assertions_held(const json& results) {
  std::size_t held = 0, total = 0;
  const json& assertions = field(results, "assertions");
  if (!assertions.is_array()) return {0, 0};
  for (const auto& a : assertions) {
    ++total;
    if (field(a, "passed").is_boolean() && field(a, "passed").get<bool>()) ++held;
  }
  return {held, total};
}


double summary_value(const json& config, const char* key) {
  const json& v = field(field(config, "summary"), key);
  return v.is_number() ? v.get<double>() : 0;
}

}  // namespace

json suite_summary(const std::vector<suite_run>& runs, int exit_code) {
  json doc = json::object();
  doc["format"] = "squall-summary/1";
  doc["squall_version"] = squall_version;
  std::string verdict = "pass";
  json list = json::array();
  for (const auto& run : runs) {
    json entry = json::object();
    const json& scenario = field(run.results, "scenario");
    entry["scenario"] = field(scenario, "name").is_string() ? field(scenario, "name") : json(run.file);
    entry["file"] = run.file;
    entry["out_dir"] = run.out_dir;
    entry["exit_code"] = run.exit_code;
    entry["verdict"] = verdict_of(run);
    if (!run.error.empty()) entry["error"] = run.error;
    for (const char* key : {"seed", "seeds", "reproduce"}) {
      if (!field(run.results, key).is_null()) entry[key] = field(run.results, key);
    }
    json configs = json::array();
    const json& configurations = field(run.results, "configurations");
    if (configurations.is_array()) {
      for (const auto& c : configurations) {
        json out = json::object();
        out["name"] = field(c, "name");
        if (field(c, "reference").is_string() && !field(c, "reference").get<std::string>().empty()) {
          out["reference"] = field(c, "reference");
        }
        out["summary"] = field(c, "summary");
        configs.push_back(std::move(out));
      }
    }
    entry["configurations"] = std::move(configs);
    entry["assertions"] = field(run.results, "assertions").is_array() ? field(run.results, "assertions") : json::array();
    const std::string v = entry["verdict"].get<std::string>();
    if (v != "pass" && verdict == "pass") verdict = v;
    list.push_back(std::move(entry));
  }
  doc["verdict"] = verdict;
  doc["exit_code"] = exit_code;
  doc["runs"] = std::move(list);
  return doc;
}

std::string suite_markdown(const std::vector<suite_run>& runs, int exit_code) {
  std::ostringstream out;
  std::size_t passed = 0;
  for (const auto& run : runs) passed += verdict_of(run) == "pass" ? 1u : 0u;
  out << "# squall: " << passed << " of " << runs.size() << " scenarios passed (exit code " << exit_code << ")\n\n";
  out << "| Scenario | Verdict | Assertions held | Report |\n|---|---|---|---|\n";
  for (const auto& run : runs) {
    const auto [held, total] = assertions_held(run.results);
    const json& name = field(field(run.results, "scenario"), "name");
    out << "| " << markdown_cell(name.is_string() ? name.get<std::string>() : run.file) << " | " << verdict_of(run) << " | "
        << held << " of " << total << " | " << (run.results.is_null() ? markdown_cell(run.error) : "[" + markdown_cell(run.out_dir) + "](" + run.out_dir + "/report.html)")
        << " |\n";
  }
  out << "\n## Configurations\n\n| Scenario | Configuration | Success | p95 | p99 | Attempts/request | Cost |\n"
         "|---|---|---|---|---|---|---|\n";
  for (const auto& run : runs) {
    const json& configurations = field(run.results, "configurations");
    if (!configurations.is_array()) continue;
    const json& name = field(field(run.results, "scenario"), "name");
    for (const auto& c : configurations) {
      std::string label = field(c, "name").is_string() ? field(c, "name").get<std::string>() : "";
      if (field(c, "reference").is_string() && !field(c, "reference").get<std::string>().empty()) label += " (reference)";
      out << "| " << markdown_cell(name.is_string() ? name.get<std::string>() : run.file) << " | " << markdown_cell(label) << " | "
          << format_value(summary_value(c, "success_rate"), unit::percent) << " | "
          << format_value(summary_value(c, "latency_p95_ms"), unit::ms) << " | "
          << format_value(summary_value(c, "latency_p99_ms"), unit::ms) << " | "
          << format_value(summary_value(c, "attempts_per_request"), unit::ratio) << " | "
          << format_value(summary_value(c, "cost_usd"), unit::usd) << " |\n";
    }
  }
  return out.str();
}

}  // namespace squall::reports
