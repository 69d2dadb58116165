#include "sim/provider/provider_config.hpp"

#include <gtest/gtest.h>

#include <cctype>
#include <string>

namespace squall::sim {
namespace {

const char* const full_example = R"({
  "api": "openai",
  "models": { "gpt-4o-mini": { "usd_per_mtok_in": 0.15, "usd_per_mtok_out": 0.60 },
              "gpt-4o": { "usd_per_mtok_in": 2.5, "usd_per_mtok_out": 10 } },
  "latency": { "ttft_ms": {"dist":"lognormal","median":400,"sigma":0.5}, "ms_per_output_token": 8 },
  "error_latency_ms": 30,
  "capacity": { "slots": 64, "queue": 256, "slowdown": 0.5 },
  "rate_limits": { "rpm": 3000, "tpm": 1000000 },
  "errors": { "500": 0.001 },
  "faults": [
    { "at_s": 120, "for_s": 60, "errors": { "503": 0.8 }, "retry_after_s": 2 },
    { "at_s": 300, "for_s": 30, "latency_x": 10 },
    { "at_s": 400, "for_s": 120, "outage": "hang" }
  ] })";

config_result<provider_config> parse(const std::string& text) {
  return parse_provider(json::parse(text), "$.providers.openai", "openai");
}

TEST(ProviderConfig, ParsesTheFullExample) {
  auto r = parse(full_example);
  ASSERT_TRUE(r.ok()) << r.error().describe();
  const provider_config& c = *r;
  EXPECT_EQ(c.name, "openai");
  EXPECT_EQ(c.api, "openai");
  ASSERT_EQ(c.models.size(), 2U);
  EXPECT_EQ(c.models[0].first, "gpt-4o-mini");
  EXPECT_DOUBLE_EQ(c.models[0].second.usd_per_mtok_in, 0.15);
  EXPECT_DOUBLE_EQ(c.models[1].second.usd_per_mtok_out, 10);
  EXPECT_EQ(c.ttft_ms.shape(), distribution::kind::lognormal);
  EXPECT_EQ(c.ms_per_output_token.mean(), 8);
  EXPECT_EQ(c.error_latency_ms.mean(), 30);
  EXPECT_EQ(c.slots, 64U);
  EXPECT_EQ(c.queue, 256U);
  EXPECT_EQ(c.slowdown, 0.5);
  EXPECT_EQ(c.rpm, 3000);
  EXPECT_EQ(c.tpm, 1000000);
  ASSERT_EQ(c.errors.size(), 1U);
  EXPECT_EQ(c.errors[0], (injected_error{500, 0.001}));
  ASSERT_EQ(c.faults.size(), 3U);
  EXPECT_EQ(c.faults[0].at_s, 120);
  EXPECT_EQ(c.faults[0].for_s, 60);
  EXPECT_EQ(c.faults[0].errors[0], (injected_error{503, 0.8}));
  EXPECT_EQ(c.faults[0].retry_after_s, 2);
  EXPECT_EQ(c.faults[1].latency_x, 10);
  EXPECT_EQ(c.faults[1].outage, outage_kind::none);
  EXPECT_EQ(c.faults[2].outage, outage_kind::hang);
}

TEST(ProviderConfig, DefaultsAreThoseOfTheStruct) {
  auto r = parse(R"({"models": {"m": {"usd_per_mtok_in": 1, "usd_per_mtok_out": 2}}})");
  ASSERT_TRUE(r.ok()) << r.error().describe();
  const provider_config defaults;
  EXPECT_EQ(r->api, defaults.api);
  EXPECT_EQ(r->slots, defaults.slots);
  EXPECT_EQ(r->queue, defaults.queue);
  EXPECT_EQ(r->slowdown, defaults.slowdown);
  EXPECT_FALSE(r->rpm.has_value());
  EXPECT_FALSE(r->tpm.has_value());
  EXPECT_TRUE(r->errors.empty());
  EXPECT_TRUE(r->faults.empty());
  EXPECT_EQ(r->ttft_ms.mean(), defaults.ttft_ms.mean());
  EXPECT_EQ(r->error_latency_ms.mean(), 30);
}

TEST(ProviderConfig, AnthropicMayInject529AndSoMayOpenai) {
  auto a = parse(R"({"api": "anthropic", "models": {"claude": {"usd_per_mtok_in": 3, "usd_per_mtok_out": 15}},
                     "errors": {"529": 0.1, "429": 0.2}})");
  ASSERT_TRUE(a.ok()) << a.error().describe();
  EXPECT_EQ(a->api, "anthropic");
  auto o = parse(R"({"models": {"m": {"usd_per_mtok_in": 1, "usd_per_mtok_out": 2}}, "errors": {"529": 0.1}})");
  EXPECT_TRUE(o.ok());
}

TEST(ProviderConfig, GeminiIsAnApi) {
  auto g = parse(R"({"api": "gemini", "models": {"gemini-2.0-flash": {"usd_per_mtok_in": 0.1, "usd_per_mtok_out": 0.4}},
                     "errors": {"429": 0.1, "503": 0.1}})");
  ASSERT_TRUE(g.ok()) << g.error().describe();
  EXPECT_EQ(g->api, "gemini");
}

TEST(ProviderConfig, ProbabilitiesSummingToOneAreFine) {
  auto r = parse(R"({"models": {"m": {"usd_per_mtok_in": 1, "usd_per_mtok_out": 2}},
                     "errors": {"500": 0.1, "502": 0.2, "503": 0.7}})");
  EXPECT_TRUE(r.ok()) << r.error().describe();
}

struct broken_case {
  const char* what;
  const char* json;
  const char* path;
  const char* message_part;
};

// Every broken configuration names the JSON path of its mistake, and says what was expected.
const broken_case broken_cases[] = {
    {"not an object", R"(42)", "$.providers.openai", "expected an object"},
    {"unknown top-level key", R"({"models": {"m": {"usd_per_mtok_in": 1, "usd_per_mtok_out": 2}}, "capcity": {}})",
     "$.providers.openai", "did you mean \"capacity\""},
    {"missing models", R"({"api": "openai"})", "$.providers.openai", "\"models\""},
    {"no model", R"({"models": {}})", "$.providers.openai.models", "at least one model"},
    {"model price missing", R"({"models": {"m": {"usd_per_mtok_in": 1}}})", "$.providers.openai.models.m",
     "usd_per_mtok_out"},
    {"negative price", R"({"models": {"m": {"usd_per_mtok_in": -1, "usd_per_mtok_out": 2}}})",
     "$.providers.openai.models.m.usd_per_mtok_in", "from 0"},
    {"bad api", R"({"api": "vertex", "models": {"m": {"usd_per_mtok_in": 1, "usd_per_mtok_out": 2}}})",
     "$.providers.openai.api", "\"gemini\""},
    {"bad ttft distribution",
     R"({"models": {"m": {"usd_per_mtok_in": 1, "usd_per_mtok_out": 2}}, "latency": {"ttft_ms": {"dist": "weibull"}}})",
     "$.providers.openai.latency.ttft_ms.dist", "\"lognormal\""},
    {"unknown latency key",
     R"({"models": {"m": {"usd_per_mtok_in": 1, "usd_per_mtok_out": 2}}, "latency": {"ms_per_token": 8}})",
     "$.providers.openai.latency", "unknown key \"ms_per_token\"; expected one of: ms_per_output_token ttft_ms"},
    {"negative error latency", R"({"models": {"m": {"usd_per_mtok_in": 1, "usd_per_mtok_out": 2}}, "error_latency_ms": -3})",
     "$.providers.openai.error_latency_ms", "expected a value"},
    {"zero slots", R"({"models": {"m": {"usd_per_mtok_in": 1, "usd_per_mtok_out": 2}}, "capacity": {"slots": 0}})",
     "$.providers.openai.capacity.slots", "from 1"},
    {"fractional queue", R"({"models": {"m": {"usd_per_mtok_in": 1, "usd_per_mtok_out": 2}}, "capacity": {"queue": 2.5}})",
     "$.providers.openai.capacity.queue", "integer"},
    {"zero rpm", R"({"models": {"m": {"usd_per_mtok_in": 1, "usd_per_mtok_out": 2}}, "rate_limits": {"rpm": 0}})",
     "$.providers.openai.rate_limits.rpm", "from 1"},
    {"unsupported status", R"({"models": {"m": {"usd_per_mtok_in": 1, "usd_per_mtok_out": 2}}, "errors": {"418": 0.1}})",
     "$.providers.openai.errors.418", "unknown HTTP status"},
    {"status not a number", R"({"models": {"m": {"usd_per_mtok_in": 1, "usd_per_mtok_out": 2}}, "errors": {"5xx": 0.1}})",
     "$.providers.openai.errors.5xx", "unknown HTTP status"},
    {"probability above 1", R"({"models": {"m": {"usd_per_mtok_in": 1, "usd_per_mtok_out": 2}}, "errors": {"500": 1.5}})",
     "$.providers.openai.errors.500", "probability"},
    {"probabilities sum above 1",
     R"({"models": {"m": {"usd_per_mtok_in": 1, "usd_per_mtok_out": 2}}, "errors": {"500": 0.6, "503": 0.5}})",
     "$.providers.openai.errors", "got a sum of 1.1"},
    {"faults not an array", R"({"models": {"m": {"usd_per_mtok_in": 1, "usd_per_mtok_out": 2}}, "faults": {}})",
     "$.providers.openai.faults", "expected an array"},
    {"fault without start",
     R"({"models": {"m": {"usd_per_mtok_in": 1, "usd_per_mtok_out": 2}}, "faults": [{"for_s": 3, "latency_x": 2}]})",
     "$.providers.openai.faults[0]", "\"at_s\""},
    {"negative at_s",
     R"({"models": {"m": {"usd_per_mtok_in": 1, "usd_per_mtok_out": 2}}, "faults": [{"at_s": -1, "for_s": 3, "latency_x": 2}]})",
     "$.providers.openai.faults[0].at_s", "from 0"},
    {"zero for_s",
     R"({"models": {"m": {"usd_per_mtok_in": 1, "usd_per_mtok_out": 2}}, "faults": [{"at_s": 1, "for_s": 0, "latency_x": 2}]})",
     "$.providers.openai.faults[0].for_s", "above 0"},
    {"window doing nothing",
     R"({"models": {"m": {"usd_per_mtok_in": 1, "usd_per_mtok_out": 2}}, "faults": [{"at_s": 1, "for_s": 3, "latency_x": 1}]})",
     "$.providers.openai.faults[0]", "must do something"},
    {"bad outage",
     R"({"models": {"m": {"usd_per_mtok_in": 1, "usd_per_mtok_out": 2}}, "faults": [{"at_s": 1, "for_s": 3, "outage": "explode"}]})",
     "$.providers.openai.faults[0].outage", "\"refuse\""},
    {"bad window error mix",
     R"({"models": {"m": {"usd_per_mtok_in": 1, "usd_per_mtok_out": 2}}, "faults": [{"at_s": 1, "for_s": 3, "errors": {"503": 0.9, "500": 0.2}}]})",
     "$.providers.openai.faults[0].errors", "sum to at most 1"},
    {"unknown window key",
     R"({"models": {"m": {"usd_per_mtok_in": 1, "usd_per_mtok_out": 2}}, "faults": [{"at_s": 1, "for_s": 3, "latency_x": 2, "latency": 3}]})",
     "$.providers.openai.faults[0]", "unknown key \"latency\""},
    {"zero latency factor",
     R"({"models": {"m": {"usd_per_mtok_in": 1, "usd_per_mtok_out": 2}}, "faults": [{"at_s": 1, "for_s": 3, "latency_x": 0}]})",
     "$.providers.openai.faults[0].latency_x", "from 0.001"},
    {"retry hint without matching errors",
     R"({"models": {"m": {"usd_per_mtok_in": 1, "usd_per_mtok_out": 2}}, "faults": [{"at_s": 1, "for_s": 3, "errors": {"500": 0.5}, "retry_after_s": 2}]})",
     "$.providers.openai.faults[0].retry_after_s", "429, 503 and 529"},
    {"overlapping windows",
     R"({"models": {"m": {"usd_per_mtok_in": 1, "usd_per_mtok_out": 2}},
         "faults": [{"at_s": 10, "for_s": 20, "latency_x": 2}, {"at_s": 25, "for_s": 5, "outage": "refuse"}]})",
     "$.providers.openai.faults[1].at_s", "before $.providers.openai.faults[0] ends at 30 s"},
    {"windows out of order",
     R"({"models": {"m": {"usd_per_mtok_in": 1, "usd_per_mtok_out": 2}},
         "faults": [{"at_s": 100, "for_s": 20, "latency_x": 2}, {"at_s": 5, "for_s": 5, "outage": "refuse"}]})",
     "$.providers.openai.faults[1].at_s", "in time order"},
};

class ProviderConfigBroken : public ::testing::TestWithParam<broken_case> {};

TEST_P(ProviderConfigBroken, NamesThePathAndWhatWasExpected) {
  const broken_case& c = GetParam();
  auto r = parse(c.json);
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

INSTANTIATE_TEST_SUITE_P(All, ProviderConfigBroken, ::testing::ValuesIn(broken_cases), case_name);

TEST(ProviderConfig, AdjacentWindowsAreFine) {
  auto r = parse(R"({"models": {"m": {"usd_per_mtok_in": 1, "usd_per_mtok_out": 2}},
                     "faults": [{"at_s": 10, "for_s": 20, "latency_x": 2}, {"at_s": 30, "for_s": 5, "outage": "reset"}]})");
  ASSERT_TRUE(r.ok()) << r.error().describe();
  EXPECT_EQ(r->faults[1].outage, outage_kind::reset);
}

}  // namespace
}  // namespace squall::sim
