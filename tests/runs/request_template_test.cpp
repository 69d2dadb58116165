// The request template written straight into wire bytes: the same request a JSON tree would give, every
// value escaped for where it lands, and a Content-Length that counts the body.

#include "runs/request_template.hpp"

#include <gtest/gtest.h>

#include "sim/scenario/placeholders.hpp"

namespace squall::runs {
namespace {

sim::service_spec spec_with(const json& request) {
  sim::service_spec s;
  s.request.path = request.value("path", "/ask");
  if (request.contains("headers")) {
    for (auto it = request["headers"].begin(); it != request["headers"].end(); ++it) {
      s.request.headers.emplace_back(it.key(), it->get<std::string>());
    }
  }
  if (request.contains("body")) s.request.body = request["body"];
  return s;
}

request sample() {
  request r;
  r.id = 42;
  r.model = "gpt-\"4o\"";
  r.input_tokens = 5;
  r.output_tokens = 7;
  return r;
}

struct split {
  std::string head;
  std::string body;
};
split split_request(const std::string& bytes) {
  const std::size_t end = bytes.find("\r\n\r\n");
  return {bytes.substr(0, end + 2), bytes.substr(end + 4)};
}

TEST(RequestTemplate, TheBodyIsTheTemplateWithEveryPlaceholderFilledAndEscaped) {
  const auto spec = spec_with(json::parse(R"({
    "path": "/v1/ask?tenant=${provider}&id=${request_id}",
    "headers": {"x-trace": "t-${request_id}", "content-type": "application/json; charset=utf-8"},
    "body": {"prompt": "${prompt}", "model": "${model}", "n": "${output_tokens}", "label": "id ${request_id}",
             "nested": [{"in": "${input_tokens}"}, true, null, 1.5], "escaped": "$${not} \"q\""}
  })"));
  const request_template t(spec, "127.0.0.1:9", "openai");
  std::string bytes;
  t.write(sample(), bytes);
  const split parts = split_request(bytes);
  EXPECT_TRUE(parts.head.starts_with("POST /v1/ask?tenant=openai&id=42 HTTP/1.1\r\nHost: 127.0.0.1:9\r\n")) << parts.head;
  EXPECT_NE(parts.head.find("x-trace: t-42\r\n"), std::string::npos);
  EXPECT_NE(parts.head.find("x-squall-request-id: 42\r\n"), std::string::npos);
  EXPECT_EQ(parts.head.find("Content-Type: application/json\r\n"), std::string::npos) << "the template's own is kept";
  EXPECT_NE(parts.head.find("Content-Length: " + std::to_string(parts.body.size()) + "\r\n"), std::string::npos);

  const json body = json::parse(parts.body);
  EXPECT_EQ(body["prompt"], request_template::prompt(sample()));
  EXPECT_TRUE(body["prompt"].get<std::string>().starts_with("[squall:42] "));
  EXPECT_EQ(body["model"], "gpt-\"4o\"");
  EXPECT_EQ(body["n"], 7);  // a sole numeric placeholder is a number
  EXPECT_EQ(body["label"], "id 42");
  EXPECT_EQ(body["nested"][0]["in"], 5);
  EXPECT_EQ(body["nested"][1], true);
  EXPECT_TRUE(body["nested"][2].is_null());
  EXPECT_EQ(body["nested"][3], 1.5);
  EXPECT_EQ(body["escaped"], "${not} \"q\"");
}

TEST(RequestTemplate, WithoutABodyThereIsNoContentLength) {
  sim::service_spec spec;
  spec.request.method = "GET";
  spec.request.path = "/health/${request_id}";
  const request_template t(spec, "h:1", "p");
  std::string bytes;
  t.write(sample(), bytes);
  EXPECT_EQ(bytes, "GET /health/42 HTTP/1.1\r\nHost: h:1\r\nx-squall-request-id: 42\r\n\r\n");
}

TEST(RequestTemplate, JsonPathsCompileToSteps) {
  const auto steps = compile_json_path("$.choices[0][\"message\"].content");
  ASSERT_EQ(steps.size(), 4U);
  EXPECT_EQ(steps[0].key, "choices");
  EXPECT_TRUE(steps[1].index);
  EXPECT_EQ(steps[1].position, 0U);
  EXPECT_EQ(steps[2].key, "message");
  EXPECT_FALSE(steps[2].index);
  EXPECT_EQ(steps[3].key, "content");
  EXPECT_TRUE(compile_json_path("$").empty());
}

}  // namespace
}  // namespace squall::runs
