// Fleets of client instances: the scenario's {"policy", "fleet"} form, how requests are spread, and that
// each instance keeps its own policy state (breakers, retry budgets) against shared providers.

#include "sim/run/fleet.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <deque>
#include <map>
#include <string>

#include "sim/engine/event_loop.hpp"
#include "sim/run/run_budget.hpp"
#include "sim/run/simulation.hpp"
#include "sim/run/summary.hpp"
#include "tests/support/fake_transport.hpp"

namespace squall::sim {
namespace {

// A scenario with one provider and two configurations of the same policies: "one" as a single client
// and "fleet" as `fleet` (a JSON object).
json fleet_scenario_json(const std::string& policies, const std::string& fleet, const std::string& faults = "[]",
                         double rate_per_s = 50) {
  const std::string text = R"({
    "name": "fleet", "duration_s": 120, "drain_s": 60,
    "providers": { "p": { "models": { "m": { "usd_per_mtok_in": 1, "usd_per_mtok_out": 2 } },
                          "latency": { "ttft_ms": 100, "ms_per_output_token": 1 }, "error_latency_ms": 20,
                          "capacity": { "slots": 1000, "queue": 1000 }, "faults": )" + faults + R"( } },
    "workload": { "arrivals": { "process": "poisson", "rate_per_s": )" + std::to_string(rate_per_s) + R"( },
                  "output_tokens": 50, "cache_keys": { "count": 500, "zipf_s": 1.0 } },
    "policies": { "one": { "policies": )" + policies + R"( },
                  "fleet": { "policy": { "policies": )" + policies + R"( }, "fleet": )" + fleet + R"( } }
  })";
  return json::parse(text);
}

config_result<scenario> fleet_scenario(const std::string& policies, const std::string& fleet,
                                       const std::string& faults = "[]", double rate_per_s = 50) {
  return parse_scenario(fleet_scenario_json(policies, fleet, faults, rate_per_s), ".");
}

scenario must(config_result<scenario> s) {
  EXPECT_TRUE(s.ok()) << (s.ok() ? "" : s.error().describe());
  return s.ok() ? std::move(*s) : scenario{};
}

const std::string breaker_policies =
    R"([ { "type": "circuit_breaker", "window_size": 20, "calls_min": 5, "failure_rate_threshold": 0.5, "open_ms": 5000 } ])";
const std::string outage = R"([{ "at_s": 30, "for_s": 30, "errors": { "503": 1.0 } }])";

TEST(Fleet, TheScenarioReadsTheFleetForm) {
  const scenario s = must(fleet_scenario("[]", R"({ "instances": 8, "spread": "sticky" })"));
  ASSERT_EQ(s.configurations.size(), 2U);
  EXPECT_EQ(s.configurations[0].fleet.instances, 1U);
  EXPECT_EQ(s.configurations[1].fleet.instances, 8U);
  EXPECT_EQ(s.configurations[1].fleet.spread, fleet_spread::sticky);
  EXPECT_EQ(s.configurations[1].pipeline.name, "fleet");
  // The digest covers the fleet's shape.
  const scenario other = must(fleet_scenario("[]", R"({ "instances": 9, "spread": "sticky" })"));
  EXPECT_NE(s.digest, other.digest);
}

TEST(Fleet, MistakesNameTheirPath) {
  const std::map<std::string, std::string> cases = {
      {R"({ "instances": 0 })", "$.policies.fleet.fleet.instances"},
      {R"({ "instances": 1001 })", "$.policies.fleet.fleet.instances"},
      {R"({ "instances": 2, "spread": "nearest" })", "$.policies.fleet.fleet.spread"},
      {R"({ "instances": 2, "pods": 3 })", "$.policies.fleet.fleet"},
      {R"(50)", "$.policies.fleet.fleet"},
  };
  for (const auto& [fleet, path] : cases) {
    const auto s = fleet_scenario("[]", fleet);
    ASSERT_FALSE(s.ok()) << fleet;
    EXPECT_EQ(s.error().path.substr(0, path.size()), path) << fleet << ": " << s.error().describe();
  }
  json no_policy = fleet_scenario_json("[]", R"({ "instances": 2 })");
  no_policy["policies"]["fleet"].erase("policy");
  const auto missing = parse_scenario(no_policy, ".");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().path, "$.policies.fleet") << missing.error().describe();
  EXPECT_NE(missing.error().message.find("missing key \"policy\""), std::string::npos) << missing.error().describe();
}

TEST(Fleet, OneInstanceIsExactlyThePlainPipeline) {
  const std::string retry = R"([ { "type": "retry", "attempts_max": 3, "delay_ms_base": 100 } ])";
  const scenario s = must(fleet_scenario(retry, R"({ "instances": 1, "spread": "random" })", outage));
  const auto one = run_configuration(s, 0, 5);
  const auto fleet = run_configuration(s, 1, 5);
  EXPECT_EQ(summarize(one), summarize(fleet));
  EXPECT_TRUE(fleet.fleet.is_null()) << "a fleet of one writes no fleet section";
}

TEST(Fleet, RoundRobinSpreadsEvenlyAndSameSeedSameRun) {
  const scenario s = must(fleet_scenario("[]", R"({ "instances": 4 })"));
  const auto a = run_configuration(s, 1, 5);
  ASSERT_FALSE(a.fleet.is_null());
  EXPECT_EQ(a.fleet["instances"], 4);
  EXPECT_EQ(a.fleet["spread"], "round_robin");
  const json& per = a.fleet["per_instance"];
  ASSERT_EQ(per.size(), 4U);
  std::uint64_t total = 0;
  for (const auto& i : per) total += i["requests"].get<std::uint64_t>();
  EXPECT_EQ(total, a.metrics->offered());
  for (const auto& i : per) EXPECT_NEAR(i["requests"].get<double>(), static_cast<double>(total) / 4, 1.0);
  const auto b = run_configuration(s, 1, 5);
  EXPECT_EQ(a.fleet, b.fleet);
  EXPECT_EQ(summarize(a), summarize(b));
}

// Dispatch alone, on a fake transport: sticky keeps a key on one instance, random spreads.
struct dispatch_rig {
  explicit dispatch_rig(fleet_spec shape)
      : transport(loop, from_ms(1), [](const call_context&, std::uint32_t) { return outcome{}; }),
        chain(pipeline_spec{}, shape, loop, metrics, 1, 2, transport) {}
  void send(std::uint64_t id, std::uint64_t key) {
    call_context& c = contexts.emplace_back();
    c.req.id = id;
    c.req.cache_key = key;
    chain.start(call_scope{&c, time_never}, receiver);
  }
  event_loop loop;
  run_metrics metrics;
  testing::fake_transport transport;
  fleet chain;
  std::deque<call_context> contexts;
  testing::recording_receiver receiver;
};

TEST(Fleet, StickySendsAKeyAlwaysToTheSameInstance) {
  dispatch_rig rig(fleet_spec{10, fleet_spread::sticky});
  // Key 7 fifty times, then fifty other keys: the first instance to get key 7 gets all fifty.
  for (std::uint64_t i = 1; i <= 50; ++i) rig.send(i, 7);
  auto counts = rig.chain.counts();
  EXPECT_EQ(std::count_if(counts.begin(), counts.end(), [](const auto& c) { return c.requests == 50; }), 1);
  for (std::uint64_t i = 51; i <= 1050; ++i) rig.send(i, i);
  counts = rig.chain.counts();
  for (const auto& c : counts) EXPECT_GT(c.requests, 40U) << "a thousand keys reach every instance";
  while (rig.loop.step()) {
  }
  EXPECT_EQ(rig.receiver.calls, 1050);
}

TEST(Fleet, RandomSpreadsRoughlyEvenly) {
  dispatch_rig rig(fleet_spec{5, fleet_spread::random});
  for (std::uint64_t i = 1; i <= 5000; ++i) rig.send(i, 0);
  for (const auto& c : rig.chain.counts()) EXPECT_NEAR(static_cast<double>(c.requests), 1000.0, 150.0);
  while (rig.loop.step()) {
  }
  EXPECT_EQ(rig.receiver.calls, 5000);
}

TEST(Fleet, EachInstanceHasItsOwnBreaker) {
  const scenario s = must(fleet_scenario(breaker_policies, R"({ "instances": 10 })", outage));
  const auto one = run_configuration(s, 0, 3);
  const auto fleet = run_configuration(s, 1, 3);
  const summary a = summarize(one);
  const summary b = summarize(fleet);
  EXPECT_EQ(summary_value(a, "breakers_open_max"), 1.0);
  EXPECT_EQ(summary_value(b, "breakers_open_max"), 10.0) << "every pod gave up on the provider";
  // Each pod needs its own failures to open: ten breakers let through more calls during the outage.
  EXPECT_GT(summary_value(b, "attempts"), summary_value(a, "attempts"));
  EXPECT_GE(summary_value(b, "breaker_openings"), 10.0);
  ASSERT_EQ(fleet.metrics->breakers().size(), 10U);
  std::uint32_t seen = 0;
  for (const auto& br : fleet.metrics->breakers()) seen |= 1U << br.instance;
  EXPECT_EQ(seen, (1U << 10) - 1);
}

TEST(Fleet, AFleetMultipliesARetryBudget) {
  const std::string budgeted = R"([ { "type": "retry", "attempts_max": 4, "delay_ms_base": 50,
      "budget": { "kind": "token_bucket", "tokens_max": 20, "token_ratio": 0.1 } } ])";
  const scenario s = must(fleet_scenario(budgeted, R"({ "instances": 20 })", outage));
  const summary one = summarize(run_configuration(s, 0, 3));
  const summary fleet = summarize(run_configuration(s, 1, 3));
  // One bucket of 20 stops retrying after about 10 failures; twenty buckets allow twenty times that.
  EXPECT_LT(summary_value(one, "retries"), 100.0);
  EXPECT_GT(summary_value(fleet, "retries"), 10 * summary_value(one, "retries"));
}

TEST(Fleet, CachesAcrossAFleetCountTowardsTheMemoryLimit) {
  const std::string cache = R"([ { "type": "cache", "entries_max": 10000000 } ])";
  const scenario s = must(fleet_scenario(cache, R"({ "instances": 1000 })"));
  const run_estimate e = estimate_run(s, 1);
  EXPECT_GT(e.policy_bytes, 1e12);
  const auto refused = check_run_limits(s, e, run_limits{}, true, "--allow-large-run");
  ASSERT_TRUE(refused);
  EXPECT_NE(refused->message.find("fleet instances"), std::string::npos) << refused->message;
}

}  // namespace
}  // namespace squall::sim
