#include "cli/import_config_command.hpp"

#include <CLI/CLI.hpp>
#include <filesystem>
#include <iostream>

#include "cli/exit_codes.hpp"
#include "cli/output_files.hpp"
#include "config_import/litellm_config.hpp"
#include "config_import/portkey_config.hpp"
#include "documents/yaml_document.hpp"
#include "policies/core/json_parse.hpp"

namespace squall::cli {
namespace {

void print_notes(const char* heading, const std::vector<config_import::import_note>& notes) {
  if (notes.empty()) return;
  std::cerr << heading << "\n";
  for (const auto& n : notes) std::cerr << "  " << n.path << ": " << n.message << "\n";
}

}  // namespace

CLI::App* add_import_config_command(CLI::App& app, import_config_args& args) {
  auto* cmd = app.add_subcommand(
      "import-config",
      "Turn a gateway's configuration (Portkey config JSON, LiteLLM config.yaml) into a squall policy file");
  cmd->add_option("gateway", args.gateway, "Whose configuration: portkey (JSON) or litellm (YAML)")
      ->required()
      ->check(CLI::IsMember({"portkey", "litellm"}));
  cmd->add_option("config", args.config_path, "The configuration file")->required();
  cmd->add_option("--out", args.out_path, "The policy file to write (default: CONFIG with extension .policy.json)");
  cmd->add_option("--model-group", args.model_group,
                  "litellm: the model_list group (model_name) to import; required when the config has several");
  return cmd;
}

namespace {

config_result<config_import::imported_policy> import_file(const import_config_args& args) {
  if (args.gateway == "litellm") {
    auto document = documents::read_yaml_file(args.config_path);
    if (!document) return std::move(document).error();
    return config_import::import_litellm_config(*document, args.config_path, args.model_group);
  }
  auto document = read_json_file(args.config_path);
  if (!document) return std::move(document).error();
  return config_import::import_portkey_config(*document, args.config_path);
}

}  // namespace

int import_config_command(const import_config_args& args) {
  if (args.gateway != "litellm" && !args.model_group.empty()) {
    std::cerr << "squall: error: --model-group is for litellm configs; a " << args.gateway
              << " config has no model groups\n";
    return exit_bad_input;
  }
  auto imported = import_file(args);
  if (!imported) {
    std::cerr << "squall: error: " << imported.error().describe() << "\n";
    return exit_bad_input;
  }
  std::string out = args.out_path;
  if (out.empty()) out = std::filesystem::path(args.config_path).replace_extension(".policy.json").string();
  std::error_code ec;  // a file that does not exist yet is not the configuration
  if (std::filesystem::equivalent(out, args.config_path, ec)) {
    std::cerr << "squall: error: --out " << out << " is the configuration itself; name another file\n";
    return exit_bad_input;
  }
  std::string error;
  if (!write_atomically(out, imported->document.dump(2) + "\n", error)) {
    std::cerr << "squall: error: " << error << "\n";
    return exit_io_error;
  }
  print_notes("not expressed (the gateway does this; the policy file does not):", imported->not_expressed);
  print_notes("approximated:", imported->approximated);
  print_notes("ignored (not a policy's concern):", imported->ignored);
  std::cout << "wrote " << out << " (" << imported->document["policies"].size() << " policies";
  if (!imported->not_expressed.empty()) std::cout << ", " << imported->not_expressed.size() << " things not expressed";
  std::cout << ")\n";
  return exit_ok;
}

}  // namespace squall::cli
