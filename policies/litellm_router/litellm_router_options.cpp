#include "policies/litellm_router/litellm_router_options.hpp"

#include <string>

namespace squall {
namespace {

constexpr std::size_t litellm_deployments_max = 16;
constexpr std::uint32_t litellm_retries_max = 20;
constexpr std::size_t litellm_fallbacks_max = 8;
constexpr std::int64_t litellm_per_minute_max = 1'000'000'000'000;  // far above any provider's limit

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

// An rpm or tpm limit: a non-negative integer, unset when its key is absent.
void read_per_minute(json_reader& reader, std::string_view key, std::optional<std::uint64_t>& out) {
  if (reader.child(key) == nullptr) return;
  std::int64_t value = 0;
  reader.integer(key, value, 0, litellm_per_minute_max);
  if (!reader.failed()) out = static_cast<std::uint64_t>(value);
}

// `group` is empty for the top-level group; a fallback group's name prefixes its deployments' names.
void read_deployments(json_reader& reader, std::string_view group, std::vector<litellm_deployment>& out) {
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
    d.weight_given = entry.child("weight") != nullptr;
    entry.number("weight", d.weight, 0.0, 1000000.0);
    if (!entry.failed() && d.weight <= 0.0) {
      entry.fail_key("weight", "expected a weight above 0, got 0: remove the deployment instead");
    }
    read_per_minute(entry, "rpm", d.rpm);
    read_per_minute(entry, "tpm", d.tpm);
    if (auto error = entry.finish()) {
      reader.fail(error->path, error->message);
      return;
    }
    d.name = (d.provider.empty() ? std::string("*") : d.provider) + "/" + (d.model.empty() ? "*" : d.model);
    if (!group.empty()) d.name = std::string(group) + ":" + d.name;
    deployments.push_back(std::move(d));
  }
  out = std::move(deployments);
}

void read_routing_strategy(json_reader& reader, litellm_router_options& options) {
  std::string strategy;
  reader.choice("routing_strategy", strategy,
                {"simple-shuffle", "least-busy", "latency-based-routing", "usage-based-routing", "usage-based-routing-v2"});
  if (strategy == "least-busy") options.routing_strategy = litellm_routing_strategy::least_busy;
  if (strategy == "latency-based-routing") options.routing_strategy = litellm_routing_strategy::latency_based;
  if (strategy == "usage-based-routing") options.routing_strategy = litellm_routing_strategy::usage_based;
  if (strategy == "usage-based-routing-v2") options.routing_strategy = litellm_routing_strategy::usage_based_v2;

  const json* args = reader.child("routing_strategy_args");
  if (args == nullptr || reader.failed()) return;
  json_reader inner(*args, json_path_key(reader.path(), "routing_strategy_args"));
  inner.number("ttl_s", options.routing_strategy_args.ttl_s, 0.0, 604800.0)
      .number("lowest_latency_buffer", options.routing_strategy_args.lowest_latency_buffer, 0.0, 1000.0);
  if (!inner.failed() && options.routing_strategy_args.ttl_s <= 0.0) {
    inner.fail_key("ttl_s", "expected a time to live above 0 s");
  }
  if (auto error = inner.finish()) reader.fail(error->path, error->message);
}

void read_fallbacks(json_reader& reader, litellm_router_options& options) {
  const json* list = reader.child("fallbacks");
  if (list == nullptr || reader.failed()) return;
  const std::string list_path = json_path_key(reader.path(), "fallbacks");
  if (!list->is_array() || list->size() > litellm_fallbacks_max) {
    reader.fail(list_path, "expected an array of at most 8 {\"model_group\", \"deployments\"} objects, got " +
                               (list->is_array() ? std::to_string(list->size()) + " entries" : describe_json(*list)));
    return;
  }
  std::vector<litellm_fallback_group> fallbacks;
  for (std::size_t i = 0; i < list->size(); ++i) {
    json_reader entry((*list)[i], json_path_index(list_path, i));
    litellm_fallback_group g;
    if (entry.required("model_group", "the fallback group's name (LiteLLM's model_name)") != nullptr) {
      entry.string("model_group", g.model_group);
      if (!entry.failed() && g.model_group.empty()) entry.fail_key("model_group", "expected a non-empty model group name");
    }
    if (!entry.failed()) read_deployments(entry, g.model_group, g.deployments);
    if (auto error = entry.finish()) {
      reader.fail(error->path, error->message);
      return;
    }
    fallbacks.push_back(std::move(g));
  }
  options.fallbacks = std::move(fallbacks);
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
  reader.string("model_group", options.model_group);
  read_deployments(reader, {}, options.deployments);
  read_routing_strategy(reader, options);
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
  read_fallbacks(reader, options);
  reader.count("max_fallbacks", options.max_fallbacks, 0, 100);
}

}  // namespace squall
