// --set PATH=VALUE: the path syntax, JSON-or-text values, created keys, layers found by name or type,
// policy files opened where a path goes into them, and errors that say where and what.
#include "documents/set_override.hpp"

#include <gtest/gtest.h>

#include <string>

#include "policies/core/json_parse.hpp"

namespace squall::documents {
namespace {

json parsed(const char* text) {
  auto document = parse_json(text);
  return *document;
}

std::optional<config_error> set(json& doc, const std::string& text, const reference_opener& open = {}) {
  auto o = parse_set_override(text);
  if (!o) return std::move(o).error();
  return apply_set_override(doc, *o, open);
}

TEST(SetOverride, ValuesAreJsonWhenTheyAreJsonAndTextOtherwise) {
  json doc = parsed(R"({"workload": {"rate_rps": 10, "model": "a"}})");
  ASSERT_FALSE(set(doc, "workload.rate_rps=200"));
  ASSERT_FALSE(set(doc, "workload.model=gpt-4o"));
  ASSERT_FALSE(set(doc, "$.workload.stream=true"));
  ASSERT_FALSE(set(doc, R"(workload.label="200")"));
  ASSERT_FALSE(set(doc, "workload.models={\"a\": 1}"));
  ASSERT_FALSE(set(doc, "workload.empty="));
  EXPECT_EQ(doc["workload"]["rate_rps"], 200);
  EXPECT_EQ(doc["workload"]["model"], "gpt-4o");
  EXPECT_EQ(doc["workload"]["stream"], true);
  EXPECT_EQ(doc["workload"]["label"], "200");
  EXPECT_EQ(doc["workload"]["models"]["a"], 1);
  EXPECT_EQ(doc["workload"]["empty"], "");
}

TEST(SetOverride, IndexesQuotedKeysAndCreatedKeys) {
  json doc = parsed(R"({"providers": {"openai": {"timeline": [{"at_s": 0}, {"at_s": 60, "error_rate": 0.1}]}},
                       "policies": {"a.b": {"policy": "x.json"}}})");
  ASSERT_FALSE(set(doc, "providers.openai.timeline[1].error_rate=0.5"));
  EXPECT_DOUBLE_EQ(doc["providers"]["openai"]["timeline"][1]["error_rate"].get<double>(), 0.5);
  ASSERT_FALSE(set(doc, R"(policies["a.b"].fleet.instances=10)"));
  EXPECT_EQ(doc["policies"]["a.b"]["fleet"]["instances"], 10) << "missing keys are created";
  auto past = set(doc, "providers.openai.timeline[2].at_s=1");
  ASSERT_TRUE(past);
  EXPECT_EQ(past->path, "$.providers.openai.timeline");
  EXPECT_NE(past->message.find("past the end (the array has 2 elements)"), std::string::npos) << past->message;
}

TEST(SetOverride, APathIntoAPolicyFileOpensItAndFindsTheLayer) {
  json doc = parsed(R"({"policies": {"candidate": "policies/retry-breaker.json", "fleet": {"policy": "p.json", "fleet": {"instances": 2}}}})");
  const json file = parsed(R"({"name": "retry-breaker", "policies": [
      {"type": "timeout", "name": "overall", "timeout_ms": 60000}, {"type": "retry", "attempts_max": 4},
      {"type": "timeout", "name": "per-attempt", "timeout_ms": 10000}]})");
  std::vector<std::string> opened;
  const reference_opener open = [&](const std::string& where, const std::string& text) -> config_result<json> {
    opened.push_back(where + " " + text);
    return file;
  };
  ASSERT_FALSE(set(doc, "policies.candidate.retry.attempts_max=2", open));
  EXPECT_EQ(doc["policies"]["candidate"]["policies"][1]["attempts_max"], 2) << doc.dump();
  EXPECT_EQ(doc["policies"]["candidate"]["policies"][0]["timeout_ms"], 60000) << "the rest of the file is kept";
  ASSERT_FALSE(set(doc, "policies.candidate.per-attempt.timeout_ms=2500", open)) << "a layer by its name";
  EXPECT_EQ(doc["policies"]["candidate"]["policies"][2]["timeout_ms"], 2500);
  ASSERT_FALSE(set(doc, "policies.fleet.retry.attempts_max=3", open)) << "through {\"policy\": ...}";
  EXPECT_EQ(doc["policies"]["fleet"]["policy"]["policies"][1]["attempts_max"], 3);
  EXPECT_EQ(doc["policies"]["fleet"]["fleet"]["instances"], 2);
  ASSERT_EQ(opened.size(), 2u) << "each file opened once";
  EXPECT_EQ(opened[0], "$.policies.candidate policies/retry-breaker.json");

  auto ambiguous = set(doc, "policies.candidate.timeout.timeout_ms=1", open);
  ASSERT_TRUE(ambiguous);
  EXPECT_NE(ambiguous->message.find("2 layers have the type \"timeout\""), std::string::npos) << ambiguous->message;
  EXPECT_NE(ambiguous->message.find("overall (timeout)"), std::string::npos) << ambiguous->message;
  auto none = set(doc, "policies.candidate.hedging.delay_ms=1", open);
  ASSERT_TRUE(none);
  EXPECT_NE(none->message.find("no key and no layer \"hedging\""), std::string::npos) << none->message;
}

TEST(SetOverride, AStringIsGoneIntoOnlyWhenTheCallerOpensIt) {
  json doc = parsed(R"({"workload": {"model": "gpt-4o"}})");
  auto e = set(doc, "workload.model.name=x");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->path, "$.workload.model");
  EXPECT_NE(e->message.find("expected an object"), std::string::npos) << e->message;
  EXPECT_NE(e->message.find("--set workload.model.name=x"), std::string::npos) << e->message;
}

TEST(SetOverride, MalformedTextIsRefusedWithAnExample) {
  for (const char* text : {"workload.rate_rps", "=5", "a..b=1", "a.=1", "a[x]=1", "a[1=1", "a[]=1", ".a=1"}) {
    auto o = parse_set_override(text);
    ASSERT_FALSE(o.ok()) << text;
    EXPECT_NE(o.error().message.find("expected PATH=VALUE"), std::string::npos) << o.error().message;
  }
  auto eq = parse_set_override("service.env.OPTS=a=b");
  ASSERT_TRUE(eq.ok());
  EXPECT_EQ(eq->value, "a=b") << "the first '=' ends the path";
}

}  // namespace
}  // namespace squall::documents
