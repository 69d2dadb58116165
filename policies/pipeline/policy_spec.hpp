#pragma once
// How a policy plugs into a pipeline. A policy folder provides a parser (JSON -> validated options) and
// a spec that builds its handler around the next stage. Validation happens once, in the parser.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "policies/core/call.hpp"
#include "policies/core/embedder.hpp"
#include "policies/core/events.hpp"
#include "policies/core/json_reader.hpp"
#include "policies/core/runtime.hpp"

namespace squall {

// What production gives a semantic cache to embed prompts with; the simulation and the load generator
// give nothing (their requests carry no text).
struct embedding_source {
  embedder* custom = nullptr;    // the service's own embedder: when set, every semantic cache uses it
  handler* transport = nullptr;  // else the provider's embeddings endpoint, called through this handler
};

// What a running policy gets from outside: time, where to report, its own random stream, and services
// only production has.
struct policy_environment {
  runtime& clock;
  event_sink& events;
  std::uint64_t seed;   // this policy instance's stream; the pipeline derives one per position
  embedding_source embeddings{};
};

class policy_spec {
 public:
  virtual ~policy_spec() = default;
  virtual std::string_view type() const noexcept = 0;
  // Builds the handler that runs this policy in front of `next`. `next` outlives the handler.
  virtual std::unique_ptr<handler> build(const policy_environment& env, handler& next) const = 0;

  // The name events carry: the "name" key in the policy file, else the type.
  std::string name;
};

// Reads one policy's options from `reader` (its "type" and "name" are already consumed). Mistakes go
// into the reader, which names the JSON path; the pipeline checks the reader afterwards.
using policy_parser = std::unique_ptr<policy_spec> (*)(json_reader& reader);

struct policy_registration {
  std::string_view type;
  policy_parser parse;
  std::string_view summary;  // one line for `squall policies` and error messages
};

}  // namespace squall
