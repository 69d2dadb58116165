#include "reports/html/sweep_html.hpp"

#include "policies/core/json_parse.hpp"
#include "reports/format.hpp"
#include "reports/html/report_assets.hpp"
#include "reports/html/report_html.hpp"
#include "reports/sweep_report.hpp"

namespace squall::reports {
namespace {

constexpr const char* sweep_css = R"css(
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: #1d1d1f; background: #f6f6f4; }
main { max-width: 1180px; margin: 0 auto; padding: 16px 20px 40px; }
h1 { font-size: 22px; margin: 6px 0 4px; } h2 { font-size: 17px; margin: 22px 0 8px; }
.lead { color: #444; margin: 0 0 12px; }
.card { background: #fff; border: 1px solid #ddd; border-left: 5px solid #2e7d32; border-radius: 6px; padding: 10px 14px; }
.card.none { border-left-color: #c62828; }
.card code, .lead code { font-size: 12px; background: #f0f0ee; padding: 1px 4px; border-radius: 3px; overflow-wrap: anywhere; }
figure { margin: 0; background: #fff; border: 1px solid #ddd; border-radius: 6px; padding: 10px; overflow-x: auto; }
figcaption { color: #555; font-size: 12px; margin-top: 6px; }
.table-wrap { overflow-x: auto; }
table { border-collapse: collapse; background: #fff; border: 1px solid #ddd; width: 100%; }
th, td { padding: 4px 9px; border-bottom: 1px solid #eee; text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }
th:nth-child(-n+2), td:nth-child(-n+2), th:last-child, td.why { text-align: left; }
td:nth-child(2) { white-space: normal; min-width: 20em; }
td.why { white-space: normal; color: #8a1c1c; font-size: 12px; min-width: 120px; }
td.why.met { color: #2e7d32; }
tr.frontier td:first-child::after { content: " \25C6"; color: #1565c0; }
tr.recommended { background: #e8f5e9; font-weight: 600; }
tr.unusable { color: #999; }
.incomplete { color: #ef6c00; font-weight: 600; }
footer { color: #777; font-size: 12px; margin-top: 18px; }
)css";

constexpr const char* sweep_js = R"js(
(function () {
  'use strict';
  var data = JSON.parse(document.getElementById('squall-data').textContent);
  var charts = JSON.parse(document.getElementById('squall-charts').textContent);
  window.squallViews = {};
  var ACTIONS_PX = 40;     // vega-embed keeps this much on the right for its "..." menu
  var AXIS_PX = 80;        // what a panel's y axis and the gap between panels take beside its plot, at first
  var PANEL_MIN_PX = 320;  // narrower side by side, the points crowd: the panels stack instead
  // The width of the figure's content box: the chart's div itself shrinks to what it drew.
  function room(div) {
    var figure = div.parentElement;
    var style = getComputedStyle(figure);
    return figure.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
  }
  // The panels side by side when each gets PANEL_MIN_PX, else one above the other; every plot as wide as
  // the room allows, `axisPx` being what each panel needs beside its plot.
  function laidOut(spec, available, axisPx) {
    var panels = spec.hconcat || spec.vconcat || [];
    var across = (available - panels.length * axisPx) / panels.length >= PANEL_MIN_PX;
    var plotPx = Math.max(120, Math.floor(across ? (available - panels.length * axisPx) / panels.length : available - axisPx));
    var out = Object.assign({}, spec, { datasets: data });
    delete out.hconcat;
    delete out.vconcat;
    out[across ? 'hconcat' : 'vconcat'] = panels.map(function (p) { return Object.assign({}, p, { width: plotPx }); });
    return { spec: out, panels: across ? panels.length : 1 };
  }
  function draw(chart, axisPx) {
    var div = document.getElementById(chart.id);
    var available = room(div) - ACTIONS_PX;
    var layout = laidOut(chart.spec, available, axisPx);
    return vegaEmbed(div, layout.spec, { mode: 'vega-lite', renderer: 'svg',
        actions: { export: true, source: false, compiled: false, editor: false } })
      .then(function (result) {
        if (window.squallViews[chart.id]) window.squallViews[chart.id].finalize();
        window.squallViews[chart.id] = result.view;
        div.setAttribute('data-width', String(room(div)));
        // Axes took more room than laid out for: draw once more with what they really took.
        var svg = div.querySelector('svg');
        var drawn = svg ? svg.getBoundingClientRect().width : 0;
        if (axisPx === AXIS_PX && drawn > available) return draw(chart, axisPx + Math.ceil((drawn - available) / layout.panels) + 2);
        return result;
      });
  }
  var resizing = null;
  window.addEventListener('resize', function () {
    clearTimeout(resizing);
    resizing = setTimeout(function () {
      charts.forEach(function (chart) {
        var div = document.getElementById(chart.id);
        if (div.getAttribute('data-width') !== String(room(div))) draw(chart, AXIS_PX);
      });
    }, 150);
  });
  var pending = charts.map(function (chart) {
    return draw(chart, AXIS_PX).then(function () {}, function (error) {
      var div = document.getElementById(chart.id);
      div.className += ' chart-error';
      div.textContent = 'This chart could not be drawn: ' + error;
      console.error('chart ' + chart.id + ': ' + error);
      throw error;
    });
  });
  Promise.all(pending).then(function () { document.body.setAttribute('data-charts', 'ready'); },
                            function () { document.body.setAttribute('data-charts', 'failed'); });
})();
)js";

const json& member(const json& j, const char* key) { return sweep_member(j, key); }
double metric(const json& cell, const char* key) { return sweep_metric(cell, key); }

bool flag(const json& j, const char* key) { return member(j, key).is_boolean() && member(j, key).get<bool>(); }

// One panel: success rate (y) against `x`; every cell a point (blue: on the frontier of all three objectives),
// a line through the panel's own trade-off (the cells no other beats on both of its axes: "front_<x>", in x
// order, so it only rises), and
// the recommended cell ringed (a layer drawn only when a cell is recommended: one that filters every row out
// leaves Vega-Lite an empty extent, which it warns about in the console). The marks are named (cells_, frontier_, recommended_ and `name`) so that a
// reader of the SVG, such as the browser test, can tell the layers apart.
json panel(const std::string& name, const char* x, const char* title, bool log_x, const char* x_format, bool ringed) {
  // Not rounded out to a power of ten, which would squeeze p99s that differ by a few percent into a corner;
  // a few pixels of padding keep the points and the ring off the y axis.
  json x_scale = log_x ? json{{"type", "log"}, {"nice", false}, {"padding", 12}} : json{{"zero", false}, {"padding", 12}};
  // Log ticks come at 1, 2, 3, ... 9 times each power of ten: their labels need room between them.
  json x_axis = {{"field", x}, {"type", "quantitative"}, {"title", title}, {"scale", x_scale},
                 {"axis", {{"format", x_format}, {"labelOverlap", "greedy"}, {"labelSeparation", 6}}}};
  json y_axis = {{"field", "success_rate"}, {"type", "quantitative"}, {"title", "success rate"},
                 {"scale", {{"zero", false}}}, {"axis", {{"format", "~%"}}}};  // no padding: it would read below 0%
  json tooltip = json::array({{{"field", "cell"}, {"title", "cell"}},
                              {{"field", "label"}, {"title", "options"}},
                              {{"field", "success_rate"}, {"format", ".3%"}, {"title", "success"}},
                              {{"field", "latency_p99_ms"}, {"format", ",.0f"}, {"title", "p99 ms"}},
                              {{"field", "cost_usd"}, {"format", "$,.4f"}, {"title", "cost"}},
                              {{"field", "attempts_per_request"}, {"format", ".3f"}, {"title", "attempts/request"}}});
  json points = {{"name", "cells_" + name},
                 {"mark", {{"type", "point"}, {"filled", true}, {"size", 46}}},
                 {"encoding", {{"x", x_axis}, {"y", y_axis},
                               {"color", {{"field", "kind"}, {"type", "nominal"}, {"title", nullptr},
                                          {"scale", {{"domain", {"frontier", "meets constraints", "other"}},
                                                     {"range", {"#1565c0", "#7cb342", "#b0b0b0"}}}},
                                          {"legend", {{"orient", "top"}}}}},
                               {"tooltip", tooltip}}}};
  // Ties in x (cells whose p99 falls in one histogram bucket) are joined in success-rate order.
  json line = {{"name", "frontier_" + name},
               {"transform", json::array({{{"filter", "datum.front_" + std::string(x)}},
                                          {{"window", json::array({{{"op", "row_number"}, {"as", "along"}}})},
                                           {"sort", json::array({{{"field", x}}, {{"field", "success_rate"}}})}}})},
               {"mark", {{"type", "line"}, {"color", "#1565c0"}, {"strokeWidth", 1.5}, {"opacity", 0.7}}},
               {"encoding", {{"x", x_axis}, {"y", y_axis}, {"order", {{"field", "along"}, {"type", "quantitative"}}}}}};
  json ring = {{"name", "recommended_" + name},
               {"transform", json::array({{{"filter", "datum.recommended"}}})},
               {"mark", {{"type", "point"}, {"shape", "circle"}, {"size", 340}, {"strokeWidth", 2.5}, {"color", "#2e7d32"}}},
               {"encoding", {{"x", x_axis}, {"y", y_axis}, {"tooltip", tooltip}}}};
  // The page sets the width to what its container has room for (sweep_js).
  return {{"width", 470}, {"height", 300}, {"data", {{"name", "cells"}}}, {"layer", ringed ? json::array({points, line, ring}) : json::array({points, line})}};
}

}  // namespace

std::string sweep_html(const json& sweep) {
  const json& cells = member(sweep, "cells");
  const json& rec = member(sweep, "recommendation");
  const json& rec_cell = member(rec, "cell");
  json rows = json::array();
  bool ringed = false;  // the recommended cell is among the drawn ones
  for (const auto& cell : cells) {
    if (member(cell, "metrics").is_null() || !flag(cell, "complete")) continue;
    const bool recommended = rec_cell.is_number() && rec_cell == member(cell, "index");
    ringed = ringed || recommended;
    rows.push_back({{"cell", member(cell, "index")},
                    {"label", text_field(cell, "configuration") + ": " + sweep_cell_label(sweep, cell)},
                    {"success_rate", metric(cell, "success_rate")},
                    {"latency_p99_ms", std::max(metric(cell, "latency_p99_ms"), 0.001)},
                    {"cost_usd", metric(cell, "cost_usd")},
                    {"attempts_per_request", metric(cell, "attempts_per_request")},
                    {"frontier", flag(cell, "frontier")},
                    {"recommended", recommended},
                    {"kind", flag(cell, "frontier") ? "frontier" : (flag(cell, "meets_constraints") ? "meets constraints" : "other")}});
  }
  // Each panel's own trade-off: the rows no other row beats on success rate and that panel's x at once. The
  // three-objective frontier projected on two axes zigzags; this line only rises, left to right.
  for (const char* x : {"latency_p99_ms", "cost_usd"}) {
    for (auto& r : rows) {
      bool beaten = false;
      const double rs = r["success_rate"], rx = r[x];
      for (const auto& o : rows) {
        const double os = o["success_rate"], ox = o[x];
        beaten = beaten || (os >= rs && ox <= rx && (os > rs || ox < rx));
      }
      r[std::string("front_") + x] = !beaten;
    }
  }
  json charts = json::array({{{"id", "chart-frontier"},
                              {"spec", {{"hconcat", json::array({panel("latency", "latency_p99_ms", "p99 latency (ms, log scale)", true, ",", ringed),
                                                                  panel("cost", "cost_usd", "cost per run (USD)", false, "$,~g", ringed)})},
                                        {"resolve", {{"scale", {{"color", "shared"}}}}}}}}});
  json datasets = {{"cells", rows}};

  const std::string name = text_field(sweep, "scenario");
  std::string out = "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
                    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>squall sweep: " +
                    escape_html(name) + "</title>\n<style>" + sweep_css + "</style>\n</head>\n<body>\n<main>\n";
  out += "<h1>Sweep of " + escape_html(name) + "</h1>\n<p class=\"lead\">" + std::to_string(cells.size()) + " cells, each on " +
         escape_html(text_field(sweep, "seeds")) + " seed(s) from " + escape_html(text_field(sweep, "seed")) +
         ", on identical workload and fault draws. Reproduce: <code>" + escape_html(text_field(sweep, "reproduce")) + "</code>";
  if (flag(sweep, "incomplete")) {
    out += " <span class=\"incomplete\">Incomplete: " + escape_html(text_field(sweep, "incomplete_reason")) + "</span>";
  }
  out += "</p>\n<section id=\"recommendation\"><h2>Recommendation</h2>\n";
  if (rec_cell.is_number_unsigned() && rec_cell.get<std::size_t>() < cells.size()) {
    const json& cell = cells[rec_cell.get<std::size_t>()];
    out += "<div class=\"card\"><strong>Cell " + escape_html(text_field(cell, "index")) + "</strong> (" +
           escape_html(text_field(cell, "configuration")) + ": " + escape_html(sweep_cell_label(sweep, cell)) + "): " +
           format_value(metric(cell, "success_rate"), unit::percent) + " success, p99 " +
           format_value(metric(cell, "latency_p99_ms"), unit::ms) + ", " + format_value(metric(cell, "cost_usd"), unit::usd) + ", " +
           format_value(metric(cell, "attempts_per_request"), unit::ratio) + " attempts/request; " +
           escape_html(text_field(rec, "why")) + ".<br>Run it: <code>" + escape_html(text_field(cell, "run")) + "</code></div>\n";
  } else {
    out += "<div class=\"card none\">" + escape_html(text_field(rec, "why")) + ".</div>\n";
  }
  out += "</section>\n<section id=\"frontier\"><h2>Pareto frontier</h2>\n<figure><div id=\"chart-frontier\"></div><figcaption>" +
         std::to_string(member(sweep, "frontier").size()) +
         " cells (blue) are on the frontier: no other cell has a success rate as high, a p99 latency as low and a cost "
         "as low, and one of them better. The line in each panel joins the cells no other beats on both of that panel's axes: "
         "the best success rate to be had for a p99 latency, or for a cost. Green cells meet the constraints" +
         std::string(rec_cell.is_number() ? "; the ringed one is recommended" : "; none is recommended") +
         ". Cells that did not run whole are not drawn.</figcaption></figure>\n</section>\n";

  out += "<section id=\"cells\"><h2>Every cell</h2>\n<div class=\"table-wrap\"><table id=\"cell-table\">\n<thead><tr><th>cell</th>"
         "<th>options</th><th>success</th><th>min&ndash;max over seeds</th><th>p50</th><th>p99</th><th>cost</th><th>attempts/request</th>"
         "<th>constraints</th></tr></thead>\n<tbody>\n";
  for (const auto& cell : cells) {
    const bool usable = !member(cell, "metrics").is_null() && flag(cell, "complete");
    std::string cls = flag(cell, "frontier") ? "frontier" : "";
    if (rec_cell.is_number() && rec_cell == member(cell, "index")) cls += cls.empty() ? "recommended" : " recommended";
    if (!usable) cls += cls.empty() ? "unusable" : " unusable";
    out += "<tr" + (cls.empty() ? std::string() : " class=\"" + cls + "\"") + " data-cell=\"" + escape_html(text_field(cell, "index")) +
           "\"><td>" + escape_html(text_field(cell, "index")) + "</td><td>" + escape_html(text_field(cell, "configuration")) + ": " +
           escape_html(sweep_cell_label(sweep, cell)) + "</td>";
    if (member(cell, "metrics").is_null()) {
      out += "<td colspan=\"7\">not run</td></tr>\n";
      continue;
    }
    const double p_max = std::max(metric(cell, "latency_p50_ms"), metric(cell, "latency_p99_ms"));
    out += "<td>" + format_value(metric(cell, "success_rate"), unit::percent) + "</td><td>" +
           format_value(metric(cell, "success_rate_min"), unit::percent) + " &ndash; " +
           format_value(metric(cell, "success_rate_max"), unit::percent) + "</td><td>" +
           format_value(metric(cell, "latency_p50_ms"), unit::ms, p_max) + "</td><td>" +
           format_value(metric(cell, "latency_p99_ms"), unit::ms, p_max) + "</td><td>" + format_value(metric(cell, "cost_usd"), unit::usd) +
           "</td><td>" + format_value(metric(cell, "attempts_per_request"), unit::ratio) + "</td>";
    std::string why;
    for (const auto& v : member(cell, "violations")) why += (why.empty() ? "" : "; ") + (v.is_string() ? v.get<std::string>() : "");
    // "met" in the violations' red would read as a failure.
    out += why.empty() ? "<td class=\"why met\">met" : "<td class=\"why\">" + escape_html(why);
    out += "</td></tr>\n";
  }
  out += "</tbody>\n</table></div>\n</section>\n";
  out += "<footer>squall " + escape_html(text_field(sweep, "squall_version")) + " &middot; " + escape_html(text_field(sweep, "format")) +
         " &middot; scenario " + escape_html(text_field(sweep, "file")) + " " + escape_html(text_field(sweep, "digest")) + " &middot; charts by";
  for (const auto& lib : html_assets::libraries()) out += " " + escape_html(lib.name) + " " + escape_html(lib.version);
  out += ", embedded in this file</footer>\n</main>\n";
  out += "<script type=\"application/json\" id=\"squall-data\">" + script_json(datasets) + "</script>\n";
  out += "<script type=\"application/json\" id=\"squall-charts\">" + script_json(charts) + "</script>\n";
  for (const auto& lib : html_assets::libraries()) {
    out += "<script data-library=\"" + escape_html(lib.name) + "\">" + escape_script(lib.code) + "\n</script>\n";
  }
  out += "<script>" + escape_script(sweep_js) + "</script>\n</body>\n</html>\n";
  return out;
}

}  // namespace squall::reports
