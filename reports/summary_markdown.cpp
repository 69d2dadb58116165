#include "reports/summary_markdown.hpp"

#include <cmath>
#include <cstdio>
#include <string_view>

#include "policies/core/json_parse.hpp"
#include "reports/format.hpp"
#include "reports/provider_table.hpp"
#include "reports/traffic_table.hpp"

namespace squall::reports {
namespace {

// Rows the pull-request reader always wants to see, even at zero: zero breaker openings or zero cache
// hits is itself an answer.
constexpr std::string_view always_shown[] = {"success_rate",    "degraded_rate",   "latency_p50_ms",
                                             "latency_p95_ms",  "latency_p99_ms",  "latency_p999_ms",
                                             "attempts_per_request", "cache_hit_rate", "breaker_openings",
                                             "cost_usd",        "cost_per_success_usd", "cost_wasted_usd"};

bool is_always_shown(std::string_view metric) {
  for (auto m : always_shown) {
    if (m == metric) return true;
  }
  return false;
}

// Table cells must not break the table (reports/format.hpp).
std::string cell(const std::string& s) { return markdown_cell(s); }

// An inline code span that survives backticks inside the text.
std::string code(const std::string& s) {
  std::string fence = "`";
  while (s.find(fence) != std::string::npos) fence += '`';
  const bool pad = s.find('`') != std::string::npos;
  return fence + (pad ? " " : "") + s + (pad ? " " : "") + fence;
}


// A table of text cells; the columns from `text_columns` on are numbers, aligned right.
void table_markdown(std::string& out, const provider_table& table, std::size_t text_columns) {
  out += "|";
  for (const auto& h : table.header) out += " " + h + " |";
  out += "\n|";
  for (std::size_t i = 0; i < table.header.size(); ++i) out += i < text_columns ? "---|" : "---:|";
  out += "\n";
  for (const auto& row : table.rows) {
    out += "|";
    for (const auto& text : row) out += " " + cell(text) + " |";
    out += "\n";
  }
}

double metric(const json& config, const char* name) {
  if (!config.contains("summary") || !config["summary"].contains(name)) return 0;
  const json& v = config["summary"][name];
  return v.is_number() ? v.get<double>() : 0;
}

// Time to recover after each fault window (configurations[].recovery): one row per window, one column per
// configuration; "not recovered" with its reason where the success rate did not come back.
void recovery_markdown(std::string& out, const json& configs) {
  const json* first = nullptr;
  for (const auto& c : configs) {
    if (!first && c.contains("recovery") && c["recovery"].is_object()) first = &c["recovery"];
  }
  if (!first || !first->contains("windows") || !(*first)["windows"].is_array()) return;
  out += "### Recovery\n\nSeconds from a window's end until the success rate is back within " +
         format_number(first->value("tolerance_pp", 0.0)) + " pp of the calm baseline (before " +
         format_number(first->value("baseline_to_s", 0.0)) + " s) for " +
         format_number(first->value("hold_intervals", 0.0)) + " intervals; exact to one interval.\n\n| fault window |";
  for (const auto& c : configs) out += " " + cell(text_field(c, "name")) + " |";
  out += "\n|---|";
  for (std::size_t i = 0; i < configs.size(); ++i) out += "---:|";
  out += "\n| calm success rate |";
  for (const auto& c : configs) {
    const json* r = c.contains("recovery") ? &c["recovery"] : nullptr;
    const bool known = r && r->contains("baseline_success_rate") && (*r)["baseline_success_rate"].is_number();
    out += " " + (known ? format_value((*r)["baseline_success_rate"].get<double>(), unit::percent) : std::string("\xE2\x80\x94")) + " |";
  }
  out += "\n";
  const json& windows = (*first)["windows"];
  for (std::size_t w = 0; w < windows.size(); ++w) {
    out += "| " + code(text_field(windows[w], "fault")) + " |";
    for (const auto& c : configs) {
      const json* list = c.contains("recovery") && c["recovery"].contains("windows") ? &c["recovery"]["windows"] : nullptr;
      const json* mine = list && list->is_array() && w < list->size() ? &(*list)[w] : nullptr;
      if (mine && mine->contains("recovery_s") && (*mine)["recovery_s"].is_number()) {
        out += " " + format_number((*mine)["recovery_s"].get<double>()) + " s |";
      } else {
        out += " not recovered" + (mine ? " (" + cell(text_field(*mine, "note")) + ")" : std::string()) + " |";
      }
    }
    out += "\n";
  }
  out += "\n";
}

}  // namespace

std::string summary_markdown(const json& results) {
  static const json empty_object = json::object();
  static const json empty_array = json::array();
  const json& scenario = results.contains("scenario") ? results["scenario"] : empty_object;
  const json& configs = results.contains("configurations") ? results["configurations"] : empty_array;
  const json& assertions = results.contains("assertions") ? results["assertions"] : empty_array;
  const std::string verdict = text_field(results, "verdict");
  const bool passed = verdict == "pass";
  const bool incomplete = results.is_object() && results.value("incomplete", false);

  std::string out = "## squall: " + cell(text_field(scenario, "name")) + " \xE2\x80\x94 " +
                    (incomplete ? "\xE2\x9A\xA0\xEF\xB8\x8F INCOMPLETE"
                                : passed ? "\xE2\x9C\x85 pass" : "\xE2\x9D\x8C fail") +
                    "\n\n";
  // An interrupted run says so before anything else, and names what it did not run.
  if (incomplete) {
    out += "> **Incomplete run:** " + cell(text_field(results, "incomplete_reason")) +
           ". The figures below cover only what ran; no verdict is given.";
    if (results.contains("not_run") && results["not_run"].is_array() && !results["not_run"].empty()) {
      out += " Not run:";
      bool first = true;
      for (const auto& n : results["not_run"]) {
        out += std::string(first ? " " : ", ") + code(n.is_string() ? n.get<std::string>() : n.dump());
        first = false;
      }
      out += ".";
    }
    out += "\n\n";
  }
  std::string digest = text_field(scenario, "digest");
  if (digest.size() > 19) digest = digest.substr(0, 19);  // "sha256:" and 12 hex digits, as the CLI prints
  out += "Scenario " + code(text_field(scenario, "name"));
  if (!text_field(scenario, "file").empty()) out += " (" + code(text_field(scenario, "file")) + ", " + digest + ")";
  out += " \xC2\xB7 seed " + text_field(results, "seed") + " \xC2\xB7 mode " + text_field(results, "mode") + " \xC2\xB7 squall " +
         text_field(results, "squall_version") + "\n\n";
  if (results.contains("aggregate") && results["aggregate"].contains("seeds")) {
    const json& seeds = results["aggregate"]["seeds"];
    std::string list;
    for (const auto& s : seeds) list += (list.empty() ? "" : ", ") + dump_json(s);
    out += "Means over " + std::to_string(seeds.size()) + " seeds (" + list +
           "); \xC2\xB1 is the half-width of the 95% confidence interval (Student t).\n\n";
  }
  out += "Reproduce: " + code(text_field(results, "reproduce")) + "\n\n";
  if (results.contains("warnings") && results["warnings"].is_array()) {
    for (const auto& w : results["warnings"]) out += "> **warning:** " + cell(w.is_string() ? w.get<std::string>() : dump_json(w)) + "\n";
    if (!results["warnings"].empty()) out += "\n";
  }
  if (scenario.contains("faults") && scenario["faults"].is_array() && !scenario["faults"].empty()) {
    out += "Faults:";
    bool first = true;
    for (const auto& f : scenario["faults"]) {
      const double at = f.value("at_s", 0.0);
      out += std::string(first ? " " : "; ") + code(text_field(f, "name")) + " (" + text_field(f, "provider") + ") " +
             format_number(at) + "\xE2\x80\x93" + format_number(at + f.value("for_s", 0.0)) + " s: " + text_field(f, "label");
      first = false;
    }
    out += "\n\n";
  }

  if (!configs.empty()) {
    out += "| metric |";
    for (const auto& c : configs) out += " " + cell(text_field(c, "name")) + " |";
    out += "\n|---|";
    for (std::size_t i = 0; i < configs.size(); ++i) out += "---:|";
    out += "\n";
    for (const auto& spec : comparison_rows()) {
      bool any = spec.always || is_always_shown(spec.metric);
      for (const auto& c : configs) any = any || metric(c, spec.metric) != 0;
      if (!any) continue;
      out += "| " + std::string(spec.label) + " |";
      for (std::size_t i = 0; i < configs.size(); ++i) {
        const double v = metric(configs[i], spec.metric);
        std::string text = format_value(v, spec.kind);
        text += format_interval(configs[i], spec.metric, spec.kind);
        if (const json* b = baseline_of(configs, i)) text += " (" + format_delta(metric(*b, spec.metric), v, spec.kind) + ")";
        out += " " + cell(text) + " |";
      }
      out += "\n";
    }
    out += "\n";
    bool paired = false;
    for (const auto& c : configs) paired = paired || c.contains("baseline");
    if (paired) out += "Changes in brackets are against the base run of the same configuration.\n\n";
    else if (configs.size() > 1) out += "Changes in brackets are against " + code(text_field(configs[0], "name")) + ".\n\n";
  }

  recovery_markdown(out, configs);

  if (const provider_table providers = provider_figures(results); !providers.rows.empty()) {
    out += "### Providers\n\n|";
    for (const auto& h : providers.header) out += " " + h + " |";
    out += "\n|---|---|";
    for (std::size_t i = 2; i < providers.header.size(); ++i) out += "---:|";
    out += "\n";
    for (const auto& row : providers.rows) {
      out += "|";
      for (const auto& text : row) out += " " + cell(text) + " |";
      out += "\n";
    }
    out += "\nWaited: the share of attempts that started service after waiting in the provider's queue; the "
           "queue wait percentiles are over every attempt that started service (0 for one that found a free "
           "slot).\n\n";
  }

  if (const provider_table traffic = traffic_figures(results); !traffic.rows.empty()) {
    out += "### Traffic by provider and model\n\n";
    table_markdown(out, traffic, 3);
    out += "\nEvery attempt that reached the transport, by the provider and model it went to: answered "
           "(success or failure) or cancelled before its answer (a timeout, a hedge that lost, the run's end). "
           "Cost is what the answered attempts billed; latency is theirs, per attempt.\n\n";
  }

  if (const provider_table errors = error_figures(results); !errors.rows.empty()) {
    out += "### Errors\n\n";
    table_markdown(out, errors, 7);
    out += "\nRequests: final outcomes that failed this way (what the caller saw). Attempts: attempts a "
           "provider answered this way, whether a policy recovered or not. First and last: scenario time of "
           "the first and last of either.\n\n";
  }

  if (assertions.empty()) {
    out += "No assertions.\n";
  } else {
    std::size_t failed = 0;
    for (const auto& a : assertions) failed += a.value("passed", false) ? 0U : 1U;
    out += "### Assertions: " + std::to_string(assertions.size() - failed) + " of " + std::to_string(assertions.size()) +
           " passed\n\n| | configuration | assertion | measured |\n|---|---|---|---:|\n";
    for (const auto& a : assertions) {
      // An interrupted run's assertions carry their own word: "not run" (no value), "incomplete".
      const std::string state = text_field(a, "verdict");
      const char* mark = state == "not run"      ? "\xE2\x8F\xB8\xEF\xB8\x8F not run"
                         : state == "incomplete" ? "\xE2\x9A\xA0\xEF\xB8\x8F incomplete"
                         : a.value("passed", false) ? "\xE2\x9C\x85"
                                                    : "\xE2\x9D\x8C";
      const json& measured = a.contains("measured") ? a["measured"] : json();
      out += std::string("| ") + mark + " | " + cell(text_field(a, "configuration")) + " | " + cell(assertion_name(a)) + " | " +
             cell(measured.is_number() ? format_number(measured.get<double>()) : "\xE2\x80\x94");
      if (a.contains("note") && a["note"].is_string()) out += " (" + cell(a["note"].get<std::string>()) + ")";
      out += " |\n";
    }
  }
  return out;
}

}  // namespace squall::reports
