// The cells of a sweep from its --param texts: lists, ranges, draws, paths into a configuration's policy,
// and the refusals that name what is wrong.
#include "sweeps/sweep_plan.hpp"

#include <gtest/gtest.h>

#include <set>

#include "policies/core/json_parse.hpp"
#include "sim/scenario/scenario.hpp"

namespace squall::sweeps {
namespace {

sweep_parameter param(const std::string& text) {
  auto p = parse_parameter(text);
  EXPECT_TRUE(p.ok()) << (p.ok() ? "" : p.error().describe());
  return p.ok() ? *p : sweep_parameter{};
}

std::string param_error(const std::string& text) {
  auto p = parse_parameter(text);
  EXPECT_FALSE(p.ok()) << text;
  return p.ok() ? "" : p.error().describe();
}

sim::scenario plan_scenario() {
  auto s = sim::load_scenario(std::string(SQUALL_SOURCE_DIR) + "/scenarios/openai-503-storm.json");
  EXPECT_TRUE(s.ok()) << (s.ok() ? "" : s.error().describe());
  return std::move(*s);
}

TEST(SweepParameter, IntegerRangeIsEveryWholeNumber) {
  const auto p = param("retry.attempts_max=1..5");
  EXPECT_EQ(p.path, "retry.attempts_max");
  EXPECT_TRUE(p.in_policy);
  ASSERT_EQ(p.values.size(), 5U);
  EXPECT_EQ(p.values.front(), json(1));
  EXPECT_EQ(p.values.back(), json(5));
  EXPECT_TRUE(p.values[2].is_number_integer());
}

TEST(SweepParameter, DecimalRangeWithAStepReadsAsWritten) {
  const auto p = param("circuit_breaker.failure_rate_threshold=0.1..0.5:0.1");
  ASSERT_EQ(p.values.size(), 5U);
  // 0.1 + 2 * 0.1 is 0.30000000000000004 in binary: the sweep's value is the 0.3 a person wrote.
  EXPECT_EQ(dump_json(p.values[2]), "0.3");
  EXPECT_EQ(dump_json(p.values[4]), "0.5");
}

TEST(SweepParameter, ListsJsonArraysAndSingleValues) {
  const auto list = param("workload.model=gpt-4o, gpt-4o-mini");
  ASSERT_EQ(list.values.size(), 2U);
  EXPECT_EQ(list.values[1], json("gpt-4o-mini"));
  EXPECT_FALSE(list.in_policy);  // "workload" is a scenario key
  const auto numbers = param("timeout.timeout_ms=[1000, 5000]");
  ASSERT_EQ(numbers.values.size(), 2U);
  EXPECT_EQ(numbers.values[1], json(5000));
  const auto mixed = param("retry.attempts_max=2,3");
  EXPECT_EQ(mixed.values[0], json(2));
  // A quoted string is one value, commas and all.
  const auto quoted = param("workload.model=\"a,b\"");
  ASSERT_EQ(quoted.values.size(), 1U);
  EXPECT_EQ(quoted.values[0], json("a,b"));
  const auto object = param("providers.openai.faults[0].errors={\"503\": 0.5}");
  ASSERT_EQ(object.values.size(), 1U);
  EXPECT_TRUE(object.values[0].is_object());
  EXPECT_EQ(object.path, "providers.openai.faults[0].errors");
  const auto rooted = param("$.duration_s=60,120");
  EXPECT_EQ(rooted.path, "duration_s");
  EXPECT_FALSE(rooted.in_policy);
}

TEST(SweepParameter, DrawsKeepTheirEnds) {
  const auto uniform = param("timeout.timeout_ms=~500..8000");
  ASSERT_TRUE(uniform.draw.has_value());
  EXPECT_TRUE(uniform.values.empty());
  EXPECT_TRUE(uniform.draw->integer);
  EXPECT_FALSE(uniform.draw->log);
  const auto logd = param("retry.delay_ms_base=~log:10.0..1000");
  ASSERT_TRUE(logd.draw.has_value());
  EXPECT_TRUE(logd.draw->log);
  EXPECT_FALSE(logd.draw->integer);
}

TEST(SweepParameter, RefusalsSayWhatToWrite) {
  EXPECT_NE(param_error("retry.attempts_max=5..1").find("A <= B"), std::string::npos);
  EXPECT_NE(param_error("x.y=0.1..0.5").find("needs a step"), std::string::npos);
  EXPECT_NE(param_error("x.y=1..5:0").find("above 0"), std::string::npos);
  EXPECT_NE(param_error("x.y=1,,2").find("empty item"), std::string::npos);
  EXPECT_NE(param_error("x.y=[]").find("empty list"), std::string::npos);
  EXPECT_NE(param_error("x.y=~5..1").find("LOW < HIGH"), std::string::npos);
  EXPECT_NE(param_error("x.y=~log:0..10").find("LOW > 0"), std::string::npos);
  EXPECT_NE(param_error("x.y=1..100000").find("larger step"), std::string::npos);
  const std::string no_eq = param_error("retry.attempts_max");
  EXPECT_EQ(no_eq.rfind("--param retry.attempts_max", 0), 0U) << no_eq;
}

TEST(SweepPlan, BaselineThenTheGridLastParameterFastest) {
  const sim::scenario s = plan_scenario();
  sweep_request r;
  r.parameters = {param("retry.attempts_max=1..3"), param("circuit_breaker.failure_rate_threshold=0.3,0.6")};
  r.configurations = {"retry-breaker"};
  r.seed = 7;
  r.seeds = 2;
  auto plan = plan_sweep(s, r);
  ASSERT_TRUE(plan.ok()) << plan.error().describe();
  ASSERT_EQ(plan->cells.size(), 7U);
  EXPECT_EQ(plan->units(), 14U);
  EXPECT_TRUE(plan->cells[0].baseline);
  EXPECT_TRUE(plan->cells[0].sets.empty());
  EXPECT_EQ(plan->cells[1].sets, (std::vector<std::string>{"policies.retry-breaker.retry.attempts_max=1",
                                                            "policies.retry-breaker.circuit_breaker.failure_rate_threshold=0.3"}));
  EXPECT_EQ(plan->cells[2].sets[1], "policies.retry-breaker.circuit_breaker.failure_rate_threshold=0.6");
  EXPECT_EQ(plan->cells[6].sets[0], "policies.retry-breaker.retry.attempts_max=3");
  EXPECT_EQ(plan->cell_of(13), 6U);
  EXPECT_EQ(plan->seed_of(13), 8U);
  EXPECT_EQ(plan->seed_of(12), 7U);
}

TEST(SweepPlan, EveryConfigurationByDefaultEachWithItsBaseline) {
  const sim::scenario s = plan_scenario();
  sweep_request r;
  r.parameters = {param("workload.arrivals.rate_per_s=20,40")};
  auto plan = plan_sweep(s, r);
  ASSERT_TRUE(plan.ok()) << plan.error().describe();
  ASSERT_EQ(plan->configurations.size(), s.configurations.size());
  EXPECT_EQ(plan->cells.size(), 3 * s.configurations.size());
  EXPECT_TRUE(plan->cells[3].baseline);
  EXPECT_EQ(plan->cells[3].configuration, s.configurations[1].name);
  EXPECT_EQ(plan->cells[1].sets[0], "workload.arrivals.rate_per_s=20");  // a scenario path stays as written
}

TEST(SweepPlan, DrawsAreTheSameForTheSameSeedAndStayInRange) {
  const sim::scenario s = plan_scenario();
  sweep_request r;
  r.parameters = {param("retry.attempts_max=2,3"), param("timeout.timeout_ms=~500..8000"), param("retry.delay_ms_base=~log:10..1000.0")};
  r.configurations = {"retry-breaker"};
  r.draws = 25;
  auto a = plan_sweep(s, r);
  auto b = plan_sweep(s, r);
  ASSERT_TRUE(a.ok()) << a.error().describe();
  ASSERT_EQ(a->cells.size(), 1U + 2 * 25);
  EXPECT_EQ(a->draws, 25U);
  std::set<std::int64_t> timeouts;
  std::size_t low_decade = 0;
  for (std::size_t i = 1; i < a->cells.size(); ++i) {
    EXPECT_EQ(a->cells[i].sets, b->cells[i].sets);
    const json& t = a->cells[i].values[1];
    ASSERT_TRUE(t.is_number_integer());
    EXPECT_GE(t.get<std::int64_t>(), 500);
    EXPECT_LE(t.get<std::int64_t>(), 8000);
    timeouts.insert(t.get<std::int64_t>());
    const double d = a->cells[i].values[2].get<double>();
    EXPECT_GE(d, 10.0);
    EXPECT_LE(d, 1000.0);
    low_decade += d < 100 ? 1 : 0;
  }
  EXPECT_GT(timeouts.size(), 40U);  // 50 draws over 7,501 values: distinct nearly always
  // Log-uniform: half the draws in each of the two decades, give or take (binomial, n = 50: 25 +- 10 is 3.5 sd).
  EXPECT_GT(low_decade, 15U);
  EXPECT_LT(low_decade, 35U);
  r.seed = 2;
  auto c = plan_sweep(s, r);
  EXPECT_NE(c->cells[1].sets, a->cells[1].sets);
}

TEST(SweepPlan, RefusesWhatCannotRun) {
  const sim::scenario s = plan_scenario();
  sweep_request r;
  EXPECT_NE(plan_sweep(s, r).error().describe().find("at least one --param"), std::string::npos);
  r.parameters = {param("retry.attempts_max=1..3")};
  r.configurations = {"nope"};
  const std::string unknown = plan_sweep(s, r).error().describe();
  EXPECT_NE(unknown.find("--config nope: no such configuration"), std::string::npos) << unknown;
  EXPECT_NE(unknown.find("retry-breaker"), std::string::npos);
  r.configurations = {"retry-breaker", "retry-breaker"};
  EXPECT_NE(plan_sweep(s, r).error().describe().find("twice"), std::string::npos);
  r.configurations = {"retry-breaker"};
  r.parameters = {param("retry.attempts_max=1..100"), param("timeout.timeout_ms=1..200")};
  r.cells_max = 10'000;
  const std::string big = plan_sweep(s, r).error().describe();
  EXPECT_NE(big.find("20001 cells"), std::string::npos) << big;
  EXPECT_NE(big.find("--allow-large-run"), std::string::npos);
}

TEST(SweepShard, ParsesIndexOfCount) {
  auto s = parse_shard("2/4");
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->index, 2U);
  EXPECT_EQ(s->count, 4U);
  EXPECT_TRUE(s->owns(6));
  EXPECT_FALSE(s->owns(7));
  EXPECT_NE(parse_shard("4/4").error().describe().find("0 to N-1"), std::string::npos);
  EXPECT_FALSE(parse_shard("1").ok());
  EXPECT_FALSE(parse_shard("a/4").ok());
  EXPECT_FALSE(parse_shard("0/0").ok());
  EXPECT_FALSE(parse_shard("-1/4").ok());
}

}  // namespace
}  // namespace squall::sweeps
