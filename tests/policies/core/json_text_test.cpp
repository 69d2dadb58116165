#include "policies/core/json_text.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace squall {
namespace {

using nlohmann::json;

TEST(json_text, strings_escape_what_json_requires_and_round_trip) {
  std::string every_byte;
  for (int c = 1; c < 0x80; ++c) every_byte += static_cast<char>(c);
  every_byte += "caf\xc3\xa9 \xe2\x9c\x93";  // UTF-8 passes through unchanged
  for (const std::string& text : {std::string(), std::string("plain words"), std::string("\"q\" \\ \n"), every_byte}) {
    std::string out = "x";
    append_json_string(out, text);
    ASSERT_EQ(out.front(), 'x');
    EXPECT_EQ(json::parse(out.substr(1)).get<std::string>(), text);
  }
  std::string out;
  append_json_string(out, std::string("a\x01\"b", 4));
  EXPECT_EQ(out, R"("a\u0001\"b")");
}

}  // namespace
}  // namespace squall
