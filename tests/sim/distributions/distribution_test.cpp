#include "sim/distributions/distribution.hpp"

#include <gtest/gtest.h>

#include <cmath>

namespace squall::sim {
namespace {

struct moments {
  double mean = 0;
  double max = 0;
  double min = 1e300;
};

moments sample(const distribution& d, int n, std::uint64_t seed = 7) {
  rng r(seed);
  moments m;
  double sum = 0;
  for (int i = 0; i < n; ++i) {
    const double v = d.sample(r);
    sum += v;
    m.max = std::max(m.max, v);
    m.min = std::min(m.min, v);
  }
  m.mean = sum / n;
  return m;
}

distribution distribution_of(const char* text) {
  auto d = parse_distribution(json::parse(text), "$.x", 0, 1e6);
  EXPECT_TRUE(d.ok()) << (d.ok() ? "" : d.error().describe());
  return d.ok() ? *d : distribution{};
}

config_error parse_fails(const char* text, double min = 0, double max = 1e6) {
  auto d = parse_distribution(json::parse(text), "$.lat", min, max);
  EXPECT_FALSE(d.ok()) << text;
  return d.ok() ? config_error{} : d.error();
}

constexpr int samples = 200'000;

TEST(Distribution, ConstantAlwaysGivesItsValue) {
  const auto m = sample(distribution::constant(42), 1000);
  EXPECT_EQ(m.min, 42);
  EXPECT_EQ(m.max, 42);
  EXPECT_TRUE(distribution::constant(0).is_zero());
  EXPECT_FALSE(distribution::constant(1).is_zero());
}

TEST(Distribution, UniformMeanAndBounds) {
  const auto d = distribution::uniform(100, 900);
  const auto m = sample(d, samples);
  // Standard error of the mean: (800/sqrt(12))/sqrt(samples) ~ 0.52; allow five of them.
  EXPECT_NEAR(m.mean, 500, 2.6);
  EXPECT_GE(m.min, 100);
  EXPECT_LT(m.max, 900);
  EXPECT_DOUBLE_EQ(d.mean(), 500);
}

TEST(Distribution, ExponentialMean) {
  const auto d = distribution::exponential(400);
  const auto m = sample(d, samples);
  EXPECT_NEAR(m.mean, 400, 5 * 400 / std::sqrt(samples));
  EXPECT_GT(m.min, 0);
  EXPECT_DOUBLE_EQ(d.mean(), 400);
}

TEST(Distribution, LognormalMeanAndMedian) {
  const auto d = distribution::lognormal(400, 0.5);
  const double expected = 400 * std::exp(0.125);
  EXPECT_NEAR(d.mean(), expected, 1e-9);
  const auto m = sample(d, samples);
  const double sd = expected * std::sqrt(std::exp(0.25) - 1);
  EXPECT_NEAR(m.mean, expected, 5 * sd / std::sqrt(samples));
  // The median: about half the draws lie below 400.
  rng r(11);
  int below = 0;
  for (int i = 0; i < samples; ++i) below += d.sample(r) < 400 ? 1 : 0;
  EXPECT_NEAR(static_cast<double>(below) / samples, 0.5, 5 * 0.5 / std::sqrt(samples));
}

TEST(Distribution, ParsesEachKind) {
  rng r(1);
  EXPECT_EQ(distribution_of("250").sample(r), 250);
  EXPECT_EQ(distribution_of(R"({"dist":"constant","value":3})").mean(), 3);
  EXPECT_EQ(distribution_of(R"({"dist":"uniform","min":1,"max":3})").mean(), 2);
  EXPECT_EQ(distribution_of(R"({"dist":"exponential","mean":9})").mean(), 9);
  EXPECT_EQ(distribution_of(R"({"dist":"lognormal","median":400,"sigma":0.5})").shape(), distribution::kind::lognormal);
}

TEST(Distribution, CapBoundsEveryDraw) {
  const auto d = distribution_of(R"({"dist":"lognormal","median":400,"sigma":2,"cap":1000})");
  const auto m = sample(d, samples);
  EXPECT_LE(m.max, 1000);
  EXPECT_EQ(m.max, 1000) << "with sigma 2, many draws exceed the cap and land on it";
  const auto e = distribution_of(R"({"dist":"exponential","mean":100,"cap":150})");
  EXPECT_LE(sample(e, samples).max, 150);
}

TEST(Distribution, TheRangeMaximumCapsUnboundedKinds) {
  auto d = parse_distribution(json::parse(R"({"dist":"exponential","mean":50})"), "$.x", 0, 60);
  ASSERT_TRUE(d.ok());
  EXPECT_LE(sample(*d, samples).max, 60);
}

TEST(Distribution, ParseErrorsNameThePath) {
  auto e = parse_fails(R"({"dist":"gamma","mean":3})");
  EXPECT_EQ(e.path, "$.lat.dist");
  EXPECT_NE(e.message.find("\"lognormal\""), std::string::npos) << e.message;

  e = parse_fails(R"({"median":400,"sigma":0.5})");
  EXPECT_EQ(e.path, "$.lat");
  EXPECT_NE(e.message.find("dist"), std::string::npos) << e.message;

  e = parse_fails(R"({"dist":"lognormal","median":400})");
  EXPECT_EQ(e.path, "$.lat");
  EXPECT_NE(e.message.find("sigma"), std::string::npos) << e.message;

  e = parse_fails(R"({"dist":"uniform","min":5})");
  EXPECT_EQ(e.path, "$.lat");

  e = parse_fails(R"({"dist":"uniform","min":5,"max":2})");
  EXPECT_EQ(e.path, "$.lat.max");

  e = parse_fails(R"({"dist":"exponential"})");
  EXPECT_EQ(e.path, "$.lat");
  EXPECT_NE(e.message.find("mean"), std::string::npos) << e.message;

  e = parse_fails(R"({"dist":"constant","value":-1})");
  EXPECT_EQ(e.path, "$.lat.value");

  e = parse_fails(R"({"dist":"lognormal","median":400,"sigma":9})");
  EXPECT_EQ(e.path, "$.lat.sigma");

  e = parse_fails(R"({"dist":"exponential","mean":10,"cap":2e6})");
  EXPECT_EQ(e.path, "$.lat.cap");

  e = parse_fails(R"({"dist":"exponential","mean":10,"shape":2})");
  EXPECT_EQ(e.path, "$.lat");
  EXPECT_NE(e.message.find("unknown key \"shape\""), std::string::npos) << e.message;

  e = parse_fails("-5");
  EXPECT_EQ(e.path, "$.lat");

  e = parse_fails("\"fast\"");
  EXPECT_EQ(e.path, "$.lat");
  EXPECT_NE(e.message.find("\"fast\""), std::string::npos) << e.message;

  e = parse_fails("700", 0, 600);
  EXPECT_EQ(e.path, "$.lat");
}

TEST(Distribution, ReadDistributionLeavesDefaultsWhenAbsentAndReportsIntoTheReader) {
  const json doc = json::parse(R"({"a": 5, "b": {"dist":"uniform","min":1}})");
  json_reader r(doc, "$.p");
  distribution a = distribution::constant(1);
  distribution c = distribution::constant(9);
  read_distribution(r, "a", a, 0, 100);
  read_distribution(r, "c", c, 0, 100);
  EXPECT_EQ(a.mean(), 5);
  EXPECT_EQ(c.mean(), 9);
  distribution b;
  read_distribution(r, "b", b, 0, 100);
  auto e = r.finish();
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->path, "$.p.b");
}

}  // namespace
}  // namespace squall::sim
