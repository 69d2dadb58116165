// The degrade policy under virtual time: which failures it replaces, with what, when, and that a
// degraded answer never counts as a success.

#include "policies/degrade/degrade.hpp"

#include <deque>
#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "sim/engine/event_loop.hpp"
#include "tests/support/fake_transport.hpp"

namespace squall {
namespace {

using testing::fake_transport;
using testing::recording_receiver;
using testing::recording_sink;

outcome answer_of(std::uint32_t tokens) {
  outcome o;
  o.http_status = 200;
  o.output_tokens = tokens;
  o.input_tokens = 100;
  o.cost_usd = 0.01;
  o.provider = "openai";
  o.model = "gpt-4o";
  return o;
}

// A degrade policy in front of a fake transport answering after 20 ms with `answers` (then `otherwise`).
struct degrade_rig {
  explicit degrade_rig(const degrade_options& o)
      : transport(loop, from_ms(20),
                  [this](const call_context&, std::uint32_t) {
                    if (answers.empty()) return otherwise;
                    outcome next = answers.front();
                    answers.pop_front();
                    return next;
                  }),
        policy(o, "last-resort", policy_environment{loop, sink, 1}, transport) {}

  outcome call(std::uint64_t cache_key = 0, std::uint64_t id = 1) {
    request req;
    req.id = id;
    req.cache_key = cache_key;
    return call(req);
  }

  outcome call(const request& req) {
    call_context ctx;
    ctx.req = req;
    recording_receiver r;
    policy.start(call_scope{&ctx, time_never}, r);
    EXPECT_EQ(r.calls, 0) << "never delivered from inside start()";
    while (r.calls == 0 && loop.step()) {
    }
    EXPECT_EQ(r.calls, 1);
    return r.last;
  }

  sim::event_loop loop;
  recording_sink sink;
  std::deque<outcome> answers;
  outcome otherwise = outcome::failure(outcome_class::overloaded);
  fake_transport transport;
  degrade_handler policy;
};

TEST(degrade, an_ok_answer_passes_unchanged) {
  degrade_rig rig{degrade_options{}};
  rig.answers = {answer_of(17)};
  const outcome o = rig.call();
  EXPECT_TRUE(o.ok());
  EXPECT_FALSE(o.degraded);
  EXPECT_EQ(o.output_tokens, 17U);
  EXPECT_EQ(o.cost_usd, 0.01);
  EXPECT_TRUE(rig.sink.events.empty());
}

// Regression (found under ASan): the degraded answer waiting in the call object was delivered by reference
// after the object had freed itself; this test reads it after delivery.
TEST(degrade, a_listed_failure_becomes_the_static_answer_counted_as_degraded) {
  degrade_options opts;
  opts.latency_ms = 5;
  degrade_rig rig(opts);
  const time_point start = rig.loop.now();
  const outcome o = rig.call(0, 9);
  EXPECT_EQ(o.kind, outcome_class::ok);
  EXPECT_TRUE(o.degraded);
  EXPECT_FALSE(o.ok()) << "a degraded answer is never a success";
  EXPECT_EQ(o.output_tokens, 50U);
  EXPECT_EQ(o.cost_usd, 0.0);
  EXPECT_EQ(o.latency, from_ms(5));
  EXPECT_EQ(o.decided_by, "last-resort");
  EXPECT_FALSE(o.from_cache);
  EXPECT_TRUE(o.provider.empty());
  EXPECT_EQ(rig.loop.now() - start, from_ms(25)) << "the failure after 20 ms, the degraded answer 5 ms later";
  ASSERT_EQ(rig.sink.count(policy_event_kind::degraded_served), 1U);
  const policy_event& e = rig.sink.events[0];
  EXPECT_EQ(e.cause, outcome_class::overloaded);
  EXPECT_EQ(e.request_id, 9U);
  EXPECT_EQ(e.detail, "static");
  EXPECT_EQ(e.value, 0U);
  EXPECT_EQ(e.at, start + from_ms(25));
}

TEST(degrade, classes_not_listed_pass_through) {
  degrade_rig rig{degrade_options{}};
  for (auto c : {outcome_class::invalid_request, outcome_class::auth}) {
    rig.otherwise = outcome::failure(c);
    const outcome o = rig.call();
    EXPECT_EQ(o.kind, c);
    EXPECT_FALSE(o.degraded);
  }
  degrade_options only_timeouts;
  only_timeouts.degrade_on = {outcome_class::timeout};
  degrade_rig narrow(only_timeouts);
  EXPECT_EQ(narrow.call().kind, outcome_class::overloaded);
  narrow.otherwise = outcome::failure(outcome_class::timeout);
  EXPECT_TRUE(narrow.call().degraded);
  EXPECT_TRUE(rig.sink.events.empty());
}

TEST(degrade, last_good_serves_the_last_ok_answer_for_the_same_cache_key) {
  degrade_options opts;
  opts.answer = degrade_answer::last_good;
  degrade_rig rig(opts);
  rig.answers = {answer_of(11), answer_of(12), answer_of(99)};
  rig.call(5);
  rig.call(5);   // the later answer replaces the earlier one
  rig.call(6);
  outcome o = rig.call(5);
  EXPECT_EQ(o.kind, outcome_class::ok);
  EXPECT_TRUE(o.degraded);
  EXPECT_FALSE(o.ok());
  EXPECT_TRUE(o.from_cache);
  EXPECT_EQ(o.output_tokens, 12U);
  EXPECT_EQ(o.input_tokens, 100U);
  EXPECT_EQ(o.cost_usd, 0.0);
  EXPECT_EQ(o.provider, "openai");
  EXPECT_EQ(o.model, "gpt-4o");
  ASSERT_EQ(rig.sink.count(policy_event_kind::degraded_served), 1U);
  EXPECT_EQ(rig.sink.events.back().detail, "last_good");
  EXPECT_EQ(rig.sink.events.back().value, 1U);

  // A key never answered, or no key at all, gets the static answer.
  o = rig.call(7);
  EXPECT_TRUE(o.degraded);
  EXPECT_FALSE(o.from_cache);
  EXPECT_EQ(o.output_tokens, 50U);
  EXPECT_EQ(rig.sink.events.back().detail, "static");
  o = rig.call(0);
  EXPECT_EQ(o.output_tokens, 50U);
  EXPECT_EQ(rig.policy.remembered(), 2U);
}

TEST(degrade, degraded_answers_are_never_remembered_as_good) {
  degrade_options opts;
  opts.answer = degrade_answer::last_good;
  degrade_rig rig(opts);
  outcome inner_degraded = answer_of(33);
  inner_degraded.degraded = true;
  rig.answers = {inner_degraded};
  const outcome passed = rig.call(5);
  EXPECT_TRUE(passed.degraded) << "passes through: it is already an answer";
  EXPECT_EQ(passed.output_tokens, 33U);
  EXPECT_EQ(rig.policy.remembered(), 0U);
  EXPECT_EQ(rig.call(5).output_tokens, 50U);
}

TEST(degrade, last_good_is_bounded_by_entries_max) {
  degrade_options opts;
  opts.answer = degrade_answer::last_good;
  opts.entries_max = 2;
  degrade_rig rig(opts);
  rig.answers = {answer_of(1), answer_of(2), answer_of(3)};
  rig.call(1);
  rig.call(2);
  rig.call(3);
  EXPECT_EQ(rig.policy.remembered(), 2U);
  EXPECT_EQ(rig.call(1).output_tokens, 50U) << "key 1 was the least recently used";
  EXPECT_EQ(rig.call(3).output_tokens, 3U);
  EXPECT_EQ(rig.call(2).output_tokens, 2U);
}

TEST(degrade, static_mode_remembers_nothing) {
  degrade_rig rig{degrade_options{}};
  rig.answers = {answer_of(11)};
  rig.call(5);
  EXPECT_EQ(rig.policy.remembered(), 0U);
  EXPECT_EQ(rig.call(5).output_tokens, 50U);
}

TEST(degrade, cancel_while_waiting_for_the_degraded_answer_leaves_nothing) {
  degrade_options opts;
  opts.latency_ms = 50;
  degrade_rig rig(opts);
  call_context ctx;
  recording_receiver r;
  operation& op = rig.policy.start(call_scope{&ctx, time_never}, r);
  rig.loop.run_until(rig.loop.now() + from_ms(30));  // the failure came at 20 ms
  EXPECT_EQ(rig.loop.pending(), 1U);
  op.cancel();
  EXPECT_EQ(rig.loop.pending(), 0U);
  while (rig.loop.step()) {
  }
  EXPECT_EQ(r.calls, 0);
  EXPECT_TRUE(rig.sink.events.empty()) << "nothing was served";
}

TEST(degrade, cancel_during_the_inner_call_cancels_it) {
  degrade_rig rig{degrade_options{}};
  call_context ctx;
  recording_receiver r;
  operation& op = rig.policy.start(call_scope{&ctx, time_never}, r);
  rig.loop.run_until(rig.loop.now() + from_ms(10));
  op.cancel();
  EXPECT_EQ(rig.transport.cancelled(), 1);
  EXPECT_EQ(rig.loop.pending(), 0U);
  EXPECT_EQ(r.calls, 0);
}

TEST(degrade, spec_builds_a_handler_named_after_the_policy) {
  degrade_spec spec{degrade_options{}};
  EXPECT_EQ(spec.type(), "degrade");
  EXPECT_EQ(degrade_registration().type, "degrade");
  sim::event_loop loop;
  recording_sink sink;
  fake_transport t(loop, from_ms(1), [](const call_context&, std::uint32_t) {
    return outcome::failure(outcome_class::server_error);
  });
  auto h = spec.build(policy_environment{loop, sink, 1}, t);
  call_context ctx;
  recording_receiver r;
  h->start(call_scope{&ctx, time_never}, r);
  while (loop.step()) {
  }
  EXPECT_TRUE(r.last.degraded);
  EXPECT_EQ(r.last.decided_by, "degrade");
}

// ---- Rules ----------------------------------------------------------------------------------------------

request make_request(std::uint8_t complexity, std::uint8_t priority, std::uint64_t cache_key = 0,
                     std::string model = "gpt-4o") {
  request req;
  req.id = 1;
  req.complexity = complexity;
  req.priority = priority;
  req.cache_key = cache_key;
  req.model = std::move(model);
  req.provider = "openai";
  return req;
}

degrade_rule rule(std::string name, degrade_answer a) {
  degrade_rule r;
  r.name = std::move(name);
  r.answer = a;
  return r;
}

// critical -> pass; priority >= 2 -> last_good; timeouts -> a 7-token static answer; else the default.
degrade_options ruled_options() {
  degrade_options o;
  o.latency_ms = 0;
  degrade_rule critical = rule("critical", degrade_answer::pass);
  critical.when.request_classes = 1U << 3;
  degrade_rule vip = rule("vip", degrade_answer::last_good);
  vip.when.priority_min = 2;
  degrade_rule timeouts = rule("timeouts", degrade_answer::static_answer);
  timeouts.when.failures = {outcome_class::timeout};
  timeouts.output_tokens = 7;
  o.rules = {critical, vip, timeouts};
  return o;
}

TEST(degrade_rules, a_matching_pass_rule_lets_the_failure_through_and_says_which_rule) {
  degrade_rig rig(ruled_options());
  const time_point start = rig.loop.now();
  const outcome o = rig.call(make_request(3, 0));
  EXPECT_EQ(o.kind, outcome_class::overloaded) << "a critical request never gets a canned answer";
  EXPECT_FALSE(o.degraded);
  EXPECT_EQ(rig.loop.now() - start, from_ms(20)) << "passed at once, without latency_ms";
  ASSERT_EQ(rig.sink.events.size(), 1U);
  const policy_event& e = rig.sink.events[0];
  EXPECT_EQ(e.kind, policy_event_kind::degrade_passed);
  EXPECT_EQ(e.detail, "critical");
  EXPECT_EQ(e.cause, outcome_class::overloaded);
  EXPECT_EQ(e.policy, "last-resort");
  EXPECT_EQ(rig.sink.count(policy_event_kind::degraded_served), 0U);
  // Complexities past the last class count as critical.
  EXPECT_EQ(rig.call(make_request(9, 0)).kind, outcome_class::overloaded);
  EXPECT_EQ(rig.sink.count(policy_event_kind::degrade_passed), 2U);
}

TEST(degrade_rules, the_first_matching_rule_wins) {
  degrade_rig rig(ruled_options());
  rig.answers = {answer_of(31)};
  rig.call(make_request(0, 2, 44));  // ok: remembered for key 44 since the vip rule answers last_good

  // Critical and vip: critical comes first.
  EXPECT_EQ(rig.call(make_request(3, 2, 44)).kind, outcome_class::overloaded);
  EXPECT_EQ(rig.sink.events.back().detail, "critical");

  // vip, overloaded: the remembered answer.
  outcome o = rig.call(make_request(1, 2, 44));
  EXPECT_TRUE(o.degraded);
  EXPECT_FALSE(o.ok());
  EXPECT_TRUE(o.from_cache);
  EXPECT_EQ(o.output_tokens, 31U);
  EXPECT_EQ(rig.sink.events.back().kind, policy_event_kind::degraded_served);
  EXPECT_EQ(rig.sink.events.back().detail, "vip/last_good");
  EXPECT_EQ(rig.sink.events.back().value, 1U);

  // vip and a timeout: vip comes before the timeouts rule.
  rig.otherwise = outcome::failure(outcome_class::timeout);
  EXPECT_EQ(rig.call(make_request(1, 5, 44)).output_tokens, 31U);
  EXPECT_EQ(rig.sink.events.back().detail, "vip/last_good");
  EXPECT_EQ(rig.sink.events.back().cause, outcome_class::timeout);

  // vip with no remembered answer: the rule's static answer, the policy's tokens.
  o = rig.call(make_request(1, 2, 45));
  EXPECT_FALSE(o.from_cache);
  EXPECT_EQ(o.output_tokens, 50U);
  EXPECT_EQ(rig.sink.events.back().detail, "vip/static");
  EXPECT_EQ(rig.sink.events.back().value, 0U);

  // Neither critical nor vip, a timeout: the timeouts rule and its own token count.
  o = rig.call(make_request(1, 1, 44));
  EXPECT_TRUE(o.degraded);
  EXPECT_FALSE(o.from_cache);
  EXPECT_EQ(o.output_tokens, 7U);
  EXPECT_EQ(rig.sink.events.back().detail, "timeouts/static");

  // Nothing matches (overloaded, priority 1): the default.
  rig.otherwise = outcome::failure(outcome_class::overloaded);
  o = rig.call(make_request(1, 1, 44));
  EXPECT_EQ(o.output_tokens, 50U);
  EXPECT_FALSE(o.from_cache) << "the default is static even though a rule uses last_good";
  EXPECT_EQ(rig.sink.events.back().detail, "default/static");
}

TEST(degrade_rules, priority_bounds_are_inclusive_on_both_sides) {
  degrade_options o;
  degrade_rule mid = rule("mid", degrade_answer::pass);
  mid.when.priority_min = 2;
  mid.when.priority_max = 4;
  o.rules = {mid};
  degrade_rig rig(o);
  for (const int p : {0, 1, 2, 3, 4, 5, 255}) {
    const bool passed = rig.call(make_request(0, static_cast<std::uint8_t>(p))).kind == outcome_class::overloaded;
    EXPECT_EQ(passed, p >= 2 && p <= 4) << "priority " << p;
  }
}

TEST(degrade_rules, model_and_provider_lists_match_the_request) {
  degrade_options o;
  o.answer = degrade_answer::pass;  // only what a rule answers is degraded
  degrade_rule mini = rule("mini", degrade_answer::static_answer);
  mini.when.models = {"gpt-4o-mini", "claude-haiku"};
  mini.when.providers = {"openai"};
  mini.output_tokens = 3;
  o.rules = {mini};
  degrade_rig rig(o);
  EXPECT_EQ(rig.call(make_request(0, 0, 0, "gpt-4o-mini")).output_tokens, 3U);
  EXPECT_EQ(rig.sink.events.back().detail, "mini/static");
  EXPECT_EQ(rig.call(make_request(0, 0, 0, "gpt-4o")).kind, outcome_class::overloaded);
  EXPECT_EQ(rig.sink.events.back().kind, policy_event_kind::degrade_passed);
  EXPECT_EQ(rig.sink.events.back().detail, "default");
  request other_provider = make_request(0, 0, 0, "claude-haiku");
  other_provider.provider = "anthropic";
  EXPECT_EQ(rig.call(other_provider).kind, outcome_class::overloaded) << "both lists must match";
}

TEST(degrade_rules, request_keys_are_judged_as_the_request_entered) {
  degrade_options o;
  degrade_rule mini = rule("mini", degrade_answer::pass);
  mini.when.models = {"gpt-4o-mini"};
  o.rules = {mini};
  degrade_rig rig(o);
  call_context ctx;
  ctx.req = make_request(0, 0, 0, "gpt-4o-mini");
  recording_receiver r;
  rig.policy.start(call_scope{&ctx, time_never}, r);
  ctx.req.model = "gpt-4o";  // as a router or budget inside would rewrite it
  while (r.calls == 0 && rig.loop.step()) {
  }
  EXPECT_EQ(r.last.kind, outcome_class::overloaded) << "decided by the model the request entered with";
  EXPECT_EQ(rig.sink.events.back().detail, "mini");
}

TEST(degrade_rules, failures_outside_degrade_on_never_reach_the_rules) {
  degrade_options o;
  o.rules = {rule("all", degrade_answer::static_answer)};
  degrade_rig rig(o);
  rig.otherwise = outcome::failure(outcome_class::auth);
  EXPECT_EQ(rig.call(make_request(0, 0)).kind, outcome_class::auth);
  EXPECT_TRUE(rig.sink.events.empty()) << "not a decision of any rule";
}

TEST(degrade_rules, rules_built_from_a_policy_file_decide_the_same_way) {
  const json j = json::parse(R"({"answer": "pass", "latency_ms": 2, "rules": [
      {"name": "simple-static", "when": {"request_class": ["simple", "moderate"], "failure": ["overloaded"]},
       "answer": "static", "output_tokens": 9},
      {"when": {"priority_min": 1}, "answer": "last_good"}]})");
  json_reader reader(j, "$.policies[0]");
  degrade_options o;
  read_degrade_options(reader, o);
  ASSERT_FALSE(reader.finish());
  degrade_rig rig(o);
  EXPECT_EQ(rig.call(make_request(1, 0)).output_tokens, 9U);
  EXPECT_EQ(rig.sink.events.back().detail, "simple-static/static");
  EXPECT_EQ(rig.call(make_request(2, 1)).output_tokens, 50U);
  EXPECT_EQ(rig.sink.events.back().detail, "rules[1]/static") << "an unnamed rule is named by its index";
  EXPECT_EQ(rig.call(make_request(2, 0)).kind, outcome_class::overloaded);
  EXPECT_EQ(rig.sink.events.back().detail, "default");
  rig.otherwise = outcome::failure(outcome_class::timeout);
  EXPECT_EQ(rig.call(make_request(0, 0)).kind, outcome_class::timeout) << "the first rule only matches overloaded";
}

TEST(degrade_rules, the_same_calls_give_the_same_events) {
  auto run = [] {
    degrade_rig rig(ruled_options());
    rig.answers = {answer_of(5), answer_of(6)};
    rig.call(make_request(0, 2, 1));
    for (std::uint8_t i = 0; i < 12; ++i) {
      rig.otherwise = outcome::failure(i % 3 == 0 ? outcome_class::timeout : outcome_class::overloaded);
      rig.call(make_request(static_cast<std::uint8_t>(i % 4), static_cast<std::uint8_t>(i % 3), 1 + i % 2));
    }
    std::string trace;
    for (const auto& e : rig.sink.events) {
      trace += std::string(to_string(e.kind)) + " " + std::string(e.detail) + " " + std::to_string(e.value) + ";";
    }
    return trace;
  };
  const std::string first = run();
  EXPECT_EQ(first, run());
  EXPECT_NE(first.find("critical"), std::string::npos);
  EXPECT_NE(first.find("vip/last_good"), std::string::npos);
  EXPECT_NE(first.find("timeouts/static"), std::string::npos);
  EXPECT_NE(first.find("default/static"), std::string::npos);
}

}  // namespace
}  // namespace squall
