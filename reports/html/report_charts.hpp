#pragma once
// What the chart files of the HTML report share: the datasets' shape, the page-wide time axis, the fault
// windows drawn on every chart over time, and the measures that let a chart fit its container. Private to
// reports/html: report_charts.cpp (datasets, shared layers), report_charts_time.cpp (charts over time),
// report_charts_latency.cpp (the latency spectrum and histogram).

#include <string>
#include <utility>
#include <vector>

#include "reports/html/report_page.hpp"

namespace squall::reports::html_detail {

// The width every chart is laid out for; the page scales each chart's plot widths to its container when it
// draws it (report_html.cpp's drawing code reads the chart's "fit"), so these are proportions, not pixels
// on screen.
inline constexpr int chart_width_px = 900;
inline constexpr int y_axis_px = 64;
inline constexpr int chart_height_px = 190;
// What a plot needs beside its plot area, per panel laid out side by side: the y axis (its labels and
// title) and Vega's padding. The page subtracts this before it scales the plot widths.
inline constexpr int panel_fixed_px = y_axis_px + 22;

// The smallest plot a chart over time may get (an outcome panel at an 800 px window): fault markers and
// time ticks are spaced for it, so they do not collide in any panel.
inline constexpr int plot_width_min_px = 150;

// Rows of fault markers above a plot (1 to 3; 0 without faults).
int fault_marker_rows(const page& p);
json chart_config(int label_rows = 0);
json time_axis(const page& p, const char* field, bool titled = true, int plot_width_px = chart_width_px);
json configuration_color_encoding(const page& p);
bool has_faults(const page& p);
// The data layers of one plot, with the fault windows shaded under them (over them when `shade_over`:
// opaque data such as a state strip would hide them) and marked above them with their numbers when
// `labelled`. `suffix` keeps unit names unique when a chart has several panels.
json with_faults(const page& p, json data_layers, const std::string& suffix = "", int plot_width_px = chart_width_px,
                 bool labelled = true, bool shade_over = false);
json time_chart(const page& p, json data_layers, int height_px = chart_height_px, bool shade_over = false);
// A chart of the page. `plot_px`: the plot widths laid side by side, which the page scales to fit;
// `panels`: how many plots sit side by side (each with its own axis).
void add_chart(page& p, const char* id, const char* title, const std::string& caption, json spec,
               int plot_px = chart_width_px, int panels = 1);

// Latency axes on a log scale: the floor below which answers are drawn on the floor line (fast failures
// would otherwise stretch the axis over decades where nothing else lies), and tick values on 1-2-5 steps
// or decades, few enough not to crowd a 100 px panel.
double latency_floor_ms(const page& p);
json log_ticks(double low, double high, std::size_t max_ticks);

void build_incident_timeline(page& p);
void build_time_charts(page& p);
void build_latency_distribution(page& p);

}  // namespace squall::reports::html_detail
