// A sweep's document from unit records: pooled figures, the Pareto frontier, constraints and the
// recommendation, records that travel through JSON unchanged, and shards checked before they merge.
#include "sweeps/sweep_results.hpp"

#include <gtest/gtest.h>

#include "policies/core/json_parse.hpp"
#include "sim/metrics/histogram.hpp"

namespace squall::sweeps {
namespace {

// A unit whose every request took `latency_us`; `succeeded` of `requests` succeeded.
unit_record made_unit(std::size_t unit, std::uint64_t requests, std::uint64_t succeeded, std::uint64_t latency_us, double cost,
                      std::uint64_t attempts) {
  sim::histogram h;
  h.record_n(latency_us, requests);
  unit_record r;
  r.unit = unit;
  r.requests = requests;
  r.completed = requests;
  r.succeeded = succeeded;
  r.attempts = attempts;
  r.cost_usd = cost;
  set_latency(r, h);
  return r;
}

// A plan document of `cells` cells on `seeds` seeds, as plan_json writes one.
json made_plan(std::size_t cells, std::uint32_t seeds, std::vector<std::string> constraints = {}, const std::string& objective = "success_rate") {
  sweep_plan plan;
  plan.seeds = seeds;
  plan.parameters = {parse_parameter("retry.attempts_max=1..9").value()};
  plan.configurations = {"c"};
  for (std::size_t i = 0; i < cells; ++i) {
    sweep_cell c;
    c.index = i;
    c.configuration = "c";
    c.baseline = i == 0;
    if (i > 0) {
      c.values = {json(i)};
      c.sets = {"policies.c.retry.attempts_max=" + std::to_string(i)};
    }
    plan.cells.push_back(c);
  }
  sweep_definition d;
  d.scenario_name = "test";
  d.run_prefix = "squall run s.json";
  for (const auto& t : constraints) d.constraints.push_back(parse_constraint(t).value());
  d.goal = parse_objective(objective).value();
  return plan_json(plan, d);
}

TEST(SweepResults, UnitsTravelThroughJsonUnchanged) {
  unit_record r = made_unit(3, 1000, 987, 123456, 0.1 + 0.2, 1234);
  r.incomplete = true;
  r.unfinished = 4;
  const std::string text = dump_json(unit_json(r));
  auto back = read_unit(parse_json(text).value(), "f.json", "$.units[0]");
  ASSERT_TRUE(back.ok()) << back.error().describe();
  EXPECT_EQ(dump_json(unit_json(*back)), text);
  EXPECT_EQ(back->cost_usd, 0.1 + 0.2);  // the shortest round-trip text reads back to the same double
  EXPECT_TRUE(back->incomplete);
  EXPECT_EQ(back->latency_buckets, r.latency_buckets);
}

TEST(SweepResults, ReadingRefusesWhatIsNotAUnit) {
  json good = unit_json(made_unit(0, 10, 10, 500, 1.0, 10));
  json bad = good;
  bad["latency_us"]["min"] = 5'000'000;  // min outside the first bucket
  EXPECT_NE(read_unit(bad, "f", "$.units[1]").error().describe().find("$.units[1].latency_us"), std::string::npos);
  bad = good;
  bad["requests"] = -1;
  EXPECT_EQ(read_unit(bad, "f", "$.units[1]").error().path, "$.units[1].requests");
  bad = good;
  bad["latency_us"]["buckets"] = json::array({json::array({999999, 1})});
  EXPECT_FALSE(read_unit(bad, "f", "$").ok());
  bad = good;
  bad["cost_usd"] = "free";
  EXPECT_FALSE(read_unit(bad, "f", "$").ok());
}

TEST(SweepResults, SeedsPoolCountsAndHistograms) {
  const json plan = made_plan(1, 2);
  std::vector<std::optional<unit_record>> units = {made_unit(0, 100, 90, 1000, 2.0, 120), made_unit(1, 300, 297, 100000, 4.0, 310)};
  const json doc = sweep_document(plan, units, "");
  const json& m = doc["cells"][0]["metrics"];
  EXPECT_EQ(m["requests"], 400);
  EXPECT_DOUBLE_EQ(m["success_rate"].get<double>(), 387.0 / 400.0);
  EXPECT_DOUBLE_EQ(m["success_rate_min"].get<double>(), 0.9);
  EXPECT_DOUBLE_EQ(m["success_rate_max"].get<double>(), 0.99);
  EXPECT_DOUBLE_EQ(m["cost_usd"].get<double>(), 3.0);  // the mean per seed
  EXPECT_DOUBLE_EQ(m["attempts_per_request"].get<double>(), 430.0 / 400.0);
  // p50 of the pooled histogram lies among the 300 slow requests, not the mean of two medians.
  EXPECT_NEAR(m["latency_p50_ms"].get<double>(), 100.0, 100.0 / 64);
  EXPECT_NEAR(m["latency_p99_ms"].get<double>(), 100.0, 100.0 / 64);
  EXPECT_FALSE(doc["incomplete"].get<bool>());
  EXPECT_TRUE(doc["cells"][0]["complete"].get<bool>());
}

TEST(SweepResults, FrontierConstraintsAndRecommendation) {
  // cell: success, latency, cost, attempts
  //  0 baseline  0.90  1 s   $1.00  1.0
  //  1           0.95  2 s   $1.05  1.1   frontier
  //  2           0.99  3 s   $1.50  1.3   frontier (best success) but too dear and too many attempts
  //  3           0.94  2 s   $1.10  1.2   dominated by 1
  //  4           0.95  2 s   $1.05  1.15  ties 1 on all three objectives: both on the frontier
  const json plan = made_plan(5, 1, {"attempts_per_request<=1.2", "cost_usd<=1.1x"});
  std::vector<std::optional<unit_record>> units = {
      made_unit(0, 1000, 900, 1'000'000, 1.00, 1000), made_unit(1, 1000, 950, 2'000'000, 1.05, 1100),
      made_unit(2, 1000, 990, 3'000'000, 1.50, 1300), made_unit(3, 1000, 940, 2'000'000, 1.10, 1200),
      made_unit(4, 1000, 950, 2'000'000, 1.05, 1150)};
  const json doc = sweep_document(plan, units, "");
  EXPECT_EQ(doc["frontier"], json::array({0, 1, 2, 4}));
  EXPECT_FALSE(doc["cells"][3]["frontier"].get<bool>());
  EXPECT_FALSE(doc["cells"][2]["meets_constraints"].get<bool>());
  ASSERT_EQ(doc["cells"][2]["violations"].size(), 2U);
  EXPECT_NE(doc["cells"][2]["violations"][1].get<std::string>().find("cost_usd<=1.1x: 1.5 > 1.1"), std::string::npos)
      << doc["cells"][2]["violations"];
  // 1 and 4 tie on the objective and the tie-breaks: the lower index wins.
  EXPECT_EQ(doc["recommendation"]["cell"], 1);
  EXPECT_EQ(doc["recommendation"]["cells_meeting"], 4);
  EXPECT_NE(doc["recommendation"]["why"].get<std::string>().find("highest success_rate of the 4 of 5 cells"), std::string::npos);
  EXPECT_EQ(doc["cells"][1]["run"], "squall run s.json --set policies.c.retry.attempts_max=1 --seed 1");

  // Minimising cost instead: the baseline, which meets everything, is cheapest.
  const json cheap = sweep_document(made_plan(5, 1, {"attempts_per_request<=1.2"}, "cost_usd"), units, "");
  EXPECT_EQ(cheap["recommendation"]["cell"], 0);
  EXPECT_EQ(cheap["objective"]["direction"], "min");

  // Nothing meets success_rate>=0.999: no recommendation, and it says so.
  const json none = sweep_document(made_plan(5, 1, {"success_rate>=0.999"}), units, "");
  EXPECT_TRUE(none["recommendation"]["cell"].is_null());
  EXPECT_EQ(none["recommendation"]["why"], "no cell meets success_rate>=0.999");
}

TEST(SweepResults, CellsThatDidNotRunWholeStayOutOfTheChoice) {
  const json plan = made_plan(3, 1);
  std::vector<std::optional<unit_record>> units = {made_unit(0, 100, 90, 1000, 1, 100), std::nullopt,
                                                   made_unit(2, 100, 100, 500, 0.5, 100)};
  units[2]->incomplete = true;
  const json doc = sweep_document(plan, units, "interrupted by SIGINT");
  EXPECT_TRUE(doc["incomplete"].get<bool>());
  EXPECT_EQ(doc["incomplete_reason"], "interrupted by SIGINT");
  EXPECT_TRUE(doc["cells"][1]["metrics"].is_null());
  EXPECT_EQ(doc["cells"][1]["violations"], json::array({"not run"}));
  EXPECT_EQ(doc["cells"][2]["violations"], json::array({"incomplete"}));
  EXPECT_EQ(doc["frontier"], json::array({0}));  // cell 2 would dominate, but ran only in part
  EXPECT_EQ(doc["recommendation"]["cell"], 0);
}

TEST(SweepResults, ConstraintAndObjectiveTexts) {
  auto c = parse_constraint("cost_usd<=1.1x");
  ASSERT_TRUE(c.ok());
  EXPECT_TRUE(c->relative);
  EXPECT_TRUE(c->at_most);
  EXPECT_DOUBLE_EQ(c->bound, 1.1);
  auto g = parse_constraint("success_rate>=0.995");
  ASSERT_TRUE(g.ok());
  EXPECT_FALSE(g->at_most);
  EXPECT_NE(parse_constraint("latency_p99<=5").error().describe().find("latency_p99_ms"), std::string::npos);
  EXPECT_FALSE(parse_constraint("cost_usd=1").ok());
  EXPECT_FALSE(parse_constraint("cost_usd<=abc").ok());
  EXPECT_FALSE(parse_constraint("cost_usd<=0x").ok());
  EXPECT_TRUE(parse_objective("latency_p99_ms").ok());
  EXPECT_FALSE(parse_objective("latency_p99_ms").value().maximize);
  EXPECT_FALSE(parse_objective("requests").ok());
}

TEST(SweepShards, MergeNeedsEveryShardOfOneSweepOnce) {
  const json plan = made_plan(3, 2);
  std::vector<std::optional<unit_record>> units;
  for (std::size_t u = 0; u < 6; ++u) units.push_back(made_unit(u, 100 + u, 90, 1000 * (u + 1), 0.5, 100));
  std::vector<std::pair<std::string, json>> files;
  for (std::uint32_t i = 0; i < 4; ++i) {
    // Through text, as the files go.
    files.emplace_back("shard-" + std::to_string(i) + ".json", parse_json(dump_json(shard_document(plan, {i, 4}, units, ""))).value());
  }
  auto merged = merge_shards(files);
  ASSERT_TRUE(merged.ok()) << merged.error().describe();
  EXPECT_EQ(dump_json(sweep_document(merged->plan, merged->units, merged->incomplete_reason)), dump_json(sweep_document(plan, units, "")));

  auto missing = files;
  missing.erase(missing.begin() + 2);
  EXPECT_NE(merge_shards(missing).error().describe().find("shards missing: 2 of 0 to 3"), std::string::npos);
  auto twice = files;
  twice.push_back(files[1]);
  EXPECT_NE(merge_shards(twice).error().describe().find("shard 1 is given twice"), std::string::npos);
  auto other = files;
  other[3].second["plan"]["seed"] = 99;
  EXPECT_NE(merge_shards(other).error().describe().find("a different sweep"), std::string::npos);
  auto stray = files;
  stray[0].second["units"][0]["unit"] = 1;  // unit 1 belongs to shard 1
  EXPECT_NE(merge_shards(stray).error().describe().find("is not one of shard 0/4's"), std::string::npos) << merge_shards(stray).error().describe();
  auto split = files;
  split[1].second["shards"] = 5;
  EXPECT_NE(merge_shards(split).error().describe().find("different splits"), std::string::npos) << merge_shards(split).error().describe();
  auto notashard = files;
  notashard[0].second = json{{"format", "squall-results/1"}};
  EXPECT_EQ(merge_shards(notashard).error().path, "$.format");
}

}  // namespace
}  // namespace squall::sweeps
