#include "traces/replay/reconstruct.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "sim/run/simulation.hpp"
#include "sim/run/summary.hpp"
#include "sim/scenario/scenario.hpp"
#include "sim/workload/arrivals.hpp"

namespace squall::traces {
namespace {

// A synthetic trace: `rate` first attempts per second for `span_s` seconds, each a streamed success
// whose latency is drawn around 400 ms + 8 ms per token; `shape` may change any attempt by its time.
struct trace_builder {
  trace t;
  std::mt19937_64 gen{42};

  template <class Shape>
  void fill(double span_s, double rate, Shape shape) {
    std::lognormal_distribution<double> ttft(std::log(400.0), 0.3);
    std::uniform_real_distribution<double> u(0, 1);
    const double step_ms = 1000.0 / rate;
    std::uint32_t id = 0;
    for (double t_ms = step_ms / 2; t_ms < span_s * 1000; t_ms += step_ms) {
      trace_attempt a;
      a.t_ms = t_ms;
      a.request_id = "r" + std::to_string(++id);
      a.attempt = 1;
      a.provider = "openai";
      a.api = "openai";
      a.model = "gpt-4o-mini";
      a.stream = true;
      a.input_tokens = 500;
      a.output_tokens = 200;
      a.status = 200;
      a.outcome = "ok";
      a.ttft_ms = ttft(gen);
      a.latency_ms = *a.ttft_ms + 200 * 8.0;
      shape(a, u(gen));
      t.attempts.push_back(a);
    }
  }
};

void make_error(trace_attempt& a, int status, const char* outcome) {
  a.status = status;
  a.outcome = outcome;
  a.ttft_ms.reset();
  a.latency_ms = 30;
  a.output_tokens.reset();
}

reconstruct_options windows_of(double window_s) {
  reconstruct_options o;
  o.window_s = window_s;
  return o;
}

json build(const trace& t, reconstruct_options options = {}) {
  options.source = "synthetic.jsonl";
  auto doc = scenario_from_trace(t, options);
  EXPECT_TRUE(doc.ok()) << (doc.ok() ? "" : doc.error().describe());
  if (!doc.ok()) return json::object();
  // Whatever it produced is an ordinary scenario.
  auto parsed = sim::parse_scenario(*doc, ".");
  EXPECT_TRUE(parsed.ok()) << (parsed.ok() ? "" : parsed.error().describe()) << "\n" << doc->dump(2).substr(0, 4000);
  return *doc;
}

const json& faults_of(const json& doc) {
  static const json none = json::array();
  const json& p = doc["providers"]["openai"];
  return p.contains("faults") ? p["faults"] : none;
}

TEST(Reconstruct, ArrivalsAreTheFirstAttemptsSendTimesExactly) {
  trace t;
  std::vector<double> expected;
  std::mt19937_64 gen(7);
  std::exponential_distribution<double> gap(5.0);
  double now_s = 0.0;
  for (int i = 0; i < 300; ++i) {
    now_s += gap(gen);
    const double t_ms = std::round(now_s * 1e6) / 1e3;  // whole microseconds, as a trace writes them
    trace_attempt a;
    a.t_ms = t_ms;
    a.attempt = i % 7 == 0 ? 0 : 1;  // unknown attempt numbers count as first attempts
    a.status = 200;
    a.latency_ms = 500;
    t.attempts.push_back(a);
    expected.push_back(t_ms / 1000);
    if (i % 3 == 0) {  // a retry of it, which is not an arrival
      trace_attempt r = a;
      r.attempt = 2;
      r.t_ms = t_ms + 700;
      t.attempts.push_back(r);
    }
  }
  std::swap(t.attempts[10], t.attempts[200]);  // traces may be out of time order
  const json doc = build(t);
  ASSERT_TRUE(doc.contains("workload"));
  auto parsed = sim::parse_scenario(doc, ".");
  ASSERT_TRUE(parsed.ok());
  sim::open_arrivals arrivals(parsed->workload, parsed->duration_s, 1);
  std::vector<double> sent;
  while (auto s = arrivals.next_s()) sent.push_back(*s);
  ASSERT_EQ(sent.size(), expected.size());
  for (std::size_t i = 0; i < sent.size(); ++i) EXPECT_NEAR(sent[i], expected[i], 1e-9) << i;
  EXPECT_GT(parsed->duration_s, expected.back());
  EXPECT_LE(parsed->duration_s, expected.back() + 1);
  // No policies given: one configuration that replays the requests as recorded, one attempt each.
  ASSERT_EQ(parsed->configurations.size(), 1u);
  EXPECT_EQ(parsed->configurations[0].name, "as-recorded");
}

TEST(Reconstruct, A503BurstBecomesOneFaultWindowWithItsMix) {
  trace_builder b;
  b.fill(30, 20, [](trace_attempt& a, double u) {
    if (a.t_ms >= 10'000 && a.t_ms < 20'000) {
      if (u < 0.7) make_error(a, 503, "overloaded");
      else if (u < 0.8) make_error(a, 500, "server_error");
    }
  });
  const json doc = build(b.t, windows_of(1.0));
  const json& faults = faults_of(doc);
  ASSERT_EQ(faults.size(), 1u) << faults.dump();
  EXPECT_NEAR(faults[0]["at_s"].get<double>(), 10, 1e-9);
  EXPECT_NEAR(faults[0]["for_s"].get<double>(), 10, 1e-9);
  EXPECT_NEAR(faults[0]["errors"]["503"].get<double>(), 0.7, 0.08);
  EXPECT_NEAR(faults[0]["errors"]["500"].get<double>(), 0.1, 0.06);
  EXPECT_FALSE(faults[0].contains("latency_x"));
  // The calm rest of the trace had no errors: no baseline mix.
  EXPECT_FALSE(doc["providers"]["openai"].contains("errors"));
  // The baseline latency is what the calm windows showed.
  const json& ttft = doc["providers"]["openai"]["latency"]["ttft_ms"];
  EXPECT_NEAR(ttft["median"].get<double>(), 400, 40);
  EXPECT_NEAR(ttft["sigma"].get<double>(), 0.3, 0.06);
  EXPECT_NEAR(doc["providers"]["openai"]["latency"]["ms_per_output_token"].get<double>(), 8, 0.01);
  EXPECT_EQ(doc["workload"]["model"], "gpt-4o-mini");
  EXPECT_EQ(doc["workload"]["input_tokens"], 500);
  EXPECT_EQ(doc["workload"]["output_tokens"], 200);
}

TEST(Reconstruct, ALatencySpikeBecomesLatencyX) {
  trace_builder b;
  b.fill(40, 20, [](trace_attempt& a, double) {
    if (a.t_ms >= 20'000 && a.t_ms < 25'000) {
      *a.ttft_ms *= 5;
      *a.latency_ms *= 5;
    }
  });
  const json doc = build(b.t);  // default window: 40 s / 60 -> 1 s
  const json& faults = faults_of(doc);
  ASSERT_EQ(faults.size(), 1u) << faults.dump();
  EXPECT_NEAR(faults[0]["at_s"].get<double>(), 20, 1e-9);
  EXPECT_NEAR(faults[0]["for_s"].get<double>(), 5, 1e-9);
  EXPECT_NEAR(faults[0]["latency_x"].get<double>(), 5, 0.5);
  EXPECT_FALSE(faults[0].contains("errors"));
}

TEST(Reconstruct, RateLimitHeadersSetTheLimitAndKeep429sOutOfTheMixes) {
  trace_builder b;
  b.fill(30, 20, [](trace_attempt& a, double u) {
    a.headers = {{"x-ratelimit-limit-requests", "600"}, {"x-ratelimit-limit-tokens", "400000"}};
    if (a.t_ms >= 15'000 && u < 0.6) {
      make_error(a, 429, "rate_limited");
      a.headers.emplace_back("retry-after", "2");
    }
  });
  const json doc = build(b.t);
  const json& p = doc["providers"]["openai"];
  EXPECT_EQ(p["rate_limits"]["rpm"], 600);
  EXPECT_EQ(p["rate_limits"]["tpm"], 400000);
  EXPECT_FALSE(p.contains("errors"));
  EXPECT_EQ(faults_of(doc).size(), 0u) << faults_of(doc).dump();
}

TEST(Reconstruct, Without429HeadersTheyStayInTheWindowsWithTheirHint) {
  trace_builder b;
  b.fill(30, 20, [](trace_attempt& a, double u) {
    if (a.t_ms >= 15'000 && u < 0.6) {
      make_error(a, 429, "rate_limited");
      a.headers.emplace_back("retry-after-ms", "1500");
    }
  });
  const json doc = build(b.t, windows_of(1.0));
  const json& faults = faults_of(doc);
  ASSERT_EQ(faults.size(), 1u) << faults.dump();
  EXPECT_NEAR(faults[0]["at_s"].get<double>(), 15, 1e-9);
  EXPECT_NEAR(faults[0]["errors"]["429"].get<double>(), 0.6, 0.08);
  EXPECT_NEAR(faults[0]["retry_after_s"].get<double>(), 1.5, 1e-9);
  EXPECT_FALSE(doc["providers"]["openai"].contains("rate_limits"));
}

TEST(Reconstruct, ConnectionErrorsThatDominateBecomeAnOutageOfTheirKind) {
  trace_builder b;
  b.fill(40, 10, [](trace_attempt& a, double) {
    auto down = [&](double latency_ms, const char* outcome) {
      make_error(a, 0, outcome);
      a.latency_ms = latency_ms;
    };
    if (a.t_ms >= 5'000 && a.t_ms < 10'000) down(0.8, "connection_error");   // refused
    if (a.t_ms >= 20'000 && a.t_ms < 25'000) down(40, "connection_error");   // reset
    if (a.t_ms >= 30'000 && a.t_ms < 35'000) down(10'000, "timeout");        // hang, cut by a timeout
  });
  const json doc = build(b.t, windows_of(1.0));
  const json& faults = faults_of(doc);
  ASSERT_EQ(faults.size(), 3u) << faults.dump();
  EXPECT_EQ(faults[0]["outage"], "refuse");
  EXPECT_EQ(faults[1]["outage"], "reset");
  EXPECT_EQ(faults[2]["outage"], "hang");
  EXPECT_NEAR(faults[2]["at_s"].get<double>(), 30, 1e-9);
  EXPECT_NEAR(faults[2]["for_s"].get<double>(), 5, 1e-9);
}

TEST(Reconstruct, ACalmTraceHasNoFaultWindowsButKeepsItsBaselineErrors) {
  trace_builder b;
  b.fill(60, 20, [](trace_attempt& a, double u) {
    if (u < 0.02) make_error(a, 500, "server_error");
  });
  const json doc = build(b.t);
  EXPECT_EQ(faults_of(doc).size(), 0u) << faults_of(doc).dump();
  EXPECT_NEAR(doc["providers"]["openai"]["errors"]["500"].get<double>(), 0.02, 0.01);
}

TEST(Reconstruct, PoliciesAreTheCallersInOrder) {
  trace_builder b;
  b.fill(5, 10, [](trace_attempt&, double) {});
  reconstruct_options o;
  o.policies.emplace_back("candidate", json{{"policies", json::array({{{"type", "retry"}, {"attempts_max", 3}}})}});
  o.policies.emplace_back("baseline", json{{"policies", json::array()}});
  const json doc = build(b.t, o);
  auto parsed = sim::parse_scenario(doc, ".");
  ASSERT_TRUE(parsed.ok());
  ASSERT_EQ(parsed->configurations.size(), 2u);
  EXPECT_EQ(parsed->configurations[0].name, "candidate");
  o.policies.emplace_back("baseline", json{{"policies", json::array()}});
  auto twice = scenario_from_trace(b.t, o);
  ASSERT_FALSE(twice.ok());
  EXPECT_NE(twice.error().message.find("two policy configurations are named \"baseline\""), std::string::npos);
}

TEST(Reconstruct, EmptyTracesAndTracesOfRetriesAloneAreClearErrors) {
  trace t;
  reconstruct_options o;
  o.source = "t.jsonl";
  auto empty = scenario_from_trace(t, o);
  ASSERT_FALSE(empty.ok());
  EXPECT_EQ(empty.error().describe(), "t.jsonl: the trace is empty: it has no attempts to replay");
  trace_attempt retry;
  retry.attempt = 2;
  retry.t_ms = 5;
  t.attempts.push_back(retry);
  auto retries = scenario_from_trace(t, o);
  ASSERT_FALSE(retries.ok());
  EXPECT_NE(retries.error().describe().find("no first attempts"), std::string::npos);
  t.attempts[0].attempt = 1;
  t.attempts[0].t_ms = 3.6e9;  // a thousand hours: too many 1 ms windows
  o.window_s = 0.001;
  auto windows = scenario_from_trace(t, o);
  ASSERT_FALSE(windows.ok());
  EXPECT_NE(windows.error().message.find("choose a longer window"), std::string::npos);
}

TEST(Reconstruct, DefaultWindowIsASixtiethOfTheSpanWithinOneSecondToOneMinute) {
  EXPECT_DOUBLE_EQ(default_window_s(10), 1);
  EXPECT_DOUBLE_EQ(default_window_s(600), 10);
  EXPECT_DOUBLE_EQ(default_window_s(480), 10);  // 8 s rounds up to a round length
  EXPECT_DOUBLE_EQ(default_window_s(86400), 60);
}

// The reconstruction run in the simulation shows what the trace showed: a trace of a 503 window,
// replayed with no policy, has about the same success rate.
TEST(Reconstruct, ReplayingTheReconstructionReproducesTheSuccessRate) {
  trace_builder b;
  std::size_t ok = 0, total = 0;
  b.fill(60, 20, [&](trace_attempt& a, double u) {
    if (a.t_ms >= 20'000 && a.t_ms < 35'000 && u < 0.5) make_error(a, 503, "overloaded");
    ++total;
    ok += a.status == 200;
  });
  const json doc = build(b.t);
  auto parsed = sim::parse_scenario(doc, ".");
  ASSERT_TRUE(parsed.ok());
  auto result = sim::run_configuration(*parsed, 0, 1);
  const auto summary = sim::summarize(result);
  EXPECT_EQ(sim::summary_value(summary, "requests"), static_cast<double>(total));
  EXPECT_NEAR(sim::summary_value(summary, "success_rate"), static_cast<double>(ok) / static_cast<double>(total), 0.02);
}

}  // namespace
}  // namespace squall::traces
