#pragma once
// The bulkhead: at most concurrency_max calls run inside it at once. A call finding every slot taken
// waits in a first-in-first-out queue of at most queue_max calls, for at most queue_wait_ms_max; a call
// finding the queue full, or waiting too long, is rejected with `rejected` without calling the next stage.
//
// One handler serves all calls of a pipeline: the slots and the queue are shared. A slot is held from
// admission until the inner outcome is delivered or the call is cancelled; a cancelled queued call
// leaves the queue. Queued calls form an intrusive list (no allocation beyond the call's own object),
// and since every call waits the same queue_wait_ms_max, the queue is also ordered by deadline: one
// timer, at the head's deadline, serves the whole queue.

#include <cstdint>
#include <memory>
#include <string>

#include "policies/bulkhead/bulkhead_options.hpp"
#include "policies/core/intrusive_fifo.hpp"
#include "policies/core/call.hpp"
#include "policies/core/events.hpp"
#include "policies/core/runtime.hpp"
#include "policies/pipeline/policy_spec.hpp"

namespace squall {

class bulkhead_call;

class bulkhead_handler final : public handler, private timer_target {
 public:
  bulkhead_handler(const bulkhead_options& options, std::string name, const policy_environment& env, handler& next);
  ~bulkhead_handler() override;
  bulkhead_handler(const bulkhead_handler&) = delete;
  bulkhead_handler& operator=(const bulkhead_handler&) = delete;

  operation& start(const call_scope& scope, outcome_receiver& receiver) override;

  std::uint32_t running() const noexcept { return running_; }
  std::uint32_t queued() const noexcept { return queue_.size(); }
  void report_gauges(gauge_sink& sink) const override {
    sink.on_gauge(name_, "running", running_);
    sink.on_gauge(name_, "queued", static_cast<double>(queue_.size()));
  }

 private:
  friend class bulkhead_call;

  void enqueue(bulkhead_call& call);
  // A running call ended (answered or cancelled): its slot goes to the head of the queue.
  void release() noexcept;
  // Admits queued calls while slots are free; with `expire`, first rejects heads whose wait ran out.
  void pump(bool expire);
  void rearm() noexcept;
  void on_timer(std::uint32_t cookie) override;  // the head's wait ran out
  void emit(policy_event_kind kind, std::uint64_t request_id, duration delay);

  const bulkhead_options options_;
  const std::string name_;
  const duration wait_max_;
  runtime& clock_;
  event_sink& events_;
  handler& next_;

  std::uint32_t running_ = 0;
  intrusive_fifo<bulkhead_call> queue_;
  timer_id timer_;
};

class bulkhead_spec final : public policy_spec {
 public:
  explicit bulkhead_spec(const bulkhead_options& initial) : options(initial) {}
  std::string_view type() const noexcept override { return "bulkhead"; }
  std::unique_ptr<handler> build(const policy_environment& env, handler& next) const override;

  bulkhead_options options;
};

policy_registration bulkhead_registration();

}  // namespace squall
