// Parsing the fault timeline's issue-16 additions: scopes, error kinds, first_n / attempts, content faults,
// token_x and the handshake outage; every mistake names its JSON path.
#include <gtest/gtest.h>

#include <cctype>
#include <string>

#include "sim/provider/provider_config.hpp"

namespace squall::sim {
namespace {

config_result<provider_config> parse_faults(const std::string& faults, const std::string& api = "anthropic") {
  const std::string text = R"({"api": ")" + api + R"(", "models": {"m": {"usd_per_mtok_in": 1, "usd_per_mtok_out": 2},
                                             "big": {"usd_per_mtok_in": 1, "usd_per_mtok_out": 2}},
                                "faults": )" + faults + "}";
  return parse_provider(json::parse(text), "$.providers.p", "p");
}

TEST(TimelineConfig, ReadsEveryNewKey) {
  auto r = parse_faults(R"([
    {"at_s": 0, "for_s": 60, "models": ["m"], "endpoints": ["messages", "chat"],
     "errors": {"overloaded_500": 0.5, "rate_limit_temporary": 0.2, "503": 0.1}, "first_n": 3},
    {"at_s": 0, "for_s": 30, "models": ["big"], "content": {"empty": 0.1, "truncated": 0.2, "invalid_json": 0.3},
     "wire": {"stream_cut": 0.1}, "attempts": 2},
    {"at_s": 100, "for_s": 10, "token_x": 4},
    {"at_s": 200, "for_s": 10, "outage": "handshake"}])");
  ASSERT_TRUE(r.ok()) << r.error().describe();
  const auto& f = r->faults;
  ASSERT_EQ(f.size(), 4U);
  EXPECT_EQ(f[0].models, std::vector<std::string>{"m"});
  EXPECT_EQ(f[0].endpoints, (std::vector<endpoint_kind>{endpoint_kind::messages, endpoint_kind::chat}));
  ASSERT_EQ(f[0].errors.size(), 3U);
  EXPECT_EQ(f[0].errors[0], (injected_error{500, 0.5, error_kind::overloaded_500}));
  EXPECT_EQ(f[0].errors[1], (injected_error{429, 0.2, error_kind::rate_limit_temporary}));
  EXPECT_EQ(f[0].errors[2], (injected_error{503, 0.1, error_kind::status}));
  EXPECT_EQ(f[0].first_n, 3U);
  EXPECT_EQ(f[1].content.truncated, 0.2);
  EXPECT_EQ(f[1].attempts, 2U);
  EXPECT_EQ(f[2].token_x, 4);
  EXPECT_EQ(f[3].outage, outage_kind::handshake);
}

TEST(TimelineConfig, EveryErrorKindIsKnownWithItsStatus) {
  auto r = parse_faults(R"([{"at_s": 0, "for_s": 1, "errors": {"overloaded_529": 0.1, "overloaded_500": 0.1,
    "rate_limit_account": 0.1, "rate_limit_temporary": 0.1, "insufficient_quota": 0.1}}])");
  ASSERT_TRUE(r.ok()) << r.error().describe();
  const std::vector<int> statuses = {529, 500, 429, 429, 429};
  for (std::size_t i = 0; i < statuses.size(); ++i) EXPECT_EQ(r->faults[0].errors[i].status, statuses[i]);
}

TEST(TimelineConfig, ScopedWindowsOverlapWhenTheirScopesShareNoAttempt) {
  // Recovery per model: every model out at once, back one at a time.
  auto r = parse_faults(R"([{"at_s": 0, "for_s": 60, "models": ["m"], "outage": "refuse"},
                            {"at_s": 0, "for_s": 90, "models": ["big"], "outage": "refuse"},
                            {"at_s": 60, "for_s": 5, "models": ["m"], "endpoints": ["embeddings"], "latency_x": 3}])");
  ASSERT_TRUE(r.ok()) << r.error().describe();
}

struct broken_case {
  const char* what;
  const char* faults;
  const char* path;
  const char* message_part;
};

const broken_case broken_cases[] = {
    {"unknown error kind", R"([{"at_s": 0, "for_s": 1, "errors": {"overloaded": 0.5}}])",
     "$.providers.p.faults[0].errors.overloaded", "overloaded_500"},
    {"scopes that meet overlap", R"([{"at_s": 0, "for_s": 60, "models": ["m"], "latency_x": 2},
                                     {"at_s": 30, "for_s": 60, "endpoints": ["messages"], "latency_x": 3}])",
     "$.providers.p.faults[1].at_s", "of one scope must not overlap"},
    {"unknown endpoint", R"([{"at_s": 0, "for_s": 1, "endpoints": ["chat", "images"], "latency_x": 2}])",
     "$.providers.p.faults[0].endpoints[1]", "unknown endpoint \"images\""},
    {"empty models", R"([{"at_s": 0, "for_s": 1, "models": [], "latency_x": 2}])", "$.providers.p.faults[0].models",
     "1 to 64 names"},
    {"model twice", R"([{"at_s": 0, "for_s": 1, "models": ["m", "m"], "latency_x": 2}])",
     "$.providers.p.faults[0].models[1]", "appears twice"},
    {"model not served", R"([{"at_s": 0, "for_s": 1, "models": ["gpt-5"], "latency_x": 2}])",
     "$.providers.p.faults[0].models[0]", "serves no model \"gpt-5\""},
    {"zero first_n", R"([{"at_s": 0, "for_s": 1, "errors": {"429": 1}, "first_n": 0}])",
     "$.providers.p.faults[0].first_n", "from 1"},
    {"first_n and attempts", R"([{"at_s": 0, "for_s": 1, "errors": {"429": 1}, "first_n": 2, "attempts": 1}])",
     "$.providers.p.faults[0].attempts", "not both"},
    {"attempts with a latency factor", R"([{"at_s": 0, "for_s": 1, "latency_x": 2, "attempts": 1}])",
     "$.providers.p.faults[0].attempts", "no \"latency_x\""},
    {"content above 1", R"([{"at_s": 0, "for_s": 1, "content": {"empty": 1.5}}])",
     "$.providers.p.faults[0].content.empty", "from 0"},
    {"content and wire above 1", R"([{"at_s": 0, "for_s": 1, "wire": {"malformed": 0.6}, "content": {"empty": 0.5}}])",
     "$.providers.p.faults[0].content", "with the window's \"wire\" faults"},
    {"unknown content key", R"([{"at_s": 0, "for_s": 1, "content": {"blank": 0.5}}])",
     "$.providers.p.faults[0].content", "unknown key \"blank\""},
    {"zero token_x", R"([{"at_s": 0, "for_s": 1, "token_x": 0}])", "$.providers.p.faults[0].token_x", "from 0.001"},
    {"scoped handshake", R"([{"at_s": 0, "for_s": 1, "outage": "handshake", "models": ["m"]}])",
     "$.providers.p.faults[0].models", "before the request is read"},
    {"handshake counting attempts", R"([{"at_s": 0, "for_s": 1, "outage": "handshake", "first_n": 2}])",
     "$.providers.p.faults[0].first_n", "before the request"},
};

class TimelineConfigBroken : public ::testing::TestWithParam<broken_case> {};

TEST_P(TimelineConfigBroken, NamesThePathAndWhatWasExpected) {
  const broken_case& c = GetParam();
  auto r = parse_faults(c.faults);
  ASSERT_FALSE(r.ok()) << c.what;
  EXPECT_EQ(r.error().path, c.path) << c.what << ": " << r.error().describe();
  EXPECT_NE(r.error().message.find(c.message_part), std::string::npos) << c.what << ": " << r.error().describe();
}

std::string case_name(const ::testing::TestParamInfo<broken_case>& param_info) {
  std::string name = param_info.param.what;
  for (char& ch : name) {
    if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
  }
  return name;
}

INSTANTIATE_TEST_SUITE_P(All, TimelineConfigBroken, ::testing::ValuesIn(broken_cases), case_name);

TEST(TimelineConfig, AControlApiWindowParsesAloneWithItsScope) {
  auto w = parse_fault_window(json::parse(R"({"at_s": 0, "for_s": 5, "models": ["any"], "errors": {"insufficient_quota": 1}})"),
                              "$.faults[0]");
  ASSERT_TRUE(w.ok()) << w.error().describe();
  EXPECT_EQ(w->errors[0].kind, error_kind::insufficient_quota);
}

}  // namespace
}  // namespace squall::sim
