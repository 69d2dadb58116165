#include "reports/html/suite_index_html.hpp"

#include "reports/format.hpp"
#include "reports/html/report_html.hpp"
#include "squall_version.hpp"

namespace squall::reports {
namespace {

constexpr const char* index_css = R"css(
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: #1d1d1f; background: #f6f6f4; }
main { max-width: 1120px; margin: 0 auto; padding: 16px 20px 40px; }
h1 { font-size: 22px; margin: 6px 0 12px; }
table { border-collapse: collapse; background: #fff; border: 1px solid #ddd; width: 100%; }
th, td { padding: 5px 10px; border-bottom: 1px solid #eee; text-align: left; vertical-align: top; }
td.num { text-align: right; white-space: nowrap; }
.verdict { font-weight: 700; color: #fff; border-radius: 4px; padding: 1px 8px; }
.pass { background: #2e7d32; } .fail { background: #c62828; } .incomplete, .error { background: #ef6c00; }
.ref { font-size: 11px; color: #666; background: #eee; border-radius: 3px; padding: 0 5px; }
footer { color: #777; font-size: 12px; margin-top: 18px; }
)css";

const json& field(const json& j, const char* key) {
  static const json null_value;
  if (!j.is_object()) return null_value;
  const auto it = j.find(key);
  return it == j.end() ? null_value : *it;
}

std::string string_of(const json& j, const char* key, const std::string& fallback = "") {
  const json& v = field(j, key);
  return v.is_string() ? v.get<std::string>() : fallback;
}

double summary_value(const json& config, const char* key) {
  const json& v = field(field(config, "summary"), key);
  return v.is_number() ? v.get<double>() : 0;
}

}  // namespace

std::string suite_index_html(const std::vector<suite_run>& runs, int exit_code) {
  std::size_t passed = 0;
  for (const auto& run : runs) passed += string_of(run.results, "verdict") == "pass" ? 1u : 0u;
  std::string out = "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
                    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>squall: " +
                    std::to_string(passed) + " of " + std::to_string(runs.size()) + " scenarios passed</title>\n<style>" +
                    index_css + "</style>\n</head>\n<body>\n<main>\n";
  out += "<h1>" + std::to_string(passed) + " of " + std::to_string(runs.size()) +
         " scenarios passed <small>(exit code " + std::to_string(exit_code) + ")</small></h1>\n";
  out += "<table id=\"scenarios\">\n<thead><tr><th>Scenario</th><th>Verdict</th><th>Configuration</th><th>Success</th>"
         "<th>p95</th><th>Attempts/request</th><th>Cost</th><th>Assertions held</th></tr></thead>\n<tbody>\n";
  for (const auto& run : runs) {
    const std::string verdict = run.results.is_null() ? "error" : string_of(run.results, "verdict", "error");
    const std::string name = string_of(field(run.results, "scenario"), "name", run.file);
    const json& configurations = field(run.results, "configurations");
    const std::size_t rows = configurations.is_array() && !configurations.empty() ? configurations.size() : 1;
    std::size_t held = 0, total = 0;
    if (field(run.results, "assertions").is_array()) {
      for (const auto& a : field(run.results, "assertions")) {
        ++total;
        held += field(a, "passed").is_boolean() && field(a, "passed").get<bool>() ? 1u : 0u;
      }
    }
    const std::string span = " rowspan=\"" + std::to_string(rows) + "\"";
    out += "<tr class=\"scenario\" data-verdict=\"" + escape_html(verdict) + "\"><td" + span + ">";
    out += run.results.is_null() ? escape_html(name) + "<br>" + escape_html(run.error)
                                 : "<a href=\"" + escape_html(run.out_dir) + "/report.html\">" + escape_html(name) + "</a>";
    out += "</td><td" + span + "><span class=\"verdict " + escape_html(verdict) + "\">" + escape_html(verdict) + "</span></td>";
    if (!configurations.is_array() || configurations.empty()) {
      out += "<td colspan=\"5\"></td><td class=\"num\"" + span + ">" + std::to_string(held) + " of " + std::to_string(total) + "</td></tr>\n";
      continue;
    }
    for (std::size_t i = 0; i < configurations.size(); ++i) {
      const json& c = configurations[i];
      if (i > 0) out += "<tr>";
      out += "<td>" + escape_html(string_of(c, "name"));
      if (!string_of(c, "reference").empty()) out += " <span class=\"ref\">reference</span>";
      out += "</td><td class=\"num\">" + format_value(summary_value(c, "success_rate"), unit::percent) + "</td><td class=\"num\">" +
             format_value(summary_value(c, "latency_p95_ms"), unit::ms) + "</td><td class=\"num\">" +
             format_value(summary_value(c, "attempts_per_request"), unit::ratio) + "</td><td class=\"num\">" +
             format_value(summary_value(c, "cost_usd"), unit::usd) + "</td>";
      if (i == 0) out += "<td class=\"num\"" + span + ">" + std::to_string(held) + " of " + std::to_string(total) + "</td>";
      out += "</tr>\n";
    }
  }
  out += "</tbody>\n</table>\n<footer>squall " + escape_html(squall_version) + "</footer>\n</main>\n</body>\n</html>\n";
  return out;
}

}  // namespace squall::reports
