// The one JSON reader: depth refused while parsing, repeated keys and bad UTF-8 as errors that name the
// place, messages that say what was expected and never split a character (issue 13).

#include "policies/core/json_parse.hpp"

#include <gtest/gtest.h>

#include <string>

namespace squall {
namespace {

std::string nested_arrays(std::size_t depth) { return std::string(depth, '[') + std::string(depth, ']'); }

TEST(JsonParse, ReadsAnOrdinaryDocumentKeepingKeyOrder) {
  auto parsed = parse_json(R"({"b": 1, "a": [true, null, "x", 2.5, -3], "c": {"d": {}}})");
  ASSERT_TRUE(parsed.ok()) << parsed.error().describe();
  EXPECT_EQ(parsed->dump(), R"({"b":1,"a":[true,null,"x",2.5,-3],"c":{"d":{}}})");
  auto unordered = parse_json_as<nlohmann::json>(R"({"b": 1, "a": 2})");
  ASSERT_TRUE(unordered.ok());
  EXPECT_EQ(unordered->dump(), R"({"a":2,"b":1})");
}

TEST(JsonParse, RefusesDepthWhileParsingWithoutOverflowingTheStack) {
  // 100,000 levels overflowed the stack of every reader that built a tree first and walked it after.
  for (const std::string& text : {nested_arrays(100000), std::string(100000, '[')}) {
    auto parsed = parse_json(text);
    ASSERT_FALSE(parsed.ok());
    EXPECT_NE(parsed.error().message.find("nested more than 64"), std::string::npos) << parsed.error().message;
    EXPECT_EQ(parsed.error().path, "$" + std::string() + [] {
      std::string p;
      for (int i = 0; i < 64; ++i) p += "[0]";
      return p;
    }());
  }
  EXPECT_TRUE(parse_json(nested_arrays(64)).ok());
  EXPECT_FALSE(parse_json(nested_arrays(65)).ok());
  json_parse_limits deep;
  deep.depth_max = 200;
  EXPECT_TRUE(parse_json(nested_arrays(200), deep).ok());
}

TEST(JsonParse, DepthErrorNamesThePathThroughObjects) {
  std::string text;
  for (int i = 0; i < 70; ++i) text += R"({"k":)";
  text += "1" + std::string(70, '}');
  auto parsed = parse_json(text);
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.error().path.rfind("$.k.k.k", 0), 0u) << parsed.error().path;
}

TEST(JsonParse, RepeatedKeysAreErrorsNamingThePath) {
  auto parsed = parse_json(R"({"providers": {"openai": {"slots": 1, "slots": 2}}})");
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.error().path, "$.providers.openai.slots");
  EXPECT_NE(parsed.error().message.find("appears twice"), std::string::npos);
  EXPECT_NE(parsed.error().message.find("expected each key once"), std::string::npos);
  EXPECT_FALSE(parse_json_as<nlohmann::json>(R"({"a": 1, "a": 1})").ok());
  // Past 16 members the ordered reader switches to a hash set; a repeat must still be caught there.
  std::string big = "{";
  for (int i = 0; i < 40; ++i) big += "\"k" + std::to_string(i) + "\": " + std::to_string(i) + ",";
  big += "\"k3\": 0}";
  auto repeated = parse_json(big);
  ASSERT_FALSE(repeated.ok());
  EXPECT_EQ(repeated.error().path, "$.k3");
  // The same key in two different objects is no repeat.
  EXPECT_TRUE(parse_json(R"([{"a": 1}, {"a": 2}, {"b": {"a": 3}}])").ok());
}

TEST(JsonParse, InvalidUtf8IsAnErrorWithLineAndColumn) {
  auto parsed = parse_json("{\n  \"name\": \"caf\xE9\"\n}");
  ASSERT_FALSE(parsed.ok());
  EXPECT_NE(parsed.error().message.find("line 2"), std::string::npos) << parsed.error().message;
  EXPECT_TRUE(is_valid_utf8(parsed.error().message)) << parsed.error().message;
}

TEST(JsonParse, SyntaxErrorsSayWhatWasExpected) {
  // The message used to end at "N'" when it was cut at the last ": ".
  auto parsed = parse_json(R"({"seed": NaN})");
  ASSERT_FALSE(parsed.ok());
  const std::string& m = parsed.error().message;
  EXPECT_EQ(m.rfind("invalid JSON at line 1, column ", 0), 0u) << m;
  EXPECT_NE(m.find("expected a JSON value"), std::string::npos) << m;
  for (const char* text : {"{\"a\" 1}", "{\"a\": 1,}", "[1 2]", "{\"a\": 1} x", "", "{'a': 1}"}) {
    auto bad = parse_json(text);
    ASSERT_FALSE(bad.ok()) << text;
    EXPECT_NE(bad.error().message.find("expected"), std::string::npos) << text << ": " << bad.error().message;
  }
}

TEST(JsonParse, OversizedTextIsRefusedBeforeParsing) {
  json_parse_limits small;
  small.bytes_max = 10;
  auto parsed = parse_json("[1, 2, 3, 4, 5]", small);
  ASSERT_FALSE(parsed.ok());
  EXPECT_NE(parsed.error().message.find("expected at most 10"), std::string::npos);
}

TEST(JsonParse, ReadJsonFileNamesTheFile) {
  auto missing = read_json_file("/nonexistent/squall.json");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().file, "/nonexistent/squall.json");
  auto directory = read_json_file("/tmp");
  ASSERT_FALSE(directory.ok());
  EXPECT_NE(directory.error().message.find("directory"), std::string::npos);
}

TEST(Utf8, CutNeverSplitsACharacter) {
  const std::string thirty_e_acute = [] {
    std::string s;
    for (int i = 0; i < 30; ++i) s += "\xC3\xA9";
    return s;
  }();
  for (std::size_t n = 0; n < 70; ++n) {
    const std::string cut = cut_utf8(thirty_e_acute, n);
    EXPECT_TRUE(is_valid_utf8(cut)) << n;
    EXPECT_LE(cut.size(), std::max<std::size_t>(n, 3)) << n;
  }
  EXPECT_EQ(cut_utf8("short", 40), "short");
  EXPECT_EQ(valid_utf8("a\xFF" "b"), "a\xEF\xBF\xBD" "b");
  EXPECT_EQ(dump_json(nlohmann::json(std::string("\xFF"))), "\"\xEF\xBF\xBD\"");
}

}  // namespace
}  // namespace squall
