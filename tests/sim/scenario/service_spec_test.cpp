// The "service" block of a scenario: what it accepts, and every mistake named by its JSON path before
// anything starts.

#include "sim/scenario/service_spec.hpp"

#include <gtest/gtest.h>

#include "sim/scenario/placeholders.hpp"
#include "sim/scenario/scenario.hpp"

namespace squall::sim {
namespace {

json base_scenario() {
  return json::parse(R"({
    "duration_s": 5,
    "providers": {"openai": {"api": "openai", "models": {"gpt-4o-mini": {"usd_per_mtok_in": 0.15, "usd_per_mtok_out": 0.6}}}},
    "workload": {"arrivals": {"process": "poisson", "rate_per_s": 5}},
    "service": {
      "command": ["node", "server.mjs", "--port", "${port}"],
      "cwd": "../examples/node_service",
      "env": {"OPENAI_BASE_URL": "${providers.openai.base_url}", "PORT": "${port}"},
      "ready": {"http": "/health"},
      "request": {"path": "/ask", "headers": {"x-trace": "t-${request_id}"},
                  "body": {"prompt": "${prompt}", "max_tokens": "${output_tokens}", "model": "${model}"}},
      "success": {"statuses": [200], "json_path": "$.answer"},
      "configurations": {"default-retries": {}, "no-retries": {"env": {"OPENAI_MAX_RETRIES": "0"}}}
    }
  })");
}

config_error error_of(const json& document) {
  auto parsed = parse_scenario(document, "/scenarios");
  EXPECT_FALSE(parsed.ok());
  return parsed ? config_error{} : parsed.error();
}

TEST(ServiceSpec, AServiceBlockGivesOneConfigurationPerVersion) {
  auto parsed = parse_scenario(base_scenario(), "/scenarios");
  ASSERT_TRUE(parsed.ok()) << parsed.error().describe();
  ASSERT_TRUE(parsed->service.has_value());
  const service_spec& s = *parsed->service;
  EXPECT_EQ(s.command.size(), 4U);
  EXPECT_EQ(s.cwd, std::filesystem::path("/scenarios/../examples/node_service"));
  EXPECT_EQ(s.ready_http_path, "/health");
  EXPECT_EQ(s.stop_signal, SIGTERM);
  EXPECT_EQ(s.request.method, "POST");
  EXPECT_EQ(s.success.statuses, std::vector<int>{200});
  ASSERT_EQ(parsed->configurations.size(), 2U);
  EXPECT_EQ(parsed->configurations[0].name, "default-retries");
  EXPECT_EQ(parsed->configurations[1].name, "no-retries");
  EXPECT_EQ(parsed->configurations[1].source, "service");
  ASSERT_EQ(s.configurations[1].env.size(), 1U);
  EXPECT_EQ(s.configurations[1].env[0].second, "0");
}

TEST(ServiceSpec, WithoutConfigurationsTheServiceIsOneConfigurationNamedService) {
  json d = base_scenario();
  d["service"].erase("configurations");
  auto parsed = parse_scenario(d, "/scenarios");
  ASSERT_TRUE(parsed.ok()) << parsed.error().describe();
  ASSERT_EQ(parsed->configurations.size(), 1U);
  EXPECT_EQ(parsed->configurations[0].name, "service");
}

TEST(ServiceSpec, MistakesAreNamedByTheirPath) {
  struct mistake {
    const char* pointer;  // JSON pointer of the value to set
    json value;
    const char* path;
    const char* words;
  };
  const std::vector<mistake> cases = {
      {"/service/env/OPENAI_BASE_URL", "${providers.anthropic.base_url}", "$.service.env.OPENAI_BASE_URL",
       "unknown placeholder ${providers.anthropic.base_url}"},
      {"/service/command/3", "${prot}", "$.service.command[3]", "unknown placeholder ${prot}"},
      {"/service/request/body/prompt", "${prompt", "$.service.request.body.prompt", "not closed"},
      {"/service/request/body/model", "${port}", "$.service.request.body.model", "in the request template"},
      {"/service/request/path", "ask", "$.service.request.path", "starting with '/'"},
      {"/service/request/method", "BREW", "$.service.request.method", "POST"},
      {"/service/success/json_path", "answer", "$.service.success.json_path", "JSON path"},
      {"/service/success/statuses", json::array({700}), "$.service.success.statuses[0]", "100 to 599"},
      {"/service/ready", json::object(), "$.service.ready", "exactly one of"},
      {"/service/stop", {{"signal", "SIGKILL"}}, "$.service.stop.signal", "SIGTERM"},
      {"/service/env/1BAD", "x", "$.service.env.1BAD", "environment variable name"},
      {"/service/request/headers/x-trace", "a\r\nb", "$.service.request.headers.x-trace", "CR, LF"},
      {"/service/configurations/no-retries/cmd", json::array({"x"}), "$.service.configurations.no-retries",
       "unknown key"},
      {"/service/base_url", "http://127.0.0.1:9", "$.service", "exactly one of \"command\""},
      {"/policies", {{"p", {{"policies", json::array()}}}}, "$.policies", "remove \"policies\""},
      {"/assert", {{"no-retries", {{"upstream_retries_max", 3}}}}, "", ""},  // valid: see below
  };
  for (const auto& c : cases) {
    json d = base_scenario();
    d[json::json_pointer(c.pointer)] = c.value;
    auto parsed = parse_scenario(d, "/scenarios");
    if (std::string(c.path).empty()) {
      EXPECT_TRUE(parsed.ok()) << c.pointer << ": " << parsed.error().describe();
      continue;
    }
    ASSERT_FALSE(parsed.ok()) << c.pointer;
    EXPECT_EQ(parsed.error().path, c.path) << c.pointer << ": " << parsed.error().describe();
    EXPECT_NE(parsed.error().message.find(c.words), std::string::npos) << parsed.error().describe();
  }
}

TEST(ServiceSpec, AStartedServiceMustSayHowItIsReady) {
  json d = base_scenario();
  d["service"].erase("ready");
  const config_error e = error_of(d);
  EXPECT_EQ(e.path, "$.service");
  EXPECT_NE(e.message.find("missing key \"ready\""), std::string::npos);
}

TEST(ServiceSpec, UpstreamAssertionsNeedAService) {
  json d = base_scenario();
  d.erase("service");
  d["policies"] = {{"retry", {{"policies", json::array({{{"type", "retry"}}})}}}};
  d["assert"] = {{"retry", {{"upstream_attempts_per_request_max", 2}}}};
  const config_error e = error_of(d);
  EXPECT_EQ(e.path, "$.assert.retry.upstream_attempts_per_request_max");
  EXPECT_NE(e.message.find("only a scenario with a \"service\""), std::string::npos) << e.message;
}

TEST(ServiceSpec, ABaseUrlServiceCannotHaveStartKeys) {
  json d = base_scenario();
  d["service"].erase("command");
  d["service"]["base_url"] = "http://127.0.0.1:8080";
  const config_error e = error_of(d);
  EXPECT_EQ(e.path, "$.service.cwd");
}

TEST(Placeholders, ExpandReplacesEveryNameAndKeepsEscapes) {
  const auto value = [](std::string_view n) { return "<" + std::string(n) + ">"; };
  EXPECT_EQ(expand_placeholders("a ${x} b ${y}${x} $${x} $5", value), "a <x> b <y><x> ${x} $5");
  EXPECT_EQ(sole_placeholder("${output_tokens}"), "output_tokens");
  EXPECT_EQ(sole_placeholder("n=${output_tokens}"), "");
}

TEST(Placeholders, JsonPathsFindWhatTheyName) {
  const json doc = json::parse(R"({"a": {"b": [10, {"c d": null, "e": 1}]}})");
  EXPECT_FALSE(check_json_path("$.a.b[1][\"c d\"]").has_value());
  EXPECT_EQ(*find_json_path(doc, "$.a.b[0]"), 10);
  EXPECT_EQ(*find_json_path(doc, "$.a.b[1].e"), 1);
  EXPECT_TRUE(find_json_path(doc, "$.a.b[1][\"c d\"]")->is_null());
  EXPECT_EQ(find_json_path(doc, "$.a.b[5]"), nullptr);
  EXPECT_EQ(find_json_path(doc, "$.x"), nullptr);
  EXPECT_EQ(find_json_path(doc, "$"), &doc);
  for (const char* bad : {"", "a", "$.", "$..a", "$[]", "$[x]", "$[1", "$a"}) {
    EXPECT_TRUE(check_json_path(bad).has_value()) << bad;
  }
}

}  // namespace
}  // namespace squall::sim
