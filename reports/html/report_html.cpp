#include "reports/html/report_html.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <vector>

#include "reports/format.hpp"
#include "reports/html/report_assets.hpp"
#include "reports/html/report_page.hpp"
#include "reports/provider_table.hpp"
namespace squall::reports {
namespace {

using namespace html_detail;

page read_page(const json& results) {
  page p{results, {}, 0, 0, false, false, false, false, false, false, 0, {}, json::object(), json::array()};
  const json& configs = child(results, "configurations");
  if (configs.is_array()) {
    for (const auto& c : configs) {
      configuration_view v{text(c, "name"), &c, &child(c, "summary"), false};
      if (v.name.empty()) v.name = "configuration " + std::to_string(p.configs.size() + 1);
      const json& breakers = child(c, "breakers");
      v.has_breaker = breakers.is_array() && !breakers.empty();
      p.any_breaker = p.any_breaker || v.has_breaker || number(*v.summary, "breaker_openings") > 0;
      p.any_fleet = p.any_fleet || child(c, "fleet").is_object();
      p.configs.push_back(std::move(v));
    }
  }
  p.interval_s = number(child(results, "scenario"), "interval_s");
  return p;
}

// ---------------------------------------------------------------------------------------------------
// HTML.

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
  // A multi-seed run shows means over its seeds: say so, and which seeds, rather than the first one's.
  const json& seeds = child(child(p.results, "aggregate"), "seeds");
  if (seeds.is_array() && !seeds.empty()) {
    std::string list;
    for (const auto& seed : seeds) list += (list.empty() ? "" : ", ") + (seed.is_string() ? seed.get<std::string>() : seed.dump());
    meta("seeds", list + " (means \xC2\xB1 95% interval)");
  } else {
    meta("seed", text(p.results, "seed"));
  }
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

void incident_html(std::string& out, const page& p) {
  const json& faults = p.datasets["faults"];
  out += "<section class=\"incident\" id=\"incident\"><h2>Incident</h2>\n";
  if (faults.empty()) {
    out += "<p>This scenario has no fault windows.</p>\n</section>\n";
    return;
  }
  out += "<ul class=\"faults\">\n";
  for (const auto& f : faults) {
    out += "<li><span class=\"fault-n\">" + escape_html(f["n"].get<std::string>()) + "</span><b>" +
           escape_html(f["when"].get<std::string>()) + "</b> " + escape_html(f["provider"].get<std::string>()) + ": " +
           escape_html(f["label"].get<std::string>()) + "</li>\n";
  }
  out += "</ul>\n</section>\n";
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
.card.reference { opacity: 0.85; }
.card.reference .card-verdict { background: #eee; color: #555; font-weight: 400; }
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
/* A table of many configurations scrolls on its own on a narrow window; the page never scrolls sideways. */
#summary, #providers, #traffic, #errors, #recovery, #explanations { overflow-x: auto; }
.pair { display: grid; grid-template-columns: repeat(auto-fit, minmax(440px, 1fr)); gap: 0 14px; }
.fault-n { display: inline-block; min-width: 15px; padding: 0 3px; margin-right: 4px; border-radius: 3px; background: #a51c1c;
  color: #fff; font-size: 11px; font-weight: 700; text-align: center; }
.fault-key { white-space: nowrap; margin-left: 8px; color: #8e1b1b; }
.chart-error { color: #b71c1c; font-weight: 600; white-space: pre-wrap; }
details.explained { margin: 0 0 4px; background: #fff; border: 1px solid #ddd; border-radius: 4px; padding: 3px 10px; }
details.explained summary { cursor: pointer; }
ol.timeline { margin: 4px 0 6px; padding-left: 22px; font-size: 13px; }
ol.timeline .at { display: inline-block; min-width: 76px; color: #555; font-variant-numeric: tabular-nums; }
ol.timeline .cause { color: #b71c1c; }
table.summary td { font-variant-numeric: tabular-nums; }
#error-table td:nth-child(-n+7), #traffic-table td:nth-child(3) { text-align: left; }
#error-table td:nth-child(7) { white-space: normal; min-width: 200px; max-width: 360px; overflow-wrap: anywhere; }
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
  // Each chart is laid out for a width (its "fit": the plot widths side by side, and what its axes need
  // beside them); its plot widths are scaled so that it fills its container, whatever the window.
  function scaled(spec, factor) {
    var out = Object.assign({}, spec);
    if (typeof out.width === 'number') out.width = Math.max(60, Math.floor(out.width * factor));
    ['layer', 'hconcat', 'vconcat', 'concat'].forEach(function (key) {
      if (out[key]) out[key] = out[key].map(function (s) { return scaled(s, factor); });
    });
    return out;
  }
  // The width of the figure's content box: the chart's div itself shrinks to what it drew.
  function room(div) {
    var figure = div.parentElement;
    var style = getComputedStyle(figure);
    return figure.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
  }
  var ACTIONS_PX = 40;  // vega-embed keeps this much on the right for its "..." menu
  function draw(chart, fixedPx) {
    var div = document.getElementById(chart.id);
    var fit = chart.fit || { plot_px: 900, fixed_px: 86 };
    var available = room(div) - ACTIONS_PX;
    var factor = (available - fixedPx) / fit.plot_px;
    var spec = Object.assign(scaled(chart.spec, factor), { datasets: data });
    var options = { mode: 'vega-lite', renderer: 'svg',
                    actions: { export: true, source: false, compiled: false, editor: false } };
    return vegaEmbed(div, spec, options).then(function (result) {
      if (window.squallViews[chart.id]) window.squallViews[chart.id].finalize();
      window.squallViews[chart.id] = result.view;
      div.setAttribute('data-width', String(room(div)));
      // Axes and legends took more room than laid out for: draw once more with what they really took.
      var svg = div.querySelector('svg');
      var drawn = svg ? svg.getBoundingClientRect().width : 0;
      var taken = drawn - Math.floor(fit.plot_px * factor);
      if (fixedPx === fit.fixed_px && drawn > available && taken > fixedPx) return draw(chart, taken + 2);
      return result;
    });
  }
  var resizing = null;
  window.addEventListener('resize', function () {
    clearTimeout(resizing);
    resizing = setTimeout(function () {
      charts.forEach(function (chart) {
        var div = document.getElementById(chart.id);
        if (div.getAttribute('data-width') !== String(room(div))) draw(chart, (chart.fit || {}).fixed_px || 86);
      });
    }, 150);
  });
  var pending = charts.map(function (chart) {
    return draw(chart, (chart.fit || { fixed_px: 86 }).fixed_px).then(function () {}, function (error) {
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

}  // namespace

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
  build_charts(p);
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
  recovery_html(out, p);
  providers_html(out, p);
  traffic_html(out, p);
  errors_html(out, p);
  out += "<section id=\"over-time\"><h2>Over time</h2>\n";
  if (p.configs.size() > 0) {
    out += "<p class=\"note\">Configurations: ";
    for (std::size_t i = 0; i < p.configs.size(); ++i) out += (i ? ", " : "") + swatch(i) + escape_html(p.configs[i].name);
    out += ".";
    // The legend row of the fault windows: the charts mark each window with its number only.
    if (!p.datasets["faults"].empty()) {
      out += " Fault windows, shaded red and numbered on each chart:";
      for (const auto& f : p.datasets["faults"]) {
        out += " <span class=\"fault-key\"><span class=\"fault-n\">" + escape_html(f["n"].get<std::string>()) + "</span>" +
               escape_html(f["when"].get<std::string>() + " " + f["text"].get<std::string>()) + "</span>";
      }
    }
    out += "</p>\n";
  }
  for (const auto& chart : p.charts) {
    if (chart["id"] != "chart-incident" && chart["id"] != "chart-spectrum" && chart["id"] != "chart-histogram") chart_html(out, chart);
  }
  out += "</section>\n";
  bool distribution = false;
  for (const auto& chart : p.charts) {
    if (chart["id"] != "chart-spectrum" && chart["id"] != "chart-histogram") continue;
    if (!distribution) out += "<section id=\"distribution\"><h2>Latency distribution</h2>\n<div class=\"pair\">\n";
    distribution = true;
    chart_html(out, chart);
  }
  if (distribution) out += "</div>\n</section>\n";

  explanations_html(out, p);

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
