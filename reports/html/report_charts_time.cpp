// The charts of the HTML report drawn over scenario time: the incident strip, latency percentiles, outcomes,
// success rate, cost, attempts, breaker state, cache and provider load. Every one of them shades the fault
// windows and shares the x axis (same domain and plot offset), so charts stacked on the page line up.

#include <algorithm>
#include <array>
#include <cmath>
#include <string>

#include "reports/format.hpp"
#include "reports/html/report_charts.hpp"

namespace squall::reports::html_detail {
namespace {

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

}  // namespace

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
                   {"text", {{"field", "incident_text"}}}}}};
  json spec = {{"width", chart_width_px},
               {"height", std::max<std::size_t>(1, providers.size()) * 26},
               {"config", chart_config()},
               {"layer", json::array({std::move(bars), std::move(labels)})}};
  add_chart(p, "chart-incident", "When the incident happened",
            "Each fault window of the scenario's timeline, per provider, by its number (the list above has "
            "its full text where the strip has no room). The same windows are shaded red and numbered on "
            "every chart below.",
            std::move(spec));
}

void build_time_charts(page& p) {
  if (!p.any_series) return;
  // One panel per percentile, configurations overlaid in each: nine lines on one plot were unreadable.
  {
    // Fast failures (an open breaker answers in under a millisecond) would stretch the log axis over
    // decades where no real answer lies and squash the answers that matter into a band: the axis starts
    // at a floor under the typical median, and faster answers are drawn on the floor line.
    const double floor_ms = latency_floor_ms(p);
    double high_ms = floor_ms * 10;
    for (const auto& row : p.datasets["series"]) {
      const json& v = child(row, "latency_p99_ms");
      if (v.is_number()) high_ms = std::max(high_ms, v.get<double>());
    }
    json y_axis = {{"labelExpr", latency_label_expr}};
    const json ticks = log_ticks(floor_ms, high_ms, 4);
    if (ticks.empty()) y_axis["tickCount"] = 3;
    else y_axis["values"] = ticks;
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
                       {"scale", {{"type", "log"}, {"domainMin", floor_ms}, {"clamp", true}}},
                       {"axis", y_axis}}},
                     {"color", configuration_color_encoding(p)}}}};
      panels.push_back({{"width", chart_width_px},
                        {"height", 100},
                        {"layer", with_faults(p, json::array({std::move(line)}), suffix, chart_width_px, i == 0)}});
    }
    json spec = {{"config", chart_config(fault_marker_rows(p))},
                 {"vconcat", std::move(panels)},
                 {"spacing", 12},
                 {"resolve", {{"scale", {{"y", "shared"}}}}}};
    add_chart(p, "chart-latency", "Latency percentiles over time",
              "Latency of the requests that completed in each interval, measured from the intended send time: "
              "p50, p95 and p99 on one shared log axis from " + format_value(floor_ms, unit::ms) +
                  ", a quarter of the typical median: faster answers (failures returned at once, e.g. by an open "
                  "breaker) are drawn on that bottom line rather than stretching the axis down to them.",
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
    // Up to three panels a row (more would leave each too narrow to read at an 800 px window), the y axis
    // on the first of each row only: a row of panels takes the width of one time chart and its axis.
    const int n = static_cast<int>(p.configs.size());
    const int columns = std::min(n, 3);
    const int panel_width_px = (chart_width_px - gap_px * (columns - 1)) / columns;
    for (std::size_t i = 0; i < p.configs.size(); ++i) {
      const std::string suffix = "_" + std::to_string(i);
      json bars = {{"name", "data" + suffix},
                   {"data", {{"name", "outcomes"}}},
                   {"transform", json::array({{{"filter", {{"field", "configuration"}, {"equal", p.configs[i].name}}}}})},
                   {"mark", {{"type", "bar"}, {"tooltip", true}}},
                   {"encoding",
                    {{"x", time_axis(p, "start_s")},
                     {"x2", {{"field", "end_s"}}},
                     {"y", {{"field", "per_s"}, {"type", "quantitative"}, {"aggregate", "sum"}, {"stack", "zero"},
                            {"title", i % static_cast<std::size_t>(columns) == 0 ? json("completed per s") : json(nullptr)}}},
                     {"color",
                      {{"field", "class"},
                       {"type", "nominal"},
                       {"title", "outcome"},
                       {"scale", {{"domain", class_domain}, {"range", class_range}}},
                       {"legend", {{"orient", "top"}, {"columns", std::min<std::size_t>(class_domain.size(), 4)}}}}},
                     {"order", {{"field", "class_order"}, {"type", "quantitative"}}}}}};
      // Stack in the legend's order: successes at the bottom, then degraded answers, then failures.
      std::string order_expr = "indexof(" + class_domain.dump() + ", datum.class)";
      bars["transform"].push_back({{"calculate", order_expr}, {"as", "class_order"}});
      json panel = {{"width", panel_width_px},
                    {"height", chart_height_px},
                    {"title", {{"text", p.configs[i].name}, {"color", configuration_color(i)}, {"fontSize", 12}, {"anchor", "start"}}},
                    {"layer", with_faults(p, json::array({std::move(bars)}), suffix, panel_width_px)}};
      if (i % static_cast<std::size_t>(columns) != 0) panel["layer"][has_faults(p) ? 1 : 0]["encoding"]["y"]["axis"] = nullptr;
      panels.push_back(std::move(panel));
    }
    json spec = {{"config", chart_config(fault_marker_rows(p))},
                 {"concat", std::move(panels)},
                 {"columns", columns},
                 {"spacing", gap_px},
                 {"resolve", {{"scale", {{"y", "shared"}, {"color", "shared"}}}}}};
    add_chart(p, "chart-outcomes", "Completed requests by outcome",
              "Requests completed per second, stacked by how they ended. One panel per configuration, on the "
              "same axes.",
              std::move(spec), columns * panel_width_px, 1);
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
              "The worst state of any breaker at the end of each interval, one row per configuration; the fault "
              "windows are outlined over the strip.",
              time_chart(p, json::array({std::move(strip)}), std::max<int>(60, 30 * static_cast<int>(p.configs.size())), true));
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


}  // namespace squall::reports::html_detail
