#include "cli/schema_command.hpp"

#include <iostream>

#include "cli/exit_codes.hpp"

namespace squall::cli {

CLI::App* add_schema_command(CLI::App& app, schema_args& args) {
  auto* cmd = app.add_subcommand("schema", "Print the JSON Schema of scenario or policy files, for editor completion");
  cmd->add_option("kind", args.which, "scenario or policy")->required()->check(CLI::IsMember({"scenario", "policy"}));
  cmd->footer(
      "The schema states the same rules as `squall validate` for every key, type, range and choice (a test\n"
      "checks that they agree); what it cannot state (a workload naming a provider that exists, a policy file\n"
      "that exists, probabilities that sum to at most 1) only `squall validate` checks.\n"
      "\n"
      "Editors find the schema from a line in the file or from their settings:\n"
      "  JSON scenario:  \"$schema\": \"./docs/schema/scenario.schema.json\"   (first key; squall ignores it)\n"
      "  JSON policies:  \"$schema\": \"./docs/schema/policy.schema.json\"\n"
      "  YAML scenarios (Red Hat's extension):\n"
      "                  # yaml-language-server: $schema=./docs/schema/scenario.schema.json\n"
      "  VS Code settings:  \"json.schemas\": [{\"fileMatch\": [\"scenarios/*.json\"],\n"
      "                                       \"url\": \"./docs/schema/scenario.schema.json\"}]\n"
      "The path is relative to the file. Outside the squall repository, write the schema once:\n"
      "  squall schema scenario > scenario.schema.json\n"
      "The files are JSON Schema draft-07, each self-contained (the scenario schema carries the policy one).");
  return cmd;
}

int schema_command(const schema_args& args) {
  std::cout << schema_text(args.which);
  std::cout.flush();
  return std::cout.good() ? exit_ok : exit_io_error;
}

}  // namespace squall::cli
