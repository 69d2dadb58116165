// /metrics (issue 16): the exchange-duration histogram, the gauge of fault windows in effect, the build
// info, OpenMetrics on request, and family names that do not clash. Real servers on loopback port 0.
// tests/fake_providers/metrics_parse_test.py puts the same text through prometheus_client's parsers.
#include <gtest/gtest.h>

#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "squall_version.hpp"
#include "tests/fake_providers/test_providers.hpp"
#include "tests/support/http_test_client.hpp"

namespace squall::fake {
namespace {

using nlohmann::json;
using testing::anthropic_config;
using testing::client;
using testing::openai_config;
using testing::reply;
using testing::running;

json model_chat(std::string model = "gpt-4o-mini") {
  return {{"model", std::move(model)},
          {"messages", json::array({{{"role", "user"}, {"content", "one two"}}})},
          {"max_tokens", 2}};
}

// The value of the sample written exactly `series` ("name{labels}"), or nothing when there is none.
std::optional<double> value_of(const std::string& text, const std::string& series) {
  const std::string line_start = series + " ";
  std::size_t at = text.rfind('\n' + line_start);
  at = at == std::string::npos ? (text.rfind(line_start, 0) == 0 ? 0 : std::string::npos) : at + 1;
  if (at == std::string::npos) return std::nullopt;
  return std::stod(text.substr(at + line_start.size()));
}

std::string duration_series(const std::string& suffix, const std::string& model, int status,
                            const std::string& le = "") {
  std::string s = "squall_fake_request_duration_seconds" + suffix + "{provider=\"openai\",model=\"" + model +
                  "\",status=\"" + std::to_string(status) + "\"";
  if (!le.empty()) s += ",le=\"" + le + "\"";
  return s + "}";
}

TEST(FakeServerMetrics, EveryAiExchangeIsObservedOnceByModelAndStatus) {
  // With the attempt log on and off: the observation does not depend on it.
  for (const bool record : {false, true}) {
    SCOPED_TRACE(record ? "attempt log on" : "attempt log off");
    server_options o;
    o.record_attempts = record;
    running r({openai_config()}, o);
    client c(r.port());
    for (int i = 0; i < 3; ++i) ASSERT_EQ(c.post("/v1/chat/completions", model_chat()).status, 200);
    ASSERT_EQ(c.post("/v1/chat/completions", model_chat("gpt-9")).status, 404);
    ASSERT_EQ(c.post("/v1/chat/completions", std::string("{")).status, 400);
    const std::string t = c.get("/metrics").body;

    EXPECT_EQ(value_of(t, duration_series("_count", "gpt-4o-mini", 200)), 3) << t;
    EXPECT_EQ(value_of(t, duration_series("_bucket", "gpt-4o-mini", 200, "+Inf")), 3);
    // 20 ms to the first token: none of them can end within 10 ms, and each adds at least 20 ms.
    EXPECT_EQ(value_of(t, duration_series("_bucket", "gpt-4o-mini", 200, "0.01")), 0);
    EXPECT_GE(value_of(t, duration_series("_sum", "gpt-4o-mini", 200)).value_or(0), 0.06);
    // A name the provider does not serve is one label value, whatever the client sent.
    EXPECT_EQ(value_of(t, duration_series("_count", "(unknown)", 404)), 1);
    EXPECT_EQ(t.find("gpt-9"), std::string::npos);
    EXPECT_EQ(t.find("status=\"400\",le="), std::string::npos) << "a bad body never became an exchange to time";
  }
}

TEST(FakeServerMetrics, BucketsAreCumulativeWithCanonicalBoundsFrom5msTo120s) {
  running r({openai_config()});
  client c(r.port());
  ASSERT_EQ(c.post("/v1/chat/completions", model_chat()).status, 200);
  const std::string t = c.get("/metrics").body;
  const std::vector<std::string> bounds = {"0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1.0",
                                           "2.5",   "5.0",  "10.0",  "20.0", "30.0", "60.0", "120.0", "+Inf"};
  double previous = 0;
  std::size_t at = 0;
  for (const std::string& le : bounds) {
    const std::string series = duration_series("_bucket", "gpt-4o-mini", 200, le);
    const std::size_t found = t.find(series + " ", at);
    ASSERT_NE(found, std::string::npos) << "the buckets in order: " << le << "\n" << t;
    at = found;
    const double v = value_of(t, series).value();
    EXPECT_GE(v, previous) << le;
    previous = v;
  }
  EXPECT_EQ(previous, 1);
}

TEST(FakeServerMetrics, AnExchangeThatEndsTwiceIsObservedOnce) {
  // The answer throws: internal_error ends the exchange with a 500, then client_gone ends it again.
  server_options o;
  o.fault_hook_for_tests = [](std::string_view at) {
    if (at == "answer") throw std::runtime_error("injected");
  };
  running r({openai_config()}, o);
  {
    client c(r.port());
    ASSERT_EQ(c.post("/v1/chat/completions", model_chat()).status, 500);
  }
  client m(r.port());
  const std::string t = m.get("/metrics").body;
  EXPECT_EQ(value_of(t, duration_series("_count", "gpt-4o-mini", 500)), 1) << t;
  EXPECT_EQ(t.find("squall_fake_request_duration_seconds_count{provider=\"openai\",model=\"gpt-4o-mini\",status=\"0\""),
            std::string::npos)
      << t;
}

std::string active(const std::string& kind) {
  return "squall_fake_fault_windows_active{provider=\"openai\",kind=\"" + kind + "\"}";
}

TEST(FakeServerMetrics, FaultWindowsInEffectNowByWhatTheyDo) {
  sim::provider_config cfg = openai_config();
  sim::fault_window slow;
  slow.at_s = 0;
  slow.for_s = 600;
  slow.latency_x = 2;
  sim::fault_window later = slow;
  later.at_s = 300;
  later.outage = sim::outage_kind::hang;
  cfg.faults = {slow, later};
  running r({cfg});
  client c(r.port());
  auto gauges = [&] {
    const std::string t = c.get("/metrics").body;
    std::map<std::string, double> out;
    for (const char* kind : {"errors", "latency", "outage", "wire"}) out[kind] = value_of(t, active(kind)).value_or(-1);
    return out;
  };
  EXPECT_EQ(gauges(), (std::map<std::string, double>{{"errors", 0}, {"latency", 1}, {"outage", 0}, {"wire", 0}}))
      << "only the scenario's first window is in effect now";

  const reply armed =
      c.post("/squall/faults", json{{"for_s", 600}, {"errors", {{"503", 0.5}}}, {"wire", {{"malformed", 0.1}}}});
  ASSERT_EQ(armed.status, 201);
  EXPECT_EQ(gauges(), (std::map<std::string, double>{{"errors", 1}, {"latency", 0}, {"outage", 0}, {"wire", 1}}))
      << "the armed window wins over the scenario's while it lasts, and counts under each thing it does";

  ASSERT_EQ(c.request("DELETE", "/squall/faults/" + armed.json()["id"].dump(), "").status, 200);
  EXPECT_EQ(gauges(), (std::map<std::string, double>{{"errors", 0}, {"latency", 1}, {"outage", 0}, {"wire", 0}}));
}

TEST(FakeServerMetrics, BuildInfoNamesTheVersion) {
  running r({openai_config()});
  client c(r.port());
  const std::string t = c.get("/metrics").body;
  std::string series = "squall_fake_build_info{provider=\"openai\",version=\"" + std::string(squall_version) + "\"";
  if (*squall_git_commit != '\0') series += ",commit=\"" + std::string(squall_git_commit) + "\"";
  EXPECT_EQ(value_of(t, series + "}"), 1) << t;
  EXPECT_NE(t.find("# TYPE squall_fake_build_info gauge\n"), std::string::npos);
}

TEST(FakeServerMetrics, OpenMetricsWhenTheScraperAsksForIt) {
  running r({openai_config()});
  client c(r.port());
  ASSERT_EQ(c.post("/v1/chat/completions", model_chat()).status, 200);
  const reply om = c.get("/metrics", {{"Accept", "application/openmetrics-text;version=1.0.0,text/plain;q=0.5"}});
  ASSERT_EQ(om.status, 200);
  EXPECT_EQ(om.header("content-type"), "application/openmetrics-text; version=1.0.0; charset=utf-8");
  const std::string& t = om.body;
  ASSERT_GE(t.size(), 6U);
  EXPECT_EQ(t.substr(t.size() - 6), "# EOF\n");
  EXPECT_NE(t.find("# TYPE squall_fake_requests counter\nsquall_fake_requests_total{provider=\"openai\"} 1\n"),
            std::string::npos)
      << t;
  EXPECT_NE(t.find("# TYPE squall_fake_build info\nsquall_fake_build_info{"), std::string::npos);
  EXPECT_NE(t.find("# TYPE squall_fake_request_duration_seconds histogram\n"), std::string::npos);

  const reply prom = c.get("/metrics", {{"Accept", "text/plain"}});
  EXPECT_EQ(prom.header("content-type"), "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_NE(prom.body.find("# TYPE squall_fake_requests_total counter\n"), std::string::npos);
  EXPECT_EQ(prom.body.find("# EOF"), std::string::npos);
}

// The sample names a family owns under OpenMetrics: two families that own one name clash.
std::vector<std::string> owned_names(const std::string& family, const std::string& type) {
  if (type == "counter") return {family + "_total", family + "_created", family};
  if (type == "histogram") return {family + "_bucket", family + "_count", family + "_sum", family + "_created", family};
  if (type == "info") return {family + "_info", family};
  return {family};
}

TEST(FakeServerMetrics, NoTwoFamiliesShareANameUnderOpenMetrics) {
  // squall_fake_connections (a gauge) and squall_fake_connections_total (a counter, family
  // squall_fake_connections) used to: the open connections are squall_fake_open_connections now.
  running r({openai_config(), anthropic_config()});
  client c(r.port());
  ASSERT_EQ(c.post("/v1/chat/completions", model_chat()).status, 200);
  ASSERT_EQ(c.post("/squall/faults", json{{"for_s", 600}, {"errors", {{"503", 1.0}}}}).status, 201);
  ASSERT_EQ(c.post("/v1/chat/completions", model_chat()).status, 503);
  const std::string t = c.get("/metrics", {{"Accept", "application/openmetrics-text"}}).body;
  std::set<std::string> owned;
  std::set<std::string> families;
  std::istringstream lines(t);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind("# TYPE ", 0) != 0) continue;
    std::istringstream words(line.substr(7));
    std::string family, type;
    words >> family >> type;
    families.insert(family);
    for (const std::string& name : owned_names(family, type)) {
      EXPECT_TRUE(owned.insert(name).second) << "two families own " << name;
    }
  }
  EXPECT_TRUE(families.count("squall_fake_open_connections"));
  EXPECT_TRUE(families.count("squall_fake_connections"));
  EXPECT_GE(families.size(), 20U) << t;
}

}  // namespace
}  // namespace squall::fake
