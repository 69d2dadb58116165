#include "config_import/portkey_config.hpp"

#include <algorithm>
#include <array>
#include <set>

#include "policies/core/classify.hpp"
#include "policies/core/json_reader.hpp"
#include "policies/pipeline/pipeline.hpp"

namespace squall::config_import {
namespace {

// Portkey's defaults (its gateway's retry handler).
const std::vector<int> retry_statuses_default = {429, 500, 502, 503, 504};
constexpr int attempts_max_portkey = 5;

// The statuses a provider answers that squall tells apart; what a status list means is judged on these.
constexpr std::array<int, 15> known_statuses = {400, 401, 403, 404, 408, 409, 413, 422,
                                                429, 500, 501, 502, 503, 504, 529};

// Reads the importer's state: the user's file, the path of each key, and the notes.
struct reader_state {
  std::string file;
  imported_policy out;
  std::optional<config_error> error;

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

// An array of HTTP statuses at `path`, or nullopt (with an error) when it is not one.
std::optional<std::vector<int>> read_statuses(reader_state& st, const json& v, const std::string& path) {
  if (!v.is_array()) {
    st.fail(path, "expected an array of HTTP statuses, got " + describe_json(v));
    return std::nullopt;
  }
  std::vector<int> out;
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (!v[i].is_number_integer() || v[i].get<long long>() < 100 || v[i].get<long long>() > 599) {
      st.fail(json_path_index(path, i), "expected an HTTP status from 100 to 599, got " + describe_json(v[i]));
      return std::nullopt;
    }
    out.push_back(static_cast<int>(v[i].get<long long>()));
  }
  return out;
}

json status_list(const std::vector<int>& statuses) {
  json out = json::array();
  for (int s : statuses) out.push_back(s);
  return out;
}

// The retry policy of a Portkey "retry" object at `path`.
std::optional<json> read_retry(reader_state& st, const json& retry, const std::string& path) {
  if (!retry.is_object()) {
    st.fail(path, "expected an object such as {\"attempts\": 3}, got " + describe_json(retry));
    return std::nullopt;
  }
  std::int64_t attempts = 0;
  std::vector<int> statuses = retry_statuses_default;
  bool retry_after = true;
  for (auto it = retry.begin(); it != retry.end(); ++it) {
    const std::string key_path = json_path_key(path, it.key());
    if (it.key() == "attempts") {
      if (!it->is_number_integer() || it->get<long long>() < 0 || it->get<long long>() > attempts_max_portkey) {
        st.fail(key_path, "expected an integer from 0 to 5 (Portkey's limit), got " + describe_json(*it));
        return std::nullopt;
      }
      attempts = it->get<std::int64_t>();
    } else if (it.key() == "on_status_codes") {
      auto s = read_statuses(st, *it, key_path);
      if (!s) return std::nullopt;
      statuses = std::move(*s);
    } else if (it.key() == "use_retry_after_header") {
      if (!it->is_boolean()) {
        st.fail(key_path, "expected true or false, got " + describe_json(*it));
        return std::nullopt;
      }
      retry_after = it->get<bool>();
    } else {
      st.not_expressed(key_path, "an unknown retry setting; the retry does without it");
    }
  }
  if (attempts == 0) return json();  // no retries: no retry policy
  return json{{"type", "retry"},
              {"name", "portkey-retry"},
              {"attempts_max", attempts + 1},
              {"backoff", "exponential"},
              {"delay_ms_base", 1000},
              {"multiplier", 2},
              {"delay_ms_max", 3600000},
              {"jitter", "none"},
              {"retry_on", json::array()},
              {"retry_on_status", status_list(statuses)},
              {"retry_after", retry_after ? "honor" : "ignore"},
              {"retry_after_on_status", json::array({429})},
              {"retry_after_ms_max", 59999},
              {"retry_after_over_max", "backoff"},
              {"backoff_after_hint", "none"},
              {"should_retry_header", "ignore"},
              {"ratelimit_reset", "ignore"}};
}

// The classes squall falls back on for Portkey's on_status_codes: a class is listed when any of its
// statuses is; a class only partly listed is an approximation, named.
json fallback_classes(reader_state& st, const std::vector<int>& statuses, const std::string& path) {
  std::set<std::string> classes;
  for (std::size_t i = 0; i < statuses.size(); ++i) {
    const int s = statuses[i];
    if (s >= 200 && s < 300) {
      st.not_expressed(json_path_index(path, i), "a success status: squall never falls back on an answer");
      continue;
    }
    const outcome_class c = classify_http(s);
    classes.insert(std::string(to_string(c)));
    if (s == 429) classes.insert("quota");  // a 429 whatever its body says
  }
  for (const auto& name : classes) {
    std::vector<int> missing;
    for (int s : known_statuses) {
      if (to_string(classify_http(s)) == name && std::find(statuses.begin(), statuses.end(), s) == statuses.end()) {
        missing.push_back(s);
      }
    }
    if (!missing.empty()) {
      std::string list;
      for (int s : missing) list += (list.empty() ? "" : ", ") + std::to_string(s);
      st.approximated(path, "squall falls back by outcome class: " + name + " also covers " + list +
                                ", which this list leaves out");
    }
  }
  json out = json::array();
  for (const auto& name : classes) out.push_back(name);
  return out;
}

// The breaker of a Portkey strategy.cb_config at `path`, as the "breaker" object of squall's fallback and
// loadbalance policies (policies/core/target_breaker.hpp); json() when Portkey would ignore it. Read from
// Portkey's gateway 2.2.3 (branch 2.0.0 of Portkey-AI/gateway, src/utils/circuitBreaker.ts,
// extractCircuitBreakerConfigs): a cb_config counts only with a failure_threshold or a
// failure_threshold_percentage and a cooldown_interval, which is raised to at least 30 s; minimum_requests
// 0 or absent means 5.
std::optional<json> read_cb_config(reader_state& st, const json& cb, const std::string& path) {
  if (!cb.is_object()) {
    st.fail(path, "expected an object such as {\"failure_threshold\": 5, \"cooldown_interval\": 60000}, got " +
                      describe_json(cb));
    return std::nullopt;
  }
  std::int64_t failures = 0;
  double percent = 0.0;
  double cooldown_ms = 0.0;
  std::int64_t requests_min = 0;
  std::optional<std::vector<int>> statuses;
  for (auto it = cb.begin(); it != cb.end(); ++it) {
    const std::string key_path = json_path_key(path, it.key());
    const std::string& k = it.key();
    if (k == "failure_threshold" || k == "minimum_requests") {
      if (!it->is_number_integer() || it->get<long long>() < 0 || it->get<long long>() > 100000) {
        st.fail(key_path, "expected an integer from 0 to 100000, got " + describe_json(*it));
        return std::nullopt;
      }
      (k == "failure_threshold" ? failures : requests_min) = it->get<std::int64_t>();
    } else if (k == "failure_threshold_percentage") {
      if (!it->is_number() || it->get<double>() < 0 || it->get<double>() > 100) {
        st.fail(key_path, "expected a percentage from 0 to 100, got " + describe_json(*it));
        return std::nullopt;
      }
      percent = it->get<double>();
    } else if (k == "cooldown_interval") {
      if (!it->is_number() || it->get<double>() < 0 || it->get<double>() > 86400000) {
        st.fail(key_path, "expected milliseconds from 0 to 86400000, got " + describe_json(*it));
        return std::nullopt;
      }
      cooldown_ms = it->get<double>();
    } else if (k == "failure_status_codes") {
      statuses = read_statuses(st, *it, key_path);
      if (!statuses) return std::nullopt;
    } else {
      st.not_expressed(key_path, "an unknown circuit breaker setting");
    }
  }
  if ((failures == 0 && percent <= 0.0) || cooldown_ms <= 0.0) {
    st.ignored(path, "Portkey itself ignores a cb_config without a failure_threshold or "
                     "failure_threshold_percentage and a cooldown_interval: no breaker");
    return json();
  }
  json breaker = json::object();
  if (failures > 0) breaker["failures_to_open"] = failures;
  if (percent > 0.0) {
    breaker["failure_percent_to_open"] = percent;
    breaker["requests_min"] = requests_min > 0 ? requests_min : 5;
  }
  breaker["cooldown_ms"] = std::max(cooldown_ms, 30000.0);
  if (statuses) breaker["failure_on_status"] = status_list(*statuses);
  return breaker;
}

struct target_info {
  std::string provider;
  std::string model;
  bool by_virtual_key = false;  // named by virtual_key alone: Portkey 2.2.3 keeps a breaker only for these
  double weight = 1.0;          // Portkey's default
};

std::optional<target_info> read_target(reader_state& st, const json& t, const std::string& path,
                                       const json* top_retry) {
  if (!t.is_object()) {
    st.fail(path, "expected a target object such as {\"provider\": \"openai\"}, got " + describe_json(t));
    return std::nullopt;
  }
  target_info info;
  for (auto it = t.begin(); it != t.end(); ++it) {
    const std::string key_path = json_path_key(path, it.key());
    const std::string& k = it.key();
    if (k == "provider" || k == "virtual_key") {
      if (!it->is_string() || it->get_ref<const std::string&>().empty()) {
        st.fail(key_path, "expected a non-empty string, got " + describe_json(*it));
        return std::nullopt;
      }
      if (k == "provider" || info.provider.empty()) info.provider = it->get<std::string>();
      if (k == "virtual_key") info.by_virtual_key = true;
      if (k == "virtual_key") st.ignored(key_path, "a credential; the target is named by it where it has no provider");
    } else if (k == "override_params") {
      if (!it->is_object()) {
        st.fail(key_path, "expected an object, got " + describe_json(*it));
        return std::nullopt;
      }
      for (auto p = it->begin(); p != it->end(); ++p) {
        if (p.key() == "model" && p->is_string()) {
          info.model = p->get<std::string>();
        } else {
          st.not_expressed(json_path_key(key_path, p.key()), "a request parameter the gateway overrides; the "
                                                             "scenario's workload decides it");
        }
      }
    } else if (k == "weight") {
      // Only loadbalance uses it; Portkey's schema takes any number, squall a share from 0 to 1000000.
      if (!it->is_number() || it->get<double>() < 0 || it->get<double>() > 1000000) {
        st.fail(key_path, "expected a weight from 0 to 1000000, got " + describe_json(*it));
        return std::nullopt;
      }
      info.weight = it->get<double>();
    } else if (k == "cb_config") {
      st.ignored(key_path, "Portkey reads cb_config only inside a strategy object; here it does nothing");
    } else if (k == "retry") {
      if (top_retry == nullptr || *top_retry != *it) {
        st.not_expressed(key_path, "a retry of this target's own; the policy file has one retry for every "
                                   "target (the config's top-level one)");
      }
    } else if (k == "strategy" || k == "targets") {
      st.not_expressed(key_path, "a nested strategy; the policy file models one level of targets");
    } else if (k == "api_key" || k == "custom_host" || k == "forward_headers" || k == "azure_resource_name" ||
               k == "azure_deployment_id" || k == "azure_api_version" || k == "aws_region" ||
               k == "aws_access_key_id" || k == "aws_secret_access_key" || k == "vertex_project_id" ||
               k == "vertex_region") {
      st.ignored(key_path, "where and how to reach the provider, not a policy");
    } else {
      st.not_expressed(key_path, "an unknown target setting");
    }
  }
  if (info.provider.empty()) {
    st.fail(path, "expected a \"provider\" or \"virtual_key\" naming the target");
    return std::nullopt;
  }
  return info;
}

}  // namespace

config_result<imported_policy> import_portkey_config(const json& config, const std::string& file) {
  reader_state st;
  st.file = file;
  if (!config.is_object()) return config_error{file, "$", "expected a Portkey config object, got " + describe_json(config)};

  json cache_policy, fallback_policy, retry_policy, timeout_policy;
  json breaker;  // strategy.cb_config as a breaker object, or null
  const json* retry = config.contains("retry") ? &config["retry"] : nullptr;
  std::string mode = "single";
  std::optional<std::vector<int>> fallback_statuses;

  for (auto it = config.begin(); it != config.end() && !st.error; ++it) {
    const std::string path = json_path_key("$", it.key());
    const std::string& k = it.key();
    if (k == "retry") {
      if (auto r = read_retry(st, *it, path)) retry_policy = std::move(*r);
    } else if (k == "request_timeout") {
      if (!it->is_number() || it->get<double>() < 1 || it->get<double>() > 86400000) {
        st.fail(path, "expected milliseconds from 1 to 86400000, got " + describe_json(*it));
      } else {
        timeout_policy = {{"type", "timeout"}, {"name", "portkey-request-timeout"}, {"timeout_ms", it->get<double>()}};
      }
    } else if (k == "cache") {
      if (!it->is_object()) {
        st.fail(path, "expected an object such as {\"mode\": \"simple\"}, got " + describe_json(*it));
        continue;
      }
      std::string match = "exact";
      cache_policy = {{"type", "cache"}, {"name", "portkey-cache"}};
      for (auto c = it->begin(); c != it->end(); ++c) {
        const std::string cpath = json_path_key(path, c.key());
        if (c.key() == "mode") {
          if (!c->is_string() || (*c != "simple" && *c != "semantic")) {
            st.fail(cpath, "expected \"simple\" or \"semantic\", got " + describe_json(*c));
          } else if (*c == "semantic") {
            match = "semantic";
          }
        } else if (c.key() == "max_age") {
          if (!c->is_number() || c->get<double>() <= 0 || c->get<double>() > 2592000) {
            st.fail(cpath, "expected seconds from 1 to 2592000 (30 days, squall's longest), got " + describe_json(*c));
          } else {
            cache_policy["ttl_ms"] = c->get<double>() * 1000.0;
          }
        } else {
          st.not_expressed(cpath, "an unknown cache setting");
        }
      }
      cache_policy["match"] = match;
    } else if (k == "strategy") {
      if (!it->is_object()) {
        st.fail(path, "expected an object such as {\"mode\": \"fallback\"}, got " + describe_json(*it));
        continue;
      }
      for (auto s = it->begin(); s != it->end(); ++s) {
        const std::string spath = json_path_key(path, s.key());
        if (s.key() == "mode") {
          if (!s->is_string() || (*s != "single" && *s != "fallback" && *s != "loadbalance" && *s != "conditional")) {
            st.fail(spath, "expected \"single\", \"fallback\", \"loadbalance\" or \"conditional\", got " +
                               describe_json(*s));
          } else {
            mode = s->get<std::string>();
          }
        } else if (s.key() == "on_status_codes") {
          fallback_statuses = read_statuses(st, *s, spath);
        } else if (s.key() == "cb_config") {
          if (auto b = read_cb_config(st, *s, spath)) breaker = std::move(*b);
        } else {
          st.not_expressed(spath, "a strategy setting squall does not model (conditions, defaults)");
        }
      }
    } else if (k == "targets") {
      // Read after the strategy, below.
    } else if (k == "provider" || k == "virtual_key" || k == "api_key" || k == "custom_host" ||
               k == "forward_headers") {
      st.ignored(path, "where and how to reach the provider, not a policy");
    } else if (k == "override_params") {
      st.not_expressed(path, "request parameters the gateway overrides; the scenario's workload decides them");
    } else if (k == "before_request_hooks" || k == "after_request_hooks" || k == "input_guardrails" ||
               k == "output_guardrails") {
      st.not_expressed(path, "guardrails and hooks run the gateway's checks on content; squall's validate policy "
                             "covers empty, cut and non-JSON answers only");
    } else {
      st.not_expressed(path, "an unknown config key");
    }
  }
  if (st.error) return *st.error;

  if (config.contains("targets")) {
    const json& targets = config["targets"];
    if (!targets.is_array() || targets.empty() || targets.size() > 16) {
      return config_error{file, "$.targets", "expected an array of 1 to 16 targets, got " + describe_json(targets)};
    }
    std::vector<target_info> read;
    for (std::size_t i = 0; i < targets.size(); ++i) {
      auto t = read_target(st, targets[i], json_path_index("$.targets", i), retry);
      if (!t) return *st.error;
      read.push_back(std::move(*t));
    }
    if (mode == "fallback") {
      json endpoints = json::array();
      for (const auto& t : read) {
        json e = {{"provider", t.provider}};
        if (!t.model.empty()) e["model"] = t.model;
        endpoints.push_back(std::move(e));
      }
      fallback_policy = {{"type", "fallback"}, {"name", "portkey-fallback"}, {"endpoints", std::move(endpoints)}};
      if (!breaker.is_null()) fallback_policy["breaker"] = breaker;
      if (fallback_statuses) {
        fallback_policy["fallback_on"] = fallback_classes(st, *fallback_statuses, "$.strategy.on_status_codes");
      } else {
        // Portkey moves on after any failure.
        fallback_policy["fallback_on"] = {"rate_limited", "overloaded",      "server_error", "timeout",
                                          "connection_error", "invalid_request", "auth",         "quota"};
      }
      if (breaker.is_null()) {
        st.approximated("$.targets", "squall's fallback also cools an endpoint down after 3 failures in a row and "
                                     "probes it before using it again; Portkey tries every target on every call");
      }
    } else if (mode == "loadbalance") {
      json lb_targets = json::array();
      double total = 0.0;
      for (const auto& t : read) {
        json e = {{"provider", t.provider}};
        if (!t.model.empty()) e["model"] = t.model;
        e["weight"] = t.weight;
        lb_targets.push_back(std::move(e));
        total += t.weight;
      }
      if (total <= 0.0) {
        return config_error{file, "$.targets", "expected a target with a weight above 0: with every weight 0 "
                                               "Portkey selects no target and answers every request with an error"};
      }
      fallback_policy = {{"type", "loadbalance"}, {"name", "portkey-loadbalance"}, {"targets", std::move(lb_targets)}};
      if (!breaker.is_null()) fallback_policy["breaker"] = breaker;
    } else if (mode == "conditional") {
      st.not_expressed("$.strategy.mode", "conditional routing on request metadata; squall's router routes by "
                                          "request class (docs/policies/router.md)");
    } else if (read.size() > 1) {
      st.not_expressed("$.targets", "several targets without a fallback or loadbalance strategy");
    }
    if (!breaker.is_null() && (mode == "fallback" || mode == "loadbalance")) {
      std::string without;
      for (std::size_t i = 0; i < read.size(); ++i) {
        if (!read[i].by_virtual_key) without += (without.empty() ? "" : ", ") + json_path_index("$.targets", i);
      }
      if (!without.empty()) {
        st.approximated("$.strategy.cb_config", "Portkey 2.2.3 keeps a breaker only for targets named by a "
                                                "virtual_key (later versions for provider targets too); squall's "
                                                "breaker also covers " + without);
      }
    }
  }
  if (!breaker.is_null() && mode != "fallback" && mode != "loadbalance") {
    st.not_expressed("$.strategy.cb_config", mode == "conditional"
                                                 ? "Portkey does not evaluate breakers under a conditional strategy"
                                                 : "a breaker without a fallback or loadbalance strategy over "
                                                   "targets: it never changes where a call goes");
  }

  json policies = json::array();
  for (json* p : {&cache_policy, &fallback_policy, &retry_policy, &timeout_policy}) {
    if (!p->is_null()) policies.push_back(std::move(*p));
  }
  imported_policy out = std::move(st.out);
  out.document = {{"name", "portkey-config"},
                  {"description", "Imported from the Portkey config " + file +
                                      " by squall import-config; see docs/import-config.md for what each part becomes."},
                  {"policies", std::move(policies)}};
  // What is written must load: the importer's own mistakes are caught here, not in the user's run.
  if (auto check = parse_pipeline(out.document, "$"); !check) {
    return config_error{file, "$", "the imported policy file does not load (" + check.error().describe() +
                                       "); please report it with this config"};
  }
  return out;
}

}  // namespace squall::config_import
