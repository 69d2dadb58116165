#include "reports/html/report_html.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "reports/format.hpp"
#include "reports/html/report_assets.hpp"
#include "reports/provider_table.hpp"

namespace squall::reports {
namespace {

// ---------------------------------------------------------------------------------------------------
// Reading the document leniently: a missing or mistyped part reads as empty, never as an exception.

const json& empty_json() {
  static const json empty;
  return empty;
}

const json& child(const json& j, const char* key) {
  if (!j.is_object()) return empty_json();
  const auto it = j.find(key);
  return it == j.end() ? empty_json() : *it;
}

double number(const json& j, const char* key, double fallback = 0) {
  const json& v = child(j, key);
  return v.is_number() ? v.get<double>() : fallback;
}

std::string text(const json& j, const char* key) {
  const json& v = child(j, key);
  if (v.is_string()) return v.get<std::string>();
  if (v.is_number()) return v.dump();
  return "";
}

double element(const json& column, std::size_t i) {
  if (!column.is_array() || i >= column.size() || !column[i].is_number()) return 0;
  return column[i].get<double>();
}

// Six significant digits, like results.json: keeps the embedded data small and the bytes stable.
double tidy(double v) {
  if (!std::isfinite(v) || v == 0) return 0;
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.6g", v);
  return std::strtod(buffer, nullptr);
}

// ---------------------------------------------------------------------------------------------------
// Numbers are formatted by reports/format.hpp, as in the terminal table and summary.md.

// Scenario time as m:ss, the way incidents are told ("from 3:00 to 10:00").
std::string clock_text(double s) {
  const long total = std::lround(s);
  char b[32];
  std::snprintf(b, sizeof b, "%ld:%02ld", total / 60, total % 60);
  return b;
}

std::string seconds_text(double s) {
  char b[32];
  std::snprintf(b, sizeof b, "%g s", s);
  return b;
}

// The same expression labels every time axis in m:ss.
constexpr const char* clock_label_expr =
    "floor(datum.value / 60) + ':' + (datum.value % 60 < 10 ? '0' : '') + format(datum.value % 60, 'd')";

// Latency axes read in ms below a second and in seconds above.
constexpr const char* latency_label_expr =
    "datum.value >= 1000 ? format(datum.value / 1000, '~g') + ' s' : format(datum.value, '~g') + ' ms'";

// ---------------------------------------------------------------------------------------------------
// Colours. One per configuration, the same on every chart and in the table; none of them is the red of
// the fault shading, so a configuration is never mistaken for an incident.

constexpr std::array<const char*, 8> configuration_palette = {
    "#4c78a8", "#f58518", "#54a24b", "#b279a2", "#72b7b2", "#9d755d", "#eeca3b", "#ff9da6"};
constexpr const char* fault_color = "#d62728";

const char* configuration_color(std::size_t i) { return configuration_palette[i % configuration_palette.size()]; }

const char* outcome_color(const std::string& cls) {
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
  std::vector<std::string> outcome_classes;  // classes seen at least once, in document order
  json datasets = json::object();
  json charts = json::array();
};

page read_page(const json& results) {
  page p{results, {}, 0, 0, false, false, false, false, {}, json::object(), json::array()};
  const json& configs = child(results, "configurations");
  if (configs.is_array()) {
    for (const auto& c : configs) {
      configuration_view v{text(c, "name"), &c, &child(c, "summary"), false};
      if (v.name.empty()) v.name = "configuration " + std::to_string(p.configs.size() + 1);
      const json& breakers = child(c, "breakers");
      v.has_breaker = breakers.is_array() && !breakers.empty();
      p.any_breaker = p.any_breaker || v.has_breaker || number(*v.summary, "breaker_openings") > 0;
      p.configs.push_back(std::move(v));
    }
  }
  p.interval_s = number(child(results, "scenario"), "interval_s");
  return p;
}

// ---------------------------------------------------------------------------------------------------
// Datasets: long tables, one row per configuration and interval, shared by every chart.

void build_datasets(page& p) {
  json series_rows = json::array();
  json outcome_rows = json::array();
  json spectrum_rows = json::array();
  std::vector<std::string> classes;
  std::vector<double> class_totals;
  auto class_index = [&](const std::string& name) {
    for (std::size_t k = 0; k < classes.size(); ++k) {
      if (classes[k] == name) return k;
    }
    classes.push_back(name);
    class_totals.push_back(0);
    return classes.size() - 1;
  };
  for (const auto& cfg : p.configs) {
    const json& s = child(*cfg.doc, "series");
    const json& end = child(s, "end_s");
    const std::size_t n = end.is_array() ? end.size() : 0;
    const json& outcomes = child(s, "outcomes");
    double cumulative_cost_usd = 0;
    double previous_end_s = 0;
    for (std::size_t i = 0; i < n; ++i) {
      const double end_s = element(end, i);
      const double start_s = i == 0 ? std::max(0.0, end_s - (p.interval_s > 0 ? p.interval_s : end_s)) : previous_end_s;
      previous_end_s = end_s;
      const double width_s = end_s - start_s;
      auto per_s = [&](const char* column) { return width_s > 0 ? tidy(element(child(s, column), i) / width_s) : 0.0; };
      const double completed = element(child(s, "completed"), i);
      const double ok = element(child(outcomes, "ok"), i);
      const double hits = element(child(s, "cache_hits"), i);
      const double misses = element(child(s, "cache_misses"), i);
      cumulative_cost_usd += element(child(s, "cost_usd"), i);
      const int breaker = static_cast<int>(element(child(s, "breaker_state"), i));
      p.end_s = std::max(p.end_s, end_s);
      p.any_cache = p.any_cache || hits + misses > 0;
      p.any_series = true;

      json row = json::object();
      row["configuration"] = cfg.name;
      row["start_s"] = tidy(start_s);
      row["end_s"] = tidy(end_s);
      row["t_s"] = tidy((start_s + end_s) / 2);
      // Intervals where nothing completed have no latency and no success rate: null leaves a gap
      // instead of drawing a false zero.
      const bool any = completed > 0;
      // Latency is drawn on a log axis, which has no place for zero: answers faster than 1 ms (a breaker
      // failing fast) are drawn on the 1 ms line, where they stay visible.
      auto latency = [&](const char* column) {
        return any ? json(std::max(1.0, tidy(element(child(s, column), i)))) : json(nullptr);
      };
      row["latency_p50_ms"] = latency("latency_p50_ms");
      row["latency_p95_ms"] = latency("latency_p95_ms");
      row["latency_p99_ms"] = latency("latency_p99_ms");
      row["success_rate"] = any ? json(tidy(ok / completed)) : json(nullptr);
      row["offered_per_s"] = per_s("offered");
      row["completed_per_s"] = per_s("completed");
      row["attempts_per_s"] = per_s("attempts");
      row["retries_per_s"] = per_s("retries");
      // A service under test: the providers' attempts in the same interval (runs/upstream_view.hpp).
      const json& upstream = child(child(*cfg.doc, "upstream"), "series");
      if (upstream.is_array() && i < upstream.size() && width_s > 0) {
        p.any_upstream = true;
        row["upstream_attempts_per_s"] = tidy(number(upstream[i], "attempts") / width_s);
        row["upstream_errors_per_s"] = tidy(number(upstream[i], "errors") / width_s);
      }
      row["cumulative_cost_usd"] = tidy(cumulative_cost_usd);
      row["breaker_state"] = !cfg.has_breaker && breaker == 0 ? "no breaker"
                             : breaker == 2                  ? "open"
                             : breaker == 1                  ? "half-open"
                                                             : "closed";
      row["cache_hit_rate"] = hits + misses > 0 ? json(tidy(hits / (hits + misses))) : json(nullptr);
      row["in_flight"] = element(child(s, "in_flight"), i);
      row["provider_busy"] = element(child(s, "provider_busy"), i);
      row["provider_queue"] = element(child(s, "provider_queue"), i);
      series_rows.push_back(std::move(row));

      auto outcome_row = [&](const std::string& cls, double count) {
        class_totals[class_index(cls)] += count;
        if (count == 0) return;  // zero rows draw nothing in a stack; leaving them out keeps the page small
        outcome_rows.push_back({{"configuration", cfg.name},
                                {"start_s", tidy(start_s)},
                                {"end_s", tidy(end_s)},
                                {"class", cls},
                                {"per_s", width_s > 0 ? tidy(count / width_s) : 0.0}});
      };
      if (outcomes.is_object()) {
        for (const auto& [cls, column] : outcomes.items()) {
          if (cls == "ok") outcome_row(cls, element(column, i));
        }
        outcome_row("degraded", element(child(s, "degraded"), i));
        for (const auto& [cls, column] : outcomes.items()) {
          if (cls != "ok") outcome_row(cls, element(column, i));
        }
      }
    }

    const json& spectrum = child(*cfg.doc, "latency_spectrum");
    if (spectrum.is_array()) {
      for (const auto& point : spectrum) {
        const double q = number(point, "quantile", -1);
        const double ms = number(point, "latency_ms");
        // The maximum (q = 1) has no place on a "nines" axis, and a log axis has no place for 0 ms.
        if (q < 0 || q >= 1 || ms <= 0) continue;
        char label[32];
        if (q == 0) std::snprintf(label, sizeof label, "min");
        else std::snprintf(label, sizeof label, "p%g", q * 100);
        spectrum_rows.push_back({{"configuration", cfg.name},
                                 {"quantile", q},
                                 {"nines", tidy(-std::log10(1 - q))},
                                 {"percentile", label},
                                 {"latency_ms", ms}});
      }
    }
  }
  for (std::size_t k = 0; k < classes.size(); ++k) {
    if (class_totals[k] > 0) p.outcome_classes.push_back(classes[k]);
  }

  json fault_rows = json::array();
  const json& faults = child(child(p.results, "scenario"), "faults");
  if (faults.is_array()) {
    std::size_t index = 0;
    for (const auto& f : faults) {
      const double at_s = number(f, "at_s");
      const double for_s = number(f, "for_s");
      const std::string provider = text(f, "provider");
      const std::string label = text(f, "label");
      p.end_s = std::max(p.end_s, at_s + for_s);
      fault_rows.push_back({{"provider", provider},
                            {"at_s", at_s},
                            {"end_s", at_s + for_s},
                            {"label", label},
                            {"text", provider + ": " + label},
                            {"when", clock_text(at_s) + "-" + clock_text(at_s + for_s)},
                            // Labels of overlapping windows go on three rows so they do not overwrite
                            // each other.
                            {"row", index % 3}});
      ++index;
    }
  }
  if (p.end_s <= 0) p.end_s = std::max(1.0, number(child(p.results, "scenario"), "duration_s"));

  p.datasets["series"] = std::move(series_rows);
  p.datasets["outcomes"] = std::move(outcome_rows);
  p.datasets["faults"] = std::move(fault_rows);
  p.datasets["spectrum"] = std::move(spectrum_rows);
}

// ---------------------------------------------------------------------------------------------------
// Chart specifications (Vega-Lite). Every time chart shares the x axis (same domain, ticks and plot
// offset), so charts stacked on the page line up and a fault window sits at the same place on each.

constexpr int chart_width_px = 900;
constexpr int y_axis_px = 64;
constexpr int chart_height_px = 190;

// `label_rows`: rows of fault labels above the plot; the legends sit above them.
json chart_config(int label_rows = 0) {
  return {{"font", "system-ui, -apple-system, 'Segoe UI', sans-serif"},
          {"view", {{"stroke", nullptr}}},
          {"axis", {{"labelFontSize", 11}, {"titleFontSize", 11}, {"titleFontWeight", "normal"}, {"gridColor", "#ececec"}}},
          // The same width for every y axis puts every plot area at the same offset.
          {"axisY", {{"minExtent", y_axis_px}, {"maxExtent", y_axis_px}}},
          {"legend", {{"orient", "top"}, {"offset", 8 + 12 * label_rows}, {"labelFontSize", 11}, {"titleFontSize", 11}, {"titleFontWeight", "normal"}, {"symbolStrokeWidth", 3}}},
          {"line", {{"strokeWidth", 1.8}}}};
}

json time_ticks(double end_s) {
  static const std::array<double, 9> steps = {10, 30, 60, 120, 300, 600, 900, 1800, 3600};
  double step = steps.back();
  for (double s : steps) {
    if (end_s / s <= 16) {
      step = s;
      break;
    }
  }
  json ticks = json::array();
  for (double t = 0; t <= end_s + 1e-9 && ticks.size() < 64; t += step) ticks.push_back(t);
  return ticks;
}

json time_axis(const page& p, const char* field, bool titled = true) {
  json x = {{"field", field},
            {"type", "quantitative"},
            {"scale", {{"domain", json::array({0, p.end_s})}, {"nice", false}, {"zero", true}}},
            {"axis", {{"values", time_ticks(p.end_s)}, {"labelExpr", clock_label_expr}, {"grid", true}}}};
  x["title"] = titled ? json("scenario time (m:ss)") : json(nullptr);
  return x;
}

json configuration_color_encoding(const page& p) {
  json domain = json::array();
  json range = json::array();
  for (std::size_t i = 0; i < p.configs.size(); ++i) {
    domain.push_back(p.configs[i].name);
    range.push_back(configuration_color(i));
  }
  return {{"field", "configuration"},
          {"type", "nominal"},
          {"title", "configuration"},
          {"scale", {{"domain", std::move(domain)}, {"range", std::move(range)}}},
          {"legend", {{"orient", "top"}, {"title", nullptr}}}};
}

// The shaded windows go under the data, their labels over it.
// Vega-Lite names each unit's marks after the unit: names must be unique within a chart, or two panels
// end up drawing the same data. `suffix` tells the panels of one chart apart.
json fault_shading(const page& p, const std::string& suffix) {
  return {{"name", "fault_windows" + suffix},
          {"data", {{"name", "faults"}}},
          {"mark", {{"type", "rect"}, {"color", fault_color}, {"opacity", 0.10}}},
          {"encoding",
           {{"x", time_axis(p, "at_s")},
            {"x2", {{"field", "end_s"}}},
            {"tooltip", json::array({{{"field", "provider"}}, {{"field", "label"}, {"title", "fault"}}, {{"field", "when"}}})}}}};
}

// Labels sit in a band above the plot (negative y), so they never cover the data; windows that overlap
// in time get separate rows of that band. A label that would run past the right end of the axis is
// right-aligned to its window's end instead, so it stays inside the chart (Vega sizes a chart to hold
// all its marks, and an overflowing label would push the next panel away).
json fault_labels(const page& p, int row, int rows, bool right, const std::string& suffix, int plot_width_px) {
  // 6.5 px per character of 10 px bold text, converted to scenario seconds on this plot.
  char overflow[160];
  std::snprintf(overflow, sizeof overflow, "datum.at_s + length(datum.text) * %.6g > %.6g",
                6.5 * p.end_s / std::max(1, plot_width_px), p.end_s);
  const std::string filter =
      "datum.row == " + std::to_string(row) + " && " + (right ? "(" : "!(") + overflow + ")";
  return {{"name", "fault_labels_" + std::to_string(row) + (right ? "_right" : "") + suffix},
          {"data", {{"name", "faults"}}},
          {"transform", json::array({{{"filter", filter}}})},
          {"mark",
           {{"type", "text"},
            {"align", right ? "right" : "left"},
            {"baseline", "bottom"},
            {"dx", right ? -2 : 2},
            {"y", -3 - 12 * (rows - 1 - row)},
            {"fontSize", 10},
            {"fontWeight", "bold"},
            {"color", "#a51c1c"}}},
          {"encoding", {{"x", time_axis(p, right ? "end_s" : "at_s")}, {"text", {{"field", "text"}}}}}};
}

bool has_faults(const page& p) { return !p.datasets["faults"].empty(); }

int fault_label_rows(const page& p) { return static_cast<int>(std::min<std::size_t>(3, p.datasets["faults"].size())); }

// The data layers of one plot, with the fault windows shaded under them and (if `labelled`) named over
// them. `suffix` keeps unit names unique when a chart has several panels.
json with_faults(const page& p, json data_layers, const std::string& suffix = "", int plot_width_px = chart_width_px,
                 bool labelled = true) {
  json layers = json::array();
  if (has_faults(p)) layers.push_back(fault_shading(p, suffix));
  for (auto& l : data_layers) layers.push_back(std::move(l));
  if (has_faults(p) && labelled) {
    const int rows = fault_label_rows(p);
    for (int r = 0; r < rows; ++r) {
      layers.push_back(fault_labels(p, r, rows, false, suffix, plot_width_px));
      layers.push_back(fault_labels(p, r, rows, true, suffix, plot_width_px));
    }
  }
  return layers;
}

json time_chart(const page& p, json data_layers, int height_px = chart_height_px) {
  return {{"width", chart_width_px},
          {"height", height_px},
          {"config", chart_config(fault_label_rows(p))},
          {"layer", with_faults(p, std::move(data_layers))}};
}

void add_chart(page& p, const char* id, const char* title, const std::string& caption, json spec) {
  p.charts.push_back({{"id", id}, {"title", title}, {"caption", caption}, {"spec", std::move(spec)}});
}

// A line per configuration (colour) and per measure (dash), from columns of the series table.
json series_lines(const page& p, const std::vector<std::pair<const char*, const char*>>& measures, json y,
                  const char* x_field, const char* dash_title) {
  json layer = {{"name", "data"}, {"data", {{"name", "series"}}}};
  json fold_fields = json::array();
  json dash_domain = json::array();
  for (const auto& [field, label] : measures) {
    fold_fields.push_back(field);
    dash_domain.push_back(label);
  }
  json transforms = json::array();
  transforms.push_back({{"fold", fold_fields}, {"as", json::array({"measure_field", "value"})}});
  std::string expr;
  for (const auto& [field, label] : measures) {
    expr += "datum.measure_field == '" + std::string(field) + "' ? '" + label + "' : ";
  }
  expr += "''";
  transforms.push_back({{"calculate", expr}, {"as", "measure"}});
  transforms.push_back({{"filter", "isValid(datum.value)"}});
  layer["transform"] = std::move(transforms);
  layer["mark"] = {{"type", "line"}, {"interpolate", "monotone"}, {"tooltip", true}};
  json encoding = {{"x", time_axis(p, x_field)}, {"y", std::move(y)}, {"color", configuration_color_encoding(p)}};
  encoding["y"]["field"] = "value";
  if (measures.size() > 1) {
    static const json dashes = json::array({json::array({1, 0}), json::array({6, 3}), json::array({2, 2}), json::array({8, 2, 2, 2})});
    json range = json::array();
    for (std::size_t i = 0; i < measures.size(); ++i) range.push_back(dashes[i % dashes.size()]);
    encoding["strokeDash"] = {{"field", "measure"},
                              {"type", "nominal"},
                              {"title", dash_title},
                              {"scale", {{"domain", std::move(dash_domain)}, {"range", std::move(range)}}},
                              {"legend", {{"orient", "top"}}}};
  }
  encoding["detail"] = {{"field", "measure"}};
  layer["encoding"] = std::move(encoding);
  return layer;
}

void build_incident_timeline(page& p) {
  if (!has_faults(p)) return;
  std::vector<std::string> providers;
  for (const auto& f : p.datasets["faults"]) {
    const std::string name = f["provider"].get<std::string>();
    if (std::find(providers.begin(), providers.end(), name) == providers.end()) providers.push_back(name);
  }
  json x = time_axis(p, "at_s");
  json bars = {{"name", "fault_windows"},
               {"data", {{"name", "faults"}}},
               {"mark", {{"type", "bar"}, {"color", fault_color}, {"opacity", 0.3}, {"cornerRadius", 2}, {"tooltip", true}}},
               {"encoding",
                {{"x", x},
                 {"x2", {{"field", "end_s"}}},
                 {"y", {{"field", "provider"}, {"type", "nominal"}, {"title", nullptr}, {"sort", providers}}},
                 {"tooltip", json::array({{{"field", "provider"}}, {{"field", "label"}, {"title", "fault"}}, {{"field", "when"}}})}}}};
  json labels = {{"name", "fault_labels"},
                 {"data", {{"name", "faults"}}},
                 // Dark text on a light bar stays readable where a short window's label runs past its bar.
                 {"mark", {{"type", "text"}, {"align", "left"}, {"dx", 4}, {"color", "#7a1010"}, {"fontWeight", "bold"}, {"fontSize", 11}}},
                 {"encoding",
                  {{"x", x},
                   {"y", {{"field", "provider"}, {"type", "nominal"}, {"sort", providers}}},
                   {"text", {{"field", "label"}}}}}};
  json spec = {{"width", chart_width_px},
               {"height", std::max<std::size_t>(1, providers.size()) * 26},
               {"config", chart_config()},
               {"layer", json::array({std::move(bars), std::move(labels)})}};
  add_chart(p, "chart-incident", "When the incident happened",
            "Each fault window of the scenario's timeline, per provider. The same windows are shaded red on "
            "every chart below.",
            std::move(spec));
}

void build_time_charts(page& p) {
  if (!p.any_series) return;
  // One panel per percentile, configurations overlaid in each: nine lines on one plot were unreadable.
  {
    const std::array<std::pair<const char*, const char*>, 3> percentiles = {
        {{"latency_p50_ms", "p50"}, {"latency_p95_ms", "p95"}, {"latency_p99_ms", "p99"}}};
    json panels = json::array();
    for (std::size_t i = 0; i < percentiles.size(); ++i) {
      const auto& [field, label] = percentiles[i];
      const std::string suffix = "_" + std::to_string(i);
      json line = {{"name", "data" + suffix},
                   {"data", {{"name", "series"}}},
                   {"transform", json::array({{{"filter", std::string("isValid(datum.") + field + ")"}}})},
                   {"mark", {{"type", "line"}, {"interpolate", "monotone"}}},
                   {"encoding",
                    {{"x", time_axis(p, "t_s", i + 1 == percentiles.size())},
                     {"y",
                      {{"field", field},
                       {"type", "quantitative"},
                       {"title", std::string(label) + " (log)"},
                       {"scale", {{"type", "log"}}},
                       {"axis", {{"labelExpr", latency_label_expr}, {"tickCount", 4}}}}},
                     {"color", configuration_color_encoding(p)}}}};
      panels.push_back({{"width", chart_width_px},
                        {"height", 100},
                        {"layer", with_faults(p, json::array({std::move(line)}), suffix, chart_width_px, i == 0)}});
    }
    json spec = {{"config", chart_config(fault_label_rows(p))},
                 {"vconcat", std::move(panels)},
                 {"spacing", 12},
                 {"resolve", {{"scale", {{"y", "shared"}}}}}};
    add_chart(p, "chart-latency", "Latency percentiles over time",
              "Latency of the requests that completed in each interval, measured from the intended send time: "
              "p50, p95 and p99 on one shared log axis. Answers faster than 1 ms (a breaker failing fast) sit "
              "on the 1 ms line.",
              std::move(spec));
  }

  // Stacked areas cannot be overlaid, so each configuration gets its own panel on a shared y axis.
  if (!p.outcome_classes.empty() && !p.configs.empty()) {
    json class_domain = json::array();
    json class_range = json::array();
    for (const auto& cls : p.outcome_classes) {
      class_domain.push_back(cls);
      class_range.push_back(outcome_color(cls));
    }
    json panels = json::array();
    const int gap_px = 16;
    // The panels, each with its own y axis, together take the width of one time chart and its axis.
    const int n = static_cast<int>(p.configs.size());
    const int panel_width_px = std::max(120, (chart_width_px + y_axis_px - n * y_axis_px - gap_px * (n - 1)) / n);
    for (std::size_t i = 0; i < p.configs.size(); ++i) {
      const std::string suffix = "_" + std::to_string(i);
      json bars = {{"name", "data" + suffix},
                   {"data", {{"name", "outcomes"}}},
                   {"transform", json::array({{{"filter", {{"field", "configuration"}, {"equal", p.configs[i].name}}}}})},
                   {"mark", {{"type", "bar"}, {"tooltip", true}}},
                   {"encoding",
                    {{"x", time_axis(p, "start_s")},
                     {"x2", {{"field", "end_s"}}},
                     {"y", {{"field", "per_s"}, {"type", "quantitative"}, {"aggregate", "sum"}, {"stack", "zero"}, {"title", i == 0 ? json("completed per s") : json(nullptr)}}},
                     {"color",
                      {{"field", "class"},
                       {"type", "nominal"},
                       {"title", "outcome"},
                       {"scale", {{"domain", class_domain}, {"range", class_range}}},
                       {"legend", {{"orient", "top"}}}}},
                     {"order", {{"field", "class_order"}, {"type", "quantitative"}}}}}};
      // Stack in the legend's order: successes at the bottom, then degraded answers, then failures.
      std::string order_expr = "indexof(" + class_domain.dump() + ", datum.class)";
      bars["transform"].push_back({{"calculate", order_expr}, {"as", "class_order"}});
      json panel = {{"width", panel_width_px},
                    {"height", chart_height_px},
                    {"title", {{"text", p.configs[i].name}, {"color", configuration_color(i)}, {"fontSize", 12}, {"anchor", "start"}}},
                    {"layer", with_faults(p, json::array({std::move(bars)}), suffix, panel_width_px)}};
      panels.push_back(std::move(panel));
    }
    json spec = {{"config", chart_config(fault_label_rows(p))},
                 {"hconcat", std::move(panels)},
                 {"spacing", gap_px},
                 {"resolve", {{"scale", {{"y", "shared"}, {"color", "shared"}}}}}};
    add_chart(p, "chart-outcomes", "Completed requests by outcome",
              "Requests completed per second, stacked by how they ended. One panel per configuration, on the "
              "same axes.",
              std::move(spec));
  }

  const json percent = {{"type", "quantitative"},
                        {"title", "success rate"},
                        {"scale", {{"domain", json::array({0, 1})}}},
                        {"axis", {{"format", ".0%"}}}};
  add_chart(p, "chart-success", "Success rate over time",
            "Share of the requests completed in each interval that got a real answer (degraded answers and "
            "errors do not count).",
            time_chart(p, json::array({series_lines(p, {{"success_rate", "success"}}, percent, "t_s", "")})));

  const json usd = {{"type", "quantitative"}, {"title", "cost (USD)"}, {"axis", {{"format", "$,.2f"}}}};
  add_chart(p, "chart-cost", "Cumulative cost",
            "Money billed so far, abandoned work included.",
            time_chart(p, json::array({series_lines(p, {{"cumulative_cost_usd", "cost"}}, usd, "end_s", "")})));

  // Offered load is the same for every configuration (common random numbers): one grey line for it.
  json offered = {{"name", "offered"},
                  {"data", {{"name", "series"}}},
                  {"transform", json::array({{{"filter", {{"field", "configuration"}, {"equal", p.configs.front().name}}}}})},
                  {"mark", {{"type", "line"}, {"color", "#9a9a9a"}, {"strokeWidth", 1}, {"interpolate", "monotone"}}},
                  {"encoding", {{"x", time_axis(p, "t_s")}, {"y", {{"field", "offered_per_s"}, {"type", "quantitative"}}}}}};
  const json per_s = {{"type", "quantitative"}, {"title", "per second"}};
  add_chart(p, "chart-attempts", "Attempts and retries",
            "Attempts that reached a provider (solid) and retries scheduled (dashed), per second; the thin "
            "grey line is the offered load, so the gap above it is amplification.",
            time_chart(p, json::array({offered,
                                       series_lines(p, {{"attempts_per_s", "attempts"}, {"retries_per_s", "retries"}},
                                                    per_s, "t_s", "measure")})));

  if (p.any_upstream) {
    add_chart(p, "chart-upstream", "What the providers saw",
              "Attempts the service under test sent to the fake providers (solid) and those answered with an "
              "error or not at all (dashed), per second, beside the offered load (thin grey): the service's own "
              "retries and fallbacks, as the providers saw them.",
              time_chart(p, json::array({offered, series_lines(p, {{"upstream_attempts_per_s", "attempts"},
                                                                    {"upstream_errors_per_s", "errors"}},
                                                                per_s, "t_s", "measure")})));
  }

  if (p.any_breaker) {
    json names = json::array();
    for (const auto& c : p.configs) names.push_back(c.name);
    json strip = {{"name", "data"},
                  {"data", {{"name", "series"}}},
                  {"mark", {{"type", "rect"}, {"tooltip", true}}},
                  {"encoding",
                   {{"x", time_axis(p, "start_s")},
                    {"x2", {{"field", "end_s"}}},
                    {"y", {{"field", "configuration"}, {"type", "nominal"}, {"title", nullptr}, {"sort", names}}},
                    {"color",
                     {{"field", "breaker_state"},
                      {"type", "nominal"},
                      {"title", "breaker"},
                      {"scale",
                       {{"domain", json::array({"no breaker", "closed", "half-open", "open"})},
                        {"range", json::array({"#f7f7f7", "#cfe3cf", "#f2b447", "#7a1f1f"})}}},
                      {"legend", {{"orient", "top"}}}}}}}};
    add_chart(p, "chart-breaker", "Circuit breaker state",
              "The worst state of any breaker at the end of each interval, one row per configuration.",
              time_chart(p, json::array({std::move(strip)}), std::max<int>(60, 30 * static_cast<int>(p.configs.size()))));
  }

  if (p.any_cache) {
    const json hit = {{"type", "quantitative"},
                      {"title", "cache hit rate"},
                      {"scale", {{"domain", json::array({0, 1})}}},
                      {"axis", {{"format", ".0%"}}}};
    add_chart(p, "chart-cache", "Cache hit rate",
              "Hits (fresh and stale) among cache look-ups in each interval; configurations without a cache draw "
              "no line.",
              time_chart(p, json::array({series_lines(p, {{"cache_hit_rate", "hit rate"}}, hit, "t_s", "")})));
  }

  const json requests = {{"type", "quantitative"}, {"title", "requests"}};
  add_chart(p, "chart-provider", "Provider in flight and queue depth",
            "Requests being served by the providers (solid) and waiting in their queues (dashed), summed over "
            "providers at the end of each interval.",
            time_chart(p, json::array({series_lines(p, {{"provider_busy", "in flight"}, {"provider_queue", "queued"}},
                                                    requests, "end_s", "at provider")})));
}

void build_spectrum(page& p) {
  if (p.datasets["spectrum"].empty()) return;
  json line = {{"name", "data"},
               {"data", {{"name", "spectrum"}}},
               {"mark", {{"type", "line"}, {"point", true}, {"tooltip", true}}},
               {"encoding",
                {{"x",
                  {{"field", "nines"},
                   {"type", "quantitative"},
                   {"title", "percentile"},
                   {"scale", {{"domain", json::array({0, 4})}, {"nice", false}}},
                   {"axis",
                    {{"values", json::array({0, 0.30103, 1, 2, 3, 4})},
                     {"labelExpr",
                      "datum.value == 0 ? 'min' : datum.value < 0.5 ? 'p50' : datum.value == 1 ? 'p90' : "
                      "datum.value == 2 ? 'p99' : datum.value == 3 ? 'p99.9' : 'p99.99'"}}}}},
                 {"y",
                  {{"field", "latency_ms"},
                   {"type", "quantitative"},
                   {"title", "latency (log)"},
                   {"scale", {{"type", "log"}}},
                   {"axis", {{"labelExpr", latency_label_expr}}}}},
                 {"color", configuration_color_encoding(p)},
                 {"tooltip",
                  json::array({{{"field", "configuration"}},
                               {{"field", "percentile"}},
                               {{"field", "latency_ms"}, {"title", "latency (ms)"}, {"format", ",.0f"}}})}}}};
  json spec = {{"width", chart_width_px},
               {"height", 240},
               {"config", chart_config()},
               {"layer", json::array({std::move(line)})}};
  add_chart(p, "chart-spectrum", "Latency spectrum",
            "Latency of all requests at each percentile, from the median to p99.99; each step to the right "
            "is ten times rarer.",
            std::move(spec));
}

// ---------------------------------------------------------------------------------------------------
// HTML.

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

std::string swatch(std::size_t i) {
  return std::string("<span class=\"swatch\" style=\"background:") + configuration_color(i) + "\"></span>";
}

struct assertion_view {
  std::string configuration;
  std::string metric;
  bool is_min;
  double bound;
  double measured;
  bool passed;
  std::string state;  // an interrupted run's "not run" or "incomplete"; empty otherwise
};

std::vector<assertion_view> read_assertions(const json& results) {
  std::vector<assertion_view> out;
  const json& list = child(results, "assertions");
  if (!list.is_array()) return out;
  for (const auto& a : list) {
    out.push_back({text(a, "configuration"), text(a, "metric"), text(a, "kind") == "min", number(a, "bound"),
                   number(a, "measured"), child(a, "passed").is_boolean() && child(a, "passed").get<bool>(),
                   text(a, "verdict")});
  }
  return out;
}

std::string assertion_text(const assertion_view& a) {
  const unit u = metric_unit(a.metric);
  return metric_label(a.metric) + (a.is_min ? " \xe2\x89\xa5 " : " \xe2\x89\xa4 ") + format_value(a.bound, u);
}

// A document without a verdict is shown as such rather than as a pass or a failure.
std::string verdict_word(const std::string& verdict) {
  if (verdict == "pass") return "PASS";
  if (verdict == "fail") return "FAIL";
  if (verdict == "incomplete") return "INCOMPLETE";
  return "NO VERDICT";
}

void header_html(std::string& out, const page& p, const std::vector<assertion_view>& assertions) {
  const json& sc = child(p.results, "scenario");
  const std::string verdict = text(p.results, "verdict");
  const bool pass = verdict == "pass";
  const std::string name = text(sc, "name");
  out += "<header class=\"top " + std::string(pass ? "pass" : "fail") + "\">\n";
  out += "<div class=\"verdict\" id=\"verdict\">" + verdict_word(verdict) + "</div>\n";
  out += "<div class=\"heading\"><h1>" + escape_html(name.empty() ? "squall run" : name) + "</h1>\n";
  std::size_t failed = 0, unchecked = 0;  // unchecked: "not run" or "incomplete" in an interrupted run
  for (const auto& a : assertions) {
    const bool checked = a.state.empty() || a.state == "pass" || a.state == "fail";
    unchecked += checked ? 0 : 1;
    failed += checked && !a.passed ? 1 : 0;
  }
  out += "<p class=\"verdict-line\">";
  if (assertions.empty()) {
    out += verdict == "incomplete" ? "No assertions." : "No assertions: the verdict is pass by default.";
  } else if (unchecked > 0) {
    out += std::to_string(failed) + " of " + std::to_string(assertions.size()) + " assertions failed; " +
           std::to_string(unchecked) + " not run or run on part of the scenario only.";
  } else if (failed == 0) {
    out += "All " + std::to_string(assertions.size()) + " assertions passed.";
  } else {
    out += std::to_string(failed) + " of " + std::to_string(assertions.size()) + " assertions failed.";
  }
  out += "</p>\n";
  // An interrupted run says so under the verdict, with what it did not run.
  if (child(p.results, "incomplete").is_boolean() && child(p.results, "incomplete").get<bool>()) {
    out += "<p class=\"incomplete\" id=\"incomplete\"><b>Incomplete run:</b> " + escape_html(text(p.results, "incomplete_reason")) +
           ". The figures cover only what ran; no verdict is given.";
    const json& not_run = child(p.results, "not_run");
    if (not_run.is_array() && !not_run.empty()) {
      out += " Not run:";
      for (std::size_t i = 0; i < not_run.size(); ++i) {
        out += std::string(i == 0 ? " " : ", ") + "<b>" +
               escape_html(not_run[i].is_string() ? not_run[i].get<std::string>() : not_run[i].dump()) + "</b>";
      }
      out += ".";
    }
    out += "</p>\n";
  }
  const std::string description = text(sc, "description");
  if (!description.empty()) out += "<p class=\"description\">" + escape_html(description) + "</p>\n";
  out += "<p class=\"meta\">";
  auto meta = [&](const std::string& k, const std::string& v) {
    out += "<span><b>" + escape_html(k) + "</b> " + escape_html(v) + "</span>";
  };
  meta("seed", text(p.results, "seed"));
  meta("squall", text(p.results, "squall_version"));
  meta("mode", text(p.results, "mode"));
  const double duration_s = number(sc, "duration_s");
  std::string duration = clock_text(duration_s) + " (" + seconds_text(duration_s) + ")";
  if (number(sc, "drain_s") > 0) duration += " + " + seconds_text(number(sc, "drain_s")) + " drain";
  meta("duration", duration);
  if (number(sc, "interval_s") > 0) meta("interval", seconds_text(number(sc, "interval_s")));
  meta("configurations", std::to_string(p.configs.size()));
  out += "</p>\n";
  const std::string reproduce = text(p.results, "reproduce");
  if (!reproduce.empty()) {
    out += "<p class=\"reproduce\"><b>reproduce</b> <code>" + escape_html(reproduce) + "</code></p>\n";
  }
  out += "</div>\n</header>\n";
}

// One card per configuration: the answer to "which one held up" before any table or chart.
void cards_html(std::string& out, const page& p, const std::vector<assertion_view>& assertions) {
  // With several configurations, say in words which one did best on what a caller feels.
  if (p.configs.size() > 1) {
    auto best = [&](const char* metric, bool higher) {
      std::size_t b = 0;
      for (std::size_t i = 1; i < p.configs.size(); ++i) {
        const double v = number(*p.configs[i].summary, metric);
        const double bv = number(*p.configs[b].summary, metric);
        if (higher ? v > bv : v < bv) b = i;
      }
      return b;
    };
    const std::size_t s = best("success_rate", true);
    const std::size_t l = best("latency_p99_ms", false);
    const std::size_t c = best("cost_per_success_usd", false);
    out += "<p class=\"headline\" id=\"headline\">Highest success rate: " + swatch(s) + "<b>" + escape_html(p.configs[s].name) + "</b> (" +
           format_value(number(*p.configs[s].summary, "success_rate"), unit::percent) + ") &middot; lowest p99: " + swatch(l) + "<b>" +
           escape_html(p.configs[l].name) + "</b> (" + format_value(number(*p.configs[l].summary, "latency_p99_ms"), unit::ms) +
           ") &middot; cheapest per success: " + swatch(c) + "<b>" + escape_html(p.configs[c].name) + "</b> (" +
           format_value(number(*p.configs[c].summary, "cost_per_success_usd"), unit::usd) + ")</p>\n";
  }
  out += "<section class=\"cards\" id=\"configurations\">\n";
  const double base_success = p.configs.empty() ? 0 : number(*p.configs.front().summary, "success_rate");
  for (std::size_t i = 0; i < p.configs.size(); ++i) {
    const auto& c = p.configs[i];
    std::size_t total = 0, passed = 0;
    for (const auto& a : assertions) {
      if (a.configuration != c.name) continue;
      ++total;
      passed += a.passed ? 1 : 0;
    }
    const char* state = total == 0 ? "none" : passed == total ? "pass" : "fail";
    out += "<div class=\"card " + std::string(state) + "\" style=\"border-top-color:" + configuration_color(i) + "\">\n";
    out += "<div class=\"card-name\">" + swatch(i) + escape_html(c.name) + (i == 0 ? " <span class=\"tag\">baseline</span>" : "") + "</div>\n";
    const double success = number(*c.summary, "success_rate");
    out += "<div class=\"card-big\">" + format_value(success, unit::percent) + "<small> success</small></div>\n";
    if (i > 0) out += "<div class=\"card-delta\">" + format_delta(base_success, success, unit::percent) + " vs baseline</div>\n";
    out += "<div class=\"card-line\">p99 " + format_value(number(*c.summary, "latency_p99_ms"), unit::ms) + " &middot; cost " +
           format_value(number(*c.summary, "cost_usd"), unit::usd) + "</div>\n";
    out += "<div class=\"card-verdict\">";
    if (total == 0) {
      out += "no assertions";
    } else {
      out += std::string(passed == total ? "&#10004; " : "&#10008; ") + std::to_string(passed) + " of " + std::to_string(total) +
             " assertions passed";
    }
    out += "</div>\n</div>\n";
  }
  out += "</section>\n";
}

void incident_html(std::string& out, const page& p) {
  const json& faults = p.datasets["faults"];
  out += "<section class=\"incident\" id=\"incident\"><h2>Incident</h2>\n";
  if (faults.empty()) {
    out += "<p>This scenario has no fault windows.</p>\n</section>\n";
    return;
  }
  out += "<ul class=\"faults\">\n";
  for (const auto& f : faults) {
    out += "<li><b>" + escape_html(f["when"].get<std::string>()) + "</b> " + escape_html(f["provider"].get<std::string>()) + ": " +
           escape_html(f["label"].get<std::string>()) + "</li>\n";
  }
  out += "</ul>\n</section>\n";
}

void summary_table_html(std::string& out, const page& p, const std::vector<assertion_view>& assertions) {
  out += "<section id=\"summary\"><h2>Side by side</h2>\n";
  if (p.configs.empty()) {
    out += "<p>The results hold no configuration.</p></section>\n";
    return;
  }
  out += "<p class=\"note\">Each column after the first shows its difference to the first configuration, the "
         "baseline: <span class=\"better\">green</span> is better, <span class=\"worse\">red</span> worse.</p>\n";
  out += "<table class=\"summary\">\n<thead><tr><th></th>";
  for (std::size_t i = 0; i < p.configs.size(); ++i) {
    out += "<th>" + swatch(i) + escape_html(p.configs[i].name) + (i == 0 ? "<br><span class=\"tag\">baseline</span>" : "") + "</th>";
  }
  out += "</tr></thead>\n<tbody>\n";
  for (const auto& spec : summary_rows) {
    bool any = spec.always;
    for (const auto& c : p.configs) any = any || number(*c.summary, spec.metric) != 0;
    if (!any) continue;
    out += "<tr><th>" + std::string(spec.label) + "</th>";
    const double base = number(*p.configs.front().summary, spec.metric);
    for (std::size_t i = 0; i < p.configs.size(); ++i) {
      const double v = number(*p.configs[i].summary, spec.metric);
      std::string cell = format_value(v, spec.kind);
      std::string cls;
      if (i > 0) {
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
             format_value(a.measured, metric_unit(a.metric)) + ")</span></td>";
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

// Per provider: how busy it got and how long attempts waited in its queue (simulation only).
void providers_html(std::string& out, const page& p) {
  const provider_table table = provider_figures(p.results);
  if (table.rows.empty()) return;
  out += "<section id=\"providers\"><h2>Providers</h2>\n<p class=\"note\">Waited: the share of attempts that "
         "started service after waiting in the provider's queue. The queue wait percentiles are over every attempt "
         "that started service, 0 for one that found a free slot.</p>\n<table class=\"summary\">\n<thead><tr>";
  for (const auto& h : table.header) out += "<th>" + escape_html(h) + "</th>";
  out += "</tr></thead>\n<tbody>\n";
  for (const auto& row : table.rows) {
    out += "<tr>";
    for (std::size_t i = 0; i < row.size(); ++i) out += (i < 2 ? "<th>" : "<td>") + escape_html(row[i]) + (i < 2 ? "</th>" : "</td>");
    out += "</tr>\n";
  }
  out += "</tbody>\n</table>\n</section>\n";
}

void chart_html(std::string& out, const json& chart) {
  const std::string id = chart["id"].get<std::string>();
  out += "<figure class=\"chart\"><figcaption><h3>" + escape_html(chart["title"].get<std::string>()) + "</h3><p>" +
         escape_html(chart["caption"].get<std::string>()) + "</p></figcaption><div class=\"vega\" id=\"" + id +
         "\" data-chart=\"" + id + "\"></div></figure>\n";
}

constexpr const char* style_css = R"css(
:root { color-scheme: light; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: #1d1d1f; background: #f6f6f4; }
main { max-width: 1120px; margin: 0 auto; padding: 0 20px 40px; }
header.top { display: flex; gap: 20px; align-items: flex-start; padding: 18px 20px; margin: 0 -20px 14px;
  border-bottom: 4px solid #2e7d32; background: #fff; }
header.top.fail { border-bottom-color: #c62828; }
.verdict { font-weight: 800; font-size: 26px; letter-spacing: 1px; color: #fff; background: #2e7d32; border-radius: 8px;
  padding: 10px 18px; flex: none; }
header.top.fail .verdict { background: #c62828; }
h1 { margin: 0 0 2px; font-size: 24px; }
h2 { font-size: 17px; margin: 26px 0 8px; }
h3 { font-size: 15px; margin: 0; }
.verdict-line { margin: 0 0 6px; font-weight: 600; }
.incomplete { margin: 4px 0 8px; padding: 6px 10px; border-left: 4px solid #ef6c00; background: #fff3e0; color: #5d4037; }
.description { margin: 0 0 8px; max-width: 900px; color: #333; }
.meta { margin: 0 0 6px; color: #555; display: flex; flex-wrap: wrap; gap: 4px 16px; }
.meta b, .reproduce b { color: #1d1d1f; font-weight: 600; }
.reproduce { margin: 0; }
code { font: 12.5px ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace; background: #f0f0ec; padding: 2px 6px;
  border-radius: 4px; user-select: all; }
.headline { margin: 0 0 10px; font-size: 15px; }
.cards { display: flex; flex-wrap: wrap; gap: 12px; }
.card { background: #fff; border: 1px solid #ddd; border-top: 6px solid #888; border-radius: 6px; padding: 10px 14px;
  min-width: 220px; flex: 1 1 220px; }
.card-name { font-weight: 700; font-size: 15px; }
.card-big { font-size: 28px; font-weight: 700; margin-top: 2px; }
.card-big small { font-size: 13px; font-weight: 400; color: #555; }
.card-delta, .card-line { color: #444; }
.card-verdict { margin-top: 6px; font-weight: 600; padding: 3px 8px; border-radius: 4px; display: inline-block;
  background: #eee; color: #444; }
.card.pass .card-verdict { background: #e3f3e4; color: #1b5e20; }
.card.fail .card-verdict { background: #fbe3e3; color: #b71c1c; }
.tag { font-size: 11px; font-weight: 600; color: #666; background: #eee; border-radius: 3px; padding: 0 5px; }
.swatch { display: inline-block; width: 11px; height: 11px; border-radius: 2px; margin-right: 6px; vertical-align: baseline; }
.incident h2 { margin-top: 18px; }
ul.faults { margin: 0 0 6px; padding-left: 18px; color: #8e1b1b; }
table.summary { border-collapse: collapse; background: #fff; border: 1px solid #ddd; min-width: 60%; }
table.summary th, table.summary td { padding: 4px 12px; border-bottom: 1px solid #eee; text-align: right; white-space: nowrap; }
table.summary thead th { text-align: right; vertical-align: bottom; border-bottom: 2px solid #ccc; }
table.summary tbody th { text-align: left; font-weight: 500; color: #333; }
td.better { color: #1b5e20; background: #f0f8f0; }
td.worse { color: #b71c1c; background: #fcf0f0; }
td.pass { color: #fff; background: #2e7d32; font-weight: 700; }
td.fail { color: #fff; background: #c62828; font-weight: 700; }
td.pass .delta, td.fail .delta { color: #fff; }
tr.assertion th { font-family: ui-monospace, Menlo, Consolas, monospace; font-size: 12.5px; }
.delta { color: inherit; opacity: .85; font-size: 12.5px; }
span.better { color: #1b5e20; font-weight: 600; }
span.worse { color: #b71c1c; font-weight: 600; }
.note { color: #555; margin: 0 0 8px; }
figure.chart { margin: 0 0 14px; background: #fff; border: 1px solid #ddd; border-radius: 6px; padding: 10px 14px; }
figcaption p { margin: 2px 0 6px; color: #555; }
.vega { min-height: 60px; }
.chart-error { color: #b71c1c; font-weight: 600; white-space: pre-wrap; }
footer { color: #777; font-size: 12px; margin-top: 24px; }
)css";

// Draws every chart from the one embedded data set; the page marks itself ready (or failed) so that a
// test, or a person, can tell when it is done.
constexpr const char* draw_js = R"js(
(function () {
  'use strict';
  var data = JSON.parse(document.getElementById('squall-data').textContent);
  var charts = JSON.parse(document.getElementById('squall-charts').textContent);
  window.squallViews = {};
  var pending = charts.map(function (chart) {
    var spec = Object.assign({}, chart.spec, { datasets: data });
    var options = { mode: 'vega-lite', renderer: 'svg',
                    actions: { export: true, source: false, compiled: false, editor: false } };
    return vegaEmbed('#' + chart.id, spec, options).then(function (result) {
      window.squallViews[chart.id] = result.view;
    }, function (error) {
      var div = document.getElementById(chart.id);
      div.className += ' chart-error';
      div.textContent = 'This chart could not be drawn: ' + error;
      console.error('chart ' + chart.id + ': ' + error);
      throw error;
    });
  });
  Promise.all(pending).then(function () {
    document.body.setAttribute('data-charts', 'ready');
  }, function () {
    document.body.setAttribute('data-charts', 'failed');
  });
})();
)js";

// JSON for a <script> element: "<", ">" and "&" appear only inside strings, where \u escapes mean the
// same, so no sequence in the data can close the element.
std::string script_json(const json& value) {
  const std::string raw = value.dump(-1, ' ', false, json::error_handler_t::replace);
  std::string out;
  out.reserve(raw.size() + raw.size() / 16);
  for (char ch : raw) {
    switch (ch) {
      case '<': out += "\\u003c"; break;
      case '>': out += "\\u003e"; break;
      case '&': out += "\\u0026"; break;
      default: out += ch;
    }
  }
  return out;
}

}  // namespace

std::string escape_html(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char ch : text) {
    switch (ch) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += ch;
    }
  }
  return out;
}

std::string escape_script(std::string_view text) {
  auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; };
  auto starts_with_nocase = [&](std::size_t at, std::string_view word) {
    if (at + word.size() > text.size()) return false;
    for (std::size_t k = 0; k < word.size(); ++k) {
      if (lower(text[at + k]) != word[k]) return false;
    }
    return true;
  };
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '<' && starts_with_nocase(i, "</script")) {
      out += "<\\/";
      ++i;  // the '/' is written above
      continue;
    }
    if (text[i] == '<' && starts_with_nocase(i, "<!--")) {
      out += "<\\!";
      ++i;  // the '!' is written above
      continue;
    }
    out += text[i];
  }
  return out;
}

std::string report_html(const json& results) {
  page p = read_page(results);
  build_datasets(p);
  build_incident_timeline(p);
  build_time_charts(p);
  build_spectrum(p);
  const auto assertions = read_assertions(results);
  const std::string name = text(child(results, "scenario"), "name");

  std::string out;
  out += "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n";
  out += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n";
  out += "<meta name=\"generator\" content=\"squall " + escape_html(text(results, "squall_version")) + "\">\n";
  out += "<title>" + verdict_word(text(results, "verdict")) + " \xc2\xb7 " +
         escape_html(name.empty() ? "squall run" : name) + " \xc2\xb7 squall report</title>\n";
  out += "<style>" + std::string(style_css) + "</style>\n</head>\n<body>\n<main>\n";
  header_html(out, p, assertions);
  cards_html(out, p, assertions);
  incident_html(out, p);
  // The incident strip belongs to the first screen, next to the list of windows.
  for (const auto& chart : p.charts) {
    if (chart["id"] == "chart-incident") chart_html(out, chart);
  }
  summary_table_html(out, p, assertions);
  providers_html(out, p);
  out += "<section id=\"over-time\"><h2>Over time</h2>\n";
  if (p.configs.size() > 0) {
    out += "<p class=\"note\">Configurations: ";
    for (std::size_t i = 0; i < p.configs.size(); ++i) out += (i ? ", " : "") + swatch(i) + escape_html(p.configs[i].name);
    out += ". Fault windows are shaded red.</p>\n";
  }
  for (const auto& chart : p.charts) {
    if (chart["id"] != "chart-incident" && chart["id"] != "chart-spectrum") chart_html(out, chart);
  }
  out += "</section>\n";
  for (const auto& chart : p.charts) {
    if (chart["id"] == "chart-spectrum") {
      out += "<section id=\"distribution\"><h2>Latency distribution</h2>\n";
      chart_html(out, chart);
      out += "</section>\n";
    }
  }

  const json& sc = child(results, "scenario");
  out += "<footer>squall " + escape_html(text(results, "squall_version")) + " &middot; " + escape_html(text(results, "format")) +
         " &middot; scenario " + escape_html(text(sc, "file")) + " " + escape_html(text(sc, "digest")) + " &middot; charts by";
  for (const auto& lib : html_assets::libraries()) out += " " + escape_html(lib.name) + " " + escape_html(lib.version);
  out += ", embedded in this file</footer>\n</main>\n";

  json chart_specs = json::array();
  for (auto& chart : p.charts) chart_specs.push_back(chart);
  out += "<script type=\"application/json\" id=\"squall-data\">" + script_json(p.datasets) + "</script>\n";
  out += "<script type=\"application/json\" id=\"squall-charts\">" + script_json(chart_specs) + "</script>\n";
  for (const auto& lib : html_assets::libraries()) {
    out += "<script data-library=\"" + escape_html(lib.name) + "\">" + escape_script(lib.code) + "\n</script>\n";
  }
  out += "<script>" + escape_script(draw_js) + "</script>\n</body>\n</html>\n";
  return out;
}

}  // namespace squall::reports
