#include "reports/html/report_page.hpp"

// The page's verdict-facing sections: one card per configuration under a headline saying which held up,
// and the side-by-side table of summary metrics and assertions, each configuration measured against its
// baseline (report_page.hpp).

#include <algorithm>
#include <cmath>
#include <optional>
#include <string>
#include <vector>

#include "reports/format.hpp"
#include "reports/html/report_html.hpp"

namespace squall::reports::html_detail {
namespace {

struct row_spec {
  const char* label;
  const char* metric;
  unit kind;
  bool higher_is_better;
  bool always;  // shown even when zero for every configuration
};

constexpr row_spec summary_rows[] = {
    {"success rate", "success_rate", unit::percent, true, true},
    {"degraded rate", "degraded_rate", unit::percent, false, true},
    {"bad content answers", "bad_content", unit::count, false, false},
    {"error rate", "error_rate", unit::percent, false, false},
    {"latency p50", "latency_p50_ms", unit::ms, false, true},
    {"latency p95", "latency_p95_ms", unit::ms, false, true},
    {"latency p99", "latency_p99_ms", unit::ms, false, true},
    {"latency p99.9", "latency_p999_ms", unit::ms, false, true},
    {"cost", "cost_usd", unit::usd, false, true},
    {"cost / success", "cost_per_success_usd", unit::usd, false, true},
    {"cost wasted", "cost_wasted_usd", unit::usd, false, true},
    {"attempts / request", "attempts_per_request", unit::ratio, false, true},
    {"retries", "retries", unit::count, false, false},
    {"timeouts", "timeouts", unit::count, false, false},
    {"cache hit rate", "cache_hit_rate", unit::percent, true, true},
    {"breaker openings", "breaker_openings", unit::count, false, true},
    {"breaker rejections", "breaker_rejections", unit::count, false, false},
    {"hedges", "hedges", unit::count, false, false},
    {"fallbacks", "fallbacks", unit::count, false, false},
    {"client rejections", "client_rejections", unit::count, false, false},
    {"shed by client", "shed", unit::count, false, false},
    {"unfinished", "unfinished", unit::count, false, false},
    // A service under test: what the fake providers saw of it (runs/upstream_view.hpp).
    {"provider attempts", "upstream_attempts", unit::count, false, false},
    {"provider attempts / request", "upstream_attempts_per_request", unit::ratio, false, false},
    {"most attempts for one request", "upstream_attempts_request_peak", unit::count, false, false},
    {"provider retries", "upstream_retries", unit::count, false, false},
    {"unattributed attempts", "upstream_unattributed", unit::count, false, false},
    {"provider cost", "upstream_cost_usd", unit::usd, false, false},
    {"provider cost wasted", "upstream_cost_wasted_usd", unit::usd, false, false},
};

std::string metric_label(const std::string& metric) {
  for (const auto& r : summary_rows) {
    if (metric == r.metric) return r.label;
  }
  std::string out = metric;
  std::replace(out.begin(), out.end(), '_', ' ');
  return out;
}

unit metric_unit(const std::string& metric) {
  for (const auto& r : summary_rows) {
    if (metric == r.metric) return r.kind;
  }
  if (metric.ends_with("_ms")) return unit::ms;
  if (metric.ends_with("_usd")) return unit::usd;
  if (metric.ends_with("_rate")) return unit::percent;
  return unit::ratio;
}

std::string assertion_text(const assertion_view& a) {
  const unit u = metric_unit(a.metric);
  return metric_label(a.metric) + (a.is_min ? " \xe2\x89\xa5 " : " \xe2\x89\xa4 ") + format_value(a.bound, u) + a.scope;
}

// What each configuration's differences are measured against (format.hpp's baseline_of): the
// configuration it names as its "baseline" (a compare document pairs "candidate: X" with "base: X"), else
// the run's first; none for the first itself.
std::vector<std::optional<std::size_t>> baselines(const page& p) {
  const json& configs = child(p.results, "configurations");
  std::vector<std::optional<std::size_t>> out(p.configs.size());
  for (std::size_t i = 0; i < p.configs.size(); ++i) {
    const json* b = baseline_of(configs, i);
    for (std::size_t j = 0; b != nullptr && j < p.configs.size(); ++j)
      if (p.configs[j].doc == b) out[i] = j;
  }
  return out;
}

std::vector<bool> baseline_flags(const std::vector<std::optional<std::size_t>>& baseline) {
  std::vector<bool> flags(baseline.size(), false);
  for (const auto& b : baseline)
    if (b) flags[*b] = true;
  return flags;
}

}  // namespace

std::vector<assertion_view> read_assertions(const json& results) {
  std::vector<assertion_view> out;
  const json& list = child(results, "assertions");
  if (!list.is_array()) return out;
  for (const auto& a : list) {
    out.push_back({text(a, "configuration"), text(a, "metric"), text(a, "kind") == "min", number(a, "bound"),
                   number(a, "measured"), child(a, "passed").is_boolean() && child(a, "passed").get<bool>(),
                   text(a, "verdict"),
                   text(a, "scope").empty() ? std::string() : " " + text(a, "scope") + " " + text(a, "fault"),
                   child(a, "measured").is_number(), text(a, "note")});
  }
  return out;
}

// One card per configuration: the answer to "which one held up" before any table or chart.
void cards_html(std::string& out, const page& p, const std::vector<assertion_view>& assertions) {
  struct tally {
    std::size_t total = 0;
    std::size_t passed = 0;
  };
  std::vector<tally> tallies(p.configs.size());
  std::vector<std::size_t> candidates;  // what the headline chooses among: every configuration not a reference
  for (std::size_t i = 0; i < p.configs.size(); ++i) {
    for (const auto& a : assertions) {
      if (a.configuration != p.configs[i].name) continue;
      ++tallies[i].total;
      tallies[i].passed += a.passed ? 1 : 0;
    }
    if (text(*p.configs[i].doc, "reference").empty()) candidates.push_back(i);
  }
  if (candidates.empty()) {
    for (std::size_t i = 0; i < p.configs.size(); ++i) candidates.push_back(i);
  }
  // The headline says first which candidates held up by the scenario's own assertions, then which did
  // best on what a caller feels. References (a bad example kept to show what not to do) are never named:
  // the report must not read as an endorsement of what the scenario warns against.
  std::string held;
  std::size_t judged = 0;
  for (const std::size_t i : candidates) {
    if (tallies[i].total == 0) continue;
    ++judged;
    if (tallies[i].passed == tallies[i].total) {
      held += std::string(held.empty() ? "" : ", ") + swatch(i) + "<b>" + escape_html(p.configs[i].name) + "</b>";
    }
  }
  std::string headline;
  if (judged > 0) {
    headline = held.empty() ? std::string("No configuration held up: each failed at least one of the scenario's assertions.")
                            : "Held up by the scenario's assertions: " + held + ".";
  }
  if (candidates.size() > 1) {
    auto best = [&](const char* metric, bool higher) {
      std::size_t b = candidates.front();
      for (const std::size_t i : candidates) {
        const double v = number(*p.configs[i].summary, metric);
        const double bv = number(*p.configs[b].summary, metric);
        if (higher ? v > bv : v < bv) b = i;
      }
      return b;
    };
    const std::size_t s = best("success_rate", true);
    const std::size_t l = best("latency_p99_ms", false);
    const std::size_t c = best("cost_per_success_usd", false);
    headline += std::string(headline.empty() ? "" : "<br>") + "Highest success rate: " + swatch(s) + "<b>" +
                escape_html(p.configs[s].name) + "</b> (" + format_value(number(*p.configs[s].summary, "success_rate"), unit::percent) +
                ") &middot; lowest p99: " + swatch(l) + "<b>" + escape_html(p.configs[l].name) + "</b> (" +
                format_value(number(*p.configs[l].summary, "latency_p99_ms"), unit::ms) + ") &middot; cheapest per success: " +
                swatch(c) + "<b>" + escape_html(p.configs[c].name) + "</b> (" +
                format_value(number(*p.configs[c].summary, "cost_per_success_usd"), unit::usd) + ")";
  }
  if (!headline.empty()) out += "<p class=\"headline\" id=\"headline\">" + headline + "</p>\n";
  out += "<section class=\"cards\" id=\"configurations\">\n";
  const std::vector<std::optional<std::size_t>> baseline = baselines(p);
  const std::vector<bool> is_baseline = baseline_flags(baseline);
  // The cards' p99 read in one unit, as a column of the table would.
  double p99_max_ms = 0;
  for (const auto& c : p.configs) p99_max_ms = std::max(p99_max_ms, number(*c.summary, "latency_p99_ms"));
  for (std::size_t i = 0; i < p.configs.size(); ++i) {
    const auto& c = p.configs[i];
    const auto [total, passed] = tallies[i];
    const std::string reference = text(*c.doc, "reference");
    const char* state = !reference.empty() ? "reference" : total == 0 ? "none" : passed == total ? "pass" : "fail";
    out += "<div class=\"card " + std::string(state) + "\" style=\"border-top-color:" + configuration_color(i) + "\">\n";
    out += "<div class=\"card-name\">" + swatch(i) + escape_html(c.name) + (is_baseline[i] ? " <span class=\"tag\">baseline</span>" : "") +
           (reference.empty() ? "" : " <span class=\"tag\">reference</span>") + "</div>\n";
    const double success = number(*c.summary, "success_rate");
    out += "<div class=\"card-big\">" + format_value(success, unit::percent) + "<small>" +
           escape_html(format_interval(*c.doc, "success_rate", unit::percent)) + " success</small></div>\n";
    if (const auto b = baseline[i]) {
      const double base_success = number(*p.configs[*b].summary, "success_rate");
      out += "<div class=\"card-delta\">" + format_delta(base_success, success, unit::percent) + " vs " +
             escape_html(p.configs[*b].name) + "</div>\n";
    }
    out += "<div class=\"card-line\">p99 " + format_value(number(*c.summary, "latency_p99_ms"), unit::ms, p99_max_ms) + " &middot; cost " +
           format_value(number(*c.summary, "cost_usd"), unit::usd) + "</div>\n";
    out += "<div class=\"card-verdict\">";
    const std::string counts = std::to_string(passed) + " of " + std::to_string(total) + " assertions passed";
    if (!reference.empty()) {
      // Neither a green tick nor a red cross: a reference is there to be beaten, not chosen.
      out += "kept as a reference: " + escape_html(reference) + (total == 0 ? "" : " &middot; " + counts);
    } else if (total == 0) {
      out += "no assertions";
    } else {
      out += std::string(passed == total ? "&#10004; " : "&#10008; ") + counts;
    }
    out += "</div>\n</div>\n";
  }
  out += "</section>\n";
}

void summary_table_html(std::string& out, const page& p, const std::vector<assertion_view>& assertions) {
  out += "<section id=\"summary\"><h2>Side by side</h2>\n";
  if (p.configs.empty()) {
    out += "<p>The results hold no configuration.</p></section>\n";
    return;
  }
  const std::vector<std::optional<std::size_t>> baseline = baselines(p);
  const std::vector<bool> is_baseline = baseline_flags(baseline);
  bool paired = false;
  for (const auto& c : p.configs) paired = paired || child(*c.doc, "baseline").is_string();
  out += paired ? "<p class=\"note\">Each candidate column shows its difference to the same configuration of the base run: "
                  "<span class=\"better\">green</span> is better, <span class=\"worse\">red</span> worse.</p>\n"
                : "<p class=\"note\">Each column after the first shows its difference to the first configuration, the "
                  "baseline: <span class=\"better\">green</span> is better, <span class=\"worse\">red</span> worse.</p>\n";
  out += "<table class=\"summary\">\n<thead><tr><th></th>";
  for (std::size_t i = 0; i < p.configs.size(); ++i) {
    out += "<th>" + swatch(i) + escape_html(p.configs[i].name) + (is_baseline[i] ? "<br><span class=\"tag\">baseline</span>" : "") + "</th>";
  }
  out += "</tr></thead>\n<tbody>\n";
  for (const auto& spec : summary_rows) {
    bool any = spec.always;
    for (const auto& c : p.configs) any = any || number(*c.summary, spec.metric) != 0;
    if (!any) continue;
    // One unit per row: a row never mixes ms and s.
    double row_max = 0;
    for (const auto& c : p.configs) row_max = std::max(row_max, std::fabs(number(*c.summary, spec.metric)));
    out += "<tr data-metric=\"" + std::string(spec.metric) + "\"><th>" + std::string(spec.label) + "</th>";
    for (std::size_t i = 0; i < p.configs.size(); ++i) {
      const double v = number(*p.configs[i].summary, spec.metric);
      std::string cell = format_value(v, spec.kind, row_max) +
                         escape_html(format_interval(*p.configs[i].doc, spec.metric, spec.kind, row_max));
      std::string cls;
      if (const auto b = baseline[i]) {
        const double base = number(*p.configs[*b].summary, spec.metric);
        const std::string d = format_delta(base, v, spec.kind);
        if (d != "=") cls = ((v > base) == spec.higher_is_better) ? "better" : "worse";
        cell += " <span class=\"delta\">(" + d + ")</span>";
      }
      out += "<td" + (cls.empty() ? "" : " class=\"" + cls + "\"") + ">" + cell + "</td>";
    }
    out += "</tr>\n";
  }
  for (const auto& a : assertions) {
    out += "<tr class=\"assertion\"><th>assert " + escape_html(assertion_text(a)) + "</th>";
    bool placed = false;
    for (const auto& c : p.configs) {
      if (c.name != a.configuration) {
        out += "<td></td>";
        continue;
      }
      placed = true;
      const std::string word = !a.state.empty() && a.state != "pass" && a.state != "fail" ? a.state : a.passed ? "pass" : "FAIL";
      out += std::string("<td class=\"") + (a.passed ? "pass" : "fail") + "\">" + escape_html(word) + " <span class=\"delta\">(" +
             (a.has_measured ? format_value(a.measured, metric_unit(a.metric)) : escape_html(a.note)) + ")</span></td>";
    }
    out += "</tr>\n";
    if (!placed) {
      out += "<tr class=\"assertion\"><td colspan=\"" + std::to_string(p.configs.size() + 1) + "\">" + escape_html(a.configuration) +
             " (not in this run): " + (a.state == "not run" ? std::string("not run") : a.passed ? "pass" : "FAIL") +
             "</td></tr>\n";
    }
  }
  out += "</tbody>\n</table>\n</section>\n";
}

}  // namespace squall::reports::html_detail
