#include "policies/adaptive_throttle/adaptive_throttle.hpp"

#include "policies/core/deferred_answer.hpp"

#include <algorithm>
#include <utility>

namespace squall {

// One call let through: forwards to the next stage and counts the answer as an accept or not.
class throttle_call final : public operation, public outcome_receiver {
 public:
  throttle_call(adaptive_throttle_handler& owner, outcome_receiver& receiver, std::int64_t second)
      : owner_(owner), receiver_(receiver), second_(second) {}

  void begin(const call_scope& scope) { inner_ = &owner_.next_.start(scope, *this); }

  void cancel() noexcept override {
    inner_->cancel();
    owner_.take_back_request(second_);
    delete this;
  }

  void on_outcome(outcome&& result) override {
    owner_.record_accept(result.kind);
    outcome_receiver& receiver = receiver_;
    delete this;
    receiver.on_outcome(std::move(result));
  }

 private:
  adaptive_throttle_handler& owner_;
  outcome_receiver& receiver_;
  operation* inner_ = nullptr;
  std::int64_t second_;  // where its request was counted
};

namespace {

std::int64_t second_of(time_point t) noexcept {
  const std::int64_t ns = t.time_since_epoch().count();
  constexpr std::int64_t per_s = 1'000'000'000;
  return ns >= 0 ? ns / per_s : -((-ns + per_s - 1) / per_s);
}

}  // namespace

adaptive_throttle_handler::adaptive_throttle_handler(const adaptive_throttle_options& options, std::string name,
                                                     const policy_environment& env, handler& next)
    : options_(options),
      name_(std::move(name)),
      clock_(env.clock),
      events_(env.events),
      next_(next),
      random_(env.seed),
      buckets_(options.window_s),
      second_(second_of(env.clock.now())) {}

std::int64_t adaptive_throttle_handler::advance(time_point now) noexcept {
  const std::int64_t second = second_of(now);
  if (second <= second_) return second_;
  // Only the seconds between the old and the new one slide out; more than a window's worth clears all.
  const std::int64_t size = static_cast<std::int64_t>(buckets_.size());
  const std::int64_t first = std::max(second_ + 1, second - size + 1);
  for (std::int64_t s = first; s <= second; ++s) {
    bucket& b = bucket_of(s);
    requests_ -= b.requests;
    accepts_ -= b.accepts;
    b = bucket{s, 0, 0};
  }
  second_ = second;
  return second;
}

double adaptive_throttle_handler::rejection_probability() {
  advance(clock_.now());
  const double requests = static_cast<double>(requests_);
  const double p = (requests - options_.k * static_cast<double>(accepts_)) / (requests + 1.0);
  return std::max(0.0, p);
}

operation& adaptive_throttle_handler::start(const call_scope& scope, outcome_receiver& receiver) {
  const double p = rejection_probability();
  const std::int64_t second = second_;
  bucket& b = bucket_of(second);
  b.second = second;
  ++b.requests;
  ++requests_;
  // No draw while p is 0, the usual case: a healthy provider costs no randomness.
  if (p > 0.0 && random_.uniform() < p) {
    events_.on_policy_event(policy_event{policy_event_kind::throttled, name_, clock_.now(),
                                         scope.call != nullptr ? scope.call->req.id : 0, duration{},
                                         outcome_class::rejected, 0, {}});
    return deferred_answer::start(clock_, outcome::failure(outcome_class::rejected, name_), duration{}, receiver);
  }
  auto* call = new throttle_call(*this, receiver, second);
  call->begin(scope);
  return *call;
}

void adaptive_throttle_handler::record_accept(outcome_class kind) noexcept {
  if (options_.reject_on.contains(kind)) return;
  const std::int64_t second = advance(clock_.now());
  bucket& b = bucket_of(second);
  b.second = second;
  ++b.accepts;
  ++accepts_;
}

void adaptive_throttle_handler::take_back_request(std::int64_t second) noexcept {
  advance(clock_.now());
  bucket& b = bucket_of(second);
  if (b.second != second || b.requests == 0) return;  // slid out of the window already
  --b.requests;
  --requests_;
}

std::unique_ptr<handler> adaptive_throttle_spec::build(const policy_environment& env, handler& next) const {
  return std::make_unique<adaptive_throttle_handler>(options, name.empty() ? std::string(type()) : name, env, next);
}

namespace {

std::unique_ptr<policy_spec> parse_adaptive_throttle(json_reader& reader) {
  adaptive_throttle_options options;
  read_adaptive_throttle_options(reader, options);
  return std::make_unique<adaptive_throttle_spec>(options);
}

}  // namespace

policy_registration adaptive_throttle_registration() {
  return policy_registration{"adaptive_throttle", &parse_adaptive_throttle,
                             "refuses calls locally as the provider's accept rate falls (Google SRE throttling)"};
}

}  // namespace squall
