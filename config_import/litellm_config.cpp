#include "config_import/litellm_config.hpp"

#include <algorithm>
#include <array>
#include <optional>
#include <string_view>

#include "config_import/litellm_detail.hpp"
#include "policies/core/json_reader.hpp"
#include "policies/pipeline/pipeline.hpp"

namespace squall::config_import {
namespace {

using litellm_detail::deployment;
using litellm_detail::model_group;
using litellm_detail::reader_state;
using litellm_detail::refuse_environment_reference;
using litellm_detail::setting;
using litellm_detail::truthy;

// LiteLLM's defaults (litellm/router.py Router.__init__, litellm/__init__.py).
constexpr std::int64_t num_retries_default = 2;  // openai.DEFAULT_MAX_RETRIES, when neither setting is given
constexpr double request_timeout_s_default = 6000.0;  // litellm.request_timeout
constexpr std::size_t fallbacks_max = 8;               // the policy's limit (contract of litellm_router)
constexpr std::size_t deployments_max = 16;            // the policy's limit per group

constexpr std::array<std::string_view, 5> routing_strategies = {
    "simple-shuffle", "least-busy", "latency-based-routing", "usage-based-routing", "usage-based-routing-v2"};

// RetryPolicy's fields (litellm/types/router.py) and the policy's keys for them.
constexpr std::array<std::pair<std::string_view, std::string_view>, 6> retry_policy_keys = {{
    {"BadRequestErrorRetries", "bad_request"},
    {"AuthenticationErrorRetries", "authentication"},
    {"TimeoutErrorRetries", "timeout"},
    {"RateLimitErrorRetries", "rate_limit"},
    {"ContentPolicyViolationErrorRetries", "content_policy_violation"},
    {"InternalServerErrorRetries", "internal_server_error"},
}};

// `or_rule`: LiteLLM takes the router's value when truthy (`router or litellm.X`); else when not None.
setting resolve(reader_state& st, const json& router, const json& module, const std::string& router_key,
                const std::string& module_key, bool or_rule) {
  const std::string router_path = json_path_key("$.router_settings", router_key);
  const std::string module_path = json_path_key("$.litellm_settings", module_key);
  const json* r = router.contains(router_key) ? &router[router_key] : nullptr;
  const json* m = module.contains(module_key) ? &module[module_key] : nullptr;
  const bool r_used = r != nullptr && (or_rule ? truthy(*r) : !r->is_null());
  if (r_used) {
    if (m != nullptr) {
      st.ignored(module_path, "router_settings." + router_key + " comes first (Router.__init__)");
    }
    return {r, router_path};
  }
  if (r != nullptr && !r->is_null()) {
    st.ignored(router_path, describe_json(*r) + " is false to LiteLLM's `or`: " +
                                (m != nullptr ? "litellm_settings." + module_key + " applies" : "the default applies"));
  }
  if (m != nullptr && (or_rule ? truthy(*m) : !m->is_null())) return {m, module_path};
  return {};
}

std::optional<std::int64_t> read_count(reader_state& st, const setting& s, std::int64_t max, const std::string& what) {
  if (refuse_environment_reference(st, *s.value, s.path)) return std::nullopt;
  const json& v = *s.value;
  if (!v.is_number_integer() || (!v.is_number_unsigned() && v.get<long long>() < 0) ||
      (v.is_number_unsigned() ? v.get<unsigned long long>() > static_cast<unsigned long long>(max)
                              : v.get<long long>() > max)) {
    st.fail(s.path, "expected " + what + ", an integer from 0 to " + std::to_string(max) + ", got " + describe_json(v));
    return std::nullopt;
  }
  return v.get<std::int64_t>();
}

std::optional<double> read_seconds(reader_state& st, const setting& s, double max, const std::string& what) {
  if (refuse_environment_reference(st, *s.value, s.path)) return std::nullopt;
  const json& v = *s.value;
  if (!v.is_number() || v.get<double>() < 0 || v.get<double>() > max) {
    st.fail(s.path, "expected " + what + ", seconds from 0 to " + json(max).dump() + ", got " + describe_json(v));
    return std::nullopt;
  }
  return v.get<double>();
}

json read_retry_policy(reader_state& st, const json& v, const std::string& path) {
  json out = json::object();
  if (!v.is_object()) {
    st.fail(path, "expected a RetryPolicy such as {RateLimitErrorRetries: 3}, got " + describe_json(v));
    return out;
  }
  for (auto it = v.begin(); it != v.end() && !st.failed(); ++it) {
    const auto key = std::find_if(retry_policy_keys.begin(), retry_policy_keys.end(),
                                  [&](const auto& k) { return k.first == it.key(); });
    const std::string key_path = json_path_key(path, it.key());
    if (key == retry_policy_keys.end()) {
      st.not_expressed(key_path, "not a RetryPolicy field squall knows");
      continue;
    }
    if (it->is_null()) continue;  // None: the class falls back on num_retries, as an absent key does
    if (auto n = read_count(st, setting{&*it, key_path}, 20, "retries (squall's limit is 20)")) {
      out[std::string(key->second)] = *n;
    }
  }
  return out;
}

void note_top_level(reader_state& st, const json& config) {
  static constexpr std::array<std::string_view, 14> ignored_sections = {
      "environment_variables", "callback_settings", "assistant_settings", "finetune_settings", "files_settings",
      "default_vertex_config", "credential_list", "mcp_servers", "mcp_tools", "vector_store_registry",
      "search_tools", "prompts", "agent_list", "mcp_aliases"};
  for (auto it = config.begin(); it != config.end(); ++it) {
    const std::string& k = it.key();
    const std::string path = json_path_key("$", k);
    if (k == "model_list" || k == "router_settings" || k == "litellm_settings") continue;
    if (k == "general_settings") {
      if (it->is_object()) {
        for (auto g = it->begin(); g != it->end(); ++g) {
          st.ignored(json_path_key(path, g.key()), "a proxy server setting (keys, database, alerting, UI)");
        }
      } else if (!it->is_null()) {
        st.ignored(path, "proxy server settings");
      }
    } else if (k == "include") {
      st.not_expressed(path, "the included files are not read; import the config they make up together");
    } else if (k == "guardrails") {
      st.not_expressed(path, "guardrails check content; squall's validate policy covers empty, cut and non-JSON "
                             "answers only");
    } else if (std::find(ignored_sections.begin(), ignored_sections.end(), k) != ignored_sections.end()) {
      st.ignored(path, "a proxy feature outside the Router's calls");
    } else {
      st.not_expressed(path, "an unknown top-level section");
    }
  }
}

// The router_settings keys not read through resolve() below.
void note_router_settings(reader_state& st, const json& router) {
  static constexpr std::array<std::string_view, 16> read = {
      "num_retries", "retry_policy", "model_group_retry_policy", "retry_after", "cooldown_time", "allowed_fails",
      "disable_cooldowns", "routing_strategy", "routing_strategy_args", "fallbacks", "default_fallbacks",
      "max_fallbacks", "timeout", "context_window_fallbacks", "content_policy_fallbacks", "stream_timeout"};
  static constexpr std::array<std::string_view, 17> ignored_keys = {
      "redis_host", "redis_port", "redis_password", "redis_url", "cache_kwargs", "caching_groups", "client_ttl",
      "set_verbose", "debug_level", "alerting_config", "assistants_config", "search_tools",
      "router_general_settings", "ignore_invalid_deployments", "model_list", "cache_responses", "deployment_affinity"};
  for (auto it = router.begin(); it != router.end(); ++it) {
    const std::string& k = it.key();
    const std::string path = json_path_key("$.router_settings", k);
    if (std::find(read.begin(), read.end(), k) != read.end()) continue;
    if (k == "cache_responses" && truthy(*it)) {
      st.not_expressed(path, "a response cache (litellm.cache); add squall's cache policy to model it");
    } else if (std::find(ignored_keys.begin(), ignored_keys.end(), k) != ignored_keys.end()) {
      st.ignored(path, k.rfind("redis", 0) == 0 ? "Redis shares cooldowns and usage between proxy workers; each "
                                                  "squall pipeline keeps its own"
                                                : "not a policy's concern (logging, clients, alerting)");
    } else if (k == "enable_pre_call_checks" || k == "optional_pre_call_checks") {
      st.not_expressed(path, "pre-call checks (context window, region) filter deployments by the request");
    } else if (k == "allowed_fails_policy") {
      st.not_expressed(path, "allowed fails per error class; the policy has one allowed_fails");
    } else if (k == "model_group_alias") {
      st.not_expressed(path, "aliases route other request model names to groups; the workload picks the group");
    } else if (k == "enable_tag_filtering" || k == "tag_filtering") {
      st.not_expressed(path, "tag-based routing");
    } else if (k == "default_max_parallel_requests" || k == "polling_interval" || k == "default_priority") {
      st.not_expressed(path, "concurrency limits and the priority scheduler");
    } else if (k == "provider_budget_config") {
      st.not_expressed(path, "provider budgets");
    } else if (k == "default_litellm_params") {
      st.not_expressed(path, "request parameters for every call; the scenario's workload decides them");
    } else {
      st.ignored(path, "not an argument of Router.__init__: LiteLLM's proxy drops it too (get_config passes "
                       "router_settings keys that are Router arguments only)");
    }
  }
}

// The litellm_settings keys not read through resolve() below.
void note_litellm_settings(reader_state& st, const json& module) {
  static constexpr std::array<std::string_view, 8> read = {
      "num_retries", "request_timeout", "fallbacks", "default_fallbacks", "context_window_fallbacks",
      "content_policy_fallbacks", "allowed_fails", "max_fallbacks"};
  static constexpr std::array<std::string_view, 14> ignored_keys = {
      "callbacks", "success_callback", "failure_callback", "service_callback", "set_verbose", "json_logs",
      "drop_params", "modify_params", "turn_off_message_logging", "redact_user_api_key_info", "telemetry",
      "cache_params", "log_raw_request_response", "ssl_verify"};
  for (auto it = module.begin(); it != module.end(); ++it) {
    const std::string& k = it.key();
    const std::string path = json_path_key("$.litellm_settings", k);
    if (std::find(read.begin(), read.end(), k) != read.end()) continue;
    if (k == "cache") {
      if (truthy(*it)) st.not_expressed(path, "a response cache (litellm.cache); add squall's cache policy to model it");
      else st.ignored(path, "no cache");
    } else if (std::find(ignored_keys.begin(), ignored_keys.end(), k) != ignored_keys.end()) {
      st.ignored(path, "logging, callbacks and request shaping; not a policy's concern");
    } else {
      st.not_expressed(path, "a litellm module setting squall does not model");
    }
  }
}

}  // namespace

config_result<imported_policy> import_litellm_config(const json& config, const std::string& file,
                                                     const std::string& wanted_group) {
  reader_state st;
  st.file = file;
  if (!config.is_object()) {
    return config_error{file, "$", "expected a LiteLLM config mapping (model_list, router_settings, "
                                   "litellm_settings), got " + describe_json(config)};
  }
  if (!config.contains("model_list")) {
    return config_error{file, "$.model_list", "expected the model_list the Router routes over"};
  }
  const json empty = json::object();
  auto section = [&](const char* key) -> const json& {
    if (!config.contains(key) || config[key].is_null()) return empty;
    if (!config[key].is_object()) st.fail(json_path_key("$", key), "expected a mapping, got " + describe_json(config[key]));
    return config[key].is_object() ? config[key] : empty;
  };
  const json& router = section("router_settings");
  const json& module = section("litellm_settings");
  if (st.failed()) return *st.error;

  const json& model_list = config["model_list"];
  const std::vector<model_group> groups = litellm_detail::read_model_list(st, model_list);
  if (st.failed()) return *st.error;
  std::string names;
  for (const auto& g : groups) names += (names.empty() ? "" : ", ") + g.name;
  const model_group* chosen = nullptr;
  if (!wanted_group.empty()) {
    for (const auto& g : groups) {
      if (g.name == wanted_group) chosen = &g;
    }
    if (chosen == nullptr) {
      return config_error{file, "$.model_list", "no model_name \"" + wanted_group + "\"; the groups are: " + names};
    }
  } else if (groups.size() == 1) {
    chosen = &groups.front();
  } else {
    return config_error{file, "$.model_list", std::to_string(groups.size()) + " model groups (" + names +
                                                  "): choose one with --model-group NAME"};
  }
  const std::string& group = chosen->name;

  note_top_level(st, config);
  note_router_settings(st, router);
  note_litellm_settings(st, module);

  json policy = {{"type", "litellm_router"}, {"name", "litellm-router"}, {"model_group", group}};
  std::vector<deployment> primary = litellm_detail::read_group_deployments(st, model_list, *chosen);
  if (st.failed()) return *st.error;
  if (primary.size() > deployments_max) {
    return config_error{file, "$.model_list", "the group \"" + group + "\" has " + std::to_string(primary.size()) +
                                                  " deployments; squall's litellm_router holds at most 16"};
  }
  json deployments = json::array();
  for (const auto& d : primary) deployments.push_back(d.policy_entry);
  policy["deployments"] = std::move(deployments);

  // Retries: router_settings.num_retries when not None, else litellm.num_retries, else 2.
  if (setting s = resolve(st, router, module, "num_retries", "num_retries", false); s.value != nullptr) {
    if (auto n = read_count(st, s, 20, "the number of retries (squall's limit is 20)")) policy["num_retries"] = *n;
  } else {
    policy["num_retries"] = num_retries_default;
  }
  // retry_policy, replaced for this group by model_group_retry_policy[group] (get_num_retries_from_retry_policy).
  const json* group_retry = nullptr;
  if (router.contains("model_group_retry_policy") && !router["model_group_retry_policy"].is_null()) {
    const json& per_group = router["model_group_retry_policy"];
    const std::string path = "$.router_settings.model_group_retry_policy";
    if (!per_group.is_object()) {
      st.fail(path, "expected a mapping of model group to RetryPolicy, got " + describe_json(per_group));
    } else {
      for (auto it = per_group.begin(); it != per_group.end(); ++it) {
        if (it.key() == group) {
          group_retry = &*it;
          policy["retry_policy"] = read_retry_policy(st, *it, json_path_key(path, it.key()));
        } else {
          st.not_expressed(json_path_key(path, it.key()), "the retry policy of another group (the policy's fallback "
                                                          "groups retry by the primary group's)");
        }
      }
    }
  }
  if (router.contains("retry_policy") && !router["retry_policy"].is_null()) {
    if (group_retry != nullptr) {
      st.ignored("$.router_settings.retry_policy", "model_group_retry_policy." + group + " replaces it for this group");
    } else {
      policy["retry_policy"] = read_retry_policy(st, router["retry_policy"], "$.router_settings.retry_policy");
    }
  }
  if (router.contains("retry_after") && !router["retry_after"].is_null()) {
    if (auto s = read_seconds(st, {&router["retry_after"], "$.router_settings.retry_after"}, 3600.0,
                              "the minimum wait before a retry")) {
      policy["retry_after_s"] = *s;
    }
  }
  // cooldown_time or DEFAULT_COOLDOWN_TIME_SECONDS (5 s): 0 means the default.
  if (router.contains("cooldown_time") && !router["cooldown_time"].is_null()) {
    if (auto s = read_seconds(st, {&router["cooldown_time"], "$.router_settings.cooldown_time"}, 86400.0,
                              "the cooldown")) {
      if (*s > 0) policy["cooldown_time_s"] = *s;
      else st.ignored("$.router_settings.cooldown_time", "0 is false to LiteLLM's `or`: the default 5 s applies");
    }
  }
  if (setting s = resolve(st, router, module, "allowed_fails", "allowed_fails", false); s.value != nullptr) {
    if (auto n = read_count(st, s, 1000000, "the allowed fails")) policy["allowed_fails"] = *n;
  }
  if (router.contains("disable_cooldowns") && !router["disable_cooldowns"].is_null()) {
    if (!router["disable_cooldowns"].is_boolean()) {
      st.fail("$.router_settings.disable_cooldowns", "expected true or false, got " +
                                                         describe_json(router["disable_cooldowns"]));
    } else {
      policy["disable_cooldowns"] = router["disable_cooldowns"];
    }
  }

  // Routing strategy and its arguments.
  std::string strategy = "simple-shuffle";
  if (router.contains("routing_strategy") && !router["routing_strategy"].is_null()) {
    const json& v = router["routing_strategy"];
    const std::string path = "$.router_settings.routing_strategy";
    if (v == "cost-based-routing") {
      st.not_expressed(path, "cost-based-routing; the policy routes by simple-shuffle instead");
    } else if (!v.is_string() || std::find(routing_strategies.begin(), routing_strategies.end(),
                                           v.get_ref<const std::string&>()) == routing_strategies.end()) {
      st.fail(path, "expected simple-shuffle, least-busy, latency-based-routing, usage-based-routing, "
                    "usage-based-routing-v2 or cost-based-routing, got " + describe_json(v));
    } else {
      strategy = v.get<std::string>();
      policy["routing_strategy"] = strategy;
    }
  }
  if (router.contains("routing_strategy_args") && truthy(router["routing_strategy_args"])) {
    const json& args = router["routing_strategy_args"];
    const std::string path = "$.router_settings.routing_strategy_args";
    if (!args.is_object()) {
      st.fail(path, "expected a mapping, got " + describe_json(args));
    } else if (strategy != "latency-based-routing") {
      st.not_expressed(path, "arguments of " + strategy + "; the policy reads them for latency-based-routing only");
    } else {
      json out = json::object();
      for (auto it = args.begin(); it != args.end() && !st.failed(); ++it) {
        const std::string key_path = json_path_key(path, it.key());
        if (it.key() == "ttl" || it.key() == "lowest_latency_buffer") {
          if (!it->is_number() || it->get<double>() < 0) {
            st.fail(key_path, "expected a non-negative number, got " + describe_json(*it));
          } else {
            out[it.key() == "ttl" ? "ttl_s" : "lowest_latency_buffer"] = *it;
          }
        } else {
          st.not_expressed(key_path, "a latency-based-routing argument the policy does not read");
        }
      }
      policy["routing_strategy_args"] = std::move(out);
    }
  }
  if (router.contains("stream_timeout") && !router["stream_timeout"].is_null()) {
    st.not_expressed("$.router_settings.stream_timeout", "a timeout for streamed calls; squall's timeout policy has one");
  }
  if (st.failed()) return *st.error;

  // Fallbacks to other groups, each with its deployments.
  const setting fallbacks = resolve(st, router, module, "fallbacks", "fallbacks", true);
  const setting defaults = resolve(st, router, module, "default_fallbacks", "default_fallbacks", true);
  for (const char* k : {"context_window_fallbacks", "content_policy_fallbacks"}) {
    const setting s = resolve(st, router, module, k, k, true);
    if (s.value != nullptr) {
      st.not_expressed(s.path, std::string(k) == "context_window_fallbacks"
                                   ? "fallbacks on a context-window error; squall's requests never exceed one"
                                   : "fallbacks on a content-policy error; no squall outcome is one");
    }
  }
  std::vector<std::vector<deployment>> fallback_deployments;
  json fallback_list = json::array();
  for (const auto& fallback : litellm_detail::fallbacks_of(st, fallbacks, defaults, group)) {
    if (st.failed()) break;
    const std::string& name = fallback.first;
    const std::string& path = fallback.second;
    const auto g = std::find_if(groups.begin(), groups.end(), [&](const model_group& m) { return m.name == name; });
    if (name == group) {
      st.not_expressed(path, "the group falls back on itself; the policy's fallbacks are other groups");
    } else if (g == groups.end()) {
      st.not_expressed(path, "no model_list entry has this model_name: LiteLLM's fallback to it fails and moves on");
    } else if (fallback_list.size() == fallbacks_max) {
      st.not_expressed(path, "beyond the policy's 8 fallback groups");
    } else {
      auto ds = litellm_detail::read_group_deployments(st, model_list, *g);
      if (ds.size() > deployments_max) {
        st.fail(path, "the group \"" + name + "\" has " + std::to_string(ds.size()) +
                          " deployments; squall's litellm_router holds at most 16");
        break;
      }
      json entry = {{"model_group", name}, {"deployments", json::array()}};
      for (const auto& d : ds) entry["deployments"].push_back(d.policy_entry);
      fallback_list.push_back(std::move(entry));
      fallback_deployments.push_back(std::move(ds));
    }
  }
  if (st.failed()) return *st.error;
  if (!fallback_list.empty()) policy["fallbacks"] = std::move(fallback_list);
  if (setting s = resolve(st, router, module, "max_fallbacks", "max_fallbacks", false); s.value != nullptr) {
    if (auto n = read_count(st, s, 100, "the number of fallbacks tried")) policy["max_fallbacks"] = *n;
  }
  // The groups the policy does not use, named whole.
  const json used_fallbacks = policy.value("fallbacks", json::array());
  for (const auto& g : groups) {
    const bool used = &g == chosen || std::any_of(used_fallbacks.begin(), used_fallbacks.end(),
                                                  [&](const json& f) { return f["model_group"] == g.name; });
    if (used) continue;
    for (std::size_t i : g.entries) {
      st.ignored(json_path_index("$.model_list", i), "model group \"" + g.name +
                                                         "\": neither the imported group nor one of its fallbacks");
    }
  }

  // The per-attempt timeout: a deployment's own, else router_settings.timeout, else
  // litellm_settings.request_timeout, else litellm.request_timeout's default 6000 s.
  double group_timeout_s = request_timeout_s_default;
  std::string group_timeout_path;
  if (setting s = resolve(st, router, module, "timeout", "request_timeout", true); s.value != nullptr) {
    if (auto t = read_seconds(st, s, 86400.0, "the request timeout (squall's longest is one day)")) {
      if (*t < 0.001) {
        st.fail(s.path, "expected at least 0.001 s, the timeout policy's shortest, got " + describe_json(*s.value));
      }
      group_timeout_s = *t;
      group_timeout_path = s.path;
    }
  }
  if (st.failed()) return *st.error;
  double timeout_s = 0.0;
  std::vector<const deployment*> all;
  for (const auto& d : primary) all.push_back(&d);
  for (const auto& ds : fallback_deployments) {
    for (const auto& d : ds) all.push_back(&d);
  }
  for (const deployment* d : all) timeout_s = std::max(timeout_s, d->timeout_s > 0 ? d->timeout_s : group_timeout_s);
  for (const deployment* d : all) {
    const double own = d->timeout_s > 0 ? d->timeout_s : group_timeout_s;
    if (own != timeout_s) {
      st.approximated(d->timeout_s > 0 ? d->timeout_path : d->path,
                      "this deployment's attempts time out after " + json(own).dump() +
                          " s; the policy file has one timeout for every attempt, the longest (" +
                          json(timeout_s).dump() + " s)");
    }
  }
  json timeout = {{"type", "timeout"}, {"name", "litellm-timeout"}, {"timeout_ms", timeout_s * 1000.0}};
  if (group_timeout_path.empty() && std::none_of(all.begin(), all.end(), [](const deployment* d) { return d->timeout_s > 0; })) {
    st.approximated("$", "no timeout set: LiteLLM's default litellm.request_timeout, 6000 s, is written");
  }

  imported_policy out = std::move(st.out);
  out.document = {{"name", "litellm-" + group},
                  {"description", "Imported from the LiteLLM config " + file + " (model group " + group +
                                      ") by squall import-config; see docs/import-config.md for what each part becomes."},
                  {"policies", json::array({std::move(policy), std::move(timeout)})}};
  // What is written must load: the importer's own mistakes are caught here, not in the user's run.
  if (auto check = parse_pipeline(out.document, "$"); !check) {
    return config_error{file, "$", "the imported policy file does not load (" + check.error().describe() +
                                       "); please report it with this config"};
  }
  return out;
}

}  // namespace squall::config_import
