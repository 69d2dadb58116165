// The Responses API (POST /v1/responses): its request reader, its answer whole and streamed, its errors
// and the wire faults, against a running fake provider.
#include <gtest/gtest.h>

#include <string>

#include "fake_providers/apis/openai_request.hpp"
#include "fake_providers/fake_server.hpp"
#include "fake_providers/request_body.hpp"
#include "tests/fake_providers/test_providers.hpp"
#include "tests/support/http_test_client.hpp"

namespace squall::fake {
namespace {

using nlohmann::json;
using testing::arm;
using testing::client;
using testing::openai_config;
using testing::parse_sse;
using testing::reply;
using testing::running;

json ask(std::uint32_t max_output_tokens, bool stream = false) {
  json b = {{"model", "gpt-4o-mini"}, {"input", "one two three four five"}, {"max_output_tokens", max_output_tokens}};
  if (stream) b["stream"] = true;
  return b;
}

std::optional<error_spec> read(const std::string& body, parsed_request& out) {
  return read_request_body(api_style::openai, request_kind::responses, body, request_limits{}, out);
}

// ---------------------------------------------------------------------------------------------------
// Reading

TEST(ResponsesRequest, ReadsInputAsAStringOrAsItemsWithParts) {
  parsed_request r;
  ASSERT_FALSE(read(R"({"model":"m","input":"one two three","instructions":"be brief","max_output_tokens":20,
                        "stream":true,"store":false,"parallel_tool_calls":false,"previous_response_id":"resp_1"})",
                    r));
  EXPECT_EQ(r.model, "m");
  EXPECT_EQ(r.input_tokens, 5U) << "three words of input, two of instructions";
  EXPECT_EQ(r.max_tokens, 20U);
  EXPECT_TRUE(r.stream);
  EXPECT_FALSE(r.echo.store);
  EXPECT_FALSE(r.echo.parallel_tool_calls);
  EXPECT_EQ(r.echo.previous_response_id, "resp_1");
  EXPECT_EQ(r.echo.instructions, "be brief");

  ASSERT_FALSE(read(R"({"model":"m","input":[
      {"role":"user","content":[{"type":"input_text","text":"alpha beta"}]},
      {"type":"message","role":"assistant","content":"gamma"},
      {"type":"function_call","call_id":"call_1","name":"f","arguments":"{}"},
      {"type":"function_call_output","call_id":"call_1","output":"sunny"}]})",
                    r));
  EXPECT_EQ(r.input_tokens, 3U);
  EXPECT_TRUE(r.shape.last_turn_is_tool_result);
}

TEST(ResponsesRequest, RefusesWhatTheRealApiRefusesNamingTheParameter) {
  parsed_request r;
  struct bad {
    const char* body;
    const char* param;
  };
  for (const bad& b : {
           bad{R"({"input":"x"})", "model"},
           bad{R"({"model":"m","input":7})", "input"},
           bad{R"({"model":"m","input":[3]})", "input[0]"},
           bad{R"({"model":"m","input":[{"content":"x"}]})", "input[0].role"},
           bad{R"({"model":"m","max_output_tokens":15})", "max_output_tokens"},
           bad{R"({"model":"m","max_output_tokens":"20"})", "max_output_tokens"},
           bad{R"({"model":"m","stream":"yes"})", "stream"},
           bad{R"({"model":"m","instructions":[1]})", "instructions"},
           bad{R"({"model":"m","tools":[{"type":"function"}]})", "tools[0].name"},
           bad{R"({"model":"m","tools":[{"type":"function","name":"f"}],"tool_choice":"maybe"})", "tool_choice"},
           bad{R"({"model":"m","tools":[{"type":"function","name":"f"}],"tool_choice":{"type":"function","name":"g"}})",
               "tool_choice"},
           bad{R"({"model":"m","tool_choice":"required"})", "tool_choice"},
           bad{R"({"model":"m","text":{"format":{"type":"json_schema","schema":{}}}})", "text.format.name"},
           bad{R"({"model":"m","text":{"format":{"type":"xml"}}})", "text.format.type"},
       }) {
    const auto e = read(b.body, r);
    ASSERT_TRUE(e) << b.body;
    EXPECT_EQ(e->status, 400);
    EXPECT_EQ(e->param, b.param) << b.body << ": " << e->message;
  }
}

TEST(ResponsesRequest, KeepsToolsChoiceAndFormatAsSent) {
  parsed_request r;
  ASSERT_FALSE(read(R"({"model":"m","input":"x","tools":[{"type":"function","name":"get_weather",
      "parameters":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}},
      {"type":"web_search"}],"tool_choice":{"type":"function","name":"get_weather"},
      "text":{"format":{"type":"json_schema","name":"w","schema":{"type":"object"},"strict":true}}})",
                    r));
  EXPECT_EQ(r.shape.tools.size(), 2U);
  EXPECT_EQ(r.shape.tool_choice["name"], "get_weather");
  EXPECT_EQ(r.shape.output_format["name"], "w");
}

// ---------------------------------------------------------------------------------------------------
// Answers

TEST(Responses, AnswersAResponseObjectWithAMessageAndUsage) {
  running r({openai_config()});
  client c(r.port());
  json body = ask(20);
  body["instructions"] = "be brief";
  const reply a = c.post("/v1/responses", body);
  ASSERT_EQ(a.status, 200) << a.body;
  const json j = a.json();
  EXPECT_EQ(j["object"], "response");
  EXPECT_EQ(j["id"].get<std::string>().rfind("resp_", 0), 0U);
  EXPECT_EQ(j["model"], "gpt-4o-mini");
  EXPECT_EQ(j["instructions"], "be brief");
  EXPECT_EQ(j["max_output_tokens"], 20);
  ASSERT_EQ(j["output"].size(), 1U);
  const json& m = j["output"][0];
  EXPECT_EQ(m["type"], "message");
  EXPECT_EQ(m["role"], "assistant");
  EXPECT_EQ(m["id"].get<std::string>().rfind("msg_", 0), 0U);
  EXPECT_EQ(m["content"][0]["type"], "output_text");
  const std::uint32_t out = j["usage"]["output_tokens"];
  EXPECT_EQ(count_words(m["content"][0]["text"].get<std::string>()), out);
  EXPECT_EQ(j["usage"]["input_tokens"], 7);
  EXPECT_EQ(j["usage"]["total_tokens"], 7 + out);
  EXPECT_EQ(j["usage"]["input_tokens_details"]["cached_tokens"], 0);
  EXPECT_EQ(j["usage"]["output_tokens_details"]["reasoning_tokens"], 0);
  EXPECT_EQ(j["status"], j["incomplete_details"].is_null() ? "completed" : "incomplete");
}

TEST(Responses, AnAnswerCutByMaxOutputTokensIsIncomplete) {
  running r({openai_config()});
  client c(r.port());
  const reply a = c.post("/v1/responses", ask(16), {{"x-squall-output-tokens", "40"}});
  ASSERT_EQ(a.status, 200) << a.body;
  const json j = a.json();
  EXPECT_EQ(j["status"], "incomplete");
  EXPECT_EQ(j["incomplete_details"]["reason"], "max_output_tokens");
  EXPECT_EQ(j["output"][0]["status"], "incomplete");
  EXPECT_EQ(j["usage"]["output_tokens"], 16);

  const reply whole = c.post("/v1/responses", ask(16), {{"x-squall-output-tokens", "10"}});
  EXPECT_EQ(whole.json()["status"], "completed");
  EXPECT_TRUE(whole.json()["incomplete_details"].is_null());
  EXPECT_EQ(whole.json()["usage"]["output_tokens"], 10);
}

// The typed events in order, each with its type and a sequence number counted from 0; the done events
// repeat the text the deltas carried.
TEST(Responses, StreamsTypedEventsInOrder) {
  running r({openai_config()});
  client c(r.port());
  const reply a = c.post("/v1/responses", ask(30, true), {{"x-squall-output-tokens", "30"}});
  ASSERT_EQ(a.status, 200);
  EXPECT_EQ(a.header("content-type").rfind("text/event-stream", 0), 0U);
  const auto events = parse_sse(a.body);
  ASSERT_GE(events.size(), 9U);
  std::vector<std::string> types;
  std::string deltas;
  for (std::size_t i = 0; i < events.size(); ++i) {
    const json e = json::parse(events[i].data);
    EXPECT_EQ(e["type"], events[i].event);
    EXPECT_EQ(e["sequence_number"], i);
    if (e["type"] == "response.output_text.delta") {
      deltas += e["delta"].get<std::string>();
    } else {
      types.push_back(e["type"]);
    }
  }
  EXPECT_EQ(types, (std::vector<std::string>{"response.created", "response.in_progress", "response.output_item.added",
                                             "response.content_part.added", "response.output_text.done",
                                             "response.content_part.done", "response.output_item.done",
                                             "response.completed"}));
  EXPECT_EQ(count_words(deltas), 30U);
  const json done = json::parse(events[events.size() - 4].data);
  EXPECT_EQ(done["text"], deltas);
  const json completed = json::parse(events.back().data)["response"];
  EXPECT_EQ(completed["status"], "completed");
  EXPECT_EQ(completed["output"][0]["content"][0]["text"], deltas);
  EXPECT_EQ(completed["usage"]["output_tokens"], 30);
  const json created = json::parse(events[0].data)["response"];
  EXPECT_EQ(created["status"], "in_progress");
  EXPECT_TRUE(created["usage"].is_null());
}

TEST(Responses, AStreamCutByMaxOutputTokensEndsWithResponseIncomplete) {
  running r({openai_config()});
  client c(r.port());
  const reply a = c.post("/v1/responses", ask(16, true), {{"x-squall-output-tokens", "50"}});
  const auto events = parse_sse(a.body);
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(events.back().event, "response.incomplete");
  const json last = json::parse(events.back().data)["response"];
  EXPECT_EQ(last["incomplete_details"]["reason"], "max_output_tokens");
  EXPECT_EQ(last["usage"]["output_tokens"], 16);
}

TEST(Responses, ErrorsComeInOpenAisEnvelope) {
  running r({openai_config()});
  client c(r.port());
  const reply bad = c.post("/v1/responses", json{{"model", "gpt-4o-mini"}, {"max_output_tokens", 3}});
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(bad.json()["error"]["param"], "max_output_tokens");
  EXPECT_EQ(bad.json()["error"]["type"], "invalid_request_error");
  const reply unknown = c.post("/v1/responses", json{{"model", "gpt-9"}, {"input", "hi"}});
  EXPECT_EQ(unknown.status, 404);
  EXPECT_EQ(unknown.json()["error"]["code"], "model_not_found");
  EXPECT_EQ(c.get("/v1/responses").status, 405);
  ASSERT_EQ(arm(r.port(), json{{"for_s", 60}, {"errors", {{"429", 1.0}}}}).status, 201);
  const reply limited = c.post("/v1/responses", ask(20));
  EXPECT_EQ(limited.status, 429);
  EXPECT_TRUE(limited.json()["error"].contains("message"));
}

TEST(Responses, WireFaultsActOutOnTheTypedStream) {
  running r({openai_config()});
  ASSERT_EQ(arm(r.port(), json{{"for_s", 60}, {"wire", {{"malformed", 1.0}}}}).status, 201);
  client c(r.port());
  const reply malformed = c.post("/v1/responses", ask(20, true));
  int broken = 0;
  for (const auto& e : parse_sse(malformed.body)) broken += json::parse(e.data, nullptr, false).is_discarded();
  EXPECT_EQ(broken, 1);
  EXPECT_TRUE(c.post("/v1/responses", ask(20)).json().is_discarded());

  ASSERT_EQ(c.request("DELETE", "/squall/faults", "").status / 100, 2);
  ASSERT_EQ(arm(r.port(), json{{"for_s", 60}, {"wire", {{"error_event", 1.0}}}}).status, 201);
  const reply error = c.post("/v1/responses", ask(40, true), {{"x-squall-output-tokens", "40"}});
  EXPECT_EQ(error.status, 200);
  const auto events = parse_sse(error.body);
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(events.back().event, "error");
  const json e = json::parse(events.back().data);
  EXPECT_EQ(e["type"], "error");
  EXPECT_EQ(e["sequence_number"], events.size() - 1);
  EXPECT_EQ(e["code"], "server_error");

  ASSERT_EQ(c.request("DELETE", "/squall/faults", "").status / 100, 2);
  ASSERT_EQ(arm(r.port(), json{{"for_s", 60}, {"wire", {{"stream_cut", 1.0}}}}).status, 201);
  client c2(r.port());
  const reply cut = c2.post("/v1/responses", ask(100, true), {{"x-squall-output-tokens", "100"}});
  EXPECT_TRUE(cut.error) << "the chunked body never ends";
  EXPECT_EQ(cut.body.find("response.completed"), std::string::npos);
}

TEST(Responses, TheAttemptLogNamesTheKind) {
  server_options o;
  o.record_attempts = true;
  running r({openai_config()}, o);
  client c(r.port());
  ASSERT_EQ(c.post("/v1/responses", ask(20), {{"x-squall-request-id", "7"}}).status, 200);
  const auto log = r.server.take_attempts();
  ASSERT_EQ(log.size(), 1U);
  EXPECT_EQ(log[0].kind, "responses");
  EXPECT_EQ(log[0].request_id, 7U);
}

}  // namespace
}  // namespace squall::fake
