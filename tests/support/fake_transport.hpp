#pragma once
// A scripted transport for policy tests: each attempt answers after a fixed latency with the outcome the
// test's script returns for it. Runs on any runtime (the tests use the simulation's event loop as the
// virtual clock). Cancelled attempts are counted and never answered.

#include <functional>
#include <memory>
#include <utility>
#include <vector>

#include "policies/core/call.hpp"
#include "policies/core/events.hpp"
#include "policies/core/runtime.hpp"

namespace squall::testing {

class fake_transport final : public handler {
 public:
  // `script(call, attempt_number)` decides the outcome of an attempt (attempt numbers start at 1).
  using script_fn = std::function<outcome(const call_context&, std::uint32_t)>;

  fake_transport(runtime& clock, duration latency, script_fn script)
      : clock_(clock), latency_(latency), script_(std::move(script)) {}

  operation& start(const call_scope& scope, outcome_receiver& receiver) override {
    ++scope.call->attempts;
    ++started_;
    auto* op = new attempt(*this, scope, receiver);
    op->timer = clock_.start_timer(latency_, *op, 0);
    return *op;
  }

  int started() const { return started_; }
  int cancelled() const { return cancelled_; }
  int completed() const { return completed_; }
  duration latency() const { return latency_; }
  void set_latency(duration d) { latency_ = d; }

 private:
  struct attempt final : operation, timer_target {
    attempt(fake_transport& t, const call_scope& s, outcome_receiver& r)
        : owner(t), scope(s), receiver(r), number(s.call->attempts), started_at(t.clock_.now()) {}
    void on_timer(std::uint32_t) override {
      outcome o = owner.script_(*scope.call, number);
      o.latency = owner.clock_.now() - started_at;
      ++owner.completed_;
      outcome_receiver& r = receiver;
      delete this;
      r.on_outcome(std::move(o));
    }
    void cancel() noexcept override {
      owner.clock_.cancel_timer(timer);
      ++owner.cancelled_;
      delete this;
    }
    fake_transport& owner;
    call_scope scope;
    outcome_receiver& receiver;
    std::uint32_t number;
    time_point started_at;
    timer_id timer;
  };

  runtime& clock_;
  duration latency_;
  script_fn script_;
  int started_ = 0;
  int cancelled_ = 0;
  int completed_ = 0;
};

// Receives the final outcome of a call in a test.
struct recording_receiver final : outcome_receiver {
  void on_outcome(outcome&& o) override {
    ++calls;
    last = std::move(o);
  }
  int calls = 0;
  outcome last;
};

// Receives the final outcome of a call and the time it came, by the runtime's clock.
struct timed_receiver final : outcome_receiver {
  explicit timed_receiver(runtime& c) : clock(c) {}
  void on_outcome(outcome&& o) override {
    ++calls;
    at = clock.now();
    last = std::move(o);
  }
  runtime& clock;
  int calls = 0;
  time_point at{};
  outcome last;
};

// One call a test starts and keeps: its context and where its outcome lands (kept in a std::deque by
// rigs, so that neither moves while the policy holds pointers to them).
struct timed_call {
  explicit timed_call(runtime& clock) : receiver(clock) {}
  call_context ctx;
  timed_receiver receiver;
};

// Collects policy events in a test.
struct recording_sink final : event_sink {
  void on_policy_event(const policy_event& e) override { events.push_back(e); }
  std::size_t count(policy_event_kind k) const {
    std::size_t n = 0;
    for (const auto& e : events) n += e.kind == k ? 1 : 0;
    return n;
  }
  std::vector<policy_event> events;
};

}  // namespace squall::testing
