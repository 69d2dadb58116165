// The charts of the HTML report, what they share: long datasets (one row per configuration and interval,
// shared by every chart), the page-wide time axis, the fault windows shaded and numbered on every chart
// over time, and the log-axis ticks and floor of latency axes. The charts themselves are in
// report_charts_time.cpp (over time) and report_charts_latency.cpp (spectrum and histogram).

#include "reports/html/report_charts.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <string>

#include "reports/format.hpp"

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
    for (const auto& f : faults) {
      const double at_s = number(f, "at_s");
      const double for_s = number(f, "for_s");
      p.end_s = std::max(p.end_s, at_s + for_s);
    }
  }
  if (p.end_s <= 0) p.end_s = std::max(1.0, number(child(p.results, "scenario"), "duration_s"));
  if (faults.is_array()) {
    // Each window is numbered; the number marks it above every chart over time and in the legend row over
    // the charts, where its full text is. A number fits over a short window in a small panel where the
    // text ("openai: errors 503 80%") would run into the next window's.
    // Markers closer than this on the smallest plot go on separate rows (at most three).
    const double marker_gap_s = 18.0 * p.end_s / plot_width_min_px;
    std::array<double, 3> row_last_s = {-1e300, -1e300, -1e300};
    // The incident strip has room for the text where the next window of the same provider is far
    // enough (6.5 px per character of 11 px bold text, on a plot of about 600 px at an 800 px window).
    const double incident_s_per_char = 7.0 * p.end_s / 600.0;
    std::size_t index = 0;
    for (const auto& f : faults) {
      const double at_s = number(f, "at_s");
      const double for_s = number(f, "for_s");
      const std::string provider = text(f, "provider");
      const std::string label = text(f, "label");
      const double mid_s = (at_s + std::min(at_s + for_s, p.end_s)) / 2;
      std::size_t row = 0;
      while (row < row_last_s.size() && mid_s - row_last_s[row] < marker_gap_s) ++row;
      if (row == row_last_s.size()) {
        row = static_cast<std::size_t>(std::min_element(row_last_s.begin(), row_last_s.end()) - row_last_s.begin());
      }
      row_last_s[row] = mid_s;
      const std::string number_text = std::to_string(index + 1);
      const std::string long_text = number_text + " " + label;
      bool fits = at_s + static_cast<double>(long_text.size() + 2) * incident_s_per_char <= p.end_s;
      for (const auto& g : faults) {
        const double g_at_s = number(g, "at_s");
        if (&g != &f && text(g, "provider") == provider && g_at_s >= at_s &&
            g_at_s < at_s + static_cast<double>(long_text.size() + 2) * incident_s_per_char) {
          fits = false;
        }
      }
      fault_rows.push_back({{"provider", provider},
                            {"at_s", at_s},
                            {"end_s", at_s + for_s},
                            {"mid_s", tidy(mid_s)},
                            {"label", label},
                            {"text", provider + ": " + label},
                            {"n", number_text},
                            {"incident_text", fits ? long_text : number_text},
                            {"when", clock_text(at_s) + "-" + clock_text(at_s + for_s)},
                            {"row", row}});
      ++index;
    }
  }

  p.datasets["series"] = std::move(series_rows);
  p.datasets["outcomes"] = std::move(outcome_rows);
  p.datasets["faults"] = std::move(fault_rows);
  p.datasets["spectrum"] = std::move(spectrum_rows);
}

// Scenario time ticks: a round step giving at most one labelled tick per 48 px of the plot at its
// narrowest (charts shrink to about 0.65 of their laid-out width at an 800 px window).
json time_ticks(double end_s, int plot_width_px) {
  static const std::array<double, 11> steps = {5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600};
  const double ticks_max = std::clamp(0.65 * plot_width_px / 48.0, 3.0, 16.0);
  double step = steps.back();
  for (double s : steps) {
    if (end_s / s <= ticks_max) {
      step = s;
      break;
    }
  }
  json ticks = json::array();
  for (double t = 0; t <= end_s + 1e-9 && ticks.size() < 64; t += step) ticks.push_back(t);
  return ticks;
}

// The shaded windows.
// Vega-Lite names each unit's marks after the unit: names must be unique within a chart, or two panels
// end up drawing the same data. `suffix` tells the panels of one chart apart.
json fault_shading(const page& p, const std::string& suffix, bool over) {
  json mark = {{"type", "rect"}, {"color", fault_color}, {"opacity", over ? 0.16 : 0.10}};
  // Over opaque data the window also gets an outline, so its edges read on any colour.
  if (over) mark.update({{"stroke", fault_color}, {"strokeOpacity", 0.8}, {"strokeWidth", 1}, {"strokeDash", json::array({4, 2})}});
  return {{"name", "fault_windows" + suffix},
          {"data", {{"name", "faults"}}},
          {"mark", std::move(mark)},
          {"encoding",
           {{"x", time_axis(p, "at_s")},
            {"x2", {{"field", "end_s"}}},
            {"tooltip", json::array({{{"field", "n"}, {"title", "window"}}, {{"field", "provider"}}, {{"field", "label"}, {"title", "fault"}}, {{"field", "when"}}})}}}};
}

// A window's number sits in a band above the plot (negative y), centred over the window, so it never
// covers the data and never runs past either end of the axis; windows close in time get separate rows.
json fault_markers(const page& p, int row, int rows, const std::string& suffix) {
  return {{"name", "fault_labels_" + std::to_string(row) + suffix},
          {"data", {{"name", "faults"}}},
          {"transform", json::array({{{"filter", "datum.row == " + std::to_string(row)}}})},
          {"mark",
           {{"type", "text"},
            {"align", "center"},
            {"baseline", "bottom"},
            {"y", -3 - 12 * (rows - 1 - row)},
            {"fontSize", 10},
            {"fontWeight", "bold"},
            {"color", "#a51c1c"}}},
          {"encoding", {{"x", time_axis(p, "mid_s")}, {"text", {{"field", "n"}}}, {"tooltip", {{"field", "text"}}}}}};
}

}  // namespace

bool has_faults(const page& p) { return !p.datasets["faults"].empty(); }

int fault_marker_rows(const page& p) {
  std::size_t rows = 0;
  for (const auto& f : p.datasets["faults"]) rows = std::max(rows, f["row"].get<std::size_t>() + 1);
  return static_cast<int>(rows);
}

// `label_rows`: rows of fault markers above the plot; the legends sit above them.
json chart_config(int label_rows) {
  return {{"font", "system-ui, -apple-system, 'Segoe UI', sans-serif"},
          {"view", {{"stroke", nullptr}}},
          {"axis", {{"labelFontSize", 11}, {"titleFontSize", 11}, {"titleFontWeight", "normal"}, {"gridColor", "#ececec"},
                    {"labelOverlap", true}, {"labelSeparation", 6}}},
          // The same width for every y axis puts every plot area at the same offset.
          {"axisY", {{"minExtent", y_axis_px}, {"maxExtent", y_axis_px}}},
          {"legend", {{"orient", "top"}, {"offset", 8 + 12 * label_rows}, {"labelFontSize", 11}, {"titleFontSize", 11}, {"titleFontWeight", "normal"}, {"symbolStrokeWidth", 3}}},
          {"line", {{"strokeWidth", 1.8}}}};
}

json time_axis(const page& p, const char* field, bool titled, int plot_width_px) {
  json x = {{"field", field},
            {"type", "quantitative"},
            {"scale", {{"domain", json::array({0, p.end_s})}, {"nice", false}, {"zero", true}}},
            {"axis", {{"values", time_ticks(p.end_s, plot_width_px)}, {"labelExpr", clock_label_expr}, {"grid", true}}}};
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
          // Three names a row at most: a row of six would be wider than the chart.
          {"legend", {{"orient", "top"}, {"title", nullptr}, {"columns", std::min<std::size_t>(p.configs.size(), 3)}}}};
}

json with_faults(const page& p, json data_layers, const std::string& suffix, int plot_width_px, bool labelled, bool shade_over) {
  json layers = json::array();
  // The data layers take this plot's ticks: a narrow panel gets fewer.
  for (auto& l : data_layers) {
    if (l.contains("encoding") && l["encoding"].contains("x") && l["encoding"]["x"].contains("axis") &&
        l["encoding"]["x"]["axis"].is_object() && l["encoding"]["x"]["axis"].contains("values")) {
      l["encoding"]["x"]["axis"]["values"] = time_ticks(p.end_s, plot_width_px);
    }
  }
  if (has_faults(p) && !shade_over) layers.push_back(fault_shading(p, suffix, false));
  for (auto& l : data_layers) layers.push_back(std::move(l));
  if (has_faults(p) && shade_over) layers.push_back(fault_shading(p, suffix, true));
  if (has_faults(p) && labelled) {
    const int rows = fault_marker_rows(p);
    for (int r = 0; r < rows; ++r) layers.push_back(fault_markers(p, r, rows, suffix));
  }
  // Every layer's axis shows the same ticks, or Vega draws two sets of labels over each other.
  for (auto& l : layers) {
    if (l.contains("encoding") && l["encoding"].contains("x") && l["encoding"]["x"].contains("axis") &&
        l["encoding"]["x"]["axis"].is_object()) {
      l["encoding"]["x"]["axis"]["values"] = time_ticks(p.end_s, plot_width_px);
    }
  }
  return layers;
}

json time_chart(const page& p, json data_layers, int height_px, bool shade_over) {
  return {{"width", chart_width_px},
          {"height", height_px},
          {"config", chart_config(fault_marker_rows(p))},
          {"layer", with_faults(p, std::move(data_layers), "", chart_width_px, true, shade_over)}};
}

void add_chart(page& p, const char* id, const char* title, const std::string& caption, json spec, int plot_px, int panels) {
  p.charts.push_back({{"id", id},
                      {"title", title},
                      {"caption", caption},
                      {"fit", {{"plot_px", plot_px}, {"fixed_px", panels * panel_fixed_px}}},
                      {"spec", std::move(spec)}});
}

double latency_floor_ms(const page& p) {
  std::vector<double> p50;
  for (const auto& row : p.datasets["series"]) {
    const json& v = child(row, "latency_p50_ms");
    if (v.is_number()) p50.push_back(v.get<double>());
  }
  if (p50.empty()) return 1;
  std::nth_element(p50.begin(), p50.begin() + static_cast<std::ptrdiff_t>(p50.size() / 2), p50.end());
  // A quarter of the typical median, down to a 1-2-5 step: a normal answer's whole spread stays in view.
  const double target = p50[p50.size() / 2] / 4;
  double floor_ms = 1;
  for (double decade = 1; decade <= 1e6; decade *= 10) {
    for (double step : {1.0, 2.0, 5.0}) {
      if (step * decade <= target) floor_ms = step * decade;
    }
  }
  return floor_ms;
}

json log_ticks(double low, double high, std::size_t max_ticks) {
  if (!(low > 0) || !(high > low)) return json::array();
  // 1-2-5 steps where they are few enough, else every decade, else every other decade; empty (Vega
  // chooses) when none gives two ticks.
  const double first_decade = std::pow(10, std::floor(std::log10(low)));
  auto ticks_of = [&](const std::vector<double>& steps, double decade_factor) {
    json ticks = json::array();
    for (double decade = first_decade; decade <= high * 1.0001; decade *= decade_factor) {
      for (double step : steps) {
        const double v = step * decade;
        if (v >= low * 0.9999 && v <= high * 1.0001) ticks.push_back(tidy(v));
      }
    }
    return ticks;
  };
  for (const auto& [steps, factor] : {std::pair{std::vector<double>{1, 2, 5}, 10.0}, std::pair{std::vector<double>{1}, 10.0},
                                      std::pair{std::vector<double>{1}, 100.0}}) {
    json ticks = ticks_of(steps, factor);
    if (ticks.size() >= 2 && ticks.size() <= max_ticks) return ticks;
  }
  return json::array();
}

void build_charts(page& p) {
  build_datasets(p);
  build_incident_timeline(p);
  build_time_charts(p);
  build_latency_distribution(p);
}

}  // namespace squall::reports::html_detail
