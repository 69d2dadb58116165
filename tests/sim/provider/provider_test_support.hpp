#pragma once
// Helpers shared by the provider tests: a small provider configuration with round numbers, and a client
// that records what its one call received and when.

#include <optional>

#include "policies/core/call.hpp"
#include "sim/engine/event_loop.hpp"
#include "sim/provider/provider_config.hpp"
#include "sim/provider/sim_provider.hpp"

namespace squall::sim::testing {

// ttft 100 ms, 10 ms per output token, errors answered after 30 ms; 4 slots, queue of 8; one model
// "m" at $1 / $2 per million tokens. Deterministic: every distribution is a constant.
inline provider_config simple_config() {
  provider_config c;
  c.name = "prov";
  c.api = "openai";
  c.models = {{"m", model_price{1.0, 2.0}}, {"big", model_price{10.0, 40.0}}};
  c.ttft_ms = distribution::constant(100);
  c.ms_per_output_token = distribution::constant(10);
  c.error_latency_ms = distribution::constant(30);
  c.slots = 4;
  c.queue = 8;
  return c;
}

inline fault_window window(double at_s, double for_s) {
  fault_window w;
  w.at_s = at_s;
  w.for_s = for_s;
  return w;
}

// One logical call and what it received.
struct client final : outcome_receiver {
  explicit client(event_loop& l, std::uint64_t id = 1, std::uint32_t output_tokens = 0) : loop(&l) {
    call.req.id = id;
    call.req.model = "m";
    call.req.input_tokens = 1000;
    call.req.output_tokens = output_tokens;
  }
  void on_outcome(outcome&& o) override {
    ++received;
    got = std::move(o);
    at = loop->now();
  }
  // Sends one attempt, counting it as the router above the provider would.
  operation& send(handler& h) {
    ++call.attempts;
    return h.start(call_scope{&call, time_never}, *this);
  }
  double latency_ms() const { return got ? to_ms(got->latency) : -1; }

  event_loop* loop;
  call_context call;
  std::optional<outcome> got;
  time_point at{};
  int received = 0;
};

struct billing_listener final : provider_listener {
  void on_abandoned_billed(double usd) override {
    ++calls;
    total_usd += usd;
  }
  int calls = 0;
  double total_usd = 0;
};

}  // namespace squall::sim::testing
