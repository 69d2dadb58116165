#include "reports/html/report_page.hpp"
// The recovery table: for each fault window, how long each configuration's success rate took to come back
// within the tolerance of its calm baseline (results.json's configurations[].recovery, measured by
// sim/run/recovery.hpp). A window a configuration did not recover from says so, with the reason; no
// number is made up for it.

#include <string>

#include "reports/format.hpp"
#include "reports/html/report_html.hpp"

namespace squall::reports::html_detail {

void recovery_html(std::string& out, const page& p) {
  bool any = false;
  for (const auto& c : p.configs) any = any || child(*c.doc, "recovery").is_object();
  if (!any) return;
  const json* first = nullptr;
  for (const auto& c : p.configs) {
    if (!first && child(*c.doc, "recovery").is_object()) first = &child(*c.doc, "recovery");
  }
  const json& windows = child(*first, "windows");
  out += "<section id=\"recovery\"><h2>Recovery</h2>\n<p class=\"note\">Time from a fault window's end until the "
         "success rate is back within " + format_number(number(*first, "tolerance_pp")) + " pp of the calm baseline "
         "(before " + clock_text(number(*first, "baseline_to_s")) + ") and stays there for " +
         format_number(number(*first, "hold_intervals")) + " intervals; exact to one interval (" +
         seconds_text(p.interval_s) + ").</p>\n";
  out += "<table class=\"recovery\">\n<thead><tr><th>fault window</th>";
  for (std::size_t i = 0; i < p.configs.size(); ++i) out += "<th>" + swatch(i) + escape_html(p.configs[i].name) + "</th>";
  out += "</tr></thead>\n<tbody>\n<tr><th>calm success rate</th>";
  for (const auto& c : p.configs) {
    const json& base = child(child(*c.doc, "recovery"), "baseline_success_rate");
    out += "<td>" + (base.is_number() ? format_value(base.get<double>(), unit::percent) : std::string("\xe2\x80\x94")) + "</td>";
  }
  out += "</tr>\n";
  for (std::size_t w = 0; w < (windows.is_array() ? windows.size() : 0); ++w) {
    const json& window = windows[w];
    out += "<tr><th>" + escape_html(text(window, "fault")) + " <span class=\"delta\">" +
           clock_text(number(window, "start_s")) + "\xe2\x80\x93" + clock_text(number(window, "end_s")) + "</span></th>";
    for (const auto& c : p.configs) {
      const json& list = child(child(*c.doc, "recovery"), "windows");
      const json& mine = list.is_array() && w < list.size() ? list[w] : empty_json();
      const json& seconds = child(mine, "recovery_s");
      if (seconds.is_number()) {
        out += "<td class=\"pass\">" + seconds_text(seconds.get<double>()) + "</td>";
      } else {
        out += "<td class=\"fail\" title=\"" + escape_html(text(mine, "note")) + "\">not recovered <span class=\"delta\">(" +
               escape_html(text(mine, "note")) + ")</span></td>";
      }
    }
    out += "</tr>\n";
  }
  out += "</tbody>\n</table>\n</section>\n";
}

}  // namespace squall::reports::html_detail
