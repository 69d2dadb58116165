// The prompt trimmer: options (a required key, ranges, JSON paths) and the mechanism under virtual time.

#include "policies/prompt_trim/prompt_trim.hpp"

#include <memory>

#include <gtest/gtest.h>

#include "sim/engine/event_loop.hpp"
#include "tests/support/fake_transport.hpp"

namespace squall {
namespace {

using testing::fake_transport;
using testing::recording_receiver;
using testing::recording_sink;

std::optional<config_error> read_prompt_trim(const char* text, prompt_trim_options& o) {
  const json j = json::parse(text);
  json_reader reader(j, "$.policies[3]");
  read_prompt_trim_options(reader, o);
  return reader.finish();
}

std::optional<config_error> read_prompt_trim(const char* text) {
  prompt_trim_options o;
  return read_prompt_trim(text, o);
}

TEST(prompt_trim_options, reads_every_key_with_the_documented_default) {
  prompt_trim_options o;
  ASSERT_FALSE(read_prompt_trim(R"({"input_tokens_max": 4000})", o));
  EXPECT_EQ(o.input_tokens_max, 4000U);
  EXPECT_EQ(o.on_exceeded, prompt_trim_mode::trim);
  ASSERT_FALSE(read_prompt_trim(R"({"input_tokens_max": 2000000, "on_exceeded": "reject"})", o));
  EXPECT_EQ(o.input_tokens_max, 2000000U);
  EXPECT_EQ(o.on_exceeded, prompt_trim_mode::reject);
}

TEST(prompt_trim_options, input_tokens_max_is_required_and_checked) {
  auto e = read_prompt_trim(R"({"on_exceeded": "trim"})");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->path, "$.policies[3]");
  EXPECT_NE(e->message.find("missing key \"input_tokens_max\""), std::string::npos) << e->message;
  e = read_prompt_trim(R"({"input_tokens_max": 0})");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->path, "$.policies[3].input_tokens_max");
  EXPECT_NE(e->message.find("from 1 to 2000000"), std::string::npos) << e->message;
  e = read_prompt_trim(R"({"input_tokens_max": 2000001})");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->path, "$.policies[3].input_tokens_max");
  e = read_prompt_trim(R"({"input_tokens_max": 10, "on_exceeded": "truncate"})");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->path, "$.policies[3].on_exceeded");
  // A misspelt key is reported as unknown (with a suggestion), not as a missing key.
  e = read_prompt_trim(R"({"input_token_max": 10})");
  ASSERT_TRUE(e);
  EXPECT_NE(e->message.find("unknown key \"input_token_max\""), std::string::npos) << e->message;
}

struct trim_rig {
  explicit trim_rig(prompt_trim_options o) {
    o_ = o;
    transport = std::make_unique<fake_transport>(loop, from_ms(10), [this](const call_context& c, std::uint32_t) {
      seen_input = c.req.input_tokens;
      outcome ok;
      ok.input_tokens = c.req.input_tokens;
      return ok;
    });
    policy = std::make_unique<prompt_trim_handler>(o, "trim", policy_environment{loop, sink, 1}, *transport);
  }
  operation& start(std::uint32_t input_tokens) {
    ctx.req.id = 9;
    ctx.req.input_tokens = input_tokens;
    return policy->start(call_scope{&ctx, time_never}, receiver);
  }
  void run() {
    while (loop.step()) {
    }
  }
  prompt_trim_options o_;
  sim::event_loop loop;
  recording_sink sink;
  std::unique_ptr<fake_transport> transport;
  std::unique_ptr<prompt_trim_handler> policy;
  call_context ctx;
  recording_receiver receiver;
  std::uint32_t seen_input = 0;
};

prompt_trim_options limit(std::uint32_t max, prompt_trim_mode mode = prompt_trim_mode::trim) {
  prompt_trim_options o;
  o.input_tokens_max = max;
  o.on_exceeded = mode;
  return o;
}

TEST(prompt_trim, trims_a_long_input_to_the_limit_for_the_rest_of_the_call) {
  trim_rig rig(limit(4000));
  rig.start(5500);
  EXPECT_EQ(rig.ctx.req.input_tokens, 4000U);
  rig.run();
  EXPECT_EQ(rig.seen_input, 4000U) << "the provider sees the trimmed input";
  EXPECT_TRUE(rig.receiver.last.ok());
  EXPECT_EQ(rig.receiver.last.input_tokens, 4000U);
  ASSERT_EQ(rig.sink.events.size(), 1U);
  EXPECT_EQ(rig.sink.events[0].kind, policy_event_kind::prompt_trimmed);
  EXPECT_EQ(rig.sink.events[0].value, 1500U);
  EXPECT_EQ(rig.sink.events[0].request_id, 9U);
  EXPECT_EQ(rig.sink.events[0].policy, "trim");
}

TEST(prompt_trim, leaves_an_input_within_the_limit_alone) {
  trim_rig rig(limit(4000));
  rig.start(4000);
  rig.run();
  EXPECT_EQ(rig.seen_input, 4000U);
  EXPECT_TRUE(rig.sink.events.empty());
}

TEST(prompt_trim, reject_mode_answers_invalid_request_without_calling_the_provider) {
  trim_rig rig(limit(4000, prompt_trim_mode::reject));
  rig.start(4001);
  EXPECT_EQ(rig.receiver.calls, 0) << "never delivered from inside start()";
  rig.run();
  EXPECT_EQ(rig.receiver.calls, 1);
  EXPECT_EQ(rig.receiver.last.kind, outcome_class::invalid_request);
  EXPECT_EQ(rig.receiver.last.decided_by, "trim");
  EXPECT_EQ(rig.transport->started(), 0);
  EXPECT_EQ(rig.ctx.req.input_tokens, 4001U);
  EXPECT_TRUE(rig.sink.events.empty());
}

TEST(prompt_trim, cancel_reaches_the_inner_call_or_drops_the_rejection) {
  trim_rig rig(limit(10));
  rig.start(50).cancel();
  EXPECT_EQ(rig.transport->cancelled(), 1);
  trim_rig rejecting(limit(10, prompt_trim_mode::reject));
  rejecting.start(50).cancel();
  EXPECT_EQ(rejecting.loop.pending(), 0U);
  rejecting.run();
  EXPECT_EQ(rejecting.receiver.calls, 0);
}

}  // namespace
}  // namespace squall
