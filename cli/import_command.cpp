#include "cli/import_command.hpp"

#include <CLI/CLI.hpp>
#include <filesystem>
#include <fstream>
#include <iostream>

#include "cli/exit_codes.hpp"
#include "cli/flag_checks.hpp"
#include "traces/import/log_import.hpp"

namespace squall::cli {

CLI::App* add_import_command(CLI::App& app, import_args& args) {
  auto* cmd = app.add_subcommand("import", "Turn your own request log (CSV or JSON Lines) into a squall trace");
  cmd->add_option("log", args.log_path, "The log file")->required();
  cmd->add_option("--format", args.format, "csv (with a header row) or jsonl (one JSON object per line)")
      ->required()
      ->check(CLI::IsMember({"csv", "jsonl"}));
  cmd->add_option("--map", args.map,
                  "trace_key=column,... with trace keys timestamp (required), status, latency_ms, ttft_ms, model,\n"
                  "provider, input_tokens, output_tokens, error_type, request_id, attempt, retry_after (s), api,\n"
                  "endpoint, stream, outcome")
      ->required();
  cmd->add_option("--time-format", args.time_format,
                  "auto (numbers are epoch seconds, or ms from 10^11; text is ISO 8601), epoch_s, epoch_ms, iso8601")
      ->check(CLI::IsMember({"auto", "epoch_s", "epoch_ms", "iso8601"}));
  cmd->add_option("--out", args.out_path, "The trace to write (default: LOG with extension .trace.jsonl)");
  cmd->add_option("--max-errors", args.errors_max, "Give up after this many rows that cannot be read (default 100)")
      ->check(unsigned_integer)
      ->check(CLI::Range(0u, 100000000u));
  return cmd;
}

int import_command(const import_args& args) {
  auto mapping = traces::parse_column_mapping(args.map);
  if (!mapping) {
    std::cerr << "squall: error: " << mapping.error().describe() << "\n";
    return exit_bad_input;
  }
  traces::import_options options;
  options.format = args.format == "jsonl" ? traces::log_format::jsonl : traces::log_format::csv;
  options.mapping = std::move(*mapping);
  options.times = args.time_format == "epoch_s"    ? traces::time_format::epoch_s
                  : args.time_format == "epoch_ms" ? traces::time_format::epoch_ms
                  : args.time_format == "iso8601"  ? traces::time_format::iso8601
                                                   : traces::time_format::auto_detect;
  options.errors_max = args.errors_max;

  std::ifstream in(args.log_path, std::ios::binary);
  if (!in || std::filesystem::is_directory(args.log_path)) {
    std::cerr << "squall: error: " << args.log_path << ": cannot read the log\n";
    return exit_bad_input;
  }
  std::vector<std::string> errors;
  auto imported = traces::import_log(in, args.log_path, options, &errors);
  const std::vector<std::string>& row_errors = imported ? imported->errors : errors;
  for (const auto& e : row_errors) std::cerr << "squall: skipped: " << e << "\n";
  if (!imported) {
    std::cerr << "squall: error: " << imported.error().describe() << "\n";
    return exit_bad_input;
  }

  std::string out = args.out_path;
  if (out.empty()) out = std::filesystem::path(args.log_path).replace_extension(".trace.jsonl").string();
  auto writer = traces::trace_writer::open(out, imported->imported.header);
  if (!writer) {
    std::cerr << "squall: error: " << writer.error().describe() << "\n";
    return exit_io_error;
  }
  for (auto& a : imported->imported.attempts) (*writer)->append(std::move(a));
  if (auto error = (*writer)->finish()) {
    std::cerr << "squall: error: " << error->describe() << "\n";
    return exit_io_error;
  }
  std::cout << "imported " << imported->rows_read << " rows, skipped " << imported->rows_skipped << " -> " << out
            << "\n";
  return exit_ok;
}

}  // namespace squall::cli
