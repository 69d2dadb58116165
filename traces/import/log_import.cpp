#include "traces/import/log_import.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <iterator>
#include <limits>
#include <optional>

#include "policies/core/classify.hpp"
#include "policies/core/json_parse.hpp"
#include "policies/core/json_reader.hpp"

namespace squall::traces {
namespace {

constexpr double ms_max = 1e12;

// A cell: its text, or nothing when the column was empty (the value is unknown, which is not an error).
using cell = std::optional<std::string>;

std::string quote_value(std::string_view s) {
  return dump_json(json(valid_utf8(cut_utf8(s, 63))));
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

bool parse_double(std::string_view text, double& out) {
  text = trim(text);
  if (text.empty()) return false;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, out);
  return ec == std::errc{} && ptr == end && std::isfinite(out);
}

bool parse_integer(std::string_view text, std::int64_t& out) {
  double d = 0;
  if (!parse_double(text, d) || d != std::floor(d) || std::fabs(d) > 9e15) return false;
  out = static_cast<std::int64_t>(d);
  return true;
}

// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil).
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2 ? 1 : 0;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

bool digits(std::string_view s, std::size_t at, std::size_t n, int& out) {
  if (at + n > s.size()) return false;
  out = 0;
  for (std::size_t i = at; i < at + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    out = out * 10 + (s[i] - '0');
  }
  return true;
}

struct row_error {
  std::string column;
  std::string message;
};

// One mapped key: the trace key, the column it reads and where the column is (CSV) .
struct mapped_key {
  std::string key;
  std::string column;
  std::size_t index = 0;
};

// Fills one attempt from the row's cells; the first unreadable value is the row's error.
class row_reader {
 public:
  row_reader(const import_options& options) : options_(options) {}

  std::optional<row_error> read(const std::vector<mapped_key>& keys, const std::vector<cell>& cells,
                                trace_attempt& a, double& epoch_ms) {
    bool have_time = false;
    std::string outcome;
    for (std::size_t i = 0; i < keys.size(); ++i) {
      const mapped_key& k = keys[i];
      const cell& c = cells[i];
      if (!c || trim(*c).empty()) {
        if (k.key == "timestamp") return row_error{k.column, "the timestamp is empty"};
        continue;
      }
      const std::string_view v = trim(*c);
      auto bad = [&](std::string_view expected) {
        return row_error{k.column, "expected " + std::string(expected) + ", got " + quote_value(*c)};
      };
      double d = 0;
      std::int64_t n = 0;
      if (k.key == "timestamp") {
        if (!parse_time(v, epoch_ms)) return bad(time_expectation());
        have_time = true;
      } else if (k.key == "status") {
        if (!parse_integer(v, n) || n < 0 || n > 999) return bad("an HTTP status from 0 to 999");
        a.status = static_cast<int>(n);
      } else if (k.key == "latency_ms" || k.key == "ttft_ms") {
        if (!parse_double(v, d) || d < 0 || d > ms_max) return bad("a number of milliseconds from 0 to 10^12");
        (k.key == "latency_ms" ? a.latency_ms : a.ttft_ms) = d;
      } else if (k.key == "input_tokens" || k.key == "output_tokens") {
        if (!parse_integer(v, n) || n < 0 || n > std::numeric_limits<std::uint32_t>::max()) {
          return bad("a token count from 0 to 4294967295");
        }
        (k.key == "input_tokens" ? a.input_tokens : a.output_tokens) = static_cast<std::uint32_t>(n);
      } else if (k.key == "attempt") {
        if (!parse_integer(v, n) || n < 0 || n > 1'000'000) return bad("an attempt number from 1 to 1000000");
        a.attempt = static_cast<std::uint32_t>(n);
      } else if (k.key == "retry_after") {
        if (!parse_double(v, d) || d < 0 || d > 1e9) return bad("a number of seconds from 0 to 10^9");
        a.headers.emplace_back("retry-after", std::string(v));
      } else if (k.key == "stream") {
        if (v == "true" || v == "1") a.stream = true;
        else if (v == "false" || v == "0") a.stream = false;
        else return bad("true, false, 1 or 0");
      } else if (k.key == "api") {
        if (v != "openai" && v != "anthropic" && v != "gemini") return bad("\"openai\", \"anthropic\" or \"gemini\"");
        a.api = std::string(v);
      } else if (k.key == "outcome") {
        if (!outcome_class_from_string(v)) return bad("an outcome class (ok, rate_limited, overloaded, ...)");
        outcome = std::string(v);
      } else if (k.key == "request_id") {
        a.request_id = std::string(v);
      } else if (k.key == "provider") {
        a.provider = std::string(v);
      } else if (k.key == "endpoint") {
        a.endpoint = std::string(v);
      } else if (k.key == "model") {
        a.model = std::string(v);
      } else if (k.key == "error_type") {
        a.error_type = std::string(v);
      }
    }
    if (!have_time) return row_error{"", "no timestamp"};
    // The log's own classification wins; else squall's classifier decides from the status, as every
    // transport does. Without an answer (status 0) the class is unknown.
    if (!outcome.empty()) a.outcome = std::move(outcome);
    else if (a.status > 0) a.outcome = std::string(to_string(classify_http(a.status, a.error_type)));
    return std::nullopt;
  }

 private:
  std::string time_expectation() const {
    switch (options_.times) {
      case time_format::epoch_s: return "seconds since the Unix epoch";
      case time_format::epoch_ms: return "milliseconds since the Unix epoch";
      case time_format::iso8601: return "an ISO 8601 time like 2026-11-23T10:00:00.000Z";
      case time_format::auto_detect: break;
    }
    return "a time (seconds or milliseconds since the Unix epoch, or ISO 8601 like 2026-11-23T10:00:00Z)";
  }

  bool parse_time(std::string_view v, double& epoch_ms) const {
    double d = 0;
    switch (options_.times) {
      case time_format::epoch_s:
        if (!parse_double(v, d) || d < 0 || d > 1e11) return false;
        epoch_ms = d * 1000;
        return true;
      case time_format::epoch_ms:
        if (!parse_double(v, d) || d < 0 || d > 1e14) return false;
        epoch_ms = d;
        return true;
      case time_format::iso8601: return parse_iso8601_ms(v, epoch_ms);
      case time_format::auto_detect: break;
    }
    if (parse_double(v, d)) {
      if (d < 0 || d > 1e14) return false;
      epoch_ms = d >= 1e11 ? d : d * 1000;
      return true;
    }
    return parse_iso8601_ms(v, epoch_ms);
  }

  const import_options& options_;
};

// Reads CSV records (RFC 4180: fields separated by commas, quoted with '"', a doubled '"' inside quotes is
// one quote, quoted fields may hold commas and line breaks). `line` is the line a record starts on.
class csv_reader {
 public:
  explicit csv_reader(std::istream& in) : in_(in) {}

  // False at the end of the input. On a malformed record, `error` says why and the record is skipped.
  bool next(std::vector<std::string>& fields, std::uint64_t& line, std::string& error) {
    fields.clear();
    error.clear();
    if (in_.peek() == std::char_traits<char>::eof()) return false;
    line = line_ + 1;
    std::string field;
    bool quoted_field = false;
    bool in_quotes = false;
    bool after_quote = false;
    for (;;) {
      const int c = in_.get();
      if (c == std::char_traits<char>::eof()) {
        if (in_quotes) error = "a quoted field is not closed before the end of the file";
        fields.push_back(std::move(field));
        ++line_;
        return true;
      }
      const char ch = static_cast<char>(c);
      if (in_quotes) {
        if (ch == '"') {
          if (in_.peek() == '"') {
            in_.get();
            field += '"';
          } else {
            in_quotes = false;
            after_quote = true;
          }
        } else {
          if (ch == '\n') ++line_;
          field += ch;
        }
        continue;
      }
      if (ch == ',') {
        fields.push_back(std::move(field));
        field.clear();
        quoted_field = after_quote = false;
      } else if (ch == '\n' || ch == '\r') {
        if (ch == '\r' && in_.peek() == '\n') in_.get();
        fields.push_back(std::move(field));
        ++line_;
        return true;
      } else if (ch == '"' && field.empty() && !quoted_field) {
        in_quotes = quoted_field = true;
      } else if (after_quote) {
        if (error.empty()) error = "text after the closing quote of a field";
      } else {
        field += ch;
      }
    }
  }

 private:
  std::istream& in_;
  std::uint64_t line_ = 0;
};

const json* find_path(const json& object, const std::string& column) {
  if (auto it = object.find(column); it != object.end()) return &*it;
  // "usage.prompt_tokens": a key of a nested object, when no key is literally named so.
  const json* at = &object;
  std::size_t start = 0;
  while (start <= column.size()) {
    const std::size_t dot = column.find('.', start);
    const std::string part = column.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    if (!at->is_object()) return nullptr;
    auto it = at->find(part);
    if (it == at->end()) return nullptr;
    at = &*it;
    if (dot == std::string::npos) return at;
    start = dot + 1;
  }
  return nullptr;
}

cell cell_of(const json* v) {
  if (!v || v->is_null()) return std::nullopt;
  if (v->is_string()) return v->get<std::string>();
  if (v->is_boolean()) return std::string(v->get<bool>() ? "true" : "false");
  if (v->is_number_integer() || v->is_number_unsigned()) return v->dump();
  if (v->is_number_float()) {
    char buffer[64];
    std::snprintf(buffer, sizeof buffer, "%.17g", v->get<double>());
    return std::string(buffer);
  }
  return dump_json(*v);  // an object or array: reported as the value that could not be read
}

struct pending {
  double epoch_ms;
  std::uint64_t order;
  trace_attempt attempt;
};

}  // namespace

const std::vector<std::string>& importable_keys() {
  static const std::vector<std::string> keys = {
      "timestamp",     "request_id", "attempt",     "provider", "api",        "endpoint",
      "model",         "stream",     "input_tokens", "output_tokens", "status", "error_type",
      "outcome",       "latency_ms", "ttft_ms",     "retry_after"};
  return keys;
}

config_result<column_mapping> parse_column_mapping(const std::string& text) {
  column_mapping mapping;
  std::size_t start = 0;
  while (start <= text.size()) {
    const std::size_t comma = text.find(',', start);
    const std::string entry = text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    start = comma == std::string::npos ? text.size() + 1 : comma + 1;
    if (entry.empty()) continue;
    const std::size_t eq = entry.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == entry.size()) {
      return config_error{"", "--map", "expected trace_key=column, got \"" + entry + "\""};
    }
    std::string key = entry.substr(0, eq);
    const auto& keys = importable_keys();
    if (std::find(keys.begin(), keys.end(), key) == keys.end()) {
      std::string list;
      for (const auto& k : keys) list += (list.empty() ? "" : ", ") + k;
      return config_error{"", "--map", "unknown trace key \"" + key + "\"; expected one of: " + list};
    }
    for (const auto& [k, c] : mapping) {
      if (k == key) return config_error{"", "--map", "trace key \"" + key + "\" is mapped twice"};
    }
    mapping.emplace_back(std::move(key), entry.substr(eq + 1));
  }
  const bool has_time = std::any_of(mapping.begin(), mapping.end(), [](const auto& m) { return m.first == "timestamp"; });
  if (!has_time) {
    return config_error{"", "--map", "the mapping needs timestamp=COLUMN (the time each request was sent)"};
  }
  return mapping;
}

std::string iso8601_utc_ms(double epoch_ms) {
  const auto total_ms = static_cast<std::int64_t>(std::floor(epoch_ms));
  std::int64_t days = total_ms >= 0 ? total_ms / 86'400'000 : (total_ms - 86'399'999) / 86'400'000;
  const std::int64_t ms_of_day = total_ms - days * 86'400'000;
  // civil_from_days (Howard Hinnant).
  days += 719468;
  const std::int64_t era = (days >= 0 ? days : days - 146096) / 146097;
  const auto doe = static_cast<unsigned>(days - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned d = doy - (153 * mp + 2) / 5 + 1;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  const std::int64_t y = static_cast<std::int64_t>(yoe) + era * 400 + (m <= 2 ? 1 : 0);
  char buffer[80];
  std::snprintf(buffer, sizeof buffer, "%04lld-%02u-%02uT%02lld:%02lld:%02lld.%03lldZ", static_cast<long long>(y), m, d,
                static_cast<long long>(ms_of_day / 3'600'000), static_cast<long long>(ms_of_day / 60'000 % 60),
                static_cast<long long>(ms_of_day / 1000 % 60), static_cast<long long>(ms_of_day % 1000));
  return buffer;
}

bool parse_iso8601_ms(std::string_view s, double& epoch_ms) {
  s = trim(s);
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  if (!digits(s, 0, 4, year) || s.size() < 19 || s[4] != '-' || !digits(s, 5, 2, month) || s[7] != '-' ||
      !digits(s, 8, 2, day) || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') || !digits(s, 11, 2, hour) ||
      s[13] != ':' || !digits(s, 14, 2, minute) || s[16] != ':' || !digits(s, 17, 2, second)) {
    return false;
  }
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) return false;
  std::size_t at = 19;
  double fraction = 0;
  if (at < s.size() && (s[at] == '.' || s[at] == ',')) {
    ++at;
    double scale = 0.1;
    const std::size_t first = at;
    while (at < s.size() && s[at] >= '0' && s[at] <= '9') {
      fraction += (s[at] - '0') * scale;
      scale /= 10;
      ++at;
    }
    if (at == first) return false;
  }
  std::int64_t offset_min = 0;
  if (at < s.size()) {
    if ((s[at] == 'Z' || s[at] == 'z') && at + 1 == s.size()) {
      ++at;
    } else if (s[at] == '+' || s[at] == '-') {
      int oh = 0, om = 0;
      const bool colon = at + 3 < s.size() && s[at + 3] == ':';
      if (!digits(s, at + 1, 2, oh) || !digits(s, at + (colon ? 4 : 3), 2, om) ||
          at + (colon ? 6 : 5) != s.size() || oh > 23 || om > 59) {
        return false;
      }
      offset_min = (s[at] == '-' ? -1 : 1) * (oh * 60 + om);
      at = s.size();
    } else {
      return false;
    }
  }
  const std::int64_t days = days_from_civil(year, static_cast<unsigned>(month), static_cast<unsigned>(day));
  const std::int64_t seconds = days * 86400 + hour * 3600 + minute * 60 + second - offset_min * 60;
  epoch_ms = static_cast<double>(seconds) * 1000 + std::round(fraction * 1e6) / 1e3;
  return true;
}

config_result<import_result> import_log(std::istream& in, const std::string& name, const import_options& options,
                                        std::vector<std::string>* skipped_errors) {
  import_result result;
  std::vector<mapped_key> keys;
  for (const auto& [key, column] : options.mapping) keys.push_back({key, column, 0});
  if (std::none_of(keys.begin(), keys.end(), [](const mapped_key& k) { return k.key == "timestamp"; })) {
    return config_error{"", "--map", "the mapping needs timestamp=COLUMN (the time each request was sent)"};
  }
  row_reader rows(options);
  std::vector<pending> attempts;
  std::vector<cell> cells(keys.size());
  std::uint64_t order = 0;

  auto skip = [&](std::uint64_t line, const std::string& column, const std::string& message) -> bool {
    ++result.rows_skipped;
    std::string text = name + ": line " + std::to_string(line) + ": ";
    if (!column.empty()) text += "column \"" + column + "\": ";
    text += message;
    result.errors.push_back(std::move(text));
    return result.rows_skipped <= options.errors_max;
  };
  auto take = [&](std::uint64_t line) -> bool {
    trace_attempt a;
    double epoch_ms = 0;
    if (auto e = rows.read(keys, cells, a, epoch_ms)) return skip(line, e->column, e->message);
    if (attempts.size() >= options.rows_max) return false;
    attempts.push_back({epoch_ms, order++, std::move(a)});
    ++result.rows_read;
    return true;
  };
  auto too_many = [&]() -> config_error {
    if (skipped_errors) *skipped_errors = result.errors;
    if (result.rows_skipped > options.errors_max) {
      return config_error{name, "", "stopped after " + std::to_string(result.rows_skipped) +
                                        " rows that could not be read (--max-errors " +
                                        std::to_string(options.errors_max) + ")"};
    }
    return config_error{name, "", "more than " + std::to_string(options.rows_max) + " rows; split the log"};
  };

  if (options.format == log_format::csv) {
    csv_reader csv(in);
    std::vector<std::string> fields;
    std::uint64_t line = 0;
    std::string error;
    if (!csv.next(fields, line, error)) return config_error{name, "", "empty log: expected a header row of column names"};
    if (!error.empty()) return config_error{name, "line 1", error};
    if (!fields.empty() && fields[0].rfind("\xEF\xBB\xBF", 0) == 0) fields[0].erase(0, 3);  // a UTF-8 byte order mark
    for (auto& f : fields) f = std::string(trim(f));
    const std::size_t columns = fields.size();
    for (mapped_key& k : keys) {
      auto it = std::find(fields.begin(), fields.end(), k.column);
      if (it == fields.end()) {
        std::string list;
        for (const auto& f : fields) list += (list.empty() ? "" : ", ") + quote_value(f);
        return config_error{name, "line 1", "no column \"" + k.column + "\" (mapped to " + k.key +
                                                ") in the header; the columns are: " + list};
      }
      k.index = static_cast<std::size_t>(it - fields.begin());
    }
    while (csv.next(fields, line, error)) {
      if (fields.size() == 1 && trim(fields[0]).empty() && error.empty()) continue;  // a blank line
      bool go_on = true;
      if (!error.empty()) {
        go_on = skip(line, "", error);
      } else if (fields.size() != columns) {
        go_on = skip(line, "", "expected " + std::to_string(columns) + " columns as in the header, got " +
                                   std::to_string(fields.size()));
      } else {
        for (std::size_t i = 0; i < keys.size(); ++i) cells[i] = fields[keys[i].index];
        go_on = take(line);
      }
      if (!go_on) return too_many();
    }
  } else {
    std::string text;
    std::uint64_t line = 0;
    while (std::getline(in, text)) {
      ++line;
      if (trim(text).empty()) continue;
      bool go_on = true;
      auto parsed = parse_json_line(text);
      if (!parsed) {
        const config_error& e = parsed.error();
        go_on = skip(line, e.path, (e.path.empty() ? "not a JSON object: " : "") + e.message);
        if (!go_on) return too_many();
        continue;
      }
      json row = std::move(*parsed);
      if (!row.is_object()) {
        go_on = skip(line, "", "expected a JSON object, got " + describe_json(row));
      } else {
        bool bad = false;
        for (std::size_t i = 0; i < keys.size(); ++i) {
          const json* v = find_path(row, keys[i].column);
          if (v && (v->is_object() || v->is_array())) {
            go_on = skip(line, keys[i].column, "expected a string or a number, got " + describe_json(*v));
            bad = true;
            break;
          }
          cells[i] = cell_of(v);
        }
        if (!bad) go_on = take(line);
      }
      if (!go_on) return too_many();
    }
  }
  if (in.bad()) return config_error{name, "", "read error"};
  if (result.rows_read == 0) {
    if (skipped_errors) *skipped_errors = result.errors;
    return config_error{name, "", "no row could be read (" + std::to_string(result.rows_skipped) + " skipped)"};
  }

  // By send time; rows sent at the same time keep their order in the log.
  std::sort(attempts.begin(), attempts.end(), [](const pending& a, const pending& b) {
    return a.epoch_ms != b.epoch_ms ? a.epoch_ms < b.epoch_ms : a.order < b.order;
  });
  const double start_ms = attempts.front().epoch_ms;
  result.imported.header.source = "import";
  result.imported.header.prompts = prompt_mode::none;
  result.imported.header.started_at = iso8601_utc_ms(start_ms);
  result.imported.attempts.reserve(attempts.size());
  for (pending& p : attempts) {
    p.attempt.t_ms = p.epoch_ms - start_ms;
    result.imported.attempts.push_back(std::move(p.attempt));
  }
  return result;
}

}  // namespace squall::traces
