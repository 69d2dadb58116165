#include "reports/sweep_report.hpp"

#include "policies/core/json_parse.hpp"
#include "reports/format.hpp"

namespace squall::reports {
namespace {

const json& member(const json& j, const char* key) { return sweep_member(j, key); }
double metric(const json& cell, const char* key) { return sweep_metric(cell, key); }

std::string value_text(const json& v) { return v.is_string() ? v.get<std::string>() : dump_json(v); }

// A CSV field: quoted when it holds a comma, a quote or a line break (RFC 4180).
std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\r\n") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

const json* recommended(const json& sweep) {
  const json& cell = member(member(sweep, "recommendation"), "cell");
  if (!cell.is_number_unsigned()) return nullptr;
  const json& cells = member(sweep, "cells");
  const auto i = cell.get<std::size_t>();
  return cells.is_array() && i < cells.size() ? &cells[i] : nullptr;
}

std::string figures(const json& cell) {
  return format_value(metric(cell, "success_rate"), unit::percent) + " success, p99 " +
         format_value(metric(cell, "latency_p99_ms"), unit::ms) + ", " + format_value(metric(cell, "cost_usd"), unit::usd) +
         ", " + format_value(metric(cell, "attempts_per_request"), unit::ratio) + " attempts/request";
}

}  // namespace

const json& sweep_member(const json& j, const char* key) {
  static const json null_value;
  if (!j.is_object()) return null_value;
  const auto it = j.find(key);
  return it == j.end() ? null_value : *it;
}

double sweep_metric(const json& cell, const char* key) {
  const json& v = sweep_member(sweep_member(cell, "metrics"), key);
  return v.is_number() ? v.get<double>() : 0;
}

std::string sweep_cell_label(const json& sweep, const json& cell) {
  if (member(cell, "baseline").is_boolean() && member(cell, "baseline").get<bool>()) return "as written";
  const json& parameters = member(sweep, "parameters");
  const json& values = member(cell, "values");
  std::string out;
  for (std::size_t i = 0; parameters.is_array() && values.is_array() && i < parameters.size() && i < values.size(); ++i) {
    out += (out.empty() ? "" : ", ") + text_field(parameters[i], "path") + "=" + value_text(values[i]);
  }
  return out;
}

std::string sweep_markdown(const json& sweep) {
  const json& cells = member(sweep, "cells");
  const std::size_t configurations = member(sweep, "configurations").is_array() ? member(sweep, "configurations").size() : 0;
  std::string out = "# Sweep of " + markdown_cell(text_field(sweep, "scenario")) + "\n\n";
  out += std::to_string(cells.is_array() ? cells.size() : 0) + " cells, each on " + text_field(sweep, "seeds") +
         " seed(s) from " + text_field(sweep, "seed") + ", identical workload and fault draws.";
  if (member(sweep, "incomplete").is_boolean() && member(sweep, "incomplete").get<bool>()) {
    out += " **Incomplete**: " + markdown_cell(text_field(sweep, "incomplete_reason")) + "; cells that did not run whole are left out of the frontier and the recommendation.";
  }
  out += "\n\nReproduce: `" + text_field(sweep, "reproduce") + "`\n\n## Recommendation\n\n";
  const json& rec = member(sweep, "recommendation");
  if (const json* cell = recommended(sweep)) {
    out += "**Cell " + text_field(*cell, "index") + "** (" + markdown_cell(text_field(*cell, "configuration")) + ": " +
           markdown_cell(sweep_cell_label(sweep, *cell)) + "): " + figures(*cell) + ". " + markdown_cell(text_field(rec, "why")) +
           ".\n\nRun it: `" + text_field(*cell, "run") + "`\n";
  } else {
    out += markdown_cell(text_field(rec, "why")) + ".\n";
  }
  const json& frontier = member(sweep, "frontier");
  out += "\n## Pareto frontier\n\n" + std::to_string(frontier.is_array() ? frontier.size() : 0) +
         " cells no other cell beats on success rate, p99 latency and cost at once:";
  for (const auto& i : frontier) out += " " + dump_json(i);
  out += "\n\n## Every cell\n\n| cell | " + std::string(configurations > 1 ? "configuration | " : "") +
         "options | success | p99 | cost | attempts/request | frontier | constraints |\n|---|" +
         std::string(configurations > 1 ? "---|" : "") + "---|---|---|---|---|---|---|\n";
  for (const auto& cell : cells) {
    out += "| " + text_field(cell, "index") + " | ";
    if (configurations > 1) out += markdown_cell(text_field(cell, "configuration")) + " | ";
    out += markdown_cell(sweep_cell_label(sweep, cell)) + " | ";
    if (member(cell, "metrics").is_null()) {
      out += "not run | | | | | |\n";
      continue;
    }
    std::string verdict = "met";
    if (!member(cell, "meets_constraints").get<bool>()) {
      verdict.clear();
      for (const auto& v : member(cell, "violations")) verdict += (verdict.empty() ? "" : "; ") + v.get<std::string>();
    }
    out += format_value(metric(cell, "success_rate"), unit::percent) + " | " + format_value(metric(cell, "latency_p99_ms"), unit::ms) +
           " | " + format_value(metric(cell, "cost_usd"), unit::usd) + " | " +
           format_value(metric(cell, "attempts_per_request"), unit::ratio) + " | " +
           (member(cell, "frontier").get<bool>() ? "yes" : "") + " | " + markdown_cell(verdict) + " |\n";
  }
  return out;
}

std::string sweep_csv(const json& sweep) {
  const json& parameters = member(sweep, "parameters");
  std::string out = "cell,configuration,baseline";
  for (const auto& p : parameters) out += "," + csv_field(text_field(p, "path"));
  out += ",runs,complete";
  for (const char* m : {"requests", "success_rate", "success_rate_min", "success_rate_max", "latency_p50_ms", "latency_p95_ms",
                        "latency_p99_ms", "cost_usd", "cost_per_success_usd", "attempts_per_request"}) {
    out += std::string(",") + m;
  }
  out += ",frontier,meets_constraints\n";
  for (const auto& cell : member(sweep, "cells")) {
    out += text_field(cell, "index") + "," + csv_field(text_field(cell, "configuration")) + "," + text_field(cell, "baseline");
    const json& values = member(cell, "values");
    for (std::size_t i = 0; i < parameters.size(); ++i) {
      out += "," + (values.is_array() && i < values.size() ? csv_field(value_text(values[i])) : std::string());
    }
    out += "," + text_field(cell, "runs") + "," + text_field(cell, "complete");
    for (const char* m : {"requests", "success_rate", "success_rate_min", "success_rate_max", "latency_p50_ms", "latency_p95_ms",
                          "latency_p99_ms", "cost_usd", "cost_per_success_usd", "attempts_per_request"}) {
      const json& v = member(member(cell, "metrics"), m);
      out += "," + (v.is_number() ? dump_json(v) : std::string());
    }
    out += "," + text_field(cell, "frontier") + "," + text_field(cell, "meets_constraints") + "\n";
  }
  return out;
}

std::string sweep_terminal(const json& sweep) {
  const json& cells = member(sweep, "cells");
  // The frontier's first cells; a sweep of hundreds has dozens, which sweep.md and sweep.html list whole.
  constexpr std::size_t shown_max = 10;
  const json& frontier = member(sweep, "frontier");
  std::string out = "frontier (success rate, p99, cost): " + std::to_string(frontier.size()) + " cells\n";
  for (std::size_t k = 0; k < frontier.size() && k < shown_max; ++k) {
    const json& cell = cells[frontier[k].get<std::size_t>()];
    out += "  cell " + dump_json(frontier[k]) + "  " + sweep_cell_label(sweep, cell) + ": " + figures(cell) + "\n";
  }
  if (frontier.size() > shown_max) out += "  ... and " + std::to_string(frontier.size() - shown_max) + " more (sweep.md lists every cell)\n";
  const json& rec = member(sweep, "recommendation");
  if (const json* cell = recommended(sweep)) {
    out += "recommended: cell " + text_field(*cell, "index") + " (" + text_field(*cell, "configuration") + ": " +
           sweep_cell_label(sweep, *cell) + "), " + text_field(rec, "why") + "\n  run it: " + text_field(*cell, "run") + "\n";
  } else {
    out += "no recommendation: " + text_field(rec, "why") + "\n";
  }
  return out;
}

}  // namespace squall::reports
