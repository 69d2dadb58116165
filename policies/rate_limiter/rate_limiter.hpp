#pragma once
// The client-side rate limiter: two token buckets, requests per minute (rpm) and tokens per minute
// (tpm), either optional. Each bucket refills continuously at its rate and holds burst_s seconds of it
// (at least one request, one token); both start full.
//
// A call reserves one request and its token estimate (the request's input plus expected output
// tokens). It may start when the request bucket holds one request and the token bucket holds its
// estimate, or the whole bucket's capacity for a request larger than the bucket: such a request
// drives the bucket into debt, which later calls wait out. When an ok answer reports its usage, the
// reservation is settled: the difference between the estimate and the reported input plus output
// tokens is refunded to (or charged to) the token bucket. Failed and cancelled calls keep their
// reservation, since the provider may have counted them.
//
// A call the buckets cannot take now waits, first in first out, in "wait" mode (refused at once if its
// predicted wait exceeds wait_ms_max or the queue holds queue_max calls, and refused when its wait
// reaches wait_ms_max), or is refused at once in "reject" mode. Refusals answer `rejected`.
//
// Adaptive (AIMD): a rate_limited answer multiplies the request rate by decrease_factor (at most once
// per cooldown_ms, never below rpm_min); every ok answer adds increase_per_s times the seconds since the
// previous increase (counting at most one second, so an idle spell is not a licence to jump), up to
// rpm_max.
//
// One handler serves all calls of a pipeline: its buckets and queue are shared. Waiting calls form an
// intrusive list; one timer, at the earlier of the head's ready time and its deadline, serves the queue.

#include <cstdint>
#include <memory>
#include <string>

#include "policies/core/object_pool.hpp"
#include "policies/core/call.hpp"
#include "policies/core/events.hpp"
#include "policies/core/intrusive_fifo.hpp"
#include "policies/core/runtime.hpp"
#include "policies/pipeline/policy_spec.hpp"
#include "policies/rate_limiter/rate_limiter_options.hpp"

namespace squall {

class limiter_call;

class rate_limiter_handler final : public handler, private timer_target {
 public:
  rate_limiter_handler(const rate_limiter_options& options, std::string name, const policy_environment& env,
                       handler& next);
  ~rate_limiter_handler() override;
  rate_limiter_handler(const rate_limiter_handler&) = delete;
  rate_limiter_handler& operator=(const rate_limiter_handler&) = delete;

  operation& start(const call_scope& scope, outcome_receiver& receiver) override;

  // The current request rate (changes only when adaptive), per minute; 0 without rpm.
  double rpm() const noexcept { return requests_.rate_per_s * 60.0; }
  std::uint32_t queued() const noexcept { return queue_.size(); }
  // Bucket levels as of the last refill (tests).
  double request_level() const noexcept { return requests_.level; }
  double token_level() const noexcept { return tokens_.level; }
  // "requests_available" and "tokens_available" (bucket levels as of the last refill), "queued" calls.
  void report_gauges(gauge_sink& sink) const override {
    sink.on_gauge(name_, "requests_available", requests_.level);
    sink.on_gauge(name_, "tokens_available", tokens_.level);
    sink.on_gauge(name_, "queued", static_cast<double>(queue_.size()));
  }

 private:
  friend class limiter_call;

  struct bucket {
    bool enabled = false;
    double rate_per_s = 0.0;
    double capacity = 0.0;
    double level = 0.0;
  };

  void refill(time_point now) noexcept;
  // What a call costing `tokens` needs in the token bucket to start (at most the bucket's capacity).
  double token_need(double tokens) const noexcept;
  bool can_take(double tokens) const noexcept;
  void take(double tokens) noexcept;
  // Seconds until the buckets, after `requests_ahead` requests and `tokens_ahead` tokens, can take
  // one more call costing `tokens`, ignoring rate changes and refunds.
  double seconds_until(double requests_ahead, double tokens_ahead, double tokens) const noexcept;

  void enqueue(limiter_call& call) noexcept;
  void unlink(limiter_call& call) noexcept;
  void pump(bool expire);
  void rearm() noexcept;
  void on_timer(std::uint32_t cookie) override;

  // An admitted call's answer: settles its reservation and drives the adaptive rate.
  void on_answer(double reserved_tokens, const outcome& result);
  void set_rate(double rpm, outcome_class cause);
  void emit(policy_event_kind kind, std::uint64_t request_id, duration delay, outcome_class cause,
            std::uint64_t value = 0);

  const rate_limiter_options options_;
  const std::string name_;
  const duration wait_max_;
  const duration cooldown_;
  const double rpm_max_;
  runtime& clock_;
  event_sink& events_;
  handler& next_;
  object_pool<limiter_call> calls_;  // one per call in flight, reused

  bucket requests_;
  bucket tokens_;
  time_point refilled_at_;
  time_point decreased_at_ = time_point::min();
  time_point increased_at_;
  std::uint64_t reported_rpm_ = 0;

  intrusive_fifo<limiter_call> queue_;
  double queued_tokens_ = 0.0;
  timer_id timer_;
};

class rate_limiter_spec final : public policy_spec {
 public:
  explicit rate_limiter_spec(const rate_limiter_options& initial) : options(initial) {}
  std::string_view type() const noexcept override { return "rate_limiter"; }
  std::unique_ptr<handler> build(const policy_environment& env, handler& next) const override;

  rate_limiter_options options;
};

policy_registration rate_limiter_registration();

}  // namespace squall
