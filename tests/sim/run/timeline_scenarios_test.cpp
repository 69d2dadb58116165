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
  std::vector<configuration_result> results;
  std::vector<summary> summaries;
  for (std::size_t i = 0; i < s->configurations.size(); ++i) {
    results.push_back(run_configuration(*s, i, s->seed.value_or(1)));
    summaries.push_back(summarize(results.back()));
    std::string shown;
    for (const char* m : {"success_rate", "bad_content", "attempts_per_request", "error_rate"}) {
      shown += std::string(m) + "=" + std::to_string(summary_value(summaries.back(), m)) + " ";
    }
    std::printf("%s / %s: %s\n", GetParam(), s->configurations[i].name.c_str(), shown.c_str());
  }
  // Through check_assertions, as `squall run` does: window-scoped bounds, recoveries and metrics without
  // samples are judged the same way here.
  for (const assertion_result& a : check_assertions(*s, results, summaries)) {
    EXPECT_TRUE(a.passed) << a.bound.configuration << " " << a.bound.path << " measured " << a.measured << " " << a.note;
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
