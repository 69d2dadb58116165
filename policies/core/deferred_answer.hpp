#pragma once
// An answer decided in start() but delivered by a timer, since an outcome may never be delivered from
// inside start(). Every policy that answers without calling the next stage uses it: a cache hit, an
// idempotent replay, and the rejections of breakers, limiters, bulkheads, budgets and the trimmer.

#include <utility>

#include "policies/core/call.hpp"
#include "policies/core/runtime.hpp"

namespace squall {

class deferred_answer final : public operation, public timer_target {
 public:
  // Frees itself when it delivers or is cancelled.
  static operation& start(runtime& clock, outcome&& answer, duration delay, outcome_receiver& receiver) {
    return *new deferred_answer(clock, std::move(answer), delay, receiver);
  }

  void cancel() noexcept override {
    clock_.cancel_timer(timer_);
    delete this;
  }

  void on_timer(std::uint32_t) override {
    outcome result = std::move(answer_);
    outcome_receiver& receiver = receiver_;
    delete this;
    receiver.on_outcome(std::move(result));
  }

 private:
  deferred_answer(runtime& clock, outcome&& answer, duration delay, outcome_receiver& receiver)
      : clock_(clock), answer_(std::move(answer)), receiver_(receiver) {
    timer_ = clock_.start_timer(delay, *this, 0);
  }
  ~deferred_answer() = default;

  runtime& clock_;
  outcome answer_;
  outcome_receiver& receiver_;
  timer_id timer_;
};

}  // namespace squall
