#include "reports/html/report_html.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "reports/html/report_assets.hpp"

namespace squall::reports {
namespace {

// A small results document of the shape results_document() writes: two configurations, four
// intervals, two fault windows, one breaker, one cache, two assertions.
json sample_results() {
  auto series = [](double ok0, bool breaker, bool cache) {
    json s = {{"end_s", {5, 10, 15, 20}},
              {"offered", {50, 50, 50, 50}},
              {"completed", {50, 48, 0, 50}},
              {"degraded", {0, 2, 0, 0}},
              {"attempts", {50, 90, 10, 55}},
              {"retries", {0, 40, 0, 5}},
              {"breaker_state", breaker ? json({0, 2, 1, 0}) : json({0, 0, 0, 0})},
              {"latency_p50_ms", {400, 900, 0, 410}},
              {"latency_p95_ms", {700, 2500, 0, 720}},
              {"latency_p99_ms", {900, 4000, 0, 950}},
              {"cost_usd", {0.5, 0.9, 0.1, 0.55}},
              {"in_flight", {3, 20, 40, 2}},
              {"provider_busy", {3, 30, 40, 2}},
              {"provider_queue", {0, 12, 25, 0}},
              {"cache_hits", cache ? json({0, 10, 0, 20}) : json({0, 0, 0, 0})},
              {"cache_misses", cache ? json({50, 38, 0, 30}) : json({0, 0, 0, 0})}};
    s["outcomes"] = {{"ok", {ok0, 30, 0, 50}}, {"overloaded", {50 - ok0, 16, 0, 0}}, {"timeout", {0, 0, 0, 0}}};
    return s;
  };
  auto summary = [](double success, double p99, double cost, double openings, double hit_rate) {
    return json{{"success_rate", success}, {"degraded_rate", 0.01},  {"latency_p50_ms", 410},
                {"latency_p95_ms", 2400},  {"latency_p99_ms", p99},  {"latency_p999_ms", p99 * 1.5},
                {"cost_usd", cost},        {"cost_per_success_usd", cost / 180}, {"cost_wasted_usd", 0.1},
                {"attempts_per_request", 1.3}, {"cache_hit_rate", hit_rate}, {"breaker_openings", openings}};
  };
  json doc = {{"format", "squall-results/1"},
              {"squall_version", "0.1.0"},
              {"mode", "sim"},
              {"seed", 7},
              {"reproduce", "squall run scenarios/sample.json --seed 7"},
              {"scenario",
               {{"name", "sample-incident"},
                {"description", "Two faults & a <b>bold</b> claim."},
                {"file", "scenarios/sample.json"},
                {"digest", "sha256:abc"},
                {"duration_s", 20},
                {"drain_s", 0},
                {"interval_s", 5},
                {"faults",
                 {{{"provider", "openai"}, {"at_s", 5}, {"for_s", 10}, {"label", "80% 503"}},
                  {{"provider", "anthropic"}, {"at_s", 8}, {"for_s", 4}, {"label", "outage (hang)"}}}}}}};
  doc["configurations"] = json::array();
  doc["configurations"].push_back({{"name", "retry-only"},
                                   {"summary", summary(0.8, 4000, 2.05, 0, 0)},
                                   {"breakers", json::array()},
                                   {"latency_spectrum", {{{"quantile", 0.5}, {"latency_ms", 410}}, {{"quantile", 0.99}, {"latency_ms", 4000}}, {{"quantile", 1.0}, {"latency_ms", 9000}}}},
                                   {"series", series(40, false, false)}});
  doc["configurations"].push_back({{"name", "retry-breaker-cache"},
                                   {"summary", summary(0.95, 1200, 1.9, 2, 0.2)},
                                   {"breakers", {{{"name", "circuit_breaker"}, {"openings", 2}, {"open_s", 5}}}},
                                   {"latency_spectrum", {{{"quantile", 0.5}, {"latency_ms", 400}}, {{"quantile", 0.99}, {"latency_ms", 1200}}}},
                                   {"series", series(48, true, true)}});
  doc["assertions"] = {{{"configuration", "retry-breaker-cache"}, {"metric", "success_rate"}, {"kind", "min"}, {"bound", 0.9}, {"measured", 0.95}, {"passed", true}},
                       {{"configuration", "retry-only"}, {"metric", "latency_p99_ms"}, {"kind", "max"}, {"bound", 2000}, {"measured", 4000}, {"passed", false}}};
  doc["verdict"] = "fail";
  return doc;
}

std::size_t count(const std::string& haystack, const std::string& needle) {
  std::size_t n = 0;
  for (auto at = haystack.find(needle); at != std::string::npos; at = haystack.find(needle, at + needle.size())) ++n;
  return n;
}

// The text of the <script> element with the given id, parsed as JSON.
json embedded_json(const std::string& html, const std::string& id) {
  const std::string open = "<script type=\"application/json\" id=\"" + id + "\">";
  const auto start = html.find(open);
  if (start == std::string::npos) return json();
  const auto end = html.find("</script>", start);
  return json::parse(html.substr(start + open.size(), end - start - open.size()), nullptr, false);
}

void collect_names(const json& spec, std::vector<std::string>& names) {
  if (spec.contains("name")) names.push_back(spec["name"].get<std::string>());
  for (const char* key : {"layer", "hconcat", "vconcat", "concat"}) {
    if (!spec.contains(key)) continue;
    for (const auto& sub : spec[key]) collect_names(sub, names);
  }
}

// The unit names of a chart, and the same without panel suffixes: "fault_labels_1_right_0" also reads
// as "fault_labels_1", "data_2" as "data".
std::set<std::string> layer_names(const json& spec) {
  std::vector<std::string> all;
  collect_names(spec, all);
  std::set<std::string> names;
  for (const auto& name : all) {
    names.insert(name);
    if (name.rfind("fault_labels_", 0) == 0 && name.size() >= 14) names.insert(name.substr(0, 14));
    if (name.rfind("fault_windows", 0) == 0) names.insert("fault_windows");
    if (name.rfind("data", 0) == 0) names.insert("data");
  }
  return names;
}

TEST(report_html, is_self_contained_no_script_loads_anything) {
  const std::string html = report_html(sample_results());
  // Every <script> element is inline: no src attribute at all, let alone an http(s) one.
  std::size_t scripts = 0;
  for (auto at = html.find("<script"); at != std::string::npos; at = html.find("<script", at + 1)) {
    ++scripts;
    const std::string tag = html.substr(at, html.find('>', at) - at + 1);
    EXPECT_EQ(tag.find("src="), std::string::npos) << tag;
  }
  EXPECT_EQ(count(html, "<SCRIPT") + count(html, "<Script"), 0u);
  EXPECT_EQ(scripts, 6u);  // data, chart specs, three libraries, the drawing code
  EXPECT_EQ(html.find("<link"), std::string::npos);
  EXPECT_EQ(html.find("@import"), std::string::npos);
  // Each library is there whole, in load order, and its version is credited.
  std::size_t last = 0;
  for (const auto& lib : html_assets::libraries()) {
    const auto at = html.find("<script data-library=\"" + std::string(lib.name) + "\">");
    ASSERT_NE(at, std::string::npos) << lib.name;
    EXPECT_GT(at, last) << lib.name << " is out of load order";
    last = at;
    EXPECT_GT(lib.code.size(), 20000u) << lib.name;
    EXPECT_NE(html.find(lib.code.substr(0, 2000)), std::string::npos) << lib.name;
    EXPECT_NE(html.find(std::string(lib.name) + " " + std::string(lib.version)), std::string::npos);
  }
  EXPECT_NE(html.find("vegaEmbed("), std::string::npos);
}

TEST(report_html, embeds_the_data_of_every_configuration_and_fault) {
  const json data = embedded_json(report_html(sample_results()), "squall-data");
  ASSERT_TRUE(data.is_object());
  ASSERT_EQ(data["series"].size(), 8u);  // two configurations x four intervals
  EXPECT_EQ(data["series"][0]["configuration"], "retry-only");
  EXPECT_EQ(data["series"][4]["configuration"], "retry-breaker-cache");
  // An interval where nothing completed has no latency or success rate (a gap, not a false zero).
  EXPECT_TRUE(data["series"][2]["latency_p99_ms"].is_null());
  EXPECT_TRUE(data["series"][2]["success_rate"].is_null());
  EXPECT_DOUBLE_EQ(data["series"][1]["success_rate"].get<double>(), 30.0 / 48);
  EXPECT_DOUBLE_EQ(data["series"][1]["attempts_per_s"].get<double>(), 18);
  EXPECT_DOUBLE_EQ(data["series"][3]["cumulative_cost_usd"].get<double>(), 2.05);
  EXPECT_EQ(data["series"][1]["breaker_state"], "no breaker");
  EXPECT_EQ(data["series"][5]["breaker_state"], "open");
  EXPECT_EQ(data["series"][6]["breaker_state"], "half-open");
  EXPECT_TRUE(data["series"][0]["cache_hit_rate"].is_null());
  EXPECT_DOUBLE_EQ(data["series"][7]["cache_hit_rate"].get<double>(), 0.4);
  ASSERT_EQ(data["faults"].size(), 2u);
  EXPECT_EQ(data["faults"][0]["end_s"], 15);
  EXPECT_EQ(data["faults"][1]["text"], "anthropic: outage (hang)");
  EXPECT_EQ(data["faults"][1]["when"], "0:08-0:12");
  // Outcome rows: degraded answers are a class of their own, empty classes are left out.
  std::set<std::string> classes;
  for (const auto& row : data["outcomes"]) classes.insert(row["class"].get<std::string>());
  EXPECT_EQ(classes, (std::set<std::string>{"ok", "degraded", "overloaded"}));
  // The maximum has no place on the percentile axis.
  EXPECT_EQ(data["spectrum"].size(), 4u);
}

TEST(report_html, one_spec_per_chart_each_with_the_fault_windows) {
  const std::string html = report_html(sample_results());
  const json charts = embedded_json(html, "squall-charts");
  ASSERT_TRUE(charts.is_array());
  std::set<std::string> ids;
  for (const auto& chart : charts) {
    const std::string id = chart["id"].get<std::string>();
    EXPECT_TRUE(ids.insert(id).second) << "two specs for " << id;
    EXPECT_EQ(count(html, "id=\"" + id + "\""), 1u) << id;
    EXPECT_TRUE(chart["spec"].is_object());
    EXPECT_FALSE(chart["spec"].contains("$schema"));  // no URL the page might be tempted to fetch
    if (id == "chart-spectrum" || id == "chart-histogram") continue;  // not over time
    const auto names = layer_names(chart["spec"]);
    EXPECT_TRUE(names.count("fault_windows")) << id << " does not shade the fault windows";
    if (id != "chart-incident") {
      EXPECT_TRUE(names.count("fault_labels_0")) << id;
      EXPECT_TRUE(names.count("fault_labels_1")) << id << ": overlapping windows need a second label row";
    }
  }
  EXPECT_EQ(count(html, "class=\"vega\""), charts.size());
  const std::set<std::string> expected = {"chart-incident", "chart-latency",  "chart-outcomes", "chart-success",
                                          "chart-cost",     "chart-attempts", "chart-breaker",  "chart-cache",
                                          "chart-provider"};
  for (const auto& id : expected) EXPECT_TRUE(ids.count(id)) << id;
  EXPECT_TRUE(ids.count("chart-spectrum") && html.find("id=\"distribution\"") != std::string::npos);
  EXPECT_TRUE(ids.count("chart-histogram"));
  EXPECT_EQ(charts.size(), expected.size() + 2);  // and the spectrum and histogram
}

// Regression: two panels of the outcomes chart had units of the same name, and Vega-Lite drew the
// second configuration's data in both.
TEST(report_html, unit_names_are_unique_within_each_chart) {
  const json charts = embedded_json(report_html(sample_results()), "squall-charts");
  for (const auto& chart : charts) {
    std::vector<std::string> names;
    collect_names(chart["spec"], names);
    const std::set<std::string> unique(names.begin(), names.end());
    EXPECT_EQ(unique.size(), names.size()) << chart["id"];
  }
}

TEST(report_html, spectrum_has_no_fault_layer) {
  const json charts = embedded_json(report_html(sample_results()), "squall-charts");
  for (const auto& chart : charts) {
    if (chart["id"] == "chart-spectrum") {
      EXPECT_FALSE(layer_names(chart["spec"]).count("fault_windows"));
      EXPECT_EQ(chart["spec"]["layer"][0]["encoding"]["y"]["scale"]["type"], "log");
      return;
    }
  }
  FAIL() << "no spectrum chart";
}

TEST(report_html, colours_each_configuration_the_same_on_every_chart) {
  const std::string dump = embedded_json(report_html(sample_results()), "squall-charts").dump();
  // The configuration colour scale appears with the same domain and range wherever it is used.
  const std::string scale =
      R"("scale":{"domain":["retry-only","retry-breaker-cache"],"range":["#4c78a8","#f58518"]})";
  EXPECT_GE(count(dump, scale), 7u);
  EXPECT_EQ(count(dump, R"("field":"configuration","type":"nominal","title":"configuration","scale")"), count(dump, scale));
}

TEST(report_html, first_screen_has_verdict_table_and_incident) {
  const std::string html = report_html(sample_results());
  EXPECT_NE(html.find("<div class=\"verdict\" id=\"verdict\">FAIL</div>"), std::string::npos);
  EXPECT_NE(html.find("1 of 2 assertions failed."), std::string::npos);
  EXPECT_NE(html.find("<title>FAIL \xc2\xb7 sample-incident"), std::string::npos);
  EXPECT_NE(html.find("Two faults &amp; a &lt;b&gt;bold&lt;/b&gt; claim."), std::string::npos);
  EXPECT_NE(html.find("<code>squall run scenarios/sample.json --seed 7</code>"), std::string::npos);
  EXPECT_NE(html.find("<b>seed</b> 7"), std::string::npos);
  EXPECT_NE(html.find("<b>mode</b> sim"), std::string::npos);
  EXPECT_NE(html.find("<b>duration</b> 0:20 (20 s)"), std::string::npos);
  EXPECT_NE(html.find("<b>0:05-0:15</b> openai: 80% 503"), std::string::npos);
  EXPECT_NE(html.find("Highest success rate: <span class=\"swatch\" style=\"background:#f58518\"></span><b>retry-breaker-cache</b> (95.00%)"),
            std::string::npos);
  EXPECT_NE(html.find("cheapest per success: <span class=\"swatch\" style=\"background:#f58518\"></span><b>retry-breaker-cache</b>"),
            std::string::npos);
  // Order: verdict, cards, incident, table, then the charts over time.
  const auto verdict = html.find("id=\"verdict\"");
  const auto cards = html.find("id=\"configurations\"");
  const auto incident = html.find("id=\"incident\"");
  const auto table = html.find("id=\"summary\"");
  const auto over_time = html.find("id=\"over-time\"");
  EXPECT_LT(verdict, cards);
  EXPECT_LT(cards, incident);
  EXPECT_LT(incident, table);
  EXPECT_LT(table, over_time);
}

TEST(report_html, summary_table_shows_differences_to_the_baseline_and_assertions) {
  const std::string html = report_html(sample_results());
  EXPECT_NE(html.find("<td class=\"better\">95.00% <span class=\"delta\">(+15.00 pp)</span></td>"), std::string::npos);
  EXPECT_NE(html.find("<td class=\"better\">1200 ms <span class=\"delta\">(-70.0%)</span></td>"), std::string::npos);
  EXPECT_NE(html.find("<td class=\"better\">$1.90 <span class=\"delta\">(-7.3%)</span></td>"), std::string::npos);
  EXPECT_NE(html.find("<td class=\"worse\">2 <span class=\"delta\">(new)</span></td>"), std::string::npos);
  EXPECT_NE(html.find("<td>1.00% <span class=\"delta\">(=)</span></td>"), std::string::npos) << "unchanged degraded rate";
  for (const char* row : {"success rate", "degraded rate", "latency p50", "latency p95", "latency p99", "latency p99.9",
                          "cost", "cost / success", "cost wasted", "attempts / request", "cache hit rate",
                          "breaker openings"}) {
    EXPECT_NE(html.find("\"><th>" + std::string(row) + "</th>"), std::string::npos) << row;
  }
  EXPECT_NE(html.find("assert success rate \xe2\x89\xa5 90.00%</th><td></td><td class=\"pass\">pass"), std::string::npos);
  EXPECT_NE(html.find("assert latency p99 \xe2\x89\xa4 2000 ms</th><td class=\"fail\">FAIL"), std::string::npos);
}

// A `squall compare` document: each candidate configuration names its "baseline", the same configuration of
// the base run. Its card and its table column are measured against that one, not the first column
// (the base run's first configuration), which is what the terminal and summary.md say too.
TEST(report_html, compare_measures_each_candidate_against_its_own_base) {
  json doc = sample_results();
  json configs = json::array();
  const std::vector<std::pair<std::string, double>> runs = {{"base: retry-only", 0.80}, {"base: retry-breaker-cache", 0.95},
                                                            {"candidate: retry-only", 0.81}, {"candidate: retry-breaker-cache", 0.94}};
  for (const auto& [name, success] : runs) {
    json c = doc["configurations"][0];
    c["name"] = name;
    c["summary"]["success_rate"] = success;
    if (name.rfind("candidate: ", 0) == 0) c["baseline"] = "base: " + name.substr(11);
    configs.push_back(c);
  }
  doc["configurations"] = configs;
  doc["assertions"] = json::array();
  const std::string html = report_html(doc);
  EXPECT_NE(html.find("-1.00 pp vs base: retry-breaker-cache</div>"), std::string::npos) << "not +14 pp vs base: retry-only";
  EXPECT_NE(html.find("+1.00 pp vs base: retry-only</div>"), std::string::npos);
  EXPECT_EQ(count(html, " vs base: "), 2u) << "the base run's own cards have no delta";
  EXPECT_NE(html.find("<td class=\"worse\">94.00% <span class=\"delta\">(-1.00 pp)</span></td>"), std::string::npos);
  EXPECT_NE(html.find("<td class=\"better\">81.00% <span class=\"delta\">(+1.00 pp)</span></td>"), std::string::npos);
  EXPECT_EQ(count(html, "<span class=\"tag\">baseline</span>"), 2u * 2u) << "both base configurations, in cards and table";
  EXPECT_NE(html.find("same configuration of the base run"), std::string::npos);
}

// A configuration kept as a bad example is shown as a reference: no green badge, and never named by the
// headline, which says first which candidates held up by the scenario's own assertions.
TEST(report_html, references_are_shown_as_such_and_the_headline_names_what_held_up) {
  json doc = sample_results();
  json naive = doc["configurations"][0];
  naive["name"] = "retry-naive";
  naive["reference"] = "naive immediate retries: what not to do";
  naive["summary"]["success_rate"] = 0.99;  // the highest of all, as naive retries often are
  naive["summary"]["latency_p99_ms"] = 100;
  naive["summary"]["cost_per_success_usd"] = 0.0001;
  doc["configurations"].push_back(naive);
  doc["assertions"].push_back({{"configuration", "retry-naive"}, {"metric", "success_rate"}, {"kind", "min"}, {"bound", 0.9},
                               {"measured", 0.99}, {"passed", true}});
  const std::string html = report_html(doc);
  EXPECT_NE(html.find("Held up by the scenario's assertions: <span class=\"swatch\" style=\"background:#f58518\"></span>"
                      "<b>retry-breaker-cache</b>.<br>Highest success rate: "),
            std::string::npos);
  EXPECT_EQ(html.find("<b>retry-naive</b>"), std::string::npos) << "the headline never names a reference";
  EXPECT_NE(html.find("<div class=\"card reference\""), std::string::npos);
  EXPECT_NE(html.find("retry-naive <span class=\"tag\">reference</span>"), std::string::npos);
  EXPECT_NE(html.find("kept as a reference: naive immediate retries: what not to do &middot; 1 of 1 assertions passed"),
            std::string::npos);
  EXPECT_EQ(count(html, "&#10004; "), 1u) << "the one candidate that held up; the reference has no tick";
  // Nothing held up: the headline says so.
  for (auto& a : doc["assertions"]) a["passed"] = false;
  EXPECT_NE(report_html(doc).find("No configuration held up: each failed at least one of the scenario's assertions."),
            std::string::npos);
}

TEST(report_html, names_cannot_break_out_of_script_or_markup) {
  json doc = sample_results();
  const std::string evil = "</script><script>alert(1)</script><!--";
  doc["configurations"][0]["name"] = evil;
  doc["assertions"][1]["configuration"] = evil;
  doc["scenario"]["faults"][0]["label"] = "</SCRIPT>x";
  doc["scenario"]["name"] = "<img src=x onerror=alert(1)>";
  const std::string html = report_html(doc);
  EXPECT_EQ(html.find("<script>alert"), std::string::npos);
  // The markup written by the page itself ends where the first script begins (the libraries' own code
  // may well contain "<img src" in a string).
  const std::string markup = html.substr(0, html.find("<script"));
  EXPECT_EQ(markup.find("<img src"), std::string::npos);
  EXPECT_NE(markup.find("&lt;img src=x onerror=alert(1)&gt;"), std::string::npos);
  EXPECT_EQ(html.find("</SCRIPT>x"), std::string::npos);
  // Every "</script" in the page closes one of the page's own six script elements.
  EXPECT_EQ(count(html, "</script"), 6u);
  // And the name still reads back unchanged from the embedded data.
  const json data = embedded_json(html, "squall-data");
  ASSERT_TRUE(data.is_object());
  EXPECT_EQ(data["series"][0]["configuration"], evil);
  EXPECT_EQ(data["faults"][0]["label"], "</SCRIPT>x");
  EXPECT_NE(html.find("&lt;/script&gt;&lt;script&gt;alert(1)"), std::string::npos);
}

TEST(report_html, escape_script_rewrites_only_what_could_end_the_element) {
  EXPECT_EQ(escape_script("a</script>b"), "a<\\/script>b");
  EXPECT_EQ(escape_script("a</ScRiPt b"), "a<\\/ScRiPt b");
  EXPECT_EQ(escape_script("x<!--y"), "x<\\!--y");
  EXPECT_EQ(escape_script("a < b && c </div> '</scrip'"), "a < b && c </div> '</scrip'");
  EXPECT_EQ(escape_script("</script"), "<\\/script");
  EXPECT_EQ(escape_script(""), "");
  EXPECT_EQ(escape_html("a&b<c>\"d'"), "a&amp;b&lt;c&gt;&quot;d&#39;");
}

// The cost axis has enough decimals to tell its ticks apart, and request counts tick on whole numbers.
TEST(report_html, axes_label_small_costs_and_counts_readably) {
  auto axis_format = [](const json& doc, const char* chart_id) {
    for (const auto& chart : embedded_json(report_html(doc), "squall-charts")) {
      if (chart["id"] != chart_id) continue;
      const std::string spec = chart["spec"].dump();
      const auto at = spec.find("\"format\":\"$");  // the money axis's; time axes have formats of their own
      return at == std::string::npos ? std::string() : spec.substr(at + 10, spec.find('"', at + 10) - at - 10);
    }
    return std::string("no chart");
  };
  json doc = sample_results();
  EXPECT_EQ(axis_format(doc, "chart-cost"), "$,.2f") << "dollars: cents are enough";
  for (auto& c : doc["configurations"]) c["series"]["cost_usd"] = {0.001, 0.002, 0.001, 0.0005};  // $0.0045 in all
  EXPECT_EQ(axis_format(doc, "chart-cost"), "$,.5f") << "$0.00450: two decimals past the first one";
  const json charts = embedded_json(report_html(doc), "squall-charts");
  std::size_t provider_charts = 0;
  for (const auto& chart : charts) {
    if (chart["id"] != "chart-provider") continue;
    ++provider_charts;
    EXPECT_NE(chart["spec"].dump().find("\"tickMinStep\":1"), std::string::npos);
  }
  EXPECT_EQ(provider_charts, 1u);
}

const json* chart_of(const json& charts, const char* id) {
  for (const auto& chart : charts) {
    if (chart["id"] == id) return &chart;
  }
  return nullptr;
}

// Fast failures (a breaker answering in under a millisecond) do not stretch the latency axis: it starts at
// a 1-2-5 floor at most a quarter of the typical median, with few ticks.
TEST(report_html, latency_axis_starts_at_a_floor_under_the_typical_median) {
  json doc = sample_results();
  doc["configurations"][1]["series"]["latency_p50_ms"] = {0.2, 0.3, 0, 0.2};  // a breaker failing fast
  const json charts = embedded_json(report_html(doc), "squall-charts");
  const json* latency = chart_of(charts, "chart-latency");
  ASSERT_NE(latency, nullptr);
  const json& y = (*latency)["spec"]["vconcat"][0]["layer"][1]["encoding"]["y"];
  const double floor_ms = y["scale"]["domainMin"].get<double>();
  EXPECT_EQ(y["scale"]["clamp"], true);
  // The p50 values of the rows with answers, as the page draws them (1 ms at least), sorted: 1, 1, 1, 400, 410, 900.
  std::vector<double> p50;
  for (const auto& c : doc["configurations"]) {
    const auto& s = c["series"];
    for (std::size_t i = 0; i < s["end_s"].size(); ++i) {
      if (s["completed"][i].get<double>() > 0) p50.push_back(std::max(1.0, s["latency_p50_ms"][i].get<double>()));
    }
  }
  std::sort(p50.begin(), p50.end());
  const double median = p50[p50.size() / 2];
  EXPECT_LE(floor_ms, median / 4);
  EXPECT_GT(floor_ms, median / 10) << "the next 1-2-5 step up would be above a quarter of the median";
  ASSERT_TRUE(y["axis"]["values"].is_array());
  EXPECT_LE(y["axis"]["values"].size(), 4u);
  for (const auto& v : y["axis"]["values"]) EXPECT_GE(v.get<double>(), floor_ms);
}

// The breaker strip is opaque: its fault windows are drawn over it, not under.
TEST(report_html, breaker_strip_has_its_fault_windows_over_it) {
  const json charts = embedded_json(report_html(sample_results()), "squall-charts");
  const json* breaker = chart_of(charts, "chart-breaker");
  ASSERT_NE(breaker, nullptr);
  const json& layers = (*breaker)["spec"]["layer"];
  std::size_t data_at = layers.size(), faults_at = layers.size();
  for (std::size_t i = 0; i < layers.size(); ++i) {
    if (layers[i]["name"] == "data") data_at = i;
    if (layers[i]["name"] == "fault_windows") faults_at = i;
  }
  ASSERT_LT(data_at, layers.size());
  ASSERT_LT(faults_at, layers.size());
  EXPECT_GT(faults_at, data_at);
}

// The histogram's bins hold every request once: their shares add up to 1 per configuration.
TEST(report_html, latency_histogram_bins_add_up_to_all_requests) {
  json doc = sample_results();
  for (auto& c : doc["configurations"]) {
    c["latency_spectrum"] = {{{"quantile", 0.0}, {"latency_ms", 0.4}}, {{"quantile", 0.1}, {"latency_ms", 0.5}},
                             {{"quantile", 0.5}, {"latency_ms", 400}},  {{"quantile", 0.99}, {"latency_ms", 3000}},
                             {{"quantile", 1.0}, {"latency_ms", 9000}}};
  }
  const json data = embedded_json(report_html(doc), "squall-data");
  ASSERT_TRUE(data["histogram"].is_array());
  std::map<std::string, double> total;
  double fast = 0;
  for (const auto& row : data["histogram"]) {
    total[row["configuration"].get<std::string>()] += row["share"].get<double>();
    EXPECT_LT(row["low_ms"].get<double>(), row["high_ms"].get<double>());
    if (row["configuration"] == "retry-only" && row["high_ms"].get<double>() <= 1.0001 + 0.8) fast += row["share"].get<double>();
  }
  ASSERT_EQ(total.size(), 2u);
  for (const auto& [name, sum] : total) EXPECT_NEAR(sum, 1.0, 1e-4) << name;
  // The 10% of answers under a millisecond are in the first bin (1 ms to 10^0.25 ms), whole, with the
  // share interpolated on the log scale between 1 ms (p10) and 400 ms (p50) that falls in the bin.
  EXPECT_NEAR(fast, 0.1 + 0.4 * std::log(std::pow(10.0, 0.25)) / std::log(400.0), 1e-4);
}

// Every chart says how it is laid out, so the page can scale it to its container.
TEST(report_html, every_chart_says_how_to_fit_its_container) {
  for (const auto& chart : embedded_json(report_html(sample_results()), "squall-charts")) {
    ASSERT_TRUE(chart.contains("fit")) << chart["id"];
    EXPECT_GT(chart["fit"]["plot_px"].get<int>(), 0) << chart["id"];
    EXPECT_GT(chart["fit"]["fixed_px"].get<int>(), 0) << chart["id"];
  }
}

// Each fault window is numbered; the legend row over the charts gives each number its text.
TEST(report_html, fault_windows_are_numbered_with_a_legend_row) {
  const std::string html = report_html(sample_results());
  const json data = embedded_json(html, "squall-data");
  ASSERT_EQ(data["faults"].size(), 2u);
  EXPECT_EQ(data["faults"][0]["n"], "1");
  EXPECT_EQ(data["faults"][1]["n"], "2");
  // Both windows are centred on 0:10: their numbers go on separate rows.
  EXPECT_NE(data["faults"][0]["row"], data["faults"][1]["row"]);
  EXPECT_NE(html.find("<span class=\"fault-n\">2</span>0:08-0:12 anthropic: outage (hang)"), std::string::npos);
}

TEST(report_html, same_document_gives_the_same_bytes) {
  EXPECT_EQ(report_html(sample_results()), report_html(sample_results()));
}

TEST(report_html, leaves_out_what_the_run_did_not_have) {
  json doc = sample_results();
  doc["scenario"]["faults"] = json::array();
  for (auto& c : doc["configurations"]) {
    c["breakers"] = json::array();
    c["summary"]["breaker_openings"] = 0;
    c["series"]["breaker_state"] = {0, 0, 0, 0};
    c["series"]["cache_hits"] = {0, 0, 0, 0};
    c["series"]["cache_misses"] = {0, 0, 0, 0};
    // A live run against providers squall does not run reports no provider load.
    c["series"]["provider_busy"] = {0, 0, 0, 0};
    c["series"]["provider_queue"] = {0, 0, 0, 0};
  }
  doc["assertions"] = json::array();
  doc["verdict"] = "pass";
  const std::string html = report_html(doc);
  const json charts = embedded_json(html, "squall-charts");
  std::set<std::string> ids;
  for (const auto& chart : charts) {
    ids.insert(chart["id"].get<std::string>());
    EXPECT_FALSE(layer_names(chart["spec"]).count("fault_windows")) << chart["id"];
  }
  EXPECT_FALSE(ids.count("chart-breaker"));
  EXPECT_FALSE(ids.count("chart-cache"));
  EXPECT_FALSE(ids.count("chart-incident"));
  EXPECT_FALSE(ids.count("chart-provider")) << "a flat line at zero says nothing";
  EXPECT_TRUE(ids.count("chart-latency"));
  EXPECT_NE(html.find("This scenario has no fault windows."), std::string::npos);
  EXPECT_NE(html.find("No assertions: the verdict is pass by default."), std::string::npos);
  EXPECT_NE(html.find(">PASS</div>"), std::string::npos);
}

TEST(report_html, providers_section_shows_queue_waits_when_the_run_measured_them) {
  json doc = sample_results();
  EXPECT_EQ(report_html(doc).find("<section id=\"providers\">"), std::string::npos) << "no provider figures, no section";
  doc["configurations"][0]["providers"] = {{{"name", "openai"}, {"busy_max", 64}, {"queue_max", 12},
                                            {"service_started", 900}, {"queue_waited_share", 0.25},
                                            {"queue_wait_mean_ms", 120}, {"queue_wait_p50_ms", 0},
                                            {"queue_wait_p90_ms", 400}, {"queue_wait_p99_ms", 1500}}};
  const std::string html = report_html(doc);
  const auto at = html.find("<section id=\"providers\">");
  ASSERT_NE(at, std::string::npos);
  EXPECT_NE(html.find("<tr><th>retry-only</th><th>openai</th><td>64</td><td>12</td><td>25.00%</td><td>120 ms</td>"
                      "<td>0 ms</td><td>400 ms</td><td>1500 ms</td></tr>", at), std::string::npos);
  EXPECT_LT(html.find("<section id=\"summary\">"), at) << "after the side-by-side table";
}

TEST(report_html, renders_partial_or_odd_documents_without_throwing) {
  for (const json& doc : {json(), json::object(), json::array(), json{{"configurations", 3}},
                          json{{"configurations", {{{"name", 5}, {"summary", "x"}, {"series", {{"end_s", {"a", 5}}}}}}}},
                          json{{"scenario", {{"faults", {{{"at_s", "x"}}}}}}}}) {
    std::string html;
    EXPECT_NO_THROW(html = report_html(doc)) << doc.dump();
    EXPECT_NE(html.find("</html>"), std::string::npos);
    EXPECT_TRUE(embedded_json(html, "squall-data").is_object()) << doc.dump();
    EXPECT_NE(html.find(">NO VERDICT</div>"), std::string::npos) << "a document without a verdict is not a pass";
  }
}

}  // namespace
}  // namespace squall::reports
