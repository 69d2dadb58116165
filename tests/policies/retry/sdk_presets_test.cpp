// The SDK presets (scenarios/policies/presets/sdk-*.json) against sequences computed by hand from each
// SDK's documented retry rules: which failures are retried, how long each waits with and without a server
// delay, and the per-attempt timeout. The node presets are also checked against the real npm clients in
// the fake-provider suite; the Python SDKs cannot run here, so these sequences are their proof.

#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "policies/pipeline/pipeline.hpp"
#include "policies/pipeline/registry.hpp"
#include "sim/engine/event_loop.hpp"
#include "tests/support/fake_transport.hpp"

namespace squall {
namespace {

const std::filesystem::path presets_dir = std::filesystem::path(SQUALL_SOURCE_DIR) / "scenarios/policies/presets";

pipeline_spec load_preset(const std::string& name) {
  auto spec = load_pipeline_file(presets_dir / (name + ".json"));
  if (!spec.ok()) ADD_FAILURE() << spec.error().describe();
  return spec.ok() ? *spec : pipeline_spec{};
}

// One call through a preset in front of a scripted transport; the attempts' start times (ms from the
// call's start) and the outcome delivered.
struct preset_call {
  std::vector<double> starts_ms;
  std::optional<outcome> delivered;
};

struct preset_rig {
  preset_rig(const std::string& preset, duration latency, std::uint64_t seed = 11)
      : spec(load_preset(preset)),
        transport(loop, latency,
                  [this](const call_context&, std::uint32_t) {
                    starts_ms.push_back(to_ms(loop.now() - transport.latency() - begun));
                    if (answers.empty()) return outcome{};
                    outcome next = answers.front();
                    answers.pop_front();
                    return next;
                  }),
        policies(spec, loop, sink, seed, transport) {}

  preset_call call(std::deque<outcome> script) {
    answers = std::move(script);
    starts_ms.clear();
    begun = loop.now();
    call_context ctx;
    testing::recording_receiver receiver;
    policies.start(call_scope{&ctx, time_never}, receiver);
    while (loop.step()) {
    }
    preset_call out{starts_ms, std::nullopt};
    if (receiver.calls == 1) out.delivered = receiver.last;
    return out;
  }

  static double to_ms(duration d) { return static_cast<double>(d.count()) / 1e6; }

  pipeline_spec spec;
  sim::event_loop loop;
  testing::recording_sink sink;
  testing::fake_transport transport;
  pipeline policies;
  std::deque<outcome> answers;
  std::vector<double> starts_ms;
  time_point begun{};
};

outcome failed(outcome_class c, int status) {
  outcome o = outcome::failure(c);
  o.http_status = status;
  return o;
}

outcome hinted_503(duration hint) {
  outcome o = failed(outcome_class::overloaded, 503);
  o.retry_after = hint;
  return o;
}

const std::vector<std::string> all_presets = {"sdk-openai-node-7.60", "sdk-anthropic-node-1.17",
                                              "sdk-openai-python-2.52", "sdk-openai-python-2.51",
                                              "sdk-anthropic-python"};

constexpr double latency_ms = 10.0;

TEST(SdkPresets, AllLoadWithTheirSourceNamed) {
  for (const auto& name : all_presets) {
    SCOPED_TRACE(name);
    const pipeline_spec spec = load_preset(name);
    EXPECT_EQ(spec.name, name);
    EXPECT_TRUE(spec.warnings.empty());
    ASSERT_EQ(spec.policies.size(), 2U);
    EXPECT_EQ(spec.policies[0]->type(), "retry");
    EXPECT_EQ(spec.policies[1]->type(), "timeout") << "the SDKs' timeout is per attempt";
    EXPECT_NE(spec.description.find(name.find("python") != std::string::npos ? "python" : "npm"), std::string::npos);
  }
}

// Without a server delay: three attempts, waits min(0.5 * 2^r, 8) s * (1 - 0.25 U), r = retries made.
TEST(SdkPresets, BackOffFromHalfASecondShavedByUpToAQuarter) {
  for (const auto& name : all_presets) {
    SCOPED_TRACE(name);
    preset_rig rig(name, from_ms(10));
    double first_sum = 0.0;
    constexpr int calls = 2000;
    for (int i = 0; i < calls; ++i) {
      const preset_call c = rig.call({failed(outcome_class::overloaded, 529), failed(outcome_class::overloaded, 529),
                                      failed(outcome_class::overloaded, 529)});
      ASSERT_EQ(c.starts_ms.size(), 3U) << "2 retries by default";
      ASSERT_TRUE(c.delivered);
      EXPECT_EQ(c.delivered->http_status, 529);
      const double wait1 = c.starts_ms[1] - c.starts_ms[0] - latency_ms;
      const double wait2 = c.starts_ms[2] - c.starts_ms[1] - latency_ms;
      ASSERT_GT(wait1, 375.0 - 1e-6);
      ASSERT_LE(wait1, 500.0 + 1e-6);
      ASSERT_GT(wait2, 750.0 - 1e-6);
      ASSERT_LE(wait2, 1000.0 + 1e-6);
      first_sum += wait1;
    }
    // U uniform: the mean wait is 0.875 * 500 = 437.5 ms, standard error 125 / sqrt(12 * 2000) = 0.8 ms.
    EXPECT_NEAR(first_sum / calls, 437.5, 4.0);
  }
}

// What each SDK does with a server delay (retry-after-ms or retry-after) on a 503, then a success:
// the wait before the second attempt in ms, -1 for "its own backoff" (375 to 500 ms), or no second
// attempt at all (give_up).
struct hint_case {
  double hint_s;
  double wait_ms;  // >= 0: exactly this; -1: own backoff; -2: no retry
};

void expect_hints(const std::string& preset, const std::vector<hint_case>& cases) {
  for (const auto& h : cases) {
    SCOPED_TRACE(preset + " with a hint of " + std::to_string(h.hint_s) + " s");
    preset_rig rig(preset, from_ms(10));
    const preset_call c = rig.call({hinted_503(from_ms(h.hint_s * 1000.0))});
    if (h.wait_ms == -2) {
      EXPECT_EQ(c.starts_ms.size(), 1U);
      ASSERT_TRUE(c.delivered);
      EXPECT_EQ(c.delivered->http_status, 503);
      continue;
    }
    ASSERT_EQ(c.starts_ms.size(), 2U);
    const double wait = c.starts_ms[1] - latency_ms;
    if (h.wait_ms == -1) {
      EXPECT_GT(wait, 375.0 - 1e-6);
      EXPECT_LE(wait, 500.0 + 1e-6);
    } else {
      EXPECT_NEAR(wait, h.wait_ms, 1e-3);
    }
  }
}

TEST(SdkPresets, OpenaiNodeObeysZeroToSixtySeconds) {
  expect_hints("sdk-openai-node-7.60",
               {{0, 0}, {0.25, 250}, {30, 30000}, {60, 60000}, {60.5, -1}, {130, -1}, {3600, -1}});
}

TEST(SdkPresets, AnthropicNodeObeysAnyPositiveDelay) {
  expect_hints("sdk-anthropic-node-1.17", {{0, -1}, {0.25, 250}, {60, 60000}, {130, 130000}, {3600, 3600000}});
}

TEST(SdkPresets, OpenaiPython252ObeysUpTo120SecondsAndGivesUpAbove) {
  expect_hints("sdk-openai-python-2.52", {{0, -1}, {0.25, 250}, {60, 60000}, {120, 120000}, {121, -2}, {3600, -2}});
}

TEST(SdkPresets, OlderPythonSdksObeyUpToSixtySeconds) {
  for (const char* preset : {"sdk-openai-python-2.51", "sdk-anthropic-python"}) {
    expect_hints(preset, {{0, -1}, {0.25, 250}, {60, 60000}, {61, -1}, {3600, -1}});
  }
}

TEST(SdkPresets, RetryByStatusAsTheSdksDo) {
  struct status_case {
    outcome first;
    std::size_t attempts;
  };
  outcome quota = failed(outcome_class::quota, 429);
  outcome told_to = failed(outcome_class::invalid_request, 400);
  told_to.should_retry = true;
  outcome told_not_to = failed(outcome_class::overloaded, 529);
  told_not_to.should_retry = false;
  const std::vector<status_case> cases = {
      {failed(outcome_class::timeout, 408), 2},         {failed(outcome_class::invalid_request, 409), 2},
      {quota, 2},                                       {failed(outcome_class::server_error, 500), 2},
      {failed(outcome_class::invalid_request, 400), 1}, {failed(outcome_class::auth, 401), 1},
      {failed(outcome_class::invalid_request, 404), 1}, {failed(outcome_class::connection_error, 0), 2},
      {failed(outcome_class::connection_error, 200), 1}, {told_to, 2},
      {told_not_to, 1},
  };
  for (const auto& name : all_presets) {
    for (const auto& s : cases) {
      SCOPED_TRACE(name + ": status " + std::to_string(s.first.http_status) + " " +
                   std::string(to_string(s.first.kind)));
      preset_rig rig(name, from_ms(10));
      EXPECT_EQ(rig.call({s.first}).starts_ms.size(), s.attempts);
    }
  }
}

TEST(SdkPresets, EachAttemptTimesOutAfterTenMinutesAndIsRetried) {
  for (const auto& name : all_presets) {
    SCOPED_TRACE(name);
    preset_rig rig(name, from_s(3600));  // a hang
    const preset_call c = rig.call({});
    ASSERT_EQ(c.starts_ms.size(), 0U) << "no attempt answered";
    ASSERT_TRUE(c.delivered);
    EXPECT_EQ(c.delivered->kind, outcome_class::timeout);
    EXPECT_EQ(rig.transport.started(), 3);
    EXPECT_EQ(rig.transport.cancelled(), 3);
    // 600 s, a backoff of 375-500 ms, 600 s, 750-1000 ms, 600 s.
    const double total_s = preset_rig::to_ms(rig.loop.now() - rig.begun) / 1000.0;
    EXPECT_GT(total_s, 1801.125 - 1e-6);
    EXPECT_LE(total_s, 1801.5 + 1e-6);
  }
}

}  // namespace
}  // namespace squall
