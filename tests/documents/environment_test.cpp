// ${NAME} in scenario files: what is replaced, what is left for the service block's own placeholders, the
// typing of a lone placeholder, and the errors that name the JSON path.
#include "documents/environment.hpp"

#include <gtest/gtest.h>

#include <map>
#include <string>

#include "policies/core/json_parse.hpp"

namespace squall::documents {
namespace {

environment_lookup lookup_in(std::map<std::string, std::string, std::less<>> values) {
  return [values = std::move(values)](std::string_view name) -> std::optional<std::string> {
    const auto it = values.find(name);
    if (it == values.end()) return std::nullopt;
    return it->second;
  };
}

json document_of(const char* text) {
  auto parsed = parse_json(text);
  return *parsed;
}

TEST(Environment, ReplacesNamesAndKeepsWhatIsNotOne) {
  json doc = document_of(R"({"name": "run at ${RATE} rps by ${WHO:-nobody}",
    "service": {"command": ["node", "app.js", "--port", "${port}", "$${HOME}"], "env": {"BASE": "${providers.openai.base_url}"}},
    "price": "$5", "tail": "ends with $"})");
  auto used = expand_environment(doc, lookup_in({{"RATE", "200"}}));
  ASSERT_TRUE(used.ok()) << used.error().describe();
  EXPECT_EQ(doc["name"], "run at 200 rps by nobody");
  EXPECT_EQ(doc["service"]["command"][3], "${port}") << "lower case: the service block's placeholder";
  EXPECT_EQ(doc["service"]["command"][4], "$${HOME}") << "the escape is left for the service block's reader";
  EXPECT_EQ(doc["service"]["env"]["BASE"], "${providers.openai.base_url}");
  EXPECT_EQ(doc["price"], "$5");
  EXPECT_EQ(doc["tail"], "ends with $");
  ASSERT_EQ(used->size(), 2u);
  EXPECT_EQ((*used)[0].name, "RATE");
  EXPECT_EQ((*used)[0].value, "200");
  EXPECT_FALSE((*used)[0].defaulted);
  EXPECT_EQ((*used)[1].name, "WHO");
  EXPECT_TRUE((*used)[1].defaulted);
}

TEST(Environment, ALonePlaceholderBecomesANumberOrABooleanWhenItIsOne) {
  json doc = document_of(R"({"rate_rps": "${RATE}", "share": "${SHARE:-0.25}", "stream": "${STREAM}",
    "model": "${MODEL}", "label": "${RATE} rps", "zip": "${ZIP}"})");
  auto used = expand_environment(doc, lookup_in({{"RATE", "50"}, {"STREAM", "true"}, {"MODEL", "gpt-4o"}, {"ZIP", "02134x"}}));
  ASSERT_TRUE(used.ok()) << used.error().describe();
  EXPECT_TRUE(doc["rate_rps"].is_number());
  EXPECT_EQ(doc["rate_rps"], 50);
  EXPECT_DOUBLE_EQ(doc["share"].get<double>(), 0.25);
  EXPECT_EQ(doc["stream"], true);
  EXPECT_EQ(doc["model"], "gpt-4o");
  EXPECT_EQ(doc["label"], "50 rps") << "inside a longer text it stays text";
  EXPECT_EQ(doc["zip"], "02134x");
}

TEST(Environment, AValueIsNotExpandedAgain) {
  json doc = document_of(R"({"a": "${OUTER}"})");
  ASSERT_TRUE(expand_environment(doc, lookup_in({{"OUTER", "${INNER}"}, {"INNER", "no"}})).ok());
  EXPECT_EQ(doc["a"], "${INNER}");
}

TEST(Environment, MistakesNameTheirPathAndSayWhatToDo) {
  json unset = document_of(R"({"workload": {"rate_rps": "${RATE}"}})");
  auto e = expand_environment(unset, lookup_in({}));
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.error().path, "$.workload.rate_rps");
  EXPECT_NE(e.error().message.find("RATE is not set"), std::string::npos) << e.error().message;
  EXPECT_NE(e.error().message.find("--env RATE=VALUE"), std::string::npos) << e.error().message;
  EXPECT_NE(e.error().message.find("${RATE:-VALUE}"), std::string::npos) << e.error().message;

  json unclosed = document_of(R"({"list": ["ok", "${RATE"]})");
  e = expand_environment(unclosed, lookup_in({{"RATE", "1"}}));
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.error().path, "$.list[1]");
  EXPECT_NE(e.error().message.find("unclosed"), std::string::npos) << e.error().message;

  json mixed_case = document_of(R"({"a": "${Rate}"})");
  e = expand_environment(mixed_case, lookup_in({{"Rate", "1"}}));
  ASSERT_FALSE(e.ok());
  EXPECT_NE(e.error().message.find("upper-case"), std::string::npos) << e.error().message;

  json default_unclosed = document_of(R"({"a": "${RATE:-5"})");
  EXPECT_FALSE(expand_environment(default_unclosed, lookup_in({})).ok());
}

TEST(Environment, SecretsAreToldByTheirNames) {
  EXPECT_TRUE(looks_secret("OPENAI_API_KEY"));
  EXPECT_TRUE(looks_secret("GITHUB_TOKEN"));
  EXPECT_TRUE(looks_secret("db_password"));
  EXPECT_FALSE(looks_secret("RATE"));
  EXPECT_FALSE(looks_secret("MODEL"));
}

}  // namespace
}  // namespace squall::documents
