#include "cli/run_outputs.hpp"

#include <cstdio>
#include <iostream>

#include "cli/output_files.hpp"
#include "policies/core/json_parse.hpp"
#include "reports/format.hpp"
#include "reports/html/report_html.hpp"
#include "reports/junit_xml.hpp"
#include "reports/summary_markdown.hpp"
#include "reports/timeseries_csv.hpp"

namespace squall::cli {

bool write_run_outputs(const std::string& out_dir, const json& doc, std::string& error) {
  // results.json last: it is the file tools look for, so its presence means the set is complete.
  return write_file_set(out_dir,
                        {{"report.html", reports::report_html(doc)},
                         {"summary.md", reports::summary_markdown(doc)},
                         {"junit.xml", reports::junit_xml(doc)},
                         {"timeseries.csv", reports::timeseries_csv(doc)},
                         {"results.json", dump_json(doc, 2) + "\n"}},
                        error);
}

bool print_assertions(const json& doc, const terminal& term) {
  const auto it = doc.find("assertions");
  if (it == doc.end() || !it->is_array() || it->empty()) return true;
  bool all_passed = true;
  if (!term.quiet) std::cout << "\nassertions:\n";
  for (const auto& a : *it) {
    const bool passed = a.value("passed", false);
    all_passed = all_passed && passed;
    if (term.quiet && passed) continue;
    const std::string kind = a.value("kind", "");
    const std::string state = a.contains("verdict") && a["verdict"].is_string() ? a["verdict"].get<std::string>() : "";
    char line[512];
    if (state == "not run") {
      std::snprintf(line, sizeof line, "  not run  %s: %s %s %g (the run stopped before this configuration)\n",
                    a.value("configuration", "").c_str(), a.value("metric", "").c_str(),
                    kind == "min" ? ">=" : "<=", a.value("bound", 0.0));
    } else if (state == "incomplete") {
      std::snprintf(line, sizeof line, "  incomplete  %s: %s = %g on the part that ran, %s %g\n",
                    a.value("configuration", "").c_str(), a.value("metric", "").c_str(), a.value("measured", 0.0),
                    kind == "min" ? "must be >=" : "must be <=", a.value("bound", 0.0));
    } else if (a.contains("metric") && (a.contains("scope") || !a.contains("measured"))) {
      // Scoped to a fault window, or without samples: the shared wording names the window or says why.
      std::snprintf(line, sizeof line, "  %s  %s: %s\n", passed ? "pass" : "FAIL", a.value("configuration", "").c_str(),
                    reports::assertion_detail(a).c_str());
    } else if (a.contains("metric")) {
      std::snprintf(line, sizeof line, "  %s  %s: %s = %g, %s %g\n", passed ? "pass" : "FAIL",
                    a.value("configuration", "").c_str(), a.value("metric", "").c_str(), a.value("measured", 0.0),
                    kind == "min" ? "must be >=" : "must be <=", a.value("bound", 0.0));
    } else {
      std::snprintf(line, sizeof line, "  %s  %s: %s\n", passed ? "pass" : "FAIL",
                    a.value("configuration", "").c_str(), a.value("name", "").c_str());
    }
    (passed ? std::cout : std::cerr) << line;
  }
  return all_passed;
}

}  // namespace squall::cli
