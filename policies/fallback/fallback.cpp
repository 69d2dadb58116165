#include "policies/fallback/fallback.hpp"

#include <utility>

namespace squall {
namespace {

// Points `field` at `target` for the inner call, saving the request's own value the first time (a swap:
// no copy of the caller's string). An empty target means "the request's own value".
void retarget_field(std::string& field, const std::string& target, std::string& saved, bool& is_saved) {
  if (target.empty()) {
    if (is_saved) field = saved;
    return;
  }
  if (!is_saved) {
    saved.swap(field);
    is_saved = true;
  }
  field = target;
}

void restore_field(std::string& field, std::string& saved, bool& is_saved) noexcept {
  if (!is_saved) return;
  field.swap(saved);
  is_saved = false;
}

}  // namespace

// One call through the chain: at most one inner attempt at a time, on endpoint index_. It is the receiver
// of every attempt and the target of the timer that answers "every endpoint is cooling" (never from inside
// start()), and frees itself when it delivers or is cancelled.
class fallback_call final : public operation, public outcome_receiver, public timer_target {
 public:
  fallback_call(fallback_handler& owner, const call_scope& scope, outcome_receiver& receiver)
      : owner_(owner), scope_(scope), receiver_(receiver) {}

  void begin() {
    const std::size_t count = owner_.options_.endpoints.size();
    if (owner_.breakers_) {
      left_out_ = owner_.open_endpoints(request_id());
      for (std::size_t i = 0; i < count; ++i) {
        if ((left_out_ >> i) & 1U) continue;
        if (i > 0) emit_fallback_used(i, outcome_class::circuit_open);
        attempt(i, endpoint_admission::normal);
        return;
      }
    }
    for (std::size_t i = 0; i < count; ++i) {
      const endpoint_admission admission = owner_.admit(i);
      if (admission == endpoint_admission::none) continue;
      // Skipping cooling endpoints is a fallback too: the call is not served by the primary.
      if (i > 0) emit_fallback_used(i, outcome_class::circuit_open);
      attempt(i, admission);
      return;
    }
    if (owner_.options_.when_all_cooling == all_cooling_mode::try_first) {
      attempt(0, endpoint_admission::forced);
    } else {
      timer_ = owner_.clock_.start_timer(duration{}, *this, 0);
    }
  }

  void cancel() noexcept override {
    if (inner_ != nullptr) {
      inner_->cancel();
      owner_.forget(index_, epoch_, admission_);
    }
    owner_.clock_.cancel_timer(timer_);
    restore();
    owner_.calls_.destroy(this);
  }

  void on_outcome(outcome&& result) override {
    inner_ = nullptr;
    if (owner_.breakers_) {
      owner_.record_breaker(index_, result, request_id());
    } else {
      owner_.record(index_, epoch_, admission_, result, request_id());
    }
    // A degraded answer is still an answer; only the listed failures move the call on.
    if (result.kind == outcome_class::ok || !owner_.options_.fallback_on.contains(result.kind)) {
      finish(std::move(result));
      return;
    }
    // Past the call's deadline nothing else can finish in time: deliver the real failure.
    if (scope_.deadline != time_never && owner_.clock_.now() >= scope_.deadline) {
      finish(std::move(result));
      return;
    }
    const std::size_t count = owner_.options_.endpoints.size();
    for (std::size_t i = index_ + 1; i < count; ++i) {
      if (owner_.breakers_) {
        // Portkey decides which targets are open once, when the request starts.
        if ((left_out_ >> i) & 1U) continue;
        emit_fallback_used(i, result.kind);
        attempt(i, endpoint_admission::normal);
        return;
      }
      const endpoint_admission admission = owner_.admit(i);
      if (admission == endpoint_admission::none) continue;
      emit_fallback_used(i, result.kind);
      attempt(i, admission);
      return;
    }
    finish(std::move(result));
  }

  void on_timer(std::uint32_t) override {
    timer_ = {};
    finish(outcome::failure(owner_.last_cooldown_cause_, owner_.name_));
  }

 private:
  std::uint64_t request_id() const noexcept { return scope_.call->req.id; }

  void attempt(std::size_t index, endpoint_admission admission) {
    index_ = index;
    admission_ = admission;
    epoch_ = owner_.health_[index].epoch;  // read after admit(), which may have started a new epoch
    const fallback_endpoint& e = owner_.options_.endpoints[index];
    request& req = scope_.call->req;
    retarget_field(req.provider, e.provider, saved_provider_, provider_saved_);
    retarget_field(req.model, e.model, saved_model_, model_saved_);
    inner_ = &owner_.next_.start(scope_, *this);
  }

  void emit_fallback_used(std::size_t index, outcome_class cause) {
    owner_.emit(policy_event_kind::fallback_used, request_id(), cause, index, owner_.options_.endpoints[index].name);
  }

  void restore() noexcept {
    request& req = scope_.call->req;
    restore_field(req.provider, saved_provider_, provider_saved_);
    restore_field(req.model, saved_model_, model_saved_);
  }

  void finish(outcome&& result) {
    restore();
    outcome_receiver& receiver = receiver_;
    owner_.calls_.destroy(this);
    receiver.on_outcome(std::move(result));
  }

  fallback_handler& owner_;
  const call_scope scope_;
  outcome_receiver& receiver_;
  operation* inner_ = nullptr;
  timer_id timer_;
  std::size_t index_ = 0;
  std::uint64_t epoch_ = 0;
  endpoint_admission admission_ = endpoint_admission::none;
  std::uint32_t left_out_ = 0;  // with a breaker: the endpoints open when the call started
  bool provider_saved_ = false;
  bool model_saved_ = false;
  std::string saved_provider_;  // the request's own values while an endpoint overrides them
  std::string saved_model_;
};

fallback_handler::fallback_handler(const fallback_options& options, std::string name, const policy_environment& env,
                                   handler& next)
    : options_(options),
      name_(std::move(name)),
      cooldown_(from_ms(options.cooldown_ms)),
      clock_(env.clock),
      events_(env.events),
      next_(next),
      health_(options.endpoints.size()) {
  if (options_.breaker) breakers_.emplace(*options_.breaker, options_.endpoints.size());
}

std::uint32_t fallback_handler::open_endpoints(std::uint64_t request_id) {
  const target_breakers::check c = breakers_->start_call(clock_.now());
  const std::size_t count = options_.endpoints.size();
  for (std::size_t i = 0; i < count; ++i) {
    if ((c.recovered >> i) & 1U) {
      emit(policy_event_kind::endpoint_recovered, request_id, outcome_class::ok, i, options_.endpoints[i].name);
    }
  }
  const std::uint32_t all = (1U << count) - 1U;
  // Every endpoint open: Portkey bypasses the breakers rather than refuse the request.
  return c.open == all ? 0U : c.open;
}

void fallback_handler::record_breaker(std::size_t index, const outcome& result, std::uint64_t request_id) {
  if (breakers_->record(index, result, clock_.now())) {
    last_cooldown_cause_ = result.kind;
    emit(policy_event_kind::endpoint_cooldown, request_id, result.kind, index, options_.endpoints[index].name);
  }
}

operation& fallback_handler::start(const call_scope& scope, outcome_receiver& receiver) {
  fallback_call* call = calls_.make(*this, scope, receiver);
  call->begin();
  return *call;
}

endpoint_admission fallback_handler::admit(std::size_t index) {
  endpoint_health& h = health_[index];
  switch (h.state) {
    case endpoint_state::healthy: return endpoint_admission::normal;
    case endpoint_state::cooling:
      if (clock_.now() < h.cooling_until) return endpoint_admission::none;
      h.state = endpoint_state::probing;
      ++h.epoch;
      h.probes_admitted = 0;
      h.probes_succeeded = 0;
      [[fallthrough]];
    case endpoint_state::probing:
      if (h.probes_admitted >= options_.probe_calls) return endpoint_admission::none;
      ++h.probes_admitted;
      return endpoint_admission::probe;
  }
  return endpoint_admission::none;
}

void fallback_handler::record(std::size_t index, std::uint64_t epoch, endpoint_admission admission,
                              const outcome& result, std::uint64_t request_id) {
  endpoint_health& h = health_[index];
  if (admission == endpoint_admission::forced || epoch != h.epoch) return;
  const outcome_class kind = result.kind;
  const bool failure = options_.fallback_on.contains(kind);
  // A degraded or cached answer did not come from the endpoint: it proves nothing either way.
  const bool success = result.ok() && !result.from_cache;
  if (h.state == endpoint_state::healthy) {
    if (success) {
      h.consecutive_failures = 0;
    } else if (failure && ++h.consecutive_failures >= options_.failures_to_cooldown) {
      cool(index, kind, request_id);
    }
    return;
  }
  if (h.state != endpoint_state::probing || admission != endpoint_admission::probe) return;
  if (failure) {
    cool(index, kind, request_id);
  } else if (success) {
    if (++h.probes_succeeded < options_.probe_calls) return;
    h.state = endpoint_state::healthy;
    h.consecutive_failures = 0;
    ++h.epoch;
    emit(policy_event_kind::endpoint_recovered, request_id, kind, index, options_.endpoints[index].name);
  } else {
    // A class that says nothing about the endpoint (invalid_request, say): the permit goes to the next call.
    --h.probes_admitted;
  }
}

void fallback_handler::forget(std::size_t index, std::uint64_t epoch, endpoint_admission admission) noexcept {
  endpoint_health& h = health_[index];
  // A cancelled probe says nothing about the endpoint; its permit goes to the next caller.
  if (admission == endpoint_admission::probe && epoch == h.epoch && h.state == endpoint_state::probing) {
    --h.probes_admitted;
  }
}

void fallback_handler::cool(std::size_t index, outcome_class cause, std::uint64_t request_id) {
  endpoint_health& h = health_[index];
  h.state = endpoint_state::cooling;
  h.cooling_until = clock_.now() + cooldown_;
  h.consecutive_failures = 0;
  ++h.epoch;
  last_cooldown_cause_ = cause;
  emit(policy_event_kind::endpoint_cooldown, request_id, cause, index, options_.endpoints[index].name);
}

void fallback_handler::emit(policy_event_kind kind, std::uint64_t request_id, outcome_class cause,
                            std::uint64_t value, std::string_view detail) {
  events_.on_policy_event(policy_event{kind, name_, clock_.now(), request_id, duration{}, cause, value, detail});
}

std::unique_ptr<handler> fallback_spec::build(const policy_environment& env, handler& next) const {
  return std::make_unique<fallback_handler>(options, name.empty() ? std::string(type()) : name, env, next);
}

namespace {

std::unique_ptr<policy_spec> parse_fallback(json_reader& reader) {
  fallback_options options;
  read_fallback_options(reader, options);
  return std::make_unique<fallback_spec>(options);
}

}  // namespace

policy_registration fallback_registration() {
  return policy_registration{"fallback", &parse_fallback,
                             "tries a chain of provider/model endpoints in order, cooling down failing ones"};
}

}  // namespace squall
