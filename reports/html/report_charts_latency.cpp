// The latency distribution of the HTML report: the spectrum (latency at each percentile, from the median to
// p99.99) and beside it a histogram on log-spaced bins, both from each configuration's latency_spectrum in
// results.json.

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "reports/format.hpp"
#include "reports/html/report_charts.hpp"

namespace squall::reports::html_detail {
namespace {

// Half the time charts' width each, so the two sit side by side on a wide page (the page stacks them on a
// narrow one, and each is scaled to its container).
constexpr int distribution_width_px = 420;

// Four bins per decade: 1, 1.8, 3.2, 5.6 ms...
constexpr double histogram_bins_per_decade = 4;

// The share of requests at or below `x_ms`, from the spectrum's (latency, quantile) points: exact at each
// point, interpolated on a log scale between two points. Several quantiles at one latency (fast failures
// all answered in 1 ms) are a step of the distribution, which the bin holding that latency gets whole.
double share_at_or_below(const std::vector<std::pair<double, double>>& points, double x_ms) {
  if (points.empty() || x_ms < points.front().first) return 0;
  if (x_ms >= points.back().first) return 1;
  std::size_t i = 0;
  while (i + 1 < points.size() && points[i + 1].first <= x_ms) ++i;
  const auto [low_ms, low_q] = points[i];
  const auto [high_ms, high_q] = points[i + 1];
  return low_q + (high_q - low_q) * (std::log(x_ms) - std::log(low_ms)) / (std::log(high_ms) - std::log(low_ms));
}

json histogram_rows(const page& p) {
  json rows = json::array();
  for (const auto& cfg : p.configs) {
    const json& spectrum = child(*cfg.doc, "latency_spectrum");
    if (!spectrum.is_array()) continue;
    std::vector<std::pair<double, double>> points;
    for (const auto& point : spectrum) {
      const double q = number(point, "quantile", -1);
      if (q < 0 || q > 1) continue;
      // A log axis has no place for 0 ms: answers under a millisecond count in the 1 ms bin.
      points.emplace_back(std::max(1.0, number(point, "latency_ms")), q);
    }
    if (points.size() < 2 || points.back().second < 1) continue;
    const int first_bin = static_cast<int>(std::floor(std::log10(points.front().first) * histogram_bins_per_decade));
    const int last_bin = std::max(first_bin + 1,
                                  static_cast<int>(std::ceil(std::log10(points.back().first) * histogram_bins_per_decade)));
    for (int b = first_bin; b <= last_bin; ++b) {
      const double low_ms = std::pow(10, b / histogram_bins_per_decade);
      const double high_ms = std::pow(10, (b + 1) / histogram_bins_per_decade);
      // The last bin's upper edge closes the outline of the step line: its share is drawn up to it.
      // The first bin holds everything from the fastest answer up (its lower edge is at or under it).
      const double below = b == first_bin ? 0 : share_at_or_below(points, low_ms);
      const double share = b == last_bin ? 0 : share_at_or_below(points, high_ms) - below;
      rows.push_back({{"configuration", cfg.name},
                      {"low_ms", tidy(low_ms)},
                      {"high_ms", tidy(high_ms)},
                      {"share", tidy(std::max(0.0, share))}});
    }
  }
  return rows;
}

// Two names a row at most: the chart is half the page's width.
json half_width_legend(json color) {
  color["legend"]["columns"] = std::min<json::number_integer_t>(2, color["legend"]["columns"].get<json::number_integer_t>());
  return color;
}

json latency_y_or_x(const char* field, const char* title, double floor_ms, double high_ms, std::size_t ticks_max) {
  json axis = {{"labelExpr", latency_label_expr}};
  const json ticks = log_ticks(floor_ms, high_ms, ticks_max);
  if (ticks.empty()) axis["tickCount"] = 4;
  else axis["values"] = ticks;
  return {{"field", field},
          {"type", "quantitative"},
          {"title", title},
          {"scale", {{"type", "log"}, {"domainMin", floor_ms}, {"clamp", true}}},
          {"axis", std::move(axis)}};
}

void build_spectrum(page& p, double floor_ms) {
  double high_ms = floor_ms * 10;
  for (const auto& row : p.datasets["spectrum"]) high_ms = std::max(high_ms, row["latency_ms"].get<double>());
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
                 {"y", latency_y_or_x("latency_ms", "latency (log)", floor_ms, high_ms, 6)},
                 {"color", half_width_legend(configuration_color_encoding(p))},
                 {"tooltip",
                  json::array({{{"field", "configuration"}},
                               {{"field", "percentile"}},
                               {{"field", "latency_ms"}, {"title", "latency (ms)"}, {"format", ",.0f"}}})}}}};
  json spec = {{"width", distribution_width_px},
               {"height", 240},
               {"config", chart_config()},
               {"layer", json::array({std::move(line)})}};
  add_chart(p, "chart-spectrum", "Latency spectrum",
            "Latency of all requests at each percentile, from the median to p99.99; each step to the right is "
            "ten times rarer. The axis starts at " + format_value(floor_ms, unit::ms) +
                ": faster answers (fast failures) are drawn on that bottom line.",
            std::move(spec), distribution_width_px, 1);
}

void build_histogram(page& p) {
  json rows = histogram_rows(p);
  if (rows.empty()) return;
  double low_ms = 1e300, high_ms = 0;
  for (const auto& r : rows) {
    low_ms = std::min(low_ms, r["low_ms"].get<double>());
    high_ms = std::max(high_ms, r["high_ms"].get<double>());
  }
  p.datasets["histogram"] = std::move(rows);
  json x = latency_y_or_x("low_ms", "latency (log)", low_ms, high_ms, 6);
  x["scale"] = {{"type", "log"}, {"domain", json::array({low_ms, high_ms})}, {"nice", false}};
  json line = {{"name", "data"},
               {"data", {{"name", "histogram"}}},
               {"mark", {{"type", "line"}, {"interpolate", "step-after"}, {"tooltip", true}}},
               {"encoding",
                {{"x", std::move(x)},
                 {"y", {{"field", "share"}, {"type", "quantitative"}, {"title", "share of requests"}, {"axis", {{"format", ".0%"}}}}},
                 {"color", half_width_legend(configuration_color_encoding(p))},
                 {"tooltip",
                  json::array({{{"field", "configuration"}},
                               {{"field", "low_ms"}, {"title", "from (ms)"}, {"format", ",.3~g"}},
                               {{"field", "high_ms"}, {"title", "to (ms)"}, {"format", ",.3~g"}},
                               {{"field", "share"}, {"title", "share"}, {"format", ".2%"}}})}}}};
  json spec = {{"width", distribution_width_px},
               {"height", 240},
               {"config", chart_config()},
               {"layer", json::array({std::move(line)})}};
  add_chart(p, "chart-histogram", "Latency histogram",
            "Share of all requests in each latency bin, four bins per decade. Estimated from the spectrum's "
            "quantiles (results.json latency_spectrum): exact at each quantile, interpolated on the log scale "
            "between two of them. Fast failures show as a spike at the left.",
            std::move(spec), distribution_width_px, 1);
}

}  // namespace

void build_latency_distribution(page& p) {
  if (p.datasets["spectrum"].empty()) return;
  build_spectrum(p, latency_floor_ms(p));
  build_histogram(p);
}

}  // namespace squall::reports::html_detail
