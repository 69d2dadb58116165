// Batch pricing: a model's optional batch_discount applies to requests a batching policy sent as one
// call (request.batch_size > 1), and only to those.

#include <gtest/gtest.h>

#include "sim/provider/provider_config.hpp"
#include "sim/provider/provider_model.hpp"
#include "sim/provider/sim_provider.hpp"
#include "tests/sim/provider/provider_test_support.hpp"

namespace squall::sim {
namespace {

using testing::client;
using testing::simple_config;

config_result<provider_config> parse_pricing(const std::string& text) {
  return parse_provider(json::parse(text), "$.providers.openai", "openai");
}

TEST(BatchPricing, ParsesTheDiscountAndDefaultsToNone) {
  auto r = parse_pricing(R"({"models": {"m": {"usd_per_mtok_in": 1, "usd_per_mtok_out": 2, "batch_discount": 0.5},
                                "n": {"usd_per_mtok_in": 1, "usd_per_mtok_out": 2}}})");
  ASSERT_TRUE(r.ok()) << r.error().describe();
  EXPECT_EQ(r->models[0].second.batch_discount, 0.5);
  EXPECT_EQ(r->models[1].second.batch_discount, 0.0);
}

TEST(BatchPricing, ADiscountOutsideZeroToOneNamesItsPath) {
  auto r = parse_pricing(R"({"models": {"m": {"usd_per_mtok_in": 1, "usd_per_mtok_out": 2, "batch_discount": 1.5}}})");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().path, "$.providers.openai.models.m.batch_discount");
  EXPECT_NE(r.error().message.find("from 0 to 1"), std::string::npos) << r.error().message;
}

TEST(BatchPricing, TheDiscountAppliesOnlyToBatches) {
  provider_config c = simple_config();
  c.models[0].second.batch_discount = 0.5;
  provider_model m(c);
  const double list = 1000 * 1.0 / 1e6 + 500 * 2.0 / 1e6;
  EXPECT_DOUBLE_EQ(m.cost_usd(0, 1000, 500), list);
  EXPECT_DOUBLE_EQ(m.cost_usd(0, 1000, 500, 1), list);
  EXPECT_DOUBLE_EQ(m.cost_usd(0, 1000, 500, 2), list * 0.5);
  EXPECT_DOUBLE_EQ(m.cost_usd(0, 1000, 500, 16), list * 0.5);
  EXPECT_DOUBLE_EQ(m.cost_usd(1, 1000, 500, 16), 1000 * 10.0 / 1e6 + 500 * 40.0 / 1e6) << "no discount set";
}

TEST(BatchPricing, TheSimulatedProviderBillsABatchedRequestAtTheDiscount) {
  provider_config c = simple_config();
  c.models[0].second.batch_discount = 0.25;
  event_loop loop;
  sim_provider p(loop, c, 1234);
  client single(loop, 1, 50);
  client batch(loop, 2, 50);
  batch.call.req.batch_size = 4;
  single.send(p);
  batch.send(p);
  while (loop.step()) {
  }
  ASSERT_TRUE(single.got && batch.got);
  const double list = 1000 * 1.0 / 1e6 + 50 * 2.0 / 1e6;
  EXPECT_DOUBLE_EQ(single.got->cost_usd, list);
  EXPECT_DOUBLE_EQ(batch.got->cost_usd, list * 0.75);
  EXPECT_DOUBLE_EQ(p.stats().billed_usd, list * 1.75);
}

}  // namespace
}  // namespace squall::sim
