// The Gemini API of the fake providers (fake_providers/apis/gemini_*.cpp, routes, wire_format's Google
// error envelope): real servers on loopback port 0 and a real HTTP client, plus the pure pieces.
#include <gtest/gtest.h>

#include "fake_providers/apis/gemini_request.hpp"
#include "fake_providers/fake_server.hpp"
#include "fake_providers/wire_format.hpp"
#include "tests/fake_providers/test_providers.hpp"
#include "tests/support/http_test_client.hpp"

namespace squall::fake {
namespace {

using nlohmann::json;
using testing::arm;
using testing::client;
using testing::parse_sse;
using testing::reply;
using testing::running;

sim::provider_config gemini_config() {
  sim::provider_config c = testing::openai_config();
  c.name = "gemini";
  c.api = "gemini";
  c.models = {{"gemini-2.0-flash", sim::model_price{0.1, 0.4}}};
  return c;
}

const std::string generate = "/v1beta/models/gemini-2.0-flash:generateContent";
const std::string stream_sse = "/v1beta/models/gemini-2.0-flash:streamGenerateContent?alt=sse";

json content(std::uint32_t max_output_tokens) {
  json b = json::parse(R"({"contents": [{"role": "user", "parts": [{"text": "one two three"}]}],
                           "systemInstruction": {"parts": [{"text": "be brief"}]}})");
  b["generationConfig"] = {{"maxOutputTokens", max_output_tokens}};
  return b;
}

std::string text_of(const json& response) {
  std::string text;
  for (const json& part : response["candidates"][0]["content"]["parts"]) text += part.value("text", "");
  return text;
}

TEST(GeminiFake, BaseUrlIsTheOriginAndModelsAreListedInGooglesShape) {
  running r({gemini_config()});
  const endpoint_info* e = r.server.find("gemini");
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->api, "gemini");
  EXPECT_EQ(e->base_url, e->origin);
  client c(r.port());
  for (const std::string version : {"v1beta", "v1"}) {
    reply list = c.get("/" + version + "/models");
    ASSERT_EQ(list.status, 200) << list.body;
    ASSERT_EQ(list.json()["models"].size(), 1U);
    EXPECT_EQ(list.json()["models"][0]["name"], "models/gemini-2.0-flash");
    EXPECT_EQ(list.json()["models"][0]["supportedGenerationMethods"][0], "generateContent");
  }
  EXPECT_EQ(c.get("/v1beta/models/gemini-2.0-flash").json()["name"], "models/gemini-2.0-flash");
  reply missing = c.get("/v1beta/models/gemini-9");
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(missing.json()["error"]["status"], "NOT_FOUND");
  EXPECT_EQ(missing.json()["error"]["code"], 404);
}

TEST(GeminiFake, GenerateContentAnswersACandidateWithUsageAndTheReasonItStopped) {
  running r({gemini_config()});
  client c(r.port());
  reply rep = c.post(generate + "?key=k", content(7));
  ASSERT_EQ(rep.status, 200) << rep.body;
  EXPECT_EQ(rep.header("content-type"), "application/json");
  const json b = rep.json();
  EXPECT_EQ(b["candidates"][0]["content"]["role"], "model");
  EXPECT_EQ(count_words(text_of(b)), 7U);
  EXPECT_EQ(b["candidates"][0]["finishReason"], "MAX_TOKENS") << "the answer ran to maxOutputTokens";
  EXPECT_EQ(b["usageMetadata"]["promptTokenCount"], 5) << "the contents' and the system instruction's words";
  EXPECT_EQ(b["usageMetadata"]["candidatesTokenCount"], 7);
  EXPECT_EQ(b["usageMetadata"]["totalTokenCount"], 12);
  EXPECT_EQ(b["modelVersion"], "gemini-2.0-flash");
  EXPECT_FALSE(b["responseId"].get<std::string>().empty());

  // An answer whose natural length (squall's x-squall-output-tokens) is within the limit stops by itself.
  const json natural = c.post(generate, content(7), {{"x-squall-output-tokens", "4"}}).json();
  EXPECT_EQ(natural["candidates"][0]["finishReason"], "STOP");
  EXPECT_EQ(natural["usageMetadata"]["candidatesTokenCount"], 4);

  // Without maxOutputTokens the length is drawn and the answer stops by itself; snake_case is Google's too.
  const json plain = json::parse(R"({"contents": [{"parts": [{"text": "a b"}]}],
                                     "system_instruction": {"parts": [{"text": "c"}]}})");
  reply free = c.post("/v1/models/gemini-2.0-flash:generateContent", plain, {{"x-goog-api-key", "k"}});
  ASSERT_EQ(free.status, 200) << free.body;
  EXPECT_EQ(free.json()["candidates"][0]["finishReason"], "STOP");
  EXPECT_EQ(free.json()["usageMetadata"]["promptTokenCount"], 3);
}

TEST(GeminiFake, StreamWithAltSseSendsResponsesTheLastWithFinishReasonAndUsage) {
  running r({gemini_config()});
  client c(r.port());
  reply rep = c.post(stream_sse, content(30));
  ASSERT_EQ(rep.status, 200);
  EXPECT_EQ(rep.header("content-type"), "text/event-stream; charset=utf-8");
  const auto events = parse_sse(rep.body);
  ASSERT_GE(events.size(), 2U);
  std::string text;
  for (std::size_t i = 0; i < events.size(); ++i) {
    const json e = json::parse(events[i].data);
    text += text_of(e);
    EXPECT_EQ(e["candidates"][0].contains("finishReason"), i + 1 == events.size()) << i;
  }
  EXPECT_EQ(count_words(text), 30U);
  const json last = json::parse(events.back().data);
  EXPECT_EQ(last["candidates"][0]["finishReason"], "MAX_TOKENS");
  EXPECT_EQ(last["usageMetadata"]["candidatesTokenCount"], 30);
  EXPECT_EQ(last["usageMetadata"]["promptTokenCount"], 5);
}

TEST(GeminiFake, StreamWithoutAltSseIsOneJsonArray) {
  running r({gemini_config()});
  client c(r.port());
  reply rep = c.post("/v1beta/models/gemini-2.0-flash:streamGenerateContent", content(20));
  ASSERT_EQ(rep.status, 200);
  EXPECT_EQ(rep.header("content-type"), "application/json; charset=UTF-8");
  const json all = json::parse(rep.body, nullptr, false);
  ASSERT_TRUE(all.is_array()) << rep.body;
  ASSERT_GE(all.size(), 2U);
  std::string text;
  for (const json& e : all) text += text_of(e);
  EXPECT_EQ(count_words(text), 20U);
  EXPECT_EQ(all.back()["usageMetadata"]["candidatesTokenCount"], 20);
}

TEST(GeminiFake, CountTokensCountsThePromptAtOnce) {
  running r({gemini_config()});
  client c(r.port());
  reply rep = c.post("/v1beta/models/gemini-2.0-flash:countTokens",
                     json::parse(R"({"contents": [{"parts": [{"text": "a b c d"}]}]})"));
  ASSERT_EQ(rep.status, 200) << rep.body;
  EXPECT_EQ(rep.json()["totalTokens"], 4);
  reply wrapped = c.post("/v1beta/models/gemini-2.0-flash:countTokens", json{{"generateContentRequest", content(3)}});
  EXPECT_EQ(wrapped.json()["totalTokens"], 5);
  EXPECT_EQ(c.post("/v1beta/models/gemini-9:countTokens", json{{"contents", json::array()}}).status, 404);
}

TEST(GeminiFake, UnknownModelAndUnknownMethodAreNotFound) {
  running r({gemini_config()});
  client c(r.port());
  reply model = c.post("/v1beta/models/gemini-9:generateContent", content(3));
  EXPECT_EQ(model.status, 404);
  EXPECT_EQ(model.json()["error"]["status"], "NOT_FOUND");
  EXPECT_NE(model.json()["error"]["message"].get<std::string>().find("models/gemini-9 is not found"), std::string::npos);
  EXPECT_EQ(c.post("/v1beta/models/gemini-2.0-flash:embedContent", content(3)).status, 404);
  EXPECT_EQ(c.post("/v1/chat/completions", content(3)).status, 404);
}

TEST(GeminiFake, BadBodiesAreInvalidArgumentNamingTheField) {
  running r({gemini_config()});
  client c(r.port());
  const std::vector<std::pair<json, std::string>> cases = {
      {json::object(), "contents"},
      {json{{"contents", json::array()}}, "contents"},
      {json::parse(R"({"contents": [{"role": "user", "parts": []}]})"), "contents[0].parts"},
      {json::parse(R"({"contents": [{"role": "robot", "parts": [{"text": "x"}]}]})"), "contents[0].role"},
      {[] { json b = content(1); b["generationConfig"]["maxOutputTokens"] = 0; return b; }(),
       "generation_config.max_output_tokens"},
      {[] { json b = content(1); b["generationConfig"]["maxOutputTokens"] = "many"; return b; }(),
       "generation_config.max_output_tokens"},
      {[] { json b = content(1); b["generationConfig"]["responseMimeType"] = "image/png"; return b; }(),
       "generation_config.response_mime_type"},
      {[] { json b = content(1); b["generationConfig"]["responseSchema"] = {{"type", "OBJECT"}}; return b; }(),
       "generation_config.response_mime_type"},
  };
  for (const auto& [body, field] : cases) {
    SCOPED_TRACE(body.dump());
    reply rep = c.post(generate, body);
    ASSERT_EQ(rep.status, 400);
    const json e = rep.json()["error"];
    EXPECT_EQ(e["code"], 400);
    EXPECT_EQ(e["status"], "INVALID_ARGUMENT");
    EXPECT_EQ(e["details"][0]["@type"], "type.googleapis.com/google.rpc.BadRequest");
    EXPECT_EQ(e["details"][0]["fieldViolations"][0]["field"], field);
  }
  reply junk = c.post(generate, std::string("{\"contents\": ["));
  EXPECT_EQ(junk.status, 400);
  EXPECT_NE(junk.json()["error"]["message"].get<std::string>().find("Invalid JSON payload received."), std::string::npos);
  // A maxOutputTokens written as a decimal string is an int32 in Google's JSON mapping.
  json as_string = content(1);
  as_string["generationConfig"]["maxOutputTokens"] = "4";
  EXPECT_EQ(c.post(generate, as_string).json()["usageMetadata"]["candidatesTokenCount"], 4);
}

TEST(GeminiFake, EveryInjectableStatusHasGooglesErrorEnvelopeAndTheDelayInTheBody) {
  for (const int status : {400, 401, 403, 404, 408, 409, 413, 422, 429, 500, 502, 503, 504}) {
    SCOPED_TRACE(status);
    sim::provider_config cfg = gemini_config();
    sim::fault_window w;
    w.at_s = 0;
    w.for_s = 600;
    w.errors = {{status, 1.0}};
    if (status == 429 || status == 503) w.retry_after_s = 2.5;
    cfg.faults = {w};
    running r({cfg});
    client c(r.port());
    reply rep = c.post(generate, content(3));
    ASSERT_EQ(rep.status, status);
    const json e = rep.json()["error"];
    EXPECT_EQ(e["code"], status);
    EXPECT_EQ(e["status"], default_error_type(api_style::gemini, status));
    EXPECT_TRUE(e["message"].is_string());
    EXPECT_FALSE(rep.has("retry-after")) << "Google sends no Retry-After";
    if (w.retry_after_s) {
      ASSERT_TRUE(e["details"].is_array());
      EXPECT_EQ(e["details"].back()["@type"], "type.googleapis.com/google.rpc.RetryInfo");
      EXPECT_EQ(e["details"].back()["retryDelay"], "2.500s");
    } else {
      EXPECT_FALSE(e.contains("details"));
    }
  }
}

TEST(GeminiFake, RateLimitIsResourceExhaustedWithRetryInfo) {
  sim::provider_config cfg = gemini_config();
  cfg.rpm = 1;
  running r({cfg});
  client c(r.port());
  ASSERT_EQ(c.post(generate, content(1)).status, 200);
  reply limited = c.post(generate, content(1));
  ASSERT_EQ(limited.status, 429);
  const json e = limited.json()["error"];
  EXPECT_EQ(e["status"], "RESOURCE_EXHAUSTED");
  EXPECT_NE(e["message"].get<std::string>().find("Please retry in"), std::string::npos);
  EXPECT_EQ(e["details"].back()["@type"], "type.googleapis.com/google.rpc.RetryInfo");
  EXPECT_FALSE(limited.has("x-ratelimit-limit-requests"));
}

TEST(GeminiFake, WireFaultsInItsOwnShapes) {
  running r({gemini_config()});
  ASSERT_EQ(arm(r.port(), json{{"for_s", 60}, {"wire", {{"error_event", 1.0}}}}).status, 201);
  client c(r.port());
  reply stream = c.post(stream_sse, content(40));
  EXPECT_EQ(stream.status, 200);
  const auto events = parse_sse(stream.body);
  ASSERT_FALSE(events.empty());
  const json last = json::parse(events.back().data);
  EXPECT_EQ(last["error"]["code"], 503);
  EXPECT_EQ(last["error"]["status"], "UNAVAILABLE");
  EXPECT_EQ(c.post(generate, content(40)).status, 503);

  ASSERT_EQ(c.request("DELETE", "/squall/faults", "").status, 200);
  ASSERT_EQ(arm(r.port(), json{{"for_s", 60}, {"wire", {{"malformed", 1.0}}}}).status, 201);
  client m(r.port());
  EXPECT_TRUE(json::parse(m.post(generate, content(10)).body, nullptr, false).is_discarded());
  int broken = 0;
  for (const auto& e : parse_sse(m.post(stream_sse, content(10)).body)) broken += json::parse(e.data, nullptr, false).is_discarded();
  EXPECT_EQ(broken, 1);

  ASSERT_EQ(m.request("DELETE", "/squall/faults", "").status, 200);
  ASSERT_EQ(arm(r.port(), json{{"for_s", 60}, {"wire", {{"stream_cut", 1.0}}}}).status, 201);
  client s(r.port());
  reply cut = s.post(stream_sse, content(100));
  EXPECT_TRUE(cut.error) << "the chunked body never ends";
  for (const auto& e : parse_sse(cut.body)) EXPECT_FALSE(json::parse(e.data)["candidates"][0].contains("finishReason"));
}

TEST(GeminiFake, FunctionCallsAndJsonAnswersFollowTheRequest) {
  running r({gemini_config()});
  client c(r.port());
  json tools = content(5);
  tools["tools"] = json::parse(R"([{"functionDeclarations": [{"name": "get_weather"}, {"name": "get_time",
      "parameters": {"type": "OBJECT", "properties": {"zone": {"type": "STRING"}}, "required": ["zone"]}}]}])");
  tools["toolConfig"] = json::parse(R"({"functionCallingConfig": {"mode": "ANY", "allowedFunctionNames": ["get_time"]}})");
  const json called = c.post(generate, tools).json();
  const json call = called["candidates"][0]["content"]["parts"][0]["functionCall"];
  EXPECT_EQ(call["name"], "get_time") << called.dump();
  EXPECT_TRUE(call["args"]["zone"].is_string()) << "an instance of the parameters schema: " << call.dump();
  tools["toolConfig"]["functionCallingConfig"]["mode"] = "NONE";
  EXPECT_EQ(count_words(text_of(c.post(generate, tools).json())), 5U);

  json structured = content(6);
  structured["generationConfig"]["responseMimeType"] = "application/json";
  structured["generationConfig"]["responseSchema"] =
      json::parse(R"({"type": "OBJECT", "properties": {"city": {"type": "STRING"}}, "required": ["city"]})");
  const json whole = json::parse(text_of(c.post(generate, structured).json()), nullptr, false);
  ASSERT_TRUE(whole.is_object());
  EXPECT_TRUE(whole["city"].is_string()) << whole.dump();
  std::string pieces;
  for (const auto& e : parse_sse(c.post(stream_sse, structured).body)) pieces += text_of(json::parse(e.data));
  const json streamed = json::parse(pieces, nullptr, false);
  ASSERT_TRUE(streamed.is_object()) << pieces;
  EXPECT_TRUE(streamed["city"].is_string()) << pieces;
  structured["generationConfig"]["responseSchema"] = json::parse(R"({"type": "STRING", "minLength": 5, "maxLength": 2})");
  EXPECT_EQ(c.post(generate, structured).status, 400) << "a schema no value satisfies";
}

TEST(GeminiFake, TheAttemptLogNamesGenerateContent) {
  server_options o;
  o.record_attempts = true;
  running r({gemini_config()}, o);
  client c(r.port());
  ASSERT_EQ(c.post(generate, content(2), {{"x-squall-request-id", "7"}}).status, 200);
  const std::vector<upstream_attempt> log = r.server.take_attempts();
  ASSERT_EQ(log.size(), 1U);
  EXPECT_EQ(log[0].kind, "generate_content");
  EXPECT_EQ(log[0].model, "gemini-2.0-flash");
  EXPECT_EQ(log[0].request_id, 7U);
  EXPECT_EQ(log[0].input_tokens, 5U);
  EXPECT_EQ(log[0].output_tokens, 2U);
}

TEST(GeminiWire, ErrorBodyAndDurations) {
  EXPECT_EQ(protobuf_duration(2), "2s");
  EXPECT_EQ(protobuf_duration(0.25), "0.250s");
  EXPECT_EQ(protobuf_duration(1.0001), "1.001s");
  EXPECT_EQ(protobuf_duration(0), "0s");
  const json e = json::parse(error_body(api_style::gemini, error_spec{429, "", "", std::nullopt, std::nullopt}, "", 43));
  EXPECT_EQ(e["error"]["code"], 429);
  EXPECT_EQ(e["error"]["status"], "RESOURCE_EXHAUSTED");
  EXPECT_EQ(e["error"]["details"][0]["retryDelay"], "43s");
  EXPECT_EQ(api_of("gemini"), api_style::gemini);
  EXPECT_EQ(default_error_type(api_style::gemini, 503), "UNAVAILABLE");
  EXPECT_EQ(default_error_type(api_style::gemini, 500), "INTERNAL");
  EXPECT_EQ(default_error_type(api_style::gemini, 403), "PERMISSION_DENIED");
}

TEST(GeminiWire, RequestReaderTakesToolsSchemaAndBothSpellings) {
  parsed_request out;
  gemini_request extra;
  const json body = json::parse(R"({
      "contents": [{"role": "user", "parts": [{"text": "a b"}]},
                   {"role": "function", "parts": [{"functionResponse": {"name": "f", "response": {}}}]}],
      "tools": [{"function_declarations": [{"name": "f", "parameters": {"type": "OBJECT"}}]}],
      "tool_config": {"function_calling_config": {"mode": "AUTO"}},
      "generation_config": {"response_mime_type": "application/json", "response_schema": {"type": "OBJECT"}}})");
  ASSERT_FALSE(read_gemini_request_body(body.dump(), "m", true, false, request_limits{}, out, extra));
  EXPECT_EQ(out.model, "m");
  EXPECT_TRUE(out.stream);
  EXPECT_EQ(out.input_tokens, 2U);
  EXPECT_FALSE(out.max_tokens);
  ASSERT_EQ(extra.functions.size(), 1U);
  EXPECT_EQ(extra.functions[0].name, "f");
  EXPECT_EQ(extra.functions[0].parameters["type"], "OBJECT");
  EXPECT_EQ(extra.calling_mode, "AUTO");
  EXPECT_TRUE(extra.last_turn_is_function_response);
  EXPECT_EQ(extra.response_mime_type, "application/json");
  EXPECT_EQ(extra.response_schema["type"], "OBJECT");
  // Deeper than the readers take is refused while parsing.
  std::string deep(100, '[');
  EXPECT_TRUE(read_gemini_request_body("{\"contents\":" + deep, "m", false, false, request_limits{}, out, extra));
}

}  // namespace
}  // namespace squall::fake
