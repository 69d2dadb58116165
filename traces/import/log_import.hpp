#pragma once
// The importer of users' own logs: CSV (a header row, RFC 4180 quoting) or JSON Lines, with a mapping of
// trace keys onto the log's columns given on the command line (`--map timestamp=ts,status=code`). Each
// row becomes one trace_attempt; rows are sorted by time and t_ms is made relative to the earliest one.
// docs/trace-format.md ("Imported traces") is the reference.
//
// A row that cannot be read is skipped with an error naming its line, column and value, and counted; the
// import stops once errors_max rows were skipped. What makes the whole import fail (a mapping naming an
// unknown trace key, a mapped column missing from the header, too many bad rows, no row read) is an
// error value.

#include <cstdint>
#include <istream>
#include <string>
#include <utility>
#include <vector>

#include "policies/core/config_error.hpp"
#include "traces/trace.hpp"

namespace squall::traces {

enum class log_format : std::uint8_t { csv, jsonl };

// How timestamps are written in the log. auto_detect: a number is seconds since the Unix epoch, or
// milliseconds when it is 10^11 or more (10^11 s is the year 5138, 10^11 ms is 1973); text is ISO 8601.
enum class time_format : std::uint8_t { auto_detect, epoch_s, epoch_ms, iso8601 };

// trace key -> log column (CSV header name, or JSON Lines key; "a.b" reaches into nested objects).
using column_mapping = std::vector<std::pair<std::string, std::string>>;

// The trace keys a mapping may name. "timestamp" is required; "retry_after" is in seconds and is kept as
// the header retry-after.
const std::vector<std::string>& importable_keys();

// Parses "trace_key=column,..." (as written after --map). Errors name the flag and the entry.
config_result<column_mapping> parse_column_mapping(const std::string& text);

struct import_options {
  log_format format = log_format::csv;
  column_mapping mapping;
  time_format times = time_format::auto_detect;
  std::uint32_t errors_max = 100;         // bad rows skipped before the import gives up
  std::uint64_t rows_max = 10'000'000;    // a longer log is an error, not an out-of-memory
};

struct import_result {
  trace imported;                   // header source "import", prompts none; attempts sorted by t_ms
  std::uint64_t rows_read = 0;
  std::uint64_t rows_skipped = 0;
  std::vector<std::string> errors;  // one line per skipped row ("app.csv: line 7: column ...")
};

// Reads a whole log. `name` is used in messages. A failed import still says why in the error; the rows'
// own errors up to that point are in `skipped_errors` when given.
config_result<import_result> import_log(std::istream& in, const std::string& name, const import_options& options,
                                        std::vector<std::string>* skipped_errors = nullptr);

// "2026-11-23T10:00:00.000Z" from milliseconds since the Unix epoch.
std::string iso8601_utc_ms(double epoch_ms);
// Parses an ISO 8601 date and time ("2026-11-23T10:00:00Z", "2026-11-23 10:00:00.25+01:00"; no zone
// means UTC) into milliseconds since the Unix epoch; false when it is not one.
bool parse_iso8601_ms(std::string_view text, double& epoch_ms);

}  // namespace squall::traces
