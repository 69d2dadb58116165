// scenarios/policies/presets/portkey-loadbalance.json through the pipeline: the loadbalance draws one
// target per call, the target's retries run inside it, and the breaker counts one failure per call (after
// its retries), as Portkey records the target's final response. Sequences worked out by hand from Portkey's
// gateway 2.2.3 (handlerUtils.ts tryTargetsRecursively, utils/circuitBreaker.ts).

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "policies/pipeline/pipeline.hpp"
#include "sim/engine/event_loop.hpp"
#include "tests/support/fake_transport.hpp"

namespace squall {
namespace {

struct preset_run {
  preset_run()
      : transport(loop, from_ms(10), [this](const call_context& call, std::uint32_t) {
          attempts.push_back(call.req.provider);
          if (call.req.provider != "anthropic") return outcome{};
          outcome o = outcome::failure(outcome_class::overloaded);
          o.http_status = 503;
          return o;
        }) {}

  // Starts `n` calls at the current time and runs until all have answered; the providers their attempts
  // went to, in order.
  std::vector<std::string> burst(int n) {
    attempts.clear();
    std::vector<std::unique_ptr<call_context>> calls;
    std::vector<std::unique_ptr<testing::recording_receiver>> receivers;
    for (int i = 0; i < n; ++i) {
      calls.push_back(std::make_unique<call_context>());
      calls.back()->req.provider = "openai";
      calls.back()->req.model = "gpt-4o";
      receivers.push_back(std::make_unique<testing::recording_receiver>());
      chain->start(call_scope{calls.back().get(), time_never}, *receivers.back());
    }
    while (loop.step()) {
    }
    for (const auto& r : receivers) EXPECT_EQ(r->calls, 1);
    return attempts;
  }

  sim::event_loop loop;
  testing::recording_sink sink;
  std::vector<std::string> attempts;
  testing::fake_transport transport;
  std::unique_ptr<pipeline> chain;
};

std::size_t count_of(const std::vector<std::string>& v, const std::string& name) {
  std::size_t n = 0;
  for (const auto& s : v) n += s == name ? 1U : 0U;
  return n;
}

TEST(PortkeyLoadbalancePreset, RetriesInsideTheTargetAndOpensItsBreakerAtFiveFailedCalls) {
  auto spec = load_pipeline_file(std::filesystem::path(SQUALL_SOURCE_DIR) /
                                 "scenarios/policies/presets/portkey-loadbalance.json");
  ASSERT_TRUE(spec.ok()) << spec.error().describe();
  preset_run run;
  run.chain = std::make_unique<pipeline>(*spec, run.loop, run.sink, 1, run.transport);

  // 40 calls at t = 0: each anthropic call makes 4 attempts (3 retries at 1, 2 and 4 s), openai's one.
  const std::vector<std::string> first = run.burst(40);
  const std::size_t anthropic_attempts = count_of(first, "anthropic");
  ASSERT_EQ(anthropic_attempts % 4, 0U) << "every anthropic call retried 3 times, never moved to openai";
  const std::size_t anthropic_calls = anthropic_attempts / 4;
  EXPECT_EQ(count_of(first, "openai") + anthropic_calls, 40U);
  ASSERT_GE(anthropic_calls, 5U) << "seed 1 draws enough anthropic calls to open its breaker";
  ASSERT_EQ(run.sink.count(policy_event_kind::endpoint_cooldown), 1U);
  // Their last attempts all answered at 1 + 2 + 4 s + 4 * 10 ms: the first failure's time.
  const time_point first_failure = time_point{} + from_ms(7040);
  EXPECT_EQ(run.loop.now(), first_failure);

  // Up to 30 s after it, every call goes to openai.
  run.loop.run_until(first_failure + from_ms(30000));
  EXPECT_EQ(count_of(run.burst(100), "anthropic"), 0U);
  // Past it the breaker has closed by itself and anthropic is drawn again.
  ASSERT_GT(run.loop.now(), first_failure + from_ms(30000)) << "that burst took 10 ms";
  EXPECT_GT(count_of(run.burst(100), "anthropic"), 0U);
  EXPECT_EQ(run.sink.count(policy_event_kind::endpoint_recovered), 1U);
}

}  // namespace
}  // namespace squall
