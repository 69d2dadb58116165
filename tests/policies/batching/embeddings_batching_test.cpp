// Batching embeddings in production: single-text embeddings calls with the same body but their input leave
// as one call whose "input" is the array of their texts; the answer's items go back to their own members
// (by index, whatever order the provider wrote them in), and a member the answer has no item for fails
// alone, never answered with another's vector. Chat calls with payloads go alone.

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "policies/batching/batching.hpp"
#include "policies/batching/embeddings_batch.hpp"
#include "sim/engine/event_loop.hpp"
#include "tests/support/fake_transport.hpp"

namespace squall {
namespace {

using testing::fake_transport;
using testing::recording_sink;

struct embeddings_caller final : outcome_receiver {
  void on_outcome(outcome&& o) override {
    ++calls;
    last = std::move(o);
  }
  call_context ctx;
  int calls = 0;
  outcome last;
  operation* op = nullptr;
};

// A provider that embeds each text as [length, first letter]: a member's vector says whose it is. It
// writes the items in reverse order, with their indexes, as nothing in the API forbids.
struct embeddings_rig {
  explicit embeddings_rig(batching_options options = {}) {
    transport = std::make_unique<fake_transport>(loop, from_ms(50), [this](const call_context& c, std::uint32_t) {
      bodies.push_back(c.req.payload ? c.req.payload->raw_body : std::string());
      paths.push_back(c.req.payload ? c.req.payload->path : std::string());
      outcome o;
      o.http_status = 200;
      o.input_tokens = 30;
      o.cost_usd = 0.003;
      auto a = std::make_shared<answer_payload>();
      const nlohmann::json body = c.req.payload->raw_body.empty() ? nlohmann::json::object()
                                                                   : nlohmann::json::parse(c.req.payload->raw_body);
      if (!body.contains("input")) {
        a->text = "a chat answer";
      } else {
        nlohmann::ordered_json data = nlohmann::ordered_json::array();
        const auto& input = body["input"];
        const std::size_t n = input.is_array() ? input.size() : 1;
        for (std::size_t k = n; k-- > 0;) {
          if (drop_index && *drop_index == k) continue;
          const std::string text = input.is_array() ? input[k].get<std::string>() : input.get<std::string>();
          data.push_back({{"object", "embedding"}, {"index", k},
                          {"embedding", {static_cast<double>(text.size()), static_cast<double>(text[0])}}});
        }
        a->body = nlohmann::ordered_json{{"object", "list"}, {"data", data}, {"model", body["model"]},
                                         {"usage", {{"prompt_tokens", 30}, {"total_tokens", 30}}}}
                      .dump();
      }
      o.answer = std::move(a);
      return o;
    });
    policy = std::make_unique<batching_handler>(options, "batching", policy_environment{loop, sink, 3}, *transport);
  }

  embeddings_caller& embed(const std::string& text, const std::string& extra = "") {
    auto& c = *callers.emplace_back(std::make_unique<embeddings_caller>());
    c.ctx.req.model = "text-embedding-3-small";
    c.ctx.req.payload = make_raw_payload(R"({"model":"text-embedding-3-small",)" + extra + R"("input":")" + text + R"("})",
                                         "/embeddings");
    c.op = &policy->start(call_scope{&c.ctx, time_never}, c);
    return c;
  }

  void run() {
    while (loop.step()) {
    }
  }

  sim::event_loop loop;
  recording_sink sink;
  std::unique_ptr<fake_transport> transport;
  std::unique_ptr<batching_handler> policy;
  std::vector<std::unique_ptr<embeddings_caller>> callers;
  std::vector<std::string> bodies, paths;
  std::optional<std::size_t> drop_index;
};

std::vector<double> vector_of(const outcome& o) {
  const auto body = nlohmann::json::parse(o.answer->body);
  EXPECT_EQ(body["data"].size(), 1U);
  EXPECT_EQ(body["data"][0]["index"], 0);
  return body["data"][0]["embedding"].get<std::vector<double>>();
}

TEST(embeddings_batching, single_text_calls_leave_as_one_array_call_and_each_gets_its_own_vector) {
  embeddings_rig rig;
  embeddings_caller& a = rig.embed("apple");
  embeddings_caller& b = rig.embed("banana split");
  embeddings_caller& c = rig.embed("cherry pie, warm");
  rig.run();
  ASSERT_EQ(rig.transport->started(), 1) << "one call for the three";
  ASSERT_EQ(rig.bodies.size(), 1U);
  const auto sent = nlohmann::json::parse(rig.bodies[0]);
  EXPECT_EQ(sent["input"], nlohmann::json::array({"apple", "banana split", "cherry pie, warm"}));
  EXPECT_EQ(sent["model"], "text-embedding-3-small");
  EXPECT_EQ(rig.paths[0], "/embeddings");
  for (embeddings_caller* m : {&a, &b, &c}) {
    ASSERT_EQ(m->calls, 1);
    ASSERT_TRUE(m->last.ok());
    ASSERT_TRUE(m->last.answer);
  }
  EXPECT_EQ(vector_of(a.last), (std::vector<double>{5, 'a'}));
  EXPECT_EQ(vector_of(b.last), (std::vector<double>{12, 'b'}));
  EXPECT_EQ(vector_of(c.last), (std::vector<double>{16, 'c'}));
  const auto answer = nlohmann::ordered_json::parse(a.last.answer->body);
  EXPECT_EQ(answer.begin().key(), "object") << "the provider's shape and key order";
  EXPECT_EQ(answer["model"], "text-embedding-3-small");
  // The bill and the usage are split by the members' texts (2, 3 and 4 tokens by the estimate).
  const double cost = a.last.cost_usd + b.last.cost_usd + c.last.cost_usd;
  EXPECT_NEAR(cost, 0.003, 1e-12);
  EXPECT_LT(a.last.cost_usd, c.last.cost_usd);
  EXPECT_EQ(answer["usage"]["prompt_tokens"], a.last.input_tokens);
}

TEST(embeddings_batching, a_member_the_answer_has_no_item_for_fails_alone) {
  embeddings_rig rig;
  rig.drop_index = 1;
  embeddings_caller& a = rig.embed("apple");
  embeddings_caller& b = rig.embed("banana");
  embeddings_caller& c = rig.embed("cherry");
  rig.run();
  EXPECT_TRUE(a.last.ok());
  EXPECT_EQ(vector_of(a.last), (std::vector<double>{5, 'a'}));
  EXPECT_EQ(b.last.kind, outcome_class::server_error);
  ASSERT_TRUE(b.last.answer);
  EXPECT_NE(b.last.answer->error_message.find("no embedding for input 1"), std::string::npos);
  EXPECT_TRUE(c.last.ok());
  EXPECT_EQ(vector_of(c.last), (std::vector<double>{6, 'c'}));
}

TEST(embeddings_batching, a_member_cancelled_after_sending_does_not_shift_the_others) {
  embeddings_rig rig;
  embeddings_caller& a = rig.embed("apple");
  rig.embed("banana");
  embeddings_caller& c = rig.embed("cherry");
  rig.loop.run_until(rig.loop.now() + from_ms(60));  // the window (50 ms) is over: the batch left
  ASSERT_EQ(rig.transport->started(), 1);
  // Cancel the middle member: the third still gets input 2's vector.
  embeddings_caller& b = *rig.callers[1];
  b.op->cancel();
  rig.run();
  EXPECT_EQ(b.calls, 0);
  EXPECT_EQ(vector_of(a.last), (std::vector<double>{5, 'a'}));
  EXPECT_EQ(vector_of(c.last), (std::vector<double>{6, 'c'}));
}

TEST(embeddings_batching, different_bodies_and_chat_calls_are_not_batched_together) {
  embeddings_rig rig;
  rig.embed("apple");
  rig.embed("banana", R"("dimensions":256,)");
  embeddings_caller chat;
  chat.ctx.req.model = "gpt-4o-mini";
  chat.ctx.req.payload = make_chat_payload({{"user", "hi"}});
  rig.policy->start(call_scope{&chat.ctx, time_never}, chat);
  rig.run();
  EXPECT_EQ(rig.transport->started(), 3);
  EXPECT_EQ(chat.calls, 1);
  EXPECT_EQ(chat.last.answer->text, "a chat answer");
}

TEST(embeddings_batching, batches_hold_at_most_the_apis_2048_inputs) {
  batching_options o;
  o.batch_size_max = 4096;
  o.window_ms = 1000;
  embeddings_rig rig(o);
  for (int i = 0; i < 2049; ++i) rig.embed("t" + std::to_string(i));
  rig.run();
  ASSERT_EQ(rig.bodies.size(), 2U);
  EXPECT_EQ(nlohmann::json::parse(rig.bodies[0])["input"].size(), 2048U);
  EXPECT_EQ(nlohmann::json::parse(rig.bodies[1])["input"].size(), 1U);
}

TEST(embeddings_batch, only_single_text_embeddings_calls_are_members) {
  EXPECT_TRUE(read_embeddings_member(*make_raw_payload(R"({"model":"m","input":"x"})", "/embeddings")));
  EXPECT_TRUE(read_embeddings_member(*make_raw_payload(R"({"model":"m","input":"x"})", "/v1/embeddings")));
  EXPECT_FALSE(read_embeddings_member(*make_raw_payload(R"({"model":"m","input":["x","y"]})", "/embeddings")));
  EXPECT_FALSE(read_embeddings_member(*make_raw_payload(R"({"model":"m","input":"x"})", "/moderations")));
  EXPECT_FALSE(read_embeddings_member(*make_raw_payload("not json", "/embeddings")));
  EXPECT_FALSE(read_embeddings_member(*make_chat_payload({{"user", "x"}})));
  // Key order does not matter; any other key does.
  EXPECT_EQ(read_embeddings_member(*make_raw_payload(R"({"model":"m","dimensions":8,"input":"x"})", "/embeddings"))->group,
            read_embeddings_member(*make_raw_payload(R"({"input":"y","dimensions":8,"model":"m"})", "/embeddings"))->group);
  EXPECT_NE(read_embeddings_member(*make_raw_payload(R"({"model":"m","dimensions":8,"input":"x"})", "/embeddings"))->group,
            read_embeddings_member(*make_raw_payload(R"({"model":"m","input":"x"})", "/embeddings"))->group);
}

}  // namespace
}  // namespace squall
