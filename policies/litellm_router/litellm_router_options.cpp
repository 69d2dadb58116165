#include "policies/litellm_router/litellm_router_options.hpp"

#include <string>

namespace squall {
namespace {

constexpr std::size_t litellm_deployments_max = 16;
constexpr std::uint32_t litellm_retries_max = 20;

// A provider or model name: a non-empty string when present.
void read_deployment_name(json_reader& reader, std::string_view key, std::string& out) {
  reader.string(key, out);
  if (!reader.failed() && out.empty() && reader.child(key) != nullptr) {
    reader.fail_key(key, "expected a non-empty name; omit the key to keep the request's own " + std::string(key));
  }
}

// A retry count that stays unset when its key is absent, so that the class falls back on num_retries.
void read_optional_retries(json_reader& reader, std::string_view key, std::optional<std::uint32_t>& out) {
  if (reader.child(key) == nullptr) return;
  std::uint32_t value = 0;
  reader.count(key, value, 0, litellm_retries_max);
  if (!reader.failed()) out = value;
}

void read_deployments(json_reader& reader, litellm_router_options& options) {
  const json* list = reader.required("deployments", "the model group's {\"provider\", \"model\", \"weight\"} deployments");
  if (list == nullptr || reader.failed()) return;
  const std::string list_path = json_path_key(reader.path(), "deployments");
  if (!list->is_array() || list->empty() || list->size() > litellm_deployments_max) {
    reader.fail(list_path, "expected an array of 1 to 16 {\"provider\", \"model\", \"weight\"} objects, got " +
                               (list->is_array() ? std::to_string(list->size()) + " entries" : describe_json(*list)));
    return;
  }
  std::vector<litellm_deployment> deployments;
  for (std::size_t i = 0; i < list->size(); ++i) {
    json_reader entry((*list)[i], json_path_index(list_path, i));
    litellm_deployment d;
    read_deployment_name(entry, "provider", d.provider);
    read_deployment_name(entry, "model", d.model);
    entry.number("weight", d.weight, 0.0, 1000000.0);
    if (!entry.failed() && d.weight <= 0.0) {
      entry.fail_key("weight", "expected a weight above 0, got 0: remove the deployment instead");
    }
    if (auto error = entry.finish()) {
      reader.fail(error->path, error->message);
      return;
    }
    d.name = (d.provider.empty() ? std::string("*") : d.provider) + "/" + (d.model.empty() ? "*" : d.model);
    deployments.push_back(std::move(d));
  }
  options.deployments = std::move(deployments);
}

void read_retry_policy(json_reader& reader, litellm_retry_policy& policy) {
  const json* value = reader.child("retry_policy");
  if (value == nullptr || reader.failed()) return;
  json_reader inner(*value, json_path_key(reader.path(), "retry_policy"));
  read_optional_retries(inner, "bad_request", policy.bad_request);
  read_optional_retries(inner, "authentication", policy.authentication);
  read_optional_retries(inner, "timeout", policy.timeout);
  read_optional_retries(inner, "rate_limit", policy.rate_limit);
  read_optional_retries(inner, "content_policy_violation", policy.content_policy_violation);
  read_optional_retries(inner, "internal_server_error", policy.internal_server_error);
  if (auto error = inner.finish()) reader.fail(error->path, error->message);
}

}  // namespace

void read_litellm_router_options(json_reader& reader, litellm_router_options& options) {
  read_deployments(reader, options);
  reader.count("num_retries", options.num_retries, 0, litellm_retries_max);
  read_retry_policy(reader, options.retry_policy);
  reader.number("retry_after_s", options.retry_after_s, 0.0, 3600.0)
      .number("cooldown_time_s", options.cooldown_time_s, 0.0, 86400.0);
  if (!reader.failed() && options.cooldown_time_s <= 0.0) {
    reader.fail_key("cooldown_time_s", "expected a cooldown above 0 s; set \"disable_cooldowns\": true to turn cooldowns off");
  }
  reader.count("allowed_fails", options.allowed_fails, 0, 1000000)
      .count("failure_share_requests_min", options.failure_share_requests_min, 0, 1000000)
      .boolean("disable_cooldowns", options.disable_cooldowns);
}

}  // namespace squall
