// The idempotency policy under virtual time. In a simulated workload every request has its own key, so
// the policy only shows its effect on duplicate submissions: these tests submit duplicates on purpose,
// and show the policy both outside and inside a retry.

#include "policies/idempotency/idempotency.hpp"

#include <deque>
#include <memory>

#include <gtest/gtest.h>

#include "policies/retry/retry.hpp"
#include "sim/engine/event_loop.hpp"
#include "tests/support/fake_transport.hpp"

namespace squall {
namespace {

using testing::fake_transport;
using testing::recording_receiver;
using testing::recording_sink;

outcome idempotent_answer(double cost = 0.01) {
  outcome o;
  o.http_status = 200;
  o.input_tokens = 100;
  o.output_tokens = 25;
  o.cost_usd = cost;
  o.provider = "prov";
  o.model = "m";
  return o;
}

// A call as the simulation makes one: its own context, whose bill the transport adds to.
struct submitted {
  call_context ctx;
  recording_receiver receiver;
};

// The idempotency policy in front of a transport that bills each answered attempt into the call.
struct idempotency_rig {
  explicit idempotency_rig(idempotency_options o = {}) {
    transport = std::make_unique<fake_transport>(loop, from_ms(10), [this](const call_context& c, std::uint32_t) {
      outcome next = answers.empty() ? fallback : answers.front();
      if (!answers.empty()) answers.pop_front();
      const_cast<call_context&>(c).cost_usd += next.cost_usd;  // what the simulated transport does
      return next;
    });
    policy = std::make_unique<idempotency_handler>(o, "idempotency", policy_environment{loop, sink, 3}, *transport);
  }

  // Submits a call with `key` through `head` (the policy unless a test wraps it) and runs it to the end.
  void submit(submitted& s, std::uint64_t key, handler* head = nullptr) {
    s.ctx.req.id = ++ids;
    s.ctx.req.idempotency_key = key;
    (head != nullptr ? *head : *policy).start(call_scope{&s.ctx, time_never}, s.receiver);
    EXPECT_EQ(s.receiver.calls, 0) << "never delivered from inside start()";
    while (loop.step()) {
    }
    EXPECT_EQ(s.receiver.calls, 1);
  }

  sim::event_loop loop;
  recording_sink sink;
  std::unique_ptr<fake_transport> transport;
  std::unique_ptr<idempotency_handler> policy;
  std::deque<outcome> answers;
  outcome fallback = idempotent_answer();
  std::uint64_t ids = 0;
};

TEST(idempotency, calls_without_a_key_pass_through_unseen) {
  idempotency_rig rig;
  submitted a, b;
  rig.submit(a, 0);
  rig.submit(b, 0);
  EXPECT_EQ(rig.transport->started(), 2);
  EXPECT_TRUE(rig.sink.events.empty());
  EXPECT_EQ(rig.policy->records(), 0U);
}

TEST(idempotency, a_duplicate_submission_is_replayed_and_not_paid_again) {
  idempotency_rig rig;
  submitted first, duplicate;
  rig.submit(first, 77);
  EXPECT_EQ(first.ctx.cost_usd, 0.01);
  EXPECT_EQ(first.ctx.attempts, 1U);
  EXPECT_FALSE(first.receiver.last.from_cache);

  const time_point before = rig.loop.now();
  rig.submit(duplicate, 77);
  EXPECT_EQ(rig.transport->started(), 1) << "the provider is not called again";
  EXPECT_EQ(duplicate.ctx.attempts, 0U);
  EXPECT_EQ(duplicate.ctx.cost_usd, 0.0) << "not billed";
  const outcome& o = duplicate.receiver.last;
  EXPECT_TRUE(o.ok());
  EXPECT_TRUE(o.from_cache);
  EXPECT_EQ(o.cost_usd, 0.0);
  EXPECT_EQ(o.input_tokens, 100U);
  EXPECT_EQ(o.output_tokens, 25U);
  EXPECT_EQ(o.http_status, 200);
  EXPECT_EQ(o.provider, "prov");
  EXPECT_EQ(o.model, "m");
  EXPECT_EQ(o.decided_by, "idempotency");
  EXPECT_EQ(o.latency, duration{});
  EXPECT_EQ(rig.loop.now(), before) << "answered at once (by a zero-delay timer)";
  ASSERT_EQ(rig.sink.events.size(), 1U);
  EXPECT_EQ(rig.sink.events[0].kind, policy_event_kind::idempotent_replay);
  EXPECT_EQ(rig.sink.events[0].request_id, 2U);
}

TEST(idempotency, unique_keys_as_in_a_simulated_workload_never_replay) {
  idempotency_rig rig;
  for (std::uint64_t k = 1; k <= 20; ++k) {
    submitted s;
    rig.submit(s, k);
    EXPECT_FALSE(s.receiver.last.from_cache);
  }
  EXPECT_EQ(rig.transport->started(), 20);
  EXPECT_EQ(rig.sink.count(policy_event_kind::idempotent_replay), 0U);
}

TEST(idempotency, failures_leave_no_record) {
  idempotency_rig rig;
  outcome degraded = idempotent_answer();
  degraded.degraded = true;
  rig.answers = {outcome::failure(outcome_class::server_error), degraded, idempotent_answer()};
  submitted a, b, c, d;
  rig.submit(a, 5);
  rig.submit(b, 5);
  rig.submit(c, 5);
  EXPECT_EQ(rig.transport->started(), 3);
  rig.submit(d, 5);
  EXPECT_EQ(rig.transport->started(), 3);
  EXPECT_TRUE(d.receiver.last.from_cache);
}

TEST(idempotency, records_expire_after_ttl_ms) {
  idempotency_options o;
  o.ttl_ms = 1000;
  idempotency_rig rig(o);
  submitted a, b, c;
  rig.submit(a, 5);  // recorded at 10 ms
  rig.loop.run_until(time_point{from_ms(1009)});
  rig.submit(b, 5);
  EXPECT_TRUE(b.receiver.last.from_cache);
  rig.loop.run_until(time_point{from_ms(1010)});
  rig.submit(c, 5);
  EXPECT_FALSE(c.receiver.last.from_cache);
  EXPECT_EQ(rig.transport->started(), 2);
}

TEST(idempotency, records_are_bounded_by_entries_max_least_recently_used_first) {
  idempotency_options o;
  o.entries_max = 2;
  idempotency_rig rig(o);
  submitted a, b, a2, c, b2, a3;
  rig.submit(a, 1);
  rig.submit(b, 2);
  rig.submit(a2, 1);  // replayed: 1 is now more recent than 2
  rig.submit(c, 3);   // drops 2
  EXPECT_EQ(rig.policy->records(), 2U);
  rig.submit(b2, 2);
  EXPECT_FALSE(b2.receiver.last.from_cache);
  rig.submit(a3, 1);  // 1 was dropped by 2's new record (1 older than 3)
  EXPECT_EQ(rig.transport->started(), 5);
  EXPECT_EQ(rig.policy->records(), 2U);
}

retry_options quick_retry() {
  retry_options r;
  r.delay_ms_base = 100;
  r.jitter = jitter_kind::none;
  r.backoff = backoff_kind::constant;
  return r;
}

TEST(idempotency, outside_a_retry_it_replays_the_whole_calls_answer) {
  // idempotency -> retry -> transport: the duplicate never reaches the retry.
  sim::event_loop loop;
  recording_sink sink;
  int started = 0;
  fake_transport transport(loop, from_ms(10), [&](const call_context& c, std::uint32_t) {
    ++started;
    outcome o = started == 1 ? outcome::failure(outcome_class::overloaded) : idempotent_answer();
    const_cast<call_context&>(c).cost_usd += o.cost_usd;
    return o;
  });
  retry_handler retry(quick_retry(), "retry", policy_environment{loop, sink, 1}, transport);
  idempotency_handler policy({}, "idempotency", policy_environment{loop, sink, 2}, retry);
  submitted first, duplicate;
  for (submitted* s : {&first, &duplicate}) {
    s->ctx.req.idempotency_key = 9;
    policy.start(call_scope{&s->ctx, time_never}, s->receiver);
    while (loop.step()) {
    }
  }
  EXPECT_EQ(first.ctx.attempts, 2U) << "one failure, one retry";
  EXPECT_TRUE(first.receiver.last.ok());
  EXPECT_EQ(duplicate.ctx.attempts, 0U);
  EXPECT_EQ(duplicate.ctx.cost_usd, 0.0);
  EXPECT_TRUE(duplicate.receiver.last.from_cache);
  EXPECT_EQ(started, 2);
  EXPECT_EQ(sink.count(policy_event_kind::retry_scheduled), 1U) << "only the first call retried";
  EXPECT_EQ(sink.count(policy_event_kind::idempotent_replay), 1U);
}

TEST(idempotency, inside_a_retry_it_answers_the_duplicates_first_attempt) {
  // retry -> idempotency -> transport: the duplicate's retry layer runs, its one attempt is replayed.
  sim::event_loop loop;
  recording_sink sink;
  int started = 0;
  fake_transport transport(loop, from_ms(10), [&](const call_context& c, std::uint32_t) {
    ++started;
    outcome o = started == 1 ? outcome::failure(outcome_class::overloaded) : idempotent_answer();
    const_cast<call_context&>(c).cost_usd += o.cost_usd;
    return o;
  });
  idempotency_handler policy({}, "idempotency", policy_environment{loop, sink, 2}, transport);
  retry_handler retry(quick_retry(), "retry", policy_environment{loop, sink, 1}, policy);
  submitted first, duplicate;
  for (submitted* s : {&first, &duplicate}) {
    s->ctx.req.idempotency_key = 9;
    retry.start(call_scope{&s->ctx, time_never}, s->receiver);
    while (loop.step()) {
    }
  }
  EXPECT_EQ(first.ctx.attempts, 2U);
  EXPECT_EQ(first.ctx.cost_usd, 0.01);
  EXPECT_TRUE(duplicate.receiver.last.from_cache);
  EXPECT_EQ(duplicate.ctx.cost_usd, 0.0);
  EXPECT_EQ(started, 2);
  EXPECT_EQ(sink.count(policy_event_kind::idempotent_replay), 1U);
}

TEST(idempotency, cancelling_a_replay_leaves_nothing_running) {
  idempotency_rig rig;
  submitted a;
  rig.submit(a, 4);
  submitted b;
  b.ctx.req.idempotency_key = 4;
  operation& op = rig.policy->start(call_scope{&b.ctx, time_never}, b.receiver);
  ASSERT_EQ(rig.loop.pending(), 1U);
  op.cancel();
  EXPECT_EQ(rig.loop.pending(), 0U);
  while (rig.loop.step()) {
  }
  EXPECT_EQ(b.receiver.calls, 0);
}

TEST(idempotency, cancelling_a_forwarded_call_cancels_it_and_records_nothing) {
  idempotency_rig rig;
  submitted a;
  a.ctx.req.idempotency_key = 4;
  operation& op = rig.policy->start(call_scope{&a.ctx, time_never}, a.receiver);
  op.cancel();
  EXPECT_EQ(rig.transport->cancelled(), 1);
  EXPECT_EQ(rig.loop.pending(), 0U);
  EXPECT_EQ(rig.policy->records(), 0U);
  EXPECT_EQ(a.receiver.calls, 0);
}

}  // namespace
}  // namespace squall
