#pragma once
// A configuration run as a fleet of client instances (pods). Each instance is a pipeline of its own, so
// each has its own breakers, retry budgets, limiters and caches, as N replicas of a service would; the
// providers behind them are shared. Requests are spread over the instances round robin, at random, or
// sticky by the request's cache key (a stand-in for a user or session: the same key always reaches the
// same instance).
//
// One instance is exactly the plain pipeline: the same seeds, the same draws, the same results. Instance
// i > 0 seeds its policies from mix_seed(root, i), so every configuration of a scenario with the same
// fleet size gets the same draws per instance (common random numbers).

#include <cstdint>
#include <memory>
#include <vector>

#include "policies/core/call.hpp"
#include "policies/core/rng.hpp"
#include "policies/pipeline/pipeline.hpp"
#include "sim/metrics/run_metrics.hpp"
#include "sim/scenario/scenario.hpp"

namespace squall::sim {

// What one instance did, for results.json's "fleet": counted from its requests and its policies' events.
struct fleet_instance_counts {
  std::uint64_t requests = 0;
  std::uint64_t retries = 0;
  std::uint64_t retry_budget_refusals = 0;
  std::uint64_t breaker_openings = 0;
  std::uint64_t breaker_rejections = 0;
  std::uint64_t client_rejections = 0;
};

class fleet final : public handler {
 public:
  // `seed_root` is what a single pipeline would be seeded with; `spread_seed` seeds the random spread.
  fleet(const pipeline_spec& spec, const fleet_spec& shape, runtime& clock, run_metrics& metrics,
        std::uint64_t seed_root, std::uint64_t spread_seed, handler& transport);

  operation& start(const call_scope& scope, outcome_receiver& receiver) override;
  void report_gauges(gauge_sink& sink) const override;

  std::size_t size() const noexcept { return instances_.size(); }
  const fleet_spec& shape() const noexcept { return shape_; }
  std::vector<fleet_instance_counts> counts() const;

 private:
  // One pod: its pipeline, and the sink its policies report to, which counts and tags their events.
  struct instance final : event_sink {
    void on_policy_event(const policy_event& event) override;
    run_metrics* metrics = nullptr;
    std::uint32_t index = 0;
    fleet_instance_counts counts;
    std::unique_ptr<pipeline> chain;
  };

  std::size_t pick(const call_context& call) noexcept;

  fleet_spec shape_;
  std::vector<std::unique_ptr<instance>> instances_;
  rng spread_;
  std::size_t next_ = 0;
};

// results.json's "fleet" of a configuration: its shape and each instance's counts; null for one instance.
json fleet_document(const fleet& f);

}  // namespace squall::sim
