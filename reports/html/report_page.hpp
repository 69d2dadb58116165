#pragma once
// What the HTML report is built from, shared by its parts: report_charts.cpp (the datasets and the
// Vega-Lite specifications of every chart), report_cards.cpp (the headline, the cards and the side-by-side
// table), report_tables.cpp (traffic, errors, explained requests) and report_html.cpp (the page around them). Private to reports/html.

#include <array>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "policies/core/json_reader.hpp"  // json

namespace squall::reports::html_detail {


// ---------------------------------------------------------------------------------------------------
// Reading the document leniently: a missing or mistyped part reads as empty, never as an exception.

inline const json& empty_json() {
  static const json empty;
  return empty;
}

inline const json& child(const json& j, const char* key) {
  if (!j.is_object()) return empty_json();
  const auto it = j.find(key);
  return it == j.end() ? empty_json() : *it;
}

inline double number(const json& j, const char* key, double fallback = 0) {
  const json& v = child(j, key);
  return v.is_number() ? v.get<double>() : fallback;
}

inline std::string text(const json& j, const char* key) {
  const json& v = child(j, key);
  if (v.is_string()) return v.get<std::string>();
  if (v.is_number()) return v.dump();
  return "";
}

inline double element(const json& column, std::size_t i) {
  if (!column.is_array() || i >= column.size() || !column[i].is_number()) return 0;
  return column[i].get<double>();
}

// Six significant digits, like results.json: keeps the embedded data small and the bytes stable.
inline double tidy(double v) {
  if (!std::isfinite(v) || v == 0) return 0;
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.6g", v);
  return std::strtod(buffer, nullptr);
}

// ---------------------------------------------------------------------------------------------------
// Numbers are formatted by reports/format.hpp, as in the terminal table and summary.md.

// Scenario time as m:ss, the way incidents are told ("from 3:00 to 10:00").
inline std::string clock_text(double s) {
  const long total = std::lround(s);
  char b[32];
  std::snprintf(b, sizeof b, "%ld:%02ld", total / 60, total % 60);
  return b;
}

inline std::string seconds_text(double s) {
  char b[32];
  std::snprintf(b, sizeof b, "%g s", s);
  return b;
}

// The same expression labels every time axis in m:ss.
inline constexpr const char* clock_label_expr =
    "floor(datum.value / 60) + ':' + (datum.value % 60 < 10 ? '0' : '') + format(datum.value % 60, 'd')";

// Latency axes read in ms below a second and in seconds above.
inline constexpr const char* latency_label_expr =
    "datum.value >= 1000 ? format(datum.value / 1000, '~g') + ' s' : format(datum.value, '~g') + ' ms'";

// ---------------------------------------------------------------------------------------------------
// Colours. One per configuration, the same on every chart and in the table; none of them is the red of
// the fault shading, so a configuration is never mistaken for an incident.

inline constexpr std::array<const char*, 8> configuration_palette = {
    "#4c78a8", "#f58518", "#54a24b", "#b279a2", "#72b7b2", "#9d755d", "#eeca3b", "#ff9da6"};
inline constexpr const char* fault_color = "#d62728";

inline const char* configuration_color(std::size_t i) { return configuration_palette[i % configuration_palette.size()]; }
// A small square in the configuration's colour, before its name.
inline std::string swatch(std::size_t i) {
  return std::string("<span class=\"swatch\" style=\"background:") + configuration_color(i) + "\"></span>";
}

inline const char* outcome_color(const std::string& cls) {
  static const std::array<std::pair<const char*, const char*>, 14> colors = {{
      {"ok", "#8cc084"},
      {"degraded", "#eeca3b"},
      {"rate_limited", "#9467bd"},
      {"overloaded", "#d62728"},
      {"server_error", "#ff7f0e"},
      {"timeout", "#8c564b"},
      {"connection_error", "#7f7f7f"},
      {"invalid_request", "#bcbd22"},
      {"auth", "#17becf"},
      {"quota", "#e377c2"},
      {"circuit_open", "#393b79"},
      {"rejected", "#637939"},
      {"cancelled", "#c7c7c7"},
      {"bad_answer", "#8c6d31"},
  }};
  for (const auto& [name, color] : colors) {
    if (cls == name) return color;
  }
  return "#aaaaaa";
}

// ---------------------------------------------------------------------------------------------------
// What the page is built from.

struct configuration_view {
  std::string name;
  const json* doc;
  const json* summary;
  bool has_breaker;
};

struct page {
  const json& results;
  std::vector<configuration_view> configs;
  double end_s = 0;        // the last interval's end: the right edge of every time axis
  double interval_s = 0;
  bool any_breaker = false;
  bool any_cache = false;
  bool any_series = false;
  bool any_upstream = false;  // a run with a service under test: what the fake providers saw
  bool any_fleet = false;     // a configuration ran as a fleet of client instances
  bool any_provider_load = false;  // a provider reported requests in service or queued (a live run against
                                   // providers squall does not run reports none)
  double cost_max_usd = 0;   // the highest cumulative cost: how many decimals the cost axis needs
  std::vector<std::string> outcome_classes;  // classes seen at least once, in document order
  json datasets = json::object();
  json charts = json::array();
};

// The charts of the page into p.datasets and p.charts, in page order (report_charts.cpp).
void build_charts(page& p);

// One assertion of the document, read leniently.
struct assertion_view {
  std::string configuration;
  std::string metric;
  bool is_min;
  double bound;
  double measured;
  bool passed;
  std::string state;  // an interrupted run's "not run" or "incomplete"; empty otherwise
  std::string scope;  // " during <fault>" or " after <fault>" for a window-scoped assertion; empty otherwise
  bool has_measured = true;  // false: the metric had no samples (note says why) or the run did not get to it
  std::string note;
};

std::vector<assertion_view> read_assertions(const json& results);
// The headline and one card per configuration (report_cards.cpp).
void cards_html(std::string& out, const page& p, const std::vector<assertion_view>& assertions);
// The recovery after each fault window, per configuration (report_recovery.cpp); nothing without windows.
void recovery_html(std::string& out, const page& p);
// The side-by-side table of summary metrics and assertions (report_cards.cpp).
void summary_table_html(std::string& out, const page& p, const std::vector<assertion_view>& assertions);

// The traffic by provider and model, the error table, and the explained requests (report_tables.cpp);
// each writes nothing when the document has none.
void traffic_html(std::string& out, const page& p);
void errors_html(std::string& out, const page& p);
void explanations_html(std::string& out, const page& p);

}  // namespace squall::reports::html_detail
