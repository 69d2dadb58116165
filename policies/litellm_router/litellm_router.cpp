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

constexpr std::uint32_t timer_retry = 0;
constexpr std::uint32_t timer_no_deployment = 1;
constexpr std::uint32_t timer_give_up = 2;

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

// One call through the model group: at most one attempt or one sleep at a time. It is the receiver of
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
    if (inner_ != nullptr) inner_->cancel();
    owner_.clock_.cancel_timer(timer_);
    restore();
    delete this;
  }

  void on_outcome(outcome&& result) override {
    inner_ = nullptr;
    // A degraded answer is still an answer: LiteLLM sees no exception.
    if (result.kind == outcome_class::ok) {
      owner_.record_success(index_);
      finish(std::move(result));
      return;
    }
    owner_.record_failure(index_, result, request_id());
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
        on_failure(outcome::failure(outcome_class::rate_limited, owner_.name_));
        return;
      default:
        finish(std::move(first_failure_));
        return;
    }
  }

 private:
  std::uint64_t request_id() const noexcept { return scope_.call->req.id; }

  void attempt() {
    index_ = owner_.pick();
    if (index_ == owner_.options_.deployments.size()) {
      // Never answer from inside start(): the caller may still be wiring the call up.
      timer_ = owner_.clock_.start_timer(duration{}, *this, timer_no_deployment);
      return;
    }
    const litellm_deployment& d = owner_.options_.deployments[index_];
    request& req = scope_.call->req;
    req.provider = d.provider.empty() ? own_provider_ : d.provider;
    req.model = d.model.empty() ? own_model_ : d.model;
    inner_ = &owner_.next_.start(scope_, *this);
  }

  void on_failure(outcome&& result) {
    if (retries_started_ == 0) {
      first_failure_ = std::move(result);
      first_ = classify_for_litellm(first_failure_);
      if (!retried_at_all()) {
        finish(std::move(first_failure_));
        return;
      }
      retries_ = owner_.retries_for(first_.error);
      if (retries_ == 0) {
        finish(std::move(first_failure_));
        return;
      }
      schedule(owner_.sleep_before_retry(first_failure_, retries_, retries_), timer_retry);
      return;
    }
    // LiteLLM's loop: remaining_retries = num_retries - current_attempt, current_attempt counting from 0
    // for retry 1, so the sleep after retry 1 repeats the exponent of the sleep before it.
    const std::uint32_t current_attempt = retries_started_ - 1;
    const duration delay = owner_.sleep_before_retry(first_failure_, retries_ - current_attempt, retries_);
    if (retries_started_ < retries_) {
      schedule(delay, timer_retry);
    } else {
      // The loop sleeps after its last attempt too, then raises the call's first exception.
      owner_.emit(policy_event_kind::retry_exhausted, request_id(), delay, first_failure_.kind, retries_, {});
      timer_ = owner_.clock_.start_timer(delay, *this, timer_give_up);
    }
  }

  // should_retry_this_error, asked about the first failure only, once its cooldown is recorded.
  bool retried_at_all() const noexcept {
    if (first_.error == litellm_error::not_found) return false;
    if (first_.error == litellm_error::authentication && owner_.options_.deployments.size() <= 1) return false;
    return owner_.healthy_count() > 0;
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
    // `result` may be this call's own first_failure_: move it out before the call frees itself.
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
  std::size_t index_ = 0;
  std::uint32_t retries_started_ = 0;
  std::uint32_t retries_ = 0;  // this call's num_retries, fixed by its first failure
  outcome first_failure_;
  litellm_failure first_;
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
      random_(env.seed),
      health_(options.deployments.size()) {}

operation& litellm_router_handler::start(const call_scope& scope, outcome_receiver& receiver) {
  auto* call = new litellm_router_call(*this, scope, receiver);
  call->begin();
  return *call;
}

bool litellm_router_handler::cooling(std::size_t index) const noexcept {
  const deployment_health& h = health_[index];
  return h.cooled && clock_.now() < h.cooling_until;
}

std::size_t litellm_router_handler::healthy_count() const noexcept {
  std::size_t n = 0;
  for (std::size_t i = 0; i < health_.size(); ++i) if (!cooling(i)) ++n;
  return n;
}

std::size_t litellm_router_handler::pick() {
  const std::size_t count = options_.deployments.size();
  double total = 0.0;
  std::size_t healthy = 0;
  std::size_t last = count;
  for (std::size_t i = 0; i < count; ++i) {
    if (cooling(i)) continue;
    total += options_.deployments[i].weight;
    ++healthy;
    last = i;
  }
  // One candidate needs no draw, so a group of one spends its random stream on jitter alone.
  if (healthy <= 1) return last;
  double u = random_.uniform() * total;
  for (std::size_t i = 0; i < count; ++i) {
    if (cooling(i)) continue;
    u -= options_.deployments[i].weight;
    if (u < 0.0) return i;
  }
  return last;  // rounding left u at 0 past the last weight
}

void litellm_router_handler::record_success(std::size_t index) {
  health_[index].successes.add(clock_.now(), litellm_minute_counter_ttl);
}

void litellm_router_handler::record_failure(std::size_t index, const outcome& result, std::uint64_t request_id) {
  deployment_health& h = health_[index];
  h.failures.add(clock_.now(), litellm_minute_counter_ttl);
  const litellm_failure failure = classify_for_litellm(result);
  if (!should_cool(index, failure)) return;
  h.cooled = true;
  h.cooling_until = clock_.now() + cooldown_;
  emit(policy_event_kind::endpoint_cooldown, request_id, cooldown_, result.kind, index, options_.deployments[index].name);
}

bool litellm_router_handler::should_cool(std::size_t index, const litellm_failure& failure) {
  if (options_.disable_cooldowns) return false;
  // _is_cooldown_required: a client-side connection error says nothing about the deployment, and most
  // 4xx are the request's fault.
  if (failure.error == litellm_error::connection) return false;
  const int s = failure.status;
  if (s >= 400 && s < 500 && s != 429 && s != 401 && s != 408 && s != 404) return false;

  deployment_health& h = health_[index];
  const time_point now = clock_.now();
  if (options_.allowed_fails != litellm_default_allowed_fails) {
    // should_cooldown_based_on_allowed_fails_policy: the failure that would pass the allowance cools
    // down and is not counted; the others renew the count's time to live.
    if (h.allowed_fails_count.at(now) + 1 > options_.allowed_fails) return true;
    h.allowed_fails_count.add(now, cooldown_);
    return false;
  }
  const bool group = options_.deployments.size() > 1;
  const std::uint64_t fails = h.failures.at(now);
  const std::uint64_t total = fails + h.successes.at(now);
  const double share = total > 0 ? static_cast<double>(fails) / static_cast<double>(total) : 0.0;
  if (s == 429 && group) return true;
  if (share >= 1.0 && total >= litellm_single_deployment_requests_min) return true;
  if (share > litellm_failure_share_threshold && total >= options_.failure_share_requests_min && group) return true;
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

duration litellm_router_handler::sleep_before_retry(const outcome& first, std::uint32_t remaining,
                                                    std::uint32_t retries) {
  // Another deployment can take the retry at once.
  if (healthy_count() > 1) return duration{};
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
                             "LiteLLM Router's retry loop and deployment cooldowns over one model group, as its source does them"};
}

}  // namespace squall
