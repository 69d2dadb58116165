#pragma once
// `squall serve SCENARIO`: the scenario's providers as HTTP fake providers (fake_providers/serve.hpp).

#include <CLI/CLI.hpp>
#include <cstdint>
#include <optional>
#include <string>

namespace squall::cli {

struct serve_args {
  std::string scenario;
  std::string host = "127.0.0.1";
  std::uint16_t port = 0;
  std::optional<std::uint64_t> seed;
  std::optional<double> for_s;
  bool allow_remote = false;
  bool tls = false;
  std::string cert_file;
  std::string key_file;
  std::string ca_out;
};

CLI::App* add_serve_command(CLI::App& app, serve_args& args);
// Exit codes as main's: 0 stopped cleanly, 2 bad input (an unreadable or unusable --cert/--key
// included), 3 a listener could not bind or the generated CA certificate could not be written.
int serve_command(const serve_args& args);

}  // namespace squall::cli
