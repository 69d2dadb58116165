#include "sim/run/fleet.hpp"

namespace squall::sim {

fleet::fleet(const pipeline_spec& spec, const fleet_spec& shape, runtime& clock, run_metrics& metrics,
             std::uint64_t seed_root, std::uint64_t spread_seed, handler& transport)
    : shape_(shape), spread_(spread_seed) {
  instances_.reserve(shape.instances);
  for (std::uint32_t i = 0; i < shape.instances; ++i) {
    auto pod = std::make_unique<instance>();
    pod->metrics = &metrics;
    pod->index = i;
    const std::uint64_t seed = i == 0 ? seed_root : mix_seed(seed_root, i);
    pod->chain = std::make_unique<pipeline>(spec, clock, *pod, seed, transport);
    instances_.push_back(std::move(pod));
  }
}

std::size_t fleet::pick(const call_context& call) noexcept {
  const std::size_t n = instances_.size();
  if (n == 1) return 0;
  switch (shape_.spread) {
    case fleet_spread::round_robin: {
      const std::size_t k = next_;
      next_ = next_ + 1 == n ? 0 : next_ + 1;
      return k;
    }
    case fleet_spread::random: return static_cast<std::size_t>(spread_.uniform() * static_cast<double>(n)) % n;
    case fleet_spread::sticky: {
      // A request without a key has no session to stick to: its id spreads it.
      const std::uint64_t key = call.req.cache_key != 0 ? call.req.cache_key : call.req.id;
      return static_cast<std::size_t>(mix_seed(key, 0x5f1ee7) % n);
    }
  }
  return 0;
}

operation& fleet::start(const call_scope& scope, outcome_receiver& receiver) {
  instance& pod = *instances_[pick(*scope.call)];
  ++pod.counts.requests;
  return pod.chain->start(scope, receiver);
}

void fleet::report_gauges(gauge_sink& sink) const {
  for (const auto& pod : instances_) pod->chain->report_gauges(sink);
}

std::vector<fleet_instance_counts> fleet::counts() const {
  std::vector<fleet_instance_counts> out;
  out.reserve(instances_.size());
  for (const auto& pod : instances_) out.push_back(pod->counts);
  return out;
}

void fleet::instance::on_policy_event(const policy_event& event) {
  if (is_client_rejection(event.kind)) ++counts.client_rejections;
  switch (event.kind) {
    case policy_event_kind::retry_scheduled: ++counts.retries; break;
    case policy_event_kind::retry_budget_exhausted: ++counts.retry_budget_refusals; break;
    case policy_event_kind::breaker_opened: ++counts.breaker_openings; break;
    case policy_event_kind::breaker_rejected: ++counts.breaker_rejections; break;
    default: break;
  }
  metrics->on_policy_event(event, index);
}

json fleet_document(const fleet& f) {
  if (f.size() <= 1) return nullptr;
  json per_instance = json::array();
  for (const auto& c : f.counts()) {
    per_instance.push_back({{"requests", c.requests},
                            {"retries", c.retries},
                            {"retry_budget_refusals", c.retry_budget_refusals},
                            {"breaker_openings", c.breaker_openings},
                            {"breaker_rejections", c.breaker_rejections},
                            {"client_rejections", c.client_rejections}});
  }
  const char* spread = f.shape().spread == fleet_spread::random   ? "random"
                       : f.shape().spread == fleet_spread::sticky ? "sticky"
                                                                  : "round_robin";
  return json{{"instances", f.size()}, {"spread", spread}, {"per_instance", std::move(per_instance)}};
}

}  // namespace squall::sim
