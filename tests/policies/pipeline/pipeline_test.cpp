// Policy files: parsing, validation messages, order warnings, and a built pipeline running a call.

#include "policies/pipeline/pipeline.hpp"

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "policies/circuit_breaker/circuit_breaker.hpp"
#include "policies/pipeline/registry.hpp"
#include "policies/retry/retry.hpp"
#include "policies/timeout/timeout.hpp"
#include "sim/engine/event_loop.hpp"
#include "tests/support/fake_transport.hpp"

namespace squall {
namespace {

using testing::fake_transport;
using testing::recording_sink;
using testing::timed_receiver;

config_result<pipeline_spec> parse(const char* text) { return parse_pipeline(json::parse(text), "$"); }

constexpr const char* all_three = R"({
  "name": "retry-breaker",
  "description": "overall timeout, retries, a breaker per attempt",
  "policies": [
    { "type": "timeout", "name": "overall", "timeout_ms": 20000 },
    { "type": "retry", "attempts_max": 4, "backoff": "constant", "delay_ms_base": 100, "jitter": "none" },
    { "type": "circuit_breaker", "calls_min": 20, "window_size": 20 },
    { "type": "timeout", "name": "attempt", "timeout_ms": 5000 }
  ]
})";

TEST(pipeline, the_registry_knows_the_three_policies) {
  EXPECT_NE(find_policy("retry"), nullptr);
  EXPECT_NE(find_policy("timeout"), nullptr);
  EXPECT_NE(find_policy("circuit_breaker"), nullptr);
  EXPECT_EQ(find_policy("hedge_everything"), nullptr);
  for (const auto& r : policy_registry()) EXPECT_FALSE(r.summary.empty()) << r.type;
}

TEST(pipeline, parses_a_file_with_all_three_types) {
  auto spec = parse(all_three);
  ASSERT_TRUE(spec) << spec.error().describe();
  EXPECT_EQ(spec->name, "retry-breaker");
  ASSERT_EQ(spec->policies.size(), 4U);
  EXPECT_EQ(spec->policies[0]->type(), "timeout");
  EXPECT_EQ(spec->policies[0]->name, "overall");
  EXPECT_EQ(spec->policies[1]->name, "retry") << "unnamed policies are named by type";
  EXPECT_EQ(spec->policies[2]->type(), "circuit_breaker");
  EXPECT_EQ(spec->policies[3]->name, "attempt");
  EXPECT_TRUE(spec->warnings.empty());

  const auto* overall = dynamic_cast<const timeout_spec*>(spec->policies[0].get());
  ASSERT_NE(overall, nullptr);
  EXPECT_EQ(overall->options.timeout_ms, 20000.0);
  const auto* retry = dynamic_cast<const retry_spec*>(spec->policies[1].get());
  ASSERT_NE(retry, nullptr);
  EXPECT_EQ(retry->options.attempts_max, 4U);
  EXPECT_EQ(retry->options.backoff, backoff_kind::constant);
  const auto* breaker = dynamic_cast<const circuit_breaker_spec*>(spec->policies[2].get());
  ASSERT_NE(breaker, nullptr);
  EXPECT_EQ(breaker->options.calls_min, 20U);
}

TEST(pipeline, unknown_type_names_the_index_path_and_the_known_types) {
  auto spec = parse(R"({"policies": [{"type": "retry"}, {"type": "retyr"}]})");
  ASSERT_FALSE(spec);
  EXPECT_EQ(spec.error().path, "$.policies[1].type");
  EXPECT_NE(spec.error().message.find("unknown policy type \"retyr\""), std::string::npos) << spec.error().message;
  EXPECT_NE(spec.error().message.find("\"circuit_breaker\""), std::string::npos) << spec.error().message;
}

TEST(pipeline, missing_type_is_reported_at_the_entry) {
  auto spec = parse(R"({"policies": [{"type": "timeout"}, {"timeout_ms": 5}]})");
  ASSERT_FALSE(spec);
  EXPECT_EQ(spec.error().path, "$.policies[1]");
  EXPECT_NE(spec.error().message.find("missing key \"type\""), std::string::npos) << spec.error().message;
}

TEST(pipeline, a_policy_option_error_names_its_path) {
  auto spec = parse(R"({"policies": [{"type": "retry", "attempts_max": 500}]})");
  ASSERT_FALSE(spec);
  EXPECT_EQ(spec.error().path, "$.policies[0].attempts_max");
  spec = parse(R"({"policies": [{"type": "retry", "attempt_max": 5}]})");
  ASSERT_FALSE(spec);
  EXPECT_EQ(spec.error().path, "$.policies[0]");
  EXPECT_NE(spec.error().message.find("did you mean \"attempts_max\""), std::string::npos) << spec.error().message;
  spec = parse(R"({"policies": [{"type": "circuit_breaker", "failure_on": ["overloaded", "teapot"]}]})");
  ASSERT_FALSE(spec);
  EXPECT_EQ(spec.error().path, "$.policies[0].failure_on[1]");
}

TEST(pipeline, warns_about_a_retry_inside_a_retry) {
  auto spec = parse(R"({"policies": [{"type": "retry"}, {"type": "timeout"}, {"type": "retry", "name": "inner"}]})");
  ASSERT_TRUE(spec) << spec.error().describe();
  ASSERT_EQ(spec->warnings.size(), 1U);
  EXPECT_NE(spec->warnings[0].find("policy 2 (\"inner\")"), std::string::npos) << spec->warnings[0];
  EXPECT_NE(spec->warnings[0].find("multiplies attempts"), std::string::npos) << spec->warnings[0];
}

TEST(pipeline, warns_about_a_breaker_outside_a_retry) {
  auto spec = parse(R"({"policies": [{"type": "circuit_breaker"}, {"type": "retry"}]})");
  ASSERT_TRUE(spec) << spec.error().describe();
  ASSERT_EQ(spec->warnings.size(), 1U);
  EXPECT_NE(spec->warnings[0].find("outside retry policy 1"), std::string::npos) << spec->warnings[0];
}

// One order per warning the loader explains, and the phrase its message must carry.
TEST(pipeline, explains_each_questionable_order_of_the_catalogue) {
  const struct {
    const char* policies;
    const char* phrase;
  } cases[] = {
      {R"([{"type": "retry"}, {"type": "cache"}])", "the cache sits behind retry policy 0"},
      {R"([{"type": "rate_limiter", "rpm": 60}, {"type": "retry"}])", "retries bypass it"},
      {R"([{"type": "bulkhead"}, {"type": "retry"}])", "retries bypass it"},
      {R"([{"type": "adaptive_throttle"}, {"type": "retry"}])", "retries bypass it"},
      {R"([{"type": "retry"}, {"type": "degrade"}])", "make degrade the outermost policy"},
      {R"([{"type": "hedging"}, {"type": "fallback", "endpoints": [{"model": "a"}]}])", "place it outside the hedging"},
      {R"([{"type": "hedging"}, {"type": "loadbalance", "targets": [{"model": "a"}]}])", "place it outside the hedging"},
      {R"([{"type": "hedging"}, {"type": "retry"}])", "every hedge runs a whole retry loop"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.policies);
    auto spec = parse((std::string(R"({"policies": )") + c.policies + "}").c_str());
    ASSERT_TRUE(spec) << spec.error().describe();
    ASSERT_EQ(spec->warnings.size(), 1U);
    EXPECT_NE(spec->warnings[0].find(c.phrase), std::string::npos) << spec->warnings[0];
  }
  // The recommended order of the whole catalogue draws no warning.
  auto good = parse(R"({"policies": [{"type": "degrade"}, {"type": "cache"}, {"type": "coalesce"},
      {"type": "token_budget", "usd_max": 10}, {"type": "fallback", "endpoints": [{"model": "a"}, {"model": "b"}]},
      {"type": "timeout"}, {"type": "retry"}, {"type": "hedging"}, {"type": "rate_limiter", "rpm": 600},
      {"type": "bulkhead"}, {"type": "circuit_breaker"}, {"type": "timeout"}]})");
  ASSERT_TRUE(good) << good.error().describe();
  EXPECT_TRUE(good->warnings.empty()) << good->warnings.front();
}

TEST(pipeline, load_pipeline_file_names_the_file) {
  const auto dir = std::filesystem::path(::testing::TempDir());
  const auto good = dir / "squall-pipeline-test-good.json";
  const auto bad = dir / "squall-pipeline-test-bad.json";
  std::ofstream(good) << all_three;
  std::ofstream(bad) << "{\n  \"policies\": [\n    {\"type\": \"retry\",}\n  ]\n}\n";
  auto spec = load_pipeline_file(good);
  ASSERT_TRUE(spec) << spec.error().describe();
  EXPECT_EQ(spec->file, good.string());
  auto broken = load_pipeline_file(bad);
  ASSERT_FALSE(broken);
  EXPECT_EQ(broken.error().file, bad.string());
  EXPECT_NE(broken.error().message.find("line 3"), std::string::npos) << broken.error().message;
  auto missing = load_pipeline_file(dir / "squall-pipeline-test-none.json");
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().message.find("cannot open"), std::string::npos);
  std::filesystem::remove(good);
  std::filesystem::remove(bad);
}

TEST(pipeline, an_end_to_end_pipeline_runs_a_call_in_virtual_time) {
  auto spec = parse(R"({"policies": [
      {"type": "timeout", "timeout_ms": 10000},
      {"type": "retry", "attempts_max": 3, "backoff": "constant", "delay_ms_base": 100, "jitter": "none"},
      {"type": "circuit_breaker", "window_size": 10, "calls_min": 10}]})");
  ASSERT_TRUE(spec) << spec.error().describe();
  sim::event_loop loop;
  recording_sink sink;
  fake_transport transport(loop, from_ms(50), [](const call_context&, std::uint32_t attempt) {
    return attempt == 1 ? outcome::failure(outcome_class::overloaded) : outcome{};
  });
  pipeline p(*spec, loop, sink, 42, transport);
  call_context ctx;
  ctx.req.id = 1;
  timed_receiver receiver(loop);
  p.start(call_scope{&ctx, time_never}, receiver);
  EXPECT_EQ(receiver.calls, 0);
  while (loop.step()) {
  }
  ASSERT_EQ(receiver.calls, 1);
  EXPECT_TRUE(receiver.last.ok());
  EXPECT_EQ(ctx.attempts, 2U);
  // 50 ms attempt, 100 ms backoff, 50 ms attempt.
  EXPECT_EQ(receiver.at, time_point{from_ms(200)});
  EXPECT_EQ(sink.count(policy_event_kind::retry_scheduled), 1U);
  EXPECT_EQ(loop.pending(), 0U) << "the overall timeout's timer was cancelled";
}

TEST(pipeline, an_end_to_end_pipeline_times_out_a_hanging_provider) {
  auto spec = parse(R"({"policies": [
      {"type": "timeout", "name": "overall", "timeout_ms": 1000},
      {"type": "retry", "attempts_max": 5, "backoff": "constant", "delay_ms_base": 100, "jitter": "none"},
      {"type": "circuit_breaker", "window_size": 2, "calls_min": 2, "open_ms": 5000},
      {"type": "timeout", "name": "attempt", "timeout_ms": 200}]})");
  ASSERT_TRUE(spec) << spec.error().describe();
  sim::event_loop loop;
  recording_sink sink;
  fake_transport transport(loop, from_s(60), [](const call_context&, std::uint32_t) { return outcome{}; });
  pipeline p(*spec, loop, sink, 42, transport);
  call_context ctx;
  timed_receiver receiver(loop);
  p.start(call_scope{&ctx, time_never}, receiver);
  while (loop.next_due() <= time_point{from_s(10)}) loop.step();
  ASSERT_EQ(receiver.calls, 1);
  // Two attempts time out (0-200, 300-500) and open the breaker; the third (at 600) is rejected at
  // once with circuit_open, which the retry does not retry by default.
  EXPECT_EQ(receiver.last.kind, outcome_class::circuit_open);
  EXPECT_EQ(receiver.at, time_point{from_ms(600)});
  EXPECT_EQ(transport.started(), 2);
  EXPECT_EQ(transport.cancelled(), 2);
  EXPECT_EQ(sink.count(policy_event_kind::breaker_opened), 1U);
  EXPECT_EQ(sink.count(policy_event_kind::breaker_rejected), 1U);
}

}  // namespace
}  // namespace squall
