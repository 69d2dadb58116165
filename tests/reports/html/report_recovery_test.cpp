// The report's recovery table (reports/html/report_recovery.cpp), from a hand-written results document.
#include <gtest/gtest.h>

#include <string>

#include "reports/html/report_html.hpp"

namespace squall::reports {
namespace {

json recovery_page_results(bool with_recovery) {
  json window_ok = {{"fault", "storm"}, {"provider", "p"}, {"start_s", 120}, {"end_s", 180},
                    {"recovered", true}, {"recovery_s", 11}};
  json window_stuck = {{"fault", "storm"}, {"provider", "p"}, {"start_s", 120}, {"end_s", 180},
                       {"recovered", false}, {"recovery_s", nullptr}, {"note", "not recovered before the run ended"}};
  auto config = [&](const char* name, const json& window) {
    json c = {{"name", name}, {"summary", {{"success_rate", 0.9}}}};
    if (with_recovery) {
      c["recovery"] = {{"baseline_success_rate", 0.995}, {"baseline_to_s", 120}, {"tolerance_pp", 2},
                       {"hold_intervals", 3}, {"windows", json::array({window})}};
    }
    return c;
  };
  return {{"format", "squall-results/1"},
          {"scenario", {{"name", "s"}, {"interval_s", 1}, {"faults", json::array()}}},
          {"configurations", json::array({config("breaker", window_ok), config("stuck", window_stuck)})},
          {"assertions",
           json::array({json{{"configuration", "stuck"}, {"metric", "latency_ok_p99_ms"}, {"kind", "max"},
                             {"bound", 5000}, {"note", "no samples: no request succeeded"}, {"passed", false}},
                        json{{"configuration", "breaker"}, {"metric", "success_rate"}, {"kind", "min"},
                             {"bound", 0.9}, {"measured", 0.95}, {"passed", true}, {"scope", "after"},
                             {"fault", "storm"}}})},
          {"verdict", "fail"}};
}

TEST(ReportRecovery, TableShowsRecoveryTimesAndNotRecovered) {
  const std::string html = report_html(recovery_page_results(true));
  const auto at = html.find("<section id=\"recovery\">");
  ASSERT_NE(at, std::string::npos);
  const std::string section = html.substr(at, html.find("</section>", at) - at);
  EXPECT_NE(section.find("within 2 pp of the calm baseline"), std::string::npos) << section;
  EXPECT_NE(section.find("99.50%"), std::string::npos) << section;
  EXPECT_NE(section.find("storm"), std::string::npos);
  EXPECT_NE(section.find("<td class=\"pass\">11 s</td>"), std::string::npos) << section;
  EXPECT_NE(section.find("not recovered <span class=\"delta\">(not recovered before the run ended)"), std::string::npos);
}

TEST(ReportRecovery, NoTableWithoutFaultWindows) {
  EXPECT_EQ(report_html(recovery_page_results(false)).find("id=\"recovery\""), std::string::npos);
}

TEST(ReportRecovery, AssertionWithoutSamplesShowsWhyNotZero) {
  const std::string html = report_html(recovery_page_results(true));
  EXPECT_NE(html.find("FAIL <span class=\"delta\">(no samples: no request succeeded)</span>"), std::string::npos);
  EXPECT_NE(html.find(" after storm</th>"), std::string::npos);
}

}  // namespace
}  // namespace squall::reports
