#pragma once
// A litellm_router in front of a scripted fake transport, in virtual time, for the litellm_router suites.

#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "policies/litellm_router/litellm_router.hpp"
#include "sim/engine/event_loop.hpp"
#include "tests/support/fake_transport.hpp"

namespace squall::testing {

inline constexpr std::uint64_t litellm_rig_seed = 99;

// A failure as a provider sends it: a class, its HTTP status and, when given, a Retry-After.
inline outcome litellm_failure_of(outcome_class c, int status, std::optional<double> retry_after_s = {}) {
  outcome o = outcome::failure(c);
  o.http_status = status;
  if (retry_after_s) o.retry_after = from_s(*retry_after_s);
  return o;
}

// A group of `models` deployments ("m0", "m1", ... on provider "p"), num_retries as given.
inline litellm_router_options litellm_test_group(std::size_t models, std::uint32_t num_retries) {
  litellm_router_options o;
  for (std::size_t i = 0; i < models; ++i) {
    litellm_deployment d;
    d.provider = "p";
    d.model = "m" + std::to_string(i);
    d.name = "p/" + d.model;
    o.deployments.push_back(d);
  }
  o.num_retries = num_retries;
  return o;
}

// A fallback group named `name` of `models` deployments ("<name>0", "<name>1", ... on provider "p").
inline litellm_fallback_group litellm_fallback_of(const std::string& name, std::size_t models) {
  litellm_fallback_group g;
  g.model_group = name;
  for (std::size_t i = 0; i < models; ++i) {
    litellm_deployment d;
    d.provider = "p";
    d.model = name + std::to_string(i);
    d.name = name + ":p/" + d.model;
    g.deployments.push_back(d);
  }
  return g;
}

// A success reporting its tokens, as a provider's usage does.
inline outcome litellm_success_of(std::uint32_t input_tokens, std::uint32_t output_tokens) {
  outcome o;
  o.input_tokens = input_tokens;
  o.output_tokens = output_tokens;
  return o;
}

// What one attempt reached: when it started and which model it was sent to.
struct litellm_attempt {
  time_point start;
  std::string model;
};

struct litellm_rig {
  explicit litellm_rig(litellm_router_options o) : options(std::move(o)) {
    transport = std::make_unique<fake_transport>(loop, from_ms(10), [this](const call_context& c, std::uint32_t) {
      attempts.push_back(litellm_attempt{loop.now() - transport->latency(), c.req.model});
      if (answers.empty()) return fallback;
      outcome next = answers.front();
      answers.pop_front();
      return next;
    });
    policy = std::make_unique<litellm_router_handler>(options, "litellm",
                                                      policy_environment{loop, sink, litellm_rig_seed}, *transport);
  }

  // Starts a call with the request's own model "own" and `input_tokens`, without running the loop.
  timed_call& start(std::uint32_t input_tokens = 0) {
    timed_call& c = calls.emplace_back(loop);
    c.ctx.req.id = calls.size();
    c.ctx.req.provider = "own-provider";
    c.ctx.req.model = "own";
    c.ctx.req.input_tokens = input_tokens;
    policy->start(call_scope{&c.ctx, time_never}, c.receiver);
    return c;
  }

  // Starts a call and runs it to the end.
  timed_call& call(std::uint32_t input_tokens = 0) {
    timed_call& c = start(input_tokens);
    loop.run();
    return c;
  }

  std::vector<std::string> details(policy_event_kind kind) const {
    std::vector<std::string> out;
    for (const auto& e : sink.events) {
      if (e.kind == kind) out.emplace_back(e.detail);
    }
    return out;
  }

  std::vector<std::string> models() const {
    std::vector<std::string> out;
    for (const auto& a : attempts) out.push_back(a.model);
    return out;
  }

  std::vector<duration> delays(policy_event_kind kind) const {
    std::vector<duration> out;
    for (const auto& e : sink.events) {
      if (e.kind == kind) out.push_back(e.delay);
    }
    return out;
  }

  litellm_router_options options;
  sim::event_loop loop;
  recording_sink sink;
  std::unique_ptr<fake_transport> transport;
  std::unique_ptr<litellm_router_handler> policy;
  std::deque<outcome> answers;
  outcome fallback = litellm_failure_of(outcome_class::server_error, 500);
  std::vector<litellm_attempt> attempts;
  std::deque<timed_call> calls;
};

// The draws the policy makes, replayed from the same seed: a shuffle draw picks among `healthy`
// equal-weight deployments, a jitter is U(0, 0.75) s.
struct litellm_mirror {
  rng random{litellm_rig_seed};
  std::size_t pick(std::size_t healthy) { return static_cast<std::size_t>(random.uniform() * static_cast<double>(healthy)); }
  duration jitter() { return from_s(random.uniform(0.0, 0.75)); }
};

}  // namespace squall::testing
