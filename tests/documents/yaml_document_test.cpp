// The YAML reader (scenario files, and the LiteLLM importer): plain scalars resolved as LiteLLM's loader (PyYAML's
// safe_load, YAML 1.1) resolves them, merge keys and repeated keys as a Python dict gets them, and the
// bounds (size, depth, alias expansion) that keep a hostile document from blowing memory or the stack.
// The expected values of the scalar table are PyYAML 6.0's answers to the same text.

#include "documents/yaml_document.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

namespace squall::documents {
namespace {

const std::filesystem::path yaml_samples = std::filesystem::path(SQUALL_SOURCE_DIR) / "tests/config_import/samples";

json yaml_value(const std::string& scalar) {
  auto parsed = parse_yaml("v: " + scalar + "\n");
  EXPECT_TRUE(parsed.ok()) << scalar << ": " << (parsed.ok() ? "" : parsed.error().describe());
  return parsed.ok() ? (*parsed)["v"] : json("<error>");
}

TEST(YamlDocument, PlainScalarsResolveAsPyYamlSafeLoadDoes) {
  const std::vector<std::pair<std::string, json>> cases = {
      {"yes", true},       {"No", false},      {"on", true},        {"OFF", false},     {"y", "y"},
      {"true", true},      {"0x1F", 31},       {"017", 15},         {"09", "09"},       {"0b101", 5},
      {"1_000", 1000},     {"1:30", 90},       {"+12", 12},         {"-0x1F", -31},     {"1e3", "1e3"},
      {"1.0e+3", 1000.0},  {"1.0e3", "1.0e3"}, {"1.5", 1.5},        {".5", 0.5},        {"-.5", "-.5"},
      {"1.", 1.0},         {"1:30.5", 90.5},   {"~", nullptr},      {"null", nullptr},  {"", nullptr},
      {"0o17", "0o17"},    {"08.5", 8.5},      {"2024-01-01", "2024-01-01"},            {"gpt-4o", "gpt-4o"},
  };
  for (const auto& [text, expected] : cases) EXPECT_EQ(yaml_value(text), expected) << "v: " << text;
}

TEST(YamlDocument, QuotedAndTaggedScalarsAreStrings) {
  EXPECT_EQ(yaml_value("\"yes\""), "yes");
  EXPECT_EQ(yaml_value("'017'"), "017");
  EXPECT_EQ(yaml_value("!!str 3"), "3");
  EXPECT_EQ(yaml_value("!!int \"0x10\""), 16);
  EXPECT_EQ(yaml_value("!!float 2"), 2.0);
  auto unknown = parse_yaml("v: !include other.yaml\n");
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.error().message.find("line 1, column 4"), std::string::npos) << unknown.error().describe();
  EXPECT_EQ(unknown.error().path, "$.v");
  EXPECT_FALSE(parse_yaml("v: .inf\n").ok()) << "JSON has no infinity";
  EXPECT_FALSE(parse_yaml("v: 99999999999999999999\n").ok()) << "beyond 64 bits";
}

TEST(YamlDocument, MergeKeysAndRepeatedKeysAreReadAsPythonReadsThem) {
  auto doc = parse_yaml(R"(
base: &base {a: 1, b: 2}
other: &other {b: 3, c: 4}
one:
  <<: *base
  b: 9
many:
  <<: [*base, *other]
repeated: {k: 1, k: 2}
)");
  ASSERT_TRUE(doc.ok()) << doc.error().describe();
  EXPECT_EQ((*doc)["one"], json::parse(R"({"a": 1, "b": 9})")) << "the explicit key wins";
  EXPECT_EQ((*doc)["many"], json::parse(R"({"b": 2, "c": 4, "a": 1})")) << "the earlier mapping wins";
  EXPECT_EQ((*doc)["repeated"]["k"], 2) << "the last of repeated keys, as a dict";
  auto bad = parse_yaml("a:\n  <<: [1, 2]\n");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().path, "$.a[\"<<\"]");
}

TEST(YamlDocument, SyntaxErrorsNameTheLineAndColumn) {
  auto bad = read_yaml_file(yaml_samples / "litellm-bad-syntax.yaml");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("at line 4"), std::string::npos) << bad.error().describe();
  EXPECT_NE(bad.error().file.find("litellm-bad-syntax.yaml"), std::string::npos);
  auto two = parse_yaml("a: 1\n---\nb: 2\n");
  ASSERT_FALSE(two.ok());
  EXPECT_NE(two.error().message.find("second document"), std::string::npos) << two.error().describe();
  EXPECT_FALSE(read_yaml_file(yaml_samples / "missing.yaml").ok());
}

TEST(YamlDocument, ABillionLaughsIsRefusedNotExpanded) {
  auto bomb = read_yaml_file(yaml_samples / "litellm-billion-laughs.yaml");
  ASSERT_FALSE(bomb.ok());
  EXPECT_NE(bomb.error().message.find("100000 values"), std::string::npos) << bomb.error().describe();
  // The same document under a smaller bound fails at that bound: the limit is what stops it.
  yaml_limits small;
  small.nodes_max = 50;
  auto few = parse_yaml("a: &a [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]\nb: [*a, *a, *a, *a, *a]\n", small);
  ASSERT_FALSE(few.ok());
  EXPECT_NE(few.error().message.find("50 values"), std::string::npos) << few.error().describe();
  EXPECT_TRUE(parse_yaml("a: &a [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]\nb: [*a, *a, *a, *a, *a]\n").ok());
}

TEST(YamlDocument, DepthSizeAndBytesAreBounded) {
  std::string deep;
  for (int i = 0; i < 70; ++i) deep += "[";
  for (int i = 0; i < 70; ++i) deep += "]";
  auto nested = parse_yaml(deep);
  ASSERT_FALSE(nested.ok());
  EXPECT_NE(nested.error().message.find("deeper than 64"), std::string::npos) << nested.error().describe();
  auto loop = parse_yaml("a: &a [*a]\n");
  EXPECT_FALSE(loop.ok()) << "an alias inside its own anchor";
  yaml_limits tiny;
  tiny.bytes_max = 8;
  EXPECT_FALSE(parse_yaml("model_list: []\n", tiny).ok());
  EXPECT_FALSE(parse_yaml("a: \xff\n").ok()) << "not UTF-8";
  auto control = parse_yaml("a: 1\nb: \x01\n");
  ASSERT_FALSE(control.ok());
  EXPECT_NE(control.error().message.find("line 2, column 4"), std::string::npos) << control.error().describe();
}

TEST(YamlDocument, TextOnWhichYamlCppStartsDocumentsWithoutEndIsRefused) {
  // Found by the gateway_config fuzzer (tests/fuzz/crashes/gateway_config/yaml-cpp-endless-flow-map, after
  // its gateway byte): on this text yaml-cpp 0.7's parser starts one document after another without end,
  // and YAML::LoadAll took more than a gigabyte before libFuzzer's timeout. Read document by document, the
  // second one is refused (PyYAML refuses the text at its first character).
  auto endless = parse_yaml(",,: 1, \"b\"-: 9}");
  ASSERT_FALSE(endless.ok());
  EXPECT_EQ(endless.error().message.rfind("invalid YAML", 0), 0U) << endless.error().describe();
}

TEST(YamlDocument, AnEmptyDocumentIsNull) {
  auto empty = parse_yaml("# nothing but a comment\n");
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->is_null());
}

TEST(YamlDocument, SquallsOwnFilesRefuseARepeatedKey) {
  const std::string text = "workload:\n  rate_rps: 10\n  rate_rps: 20\n";
  ASSERT_TRUE(parse_yaml(text).ok()) << "LiteLLM's loader keeps the last; the importers read as it does";
  auto kept = parse_yaml(text);
  EXPECT_EQ((*kept)["workload"]["rate_rps"], 20);
  yaml_limits strict;
  strict.repeated_keys_refused = true;
  auto refused = parse_yaml(text, strict);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().message.find("\"rate_rps\" is written twice"), std::string::npos) << refused.error().message;
  EXPECT_NE(refused.error().message.find("line 3"), std::string::npos) << refused.error().message;
  EXPECT_TRUE(parse_yaml("a: {b: 1}\nc: {b: 2}\n", strict).ok()) << "the same key in two mappings is no repeat";
}

}  // namespace
}  // namespace squall::documents
