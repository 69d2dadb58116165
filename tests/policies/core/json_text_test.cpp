#include "policies/core/json_text.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace squall {
namespace {

using njson = nlohmann::json;

TEST(json_text, strings_escape_what_json_requires_and_round_trip) {
  std::string every_byte;
  for (int c = 1; c < 0x80; ++c) every_byte += static_cast<char>(c);
  every_byte += "caf\xc3\xa9 \xe2\x9c\x93";  // UTF-8 passes through unchanged
  for (const std::string& text : {std::string(), std::string("plain words"), std::string("\"q\" \\ \n"), every_byte}) {
    std::string out = "x";
    append_json_string(out, text);
    ASSERT_EQ(out.front(), 'x');
    EXPECT_EQ(njson::parse(out.substr(1)).get<std::string>(), text);
  }
  std::string out;
  append_json_string(out, std::string("a\x01\"b", 4));
  EXPECT_EQ(out, R"("a\u0001\"b")");
}

TEST(json_text, bytes_that_are_not_utf8_become_the_replacement_character) {
  const std::string replacement = "\xEF\xBF\xBD";
  const std::pair<std::string, std::string> cases[] = {
      {std::string("a\xFF") + "b", "a" + replacement + "b"},  // never a UTF-8 byte
      {"\xC3", replacement},                                 // cut short at the end
      {"\xC3(", replacement + "("},                          // a lead byte without its continuation
      {"\xC0\xAF", replacement + replacement},               // an overlong form
      {"\xED\xA0\x80", replacement + replacement + replacement},  // a UTF-16 surrogate
      {"\xF4\x90\x80\x80", replacement + replacement + replacement + replacement},  // past U+10FFFF
      {"\xF0\x9F\x98\x80 ok", "\xF0\x9F\x98\x80 ok"},            // a valid four-byte sequence stays
  };
  for (const auto& [in, expected] : cases) {
    std::string out;
    append_json_string(out, in);
    EXPECT_EQ(out, "\"" + expected + "\"");
    EXPECT_EQ(njson::parse(out).get<std::string>(), expected);
  }
}

}  // namespace
}  // namespace squall
