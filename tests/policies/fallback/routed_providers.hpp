#pragma once
// Three scripted providers ("openai", the default, "anthropic" and "local") behind the simulation's real
// routing transport, for the tests of policies that route calls (fallback, router). Every attempt answers
// after a fixed latency; its class comes from `fails` keyed by "provider/model" (ok when absent), and the
// answer names the provider and model that served it, as a real transport's does. routed_rig puts one such
// policy in front of them.

#include <array>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include "policies/core/call.hpp"
#include "policies/pipeline/policy_spec.hpp"
#include "sim/engine/event_loop.hpp"
#include "sim/provider/sim_transport.hpp"
#include "tests/support/fake_transport.hpp"

namespace squall::testing {

class routed_providers {
 public:
  static constexpr std::array<std::string_view, 3> names = {"openai", "anthropic", "local"};

  routed_providers(runtime& clock, duration latency) : transport(clock) {
    for (std::string_view name : names) {
      fakes_.push_back(std::make_unique<fake_transport>(
          clock, latency, [this, name](const call_context& call, std::uint32_t) { return answer(name, call); }));
      transport.add_route(std::string(name), *fakes_.back());
    }
  }

  // Attempts started on provider `name`.
  int started(std::string_view name) const {
    for (std::size_t i = 0; i < names.size(); ++i) {
      if (names[i] == name) return fakes_[i]->started();
    }
    return -1;
  }
  int cancelled() const {
    int n = 0;
    for (const auto& f : fakes_) n += f->cancelled();
    return n;
  }

  std::map<std::string, outcome_class, std::less<>> fails;  // "provider/model" -> class
  std::vector<std::string> served;                            // "provider/model" of every answered attempt
  sim::sim_transport transport;

 private:
  outcome answer(std::string_view provider, const call_context& call) {
    std::string key = std::string(provider) + "/" + call.req.model;
    outcome o;
    if (auto it = fails.find(key); it != fails.end()) o = outcome::failure(it->second);
    if (o.kind == outcome_class::ok) o.output_tokens = 10;
    o.provider = provider;
    o.model = *models_.insert(call.req.model).first;  // outlives the call, as provider configuration does
    served.push_back(std::move(key));
    return o;
  }

  std::vector<std::unique_ptr<fake_transport>> fakes_;
  std::set<std::string> models_;
};

// A routing policy (`Policy`, built from its options) in front of the routed providers, answering after
// 10 ms of virtual time. Calls ask for openai/gpt-4o; the policy must put the request back as it was.
template <class Policy>
struct routed_rig {
  template <class Options>
  routed_rig(const Options& o, const char* name)
      : providers(loop, from_ms(10)), policy(o, name, policy_environment{loop, sink, 1}, providers.transport) {}

  struct pending {
    call_context ctx;
    recording_receiver receiver;
    operation* op = nullptr;
  };

  std::unique_ptr<pending> begin(std::uint64_t id, time_point deadline, std::uint8_t complexity) {
    auto p = std::make_unique<pending>();
    p->ctx.req.id = id;
    p->ctx.req.provider = "openai";
    p->ctx.req.model = "gpt-4o";
    p->ctx.req.complexity = complexity;
    p->op = &policy.start(call_scope{&p->ctx, deadline}, p->receiver);
    EXPECT_EQ(p->receiver.calls, 0) << "never delivered from inside start()";
    return p;
  }

  outcome finish(pending& p) {
    while (p.receiver.calls == 0) {
      if (!loop.step()) {
        ADD_FAILURE() << "the call never completed";
        break;
      }
    }
    EXPECT_EQ(p.receiver.calls, 1);
    EXPECT_EQ(p.ctx.req.provider, "openai") << "the request is put back before delivery";
    EXPECT_EQ(p.ctx.req.model, "gpt-4o") << "the request is put back before delivery";
    return p.receiver.last;
  }

  sim::event_loop loop;
  recording_sink sink;
  routed_providers providers;
  Policy policy;
};

}  // namespace squall::testing
