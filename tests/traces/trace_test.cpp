#include "traces/trace.hpp"

#include "policies/core/json_reader.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace squall::traces {
namespace {

namespace fs = std::filesystem;

class TraceFormat : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("squall-trace-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }
  std::string write(const std::string& name, const std::string& text) const {
    std::ofstream(path(name), std::ios::binary) << text;
    return path(name);
  }
  static std::string slurp(const std::string& p) {
    std::ifstream in(p, std::ios::binary);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }
  fs::path dir_;
};

trace_attempt full_attempt() {
  trace_attempt a;
  a.t_ms = 12.345678901234567;
  a.request_id = "r17";
  a.attempt = 2;
  a.provider = "openai";
  a.api = "openai";
  a.endpoint = "/v1/chat/completions";
  a.model = "gpt-4o-mini";
  a.stream = true;
  a.input_tokens = 512;
  a.output_tokens = 180;
  a.status = 429;
  a.error_type = "rate_limit_error";
  a.outcome = "rate_limited";
  a.latency_ms = 0.1 + 0.2;  // not representable in short decimal: checks exact round trip
  a.ttft_ms = 401.5;
  a.headers = {{"retry-after", "2"}, {"x-ratelimit-remaining-requests", "0"}};
  a.prompt_sha256 = prompt_sha256_hex("hello");
  return a;
}

void expect_same(const trace_attempt& a, const trace_attempt& b) {
  EXPECT_EQ(a.t_ms, b.t_ms);
  EXPECT_EQ(a.request_id, b.request_id);
  EXPECT_EQ(a.attempt, b.attempt);
  EXPECT_EQ(a.provider, b.provider);
  EXPECT_EQ(a.api, b.api);
  EXPECT_EQ(a.endpoint, b.endpoint);
  EXPECT_EQ(a.model, b.model);
  EXPECT_EQ(a.stream, b.stream);
  EXPECT_EQ(a.input_tokens, b.input_tokens);
  EXPECT_EQ(a.output_tokens, b.output_tokens);
  EXPECT_EQ(a.status, b.status);
  EXPECT_EQ(a.error_type, b.error_type);
  EXPECT_EQ(a.outcome, b.outcome);
  EXPECT_EQ(a.latency_ms, b.latency_ms);
  EXPECT_EQ(a.ttft_ms, b.ttft_ms);
  EXPECT_EQ(a.headers, b.headers);
  EXPECT_EQ(a.prompt_sha256, b.prompt_sha256);
  EXPECT_EQ(a.prompt, b.prompt);
}

TEST(TraceHeaders, KeepsOnlyTheAllowList) {
  for (auto name : {"retry-after", "retry-after-ms", "x-should-retry", "x-ratelimit-remaining-requests",
                    "x-ratelimit-reset-tokens", "anthropic-ratelimit-requests-remaining", "request-id",
                    "x-request-id", "openai-processing-ms"}) {
    EXPECT_TRUE(is_kept_header(name)) << name;
  }
  for (auto name : {"authorization", "x-api-key", "api-key", "cookie", "set-cookie", "proxy-authorization",
                    "openai-organization", "x-ratelimit-", "Retry-After", "content-type", "x-ratelimit-a\"b",
                    "x-ratelimit-a b"}) {
    EXPECT_FALSE(is_kept_header(name)) << name;
  }
}

TEST(TracePrompt, Sha256IsTheStandardDigest) {
  EXPECT_EQ(prompt_sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(prompt_sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(TraceEncode, LinesHaveAFixedKeyOrderAndLeaveUnknownsOut) {
  trace_header h;
  h.source = "record";
  h.started_at = "2026-11-23T10:00:00.000Z";
  EXPECT_EQ(encode_line(h),
            R"({"squall_trace":1,"source":"record","started_at":"2026-11-23T10:00:00.000Z","prompts":"hash"})");
  trace_attempt a;
  a.t_ms = 812;
  a.status = 0;
  EXPECT_EQ(encode_line(a), R"({"t_ms":812,"status":0})");
  a.t_ms = 12.5;
  a.status = 200;
  a.outcome = "ok";
  a.latency_ms = 3.0;
  EXPECT_EQ(encode_line(a), R"({"t_ms":12.5,"status":200,"outcome":"ok","latency_ms":3})");
}

TEST(TraceEncode, AnyTextGivesValidJsonAndValidUtf8BecomesItself) {
  trace_attempt a;
  a.model = std::string("quote\" backslash\\ tab\t nl\n cr\r bell\x07 del\x7f \xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80");
  a.error_type = "bad \xC3 \xFF \xED\xA0\x80 \xF0\x9F" " end";
  a.request_id = std::string("nul\0inside", 10);
  a.t_ms = 1e-9;
  a.latency_ms = 123456789.125;
  a.ttft_ms = 0.1 + 0.2;
  const std::string line = encode_line(a);
  const json parsed = json::parse(line);
  EXPECT_EQ(parsed["model"].get<std::string>(), a.model);
  EXPECT_EQ(parsed["request_id"].get<std::string>(), a.request_id);
  // Each invalid byte (or truncated sequence start) became U+FFFD; the valid text around stayed.
  EXPECT_EQ(parsed["error_type"].get<std::string>(),
            "bad \xEF\xBF\xBD \xEF\xBF\xBD \xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD \xEF\xBF\xBD\xEF\xBF\xBD"
            " end");
  EXPECT_EQ(parsed["t_ms"].get<double>(), 1e-9);
  EXPECT_EQ(parsed["latency_ms"].get<double>(), 123456789.125);
  EXPECT_EQ(parsed["ttft_ms"].get<double>(), 0.1 + 0.2);
  // The same text as nlohmann writes for the strings (the escaping is the standard one).
  json reference;
  reference["model"] = a.model;
  EXPECT_NE(line.find(reference.dump().substr(1, reference.dump().size() - 2)), std::string::npos) << line;
}

TEST_F(TraceFormat, RoundTripsEveryFieldExactlyAndDeterministically) {
  trace_header h;
  h.source = "live";
  h.started_at = "2026-11-23T10:00:00.000Z";
  trace_attempt sparse;
  sparse.t_ms = 1e-9;
  sparse.status = 0;
  sparse.outcome = "timeout";
  for (int round = 0; round < 2; ++round) {
    auto w = trace_writer::open(path("t" + std::to_string(round) + ".jsonl"), h);
    ASSERT_TRUE(w.ok()) << w.error().describe();
    (*w)->append(full_attempt());
    (*w)->append(sparse);
    EXPECT_EQ((*w)->written(), 2U);
    EXPECT_FALSE((*w)->finish().has_value());
  }
  EXPECT_EQ(slurp(path("t0.jsonl")), slurp(path("t1.jsonl")));
  EXPECT_FALSE(fs::exists(path("t0.jsonl.tmp")));

  auto t = read_trace(path("t0.jsonl"));
  ASSERT_TRUE(t.ok()) << t.error().describe();
  EXPECT_EQ(t->header.version, 1);
  EXPECT_EQ(t->header.source, "live");
  EXPECT_EQ(t->header.started_at, "2026-11-23T10:00:00.000Z");
  EXPECT_EQ(t->header.prompts, prompt_mode::hash);
  ASSERT_EQ(t->attempts.size(), 2U);
  expect_same(t->attempts[0], full_attempt());
  expect_same(t->attempts[1], sparse);
  EXPECT_FALSE(t->attempts[1].latency_ms.has_value());
  EXPECT_TRUE(t->attempts[1].first_attempt());

  // Re-encoding what was read gives the same bytes: the format has one spelling per trace.
  std::string again = encode_line(t->header) + "\n";
  for (const auto& a : t->attempts) again += encode_line(a) + "\n";
  EXPECT_EQ(again, slurp(path("t0.jsonl")));
}

TEST_F(TraceFormat, SecretHeadersNeverReachTheFile) {
  trace_header h;
  h.source = "record";
  auto w = trace_writer::open(path("t.jsonl"), h);
  ASSERT_TRUE(w.ok());
  trace_attempt a;
  a.status = 200;
  a.headers = {{"Authorization", "Bearer sk-secret-1"}, {"x-api-key", "sk-ant-secret-2"},
               {"Cookie", "session=secret-3"}, {"Retry-After", "7"}, {"X-RateLimit-Remaining-Tokens", "99"}};
  (*w)->append(a);
  ASSERT_FALSE((*w)->finish().has_value());
  const std::string text = slurp(path("t.jsonl"));
  EXPECT_EQ(text.find("secret"), std::string::npos) << text;
  EXPECT_EQ(text.find("uthorization"), std::string::npos) << text;
  auto t = read_trace(path("t.jsonl"));
  ASSERT_TRUE(t.ok()) << t.error().describe();
  using header_list = std::vector<std::pair<std::string, std::string>>;
  EXPECT_EQ(t->attempts.at(0).headers, (header_list{{"retry-after", "7"}, {"x-ratelimit-remaining-tokens", "99"}}));
}

TEST_F(TraceFormat, PromptModesKeepNothingTheHashOrTheText) {
  const std::string prompt = "tell me a secret story";
  const std::string digest = prompt_sha256_hex(prompt);
  for (prompt_mode mode : {prompt_mode::none, prompt_mode::hash, prompt_mode::text}) {
    trace_header h;
    h.source = "record";
    h.prompts = mode;
    const std::string file = path(std::string(to_string(mode)) + ".jsonl");
    auto w = trace_writer::open(file, h);
    ASSERT_TRUE(w.ok());
    trace_attempt a;
    a.prompt = prompt;
    (*w)->append(a);
    ASSERT_FALSE((*w)->finish().has_value());
    const std::string text = slurp(file);
    auto t = read_trace(file);
    ASSERT_TRUE(t.ok()) << t.error().describe();
    EXPECT_EQ(t->header.prompts, mode);
    const trace_attempt& back = t->attempts.at(0);
    switch (mode) {
      case prompt_mode::none:
        EXPECT_EQ(text.find("secret story"), std::string::npos);
        EXPECT_EQ(text.find("prompt_sha256"), std::string::npos);
        EXPECT_EQ(back.prompt_sha256, "");
        break;
      case prompt_mode::hash:
        EXPECT_EQ(text.find("secret story"), std::string::npos);
        EXPECT_EQ(back.prompt_sha256, digest);
        EXPECT_EQ(back.prompt, "");
        break;
      case prompt_mode::text:
        EXPECT_EQ(back.prompt_sha256, digest);
        EXPECT_EQ(back.prompt, prompt);
        break;
    }
  }
  // A line may not carry more than its header allows.
  auto leak = parse_trace(
      "{\"squall_trace\":1,\"source\":\"record\",\"prompts\":\"hash\"}\n{\"t_ms\":0,\"prompt\":\"x\"}\n", "p.jsonl");
  ASSERT_FALSE(leak.ok());
  EXPECT_EQ(leak.error().describe(),
            "p.jsonl: line 2: $.prompt: the trace's header says \"prompts\": \"hash\", so no line may carry a prompt");
}

constexpr const char* header_line = "{\"squall_trace\":1,\"source\":\"record\"}\n";

std::string error_of(std::string_view text, const trace_read_options& options = {}) {
  auto t = parse_trace(text, "t.jsonl", options);
  return t.ok() ? std::string("(no error)") : t.error().describe();
}

TEST(TraceRead, MalformedLinesNameFileLinePathAndValue) {
  EXPECT_EQ(error_of(std::string(header_line) + "{\"t_ms\":1,\"status\":200}\n{\"t_ms\":2,\"status\":\"abc\"}\n"),
            "t.jsonl: line 3: $.status: expected an integer from 0 to 999, got \"abc\"");
  EXPECT_EQ(error_of(std::string(header_line) + "{\"t_ms\":-5}\n"),
            "t.jsonl: line 2: $.t_ms: expected a number from 0 to 1000000000000, got -5");
  EXPECT_EQ(error_of(std::string(header_line) + "{\"status\":200}\n"),
            "t.jsonl: line 2: $: missing key \"t_ms\"; expected the send time in ms after the start");
  EXPECT_EQ(error_of(std::string(header_line) + "{\"t_ms\":1,\"outcome\":\"fine\"}\n").substr(0, 56),
            "t.jsonl: line 2: $.outcome: expected an outcome class (o");
  EXPECT_EQ(error_of(std::string(header_line) + "{\"t_ms\":1,\"headers\":{\"authorization\":\"Bearer x\"}}\n")
                .substr(0, 89),
            "t.jsonl: line 2: $.headers.authorization: header \"authorization\" is not one a trace keeps");
  EXPECT_EQ(error_of(std::string(header_line) + "{\"t_ms\":1,\"input_tokens\":1.5}\n"),
            "t.jsonl: line 2: $.input_tokens: expected an integer from 0 to 4294967295, got 1.5");
  const std::string not_json = error_of(std::string(header_line) + "{\"t_ms\": 1,,}\n{\"t_ms\":2}\n");
  EXPECT_EQ(not_json.rfind("t.jsonl: line 2: $: not a JSON object: invalid JSON at column", 0), 0U) << not_json;
  EXPECT_EQ(error_of(std::string(header_line) + "[1,2]\n"), "t.jsonl: line 2: $: expected an object, got an array");
}

TEST(TraceRead, UnknownKeysAreErrorsWithASuggestion) {
  EXPECT_EQ(error_of(std::string(header_line) + "{\"t_ms\":1,\"latncy_ms\":5}\n"),
            "t.jsonl: line 2: $: unknown key \"latncy_ms\"; did you mean \"latency_ms\"?");
  EXPECT_EQ(error_of("{\"squall_trace\":1,\"source\":\"record\",\"colour\":\"red\"}\n").rfind(
                "t.jsonl: line 1: $: unknown key \"colour\"", 0),
            0U);
}

TEST(TraceRead, VersionIsCheckedFirst) {
  EXPECT_EQ(error_of("{\"squall_trace\":2,\"source\":\"record\",\"new_key\":1}\n"),
            "t.jsonl: line 1: $.squall_trace: trace format version 2 is newer than this squall reads (1); expected a version from 1 to 1, or a newer squall");
  EXPECT_EQ(error_of("{\"squall_trace\":\"1\",\"source\":\"record\"}\n"),
            "t.jsonl: line 1: $.squall_trace: expected an integer from 1 to 2147483647, got \"1\"");
  EXPECT_EQ(error_of("{\"t_ms\":1,\"status\":200}\n").rfind("t.jsonl: line 1: $: not a squall trace", 0), 0U);
  EXPECT_EQ(error_of("{\"squall_trace\":1}\n"), "t.jsonl: line 1: $: missing key \"source\"; expected \"record\", \"live\", \"sim\" or \"import\"");
  EXPECT_EQ(error_of(""), "t.jsonl: empty trace: expected a first line like {\"squall_trace\": 1, \"source\": \"record\"}");
}

TEST_F(TraceFormat, TruncatedLastLineIsNamedAsSuch) {
  const std::string text = std::string(header_line) + "{\"t_ms\":1,\"status\":200}\n{\"t_ms\":2,\"sta";
  const std::string file = write("cut.jsonl", text);
  auto t = read_trace(file);
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.error().describe(), file + ": line 3: $: truncated last line: the file ends in the middle of a "
                                         "line (was its writer interrupted?)");
  EXPECT_EQ(error_of(text), "t.jsonl: line 3: $: truncated last line: the file ends in the middle of a line (was "
                            "its writer interrupted?)");
  // A complete last line without its newline is fine, and so are CRLF line ends and blank lines.
  auto ok = read_trace(write("crlf.jsonl", "{\"squall_trace\":1,\"source\":\"import\"}\r\n\r\n{\"t_ms\":1}\r\n{\"t_ms\":2}"));
  ASSERT_TRUE(ok.ok()) << ok.error().describe();
  EXPECT_EQ(ok->attempts.size(), 2U);
  auto missing = read_trace(path("nope.jsonl"));
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().describe(), path("nope.jsonl") + ": cannot read the trace: No such file or directory");
  auto directory = read_trace(dir_.string());
  ASSERT_FALSE(directory.ok());
  EXPECT_EQ(directory.error().describe(), dir_.string() + ": is a directory, not a trace");
}

TEST(TraceDocs, TheExampleInTheReferenceIsATrace) {
  std::ifstream in(std::string(SQUALL_SOURCE_DIR) + "/docs/trace-format.md");
  std::stringstream s;
  s << in.rdbuf();
  const std::string doc = s.str();
  const std::size_t heading = doc.find("## Example");
  ASSERT_NE(heading, std::string::npos);
  const std::size_t begin = doc.find("```\n", heading) + 4;
  const std::size_t end = doc.find("```", begin);
  auto t = parse_trace(std::string_view(doc).substr(begin, end - begin), "docs/trace-format.md");
  ASSERT_TRUE(t.ok()) << t.error().describe();
  ASSERT_EQ(t->attempts.size(), 3U);
  EXPECT_EQ(t->attempts[2].attempt, 2U);
  // And the example is written as the writer writes it.
  std::string again = encode_line(t->header) + "\n";
  for (const auto& a : t->attempts) again += encode_line(a) + "\n";
  EXPECT_EQ(again, doc.substr(begin, end - begin));
}

TEST(TraceRead, AttemptsMaxBoundsWhatIsRead) {
  std::string text = header_line;
  for (int i = 0; i < 5; ++i) text += "{\"t_ms\":" + std::to_string(i) + "}\n";
  trace_read_options options;
  options.attempts_max = 5;
  EXPECT_EQ(error_of(text, options), "(no error)");
  options.attempts_max = 4;
  EXPECT_EQ(error_of(text, options),
            "t.jsonl: line 6: $: more than 4 attempts (attempts_max); split the trace or raise the limit");
}

TEST_F(TraceFormat, AWriterNotFinishedLeavesNothingBehind) {
  trace_header h;
  h.source = "live";
  {
    auto w = trace_writer::open(path("t.jsonl"), h);
    ASSERT_TRUE(w.ok());
    (*w)->append(trace_attempt{});
    EXPECT_TRUE(fs::exists(path("t.jsonl.tmp")));
  }
  EXPECT_FALSE(fs::exists(path("t.jsonl.tmp")));
  EXPECT_FALSE(fs::exists(path("t.jsonl")));
  auto bad = trace_writer::open(path("no/such/dir/t.jsonl"), h);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().describe().find("cannot write the trace"), std::string::npos);
}

}  // namespace
}  // namespace squall::traces
