#pragma once
// Three scripted providers ("openai", the default, "anthropic" and "local") behind the simulation's real
// routing transport, for the tests of policies that route calls (fallback, router). Every attempt answers
// after a fixed latency; its class comes from `fails` keyed by "provider/model" (ok when absent), and the
// answer names the provider and model that served it, as a real transport's does.

#include <array>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "policies/core/call.hpp"
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

}  // namespace squall::testing
