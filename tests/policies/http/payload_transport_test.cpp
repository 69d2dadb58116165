// Production calls through the HTTP transport against loopback servers: the caller's messages reach the
// server as written, the provider's answer (text, finish reason, id, raw body) or its error message
// reaches the caller, and no x-squall-* header leaves unless the harness asks for them.

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <nlohmann/json.hpp>

#include "policies/http/http_transport.hpp"
#include "tests/support/canned_http_server.hpp"
#include "tests/support/fake_transport.hpp"

namespace squall {
namespace {

using testing::canned_http_server;
using testing::canned_reply;
using testing::http_chunk;
using testing::http_last_chunk;
using testing::http_response;
using testing::http_stream_head;
using testing::received_request;
using testing::recording_receiver;

// One transport with one endpoint; each call runs the io_context until the outcome arrives.
struct production_rig {
  boost::asio::io_context io;
  asio_runtime rt{io};
  std::unique_ptr<http_transport> transport;

  production_rig(const std::string& base_url, api_kind api, bool stream) {
    http_transport_options o;  // squall_headers stays off, as in production
    o.endpoints.push_back({"p", api, base_url, "sk-live", stream});
    auto made = http_transport::create(rt, std::move(o));
    EXPECT_TRUE(made) << (made ? "" : made.error().describe());
    if (made) transport = std::move(made.value());
  }

  outcome call(payload_ptr payload, std::string model = "m") {
    call_context c;
    c.req.model = std::move(model);
    c.req.payload = std::move(payload);
    recording_receiver rec;
    transport->start(call_scope{&c, time_never}, rec);
    io.restart();
    io.run();
    EXPECT_EQ(rec.calls, 1);
    return rec.last;
  }
};

const std::string paris_answer =
    R"({"id":"chatcmpl-77","object":"chat.completion","model":"gpt-4o","choices":[{"index":0,)"
    R"("message":{"role":"assistant","content":"The capital is Paris."},"finish_reason":"stop"}],)"
    R"("usage":{"prompt_tokens":9,"completion_tokens":5}})";

TEST(payload_transport, the_callers_messages_go_out_and_the_providers_answer_comes_back_whole) {
  canned_http_server server([](const received_request&) {
    return canned_reply{}.write(http_response(200, "OK", paris_answer));
  });
  production_rig rig(server.base_url(), api_kind::openai, false);
  const outcome o = rig.call(make_chat_payload({{"system", "Answer in one line."}, {"user", "Capital of France?"}}, 50),
                             "gpt-4o");
  ASSERT_EQ(o.kind, outcome_class::ok);
  ASSERT_TRUE(o.answer);
  EXPECT_EQ(o.answer->text, "The capital is Paris.");
  EXPECT_EQ(o.answer->finish_reason, "stop");
  EXPECT_EQ(o.answer->response_id, "chatcmpl-77");
  EXPECT_EQ(o.answer->body, paris_answer) << "the raw body, byte for byte";
  EXPECT_EQ(o.input_tokens, 9U);

  const auto reqs = server.requests();
  ASSERT_EQ(reqs.size(), 1U);
  const auto body = nlohmann::json::parse(reqs[0].body);
  EXPECT_EQ(body["messages"][0]["content"], "Answer in one line.");
  EXPECT_EQ(body["messages"][1]["content"], "Capital of France?");
  EXPECT_EQ(body["max_tokens"], 50);
  EXPECT_EQ(reqs[0].header("x-squall-request-id"), "");
  EXPECT_EQ(reqs[0].header("x-squall-attempt"), "");
  EXPECT_EQ(reqs[0].header("x-squall-input-tokens"), "");
}

TEST(payload_transport, a_streamed_anthropic_answer_is_joined_from_its_deltas) {
  auto event = [](const std::string& name, const std::string& json) {
    return http_chunk("event: " + name + "\ndata: " + json + "\n\n");
  };
  canned_http_server server([&](const received_request&) {
    return canned_reply{}
        .write(http_stream_head())
        .write(event("message_start", R"({"type":"message_start","message":{"id":"msg_42","model":"c","usage":{"input_tokens":4}}})"))
        .write(event("content_block_delta", R"({"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Bonjour"}})"))
        .write(event("content_block_delta", R"({"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":" !"}})"))
        .write(event("message_delta", R"({"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":3}})"))
        .write(event("message_stop", R"({"type":"message_stop"})"))
        .write(http_last_chunk);
  });
  production_rig rig(server.base_url(), api_kind::anthropic, true);
  const outcome o = rig.call(make_chat_payload({{"system", "French."}, {"user", "Hello"}}));
  ASSERT_EQ(o.kind, outcome_class::ok);
  ASSERT_TRUE(o.answer);
  EXPECT_EQ(o.answer->text, "Bonjour !");
  EXPECT_EQ(o.answer->finish_reason, "end_turn");
  EXPECT_EQ(o.answer->response_id, "msg_42");
  const auto body = nlohmann::json::parse(server.requests().at(0).body);
  EXPECT_EQ(body["system"], "French.");
  EXPECT_EQ(body["max_tokens"], 4096) << "Anthropic requires a limit: the endpoint's default";
}

TEST(payload_transport, a_provider_error_carries_its_type_and_message) {
  const std::string error =
      R"({"error":{"message":"Rate limit reached for requests","type":"requests","code":"rate_limit_exceeded"}})";
  canned_http_server server([&](const received_request&) {
    return canned_reply{}.write(http_response(429, "Too Many Requests", error, {{"retry-after", "2"}}));
  });
  production_rig rig(server.base_url(), api_kind::openai, false);
  const outcome o = rig.call(make_chat_payload({{"user", "hi"}}));
  EXPECT_EQ(o.kind, outcome_class::rate_limited);
  ASSERT_TRUE(o.answer);
  EXPECT_EQ(o.answer->error_type, "requests");
  EXPECT_EQ(o.answer->error_message, "Rate limit reached for requests");
  EXPECT_EQ(o.answer->body, error);
}

TEST(payload_transport, a_raw_body_goes_to_its_own_path_unchanged) {
  const std::string embeddings = R"({"object":"list","data":[{"embedding":[0.5,0.25]}],"model":"e"})";
  canned_http_server server([&](const received_request&) {
    return canned_reply{}.write(http_response(200, "OK", R"({"choices":[],"usage":{"prompt_tokens":2}})"));
  });
  production_rig rig(server.base_url(), api_kind::openai, false);
  const std::string raw = R"({"model":"text-embedding-3-small","input":["a","b"]})";
  const outcome o = rig.call(make_raw_payload(raw, "/embeddings"));
  const auto reqs = server.requests();
  ASSERT_EQ(reqs.size(), 1U);
  EXPECT_EQ(reqs[0].target, "/v1/embeddings");
  EXPECT_EQ(reqs[0].body, raw);
  ASSERT_TRUE(o.answer);
  EXPECT_EQ(o.answer->body, R"({"choices":[],"usage":{"prompt_tokens":2}})");
}

}  // namespace
}  // namespace squall
