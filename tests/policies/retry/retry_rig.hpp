#pragma once
// A retry policy in front of a scripted fake transport, in virtual time, shared by the retry suites.

#include <deque>
#include <memory>
#include <vector>

#include "policies/retry/retry.hpp"
#include "sim/engine/event_loop.hpp"
#include "tests/support/fake_transport.hpp"

namespace squall::testing {

inline outcome with_class(outcome_class c) { return outcome::failure(c); }

// A retry in front of a fake transport whose answers come from `answers` (then from `fallback`), with
// the start time of every attempt recorded.
struct retry_rig {
  explicit retry_rig(retry_options o, duration latency = from_ms(10)) : options(o) {
    transport = std::make_unique<fake_transport>(loop, latency, [this](const call_context&, std::uint32_t) {
      attempt_starts.push_back(loop.now() - transport->latency());
      if (answers.empty()) return fallback;
      outcome next = answers.front();
      answers.pop_front();
      return next;
    });
    policy = std::make_unique<retry_handler>(options, "retry", policy_environment{loop, sink, 99}, *transport);
  }

  operation& start(time_point deadline = time_never) {
    ctx.req.id = 7;
    return policy->start(call_scope{&ctx, deadline}, receiver);
  }
  void run() {
    while (loop.step()) {
    }
  }

  retry_options options;
  sim::event_loop loop;
  recording_sink sink;
  std::unique_ptr<fake_transport> transport;
  std::unique_ptr<retry_handler> policy;
  std::deque<outcome> answers;
  outcome fallback = with_class(outcome_class::server_error);
  std::vector<time_point> attempt_starts;
  call_context ctx;
  recording_receiver receiver;
};

inline retry_options no_jitter(backoff_kind kind = backoff_kind::constant, double base = 100.0) {
  retry_options o;
  o.backoff = kind;
  o.delay_ms_base = base;
  o.jitter = jitter_kind::none;
  return o;
}

}  // namespace squall::testing
