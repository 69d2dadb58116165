#include <gtest/gtest.h>

#include <array>
#include <cmath>
#include <map>

#include "sim/workload/arrivals.hpp"
#include "sim/workload/request_factory.hpp"
#include "sim/workload/workload_config.hpp"

namespace squall::sim {
namespace {

workload_config parse_ok(const char* text) {
  auto w = parse_workload(json::parse(text), "$.workload");
  EXPECT_TRUE(w.ok()) << (w.ok() ? "" : w.error().describe());
  return w.ok() ? *w : workload_config{};
}

std::string parse_error(const char* text) {
  auto w = parse_workload(json::parse(text), "$.workload");
  EXPECT_FALSE(w.ok());
  return w.ok() ? "" : w.error().describe();
}

TEST(WorkloadConfig, StepAndRampProfiles) {
  auto step = parse_ok(R"({"arrivals": {"profile": [{"at_s": 0, "rate_per_s": 10}, {"at_s": 10, "rate_per_s": 30}]}})");
  EXPECT_DOUBLE_EQ(step.rate_at(5), 10);
  EXPECT_DOUBLE_EQ(step.rate_at(10), 30);
  EXPECT_DOUBLE_EQ(step.rate_max(), 30);
  auto ramp = parse_ok(R"({"arrivals": {"shape": "ramp", "profile": [{"at_s": 0, "rate_per_s": 10}, {"at_s": 10, "rate_per_s": 30}]}})");
  EXPECT_DOUBLE_EQ(ramp.rate_at(5), 20);
  EXPECT_DOUBLE_EQ(ramp.rate_at(100), 30);
}

TEST(WorkloadConfig, MistakesNameTheirPath) {
  EXPECT_NE(parse_error(R"({"arrivals": {"rate_per_s": 10}, "users": {"count": 3}})").find("not both"), std::string::npos);
  EXPECT_NE(parse_error(R"({"arrivals": {"rate_per_s": -1}})").find("$.workload.arrivals.rate_per_s"), std::string::npos);
  EXPECT_NE(parse_error(R"({"arrivals": {"rate_per_s": 1, "proces": "poisson"}})").find("did you mean \"process\""),
            std::string::npos);
  EXPECT_NE(parse_error(R"({"arrivals": {"profile": [{"at_s": 5, "rate_per_s": 1}, {"at_s": 2, "rate_per_s": 1}]}})")
                .find("$.workload.arrivals.profile[1].at_s"),
            std::string::npos);
  EXPECT_NE(parse_error(R"({"arrivals": {"rate_per_s": 1}, "models": {"a": 0}})").find("$.workload.models.a"),
            std::string::npos);
  EXPECT_NE(parse_error(R"({"users": {"count": 0}})").find("$.workload.users.count"), std::string::npos);
}

TEST(WorkloadConfig, RecordedArrivalsAreSentAtTheirTimesUpToTheDuration) {
  auto w = parse_ok(R"({"arrivals": {"process": "recorded", "times_s": [0, 0.25, 0.25, 1.5, 9.99, 10, 12]}})");
  ASSERT_EQ(w.arrival_process, workload_config::process::recorded);
  open_arrivals arrivals(w, 10.0, 7);
  std::vector<double> sent;
  while (auto t = arrivals.next_s()) sent.push_back(*t);
  // Times at or after the end of the arrivals are not sent, as for every other process.
  EXPECT_EQ(sent, (std::vector<double>{0, 0.25, 0.25, 1.5, 9.99}));
  EXPECT_FALSE(arrivals.next_s());
}

TEST(WorkloadConfig, RecordedArrivalMistakesNameTheirPath) {
  EXPECT_NE(parse_error(R"({"arrivals": {"process": "recorded"}})").find("missing \"times_s\""), std::string::npos);
  EXPECT_NE(parse_error(R"({"arrivals": {"process": "recorded", "times_s": []}})").find("$.workload.arrivals.times_s"),
            std::string::npos);
  EXPECT_NE(parse_error(R"({"arrivals": {"process": "recorded", "times_s": [1, 0.5]}})")
                .find("$.workload.arrivals.times_s[1]: times must be in non-decreasing order"),
            std::string::npos);
  EXPECT_NE(parse_error(R"({"arrivals": {"process": "recorded", "times_s": [1, "x"]}})").find("times_s[1]"),
            std::string::npos);
  EXPECT_NE(parse_error(R"({"arrivals": {"process": "recorded", "times_s": [-1]}})").find("times_s[0]"),
            std::string::npos);
  EXPECT_NE(parse_error(R"({"arrivals": {"process": "recorded", "rate_per_s": 3, "times_s": [1]}})").find("do not apply"),
            std::string::npos);
  EXPECT_NE(parse_error(R"({"arrivals": {"rate_per_s": 3, "times_s": [1]}})").find("\"process\": \"recorded\""),
            std::string::npos);
}

TEST(RequestFactory, RequestDependsOnItsIdAloneAcrossFactories) {
  auto w = parse_ok(R"({"arrivals": {"rate_per_s": 1}, "models": {"a": 1, "b": 3},
                       "input_tokens": {"dist": "uniform", "min": 10, "max": 1000},
                       "cache_keys": {"count": 100, "zipf_s": 1.0}})");
  request_factory one(w, 99);
  request_factory two(w, 99);
  request r1, r2, r3;
  one.fill(r1, 12345, time_point{});
  two.fill(r2, 1, time_point{});  // a different history before the same id
  two.fill(r2, 12345, time_point{});
  EXPECT_EQ(r1.model, r2.model);
  EXPECT_EQ(r1.input_tokens, r2.input_tokens);
  EXPECT_EQ(r1.cache_key, r2.cache_key);
  request_factory other_seed(w, 100);
  int differing = 0;
  for (std::uint64_t id = 1; id <= 50; ++id) {
    one.fill(r1, id, time_point{});
    other_seed.fill(r3, id, time_point{});
    differing += r1.input_tokens != r3.input_tokens ? 1 : 0;
  }
  EXPECT_GT(differing, 40);
}

TEST(RequestFactory, ModelWeightsAndZipfPopularity) {
  auto w = parse_ok(R"({"arrivals": {"rate_per_s": 1}, "models": {"a": 1, "b": 3},
                       "cache_keys": {"count": 1000, "zipf_s": 1.0}})");
  request_factory f(w, 5);
  std::map<std::string, int> models;
  std::map<std::uint64_t, int> keys;
  const int n = 200000;
  request r;
  for (int id = 1; id <= n; ++id) {
    f.fill(r, static_cast<std::uint64_t>(id), time_point{});
    ++models[r.model];
    ++keys[r.cache_key];
  }
  EXPECT_NEAR(models["b"] / static_cast<double>(n), 0.75, 0.01);
  // Zipf(1) over 1000 keys: P(k) = (1/k) / H_1000, H_1000 ~= 7.4855.
  EXPECT_NEAR(keys[1] / static_cast<double>(n), 1 / 7.4855, 0.005);
  EXPECT_NEAR(keys[2] / static_cast<double>(n), 0.5 / 7.4855, 0.004);
  EXPECT_EQ(keys.count(0), 0U);
  EXPECT_LE(keys.rbegin()->first, 1000U);
}

TEST(WorkloadConfig, RequestClassWeights) {
  auto w = parse_ok(R"({"arrivals": {"rate_per_s": 1}, "classes": {"simple": 0.5, "critical": 0.5}})");
  EXPECT_EQ(w.class_weights, (std::array<double, 4>{0.5, 0, 0, 0.5}));
  EXPECT_EQ(parse_ok(R"({"arrivals": {"rate_per_s": 1}})").class_weights, (std::array<double, 4>{}));
  EXPECT_NE(parse_error(R"({"arrivals": {"rate_per_s": 1}, "classes": {"simple": -1}})").find("$.workload.classes.simple"),
            std::string::npos);
  EXPECT_NE(parse_error(R"({"arrivals": {"rate_per_s": 1}, "classes": {"easy": 1}})").find("$.workload.classes: unknown key"),
            std::string::npos);
  EXPECT_NE(parse_error(R"({"arrivals": {"rate_per_s": 1}, "classes": {"simple": 0}})").find("at least one positive"),
            std::string::npos);
  EXPECT_NE(parse_error(R"({"arrivals": {"rate_per_s": 1}, "classes": [0.5, 0.5]})").find("$.workload.classes"),
            std::string::npos);
}

TEST(RequestFactory, ClassesAreDrawnLastAndChangeNothingElse) {
  auto plain = parse_ok(R"({"arrivals": {"rate_per_s": 1}, "models": {"a": 1, "b": 3},
                           "input_tokens": {"dist": "uniform", "min": 1, "max": 1000},
                           "cache_keys": {"count": 1000, "zipf_s": 1.0}})");
  auto classy = plain;
  classy.class_weights = {0.5, 0.3, 0.15, 0.05};
  request_factory without(plain, 9);
  request_factory with(classy, 9);
  std::array<int, 4> counts{};
  const int n = 100000;
  request a;
  request b;
  for (int id = 1; id <= n; ++id) {
    without.fill(a, static_cast<std::uint64_t>(id), time_point{});
    with.fill(b, static_cast<std::uint64_t>(id), time_point{});
    ASSERT_EQ(a.model, b.model);
    ASSERT_EQ(a.input_tokens, b.input_tokens);
    ASSERT_EQ(a.cache_key, b.cache_key);
    ASSERT_EQ(a.complexity, 0U) << "no classes: every request is simple";
    ASSERT_LT(b.complexity, 4U);
    ++counts[b.complexity];
  }
  EXPECT_NEAR(counts[0] / static_cast<double>(n), 0.5, 0.01);
  EXPECT_NEAR(counts[1] / static_cast<double>(n), 0.3, 0.01);
  EXPECT_NEAR(counts[2] / static_cast<double>(n), 0.15, 0.01);
  EXPECT_NEAR(counts[3] / static_cast<double>(n), 0.05, 0.005);
}

}  // namespace
}  // namespace squall::sim
