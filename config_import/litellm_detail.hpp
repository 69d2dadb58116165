#pragma once
// What the LiteLLM importer's two files share (litellm_config.cpp reads the settings, litellm_model_list.cpp
// the model_list); not a public header.

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "config_import/imported_policy.hpp"
#include "policies/core/config_error.hpp"

namespace squall::config_import::litellm_detail {

// The importer's state: the user's file, the first error, and the notes.
struct reader_state {
  std::string file;
  imported_policy out;
  std::optional<config_error> error;

  bool failed() const { return error.has_value(); }
  void fail(const std::string& path, const std::string& message) {
    if (!error) error = config_error{file, path, message};
  }
  void not_expressed(const std::string& path, const std::string& message) {
    out.not_expressed.push_back({path, message});
  }
  void approximated(const std::string& path, const std::string& message) {
    out.approximated.push_back({path, message});
  }
  void ignored(const std::string& path, const std::string& message) { out.ignored.push_back({path, message}); }
};

// One model_list entry as the policy's deployment, with the per-attempt timeout it sets (seconds, 0 when
// none) and where.
struct deployment {
  json policy_entry;  // {"provider", "model", "weight", "rpm", "tpm"}
  double timeout_s = 0.0;
  std::string timeout_path;
  std::string path;  // "$.model_list[3]"
};

// model_list's groups, in order of first appearance.
struct model_group {
  std::string name;
  std::vector<std::size_t> entries;  // indexes into model_list
};

// Reads $.model_list: every entry's model_name and litellm_params, each deployment's keys named in the
// notes. Fails on a missing or malformed list.
std::vector<model_group> read_model_list(reader_state& st, const json& model_list);

// The deployments of one group, each entry's keys named in the notes (only the groups the policy uses are
// read this way; the others are named as ignored, whole).
std::vector<deployment> read_group_deployments(reader_state& st, const json& model_list, const model_group& g);

// Python's truth value, which LiteLLM's `a or b` settings test.
bool truthy(const json& v);

// A setting the Router reads from router_settings first, then from the litellm module (litellm_settings):
// the value that applies and its path, or no value.
struct setting {
  const json* value = nullptr;
  std::string path;
};

// The chosen group's fallback groups (name, path in the user's file) from the `fallbacks` and
// `default_fallbacks` that apply, as LiteLLM's get_fallback_model_group finds them; the entries that match
// but lose are named as ignored (litellm_fallbacks.cpp).
std::vector<std::pair<std::string, std::string>> fallbacks_of(reader_state& st, const setting& fallbacks,
                                                               const setting& defaults, const std::string& group);

// A number of seconds or a count where the user may have written "os.environ/NAME", which LiteLLM's proxy
// resolves from its environment and squall cannot: fails with a message saying so.
bool refuse_environment_reference(reader_state& st, const json& value, const std::string& path);

}  // namespace squall::config_import::litellm_detail
