// Parsing the raw retry hint headers: every accepted form, the boundaries, and garbage (never a crash,
// always nullopt).

#include "policies/retry/server_hints.hpp"

#include "policies/core/rng.hpp"

#include <limits>
#include <string>

#include <gtest/gtest.h>

namespace squall {
namespace {

constexpr std::int64_t oct_21_2015 = 1445412480;  // Wed, 21 Oct 2015 07:28:00 GMT
constexpr std::int64_t jan_1_2025_noon_30 = 1735732830;  // 2025-01-01T12:00:30Z

TEST(parse_retry_after, delta_seconds_whole_and_fractional) {
  EXPECT_EQ(parse_retry_after("120", 0), from_s(120));
  EXPECT_EQ(parse_retry_after("0", 0), duration{0});
  EXPECT_EQ(parse_retry_after("1.5", 0), from_ms(1500));
  EXPECT_EQ(parse_retry_after("0.001", 0), from_ms(1));
  EXPECT_EQ(parse_retry_after("  7\t", 0), from_s(7)) << "optional whitespace around the value";
  EXPECT_EQ(parse_retry_after("007", 0), from_s(7));
}

TEST(parse_retry_after, huge_delta_saturates_at_the_cap) {
  EXPECT_EQ(parse_retry_after("99999999999999999999999999", 0), hint_max);
  EXPECT_EQ(parse_retry_after(std::string(400, '9'), 0), hint_max);
  EXPECT_EQ(parse_retry_after("1000000000", 0), hint_max);
  EXPECT_EQ(parse_retry_after("999999999", 0), from_s(999999999));
}

TEST(parse_retry_after, imf_fixdate_relative_to_now) {
  EXPECT_EQ(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", oct_21_2015 - 30), from_s(30));
  EXPECT_EQ(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", oct_21_2015), duration{0});
  EXPECT_EQ(parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", 784111777 - 1), from_s(1));
  EXPECT_EQ(parse_retry_after("Thu, 29 Feb 2024 00:00:00 GMT", 1709164800 - 86400), from_s(86400)) << "leap day";
  EXPECT_EQ(parse_retry_after(" Wed, 21 Oct 2015 07:28:00 GMT ", oct_21_2015 - 2), from_s(2));
}

TEST(parse_retry_after, past_dates_give_zero) {
  EXPECT_EQ(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", oct_21_2015 + 3600), duration{0});
  EXPECT_EQ(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", std::numeric_limits<std::int64_t>::max()),
            duration{0});
  EXPECT_EQ(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", std::numeric_limits<std::int64_t>::min()), hint_max);
}

TEST(parse_retry_after, garbage_is_nullopt) {
  for (const char* bad :
       {"", " ", "-1", "+5", "1e3", "0x10", "1.", ".5", "1.2.3", "5 s", "abc", "inf", "NaN", "1,5", "٣",
        "Wed, 21 Oct 2015 07:28:00 UTC", "Wed, 21 Oct 2015 07:28:00", "Wed 21 Oct 2015 07:28:00 GMT",
        "Xyz, 21 Oct 2015 07:28:00 GMT", "Wed, 21 Foo 2015 07:28:00 GMT", "Wed, 32 Oct 2015 07:28:00 GMT",
        "Wed, 31 Nov 2015 07:28:00 GMT", "Wed, 29 Feb 2015 07:28:00 GMT", "Wed, 21 Oct 2015 24:00:00 GMT",
        "Wed, 21 Oct 2015 07:60:00 GMT", "Wed, 21 Oct 2015 07:28:61 GMT", "Wed, 2x Oct 2015 07:28:00 GMT",
        "Wednesday, 21-Oct-15 07:28:00 GMT", "Wed Oct 21 07:28:00 2015", "Wed, 21 Oct 2015 07:28:00 GMTX"}) {
    EXPECT_EQ(parse_retry_after(bad, oct_21_2015), std::nullopt) << '"' << bad << '"';
  }
  const std::string with_nul("12\0", 3);
  EXPECT_EQ(parse_retry_after(with_nul, 0), std::nullopt);
}

TEST(parse_retry_after_ms, milliseconds_whole_and_fractional) {
  EXPECT_EQ(parse_retry_after_ms("250"), from_ms(250));
  EXPECT_EQ(parse_retry_after_ms("12.5"), duration{12500000});
  EXPECT_EQ(parse_retry_after_ms(" 0 "), duration{0});
  EXPECT_EQ(parse_retry_after_ms("1e99"), std::nullopt);
  EXPECT_EQ(parse_retry_after_ms(std::string(500, '9')), hint_max);
  for (const char* bad : {"", "-250", "ms", "250ms", "2 50", ".", "Wed, 21 Oct 2015 07:28:00 GMT"}) {
    EXPECT_EQ(parse_retry_after_ms(bad), std::nullopt) << '"' << bad << '"';
  }
}

TEST(parse_should_retry, true_and_false_only) {
  EXPECT_EQ(parse_should_retry("true"), true);
  EXPECT_EQ(parse_should_retry("false"), false);
  EXPECT_EQ(parse_should_retry(" true "), true);
  for (const char* bad : {"", "TRUE", "True", "1", "0", "yes", "truee", "t", "fals"}) {
    EXPECT_EQ(parse_should_retry(bad), std::nullopt) << '"' << bad << '"';
  }
}

TEST(parse_reset, openai_go_durations) {
  EXPECT_EQ(parse_reset("1s", 0), from_s(1));
  EXPECT_EQ(parse_reset("6m0s", 0), from_s(360));
  EXPECT_EQ(parse_reset("20ms", 0), from_ms(20));
  EXPECT_EQ(parse_reset("1h2m3.5s", 0), from_ms(3723500));
  EXPECT_EQ(parse_reset("0.5s", 0), from_ms(500));
  EXPECT_EQ(parse_reset("59.999s", 0), from_ms(59999));
  EXPECT_EQ(parse_reset("100us", 0), duration{100000});
  EXPECT_EQ(parse_reset("100\xC2\xB5s", 0), duration{100000});
  EXPECT_EQ(parse_reset("7ns", 0), duration{7});
  EXPECT_EQ(parse_reset("0", 0), duration{0});
  EXPECT_EQ(parse_reset("0s", 0), duration{0});
  EXPECT_EQ(parse_reset(" 2m ", 0), from_s(120));
  EXPECT_EQ(parse_reset("99999999999h", 0), hint_max);
}

TEST(parse_reset, anthropic_rfc3339_timestamps) {
  EXPECT_EQ(parse_reset("2025-01-01T12:00:30Z", jan_1_2025_noon_30 - 10), from_s(10));
  EXPECT_EQ(parse_reset("2025-01-01T12:00:30.25Z", jan_1_2025_noon_30 - 10), from_ms(10250));
  EXPECT_EQ(parse_reset("2025-01-01t12:00:30z", jan_1_2025_noon_30), duration{0});
  EXPECT_EQ(parse_reset("2025-01-01T13:00:30+01:00", jan_1_2025_noon_30 - 5), from_s(5)) << "offset east of UTC";
  EXPECT_EQ(parse_reset("2025-01-01T11:00:30-01:00", jan_1_2025_noon_30 - 5), from_s(5)) << "offset west of UTC";
  EXPECT_EQ(parse_reset("2025-01-01T12:00:30.123456789123Z", jan_1_2025_noon_30), duration{123456789});
}

TEST(parse_reset, past_timestamps_give_zero) {
  EXPECT_EQ(parse_reset("2025-01-01T12:00:30Z", jan_1_2025_noon_30 + 1), duration{0});
  EXPECT_EQ(parse_reset("2025-01-01T12:00:29.5Z", jan_1_2025_noon_30), duration{0});
  EXPECT_EQ(parse_reset("1970-01-01T00:00:00Z", jan_1_2025_noon_30), duration{0});
}

TEST(parse_reset, garbage_is_nullopt) {
  for (const char* bad : {"", "s", "1", "10", "-1s", "+1s", "1x", "1 s", "1s2", "1.s", ".5s", "1S", "1h-2m",
                          "ms", "1mss", "2025-01-01", "2025-01-01T12:00:30", "2025-13-01T12:00:30Z",
                          "2025-02-30T12:00:30Z", "2025-01-01T25:00:30Z", "2025-01-01T12:00:30.Z",
                          "2025-01-01T12:00:30+1:00", "2025-01-01T12:00:30+01", "2025-01-01T12:00:30+24:00",
                          "2025-01-01T12:00:30ZZ", "2025-01-01X12:00:30Z", "abcd-ef-ghTij:kl:mnZ",
                          "Wed, 21 Oct 2015 07:28:00 GMT"}) {
    EXPECT_EQ(parse_reset(bad, jan_1_2025_noon_30), std::nullopt) << '"' << bad << '"';
  }
}

TEST(server_hints, random_bytes_never_crash) {
  // A cheap fuzz: deterministic byte strings, including every prefix of valid values.
  std::uint64_t state = 42;
  const std::string valid[] = {"Wed, 21 Oct 2015 07:28:00 GMT", "2025-01-01T12:00:30.25+01:00", "1h2m3.5s"};
  for (const auto& v : valid) {
    for (std::size_t n = 0; n <= v.size(); ++n) {
      const std::string_view prefix(v.data(), n);
      (void)parse_retry_after(prefix, 0);
      (void)parse_reset(prefix, 0);
      (void)parse_retry_after_ms(prefix);
    }
  }
  for (int i = 0; i < 20000; ++i) {
    std::string s;
    const std::size_t n = splitmix64(state) % 40;
    for (std::size_t k = 0; k < n; ++k) {
      constexpr std::string_view alphabet = "0123456789:.-+ TZGMTmsh,Wed\xC2\xB5\t";
      const auto r = splitmix64(state);
      s += (r & 1) != 0 ? alphabet[(r >> 8) % alphabet.size()] : static_cast<char>(r >> 16);
    }
    (void)parse_retry_after(s, static_cast<std::int64_t>(splitmix64(state)));
    (void)parse_retry_after_ms(s);
    (void)parse_should_retry(s);
    (void)parse_reset(s, static_cast<std::int64_t>(splitmix64(state)));
  }
  SUCCEED();
}

}  // namespace
}  // namespace squall
