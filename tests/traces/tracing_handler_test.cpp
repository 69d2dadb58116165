// Run traces through the real simulation: the tracer sits above the simulated transport, so what the trace
// says can be checked against the run's own metrics and the scenario's fault timeline.
#include "traces/tracing_handler.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "policies/retry/server_hints.hpp"
#include "sim/run/simulation.hpp"

namespace squall::traces {
namespace {

namespace fs = std::filesystem;

sim::scenario make(const std::string& faults, const std::string& policies, const std::string& limits = "{}") {
  const std::string text = R"({
    "name": "t", "seed": 5, "duration_s": 30, "drain_s": 30,
    "providers": { "p": { "api": "anthropic",
                          "models": { "m": { "usd_per_mtok_in": 1, "usd_per_mtok_out": 2 } },
                          "latency": { "ttft_ms": { "dist": "exponential", "mean": 200 }, "ms_per_output_token": 1 },
                          "capacity": { "slots": 1000, "queue": 1000 }, "rate_limits": )" + limits + R"(,
                          "faults": )" + faults + R"( } },
    "workload": { "arrivals": { "process": "poisson", "rate_per_s": 40 }, "model": "m", "output_tokens": 50 },
    "policies": )" + policies + R"( })";
  auto s = sim::parse_scenario(json::parse(text), ".");
  EXPECT_TRUE(s.ok()) << (s.ok() ? "" : s.error().describe());
  return s.ok() ? std::move(*s) : sim::scenario{};
}

class RunTrace : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("squall-run-trace-" + std::to_string(::getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  // Runs configuration `index` of `s` with a trace; returns the trace's path and the run.
  std::pair<std::string, sim::configuration_result> traced(const sim::scenario& s, std::size_t index,
                                                           const std::string& name, std::uint64_t seed = 5) {
    const std::string file = (dir_ / name).string();
    trace_header h;
    h.source = "sim";
    auto w = trace_writer::open(file, h);
    EXPECT_TRUE(w.ok());
    auto result = sim::run_configuration(s, index, seed, {}, w->get());
    EXPECT_FALSE((*w)->finish().has_value());
    return {file, std::move(result)};
  }
  static std::string slurp(const std::string& p) {
    std::ifstream in(p, std::ios::binary);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }
  fs::path dir_;
};

TEST_F(RunTrace, OneLinePerAttemptWithStatusesThatFollowTheFaultWindows) {
  const auto s = make(R"([{ "at_s": 10, "for_s": 8, "errors": { "503": 1.0 } }])",
                      R"({ "retry": { "policies": [ { "type": "retry", "attempts_max": 3, "delay_ms_base": 100 } ] } })");
  auto [file, run] = traced(s, 0, "t.jsonl");
  auto t = read_trace(file);
  ASSERT_TRUE(t.ok()) << t.error().describe();
  EXPECT_EQ(t->header.source, "sim");
  ASSERT_GT(t->attempts.size(), 1000U);
  EXPECT_EQ(t->attempts.size(), run.metrics->attempts());

  std::map<std::string, std::uint32_t> attempts_of;
  std::size_t in_window = 0;
  for (const trace_attempt& a : t->attempts) {
    SCOPED_TRACE(encode_line(a));
    EXPECT_EQ(a.provider, "p");
    EXPECT_EQ(a.api, "anthropic");
    EXPECT_EQ(a.endpoint, "/v1/messages");
    EXPECT_EQ(a.model, "m");
    EXPECT_GE(a.attempt, 1U);
    EXPECT_LE(a.attempt, 3U);
    ASSERT_TRUE(a.latency_ms.has_value());
    EXPECT_GE(*a.latency_ms, 0);
    attempts_of[a.request_id] = std::max(attempts_of[a.request_id], a.attempt);
    // The simulated provider decides an attempt's fate when it arrives, which is when it was sent.
    if (a.t_ms >= 10'000 && a.t_ms < 18'000) {
      ++in_window;
      EXPECT_EQ(a.status, 503);
      EXPECT_EQ(a.outcome, "overloaded");
    } else {
      EXPECT_EQ(a.status, 200);
      EXPECT_EQ(a.outcome, "ok");
      ASSERT_TRUE(a.output_tokens.has_value());
      EXPECT_EQ(*a.output_tokens, 50U);
      EXPECT_TRUE(a.ttft_ms.has_value());
    }
  }
  EXPECT_GT(in_window, 300U);
  // Retries show up as later attempts of the same request.
  std::size_t retried = 0;
  for (const auto& [id, n] : attempts_of) retried += n > 1 ? 1 : 0;
  EXPECT_GT(retried, 100U);
}

TEST_F(RunTrace, SameSeedSameBytesAndAnotherSeedAnotherTrace) {
  const auto s = make(R"([{ "at_s": 5, "for_s": 5, "errors": { "429": 0.5 }, "retry_after_s": 2 }])",
                      R"({ "retry": { "policies": [ { "type": "retry", "attempts_max": 3, "delay_ms_base": 100 } ] } })");
  const std::string a = slurp(traced(s, 0, "a.jsonl").first);
  const std::string b = slurp(traced(s, 0, "b.jsonl").first);
  const std::string c = slurp(traced(s, 0, "c.jsonl", 6).first);
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
  // The server's hint is re-encoded as the header that carries it, and parses back to the same value.
  const auto t = parse_trace(a, "a.jsonl");
  ASSERT_TRUE(t.ok()) << t.error().describe();
  std::size_t hinted = 0;
  for (const trace_attempt& at : t->attempts) {
    if (at.status != 429) continue;
    ASSERT_EQ(at.headers.size(), 1U) << encode_line(at);
    EXPECT_EQ(at.headers[0].first, "retry-after-ms");
    EXPECT_EQ(parse_retry_after_ms(at.headers[0].second), from_s(2));
    ++hinted;
  }
  EXPECT_GT(hinted, 50U);
}

// A provider's stated limits reach the trace as the headers a real one sends, on answers and on 429s, so
// that a replay can rebuild its limiter.
TEST_F(RunTrace, TheProvidersStatedLimitsAreKeptOnAnswersAnd429s) {
  const auto s = make("[]", R"({ "plain": { "policies": [] } })", R"({ "rpm": 1500, "tpm": 90000 })");
  auto [file, run] = traced(s, 0, "limits.jsonl");
  const auto t = read_trace(file);
  ASSERT_TRUE(t.ok()) << t.error().describe();
  std::size_t limited = 0, answered = 0;
  for (const trace_attempt& at : t->attempts) {
    std::map<std::string, std::string> h(at.headers.begin(), at.headers.end());
    EXPECT_EQ(h["x-ratelimit-limit-requests"], "1500") << encode_line(at);
    EXPECT_EQ(h["x-ratelimit-limit-tokens"], "90000") << encode_line(at);
    limited += at.status == 429 ? 1 : 0;
    answered += at.status == 200 ? 1 : 0;
  }
  EXPECT_GT(limited, 0U) << "40/s is over 1500/min: some attempts must meet the limiter";
  EXPECT_GT(answered, 0U);
  // Without rate_limits the provider states none.
  auto [plain_file, plain_run] = traced(make("[]", R"({ "plain": { "policies": [] } })"), 0, "none.jsonl");
  const auto plain = read_trace(plain_file);
  ASSERT_TRUE(plain.ok());
  for (const trace_attempt& at : plain->attempts) EXPECT_TRUE(at.headers.empty()) << encode_line(at);
}

TEST_F(RunTrace, AnAttemptATimeoutGaveUpOnIsWrittenAsATimeoutAtItsCancel) {
  // Every answer takes at least 1 s; the per-attempt timeout gives up after 300 ms, twice per request.
  const auto s = make(R"([{ "at_s": 0, "for_s": 30, "latency_x": 20 }])",
                      R"({ "short": { "policies": [ { "type": "retry", "attempts_max": 2, "delay_ms_base": 10 },
                                                    { "type": "timeout", "timeout_ms": 300 } ] } })");
  auto [file, run] = traced(s, 0, "t.jsonl");
  auto t = read_trace(file);
  ASSERT_TRUE(t.ok()) << t.error().describe();
  EXPECT_EQ(t->attempts.size(), run.metrics->attempts());
  std::size_t timeouts = 0;
  for (const trace_attempt& a : t->attempts) {
    if (a.outcome != "timeout") continue;
    ++timeouts;
    EXPECT_EQ(a.status, 0);
    ASSERT_TRUE(a.latency_ms.has_value());
    EXPECT_DOUBLE_EQ(*a.latency_ms, 300.0);
  }
  EXPECT_GT(timeouts, 1000U);
}

TEST_F(RunTrace, AttemptsStillInFlightWhenTheRunEndsAreCancelledNotTimedOut) {
  // Answers take minutes; the run's drain ends before them, so the driver cancels what is in flight.
  const auto s = make(R"([{ "at_s": 25, "for_s": 5, "outage": "hang" }])", R"({ "plain": { "policies": [] } })");
  auto [file, run] = traced(s, 0, "t.jsonl");
  auto t = read_trace(file);
  ASSERT_TRUE(t.ok()) << t.error().describe();
  EXPECT_EQ(t->attempts.size(), run.metrics->attempts());
  std::size_t cancelled = 0;
  for (const trace_attempt& a : t->attempts) {
    EXPECT_NE(a.outcome, "timeout");
    if (a.outcome != "cancelled") continue;
    ++cancelled;
    EXPECT_EQ(a.status, 0);
    EXPECT_FALSE(a.latency_ms.has_value());
    EXPECT_GE(a.t_ms, 25'000);
  }
  EXPECT_GT(cancelled, 100U);
}

TEST(RunTraceEndpoints, FollowTheApi) {
  EXPECT_EQ(default_endpoint("anthropic"), "/v1/messages");
  EXPECT_EQ(default_endpoint("openai"), "/v1/chat/completions");
  // Gemini's path names the model and the method, as the live transport sends it.
  const trace_route gemini{"google", "gemini", default_endpoint("gemini")};
  EXPECT_EQ(endpoint_of(gemini, "gemini-2.0-flash", true), "/v1beta/models/gemini-2.0-flash:streamGenerateContent");
  EXPECT_EQ(endpoint_of(gemini, "gemini-2.0-flash", false), "/v1beta/models/gemini-2.0-flash:generateContent");
  const trace_route openai{"openai", "openai", default_endpoint("openai")};
  EXPECT_EQ(endpoint_of(openai, "gpt-4o", true), "/v1/chat/completions");
}

}  // namespace
}  // namespace squall::traces
