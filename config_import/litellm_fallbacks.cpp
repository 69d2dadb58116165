// LiteLLM's fallbacks across model groups: which list of fallback groups applies to the imported group,
// found as the Router finds it (router_utils/fallback_event_handlers.py, get_fallback_model_group).

#include <optional>

#include "config_import/litellm_detail.hpp"
#include "policies/core/json_reader.hpp"

namespace squall::config_import::litellm_detail {
namespace {

// The list of model group names a fallbacks entry gives, or nullopt (with an error).
std::optional<std::vector<std::pair<std::string, std::string>>> fallback_names(reader_state& st, const json& v,
                                                                                const std::string& path) {
  std::vector<std::pair<std::string, std::string>> out;  // name, path
  if (v.is_string()) {
    st.approximated(path, "a single name where LiteLLM's documentation writes a list; read as a list of one");
    out.emplace_back(v.get<std::string>(), path);
    return out;
  }
  if (!v.is_array()) {
    st.fail(path, "expected a list of model group names, got " + describe_json(v));
    return std::nullopt;
  }
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (!v[i].is_string() || v[i].get_ref<const std::string&>().empty()) {
      st.fail(json_path_index(path, i), "expected a model group name, got " + describe_json(v[i]));
      return std::nullopt;
    }
    out.emplace_back(v[i].get<std::string>(), json_path_index(path, i));
  }
  return out;
}

// Whether `key` is the group's name without a provider prefix ("gpt-4o" for "openai/gpt-4o"): LiteLLM's
// _check_stripped_model_group, which strips any of litellm.provider_list; squall strips what precedes the
// first "/".
bool stripped_match(const std::string& group, const std::string& key) {
  const std::size_t slash = group.find('/');
  return slash != std::string::npos && slash > 0 && group.substr(slash + 1) == key;
}

}  // namespace

// LiteLLM's `fallbacks` list: [{group: [fallback groups]}, ...], validated as Router.validate_fallbacks does
// (each item a dict of exactly one key). Returns the chosen group's list as get_fallback_model_group finds
// it: the first entry of the group's own name, else the last entry of its name without the provider
// prefix, else the last "*" entry, where default_fallbacks counts as a "*" entry after all the others (the
// Router appends it as {"*": [...]}).
std::vector<std::pair<std::string, std::string>> fallbacks_of(reader_state& st, const setting& fallbacks,
                                                               const setting& defaults, const std::string& group) {
  std::optional<std::vector<std::pair<std::string, std::string>>> own, stripped, generic;
  std::vector<std::string> losing;  // the paths of entries that match but lose
  std::string generic_path, stripped_path;
  if (fallbacks.value != nullptr) {
    const json& list = *fallbacks.value;
    if (!list.is_array()) {
      st.fail(fallbacks.path, "expected a list such as [{\"gpt-4o\": [\"claude\"]}], got " + describe_json(list));
      return {};
    }
    for (std::size_t i = 0; i < list.size() && !st.failed(); ++i) {
      const std::string item_path = json_path_index(fallbacks.path, i);
      if (!list[i].is_object() || list[i].size() != 1) {
        st.fail(item_path, "expected a mapping of exactly one model group to its fallbacks (as "
                           "Router.validate_fallbacks requires), got " + describe_json(list[i]));
        return {};
      }
      const std::string& key = list[i].begin().key();
      const std::string value_path = json_path_key(item_path, key);
      if (key == group) {
        if (own) {
          st.ignored(item_path, "a second entry for the group; LiteLLM uses the first");
        } else {
          own = fallback_names(st, list[i].begin().value(), value_path);
        }
      } else if (key == "*" || stripped_match(group, key)) {
        auto& slot = key == "*" ? generic : stripped;
        auto& slot_path = key == "*" ? generic_path : stripped_path;
        if (slot) losing.push_back(slot_path);
        slot = fallback_names(st, list[i].begin().value(), value_path);
        slot_path = item_path;
      } else {
        st.ignored(item_path, "the fallbacks of another model group");
      }
    }
  }
  if (st.failed()) return {};
  if (defaults.value != nullptr) {
    if (generic) losing.push_back(generic_path);
    generic = fallback_names(st, *defaults.value, defaults.path);
    generic_path = defaults.path;
    if (!generic) return {};
  }
  const char* why = "another entry matches the group before it (get_fallback_model_group: its own name first, "
                    "then its name without the provider prefix, then the last \"*\")";
  std::optional<std::vector<std::pair<std::string, std::string>>> chosen;
  if (own) {
    chosen = own;
    if (stripped) losing.push_back(stripped_path);
    if (generic) losing.push_back(generic_path);
  } else if (stripped) {
    chosen = stripped;
    if (generic) losing.push_back(generic_path);
  } else {
    chosen = generic;
  }
  for (const auto& path : losing) st.ignored(path, why);
  return chosen ? *chosen : std::vector<std::pair<std::string, std::string>>{};
}

bool truthy(const json& v) {
  if (v.is_null()) return false;
  if (v.is_boolean()) return v.get<bool>();
  if (v.is_number()) return v.get<double>() != 0.0;
  if (v.is_string() || v.is_array() || v.is_object()) return !v.empty();
  return true;
}

}  // namespace squall::config_import::litellm_detail
