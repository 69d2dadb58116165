// The validate policy: which ok answers it refuses, read from the answer's text (production) or from the
// outcome's flaw (the simulation), and that a retry outside it saves the call.

#include "policies/validate/validate.hpp"

#include <deque>
#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "policies/retry/retry.hpp"
#include "sim/engine/event_loop.hpp"
#include "tests/support/fake_transport.hpp"

namespace squall {
namespace {

using testing::fake_transport;
using testing::recording_receiver;

outcome with_text(std::string text, std::string finish = "stop") {
  outcome o;
  o.http_status = 200;
  o.output_tokens = 7;
  o.cost_usd = 0.01;
  auto a = std::make_shared<answer_payload>();
  a->text = std::move(text);
  a->finish_reason = std::move(finish);
  o.answer = std::move(a);
  return o;
}

outcome flawed(content_flaw f) {
  outcome o;
  o.http_status = 200;
  o.flaw = f;
  return o;
}

// A validate policy in front of a fake transport answering after 10 ms with `answers` (then `otherwise`).
struct validate_rig {
  explicit validate_rig(const validate_options& o)
      : transport(loop, from_ms(10),
                  [this](const call_context&, std::uint32_t) {
                    if (answers.empty()) return otherwise;
                    outcome next = answers.front();
                    answers.pop_front();
                    return next;
                  }),
        policy(o, "check", transport) {}

  outcome call(payload_ptr payload = nullptr) {
    call_context ctx;
    ctx.req.id = 1;
    ctx.req.payload = std::move(payload);
    recording_receiver r;
    policy.start(call_scope{&ctx, time_never}, r);
    while (r.calls == 0 && loop.step()) {
    }
    EXPECT_EQ(r.calls, 1);
    return r.last;
  }

  sim::event_loop loop;
  std::deque<outcome> answers;
  outcome otherwise;
  fake_transport transport;
  validate_handler policy;
};

TEST(validate, a_good_answer_passes_unchanged) {
  validate_options opts;
  opts.json = validate_json::always;
  opts.not_truncated = true;
  validate_rig rig(opts);
  rig.answers = {with_text(R"({"a": 1})")};
  const outcome o = rig.call();
  EXPECT_TRUE(o.ok());
  EXPECT_TRUE(o.decided_by.empty());
  EXPECT_EQ(o.flaw, content_flaw::none);
}

TEST(validate, an_empty_text_is_a_bad_answer_that_keeps_its_bill) {
  validate_rig rig{validate_options{}};
  rig.answers = {with_text(" \n\t")};
  const outcome o = rig.call();
  EXPECT_EQ(o.kind, outcome_class::bad_answer);
  EXPECT_EQ(o.flaw, content_flaw::empty);
  EXPECT_EQ(o.decided_by, "check");
  EXPECT_EQ(o.http_status, 200);
  EXPECT_EQ(o.cost_usd, 0.01) << "the provider billed it";
  ASSERT_TRUE(o.answer) << "the refused answer stays for the caller to see";
  EXPECT_FALSE(is_permanent(o.kind));
}

TEST(validate, a_length_cut_is_refused_only_when_asked) {
  validate_rig lenient{validate_options{}};
  lenient.answers = {with_text("half an ans", "length")};
  EXPECT_TRUE(lenient.call().ok());

  validate_options strict;
  strict.not_truncated = true;
  validate_rig rig(strict);
  rig.answers = {with_text("half an ans", "length"), with_text("cut", "max_tokens")};
  EXPECT_EQ(rig.call().flaw, content_flaw::truncated);
  EXPECT_EQ(rig.call().kind, outcome_class::bad_answer) << "Anthropic's max_tokens too";
}

TEST(validate, json_always_or_only_when_the_request_asked_for_it) {
  validate_options always;
  always.json = validate_json::always;
  validate_rig rig(always);
  rig.answers = {with_text(R"({"answer": "cut)")};
  EXPECT_EQ(rig.call().flaw, content_flaw::invalid_json);

  validate_options when_asked;
  when_asked.json = validate_json::when_asked;
  validate_rig asked(when_asked);
  asked.answers = {with_text("plain prose"), with_text("plain prose"), with_text("plain prose")};
  EXPECT_TRUE(asked.call(make_chat_payload({{"user", "hi"}})).ok()) << "a chat payload asks for no JSON";
  EXPECT_TRUE(asked.call(make_raw_payload(R"({"model": "m", "response_format": {"type": "text"}})")).ok());
  EXPECT_EQ(asked.call(make_raw_payload(R"({"model": "m", "response_format": {"type": "json_object"}})")).kind,
            outcome_class::bad_answer);
}

TEST(validate, the_simulations_flaw_is_judged_by_the_same_options) {
  validate_options opts;  // non_empty only
  validate_rig rig(opts);
  rig.answers = {flawed(content_flaw::empty), flawed(content_flaw::truncated), flawed(content_flaw::invalid_json)};
  EXPECT_EQ(rig.call().kind, outcome_class::bad_answer);
  EXPECT_TRUE(rig.call().ok()) << "not_truncated is off";
  EXPECT_TRUE(rig.call().ok()) << "json is off";

  validate_options json_on;
  json_on.json = validate_json::always;
  validate_rig strict(json_on);
  strict.answers = {flawed(content_flaw::invalid_json), outcome{}};
  EXPECT_EQ(strict.call().flaw, content_flaw::invalid_json);
  EXPECT_TRUE(strict.call().ok()) << "no answer and no flaw: nothing to check";
}

TEST(validate, failures_and_degraded_answers_pass_unchanged) {
  validate_rig rig{validate_options{}};
  rig.answers = {outcome::failure(outcome_class::overloaded)};
  EXPECT_EQ(rig.call().kind, outcome_class::overloaded);
  outcome degraded = with_text("");
  degraded.degraded = true;
  rig.answers = {degraded};
  const outcome o = rig.call();
  EXPECT_EQ(o.kind, outcome_class::ok);
  EXPECT_TRUE(o.degraded);
}

TEST(validate, a_retry_outside_it_tries_again_after_a_bad_answer) {
  sim::event_loop loop;
  std::deque<outcome> answers = {flawed(content_flaw::empty), flawed(content_flaw::empty), with_text("fine")};
  fake_transport transport(loop, from_ms(10), [&](const call_context&, std::uint32_t) {
    outcome next = answers.front();
    answers.pop_front();
    return next;
  });
  validate_handler check(validate_options{}, "check", transport);
  testing::recording_sink sink;
  retry_options ro;
  ro.attempts_max = 4;
  ro.delay_ms_base = 1;
  retry_handler retry(ro, "retry", policy_environment{loop, sink, 7}, check);
  call_context ctx;
  ctx.req.id = 3;
  recording_receiver r;
  retry.start(call_scope{&ctx, time_never}, r);
  while (r.calls == 0 && loop.step()) {
  }
  ASSERT_EQ(r.calls, 1);
  EXPECT_TRUE(r.last.ok());
  EXPECT_EQ(ctx.attempts, 3U) << "two bad answers retried by retry's default retry_on";
}

}  // namespace
}  // namespace squall
