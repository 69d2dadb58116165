#pragma once
// `squall record --upstream URL --listen ADDR --out TRACE`: the recording reverse proxy
// (traces/record/record_proxy.hpp) writing a trace (traces/trace.hpp) until SIGINT/SIGTERM or --for-s.

#include <CLI/CLI.hpp>
#include <optional>
#include <string>

namespace squall::cli {

struct record_args {
  std::string upstream;
  std::string listen = "127.0.0.1:0";
  std::string out;
  std::string provider;
  bool keep_prompts = false;
  std::optional<double> for_s;
  bool allow_remote = false;
};

CLI::App* add_record_command(CLI::App& app, record_args& args);
// Exit codes as main's: 0 the trace was written, 2 bad input, 3 cannot bind or cannot write the trace.
int record_command(const record_args& args);

}  // namespace squall::cli
