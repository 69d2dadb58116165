#pragma once
// The batching policy: collects calls for the same model (and provider) into a batch that leaves as ONE
// inner call when it holds batch_size_max calls or window_ms after its first call joined, whichever
// comes first. The inner call's request is a copy of the first member's with input_tokens and
// output_tokens summed over the members and batch_size = the number of members (a provider may price
// it with its batch_discount). Event batch_sent: value = size, delay = the longest wait in the batch.
//
// The answer is split back. Every member gets the batch's outcome, with its own tokens (when ok), a
// latency from its own start, and, when the batch failed, the failure. The bill is split by tokens:
// each member's share is its (input + output) tokens over those of the members still waiting, applied
// both to the outcome's cost_usd and to the batch's call_context cost, which is added to each member's
// call->cost_usd (the transport bills only the batch's own context). The batch's attempts are added to
// one member only, the first one still waiting, so that summed over calls, attempts and cost equal
// what the provider saw and billed.
//
// The batch owns its call_context (the members' contexts belong to callers who may leave). Its deadline
// is the latest of its members' deadlines: the batch serves them all, so it runs until the last one stops
// caring; a member with an earlier deadline is cut off by its own timeout outside.
//
// Cancellation: a member cancelled before its batch left is removed from it (an emptied batch is
// discarded with its timer); once the batch has left, a cancelled member just stops waiting, and the
// inner call is cancelled when the last member is gone. Bounded: groups_max open batches, and
// batch_size_max members per batch.
//
// Calls that carry a payload (production) are batched only when they are embeddings calls with one text
// input (policies/batching/embeddings_batch.hpp): those with the same body but for "input" leave as one
// call with an "input" array (at most 2,048), and the answer's items go back to their own members, each
// with its share of the usage; a member the answer has no item for fails alone. Chat calls go alone.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

#include "policies/batching/batching_options.hpp"
#include "policies/core/call.hpp"
#include "policies/core/events.hpp"
#include "policies/core/runtime.hpp"
#include "policies/pipeline/policy_spec.hpp"

namespace squall {

class batching_batch;

class batching_handler final : public handler {
 public:
  batching_handler(const batching_options& options, std::string name, const policy_environment& env, handler& next);

  operation& start(const call_scope& scope, outcome_receiver& receiver) override;

  std::size_t open_batches() const noexcept { return open_.size(); }

 private:
  friend class batching_batch;

  const batching_options options_;
  const std::string name_;
  const duration window_;
  runtime& clock_;
  event_sink& events_;
  handler& next_;
  // Batches still collecting, by model; the key views the batch's own copy of the model name.
  std::unordered_map<std::string_view, batching_batch*> open_;
};

class batching_spec final : public policy_spec {
 public:
  explicit batching_spec(const batching_options& initial) : options(initial) {}
  std::string_view type() const noexcept override { return "batching"; }
  std::unique_ptr<handler> build(const policy_environment& env, handler& next) const override;

  batching_options options;
};

policy_registration batching_registration();

}  // namespace squall
