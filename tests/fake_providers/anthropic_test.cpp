// Anthropic's endpoints beyond plain /v1/messages answers, on a real server on loopback port 0:
// count_tokens, and tool_use (plain, streamed in input_json_delta pieces, cut by max_tokens, under wire
// faults) with the content drawn by fake_providers/content/.
#include <gtest/gtest.h>

#include <string>

#include "fake_providers/apis/answer_format.hpp"
#include "fake_providers/fake_server.hpp"
#include "fake_providers/request_body.hpp"
#include "fake_providers/wire_format.hpp"
#include "tests/fake_providers/test_providers.hpp"
#include "tests/support/http_test_client.hpp"

namespace squall::fake {
namespace {

using nlohmann::json;
using testing::anthropic_config;
using testing::arm;
using testing::client;
using testing::parse_sse;
using testing::reply;
using testing::running;

json conversation() {
  return {{"model", "claude-sonnet-4"},
          {"system", "answer in one short line"},
          {"messages", json::array({{{"role", "user"}, {"content", "how long is a piece of string"}},
                                    {{"role", "assistant"}, {"content", "twice half its length"}},
                                    {{"role", "user"}, {"content", json::array({{{"type", "text"}, {"text", "and?"}}})}}})}};
}

TEST(AnthropicCountTokens, CountsWhatAMessagesRequestWithTheSameBodyIsBilledFor) {
  server_options o;
  o.record_attempts = true;
  running r({anthropic_config()}, o);
  client c(r.port());
  const testing::reply counted = c.post("/v1/messages/count_tokens", conversation());
  ASSERT_EQ(counted.status, 200) << counted.body;
  EXPECT_EQ(counted.json(), json({{"input_tokens", 17}}));  // words: system 5, then 7 + 4 + 1

  json billed_body = conversation();
  billed_body["max_tokens"] = 4;
  const testing::reply billed = c.post("/v1/messages", billed_body);
  ASSERT_EQ(billed.status, 200) << billed.body;
  EXPECT_EQ(billed.json()["usage"]["input_tokens"], counted.json()["input_tokens"]);
  // Counting is not an AI attempt: only the messages request is in the attempt log.
  const std::vector<upstream_attempt> attempts = r.server.take_attempts();
  ASSERT_EQ(attempts.size(), 1U);
  EXPECT_EQ(attempts[0].kind, "messages");
}

TEST(AnthropicCountTokens, RefusesWhatAMessagesRequestWouldBeRefusedFor) {
  running r({anthropic_config()});
  client c(r.port());
  json no_messages = conversation();
  no_messages.erase("messages");
  const testing::reply missing = c.post("/v1/messages/count_tokens", no_messages);
  EXPECT_EQ(missing.status, 400);
  EXPECT_EQ(missing.json()["error"]["type"], "invalid_request_error");
  EXPECT_EQ(c.post("/v1/messages/count_tokens", std::string("{not json")).status, 400);
  json unknown = conversation();
  unknown["model"] = "claude-nope";
  const testing::reply not_found = c.post("/v1/messages/count_tokens", unknown);
  EXPECT_EQ(not_found.status, 404);
  EXPECT_EQ(not_found.json()["error"]["type"], "not_found_error");
  EXPECT_EQ(c.get("/v1/messages/count_tokens").status, 405);
}

const json weather_schema = json::parse(R"({"type":"object","properties":{
    "city":{"type":"string"},"unit":{"type":"string","enum":["celsius","fahrenheit"]},"days":{"type":"integer",
    "minimum":1,"maximum":7}},"required":["city","unit","days"],"additionalProperties":false})");

// A messages request offering get_weather beside a server tool (which runs on Anthropic's side and is
// never called by the fake).
json with_tools(const json& choice, std::uint32_t max_tokens = 1024) {
  json b = {{"model", "claude-sonnet-4"},
            {"max_tokens", max_tokens},
            {"messages", json::array({{{"role", "user"}, {"content", "weather in Paris?"}}})},
            {"tools", json::array({{{"type", "web_search_20250305"}, {"name", "web_search"}, {"max_uses", 2}},
                                   {{"name", "get_weather"},
                                    {"description", "the forecast for a city"},
                                    {"input_schema", weather_schema}}})}};
  if (!choice.is_null()) b["tool_choice"] = choice;
  return b;
}

// The input follows weather_schema.
void expect_weather_input(const json& input) {
  ASSERT_TRUE(input.is_object()) << input;
  EXPECT_EQ(input.size(), 3U) << input;
  EXPECT_TRUE(input["city"].is_string()) << input;
  EXPECT_TRUE(input["unit"] == "celsius" || input["unit"] == "fahrenheit") << input;
  ASSERT_TRUE(input["days"].is_number_integer()) << input;
  EXPECT_GE(input["days"].get<int>(), 1);
  EXPECT_LE(input["days"].get<int>(), 7);
}

TEST(AnthropicToolUse, AnyAnswersWithAToolUseBlock) {
  running r({anthropic_config()});
  client c(r.port());
  const reply a = c.post("/v1/messages", with_tools({{"type", "any"}}));
  ASSERT_EQ(a.status, 200) << a.body;
  const json m = a.json();
  EXPECT_EQ(m["stop_reason"], "tool_use");
  ASSERT_EQ(m["content"].size(), 1U) << a.body;
  const json block = m["content"][0];
  EXPECT_EQ(block["type"], "tool_use");
  EXPECT_EQ(block["id"].get<std::string>().rfind("toolu_", 0), 0U);
  EXPECT_EQ(block["id"].get<std::string>().size(), 30U);
  EXPECT_EQ(block["name"], "get_weather");  // never the server tool
  expect_weather_input(block["input"]);
  EXPECT_GE(m["usage"]["output_tokens"].get<int>(), 1);
}

// The agent loop: a call, its result sent back, then an answer in words.
TEST(AnthropicToolUse, AutoAnswersInTextOnceTheToolHasAnswered) {
  running r({anthropic_config()});
  client c(r.port());
  json b = with_tools(nullptr);
  const json first = c.post("/v1/messages", b).json();
  ASSERT_EQ(first["stop_reason"], "tool_use") << first;
  const json call = first["content"][0];
  b["messages"].push_back({{"role", "assistant"}, {"content", first["content"]}});
  b["messages"].push_back(
      {{"role", "user"},
       {"content", json::array({{{"type", "tool_result"}, {"tool_use_id", call["id"]}, {"content", "sunny, 21 C"}}})}});
  const reply second = c.post("/v1/messages", b);
  ASSERT_EQ(second.status, 200) << second.body;
  EXPECT_EQ(second.json()["stop_reason"], "end_turn");
  ASSERT_EQ(second.json()["content"][0]["type"], "text");
  EXPECT_TRUE(second.json()["content"][0]["text"].is_string());

  EXPECT_EQ(c.post("/v1/messages", with_tools({{"type", "none"}})).json()["content"][0]["type"], "text");
  const json named = c.post("/v1/messages", with_tools({{"type", "tool"}, {"name", "get_weather"}})).json();
  EXPECT_EQ(named["content"][0]["name"], "get_weather");
  EXPECT_EQ(named["stop_reason"], "tool_use");
  // "any" after a tool result still calls: the client asked for a call whatever came before.
  b["tool_choice"] = {{"type", "any"}, {"disable_parallel_tool_use", true}};
  EXPECT_EQ(c.post("/v1/messages", b).json()["stop_reason"], "tool_use");
}

TEST(AnthropicToolUse, RefusesToolsAndChoicesAsAnthropicDoes) {
  running r({anthropic_config()});
  client c(r.port());
  const auto refused = [&](const json& body) {
    const reply a = c.post("/v1/messages", body);
    EXPECT_EQ(a.status, 400) << body;
    EXPECT_EQ(a.json()["type"], "error") << a.body;
    EXPECT_EQ(a.json()["error"]["type"], "invalid_request_error") << a.body;
    return a.json()["error"]["message"].get<std::string>();
  };
  EXPECT_EQ(refused(with_tools({{"type", "tool"}, {"name", "nope"}})), "Tool 'nope' not found in provided tools");
  json no_schema = with_tools(nullptr);
  no_schema["tools"][1].erase("input_schema");
  EXPECT_EQ(refused(no_schema), "tools.1.input_schema: Field required");
  json bad_name = with_tools(nullptr);
  bad_name["tools"][1]["name"] = "get weather";
  EXPECT_NE(refused(bad_name).find("tools.1.name: String should match pattern"), std::string::npos);
  json twice = with_tools(nullptr);
  twice["tools"].push_back(twice["tools"][1]);
  EXPECT_EQ(refused(twice), "tools: Tool names must be unique.");
  EXPECT_NE(refused(with_tools({{"type", "required"}})).find("'required' found using 'type'"), std::string::npos);
  json no_tools = with_tools({{"type", "any"}});
  no_tools.erase("tools");
  EXPECT_EQ(refused(no_tools), "tool_choice may only be specified while providing tools.");
  EXPECT_EQ(refused(with_tools({{"type", "auto"}, {"disable_parallel_tool_use", "yes"}})),
            "tool_choice.disable_parallel_tool_use: Input should be a valid boolean");
  // count_tokens reads the same body, tools included.
  EXPECT_EQ(c.post("/v1/messages/count_tokens", with_tools({{"type", "tool"}, {"name", "nope"}})).status, 400);
  EXPECT_EQ(c.post("/v1/messages/count_tokens", with_tools({{"type", "any"}})).status, 200);
}

// Tools go to the tree reader (kept as trees for the generator); a tool-less body stays on the plain one,
// and the two agree on it.
TEST(AnthropicToolUse, TheTreeReaderReadsToolsAndTheToolResultTurn) {
  const request_limits limits;
  json b = with_tools({{"type", "any"}});
  b["messages"].push_back({{"role", "assistant"},
                           {"content", json::array({{{"type", "tool_use"}, {"id", "toolu_1"}, {"name", "get_weather"},
                                                     {"input", json::object()}}})}});
  b["messages"].push_back(
      {{"role", "user"}, {"content", json::array({{{"type", "tool_result"}, {"tool_use_id", "toolu_1"}, {"content", "ok"}}})}});
  parsed_request plain;
  EXPECT_FALSE(read_plain_request_body(api_style::anthropic, request_kind::messages, b.dump(), limits, plain));
  parsed_request tree;
  ASSERT_FALSE(read_request_body_tree(api_style::anthropic, request_kind::messages, b.dump(), limits, tree));
  EXPECT_EQ(tree.shape.tools, b["tools"]);
  EXPECT_EQ(tree.shape.tool_choice, b["tool_choice"]);
  EXPECT_TRUE(tree.shape.last_turn_is_tool_result);

  b.erase("tools");
  b.erase("tool_choice");
  parsed_request plain2, tree2;
  ASSERT_TRUE(read_plain_request_body(api_style::anthropic, request_kind::messages, b.dump(), limits, plain2));
  ASSERT_FALSE(read_request_body_tree(api_style::anthropic, request_kind::messages, b.dump(), limits, tree2));
  EXPECT_EQ(plain2, tree2);
  EXPECT_FALSE(tree2.shape.last_turn_is_tool_result);
}

// content_block_start names the call with an empty input; input_json_delta pieces, one per token batch,
// make up its input; message_delta says tool_use.
TEST(AnthropicToolUse, StreamsTheInputInJsonDeltas) {
  running r({anthropic_config()});
  client c(r.port());
  json b = with_tools({{"type", "any"}});
  b["stream"] = true;
  const reply a = c.post("/v1/messages", b, {{"x-squall-output-tokens", "12"}});
  ASSERT_EQ(a.status, 200);
  const auto events = parse_sse(a.body);
  ASSERT_GE(events.size(), 7U);
  EXPECT_EQ(events[0].event, "message_start");
  ASSERT_EQ(events[1].event, "content_block_start");
  const json start = json::parse(events[1].data)["content_block"];
  EXPECT_EQ(start["type"], "tool_use");
  EXPECT_EQ(start["name"], "get_weather");
  EXPECT_EQ(start["input"], json::object());
  EXPECT_EQ(start["id"].get<std::string>().rfind("toolu_", 0), 0U);
  std::string input;
  int pieces = 0;
  for (const auto& e : events) {
    if (e.event != "content_block_delta") continue;
    const json d = json::parse(e.data)["delta"];
    EXPECT_EQ(d["type"], "input_json_delta");
    input += d["partial_json"].get<std::string>();
    ++pieces;
  }
  EXPECT_GT(pieces, 1) << "the input comes in pieces";
  expect_weather_input(json::parse(input));
  const json delta = json::parse(events[events.size() - 2].data);
  EXPECT_EQ(events[events.size() - 3].event, "content_block_stop");
  EXPECT_EQ(delta["delta"]["stop_reason"], "tool_use");
  EXPECT_EQ(delta["usage"]["output_tokens"], 12);
  EXPECT_EQ(events.back().event, "message_stop");
}

// max_tokens cuts the call: stop_reason max_tokens; whole, the input keeps the members the model finished
// (an object still); streamed, the pieces are the cut text.
TEST(AnthropicToolUse, ACutCallSaysMaxTokensAndKeepsWhatWasFinished) {
  running r({anthropic_config()});
  client c(r.port());
  const header_list planned = {{"x-squall-output-tokens", "40"}};
  const json whole = c.post("/v1/messages", with_tools({{"type", "any"}}, 20), planned).json();
  EXPECT_EQ(whole["stop_reason"], "max_tokens");
  EXPECT_EQ(whole["usage"]["output_tokens"], 20);
  const json input = whole["content"][0]["input"];
  ASSERT_TRUE(input.is_object()) << whole;
  EXPECT_LT(input.size(), 3U) << "half the text cannot hold every member: " << whole;

  json b = with_tools({{"type", "any"}}, 20);
  b["stream"] = true;
  std::string text;
  std::string stop;
  for (const auto& e : parse_sse(c.post("/v1/messages", b, planned).body)) {
    const json d = json::parse(e.data);
    if (e.event == "content_block_delta") text += d["delta"]["partial_json"].get<std::string>();
    if (e.event == "message_delta") stop = d["delta"]["stop_reason"];
  }
  EXPECT_EQ(stop, "max_tokens");
  EXPECT_TRUE(json::parse(text, nullptr, false).is_discarded()) << "cut JSON does not parse: " << text;
  EXPECT_EQ(text.rfind("{\"", 0), 0U) << text;
}

TEST(AnthropicToolUse, ACutInputKeepsItsCompleteMembers) {
  using detail::complete_json_prefix;
  EXPECT_EQ(complete_json_prefix(R"({"a":1,"b":"x"})"), R"({"a":1,"b":"x"})");
  EXPECT_EQ(complete_json_prefix(R"({"a":1,"b":"x)"), R"({"a":1})");
  EXPECT_EQ(complete_json_prefix(R"({"a":12)"), "{}");
  EXPECT_EQ(complete_json_prefix(R"({"a":"x","b")"), R"({"a":"x"})");
  EXPECT_EQ(complete_json_prefix(R"({"a":[1,2)"), R"({"a":[1]})");
  EXPECT_EQ(complete_json_prefix(R"({"a":{"b":"}\"","c":[)"), R"({"a":{"b":"}\"","c":[]}})");
  EXPECT_EQ(complete_json_prefix(R"({"a":{"b":1},"c)"), R"({"a":{"b":1}})");
  EXPECT_EQ(complete_json_prefix(R"({"a)"), "{}");
  EXPECT_EQ(complete_json_prefix(""), "{}");
  for (const char* cut : {R"({"a":{"b":"}\"","c":[)", R"({"a":[1,2)", R"({"a":{"b":1},"c)"}) {
    EXPECT_TRUE(json::parse(complete_json_prefix(cut)).is_object()) << cut;
  }
}

TEST(AnthropicToolUse, WireFaultsStrikeToolUseAnswersToo) {
  running r0({anthropic_config()});
  running r1({anthropic_config()});
  ASSERT_EQ(arm(r0.port(), json{{"for_s", 60}, {"wire", {{"malformed", 1.0}}}}).status, 201);
  ASSERT_EQ(arm(r1.port(), json{{"for_s", 60}, {"wire", {{"error_event", 1.0}}}}).status, 201);
  json b = with_tools({{"type", "any"}});
  b["stream"] = true;
  client m(r0.port());
  const reply malformed = m.post("/v1/messages", b, {{"x-squall-output-tokens", "20"}});
  EXPECT_EQ(malformed.status, 200);
  int broken = 0;
  for (const auto& e : parse_sse(malformed.body)) broken += json::parse(e.data, nullptr, false).is_discarded();
  EXPECT_EQ(broken, 1);
  EXPECT_TRUE(m.post("/v1/messages", with_tools({{"type", "any"}})).json().is_discarded());

  client e(r1.port());
  const auto events = parse_sse(e.post("/v1/messages", b, {{"x-squall-output-tokens", "20"}}).body);
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(events.back().event, "error");
  EXPECT_EQ(json::parse(events.back().data)["error"]["type"], "overloaded_error");
}

}  // namespace
}  // namespace squall::fake
