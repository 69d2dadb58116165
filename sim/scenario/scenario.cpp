#include "sim/scenario/scenario.hpp"

#include <openssl/evp.h>

#include <algorithm>
#include <cmath>

namespace squall::sim {

const std::vector<std::string>& summary_metric_names() {
  static const std::vector<std::string> names = {
      "requests",          "completed",          "succeeded",         "degraded",
      "shed",              "unfinished",         "success_rate",      "degraded_rate",
      "error_rate",        "latency_mean_ms",    "latency_p50_ms",    "latency_p90_ms",
      "latency_p95_ms",    "latency_p99_ms",     "latency_p999_ms",   "latency_max_ms",
      "latency_ok_p50_ms", "latency_ok_p95_ms",  "latency_ok_p99_ms", "ttft_p50_ms",
      "ttft_p95_ms",       "ttft_p99_ms",        "attempts",          "attempts_per_request",
      "retries",           "timeouts",           "breaker_openings",  "breaker_rejections",
      "breaker_open_s",    "breakers_open_max",  "cost_usd",           "cost_per_success_usd", "cost_wasted_usd",
      "cache_hit_rate",    "cache_hits",         "hedges",            "fallbacks",
      "client_rejections", "retry_budget_refusals", "bad_content", "bad_content_rate",
      // A run with a service (upstream_metric_names).
      "upstream_attempts", "upstream_attempts_per_request", "upstream_attempts_request_peak",
      "upstream_retries", "upstream_unattributed", "upstream_cost_usd", "upstream_cost_wasted_usd",
  };
  return names;
}

const std::vector<std::string>& window_metric_names() {
  static const std::vector<std::string> names = {
      "requests", "completed", "succeeded", "degraded", "shed", "success_rate", "degraded_rate", "error_rate",
      "attempts", "retries", "timeouts", "breaker_openings", "breaker_rejections", "cost_usd", "hedges",
      "fallbacks", "client_rejections"};
  return names;
}

const std::vector<std::string>& upstream_metric_names() {
  static const std::vector<std::string> names = {
      "upstream_attempts",  "upstream_attempts_per_request", "upstream_attempts_request_peak",
      "upstream_retries",   "upstream_unattributed",         "upstream_cost_usd",
      "upstream_cost_wasted_usd"};
  return names;
}

double scenario::effective_interval_s() const noexcept {
  if (interval_s > 0) return interval_s;
  // About 200 points over the run, on a round step a person reads easily.
  const double raw = duration_s / 200.0;
  for (double step : {0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0, 3600.0}) {
    if (raw <= step) return step;
  }
  return 3600.0;
}

std::string sha256_hex(const std::string& data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_Digest(data.data(), data.size(), digest, &length, EVP_sha256(), nullptr);
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < length; ++i) {
    out += hex[digest[i] >> 4];
    out += hex[digest[i] & 15];
  }
  return out;
}

namespace {

// "fleet": {"instances": 50, "spread": "round_robin"}.
void read_fleet(json_reader& parent, const json& f, const std::string& path, fleet_spec& out) {
  if (!f.is_object()) {
    parent.fail(path, "expected an object such as {\"instances\": 50, \"spread\": \"round_robin\"}, got " +
                          describe_json(f));
    return;
  }
  json_reader reader(f, path);
  reader.allow_only({"instances", "spread"});
  reader.count("instances", out.instances, 1, fleet_spec::instances_max);
  std::string spread;
  reader.choice("spread", spread, {"round_robin", "random", "sticky"});
  if (spread == "random") out.spread = fleet_spread::random;
  if (spread == "sticky") out.spread = fleet_spread::sticky;
  if (auto e = reader.finish()) parent.fail(e->path, e->message);
}

// Names for "expected one of" messages, quoted: "a", "b".
std::string quoted_list(const std::vector<std::string>& names) {
  std::string list;
  for (const auto& n : names) list += (list.empty() ? "" : ", ") + ("\"" + n + "\"");
  return list;
}

std::string provider_list(const scenario& s) {
  std::vector<std::string> names;
  for (const auto& p : s.providers) names.push_back(p.name);
  return quoted_list(names);
}

std::string model_list(const provider_config& p) {
  std::vector<std::string> names;
  for (const auto& m : p.models) names.push_back(m.first);
  return quoted_list(names);
}

const char* scope_word(assertion_scope scope) {
  return scope == assertion_scope::during ? "during" : scope == assertion_scope::after ? "after" : "run";
}

// The bounds of one configuration, for the whole run or (scope during / after) for one fault window.
void parse_bounds(json_reader& top, const json& bounds, const std::string& cpath, const std::string& config,
                  assertion_scope scope, const std::string& fault, scenario& s) {
  const auto& names = scope == assertion_scope::run ? summary_metric_names() : window_metric_names();
  for (auto b = bounds.begin(); b != bounds.end() && !top.failed(); ++b) {
    const std::string bpath = json_path_key(cpath, b.key());
    const std::string& key = b.key();
    if (key == "during" || key == "after") {
      if (scope != assertion_scope::run) {
        top.fail(bpath, "a window's bounds cannot hold another \"" + key + "\"; write it beside \"" +
                            scope_word(scope) + "\" under the configuration");
        return;
      }
      if (!b->is_object() || b->empty()) {
        top.fail(bpath, "expected an object of fault window name -> bounds, such as {\"storm\": "
                        "{\"success_rate_min\": 0.9}}, got " + describe_json(*b));
        return;
      }
      std::vector<std::string> faults;
      for (const auto& p : s.providers) {
        for (const auto& f : p.faults) faults.push_back(f.name);
      }
      for (auto w = b->begin(); w != b->end() && !top.failed(); ++w) {
        const std::string wpath = json_path_key(bpath, w.key());
        if (std::find(faults.begin(), faults.end(), w.key()) == faults.end()) {
          top.fail(wpath, "no fault window named \"" + w.key() + "\"; " +
                              (faults.empty() ? std::string("the scenario has no fault windows")
                                              : "expected one of " + quoted_list(faults) +
                                                    " (a window's \"name\", or \"<provider>.faults[<i>]\")"));
          return;
        }
        if (!w->is_object()) {
          top.fail(wpath, "expected an object such as {\"success_rate_min\": 0.9}, got " + describe_json(*w));
          return;
        }
        parse_bounds(top, *w, wpath, config,
                     key == "during" ? assertion_scope::during : assertion_scope::after, w.key(), s);
      }
      continue;
    }
    const bool is_min = key.size() > 4 && key.ends_with("_min");
    const bool is_max = key.size() > 4 && key.ends_with("_max");
    const std::string metric = (is_min || is_max) ? key.substr(0, key.size() - 4) : key;
    if (!is_min && !is_max) {
      top.fail(bpath, "expected a summary metric followed by _min or _max, such as \"success_rate_min\", got \"" + key + "\"");
      return;
    }
    if (metric == "recovery_s") {
      // How long after a window's end the success rate took to come back (sim/run/recovery.hpp): a bound
      // on the whole run is on the slowest recovery; "after" a window, on that window's.
      if (scope == assertion_scope::during) {
        top.fail(bpath, "recovery is measured after a window ends; write \"recovery_s_max\" under \"after\" "
                        "or for the whole run");
        return;
      }
      if (!is_max) {
        top.fail(bpath, "expected \"recovery_s_max\": a recovery has an upper bound, not a lower one");
        return;
      }
    } else if (std::find(names.begin(), names.end(), metric) == names.end()) {
      std::string list;
      for (const auto& n : names) list += " " + n;
      top.fail(bpath, "unknown metric \"" + metric + "\"; the " +
                          (scope == assertion_scope::run ? "summary metrics are:" : "metrics of a fault window are:") +
                          list + " recovery_s");
      return;
    }
    const auto& upstream = upstream_metric_names();
    if (!s.service && std::find(upstream.begin(), upstream.end(), metric) != upstream.end()) {
      top.fail(bpath, "\"" + metric + "\" is what the fake providers saw of a service under test; only a "
                      "scenario with a \"service\" block has it");
      return;
    }
    if (!b->is_number()) {
      top.fail(bpath, "expected a number, got " + describe_json(*b));
      return;
    }
    s.assertions.push_back(assertion{config, metric, is_min, b->get<double>(), bpath, scope, fault});
  }
}

void parse_assertions(json_reader& top, const json* value, scenario& s) {
  if (!value || top.failed()) return;
  const std::string path = json_path_key(top.path(), "assert");
  if (!value->is_object()) {
    top.fail(path, "expected an object of configuration name -> {\"<metric>_min\" or \"<metric>_max\": bound}");
    return;
  }
  for (auto it = value->begin(); it != value->end() && !top.failed(); ++it) {
    const std::string cpath = json_path_key(path, it.key());
    const bool known = std::any_of(s.configurations.begin(), s.configurations.end(),
                                   [&](const configuration& c) { return c.name == it.key(); });
    if (!known) {
      std::string list;
      for (const auto& c : s.configurations) list += (list.empty() ? "" : ", ") + ("\"" + c.name + "\"");
      top.fail(cpath, "no configuration named \"" + it.key() + "\" under \"policies\"; expected one of " + list);
      return;
    }
    if (!it->is_object()) {
      top.fail(cpath, "expected an object such as {\"success_rate_min\": 0.99, \"latency_p99_ms_max\": 5000}");
      return;
    }
    parse_bounds(top, *it, cpath, it.key(), assertion_scope::run, "", s);
  }
}

// "recovery": {"tolerance_pp": 2, "hold_intervals": 3}.
void parse_recovery(json_reader& top, const json* value, scenario& s) {
  if (!value || top.failed()) return;
  json_reader r(*value, "$.recovery");
  r.allow_only({"tolerance_pp", "hold_intervals"});
  r.number("tolerance_pp", s.recovery.tolerance_pp, 0, 100);
  r.count("hold_intervals", s.recovery.hold_intervals, 1, 1000);
  if (auto e = r.finish()) top.fail(e->path, e->message);
}

// Fault windows are named across providers: an assertion names one window, never one of two.
void check_fault_names(json_reader& top, const scenario& s) {
  std::vector<std::string> seen;
  for (const auto& p : s.providers) {
    for (std::size_t i = 0; i < p.faults.size() && !top.failed(); ++i) {
      if (std::find(seen.begin(), seen.end(), p.faults[i].name) != seen.end()) {
        top.fail(json_path_key(json_path_index(json_path_key(json_path_key("$.providers", p.name), "faults"), i), "name"),
                 "another fault window is already named \"" + p.faults[i].name + "\"; expected a name unique in the scenario");
      }
      seen.push_back(p.faults[i].name);
    }
  }
}

}  // namespace

config_result<scenario> parse_scenario(const json& document, const std::filesystem::path& base_dir) {
  scenario s;
  json_reader r(document, "$");
  r.allow_only({"$schema", "name", "description", "seed", "duration_s", "drain_s", "interval_s", "providers",
                "workload", "policies", "service", "assert", "recovery"});
  // "$schema" names the JSON Schema an editor checks the file against (docs/schema); squall ignores it.
  std::string schema_uri;
  r.string("$schema", schema_uri).string("name", s.name).string("description", s.description).seed("seed", s.seed);
  r.number("duration_s", s.duration_s, 0.001, 30 * 86400.0).number("drain_s", s.drain_s, 0, 86400);
  r.number("interval_s", s.interval_s, 0.01, 86400);
  if (!r.failed() && !document.contains("duration_s")) r.fail("$", "missing key \"duration_s\"; expected the seconds of arrivals (a number)");

  json canonical = document;  // the scenario with every policy file inlined, for the digest
  if (canonical.is_object()) canonical.erase("$schema");  // where an editor finds the schema changes nothing the run does

  const json* providers = r.required("providers", "an object of provider name -> provider model");
  if (providers && !r.failed()) {
    if (!providers->is_object() || providers->empty()) {
      r.fail("$.providers", "expected an object with at least one provider, e.g. {\"openai\": {\"api\": \"openai\", ...}}");
    } else if (providers->size() > 64) {
      r.fail("$.providers", "expected at most 64 providers");
    } else {
      for (auto it = providers->begin(); it != providers->end() && !r.failed(); ++it) {
        auto p = parse_provider(*it, json_path_key("$.providers", it.key()), it.key());
        if (!p) {
          r.fail(p.error().path, p.error().message);
        } else {
          s.providers.push_back(std::move(*p));
        }
      }
    }
  }

  if (!r.failed()) check_fault_names(r, s);
  parse_recovery(r, r.child("recovery"), s);

  const json* workload = r.required("workload", "the arrivals and the request mix");
  if (workload && !r.failed()) {
    auto w = parse_workload(*workload, "$.workload");
    if (!w) {
      r.fail(w.error().path, w.error().message);
    } else {
      s.workload = std::move(*w);
    }
  }
  // The workload must name a provider and models that exist.
  if (!r.failed()) {
    auto& w = s.workload;
    if (w.provider.empty()) {
      if (s.providers.size() > 1) r.fail("$.workload", "missing \"provider\": the scenario has several providers");
      else w.provider = s.providers.front().name;
    }
    const provider_config* target = nullptr;
    for (const auto& p : s.providers) {
      if (p.name == w.provider) target = &p;
    }
    if (!r.failed() && !target) r.fail("$.workload.provider", "no provider named \"" + w.provider + "\" under \"providers\"; expected one of " + provider_list(s));
    if (!r.failed() && w.models.empty()) w.models.emplace_back(target->models.front().first, 1.0);
    for (const auto& [model, weight] : w.models) {
      if (r.failed()) break;
      const bool found = std::any_of(target->models.begin(), target->models.end(),
                                     [&wanted = model](const auto& m) { return m.first == wanted; });
      if (!found) {
        r.fail(document["workload"].contains("models") ? json_path_key("$.workload.models", model) : "$.workload.model",
               "provider \"" + target->name + "\" has no model \"" + model + "\"; expected one of " + model_list(*target));
      }
    }
  }

  // A system under test: its versions are the configurations, and squall's policies stay out of it.
  if (const json* service = r.child("service"); service && !r.failed()) {
    if (document.contains("policies")) {
      r.fail("$.policies", "a scenario with a \"service\" compares versions of that service, listed under "
                           "\"service.configurations\"; remove \"policies\" (squall's policies do not run in it)");
    } else {
      std::vector<std::string> names;
      for (const auto& p : s.providers) names.push_back(p.name);
      auto spec = parse_service_spec(*service, "$.service", names, base_dir);
      if (!spec) {
        r.fail(spec.error().path, spec.error().message);
      } else {
        for (const auto& c : spec->configurations) {
          configuration config;
          config.name = c.name;
          config.source = "service";
          config.pipeline.name = c.name;
          s.configurations.push_back(std::move(config));
        }
        s.service = std::move(*spec);
      }
    }
  }

  const json* policies = s.service ? nullptr
                                   : r.required("policies", "an object of configuration name -> policy file path "
                                                            "or inline policy object (or a \"service\" block)");
  if (policies && !r.failed()) {
    if (!policies->is_object() || policies->empty() || policies->size() > 16) {
      r.fail("$.policies", "expected an object of 1 to 16 configurations, e.g. "
                           "{\"baseline\": \"policies/retry-only.json\", \"candidate\": \"policies/retry-breaker.json\"}");
    } else {
      for (auto it = policies->begin(); it != policies->end() && !r.failed(); ++it) {
        const std::string cpath = json_path_key("$.policies", it.key());
        configuration c;
        c.name = it.key();
        // {"policy": <path or inline object>, "fleet": {...}}: the same policies, run as a fleet.
        const json* policy = &*it;
        std::string policy_path = cpath;
        json policy_canonical;  // a policy file's document, inlined for the digest
        if (it->is_object() && (it->contains("fleet") || it->contains("reference") || it->contains("policy"))) {
          json_reader wrapper(*it, cpath);
          wrapper.allow_only({"policy", "fleet", "reference"});
          policy = wrapper.required("policy", "the configuration's policy file path or inline policy object");
          if (const json* f = wrapper.child("fleet"); f != nullptr && !wrapper.failed()) {
            read_fleet(wrapper, *f, json_path_key(cpath, "fleet"), c.fleet);
          }
          if (const json* ref = wrapper.child("reference"); ref != nullptr && !wrapper.failed()) {
            if (!ref->is_string() || ref->get<std::string>().empty() || ref->get<std::string>().size() > 200) {
              wrapper.fail(json_path_key(cpath, "reference"),
                           "expected why this configuration is kept as a reference, 1 to 200 characters (e.g. "
                           "\"naive immediate retries: what not to do\"), got " + describe_json(*ref));
            } else {
              c.reference = ref->get<std::string>();
            }
          }
          if (auto e = wrapper.finish()) {
            r.fail(e->path, e->message);
            break;
          }
          policy_path = json_path_key(cpath, "policy");
        }
        if (policy->is_string()) {
          c.source = policy->get<std::string>();
          // The operating system reads a path only up to a NUL: "a.json\u0000evil" would open a.json.
          if (c.source.find('\0') != std::string::npos) {
            r.fail(policy_path, "expected a policy file path without a NUL character (\\u0000)");
            break;
          }
          const std::filesystem::path file = base_dir / c.source;
          auto spec = load_pipeline_file(file);
          if (!spec) {
            config_error e = std::move(spec).error();
            // A mistake inside the policy file names that file and its path; a file that cannot be
            // read or parsed names the scenario key that points at it.
            if (!e.path.empty()) return e;
            return config_error{{}, policy_path, "policy file " + e.file + ": " + e.message};
          }
          c.pipeline = std::move(*spec);
          policy_canonical = c.pipeline.source;
        } else if (policy->is_object()) {
          c.source = "inline";
          auto spec = parse_pipeline(*policy, policy_path);
          if (!spec) {
            r.fail(spec.error().path, spec.error().message);
            break;
          }
          c.pipeline = std::move(*spec);
          if (c.pipeline.name.empty()) c.pipeline.name = c.name;
        } else {
          r.fail(policy_path, "expected a policy file path (relative to the scenario) or an inline policy object, got " +
                                  describe_json(*policy));
          break;
        }
        if (policy != &*it) {
          // The digest covers the fleet (and the reference mark) as well as the policies it runs.
          json wrapped = {{"policy", policy_canonical.is_null() ? *policy : policy_canonical}};
          for (const char* key : {"fleet", "reference"}) {
            if (it->contains(key)) wrapped[key] = (*it)[key];
          }
          canonical["policies"][it.key()] = std::move(wrapped);
        } else if (!policy_canonical.is_null()) {
          canonical["policies"][it.key()] = std::move(policy_canonical);
        }
        s.configurations.push_back(std::move(c));
      }
    }
  }
  parse_assertions(r, r.child("assert"), s);
  if (auto e = r.finish()) return *e;
  s.digest = sha256_hex(dump_json(canonical));
  return s;
}

config_result<scenario> load_scenario(const std::filesystem::path& file, const scenario_inputs& inputs) {
  auto document = read_scenario_document(file, inputs);
  if (!document) return std::move(document).error();
  auto s = parse_scenario(document->document, file.parent_path());
  if (!s) {
    config_error e = std::move(s).error();
    if (e.file.empty()) e.file = file.string();
    return e;
  }
  s->file = file.string();
  if (s->name.empty()) s->name = file.stem().string();
  for (const auto& set : inputs.sets) s->overrides.push_back(set.text);
  s->variables = std::move(document->variables);
  return s;
}

}  // namespace squall::sim
