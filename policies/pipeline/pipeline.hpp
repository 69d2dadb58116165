#pragma once
// A policy file: an ordered list of policies, outermost first. Loading validates every option of every
// policy and explains the order (warnings); building wires the handlers in front of a transport.
//
//   { "name": "retry-breaker",
//     "policies": [ { "type": "timeout", "timeout_ms": 20000 },
//                   { "type": "retry", "attempts_max": 4 },
//                   { "type": "circuit_breaker" },
//                   { "type": "timeout", "timeout_ms": 5000 } ] }

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "policies/core/config_error.hpp"
#include "policies/core/json_parse.hpp"  // read_json_file, for the files that name policy files
#include "policies/pipeline/policy_spec.hpp"

namespace squall {

struct pipeline_spec {
  std::string name;
  std::string description;
  std::string file;                                 // where it was loaded from, for messages
  std::vector<std::shared_ptr<const policy_spec>> policies;  // outermost first; shared, immutable
  std::vector<std::string> warnings;                // questionable orders, explained
  json source;                                      // the document as read, for digests and reports
};

// Parses a policy document. `path` is the JSON path of the document inside its file ("$" for a file of
// its own, "$.policies.candidate" when written inline in a scenario).
config_result<pipeline_spec> parse_pipeline(const json& document, const std::string& path);
// Reads, parses and validates a policy file. Errors name the file.
config_result<pipeline_spec> load_pipeline_file(const std::filesystem::path& file);

// A running pipeline: one handler per policy, wired in front of `transport`. Stateful policies (a
// breaker's window) live here, so one pipeline serves all calls of one configuration.
class pipeline final : public handler {
 public:
  // `seed_root` is the configuration's seed; policy i draws from stream "policy/<i>/<type>". `embeddings`
  // is what a semantic cache embeds prompts with (production only); what it names outlives the pipeline.
  pipeline(const pipeline_spec& spec, runtime& clock, event_sink& events, std::uint64_t seed_root,
           handler& transport, embedding_source embeddings = {});

  operation& start(const call_scope& scope, outcome_receiver& receiver) override;
  // Every policy's gauges, outermost first.
  void report_gauges(gauge_sink& sink) const override;

 private:
  std::vector<std::unique_ptr<handler>> stages_;  // innermost first, so each is built on a live next
  handler* head_;
};

}  // namespace squall
