// The library scenarios of the fault timeline's issue-16 additions hold their assertions in the
// simulation, so that each shows what it says it shows (and a change that breaks one is caught here,
// not by a reader of the report).
#include <gtest/gtest.h>

#include <filesystem>

#include "sim/run/simulation.hpp"
#include "sim/run/summary.hpp"
#include "sim/scenario/scenario.hpp"

namespace squall::sim {
namespace {

const std::filesystem::path source_dir = SQUALL_SOURCE_DIR;

class TimelineScenario : public ::testing::TestWithParam<const char*> {};

TEST_P(TimelineScenario, HoldsItsAssertions) {
  auto s = load_scenario(source_dir / "scenarios" / (std::string(GetParam()) + ".json"));
  ASSERT_TRUE(s.ok()) << s.error().describe();
  for (std::size_t i = 0; i < s->configurations.size(); ++i) {
    const configuration_result r = run_configuration(*s, i, s->seed.value_or(1));
    const summary sum = summarize(r);
    const std::string& name = s->configurations[i].name;
    std::string shown;
    for (const char* m : {"success_rate", "bad_content", "attempts_per_request", "error_rate"}) {
      shown += std::string(m) + "=" + std::to_string(summary_value(sum, m)) + " ";
    }
    std::printf("%s / %s: %s\n", GetParam(), name.c_str(), shown.c_str());
    for (const assertion& a : s->assertions) {
      if (a.configuration != name) continue;
      const double v = summary_value(sum, a.metric);
      if (a.is_min) {
        EXPECT_GE(v, a.bound) << name << " " << a.metric;
      } else {
        EXPECT_LE(v, a.bound) << name << " " << a.metric;
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Library, TimelineScenario,
                         ::testing::Values("anthropic-content-brownout", "openai-recovery-per-model",
                                           "anthropic-overloaded-kinds", "openai-first-attempts-fail",
                                           "stream-trickle", "tls-handshake-failure"),
                         [](const auto& param_info) {
                           std::string n = param_info.param;
                           for (char& c : n) c = c == '-' ? '_' : c;
                           return n;
                         });

}  // namespace
}  // namespace squall::sim
