#pragma once
// What one logical call asks for. Policies may read all of it; routing policies may change the target.

#include <cstdint>
#include <string>
#include <string_view>

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
  // The prompt text, when the caller has it (live mode, production); empty in the simulation. A view, so
  // that copying a request stays cheap: the caller keeps the text alive and unchanged until the call's
  // outcome is delivered or the call is cancelled. Policies that remember anything about it beyond the
  // call (the semantic cache keeps an embedding) copy what they need, never the view.
  std::string_view prompt;
};

}  // namespace squall
