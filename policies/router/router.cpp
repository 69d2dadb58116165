#include "policies/router/router.hpp"

#include <algorithm>
#include <utility>

namespace squall {

// One routed call: rewrites the request's target, runs the inner call, records the answer for the
// target's health, and puts the request back. Frees itself when it delivers or is cancelled.
class router_call final : public operation, public outcome_receiver {
 public:
  router_call(router_handler& owner, const call_scope& scope, outcome_receiver& receiver, std::size_t index,
              bool probe)
      : owner_(owner), scope_(scope), receiver_(receiver), index_(index), epoch_(owner.targets_[index].epoch),
        probe_(probe) {}

  void begin() {
    const router_target& t = *owner_.targets_[index_].target;
    request& req = scope_.call->req;
    // Swaps, not copies, of the caller's strings: they come back untouched.
    if (!t.provider.empty()) {
      saved_provider_.swap(req.provider);
      provider_saved_ = true;
      req.provider = t.provider;
    }
    saved_model_.swap(req.model);
    req.model = t.model;
    inner_ = &owner_.next_.start(scope_, *this);
  }

  void cancel() noexcept override {
    inner_->cancel();
    owner_.forget(index_, epoch_, probe_);
    restore();
    delete this;
  }

  void on_outcome(outcome&& result) override {
    owner_.record(index_, epoch_, probe_, result, scope_.call->req.id);
    restore();
    outcome_receiver& receiver = receiver_;
    delete this;
    receiver.on_outcome(std::move(result));
  }

 private:
  void restore() noexcept {
    request& req = scope_.call->req;
    if (provider_saved_) req.provider.swap(saved_provider_);
    req.model.swap(saved_model_);
  }

  router_handler& owner_;
  const call_scope scope_;
  outcome_receiver& receiver_;
  operation* inner_ = nullptr;
  std::size_t index_;
  std::uint64_t epoch_;
  bool probe_;
  bool provider_saved_ = false;
  std::string saved_provider_;
  std::string saved_model_;
};

router_handler::router_handler(const router_options& options, std::string name, const policy_environment& env,
                               handler& next)
    : options_(options),
      name_(std::move(name)),
      recheck_(from_ms(options.recheck_ms)),
      clock_(env.clock),
      events_(env.events),
      next_(next) {
  if (options_.candidates.empty()) {
    build_routes();
  } else {
    build_candidates();
  }
  for (target_state& t : targets_) t.ring.assign(options_.health_window, 0);
}

void router_handler::build_routes() {
  // Targets are the distinct routes: a model routed for two classes has one health record.
  std::array<std::uint8_t, request_class_count> target_of{};
  for (std::size_t c = 0; c < request_class_count; ++c) {
    const auto& route = options_.routes[c];
    if (!route) continue;
    std::size_t i = 0;
    while (i < targets_.size() &&
           (targets_[i].target->provider != route->provider || targets_[i].target->model != route->model)) {
      ++i;
    }
    if (i == targets_.size()) {
      targets_.emplace_back();
      targets_.back().target = &*route;
    }
    target_of[c] = static_cast<std::uint8_t>(i);
  }
  for (std::size_t c = 0; c < request_class_count; ++c) {
    for (std::size_t higher = c; higher < request_class_count; ++higher) {
      if (!options_.routes[higher]) continue;
      auto& list = preference_[c];
      if (std::find(list.begin(), list.end(), target_of[higher]) == list.end()) list.push_back(target_of[higher]);
    }
  }
}

void router_handler::build_candidates() {
  const auto& cs = options_.candidates;
  double quality_max = 0.0;
  double speed_max = 0.0;
  double cost_max = 0.0;
  for (const auto& c : cs) {
    targets_.emplace_back();
    targets_.back().target = &c.target;
    quality_max = std::max(quality_max, c.quality);
    speed_max = std::max(speed_max, c.speed);
    cost_max = std::max(cost_max, c.usd_per_mtok_out);
  }
  const auto share = [](double v, double max) { return max > 0.0 ? v / max : 0.0; };
  const auto balanced = [&](const router_candidate& c) {
    return (share(c.quality, quality_max) + share(c.speed, speed_max) + 1.0 - share(c.usd_per_mtok_out, cost_max)) / 3.0;
  };
  // True when candidate a is preferred to b under the priority (a strict weak order; stable sorting
  // keeps the list order for ties).
  const auto better = [&](std::uint8_t ia, std::uint8_t ib) {
    const router_candidate& a = cs[ia];
    const router_candidate& b = cs[ib];
    switch (options_.priority) {
      case router_priority::cost:
        if (a.usd_per_mtok_out != b.usd_per_mtok_out) return a.usd_per_mtok_out < b.usd_per_mtok_out;
        return a.quality > b.quality;
      case router_priority::speed:
        if (a.speed != b.speed) return a.speed > b.speed;
        return a.usd_per_mtok_out < b.usd_per_mtok_out;
      case router_priority::quality:
        if (a.quality != b.quality) return a.quality > b.quality;
        return a.usd_per_mtok_out < b.usd_per_mtok_out;
      case router_priority::balanced: return balanced(a) > balanced(b);
    }
    return false;
  };
  const auto by_quality = [&](std::uint8_t ia, std::uint8_t ib) { return cs[ia].quality > cs[ib].quality; };
  for (std::size_t c = 0; c < request_class_count; ++c) {
    std::vector<std::uint8_t> eligible;
    std::vector<std::uint8_t> others;
    for (std::size_t i = 0; i < cs.size(); ++i) {
      (cs[i].quality >= options_.quality_min[c] ? eligible : others).push_back(static_cast<std::uint8_t>(i));
    }
    std::stable_sort(eligible.begin(), eligible.end(), better);
    std::stable_sort(others.begin(), others.end(), by_quality);
    eligible.insert(eligible.end(), others.begin(), others.end());
    preference_[c] = std::move(eligible);
  }
}

operation& router_handler::start(const call_scope& scope, outcome_receiver& receiver) {
  const request& req = scope.call->req;
  const std::size_t request_class = request_class_of(req.complexity);
  for (const std::uint8_t i : preference_[request_class]) {
    const admission a = admit(i);
    if (a == admission::none) continue;
    const router_target& t = *targets_[i].target;
    // Only a change is worth an event: a router that mostly confirms the request's model stays quiet.
    if (t.model != req.model || (!t.provider.empty() && t.provider != req.provider)) {
      emit(policy_event_kind::routed, req.id, outcome_class::ok, request_class, t.name);
    }
    auto* call = new router_call(*this, scope, receiver, i, a == admission::probe);
    call->begin();
    return *call;
  }
  // Nothing healthy to route to: the request goes where its caller meant it to.
  return next_.start(scope, receiver);
}

router_handler::admission router_handler::admit(std::size_t index) {
  target_state& t = targets_[index];
  switch (t.state) {
    case target_health::healthy: return admission::normal;
    case target_health::probing: return admission::none;
    case target_health::unhealthy:
      if (clock_.now() < t.recheck_at) return admission::none;
      t.state = target_health::probing;
      ++t.epoch;
      return admission::probe;
  }
  return admission::none;
}

void router_handler::record(std::size_t index, std::uint64_t epoch, bool probe, const outcome& result,
                            std::uint64_t request_id) {
  target_state& t = targets_[index];
  if (epoch != t.epoch) return;
  const bool failure = options_.failure_on.contains(result.kind);
  // A degraded or cached answer did not come from the target: it proves nothing either way.
  const bool success = result.ok() && !result.from_cache;
  if (t.state == target_health::probing) {
    if (!probe) return;
    if (failure) {
      mark_unhealthy(t, result.kind, request_id);
    } else if (success) {
      t.state = target_health::healthy;
      ++t.epoch;
      clear_ring(t);
      emit(policy_event_kind::endpoint_recovered, request_id, result.kind, index, t.target->name);
    } else {
      forget(index, epoch, probe);
    }
    return;
  }
  if (t.state != target_health::healthy || (!failure && !success)) return;
  std::uint8_t& slot = t.ring[t.next];
  if (t.filled == options_.health_window) {
    t.failures -= slot;
  } else {
    ++t.filled;
  }
  slot = failure ? 1 : 0;
  t.failures += slot;
  t.next = t.next + 1 == options_.health_window ? 0 : t.next + 1;
  if (t.filled >= options_.health_answers_min &&
      static_cast<double>(t.failures) > options_.unhealthy_failure_rate * static_cast<double>(t.filled)) {
    mark_unhealthy(t, result.kind, request_id);
  }
}

void router_handler::forget(std::size_t index, std::uint64_t epoch, bool probe) noexcept {
  target_state& t = targets_[index];
  // The probe told nothing: the target stays due for a recheck, so the next call probes it.
  if (probe && epoch == t.epoch && t.state == target_health::probing) {
    t.state = target_health::unhealthy;
    ++t.epoch;
  }
}

void router_handler::mark_unhealthy(target_state& t, outcome_class cause, std::uint64_t request_id) {
  const std::uint32_t failures = t.failures;
  t.state = target_health::unhealthy;
  t.recheck_at = clock_.now() + recheck_;
  ++t.epoch;
  clear_ring(t);
  emit(policy_event_kind::endpoint_cooldown, request_id, cause, failures, t.target->name);
}

void router_handler::clear_ring(target_state& t) noexcept {
  std::fill(t.ring.begin(), t.ring.end(), std::uint8_t{0});
  t.next = 0;
  t.filled = 0;
  t.failures = 0;
}

void router_handler::emit(policy_event_kind kind, std::uint64_t request_id, outcome_class cause, std::uint64_t value,
                          std::string_view detail) {
  events_.on_policy_event(policy_event{kind, name_, clock_.now(), request_id, duration{}, cause, value, detail});
}

std::unique_ptr<handler> router_spec::build(const policy_environment& env, handler& next) const {
  return std::make_unique<router_handler>(options, name.empty() ? std::string(type()) : name, env, next);
}

namespace {

std::unique_ptr<policy_spec> parse_router(json_reader& reader) {
  router_options options;
  read_router_options(reader, options);
  return std::make_unique<router_spec>(options);
}

}  // namespace

policy_registration router_registration() {
  return policy_registration{"router", &parse_router,
                             "routes each call to a model by request class and priority, away from unhealthy ones"};
}

}  // namespace squall
