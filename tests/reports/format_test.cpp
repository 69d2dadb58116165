// How the human-facing writers show numbers (reports/format.hpp): a reader must never see a share below 1
// as 100%, a cost in e-notation, or one row mixing ms and s.

#include "reports/format.hpp"

#include <gtest/gtest.h>

namespace squall::reports {
namespace {

TEST(FormatValue, ShareBelowOneNeverReadsAsAHundredPercent) {
  EXPECT_EQ(format_value(0.999971, unit::percent), "99.997%");
  EXPECT_EQ(format_value(0.99996, unit::percent), "99.996%");
  EXPECT_EQ(format_value(0.9999999, unit::percent), ">99.9999%");
  EXPECT_EQ(format_value(1.0, unit::percent), "100.00%");
  EXPECT_EQ(format_value(0.9355, unit::percent), "93.55%");
  EXPECT_EQ(format_value(0.00003, unit::percent), "0.003%");
  EXPECT_EQ(format_value(0.0, unit::percent), "0.00%");
}

TEST(FormatValue, CostIsInFixedNotationWithThreeSignificantDigitsBelowADollar) {
  EXPECT_EQ(format_value(6.03e-05, unit::usd), "$0.0000603");
  EXPECT_EQ(format_value(0.00766, unit::usd), "$0.00766");
  EXPECT_EQ(format_value(0.5, unit::usd), "$0.500");
  EXPECT_EQ(format_value(104.444, unit::usd), "$104.44");
  EXPECT_EQ(format_value(0.0, unit::usd), "$0.00");
  for (double v : {1e-9, 3.2e-7, 6.03e-05, 0.012}) {
    EXPECT_EQ(format_value(v, unit::usd).find('e'), std::string::npos) << v;
  }
}

TEST(FormatValue, OneRowReadsInOneUnit) {
  EXPECT_EQ(format_value(412, unit::ms), "412 ms");
  EXPECT_EQ(format_value(12300, unit::ms), "12.3 s");
  // Beside 12.3 s, 412 ms reads in seconds too.
  EXPECT_EQ(format_value(412, unit::ms, 12300), "0.41 s");
  EXPECT_EQ(format_value(412, unit::ms, 900), "412 ms");
  EXPECT_EQ(format_value(12300, unit::ms, 12300), "12.3 s");
}

}  // namespace
}  // namespace squall::reports
