// The report's tables (reports/html/report_tables.cpp) on a real run: a 503 window on the primary
// provider and a fallback to a backup whose model is named like markup.

#include <gtest/gtest.h>

#include <string>

#include "reports/aggregate.hpp"
#include "reports/compare.hpp"
#include "reports/html/report_html.hpp"
#include "tests/reports/run_fixture.hpp"

namespace squall::reports {
namespace {

const json& tables_run() {
  static const json doc = testing::run_fallback_scenario();
  return doc;
}

// The text of the section with this id, or "" when the page has none.
std::string section_of(const std::string& html, const std::string& id) {
  const auto at = html.find("<section id=\"" + id + "\">");
  if (at == std::string::npos) return "";
  return html.substr(at, html.find("</section>", at) - at);
}

const json& tables_config(const json& doc, const std::string& name) {
  for (const auto& c : doc["configurations"]) {
    if (c["name"] == name) return c;
  }
  throw std::runtime_error("no configuration " + name);
}

std::string cell_count(const json& v) { return "<td>" + std::to_string(v.get<long long>()) + "</td>"; }

TEST(ReportTables, ErrorTableShowsTheRunsRows) {
  const std::string html = report_html(tables_run());
  const std::string errors = section_of(html, "errors");
  ASSERT_FALSE(errors.empty());
  EXPECT_NE(errors.find("id=\"error-table\""), std::string::npos);
  const json& plain = tables_config(tables_run(), "plain");
  bool found = false;
  for (const auto& e : plain["errors"]) {
    if (e["class"] != "overloaded") continue;
    // The row: configuration and class as labels, then status, provider, model, policy, message, counts.
    const std::string row = "<tr><th>plain</th><th>overloaded</th><td>503</td><td>primary</td><td>m1</td><td>-</td><td>-</td>" +
                            cell_count(e["requests"]) + cell_count(e["attempts"]);
    EXPECT_NE(errors.find(row), std::string::npos) << row << "\n" << errors;
    found = true;
  }
  EXPECT_TRUE(found);
}

TEST(ReportTables, TrafficTableShowsWhereTheFallbackSentTheAttempts) {
  const std::string traffic = section_of(report_html(tables_run()), "traffic");
  ASSERT_FALSE(traffic.empty());
  const json& fallback = tables_config(tables_run(), "fallback");
  for (const auto& p : fallback["providers"]) {
    if (p["attempts"] == 0) continue;
    const std::string head = "<tr><th>fallback</th><th>" + p["name"].get<std::string>() + "</th>";
    const auto at = traffic.find(head);
    ASSERT_NE(at, std::string::npos) << head;
    EXPECT_NE(traffic.find(cell_count(p["attempts"]), at), std::string::npos);
  }
}

TEST(ReportTables, MarkupInModelNamesStaysText) {
  const std::string html = report_html(tables_run());
  EXPECT_EQ(html.find(testing::script_model), std::string::npos) << "a model name became markup";
  EXPECT_NE(section_of(html, "traffic").find("&lt;script&gt;alert(1)&lt;/script&gt;"), std::string::npos);
}

TEST(ReportTables, ExplanationsAreCollapsedTimelinesOfTheDocumentsSteps) {
  json doc = tables_run();
  // A step whose words are markup, as a policy's detail could carry a model name.
  json* explained_list = nullptr;
  for (auto& c : doc["configurations"]) {
    if (c["name"] == "fallback") explained_list = &c["explained_requests"];
  }
  ASSERT_NE(explained_list, nullptr);
  json& first = *explained_list;
  ASSERT_FALSE(first.empty()) << "the fallback run explains no request";
  first[0]["steps"][0]["detail"] = "to <b>" + testing::script_model;
  const std::string explained = section_of(report_html(doc), "explanations");
  ASSERT_FALSE(explained.empty());
  EXPECT_EQ(explained.find("<b>" + testing::script_model), std::string::npos);
  EXPECT_NE(explained.find("to &lt;b&gt;&lt;script&gt;"), std::string::npos);
  std::size_t requests = 0, steps = 0;
  for (const auto& c : doc["configurations"]) {
    requests += c["explained_requests"].size();
    for (const auto& r : c["explained_requests"]) steps += r["steps"].size();
  }
  std::size_t details = 0, items = 0;
  for (auto at = explained.find("<details class=\"explained\">"); at != std::string::npos;
       at = explained.find("<details class=\"explained\">", at + 1))
    ++details;
  for (auto at = explained.find("<li>"); at != std::string::npos; at = explained.find("<li>", at + 1)) ++items;
  EXPECT_EQ(details, requests);
  EXPECT_EQ(items, steps);
  EXPECT_EQ(explained.find("<details open"), std::string::npos) << "collapsed by default";
  const json& step = first[0]["steps"][0];
  EXPECT_NE(explained.find("<b>" + step["policy"].get<std::string>() + "</b> " + step["decision"].get<std::string>()),
            std::string::npos);
}

TEST(ReportTables, OlderDocumentsAndAggregatesRenderWithoutError) {
  json old = tables_run();
  for (auto& c : old["configurations"]) {
    c.erase("errors");
    c.erase("models");
    c.erase("explained_requests");
    for (auto& p : c["providers"]) p.erase("attempts");
  }
  const std::string html = report_html(old);
  EXPECT_TRUE(section_of(html, "errors").empty());
  EXPECT_TRUE(section_of(html, "traffic").empty());
  EXPECT_TRUE(section_of(html, "explanations").empty());
  auto folded = aggregate_seeds({tables_run(), testing::run_fallback_scenario(12)});
  ASSERT_TRUE(folded) << folded.error().describe();
  const std::string aggregate = report_html(*folded);
  EXPECT_FALSE(section_of(aggregate, "errors").empty());
  EXPECT_NE(section_of(aggregate, "explanations").find("first seed"), std::string::npos);
  auto compared = compare_results(old, tables_run());
  ASSERT_TRUE(compared) << compared.error().describe();
  EXPECT_NE(section_of(report_html(compared->merged), "errors").find("<th>candidate: plain</th>"), std::string::npos);
}

}  // namespace
}  // namespace squall::reports
