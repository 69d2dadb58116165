#pragma once
// `squall import LOG --format csv|jsonl --map trace_key=column,... [--time-format ...] [--out TRACE]`: turns
// a user's own log into a trace (docs/trace-format.md, "Imported traces").
#include <cstdint>
#include <string>

namespace CLI {
class App;
}

namespace squall::cli {

struct import_args {
  std::string log_path;
  std::string format;              // "csv" or "jsonl"
  std::string map;                 // "timestamp=ts,status=code,..."
  std::string time_format = "auto";
  std::string out_path;            // default: LOG with its extension replaced by ".trace.jsonl"
  std::uint32_t errors_max = 100;  // --max-errors
};

CLI::App* add_import_command(CLI::App& app, import_args& args);

// Exit codes: 0 imported (rows that could not be read are reported and counted), 2 bad input (mapping,
// missing column, too many bad rows, nothing readable), 3 the trace could not be written.
int import_command(const import_args& args);

}  // namespace squall::cli
