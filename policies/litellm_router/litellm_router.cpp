#include "policies/litellm_router/litellm_router.hpp"

#include <algorithm>
#include <cmath>
#include <utility>

namespace squall {
namespace {

// LiteLLM's constants (router_utils/cooldown_handlers.py, litellm/constants.py, _calculate_retry_after).
constexpr double litellm_failure_share_threshold = 0.5;
constexpr std::uint64_t litellm_single_deployment_requests_min = 1000;
constexpr duration litellm_minute_counter_ttl = from_s(60.0);
constexpr double litellm_backoff_s_initial = 0.5;
constexpr double litellm_backoff_s_max = 8.0;
constexpr double litellm_jitter_s_max = 0.75;
constexpr duration litellm_retry_after_max = from_s(60.0);
constexpr std::uint32_t litellm_default_allowed_fails = 3;  // litellm.allowed_fails

// The Retry-After of usage-based-routing-v2's own RateLimitErrors (lowest_tpm_rpm_v2.py).
constexpr duration litellm_v2_retry_after = from_s(60.0);

constexpr std::uint32_t timer_retry = 0;
constexpr std::uint32_t timer_no_deployment = 1;
constexpr std::uint32_t timer_give_up = 2;
constexpr std::uint32_t timer_fallback = 3;

int usual_status(outcome_class c) noexcept {
  switch (c) {
    case outcome_class::rate_limited:
    case outcome_class::quota:
    case outcome_class::rejected: return 429;
    case outcome_class::overloaded:
    case outcome_class::circuit_open: return 503;
    case outcome_class::timeout: return 408;
    case outcome_class::invalid_request: return 400;
    case outcome_class::auth: return 401;
    default: return 500;
  }
}

// litellm._should_retry: the statuses LiteLLM considers transient.
bool litellm_status_is_transient(int status) noexcept {
  return status == 408 || status == 409 || status == 429 || status >= 500;
}

}  // namespace

litellm_failure classify_for_litellm(const outcome& result) noexcept {
  litellm_failure f;
  f.status = result.http_status >= 400 ? result.http_status : usual_status(result.kind);
  // A timeout and a broken connection never reach LiteLLM as an HTTP status: its own exception classes.
  if (result.kind == outcome_class::timeout) {
    f.error = litellm_error::timeout;
    return f;
  }
  if (result.kind == outcome_class::connection_error) {
    f.error = litellm_error::connection;
    return f;
  }
  switch (f.status) {
    case 400: f.error = litellm_error::bad_request; break;
    case 401: f.error = litellm_error::authentication; break;
    case 403: f.error = litellm_error::permission_denied; break;
    case 404: f.error = litellm_error::not_found; break;
    case 408: f.error = litellm_error::timeout; break;
    case 429: f.error = litellm_error::rate_limit; break;
    case 500: f.error = litellm_error::internal_server; break;
    default: f.error = litellm_error::other; break;
  }
  return f;
}

// One call through the model groups: at most one attempt or one sleep at a time. It is the receiver of
// every attempt and the target of every timer, and frees itself when it delivers or is cancelled.
class litellm_router_call final : public operation, public outcome_receiver, public timer_target {
 public:
  litellm_router_call(litellm_router_handler& owner, const call_scope& scope, outcome_receiver& receiver)
      : owner_(owner), scope_(scope), receiver_(receiver) {
    const request& req = scope_.call->req;
    own_provider_ = req.provider;
    own_model_ = req.model;
  }

  void begin() { attempt(); }

  void cancel() noexcept override {
    if (inner_ != nullptr) {
      inner_->cancel();
      group().attempt_abandoned(index_);
    }
    owner_.clock_.cancel_timer(timer_);
    restore();
    delete this;
  }

  void on_outcome(outcome&& result) override {
    inner_ = nullptr;
    group().attempt_ended(index_, owner_.clock_.now(), result, owner_.clock_.now() - attempt_start_);
    // A degraded answer is still an answer: LiteLLM sees no exception.
    if (result.kind == outcome_class::ok) {
      owner_.record_success(group(), index_);
      finish(std::move(result));
      return;
    }
    owner_.record_failure(group(), index_, result, request_id());
    on_failure(std::move(result));
  }

  void on_timer(std::uint32_t cookie) override {
    timer_ = {};
    switch (cookie) {
      case timer_retry:
        ++retries_started_;
        attempt();
        return;
      case timer_no_deployment:
        on_failure(std::move(refusal_));
        return;
      case timer_fallback:
        attempt();
        return;
      default:
        group_failed(std::move(first_failure_));
        return;
    }
  }

 private:
  std::uint64_t request_id() const noexcept { return scope_.call->req.id; }
  litellm_group& group() noexcept { return owner_.groups_[group_]; }

  void attempt() {
    request& req = scope_.call->req;
    const time_point now = owner_.clock_.now();
    const litellm_pick pick = group().pick(now, req.input_tokens, owner_.random_);
    if (pick.status != litellm_pick_status::picked) {
      refusal_ = outcome::failure(outcome_class::rate_limited, owner_.name_);
      // usage-based-routing-v2 raises its own RateLimitError, with a Retry-After of 60 s.
      if (pick.status == litellm_pick_status::none_within_limits &&
          owner_.options_.routing_strategy == litellm_routing_strategy::usage_based_v2) {
        refusal_.retry_after = litellm_v2_retry_after;
      }
      // Never answer from inside start(): the caller may still be wiring the call up.
      timer_ = owner_.clock_.start_timer(duration{}, *this, timer_no_deployment);
      return;
    }
    index_ = pick.index;
    if (owner_.options_.routing_strategy == litellm_routing_strategy::usage_based_v2 && !group().admit(index_, now)) {
      // async_pre_call_check: the deployment is at its rpm; the RateLimitError is logged as the
      // deployment's failure and goes through the cooldown rules.
      outcome refused = outcome::failure(outcome_class::rate_limited, owner_.name_);
      refused.http_status = 429;
      refused.retry_after = litellm_v2_retry_after;
      owner_.record_failure(group(), index_, refused, request_id());
      refusal_ = std::move(refused);
      timer_ = owner_.clock_.start_timer(duration{}, *this, timer_no_deployment);
      return;
    }
    const litellm_deployment& d = group().deployments()[index_];
    req.provider = d.provider.empty() ? own_provider_ : d.provider;
    req.model = d.model.empty() ? own_model_ : d.model;
    attempt_start_ = now;
    group().attempt_started(index_);
    inner_ = &owner_.next_.start(scope_, *this);
  }

  void on_failure(outcome&& result) {
    if (retries_started_ == 0) {
      first_failure_ = std::move(result);
      first_ = classify_for_litellm(first_failure_);
      if (!retried_at_all()) {
        group_failed(std::move(first_failure_));
        return;
      }
      retries_ = owner_.retries_for(first_.error);
      if (retries_ == 0) {
        group_failed(std::move(first_failure_));
        return;
      }
      schedule(owner_.sleep_before_retry(group(), first_failure_, retries_, retries_), timer_retry);
      return;
    }
    // LiteLLM's loop: remaining_retries = num_retries - current_attempt, current_attempt counting from 0
    // for retry 1, so the sleep after retry 1 repeats the exponent of the sleep before it.
    const std::uint32_t current_attempt = retries_started_ - 1;
    const duration delay = owner_.sleep_before_retry(group(), first_failure_, retries_ - current_attempt, retries_);
    if (retries_started_ < retries_) {
      schedule(delay, timer_retry);
    } else {
      // The loop sleeps after its last attempt too, then raises the call's first exception.
      owner_.emit(policy_event_kind::retry_exhausted, request_id(), delay, first_failure_.kind, retries_, {});
      timer_ = owner_.clock_.start_timer(delay, *this, timer_give_up);
    }
  }

  // should_retry_this_error, asked about the first failure only, once its cooldown is recorded.
  bool retried_at_all() noexcept {
    if (first_.error == litellm_error::not_found) return false;
    if (first_.error == litellm_error::authentication && group().size() <= 1) return false;
    return group().healthy_count(owner_.clock_.now()) > 0;
  }

  // The group's loop raised `result`: run_async_fallback moves on to the next fallback group; once none
  // is left, async_function_with_fallbacks raises the primary group's exception.
  void group_failed(outcome&& result) {
    if (group_ == 0) primary_failure_ = std::move(result);
    const litellm_router_options& o = owner_.options_;
    // run_async_fallback checks the depth once, on entry: max_fallbacks 0 stops here, any other value
    // lets the whole list run.
    if (group_ == 0 && o.max_fallbacks == 0) {
      finish(std::move(primary_failure_));
      return;
    }
    const outcome_class cause = group_ == 0 ? primary_failure_.kind : result.kind;
    std::size_t next = group_ + 1;
    // A fallback naming the primary group itself is skipped.
    while (next < owner_.groups_.size() && !o.model_group.empty() && o.fallbacks[next - 1].model_group == o.model_group) {
      ++next;
    }
    if (next >= owner_.groups_.size()) {
      finish(std::move(primary_failure_));
      return;
    }
    group_ = next;
    retries_started_ = 0;
    retries_ = 0;
    owner_.emit(policy_event_kind::fallback_used, request_id(), duration{}, cause, group_, group().name());
    // The fallback's first attempt starts from a timer, not from inside the failed attempt's delivery.
    timer_ = owner_.clock_.start_timer(duration{}, *this, timer_fallback);
  }

  void schedule(duration delay, std::uint32_t cookie) {
    owner_.emit(policy_event_kind::retry_scheduled, request_id(), delay, first_failure_.kind, retries_started_ + 1, {});
    timer_ = owner_.clock_.start_timer(delay, *this, cookie);
  }

  void restore() noexcept {
    request& req = scope_.call->req;
    req.provider.swap(own_provider_);
    req.model.swap(own_model_);
  }

  void finish(outcome&& result) {
    restore();
    // `result` may be one of this call's own members: move it out before the call frees itself.
    outcome delivered = std::move(result);
    outcome_receiver& receiver = receiver_;
    delete this;
    receiver.on_outcome(std::move(delivered));
  }

  litellm_router_handler& owner_;
  const call_scope scope_;
  outcome_receiver& receiver_;
  operation* inner_ = nullptr;
  timer_id timer_;
  std::size_t group_ = 0;  // 0: the primary group; k: the k-th fallback
  std::size_t index_ = 0;  // the deployment of the attempt in flight, in group_
  time_point attempt_start_{};
  std::uint32_t retries_started_ = 0;
  std::uint32_t retries_ = 0;  // this group's num_retries, fixed by its first failure
  outcome first_failure_;
  litellm_failure first_;
  outcome refusal_;          // the failure of an attempt that found no deployment or was refused
  outcome primary_failure_;  // what the call delivers when every group has failed
  std::string own_provider_;  // the request's own values, put back before delivering
  std::string own_model_;
};

litellm_router_handler::litellm_router_handler(const litellm_router_options& options, std::string name,
                                               const policy_environment& env, handler& next)
    : options_(options),
      name_(std::move(name)),
      cooldown_(from_s(options.cooldown_time_s)),
      clock_(env.clock),
      events_(env.events),
      next_(next),
      random_(env.seed) {
  // The groups refer to options_'s deployments, which live as long as the handler.
  groups_.reserve(1 + options_.fallbacks.size());
  groups_.emplace_back(options_.model_group, options_.deployments, options_);
  for (const litellm_fallback_group& f : options_.fallbacks) groups_.emplace_back(f.model_group, f.deployments, options_);
}

operation& litellm_router_handler::start(const call_scope& scope, outcome_receiver& receiver) {
  auto* call = new litellm_router_call(*this, scope, receiver);
  call->begin();
  return *call;
}

bool litellm_router_handler::cooling(std::size_t index) const noexcept { return groups_[0].cooling(index, clock_.now()); }

std::size_t litellm_router_handler::healthy_count() const noexcept { return groups_[0].healthy_count(clock_.now()); }

void litellm_router_handler::record_success(litellm_group& g, std::size_t index) {
  g.state(index).successes.add(clock_.now(), litellm_minute_counter_ttl);
}

void litellm_router_handler::record_failure(litellm_group& g, std::size_t index, const outcome& result,
                                            std::uint64_t request_id) {
  litellm_deployment_state& h = g.state(index);
  h.failures.add(clock_.now(), litellm_minute_counter_ttl);
  const litellm_failure failure = classify_for_litellm(result);
  if (!should_cool(g, index, failure)) return;
  h.cooled = true;
  h.cooling_until = clock_.now() + cooldown_;
  emit(policy_event_kind::endpoint_cooldown, request_id, cooldown_, result.kind, index, g.deployments()[index].name);
}

bool litellm_router_handler::should_cool(litellm_group& g, std::size_t index, const litellm_failure& failure) {
  if (options_.disable_cooldowns) return false;
  // _is_cooldown_required: a client-side connection error says nothing about the deployment, and most
  // 4xx are the request's fault.
  if (failure.error == litellm_error::connection) return false;
  const int s = failure.status;
  if (s >= 400 && s < 500 && s != 429 && s != 401 && s != 408 && s != 404) return false;

  litellm_deployment_state& h = g.state(index);
  const time_point now = clock_.now();
  if (options_.allowed_fails != litellm_default_allowed_fails) {
    // should_cooldown_based_on_allowed_fails_policy: the failure that would pass the allowance cools
    // down and is not counted; the others renew the count's time to live.
    if (h.allowed_fails_count.at(now) + 1 > options_.allowed_fails) return true;
    h.allowed_fails_count.add(now, cooldown_);
    return false;
  }
  const bool multiple = g.size() > 1;
  const std::uint64_t fails = h.failures.at(now);
  const std::uint64_t total = fails + h.successes.at(now);
  const double share = total > 0 ? static_cast<double>(fails) / static_cast<double>(total) : 0.0;
  if (s == 429 && multiple) return true;
  if (share >= 1.0 && total >= litellm_single_deployment_requests_min) return true;
  if (share > litellm_failure_share_threshold && total >= options_.failure_share_requests_min && multiple) return true;
  return !litellm_status_is_transient(s);
}

std::uint32_t litellm_router_handler::retries_for(litellm_error first) const noexcept {
  const litellm_retry_policy& p = options_.retry_policy;
  const std::optional<std::uint32_t>* chosen = nullptr;
  switch (first) {
    case litellm_error::bad_request: chosen = &p.bad_request; break;
    case litellm_error::authentication: chosen = &p.authentication; break;
    case litellm_error::timeout: chosen = &p.timeout; break;
    case litellm_error::rate_limit: chosen = &p.rate_limit; break;
    default: break;
  }
  return chosen != nullptr && chosen->has_value() ? **chosen : options_.num_retries;
}

duration litellm_router_handler::sleep_before_retry(const litellm_group& g, const outcome& first,
                                                    std::uint32_t remaining, std::uint32_t retries) {
  // Another deployment can take the retry at once.
  if (g.healthy_count(clock_.now()) > 1) return duration{};
  const duration jitter = from_s(random_.uniform(0.0, litellm_jitter_s_max));
  if (first.retry_after && *first.retry_after > duration{} && *first.retry_after <= litellm_retry_after_max) {
    return *first.retry_after + jitter;
  }
  const double n = static_cast<double>(retries - remaining);
  const double backoff_s = std::min(litellm_backoff_s_initial * std::pow(2.0, n), litellm_backoff_s_max);
  return from_s(std::max(backoff_s, options_.retry_after_s)) + jitter;
}

void litellm_router_handler::emit(policy_event_kind kind, std::uint64_t request_id, duration delay,
                                  outcome_class cause, std::uint64_t value, std::string_view detail) {
  events_.on_policy_event(policy_event{kind, name_, clock_.now(), request_id, delay, cause, value, detail});
}

std::unique_ptr<handler> litellm_router_spec::build(const policy_environment& env, handler& next) const {
  return std::make_unique<litellm_router_handler>(options, name.empty() ? std::string(type()) : name, env, next);
}

namespace {

std::unique_ptr<policy_spec> parse_litellm_router(json_reader& reader) {
  litellm_router_options options;
  read_litellm_router_options(reader, options);
  return std::make_unique<litellm_router_spec>(options);
}

}  // namespace

policy_registration litellm_router_registration() {
  return policy_registration{"litellm_router", &parse_litellm_router,
                             "LiteLLM Router's retry loop, cooldowns, routing strategies and fallbacks across model groups, as its source does them"};
}

}  // namespace squall
