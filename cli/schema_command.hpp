#pragma once
// `squall schema scenario|policy`: prints the JSON Schema of scenario or policy files, the very bytes of
// docs/schema/<name>.schema.json, embedded at build time (cli/embed_schema.cmake).

#include <CLI/CLI.hpp>
#include <string>
#include <string_view>

namespace squall::cli {

struct schema_args {
  std::string which;  // "scenario" or "policy"
};

// The embedded schema named "scenario" or "policy"; empty for another name.
std::string_view schema_text(std::string_view name);

CLI::App* add_schema_command(CLI::App& app, schema_args& args);
// Prints the schema on stdout: 0, or 3 when stdout cannot be written.
int schema_command(const schema_args& args);

}  // namespace squall::cli
