#pragma once
// `squall import-config portkey CONFIG [--out FILE]` and
// `squall import-config litellm CONFIG [--model-group NAME] [--out FILE]`: a gateway's own configuration as
// a squall policy file (docs/import-config.md), with everything it cannot express named on standard error.
#include <string>

namespace CLI {
class App;
}

namespace squall::cli {

struct import_config_args {
  std::string gateway;   // "portkey" or "litellm"
  std::string config_path;
  std::string out_path;     // default: CONFIG with its extension replaced by ".policy.json"
  std::string model_group;  // litellm only: the model_list group to import; empty = the only one
};

CLI::App* add_import_config_command(CLI::App& app, import_config_args& args);

// Exit codes: 0 written (what is not expressed is listed, and does not fail the import), 2 bad input (the
// config cannot be read, is not JSON or YAML, has a wrong value: the message names its JSON path, or the
// line and column of a YAML syntax error; a LiteLLM config of several groups without --model-group;
// --model-group given for portkey), 3 the policy file could not be written.
int import_config_command(const import_config_args& args);

}  // namespace squall::cli
