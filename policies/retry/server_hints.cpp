#include "policies/retry/server_hints.hpp"

#include <array>
#include <cmath>

namespace squall {
namespace {

constexpr std::int64_t ns_per_s = 1000000000;
constexpr std::int64_t hint_max_s = 1000000000;

std::string_view trim(std::string_view v) noexcept {
  while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
  while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
  return v;
}

bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }

// Reads 1*DIGIT ["." 1*DIGIT] at the front of `v`, advancing past it. Digits beyond what a double holds
// are read but do not matter: a huge number saturates at the hint cap anyway.
std::optional<double> take_decimal(std::string_view& v) noexcept {
  std::size_t i = 0;
  double value = 0.0;
  while (i < v.size() && is_digit(v[i])) value = value * 10.0 + (v[i++] - '0');
  if (i == 0) return std::nullopt;
  if (i < v.size() && v[i] == '.') {
    ++i;
    double scale = 0.1;
    const std::size_t first = i;
    while (i < v.size() && is_digit(v[i])) {
      value += (v[i++] - '0') * scale;
      scale /= 10.0;
    }
    if (i == first) return std::nullopt;
  }
  v.remove_prefix(i);
  return value;
}

// `amount` units of `unit_ns` nanoseconds, rounded, saturating at hint_max. `amount` is finite and >= 0.
duration scaled(double amount, double unit_ns) noexcept {
  const double ns = amount * unit_ns;
  if (!(ns < static_cast<double>(hint_max.count()))) return hint_max;
  return duration{std::llround(ns)};
}

std::optional<duration> parse_number(std::string_view value, double unit_ns) noexcept {
  std::string_view v = trim(value);
  const auto amount = take_decimal(v);
  if (!amount || !v.empty()) return std::nullopt;
  return scaled(*amount, unit_ns);
}

// Exactly `n` digits at `v[at]`.
std::optional<int> digits(std::string_view v, std::size_t at, std::size_t n) noexcept {
  if (at + n > v.size()) return std::nullopt;
  int out = 0;
  for (std::size_t i = at; i < at + n; ++i) {
    if (!is_digit(v[i])) return std::nullopt;
    out = out * 10 + (v[i] - '0');
  }
  return out;
}

bool leap(int y) noexcept { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

int days_in_month(int y, int m) noexcept {
  constexpr std::array<int, 12> days = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && leap(y) ? 29 : days[static_cast<std::size_t>(m - 1)];
}

// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil).
std::int64_t days_from_civil(int y, int m, int d) noexcept {
  y -= m <= 2 ? 1 : 0;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const std::int64_t yoe = y - era * 400;
  const std::int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const std::int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

// Unix seconds of a checked calendar time; nullopt when a field is out of range. A leap second (60) is
// accepted and counts as the next second, as POSIX time does.
std::optional<std::int64_t> unix_seconds(int y, int mo, int d, int h, int mi, int s) noexcept {
  if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) || h > 23 || mi > 59 || s > 60) return std::nullopt;
  return days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s;
}

// The time from `now_unix_s` to `at_s` + `at_ns`, 0 when it is past, capped at hint_max.
duration until(std::int64_t at_s, std::int64_t at_ns, std::int64_t now_unix_s) noexcept {
  std::int64_t diff = 0;
  if (__builtin_sub_overflow(at_s, now_unix_s, &diff)) return at_s > now_unix_s ? hint_max : duration{0};
  if (diff >= hint_max_s) return hint_max;
  if (diff < -1) return duration{0};
  const std::int64_t ns = diff * ns_per_s + at_ns;
  return ns <= 0 ? duration{0} : duration{ns};
}

// IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT".
std::optional<std::int64_t> parse_imf_fixdate(std::string_view v) noexcept {
  constexpr std::array<std::string_view, 7> day_names = {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};
  constexpr std::array<std::string_view, 12> month_names = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  if (v.size() != 29 || v.substr(3, 2) != ", " || v[7] != ' ' || v[11] != ' ' || v[16] != ' ' || v[19] != ':' ||
      v[22] != ':' || v.substr(25) != " GMT") {
    return std::nullopt;
  }
  bool day_known = false;
  for (auto name : day_names) day_known = day_known || v.substr(0, 3) == name;
  int month = 0;
  for (std::size_t i = 0; i < month_names.size(); ++i) {
    if (v.substr(8, 3) == month_names[i]) month = static_cast<int>(i) + 1;
  }
  const auto day = digits(v, 5, 2);
  const auto year = digits(v, 12, 4);
  const auto hour = digits(v, 17, 2);
  const auto minute = digits(v, 20, 2);
  const auto second = digits(v, 23, 2);
  if (!day_known || month == 0 || !day || !year || !hour || !minute || !second) return std::nullopt;
  return unix_seconds(*year, month, *day, *hour, *minute, *second);
}

// RFC 3339: "2025-01-01T12:00:30Z", "2025-01-01T12:00:30.25+01:00". Gives seconds and nanoseconds.
std::optional<duration> parse_rfc3339(std::string_view v, std::int64_t now_unix_s) noexcept {
  if (v.size() < 20 || v[4] != '-' || v[7] != '-' || v[13] != ':' || v[16] != ':') return std::nullopt;
  if (v[10] != 'T' && v[10] != 't' && v[10] != ' ') return std::nullopt;
  const auto year = digits(v, 0, 4);
  const auto month = digits(v, 5, 2);
  const auto day = digits(v, 8, 2);
  const auto hour = digits(v, 11, 2);
  const auto minute = digits(v, 14, 2);
  const auto second = digits(v, 17, 2);
  if (!year || !month || !day || !hour || !minute || !second) return std::nullopt;
  std::size_t i = 19;
  std::int64_t fraction_ns = 0;
  if (v[i] == '.') {
    ++i;
    const std::size_t first = i;
    std::int64_t scale = ns_per_s / 10;
    while (i < v.size() && is_digit(v[i])) {
      fraction_ns += (v[i] - '0') * scale;  // digits past nanoseconds add 0
      scale /= 10;
      ++i;
    }
    if (i == first) return std::nullopt;
  }
  if (i >= v.size()) return std::nullopt;
  std::int64_t offset_s = 0;
  if (v[i] == 'Z' || v[i] == 'z') {
    ++i;
  } else if (v[i] == '+' || v[i] == '-') {
    const auto oh = digits(v, i + 1, 2);
    const auto om = digits(v, i + 4, 2);
    if (!oh || !om || v[i + 3] != ':' || *oh > 23 || *om > 59) return std::nullopt;
    offset_s = (*oh * 3600 + *om * 60) * (v[i] == '+' ? 1 : -1);
    i += 6;
  } else {
    return std::nullopt;
  }
  if (i != v.size()) return std::nullopt;
  const auto local = unix_seconds(*year, *month, *day, *hour, *minute, *second);
  if (!local) return std::nullopt;
  // Local time = UTC + offset, so UTC = local - offset.
  return until(*local - offset_s, fraction_ns, now_unix_s);
}

// Go's time.ParseDuration format, without a sign: one or more <decimal><unit>, or "0".
std::optional<duration> parse_go_duration(std::string_view v) noexcept {
  if (v == "0") return duration{0};
  struct unit {
    std::string_view name;
    double ns;
  };
  // Longer names first, so that "ms" is not read as "m" followed by garbage.
  constexpr std::array<unit, 8> units = {unit{"ms", 1e6},          unit{"us", 1e3}, unit{"\xC2\xB5s", 1e3},
                                         unit{"\xCE\xBCs", 1e3},   unit{"ns", 1.0}, unit{"h", 3600e9},
                                         unit{"m", 60e9},          unit{"s", 1e9}};
  if (v.empty()) return std::nullopt;
  double total_ns = 0.0;
  while (!v.empty()) {
    const auto amount = take_decimal(v);
    if (!amount) return std::nullopt;
    const unit* found = nullptr;
    for (const auto& u : units) {
      if (v.substr(0, u.name.size()) == u.name) {
        found = &u;
        break;
      }
    }
    if (found == nullptr) return std::nullopt;
    v.remove_prefix(found->name.size());
    total_ns += *amount * found->ns;
  }
  return scaled(total_ns, 1.0);
}

}  // namespace

std::optional<duration> parse_retry_after(std::string_view value, std::int64_t now_unix_s) {
  const std::string_view v = trim(value);
  if (!v.empty() && is_digit(v.front())) return parse_number(v, 1e9);
  const auto at = parse_imf_fixdate(v);
  if (!at) return std::nullopt;
  return until(*at, 0, now_unix_s);
}

std::optional<duration> parse_retry_after_ms(std::string_view value) { return parse_number(value, 1e6); }

std::optional<bool> parse_should_retry(std::string_view value) {
  const std::string_view v = trim(value);
  if (v == "true") return true;
  if (v == "false") return false;
  return std::nullopt;
}

std::optional<duration> parse_reset(std::string_view value, std::int64_t now_unix_s) {
  const std::string_view v = trim(value);
  // A timestamp starts with a four-digit year and a dash; a duration never has a dash.
  if (v.size() > 4 && v[4] == '-') return parse_rfc3339(v, now_unix_s);
  return parse_go_duration(v);
}

}  // namespace squall
