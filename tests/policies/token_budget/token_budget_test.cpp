// The token and spend budget under virtual time: refusal once a period is spent, reservations that
// bound concurrent overshoot, settlement with reported usage, period reset, and downgrade.

#include "policies/token_budget/token_budget.hpp"

#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "sim/engine/event_loop.hpp"
#include "tests/support/fake_transport.hpp"
#include "tests/support/time_points.hpp"

namespace squall {
namespace {

using testing::fake_transport;
using testing::recording_receiver;
using testing::recording_sink;

using testing::at_s;

// Answers report the request's own tokens, at `usd_per_call`, unless `usage` says otherwise.
struct budget_rig {
  explicit budget_rig(token_budget_options o) {
    transport = std::make_unique<fake_transport>(loop, from_ms(10), [this](const call_context& c, std::uint32_t) {
      models.push_back(c.req.model);
      outcome ok;
      ok.input_tokens = usage_in ? *usage_in : c.req.input_tokens;
      ok.output_tokens = c.req.output_tokens;
      ok.cost_usd = usd_per_call;
      return ok;
    });
    policy = std::make_unique<token_budget_handler>(o, "budget", policy_environment{loop, sink, 3}, *transport);
  }
  struct one_call {
    call_context ctx;
    recording_receiver receiver;
  };
  one_call& start(std::uint32_t in = 200, std::uint32_t out = 100) {
    calls.emplace_back();
    one_call& c = calls.back();
    c.ctx.req.id = calls.size();
    c.ctx.req.model = "gpt-4o";
    c.ctx.req.input_tokens = in;
    c.ctx.req.output_tokens = out;
    ops.push_back(&policy->start(call_scope{&c.ctx, time_never}, c.receiver));
    return c;
  }
  bool sequential_ok() {
    one_call& c = start();
    run();
    return c.receiver.last.ok();
  }
  void run() {
    while (loop.step()) {
    }
  }

  sim::event_loop loop;
  recording_sink sink;
  std::unique_ptr<fake_transport> transport;
  std::unique_ptr<token_budget_handler> policy;
  std::optional<std::uint32_t> usage_in;
  double usd_per_call = 0.0;
  std::deque<one_call> calls;
  std::vector<operation*> ops;
  std::vector<std::string> models;
};

token_budget_options tokens(double max, double period_s = 3600) {
  token_budget_options o;
  o.tokens_max = max;
  o.period_s = period_s;
  return o;
}

TEST(token_budget, refuses_once_the_period_is_spent) {
  budget_rig rig(tokens(1000));
  EXPECT_TRUE(rig.sequential_ok());
  EXPECT_TRUE(rig.sequential_ok());
  EXPECT_TRUE(rig.sequential_ok());  // 900 spent
  EXPECT_EQ(rig.policy->spent_tokens(), 900.0);
  auto& refused = rig.start();       // 1200 > 1000
  EXPECT_EQ(refused.receiver.calls, 0) << "never delivered from inside start()";
  rig.run();
  EXPECT_EQ(refused.receiver.last.kind, outcome_class::rejected);
  EXPECT_EQ(refused.receiver.last.decided_by, "budget");
  EXPECT_EQ(rig.transport->started(), 3);
  ASSERT_EQ(rig.sink.count(policy_event_kind::budget_rejected), 1U);
  EXPECT_EQ(rig.sink.events[0].request_id, 4U);
  auto& small = rig.start(50, 50);  // 1000: still fits exactly
  rig.run();
  EXPECT_TRUE(small.receiver.last.ok());
}

TEST(token_budget, concurrent_calls_cannot_overshoot_thanks_to_reservations) {
  budget_rig rig(tokens(1000));
  for (int i = 0; i < 5; ++i) rig.start();  // 300 each, all at once
  EXPECT_EQ(rig.policy->reserved_tokens(), 900.0);
  rig.run();
  EXPECT_EQ(rig.transport->started(), 3);
  EXPECT_EQ(rig.sink.count(policy_event_kind::budget_rejected), 2U);
  EXPECT_EQ(rig.policy->spent_tokens(), 900.0);
  EXPECT_EQ(rig.policy->reserved_tokens(), 0.0);
}

TEST(token_budget, answers_settle_the_estimate_with_the_reported_usage) {
  budget_rig rig(tokens(1000));
  rig.usage_in = 0;  // each answer reports 100 tokens (output only) for 300 reserved
  for (int i = 0; i < 3; ++i) rig.start();
  rig.run();
  EXPECT_EQ(rig.policy->spent_tokens(), 300.0);
  EXPECT_EQ(rig.policy->reserved_tokens(), 0.0);
  // Each call still needs room for its 300-token estimate: five more fit (spent 800), the sixth does not.
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(rig.sequential_ok()) << i;
  EXPECT_EQ(rig.policy->spent_tokens(), 800.0);
  EXPECT_FALSE(rig.sequential_ok());
}

TEST(token_budget, the_period_resets_on_fixed_boundaries) {
  budget_rig rig(tokens(600, 60));
  rig.loop.run_until(at_s(50));
  EXPECT_TRUE(rig.sequential_ok());
  EXPECT_TRUE(rig.sequential_ok());
  EXPECT_FALSE(rig.sequential_ok());
  rig.loop.run_until(at_s(59.9));
  EXPECT_FALSE(rig.sequential_ok()) << "still the first period";
  rig.loop.run_until(at_s(60));
  EXPECT_TRUE(rig.sequential_ok()) << "a fresh period at 60 s, whatever happened at 50 s";
  EXPECT_EQ(rig.policy->period(), 1);
  EXPECT_EQ(rig.policy->spent_tokens(), 300.0);
}

TEST(token_budget, a_reservation_from_the_previous_period_is_dropped_and_its_answer_charged_to_the_new) {
  budget_rig rig(tokens(600, 60));
  rig.transport->set_latency(from_s(15));
  rig.loop.run_until(at_s(50));
  rig.start();                    // reserved in period 0, answered at 65 s
  rig.loop.run_until(at_s(60.5));
  EXPECT_EQ(rig.policy->period(), 0) << "nothing has moved the budget yet";
  rig.start();                    // period 1: the old reservation is gone
  EXPECT_EQ(rig.policy->reserved_tokens(), 300.0);
  rig.run();
  EXPECT_EQ(rig.policy->spent_tokens(), 600.0);
  EXPECT_EQ(rig.policy->reserved_tokens(), 0.0);
}

TEST(token_budget, usd_limit_uses_the_learnt_price) {
  token_budget_options o;
  o.usd_max = 1.0;
  budget_rig rig(o);
  rig.usd_per_call = 0.25;
  for (int i = 0; i < 4; ++i) EXPECT_TRUE(rig.sequential_ok()) << i;
  EXPECT_EQ(rig.policy->spent_usd(), 1.0);
  EXPECT_FALSE(rig.sequential_ok()) << "estimated at 0.25, learnt from the answers";
  // Concurrent calls reserve the learnt price too.
  budget_rig fresh(o);
  fresh.usd_per_call = 0.25;
  EXPECT_TRUE(fresh.sequential_ok());
  for (int i = 0; i < 5; ++i) fresh.start();
  fresh.run();
  EXPECT_EQ(fresh.transport->started(), 4);
  EXPECT_EQ(fresh.policy->spent_usd(), 1.0);
}

TEST(token_budget, downgrade_sends_calls_that_do_not_fit_to_the_cheaper_model) {
  token_budget_options o = tokens(600);
  o.on_exceeded = budget_exceeded_mode::downgrade;
  o.downgrade_model = "gpt-4o-mini";
  budget_rig rig(o);
  for (int i = 0; i < 4; ++i) EXPECT_TRUE(rig.sequential_ok());
  EXPECT_EQ(rig.models, (std::vector<std::string>{"gpt-4o", "gpt-4o", "gpt-4o-mini", "gpt-4o-mini"}));
  EXPECT_EQ(rig.calls[2].ctx.req.model, "gpt-4o-mini");
  ASSERT_EQ(rig.sink.count(policy_event_kind::budget_rerouted), 2U);
  EXPECT_EQ(rig.sink.events[0].detail, "gpt-4o-mini");
  EXPECT_EQ(rig.sink.events[0].request_id, 3U);
  EXPECT_EQ(rig.sink.count(policy_event_kind::budget_rejected), 0U);
  EXPECT_EQ(rig.policy->spent_tokens(), 1200.0) << "downgraded answers are charged too";
}

TEST(token_budget, a_cancelled_call_is_charged_its_estimate) {
  budget_rig rig(tokens(1000));
  rig.start();
  rig.ops[0]->cancel();
  EXPECT_EQ(rig.transport->cancelled(), 1);
  EXPECT_EQ(rig.policy->spent_tokens(), 300.0);
  EXPECT_EQ(rig.policy->reserved_tokens(), 0.0);
  EXPECT_EQ(rig.loop.pending(), 0U);
}

}  // namespace
}  // namespace squall
