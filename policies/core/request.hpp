#pragma once
// What one logical call asks for. Policies may read all of it; routing policies may change the target.

#include <cstdint>
#include <string>
#include <string_view>

#include "policies/core/payload.hpp"
#include "policies/core/time.hpp"

namespace squall {

struct request {
  std::uint64_t id = 0;                // unique within a run; keys per-request random draws
  std::string provider;                // target provider; empty means the transport's default
  std::string model;
  std::uint32_t input_tokens = 0;
  std::uint32_t output_tokens = 0;     // expected (simulation: actual) output tokens
  std::uint64_t cache_key = 0;         // exact-match identity; 0 = not cacheable
  std::uint32_t semantic_cluster = 0;  // simulation's stand-in for embedding similarity
  std::uint64_t idempotency_key = 0;
  std::uint8_t priority = 0;           // 0 = normal; larger is more important
  std::uint8_t complexity = 0;         // request class for routing: 0 simple, 1 moderate, 2 complex, 3 critical
  time_point deadline = time_never;    // the caller's own deadline, if any
  std::uint32_t batch_size = 1;        // > 1 when a batching policy sent several requests as one call
  // The caller's call (messages or a raw body), when it has one: production always, the simulation and
  // the load generator never (the transport then synthesizes a prompt of input_tokens words). Owned and
  // immutable, so a policy that keeps it past the call (a coalesced follower, the semantic cache) keeps
  // the bytes, never a view of the caller's memory.
  payload_ptr payload;

  // The payload's text, for policies that compare prompts; empty without a payload.
  std::string_view prompt() const noexcept {
    return payload ? std::string_view(payload->prompt) : std::string_view();
  }
};

}  // namespace squall
