// The charts of the HTML report: long datasets (one row per configuration and interval, shared by every
// chart) and the Vega-Lite specification of each chart, on one shared time axis.

#include <algorithm>
#include <array>
#include <cmath>
#include <string>

#include "reports/format.hpp"
#include "reports/html/report_page.hpp"

namespace squall::reports::html_detail {
namespace {

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
      p.cost_max_usd = std::max(p.cost_max_usd, cumulative_cost_usd);
      row["breaker_state"] = !cfg.has_breaker && breaker == 0 ? "no breaker"
                             : breaker == 2                  ? "open"
                             : breaker == 1                  ? "half-open"
                                                             : "closed";
      row["cache_hit_rate"] = hits + misses > 0 ? json(tidy(hits / (hits + misses))) : json(nullptr);
      row["breakers_open"] = element(child(s, "breakers_open"), i);
      row["in_flight"] = element(child(s, "in_flight"), i);
      row["provider_busy"] = element(child(s, "provider_busy"), i);
      row["provider_queue"] = element(child(s, "provider_queue"), i);
      p.any_provider_load = p.any_provider_load || element(child(s, "provider_busy"), i) > 0 ||
                            element(child(s, "provider_queue"), i) > 0;
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

  // Cents are too coarse for a short run's cost ("$0.01 $0.01 $0.01"): two significant decimals more than
  // the largest amount's first one.
  const int cost_decimals = p.cost_max_usd > 0 && p.cost_max_usd < 1
                                ? std::min(8, static_cast<int>(std::ceil(-std::log10(p.cost_max_usd))) + 2)
                                : 2;
  const json usd = {{"type", "quantitative"},
                    {"title", "cost (USD)"},
                    {"axis", {{"format", "$,." + std::to_string(cost_decimals) + "f"}}}};
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

  if (p.any_breaker && p.any_fleet) {
    // The strip above shows the worst breaker; a fleet needs the count: ten pods of fifty giving up is
    // not the same incident as fifty.
    const json count = {{"type", "quantitative"}, {"title", "breakers open"}};
    add_chart(p, "chart-breakers-open", "Breakers open across the fleet",
              "Circuit breakers open at the end of each interval, over every instance of a fleet (a single "
              "client counts its own).",
              time_chart(p, json::array({series_lines(p, {{"breakers_open", "open"}}, count, "end_s", "")})));
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

  // Counts of requests: whole ticks only. Without any load reported (a live run against providers squall
  // does not run) the chart would be a flat line at zero: it is left out.
  const json requests = {{"type", "quantitative"}, {"title", "requests"}, {"axis", {{"tickMinStep", 1}, {"format", ",d"}}}};
  if (p.any_provider_load) {
    add_chart(p, "chart-provider", "Provider in flight and queue depth",
              "Requests being served by the providers (solid) and waiting in their queues (dashed), summed over "
              "providers at the end of each interval.",
              time_chart(p, json::array({series_lines(p, {{"provider_busy", "in flight"}, {"provider_queue", "queued"}},
                                                      requests, "end_s", "at provider")})));
  }
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

}  // namespace

void build_charts(page& p) {
  build_datasets(p);
  build_incident_timeline(p);
  build_time_charts(p);
  build_spectrum(p);
}

}  // namespace squall::reports::html_detail
