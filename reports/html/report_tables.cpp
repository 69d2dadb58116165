// The report's tables: where the traffic went (per provider and model), where the failures came from
// (the error table), and the step-by-step explanations of the first requests a policy decided about.
// Every text from the document is escaped: provider messages and model names are the outside world's.

#include <string>

#include "reports/format.hpp"
#include "reports/html/report_html.hpp"
#include "reports/html/report_page.hpp"
#include "reports/traffic_table.hpp"

namespace squall::reports::html_detail {
namespace {

// A table of text cells; the first `label_columns` cells of a row are its labels (<th>), the rest data.
void cells_table_html(std::string& out, const provider_table& table, std::size_t label_columns, const char* id) {
  out += std::string("<table class=\"summary\" id=\"") + id + "\">\n<thead><tr>";
  for (const auto& h : table.header) out += "<th>" + escape_html(h) + "</th>";
  out += "</tr></thead>\n<tbody>\n";
  for (const auto& row : table.rows) {
    out += "<tr>";
    for (std::size_t i = 0; i < row.size(); ++i) {
      const bool label = i < label_columns;
      out += (label ? "<th>" : "<td>") + escape_html(row[i]) + (label ? "</th>" : "</td>");
    }
    out += "</tr>\n";
  }
  out += "</tbody>\n</table>\n";
}

std::string step_time(double at_s) {
  char b[32];
  std::snprintf(b, sizeof b, "%.3f s", at_s);
  return b;
}

// One step as a line of the timeline: "12.345 s  retry  retry_scheduled  after overloaded  wait 250 ms".
void step_html(std::string& out, const json& step) {
  out += "<li><span class=\"at\">" + escape_html(step_time(number(step, "at_s"))) + "</span> <b>" +
         escape_html(text(step, "policy")) + "</b> " + escape_html(text(step, "decision"));
  const std::string cause = text(step, "cause");
  if (!cause.empty()) out += " <span class=\"cause\">after " + escape_html(cause) + "</span>";
  if (child(step, "delay_ms").is_number()) out += " &middot; wait " + escape_html(format_value(number(step, "delay_ms"), unit::ms));
  if (child(step, "value").is_number()) out += " &middot; " + escape_html(text(step, "value"));
  const std::string detail = text(step, "detail");
  if (!detail.empty()) out += " &middot; " + escape_html(detail);
  out += "</li>\n";
}

}  // namespace

void traffic_html(std::string& out, const page& p) {
  const provider_table table = traffic_figures(p.results);
  if (table.rows.empty()) return;
  out += "<section id=\"traffic\"><h2>Traffic by provider and model</h2>\n<p class=\"note\">Every attempt that "
         "reached the transport, by the provider and model it went to (a fallback or a router moves it): answered, "
         "as a success or a failure, or cancelled before its answer (a timeout, a hedge that lost, the run's end). "
         "Cost is what the answered attempts billed; latency is per attempt.</p>\n";
  cells_table_html(out, table, 3, "traffic-table");
  out += "</section>\n";
}

void errors_html(std::string& out, const page& p) {
  const provider_table table = error_figures(p.results);
  if (table.rows.empty()) return;
  out += "<section id=\"errors\"><h2>Errors</h2>\n<p class=\"note\">One row per way of failing. Requests: final "
         "outcomes that failed this way, what the caller saw. Attempts: attempts a provider answered this way, "
         "whether a policy then recovered or not. First and last: scenario time of the first and last of either. "
         "A policy names the one that decided the outcome (a breaker, a timeout) when no provider did.</p>\n";
  cells_table_html(out, table, 2, "error-table");
  out += "</section>\n";
}

void explanations_html(std::string& out, const page& p) {
  bool any = false;
  for (const auto& c : p.configs) {
    const json& explained = child(*c.doc, "explained_requests");
    any = any || (explained.is_array() && !explained.empty());
  }
  if (!any) return;
  out += "<section id=\"explanations\"><h2>Requests explained</h2>\n<p class=\"note\">The first requests a policy "
         "decided something about, each with its decisions in order (time into the run, policy, decision, what "
         "caused it). Open one to read it.";
  // A multi-seed document keeps the first run's explanations: say so under its means.
  if (child(p.results, "aggregate").is_object()) out += " These come from the first seed's run.";
  out += "</p>\n";
  for (std::size_t i = 0; i < p.configs.size(); ++i) {
    const json& explained = child(*p.configs[i].doc, "explained_requests");
    if (!explained.is_array() || explained.empty()) continue;
    out += "<h3>" + swatch(i) + escape_html(p.configs[i].name) + "</h3>\n";
    for (const auto& request : explained) {
      const json& steps = child(request, "steps");
      const std::size_t n = steps.is_array() ? steps.size() : 0;
      out += "<details class=\"explained\"><summary>request " + escape_html(text(request, "request_id")) + " &middot; " +
             std::to_string(n) + (n == 1 ? " step" : " steps");
      if (n > 0) {
        out += " &middot; " + escape_html(step_time(number(steps[0], "at_s"))) + " &ndash; " +
               escape_html(step_time(number(steps[n - 1], "at_s")));
      }
      out += "</summary>\n<ol class=\"timeline\">\n";
      for (std::size_t k = 0; k < n; ++k) step_html(out, steps[k]);
      out += "</ol></details>\n";
    }
  }
  out += "</section>\n";
}

}  // namespace squall::reports::html_detail
