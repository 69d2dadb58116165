// Tool calls and structured outputs on the OpenAI wire: chat completions (message.tool_calls, the
// streamed delta.tool_calls, response_format) and the Responses API (function_call items and their
// argument events, text.format), with the content drawn by fake_providers/content/.
#include <gtest/gtest.h>

#include <string>

#include "fake_providers/fake_server.hpp"
#include "fake_providers/wire_format.hpp"
#include "tests/fake_providers/test_providers.hpp"
#include "tests/support/http_test_client.hpp"

namespace squall::fake {
namespace {

using nlohmann::json;
using testing::client;
using testing::openai_config;
using testing::parse_sse;
using testing::reply;
using testing::running;

const json weather_parameters = json::parse(R"({"type":"object","properties":{
    "city":{"type":"string"},"unit":{"type":"string","enum":["celsius","fahrenheit"]},"days":{"type":"integer",
    "minimum":1,"maximum":7}},"required":["city","unit","days"],"additionalProperties":false})");

json chat_with_tools(const json& choice) {
  json b = {{"model", "gpt-4o-mini"},
            {"messages", json::array({{{"role", "user"}, {"content", "weather in Paris?"}}})},
            {"tools", json::array({{{"type", "function"},
                                    {"function", {{"name", "get_weather"}, {"parameters", weather_parameters}}}}})}};
  if (!choice.is_null()) b["tool_choice"] = choice;
  return b;
}

// The arguments follow weather_parameters.
void expect_weather_arguments(const std::string& text) {
  const json a = json::parse(text, nullptr, false);
  ASSERT_TRUE(a.is_object()) << text;
  EXPECT_EQ(a.size(), 3U) << text;
  EXPECT_TRUE(a["city"].is_string()) << text;
  EXPECT_TRUE(a["unit"] == "celsius" || a["unit"] == "fahrenheit") << text;
  ASSERT_TRUE(a["days"].is_number_integer()) << text;
  EXPECT_GE(a["days"].get<int>(), 1);
  EXPECT_LE(a["days"].get<int>(), 7);
}

TEST(ChatTools, RequiredAnswersWithAToolCall) {
  running r({openai_config()});
  client c(r.port());
  const reply a = c.post("/v1/chat/completions", chat_with_tools("required"));
  ASSERT_EQ(a.status, 200) << a.body;
  const json choice = a.json()["choices"][0];
  EXPECT_EQ(choice["finish_reason"], "tool_calls");
  EXPECT_TRUE(choice["message"]["content"].is_null());
  ASSERT_EQ(choice["message"]["tool_calls"].size(), 1U);
  const json call = choice["message"]["tool_calls"][0];
  EXPECT_EQ(call["id"].get<std::string>().rfind("call_", 0), 0U);
  EXPECT_EQ(call["type"], "function");
  EXPECT_EQ(call["function"]["name"], "get_weather");
  expect_weather_arguments(call["function"]["arguments"]);
}

TEST(ChatTools, TheSameSeedAndRequestGiveTheSameCall) {
  running r1({openai_config()});
  running r2({openai_config()});
  client c1(r1.port());
  client c2(r2.port());
  const header_list id = {{"x-squall-request-id", "9"}};
  const json a = c1.post("/v1/chat/completions", chat_with_tools("required"), id).json()["choices"][0]["message"];
  const json b = c2.post("/v1/chat/completions", chat_with_tools("required"), id).json()["choices"][0]["message"];
  EXPECT_EQ(a["tool_calls"], b["tool_calls"]);
}

TEST(ChatTools, AutoAnswersInTextOnceTheToolHasAnswered) {
  running r({openai_config()});
  client c(r.port());
  json b = chat_with_tools("auto");
  b["messages"].push_back({{"role", "assistant"},
                           {"content", nullptr},
                           {"tool_calls", json::array({{{"id", "call_1"},
                                                        {"type", "function"},
                                                        {"function", {{"name", "get_weather"}, {"arguments", "{}"}}}}})}});
  b["messages"].push_back({{"role", "tool"}, {"tool_call_id", "call_1"}, {"content", "sunny"}});
  const json choice = c.post("/v1/chat/completions", b).json()["choices"][0];
  EXPECT_TRUE(choice["message"]["content"].is_string());
  EXPECT_FALSE(choice["message"].contains("tool_calls"));
  EXPECT_NE(choice["finish_reason"], "tool_calls");

  EXPECT_FALSE(c.post("/v1/chat/completions", chat_with_tools("none")).json()["choices"][0]["message"].contains("tool_calls"));
  const json named = chat_with_tools(json{{"type", "function"}, {"function", {{"name", "get_weather"}}}});
  EXPECT_EQ(c.post("/v1/chat/completions", named).json()["choices"][0]["finish_reason"], "tool_calls");
  const reply unknown =
      c.post("/v1/chat/completions", chat_with_tools(json{{"type", "function"}, {"function", {{"name", "nope"}}}}));
  EXPECT_EQ(unknown.status, 400);
  EXPECT_EQ(unknown.json()["error"]["param"], "tool_choice");
}

// The call opens with its id and name, then its arguments in pieces; together they are the arguments.
TEST(ChatTools, StreamsTheCallInPieces) {
  running r({openai_config()});
  client c(r.port());
  json b = chat_with_tools("required");
  b["stream"] = true;
  const reply a = c.post("/v1/chat/completions", b, {{"x-squall-output-tokens", "12"}});
  ASSERT_EQ(a.status, 200);
  const auto events = parse_sse(a.body);
  ASSERT_GE(events.size(), 4U);
  EXPECT_EQ(events.back().data, "[DONE]");
  const json first = json::parse(events[0].data)["choices"][0]["delta"];
  EXPECT_EQ(first["role"], "assistant");
  EXPECT_EQ(first["tool_calls"][0]["index"], 0);
  EXPECT_EQ(first["tool_calls"][0]["function"]["name"], "get_weather");
  EXPECT_EQ(first["tool_calls"][0]["id"].get<std::string>().rfind("call_", 0), 0U);
  std::string arguments;
  int pieces = 0;
  for (std::size_t i = 1; i + 2 < events.size(); ++i) {
    const json call = json::parse(events[i].data)["choices"][0]["delta"]["tool_calls"][0];
    EXPECT_EQ(call["index"], 0);
    EXPECT_FALSE(call.contains("id"));
    arguments += call["function"]["arguments"].get<std::string>();
    ++pieces;
  }
  EXPECT_GT(pieces, 1);
  expect_weather_arguments(arguments);
  EXPECT_EQ(json::parse(events[events.size() - 2].data)["choices"][0]["finish_reason"], "tool_calls");
}

TEST(ChatStructuredOutputs, JsonSchemaAndJsonObjectAnswerJson) {
  running r({openai_config()});
  client c(r.port());
  json b = {{"model", "gpt-4o-mini"}, {"messages", json::array({{{"role", "user"}, {"content", "weather"}}})}};
  b["response_format"] = {{"type", "json_schema"},
                          {"json_schema", {{"name", "weather"}, {"schema", weather_parameters}, {"strict", true}}}};
  const json choice = c.post("/v1/chat/completions", b).json()["choices"][0];
  EXPECT_EQ(choice["finish_reason"], "stop");
  expect_weather_arguments(choice["message"]["content"]);

  b["response_format"] = {{"type", "json_object"}};
  const json object = json::parse(c.post("/v1/chat/completions", b).json()["choices"][0]["message"]["content"].get<std::string>(),
                                  nullptr, false);
  EXPECT_TRUE(object.is_object());

  b["response_format"] = {{"type", "json_schema"}, {"json_schema", {{"name", "x"}}}};
  b["response_format"]["json_schema"]["schema"] = json::parse(R"({"type":"string","minLength":5,"maxLength":2})");
  const reply impossible = c.post("/v1/chat/completions", b);
  EXPECT_EQ(impossible.status, 400);
  EXPECT_NE(impossible.json()["error"]["message"].get<std::string>().find("$.response_format.json_schema.schema"),
            std::string::npos)
      << impossible.body;
  b["response_format"] = {{"type", "json_schema"}};
  EXPECT_EQ(c.post("/v1/chat/completions", b).json()["error"]["param"], "response_format.json_schema");
}

// A cut JSON is truncated, as a real model's is, and says "length".
TEST(ChatStructuredOutputs, ACutAnswerIsTruncatedJson) {
  running r({openai_config()});
  client c(r.port());
  json b = {{"model", "gpt-4o-mini"},
            {"messages", json::array({{{"role", "user"}, {"content", "weather"}}})},
            {"max_tokens", 5}};
  b["response_format"] = {{"type", "json_schema"}, {"json_schema", {{"name", "w"}, {"schema", weather_parameters}}}};
  const json choice = c.post("/v1/chat/completions", b, {{"x-squall-output-tokens", "50"}}).json()["choices"][0];
  EXPECT_EQ(choice["finish_reason"], "length");
  const std::string text = choice["message"]["content"];
  EXPECT_FALSE(text.empty());
  EXPECT_TRUE(json::parse(text, nullptr, false).is_discarded()) << text;
}

// Tool schemas come from untrusted clients: a self-referencing $ref, a huge minItems or deep nesting is
// answered with a 400 naming the schema, or a bounded call, and the server goes on.
TEST(ChatTools, HostileSchemasAreRefusedOrBounded) {
  running r({openai_config()});
  client c(r.port());
  json deep = {{"type", "string"}};
  for (int i = 0; i < 25; ++i) deep = {{"type", "object"}, {"properties", {{"x", deep}}}, {"required", {"x"}}};
  for (const json& parameters : {json::parse(R"({"$ref":"#"})"),
                                 json::parse(R"({"type":"object","properties":{"a":{"type":"array","minItems":100000000}},"required":["a"]})"),
                                 json::parse(R"({"type":"object","properties":{"s":{"type":"string","minLength":1000000000}},"required":["s"]})"),
                                 json::parse(R"({"type":"object","properties":{"p":{"type":"string","pattern":"(a|b)*(c+)+$\\1"}},"required":["p"]})"),
                                 deep}) {
    json b = chat_with_tools("required");
    b["tools"][0]["function"]["parameters"] = parameters;
    const reply a = c.post("/v1/chat/completions", b);
    EXPECT_TRUE(a.status == 200 || a.status == 400) << a.status << ": " << a.body.substr(0, 300);
    EXPECT_LT(a.body.size(), 200'000U);
    if (a.status == 400) {
      EXPECT_NE(a.json()["error"]["message"].get<std::string>().find("$.tools[0].function.parameters"),
                std::string::npos)
          << a.body;
    }
  }
  EXPECT_EQ(c.get("/healthz").status, 200);
}

json responses_with_tools(const json& choice) {
  json b = {{"model", "gpt-4o-mini"},
            {"input", "weather in Paris?"},
            {"tools", json::array({{{"type", "function"}, {"name", "get_weather"}, {"parameters", weather_parameters}}})}};
  if (!choice.is_null()) b["tool_choice"] = choice;
  return b;
}

TEST(ResponsesTools, AFunctionCallItem) {
  running r({openai_config()});
  client c(r.port());
  const reply a = c.post("/v1/responses", responses_with_tools("required"));
  ASSERT_EQ(a.status, 200) << a.body;
  const json j = a.json();
  EXPECT_EQ(j["status"], "completed");
  EXPECT_EQ(j["tool_choice"], "required");
  EXPECT_EQ(j["tools"][0]["name"], "get_weather");
  ASSERT_EQ(j["output"].size(), 1U);
  const json item = j["output"][0];
  EXPECT_EQ(item["type"], "function_call");
  EXPECT_EQ(item["name"], "get_weather");
  EXPECT_EQ(item["status"], "completed");
  EXPECT_EQ(item["id"].get<std::string>().rfind("fc_", 0), 0U);
  EXPECT_EQ(item["call_id"].get<std::string>().rfind("call_", 0), 0U);
  expect_weather_arguments(item["arguments"]);

  json answered = responses_with_tools("auto");
  answered["input"] = json::array({{{"role", "user"}, {"content", "weather?"}},
                                   {{"type", "function_call"}, {"call_id", "c1"}, {"name", "get_weather"}, {"arguments", "{}"}},
                                   {{"type", "function_call_output"}, {"call_id", "c1"}, {"output", "sunny"}}});
  EXPECT_EQ(c.post("/v1/responses", answered).json()["output"][0]["type"], "message");
}

TEST(ResponsesTools, StreamsTheArgumentsInDeltasThenDone) {
  running r({openai_config()});
  client c(r.port());
  json b = responses_with_tools("required");
  b["stream"] = true;
  const reply a = c.post("/v1/responses", b, {{"x-squall-output-tokens", "10"}});
  const auto events = parse_sse(a.body);
  std::vector<std::string> types;
  std::string deltas;
  for (std::size_t i = 0; i < events.size(); ++i) {
    const json e = json::parse(events[i].data);
    EXPECT_EQ(e["sequence_number"], i);
    if (e["type"] == "response.function_call_arguments.delta") {
      deltas += e["delta"].get<std::string>();
    } else {
      types.push_back(e["type"]);
    }
  }
  EXPECT_EQ(types, (std::vector<std::string>{"response.created", "response.in_progress", "response.output_item.added",
                                             "response.function_call_arguments.done", "response.output_item.done",
                                             "response.completed"}));
  expect_weather_arguments(deltas);
  EXPECT_EQ(json::parse(events[events.size() - 3].data)["arguments"], deltas);
  EXPECT_EQ(json::parse(events.back().data)["response"]["output"][0]["arguments"], deltas);
}

TEST(ResponsesStructuredOutputs, TextFormatJsonSchema) {
  running r({openai_config()});
  client c(r.port());
  const json b = {{"model", "gpt-4o-mini"},
                  {"input", "weather"},
                  {"text", {{"format", {{"type", "json_schema"}, {"name", "w"}, {"schema", weather_parameters}, {"strict", true}}}}}};
  const json j = c.post("/v1/responses", b).json();
  EXPECT_EQ(j["text"]["format"]["name"], "w");
  expect_weather_arguments(j["output"][0]["content"][0]["text"]);
}

}  // namespace
}  // namespace squall::fake
