// The gateway presets (scenarios/policies/presets/portkey-*.json) against sequences computed by hand from
// the gateway's documented retry rules: squall cannot run Portkey here, so these sequences are the proof.

#include <deque>
#include <filesystem>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "policies/pipeline/pipeline.hpp"
#include "sim/engine/event_loop.hpp"
#include "tests/support/fake_transport.hpp"

namespace squall {
namespace {

// One call through the Portkey preset in front of a transport that answers `script` in order (then ok),
// 10 ms per attempt; the attempts' start times in ms.
std::vector<double> portkey_starts(std::deque<outcome> script) {
  auto spec = load_pipeline_file(std::filesystem::path(SQUALL_SOURCE_DIR) / "scenarios/policies/presets/portkey-retry.json");
  EXPECT_TRUE(spec.ok()) << (spec.ok() ? "" : spec.error().describe());
  if (!spec.ok()) return {};
  sim::event_loop loop;
  testing::recording_sink sink;
  std::vector<double> starts;
  testing::fake_transport transport(loop, from_ms(10), [&](const call_context&, std::uint32_t) {
    starts.push_back(static_cast<double>((loop.now() - from_ms(10)).time_since_epoch().count()) / 1e6);
    if (script.empty()) return outcome{};
    outcome next = script.front();
    script.pop_front();
    return next;
  });
  pipeline chain(*spec, loop, sink, 1, transport);
  call_context ctx;
  testing::recording_receiver receiver;
  chain.start(call_scope{&ctx, time_never}, receiver);
  while (loop.step()) {
  }
  EXPECT_EQ(receiver.calls, 1);
  return starts;
}

outcome status(int code, outcome_class c, std::optional<double> retry_after_s = std::nullopt) {
  outcome o = outcome::failure(c);
  o.http_status = code;
  if (retry_after_s) o.retry_after = from_ms(*retry_after_s * 1000.0);
  return o;
}

TEST(PortkeyPreset, BacksOffOneTwoFourSecondsWithoutJitterOnItsStatuses) {
  // Three 503s then a success: waits of 1, 2 and 4 s after each 10 ms attempt.
  EXPECT_EQ(portkey_starts({status(503, outcome_class::overloaded), status(503, outcome_class::overloaded),
                            status(503, outcome_class::overloaded)}),
            (std::vector<double>{0, 1010, 3020, 7030}));
  // Four failures: 3 retries, then the fourth failure is delivered.
  EXPECT_EQ(portkey_starts({status(500, outcome_class::server_error), status(502, outcome_class::server_error),
                            status(504, outcome_class::server_error), status(429, outcome_class::rate_limited)})
                .size(),
            4U);
}

TEST(PortkeyPreset, RetriesOnlyItsStatusCodes) {
  EXPECT_EQ(portkey_starts({status(529, outcome_class::overloaded)}).size(), 1U) << "529 is not in the list";
  EXPECT_EQ(portkey_starts({status(501, outcome_class::server_error)}).size(), 1U);
  EXPECT_EQ(portkey_starts({status(408, outcome_class::timeout)}).size(), 1U);
  EXPECT_EQ(portkey_starts({status(0, outcome_class::connection_error)}).size(), 1U);
  EXPECT_EQ(portkey_starts({status(429, outcome_class::quota)}).size(), 2U) << "by status, whatever the body says";
}

TEST(PortkeyPreset, ObeysRetryAfterOnA429OnlyAndBelowSixtySeconds) {
  EXPECT_EQ(portkey_starts({status(429, outcome_class::rate_limited, 5.0)}), (std::vector<double>{0, 5010}));
  EXPECT_EQ(portkey_starts({status(503, outcome_class::overloaded, 5.0)}), (std::vector<double>{0, 1010}))
      << "a hint on a 503 is not read";
  EXPECT_EQ(portkey_starts({status(429, outcome_class::rate_limited, 60.0)}), (std::vector<double>{0, 1010}))
      << "60 s or more is skipped for the backoff";
  EXPECT_EQ(portkey_starts({status(429, outcome_class::rate_limited, 59.0)}), (std::vector<double>{0, 59010}));
}

TEST(PortkeyPreset, AfterAnObeyedHintTheRemainingRetriesDoNotWait) {
  EXPECT_EQ(portkey_starts({status(503, outcome_class::overloaded), status(429, outcome_class::rate_limited, 3.0),
                            status(503, outcome_class::overloaded)}),
            (std::vector<double>{0, 1010, 4020, 4030}));
}

}  // namespace
}  // namespace squall
