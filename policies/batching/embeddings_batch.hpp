#pragma once
// The one kind of production call a provider really accepts several of as one call: an embeddings
// request with a single text input. Batched, the texts become one "input" array; the answer's data[i]
// is input i's vector, which goes back to that member alone, in an answer of the same shape.
//
//   member:  {"model": "text-embedding-3-small", "input": "text i", ...}   -> POST <base>/embeddings
//   batch:   {"model": "text-embedding-3-small", "input": ["text 1", ..., "text n"], ...}
//   answer:  {"object": "list", "data": [{"object": "embedding", "index": i, "embedding": [...]}...],
//             "model": ..., "usage": {"prompt_tokens": N, "total_tokens": N}}
//
// Calls are batched together only when everything but "input" is the same (model, dimensions,
// encoding_format, user): the batch's `group` says so.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "policies/core/payload.hpp"

namespace squall {

// OpenAI's limit on the items of one "input" array.
inline constexpr std::uint32_t embeddings_inputs_max = 2048;

struct embeddings_member {
  std::string text;   // the member's input
  std::string group;  // the path and the body without "input", as compact JSON: equal means batchable
};

// The member view of `payload` when it is a raw call to an "/embeddings" path whose JSON body has a string
// "input"; none otherwise (chat calls, array inputs, anything else: they go alone).
std::optional<embeddings_member> read_embeddings_member(const call_payload& payload);

// The batch's body: `group`'s body with "input" set to `texts`, in order.
std::string batch_embeddings_body(std::string_view group, const std::vector<std::string_view>& texts);

// Every member's answer from the batch's answer body: member i gets data[i] (by its "index", else its
// position) as the only item, renumbered 0, with the batch's model and prompt_tokens[i] as its usage, in
// the provider's key order; the vector's numbers are the provider's. An empty string for a member the
// answer has no embedding for (and for every member when the body is not an embeddings answer).
std::vector<std::string> split_embeddings_answer(std::string_view batch_body,
                                                 const std::vector<std::uint32_t>& prompt_tokens);

}  // namespace squall
