#include "sim/scenario/scenario_document.hpp"

#include <utility>

#include "documents/yaml_document.hpp"
#include "policies/core/json_parse.hpp"

namespace squall::sim {

bool is_yaml_file(const std::filesystem::path& file) {
  const std::string extension = file.extension().string();
  return extension == ".yaml" || extension == ".yml";
}

config_result<scenario_document> read_scenario_document(const std::filesystem::path& file,
                                                        const scenario_inputs& inputs) {
  auto with_file = [&](config_error e) {
    if (e.file.empty()) e.file = file.string();
    return e;
  };
  scenario_document out;
  if (is_yaml_file(file)) {
    documents::yaml_limits limits;
    limits.repeated_keys_refused = true;  // as the JSON reader refuses them
    auto read = documents::read_yaml_file(file, limits);
    if (!read) return with_file(std::move(read).error());
    out.document = std::move(*read);
  } else {
    auto read = read_json_file(file);
    if (!read) return with_file(std::move(read).error());
    out.document = std::move(*read);
  }

  auto used = documents::expand_environment(
      out.document, inputs.environment ? inputs.environment : documents::process_environment());
  if (!used) return with_file(std::move(used).error());
  out.variables = std::move(*used);

  // A --set into a configuration that names its policy file: the file's document takes the name's place.
  const std::filesystem::path base_dir = file.parent_path();
  const documents::reference_opener open = [&](const std::string& where,
                                               const std::string& text) -> config_result<json> {
    if (where.rfind("$.policies", 0) != 0) {
      return config_error{{}, where, "is the string " + describe_json(json(text)) +
                                         "; only a configuration's policy file name can be gone into"};
    }
    if (text.find('\0') != std::string::npos) return config_error{{}, where, "a policy file path with a NUL character"};
    auto policy = read_json_file(base_dir / text);
    if (!policy) {
      config_error e = std::move(policy).error();
      return config_error{{}, where, "policy file " + e.file + ": " + e.message};
    }
    return std::move(*policy);
  };
  for (const auto& set : inputs.sets) {
    if (auto e = documents::apply_set_override(out.document, set, open)) return with_file(std::move(*e));
  }
  return out;
}

}  // namespace squall::sim
