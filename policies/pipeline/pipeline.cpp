#include "policies/pipeline/pipeline.hpp"

#include <fstream>
#include <sstream>

#include "policies/core/rng.hpp"
#include "policies/pipeline/registry.hpp"

namespace squall {
namespace {

std::string known_types() {
  std::string out;
  for (const auto& r : policy_registry()) {
    if (!out.empty()) out += ", ";
    out += '"';
    out += r.type;
    out += '"';
  }
  return out;
}

std::string label(const std::vector<std::shared_ptr<const policy_spec>>& policies, std::size_t i) {
  return "policy " + std::to_string(i) + " (\"" + policies[i]->name + "\")";
}

// The index of the first policy of `type` after position i, or npos.
std::size_t find_after(const std::vector<std::shared_ptr<const policy_spec>>& policies, std::size_t i,
                       std::string_view type) {
  for (std::size_t j = i + 1; j < policies.size(); ++j) {
    if (policies[j]->type() == type) return j;
  }
  return std::string::npos;
}

std::size_t find_before(const std::vector<std::shared_ptr<const policy_spec>>& policies, std::size_t i,
                        std::string_view type) {
  for (std::size_t j = 0; j < i; ++j) {
    if (policies[j]->type() == type) return j;
  }
  return std::string::npos;
}

// Explains orders that are legal but rarely what the author meant. Policies are listed outermost
// first: "outside" means earlier in the list, "inside" later.
std::vector<std::string> order_warnings(const std::vector<std::shared_ptr<const policy_spec>>& policies) {
  std::vector<std::string> warnings;
  const auto npos = std::string::npos;
  for (std::size_t i = 0; i < policies.size(); ++i) {
    const auto type = policies[i]->type();
    if (type == "retry") {
      if (const auto outer = find_before(policies, i, "retry"); outer != npos) {
        warnings.push_back(label(policies, i) + ": a retry nested inside another retry (" + label(policies, outer) +
                           ") multiplies attempts (outer x inner)");
      }
    }
    if (type == "circuit_breaker") {
      if (const auto j = find_after(policies, i, "retry"); j != npos) {
        warnings.push_back(label(policies, i) + ": the circuit breaker sits outside retry " + label(policies, j) +
                           ", so it sees one outcome per call and cannot count individual attempts; "
                           "place it inside the retry");
      }
    }
    if (type == "cache") {
      if (const auto j = find_before(policies, i, "retry"); j != npos) {
        warnings.push_back(label(policies, i) + ": the cache sits behind retry " + label(policies, j) +
                           ", so it is consulted once per attempt and a hit still pays the retry's bookkeeping; "
                           "place the cache before the retry so that hits skip retries, limits and timeouts");
      }
    }
    if (type == "rate_limiter" || type == "bulkhead" || type == "adaptive_throttle") {
      if (const auto j = find_after(policies, i, "retry"); j != npos) {
        warnings.push_back(label(policies, i) + ": the " + std::string(type) + " sits outside retry " +
                           label(policies, j) + ", so retries bypass it: it limits calls, not attempts; "
                           "place it inside the retry to limit what reaches the provider");
      }
    }
    if (type == "degrade" && i != 0) {
      for (std::size_t j = 0; j < i; ++j) {
        const auto outer = policies[j]->type();
        if (outer == "retry" || outer == "fallback" || outer == "hedging" || outer == "circuit_breaker") {
          warnings.push_back(label(policies, i) + ": the degrade policy sits inside " + label(policies, j) +
                             ", which then sees degraded answers instead of failures and stops trying; "
                             "make degrade the outermost policy");
          break;
        }
      }
    }
    if (type == "hedging") {
      if (const auto j = find_after(policies, i, "retry"); j != npos) {
        warnings.push_back(label(policies, i) + ": hedging sits outside retry " + label(policies, j) +
                           ", so every hedge runs a whole retry loop and attempts multiply; "
                           "place the hedging inside the retry");
      }
    }
    if (type == "fallback" || type == "router" || type == "loadbalance") {
      if (const auto j = find_before(policies, i, "hedging"); j != npos) {
        warnings.push_back(label(policies, i) + ": the " + std::string(type) + " sits inside hedging " +
                           label(policies, j) + ", whose parallel attempts share the request it rewrites; "
                           "place it outside the hedging");
      }
    }
  }
  return warnings;
}

}  // namespace

config_result<pipeline_spec> parse_pipeline(const json& document, const std::string& path) {
  pipeline_spec spec;
  json_reader top(document, path);
  top.allow_only({"$schema", "name", "description", "policies"});
  // "$schema" names the JSON Schema an editor checks the file against (docs/schema); squall ignores it.
  std::string schema_uri;
  top.string("$schema", schema_uri).string("name", spec.name).string("description", spec.description);
  const json* list = top.required("policies", "the ordered list of policies, outermost first");
  if (list && !list->is_array()) {
    top.fail_key("policies", "expected an array of policy objects, got " + describe_json(*list));
  }
  if (auto e = top.finish()) return *e;

  const std::string list_path = json_path_key(path, "policies");
  for (std::size_t i = 0; i < list->size(); ++i) {
    const json& entry = (*list)[i];
    const std::string entry_path = json_path_index(list_path, i);
    json_reader reader(entry, entry_path);
    std::string type;
    std::string name;
    if (!reader.failed() && !entry.contains("type")) {
      reader.fail(entry_path, "missing key \"type\"; expected one of " + known_types());
    }
    reader.string("type", type).string("name", name);
    const policy_registration* registration = nullptr;
    if (!reader.failed()) {
      registration = find_policy(type);
      if (!registration) reader.fail_key("type", "unknown policy type \"" + type + "\"; expected one of " + known_types());
    }
    std::unique_ptr<policy_spec> policy;
    if (registration) policy = registration->parse(reader);
    if (auto e = reader.finish()) return *e;
    policy->name = name.empty() ? type : name;
    spec.policies.push_back(std::move(policy));
  }
  if (spec.policies.size() > 32) {
    return config_error{{}, list_path, "expected at most 32 policies, got " + std::to_string(spec.policies.size())};
  }
  spec.warnings = order_warnings(spec.policies);
  spec.source = document;
  if (spec.source.is_object()) spec.source.erase("$schema");  // not part of what the policies do
  return spec;
}

config_result<pipeline_spec> load_pipeline_file(const std::filesystem::path& file) {
  auto document = read_json_file(file);
  if (!document) return std::move(document).error();
  auto spec = parse_pipeline(*document, "$");
  if (!spec) {
    config_error e = std::move(spec).error();
    e.file = file.string();
    return e;
  }
  spec->file = file.string();
  if (spec->name.empty()) spec->name = file.stem().string();
  return spec;
}

pipeline::pipeline(const pipeline_spec& spec, runtime& clock, event_sink& events, std::uint64_t seed_root,
                   handler& transport, embedding_source embeddings)
    : head_(&transport) {
  for (std::size_t i = spec.policies.size(); i-- > 0;) {
    const auto& policy = *spec.policies[i];
    const std::uint64_t seed = stream_seed(seed_root, "policy/" + std::to_string(i) + "/" + std::string(policy.type()));
    stages_.push_back(policy.build(policy_environment{clock, events, seed, embeddings}, *head_));
    head_ = stages_.back().get();
  }
}

void pipeline::report_gauges(gauge_sink& sink) const {
  for (auto it = stages_.rbegin(); it != stages_.rend(); ++it) (*it)->report_gauges(sink);
}

operation& pipeline::start(const call_scope& scope, outcome_receiver& receiver) {
  return head_->start(scope, receiver);
}

}  // namespace squall
