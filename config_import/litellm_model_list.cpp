// LiteLLM's model_list: entries grouped by model_name, each entry's litellm_params as one deployment of
// the litellm_router policy, and every key the policy does not model named with its path.

#include <algorithm>
#include <array>
#include <string_view>

#include "config_import/litellm_detail.hpp"
#include "policies/core/json_reader.hpp"

namespace squall::config_import::litellm_detail {
namespace {

constexpr double weight_max = 1000000.0;
constexpr double timeout_s_max = 86400.0;  // the timeout policy's longest, one day

// Where and how to reach the provider: not a policy's concern.
constexpr std::array<std::string_view, 24> connection_keys = {
    "api_key",        "api_base",         "api_version",       "base_url",
    "organization",   "azure_ad_token",   "azure_ad_token_provider", "tenant_id",
    "client_id",      "client_secret",    "aws_access_key_id", "aws_secret_access_key",
    "aws_session_token", "aws_region_name", "aws_profile_name", "aws_role_name",
    "vertex_project", "vertex_location",  "vertex_credentials", "region_name",
    "extra_headers",  "headers",          "litellm_credential_name", "use_in_pass_through"};

bool is_connection_key(std::string_view k) {
  return std::find(connection_keys.begin(), connection_keys.end(), k) != connection_keys.end();
}

bool non_negative_integer(const json& v) {
  return v.is_number_integer() && (v.is_number_unsigned() || v.get<long long>() >= 0);
}

// "azure/gpt-4o" -> provider "azure", model "gpt-4o" (LiteLLM splits at the first "/": the rest may hold
// more, "bedrock/anthropic.claude-3/v1"). A model without "/" keeps the request's provider.
void read_model_name(reader_state& st, const json& v, const std::string& path, const json* custom_provider,
                     json& entry) {
  if (!v.is_string() || v.get_ref<const std::string&>().empty()) {
    st.fail(path, "expected the deployment's model, such as \"azure/gpt-4o\", got " + describe_json(v));
    return;
  }
  if (refuse_environment_reference(st, v, path)) return;
  const std::string& text = v.get_ref<const std::string&>();
  const std::size_t slash = text.find('/');
  if (custom_provider != nullptr && custom_provider->is_string() && !custom_provider->get<std::string>().empty()) {
    entry["provider"] = custom_provider->get<std::string>();
    entry["model"] = text;
    return;
  }
  if (slash == std::string::npos) {
    entry["model"] = text;
    st.approximated(path, "no provider prefix: LiteLLM infers the provider from the model name; the deployment "
                          "keeps the request's provider");
    return;
  }
  if (slash == 0 || slash + 1 == text.size()) {
    st.fail(path, "expected \"provider/model\" with both parts, got " + describe_json(v));
    return;
  }
  entry["provider"] = text.substr(0, slash);
  entry["model"] = text.substr(slash + 1);
}

void read_rate(reader_state& st, const json& v, const std::string& path, const char* key, json& entry) {
  if (refuse_environment_reference(st, v, path)) return;
  if (!non_negative_integer(v)) {
    st.fail(path, std::string("expected a non-negative integer (") + key + " of this deployment), got " +
                      describe_json(v));
    return;
  }
  entry[key] = v;
}

void read_timeout(reader_state& st, const json& v, const std::string& path, deployment& d) {
  if (refuse_environment_reference(st, v, path)) return;
  if (v.is_null()) return;
  // 0 is "no timeout here" to LiteLLM (below); else a millisecond at least, the timeout policy's shortest.
  if (!v.is_number() || v.get<double>() < 0 || v.get<double>() > timeout_s_max ||
      (v.get<double>() > 0 && v.get<double>() < 0.001)) {
    st.fail(path, "expected 0, or seconds from 0.001 to 86400 (the timeout policy's range), got " + describe_json(v));
    return;
  }
  // LiteLLM picks the first truthy of timeout, request_timeout, router timeout (Router._get_non_stream_timeout):
  // 0 passes to the next.
  if (v.get<double>() == 0.0) {
    st.ignored(path, "0 is false to LiteLLM's `or`: the next timeout setting applies");
    return;
  }
  if (d.timeout_s == 0.0) {
    d.timeout_s = v.get<double>();
    d.timeout_path = path;
  } else {
    st.ignored(path, "litellm_params.timeout comes first (Router._get_non_stream_timeout)");
  }
}

deployment read_deployment(reader_state& st, const json& entry, const std::string& path) {
  deployment d;
  d.path = path;
  d.policy_entry = json::object();
  const std::string params_path = json_path_key(path, "litellm_params");
  const json& params = entry["litellm_params"];
  const json* custom_provider = params.contains("custom_llm_provider") ? &params["custom_llm_provider"] : nullptr;
  if (!params.contains("model")) {
    st.fail(params_path, "expected a \"model\", such as \"azure/gpt-4o\"");
    return d;
  }
  read_model_name(st, params["model"], json_path_key(params_path, "model"), custom_provider, d.policy_entry);
  // timeout before request_timeout whatever their order in the file.
  for (const char* key : {"timeout", "request_timeout"}) {
    if (params.contains(key)) read_timeout(st, params[key], json_path_key(params_path, key), d);
  }
  for (auto it = params.begin(); it != params.end() && !st.failed(); ++it) {
    const std::string& k = it.key();
    const std::string key_path = json_path_key(params_path, k);
    if (k == "model" || k == "custom_llm_provider" || k == "timeout" || k == "request_timeout") {
      continue;
    } else if (k == "weight") {
      if (refuse_environment_reference(st, *it, key_path)) break;
      if (!it->is_number() || it->get<double>() <= 0 || it->get<double>() > weight_max) {
        st.fail(key_path, "expected a weight above 0, at most 1000000, got " + describe_json(*it));
      } else {
        d.policy_entry["weight"] = *it;
      }
    } else if (k == "rpm" || k == "tpm") {
      read_rate(st, *it, key_path, k.c_str(), d.policy_entry);
    } else if (k == "stream_timeout") {
      st.not_expressed(key_path, "a timeout for streamed calls; squall's timeout policy has one timeout");
    } else if (k == "max_retries") {
      st.not_expressed(key_path, "the provider SDK's own retries inside each attempt (the Router sets 0 by "
                                 "default); the policy file retries only at the Router");
    } else if (k == "order") {
      st.not_expressed(key_path, "deployment priority (lower order first); simple-shuffle ignores it here");
    } else if (k == "max_parallel_requests") {
      st.not_expressed(key_path, "a per-deployment concurrency limit");
    } else if (k == "tags") {
      st.not_expressed(key_path, "tag-based routing");
    } else if (k == "input_cost_per_token" || k == "output_cost_per_token") {
      st.ignored(key_path, "prices come from the scenario's provider models");
    } else if (is_connection_key(k)) {
      st.ignored(key_path, "where and how to reach the provider, not a policy");
    } else {
      st.not_expressed(key_path, "a request parameter the deployment sets; the scenario's workload decides it");
    }
  }
  for (auto it = entry.begin(); it != entry.end() && !st.failed(); ++it) {
    const std::string& k = it.key();
    const std::string key_path = json_path_key(path, k);
    if (k == "model_name" || k == "litellm_params") continue;
    if (k == "rpm" || k == "tpm") {
      if (d.policy_entry.contains(k)) {
        st.ignored(key_path, "litellm_params." + k + " is the one read");
      } else {
        read_rate(st, *it, key_path, k.c_str(), d.policy_entry);
      }
    } else if (k == "model_info") {
      st.ignored(key_path, "the model's metadata (id, mode, costs); not a policy");
    } else {
      st.not_expressed(key_path, "an unknown model_list entry key");
    }
  }
  return d;
}

}  // namespace

bool refuse_environment_reference(reader_state& st, const json& value, const std::string& path) {
  if (value.is_string() && value.get_ref<const std::string&>().rfind("os.environ/", 0) == 0) {
    st.fail(path, "an os.environ/ reference: LiteLLM reads it from the proxy's environment, which squall does "
                  "not have; write the value itself");
    return true;
  }
  return false;
}

std::vector<model_group> read_model_list(reader_state& st, const json& model_list) {
  std::vector<model_group> groups;
  if (!model_list.is_array() || model_list.empty()) {
    st.fail("$.model_list", "expected a non-empty list of {model_name, litellm_params} entries, got " +
                                describe_json(model_list));
    return groups;
  }
  for (std::size_t i = 0; i < model_list.size() && !st.failed(); ++i) {
    const std::string path = json_path_index("$.model_list", i);
    const json& entry = model_list[i];
    if (!entry.is_object()) {
      st.fail(path, "expected a {model_name, litellm_params} entry, got " + describe_json(entry));
      break;
    }
    if (!entry.contains("model_name") || !entry["model_name"].is_string() ||
        entry["model_name"].get_ref<const std::string&>().empty()) {
      st.fail(json_path_key(path, "model_name"), "expected the group's name, a non-empty string");
      break;
    }
    if (!entry.contains("litellm_params") || !entry["litellm_params"].is_object()) {
      st.fail(json_path_key(path, "litellm_params"), "expected an object with the deployment's \"model\"");
      break;
    }
    const std::string& name = entry["model_name"].get_ref<const std::string&>();
    auto group = std::find_if(groups.begin(), groups.end(), [&](const model_group& g) { return g.name == name; });
    if (group == groups.end()) {
      groups.push_back(model_group{name, {}});
      group = groups.end() - 1;
    }
    group->entries.push_back(i);
  }
  return groups;
}

std::vector<deployment> read_group_deployments(reader_state& st, const json& model_list, const model_group& g) {
  std::vector<deployment> out;
  for (std::size_t i : g.entries) {
    if (st.failed()) break;
    out.push_back(read_deployment(st, model_list[i], json_path_index("$.model_list", i)));
  }
  return out;
}

}  // namespace squall::config_import::litellm_detail
