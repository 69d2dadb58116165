// The attempt log and attribution of the fake providers (a run against a system under test): real
// servers on loopback port 0, a real HTTP client, the log read through fake_server::take_attempts.
#include <gtest/gtest.h>

#include <boost/asio/error.hpp>
#include <chrono>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

#include "fake_providers/attempt_log.hpp"
#include "fake_providers/fake_server.hpp"
#include "policies/core/rng.hpp"
#include "sim/provider/provider_model.hpp"
#include "tests/fake_providers/test_providers.hpp"
#include "tests/support/http_test_client.hpp"

namespace squall::fake {
namespace {

using nlohmann::json;
using testing::anthropic_config;
using testing::client;
using testing::header_list;
using testing::openai_config;
using testing::reply;
using testing::running;

json chat_saying(std::uint32_t max_tokens, const std::string& content = "one two three four five", bool stream = false) {
  json b = {{"model", "gpt-4o-mini"},
            {"messages", json::array({{{"role", "user"}, {"content", content}}})},
            {"max_tokens", max_tokens}};
  if (stream) b["stream"] = true;
  return b;
}

server_options recording(std::uint64_t seed = 1) {
  server_options o;
  o.seed = seed;
  o.record_attempts = true;
  return o;
}

sim::fault_window window(double at_s, double for_s) {
  sim::fault_window w;
  w.at_s = at_s;
  w.for_s = for_s;
  return w;
}

reply post_chat(std::uint16_t port, const json& body, header_list headers = {}) {
  client c(port);
  return c.post("/v1/chat/completions", body, std::move(headers));
}

// ---------------------------------------------------------------------------------------------------
// The marker

TEST(FakeServerAttempts, PromptMarkerIsTheFirstWellFormedOne) {
  using detail::find_prompt_marker;
  EXPECT_EQ(find_prompt_marker(R"({"content":"hi [squall:42] there"})"), 42U);
  EXPECT_EQ(find_prompt_marker("[squall:0]"), 0U);
  EXPECT_EQ(find_prompt_marker("[squall:18446744073709551615]"), 18446744073709551615ULL);
  EXPECT_EQ(find_prompt_marker("[squall:7] and [squall:8]"), 7U);
  EXPECT_EQ(find_prompt_marker("[squall:] [squall:12x] [squall:-3] [squall:5"), std::nullopt);
  EXPECT_EQ(find_prompt_marker("[squall:18446744073709551616] [squall:9]"), 9U) << "beyond 2^64 - 1 is skipped";
  EXPECT_EQ(find_prompt_marker("[squall:abc] [squall:[squall:11]"), 11U);
  EXPECT_EQ(find_prompt_marker("[SQUALL:1] squall:2] [squall 3]"), std::nullopt);
  EXPECT_EQ(find_prompt_marker(""), std::nullopt);
}

// ---------------------------------------------------------------------------------------------------
// Attribution

TEST(FakeServerAttempts, HeaderAttributionIsRecordedWithTheAnswerAndItsCost) {
  running r({openai_config()}, recording());
  const reply rep = post_chat(r.port(), chat_saying(3), {{"x-squall-request-id", "41"}, {"x-squall-attempt", "2"}});
  ASSERT_EQ(rep.status, 200) << rep.body;
  const std::vector<upstream_attempt> log = r.server.take_attempts();
  ASSERT_EQ(log.size(), 1U);
  const upstream_attempt& a = log[0];
  EXPECT_EQ(a.provider, "openai");
  EXPECT_EQ(a.model, "gpt-4o-mini");
  EXPECT_EQ(a.kind, "chat");
  EXPECT_EQ(a.attributed_by, attribution::header);
  EXPECT_EQ(a.request_id, 41U);
  EXPECT_EQ(a.attempt, 2U) << "x-squall-attempt as sent";
  EXPECT_GE(a.arrived_ms, 0);
  EXPECT_GE(a.ended_ms, a.arrived_ms);
  EXPECT_EQ(a.status, 200);
  EXPECT_EQ(a.end, "ok");
  EXPECT_EQ(a.input_tokens, 5U);
  EXPECT_EQ(a.output_tokens, 3U);
  EXPECT_DOUBLE_EQ(a.cost_usd, (5 * 0.15 + 3 * 0.60) / 1e6);
  EXPECT_TRUE(r.server.take_attempts().empty()) << "taking empties the log";
  EXPECT_EQ(r.server.attempt_counts().recorded, 1U);
}

TEST(FakeServerAttempts, PromptMarkerAttributesEveryKindOfRequest) {
  running r({openai_config(), anthropic_config()}, recording());
  EXPECT_EQ(post_chat(r.port(0), chat_saying(2, "please answer [squall:1234] briefly")).status, 200);
  client e(r.port(0));
  EXPECT_EQ(e.post("/v1/embeddings", json{{"model", "text-embedding-3-small"}, {"input", "x [squall:77]"}}).status, 200);
  client a(r.port(1));
  const json message = {{"model", "claude-sonnet-4"},
                        {"max_tokens", 2},
                        {"messages", json::array({{{"role", "user"},
                                                   {"content", json::array({{{"type", "text"}, {"text", "[squall:9] hi"}}})}}})}};
  EXPECT_EQ(a.post("/v1/messages", message).status, 200);

  const std::vector<upstream_attempt> log = r.server.take_attempts();
  ASSERT_EQ(log.size(), 3U);
  EXPECT_EQ(log[0].kind, "chat");
  EXPECT_EQ(log[0].attributed_by, attribution::prompt_marker);
  EXPECT_EQ(log[0].request_id, 1234U);
  EXPECT_EQ(log[0].attempt, 1U);
  EXPECT_EQ(log[1].kind, "embeddings");
  EXPECT_EQ(log[1].model, "text-embedding-3-small");
  EXPECT_EQ(log[1].attributed_by, attribution::prompt_marker);
  EXPECT_EQ(log[1].request_id, 77U);
  EXPECT_EQ(log[2].provider, "anthropic");
  EXPECT_EQ(log[2].kind, "messages");
  EXPECT_EQ(log[2].attributed_by, attribution::prompt_marker);
  EXPECT_EQ(log[2].request_id, 9U);
  for (const upstream_attempt& x : log) EXPECT_EQ(x.end, "ok");
}

TEST(FakeServerAttempts, UnattributedRequestsAreRecordedAsNone) {
  running r({openai_config()}, recording());
  EXPECT_EQ(post_chat(r.port(), chat_saying(1, "no marker [squall:] here")).status, 200);
  EXPECT_EQ(post_chat(r.port(), chat_saying(1)).status, 200);
  const std::vector<upstream_attempt> log = r.server.take_attempts();
  ASSERT_EQ(log.size(), 2U);
  for (const upstream_attempt& a : log) {
    EXPECT_EQ(a.attributed_by, attribution::none);
    EXPECT_EQ(a.request_id, 0U);
    EXPECT_EQ(a.attempt, 1U);
  }
}

TEST(FakeServerAttempts, TheHeaderWinsOverTheMarker) {
  running r({openai_config()}, recording());
  EXPECT_EQ(post_chat(r.port(), chat_saying(1, "[squall:5]"), {{"x-squall-request-id", "6"}}).status, 200);
  const std::vector<upstream_attempt> log = r.server.take_attempts();
  ASSERT_EQ(log.size(), 1U);
  EXPECT_EQ(log[0].attributed_by, attribution::header);
  EXPECT_EQ(log[0].request_id, 6U);
}

TEST(FakeServerAttempts, BadRequestsAreRecordedAsErrors) {
  running r({openai_config()}, recording());
  client c(r.port());
  EXPECT_EQ(c.post("/v1/chat/completions", std::string("{not json [squall:3]"), {}).status, 400);
  EXPECT_EQ(c.post("/v1/chat/completions", chat_saying(1), {{"x-squall-request-id", "3"}, {"x-squall-attempt", "0"}}).status, 400);
  const std::vector<upstream_attempt> log = r.server.take_attempts();
  ASSERT_EQ(log.size(), 2U);
  EXPECT_EQ(log[0].attributed_by, attribution::prompt_marker);
  EXPECT_EQ(log[0].attempt, 1U);
  EXPECT_EQ(log[1].attributed_by, attribution::header);
  EXPECT_EQ(log[1].attempt, 2U) << "an unusable x-squall-attempt counts like a missing one";
  for (const upstream_attempt& a : log) {
    EXPECT_EQ(a.request_id, 3U);
    EXPECT_EQ(a.status, 400);
    EXPECT_EQ(a.end, "error");
    EXPECT_GE(a.ended_ms, a.arrived_ms);
    EXPECT_EQ(a.cost_usd, 0);
  }
}

// ---------------------------------------------------------------------------------------------------
// Attempt numbers and their draws

// Whether the simulated provider errors attempt `attempt` of request `id` (common random numbers).
bool simulated_error(const sim::provider_config& cfg, std::uint64_t seed, std::uint64_t id, std::uint64_t attempt) {
  sim::provider_model model(cfg);
  rng r(mix_seed(mix_seed(stream_seed(seed, "provider/" + cfg.name), id), attempt));
  const sim::attempt_draws d = model.draw(r);
  request q;
  q.id = id;
  q.model = "gpt-4o-mini";
  q.input_tokens = 5;
  q.output_tokens = 1;
  return model.admit(time_point{}, q, d).kind == sim::admission_kind::injected;
}

TEST(FakeServerAttempts, RetriesWithoutAnAttemptHeaderAreCountedAndDrawAfresh) {
  sim::provider_config cfg = openai_config();
  cfg.errors = {{500, 0.5}};
  constexpr std::uint64_t seed = 7;
  running r({cfg}, recording(seed));
  constexpr std::uint64_t ids = 12;
  bool some_id_differs = false;
  for (std::uint64_t id = 1; id <= ids; ++id) {
    std::vector<bool> expected;
    for (std::uint64_t attempt = 1; attempt <= 3; ++attempt) {
      expected.push_back(simulated_error(cfg, seed, id, attempt));
      // By header on odd ids, by marker on even ones: the same count, the same draws.
      const bool by_header = id % 2 == 1;
      const reply rep = by_header ? post_chat(r.port(), chat_saying(1), {{"x-squall-request-id", std::to_string(id)}})
                                  : post_chat(r.port(), chat_saying(1, "q [squall:" + std::to_string(id) + "]"));
      EXPECT_EQ(rep.status, expected.back() ? 500 : 200) << "id " << id << ", attempt " << attempt;
    }
    some_id_differs = some_id_differs || expected[0] != expected[1] || expected[1] != expected[2];
  }
  EXPECT_TRUE(some_id_differs) << "the seed gives every id the same outcome three times: pick another";

  const std::vector<upstream_attempt> log = r.server.take_attempts();
  ASSERT_EQ(log.size(), ids * 3);
  for (std::size_t i = 0; i < log.size(); ++i) {
    EXPECT_EQ(log[i].request_id, i / 3 + 1);
    EXPECT_EQ(log[i].attempt, i % 3 + 1);
  }
}

TEST(FakeServerAttempts, AnAttemptHeaderIsTakenAsSentAndNotCounted) {
  sim::provider_config cfg = openai_config();
  cfg.errors = {{500, 0.5}};
  running r({cfg}, recording());
  const header_list first = {{"x-squall-request-id", "3"}, {"x-squall-attempt", "1"}};
  const reply a = post_chat(r.port(), chat_saying(4), first);
  const reply b = post_chat(r.port(), chat_saying(4), first);
  EXPECT_EQ(a.status, b.status);
  const reply c = post_chat(r.port(), chat_saying(4), {{"x-squall-request-id", "3"}});
  const std::vector<upstream_attempt> log = r.server.take_attempts();
  ASSERT_EQ(log.size(), 3U);
  EXPECT_EQ(log[0].attempt, 1U);
  EXPECT_EQ(log[1].attempt, 1U);
  EXPECT_EQ(log[2].attempt, 1U) << "the first attempt the server counted for id 3";
}

TEST(FakeServerAttempts, IdsBeyondTheTableCountAsFirstAttempts) {
  server_options o = recording();
  o.attempt_counted_ids_max = 1;
  running r({openai_config()}, o);
  for (const char* id : {"1", "1", "2", "2"}) post_chat(r.port(), chat_saying(1), {{"x-squall-request-id", id}});
  const std::vector<upstream_attempt> log = r.server.take_attempts();
  ASSERT_EQ(log.size(), 4U);
  EXPECT_EQ(log[0].attempt, 1U);
  EXPECT_EQ(log[1].attempt, 2U);
  EXPECT_EQ(log[2].attempt, 1U);
  EXPECT_EQ(log[3].attempt, 1U);
  EXPECT_EQ(r.server.attempt_counts().ids_over_cap, 2U);
}

// ---------------------------------------------------------------------------------------------------
// How exchanges end

TEST(FakeServerAttempts, AFaultWindowsErrorsAreRecordedWithoutCost) {
  sim::provider_config cfg = openai_config();
  sim::fault_window w = window(0, 0.4);
  w.errors = {{503, 1.0}};
  cfg.faults = {w};
  running r({cfg}, recording());
  EXPECT_EQ(post_chat(r.port(), chat_saying(3), {{"x-squall-request-id", "1"}}).status, 503);
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  EXPECT_EQ(post_chat(r.port(), chat_saying(3), {{"x-squall-request-id", "1"}}).status, 200);
  const std::vector<upstream_attempt> log = r.server.take_attempts();
  ASSERT_EQ(log.size(), 2U);
  EXPECT_EQ(log[0].status, 503);
  EXPECT_EQ(log[0].end, "error");
  EXPECT_EQ(log[0].output_tokens, 0U);
  EXPECT_EQ(log[0].cost_usd, 0);
  EXPECT_EQ(log[0].input_tokens, 5U);
  EXPECT_LT(log[0].arrived_ms, 400);
  EXPECT_EQ(log[1].attempt, 2U);
  EXPECT_EQ(log[1].status, 200);
  EXPECT_EQ(log[1].end, "ok");
  EXPECT_GE(log[1].arrived_ms, 400);
  EXPECT_GT(log[1].cost_usd, 0);
  EXPECT_DOUBLE_EQ(log[1].cost_usd, (log[1].input_tokens * 0.15 + log[1].output_tokens * 0.60) / 1e6);
}

TEST(FakeServerAttempts, WireFaultsAndOutagesEndAsTheClientSawThem) {
  running r({openai_config()}, recording());
  client control(r.port());
  ASSERT_EQ(control.post("/squall/faults", json{{"for_s", 60}, {"wire", {{"stream_cut", 1.0}}}}).status, 201);
  EXPECT_EQ(post_chat(r.port(), chat_saying(20, "[squall:1]", true)).status, 200);
  ASSERT_EQ(control.request("DELETE", "/squall/faults", "").status, 200);
  ASSERT_EQ(control.post("/squall/faults", json{{"for_s", 60}, {"wire", {{"error_event", 1.0}}}}).status, 201);
  EXPECT_EQ(post_chat(r.port(), chat_saying(20, "[squall:2]", true)).status, 200);
  EXPECT_EQ(post_chat(r.port(), chat_saying(20, "[squall:3]")).status, 503);
  ASSERT_EQ(control.request("DELETE", "/squall/faults", "").status, 200);
  ASSERT_EQ(control.post("/squall/faults", json{{"for_s", 60}, {"wire", {{"malformed", 1.0}}}}).status, 201);
  EXPECT_EQ(post_chat(r.port(), chat_saying(20, "[squall:4]")).status, 200);
  ASSERT_EQ(control.request("DELETE", "/squall/faults", "").status, 200);
  ASSERT_EQ(control.post("/squall/faults", json{{"for_s", 60}, {"outage", "reset"}}).status, 201);
  EXPECT_EQ(post_chat(r.port(), chat_saying(20, "[squall:5]")).status, 0);
  ASSERT_EQ(control.request("DELETE", "/squall/faults", "").status, 200);
  ASSERT_EQ(control.post("/squall/faults", json{{"for_s", 60}, {"outage", "hang"}}).status, 201);
  {
    client gives_up(r.port(), 300);
    EXPECT_EQ(gives_up.post("/v1/chat/completions", chat_saying(20, "[squall:6]")).status, 0);
  }
  // The server notices the client left when its connection closes; the log is taken once it has (a
  // record taken earlier would stay "open").
  const std::string freed = "squall_fake_hung{provider=\"openai\"} 0";
  for (int i = 0; i < 200 && control.get("/metrics").body.find(freed) == std::string::npos; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  const std::vector<upstream_attempt> log = r.server.take_attempts();
  ASSERT_EQ(log.size(), 6U);
  const std::vector<std::pair<int, std::string>> expected = {
      {200, "stream_cut"}, {200, "error_event"}, {503, "error"}, {200, "malformed"}, {0, "reset"}, {0, "hang"}};
  for (std::size_t i = 0; i < expected.size(); ++i) {
    EXPECT_EQ(log[i].request_id, i + 1);
    EXPECT_EQ(log[i].status, expected[i].first) << i;
    EXPECT_EQ(log[i].end, expected[i].second) << i;
    EXPECT_GE(log[i].ended_ms, log[i].arrived_ms) << i;
  }
}

TEST(FakeServerAttempts, ARequestStillOpenIsTakenAsOpen) {
  running r({openai_config()}, recording());
  client control(r.port());
  ASSERT_EQ(control.post("/squall/faults", json{{"for_s", 60}, {"outage", "hang"}}).status, 201);
  std::thread hung([&] {
    client c(r.port(), 1500);
    c.post("/v1/chat/completions", chat_saying(1, "[squall:8]"));
  });
  std::vector<upstream_attempt> log;
  for (int i = 0; i < 100 && log.empty(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    log = r.server.take_attempts();
  }
  hung.join();
  ASSERT_EQ(log.size(), 1U);
  EXPECT_EQ(log[0].end, "open");
  EXPECT_EQ(log[0].ended_ms, -1);
  EXPECT_EQ(log[0].status, 0);
  EXPECT_TRUE(r.server.take_attempts().empty()) << "its end, later, has no record to go to";
}

// ---------------------------------------------------------------------------------------------------
// The timeline and the log's limits

TEST(FakeServerAttempts, RestartTimelineStartsTheScenarioAgainAndForgetsEarlierAttempts) {
  sim::provider_config cfg = openai_config();
  sim::fault_window w = window(0, 0.5);
  w.errors = {{503, 1.0}};
  cfg.faults = {w};
  running r({cfg}, recording());
  EXPECT_EQ(post_chat(r.port(), chat_saying(1), {{"x-squall-request-id", "1"}}).status, 503);
  std::this_thread::sleep_for(std::chrono::milliseconds(600));
  EXPECT_EQ(post_chat(r.port(), chat_saying(1), {{"x-squall-request-id", "1"}}).status, 200) << "the window is over";

  r.server.restart_timeline();
  EXPECT_EQ(post_chat(r.port(), chat_saying(1), {{"x-squall-request-id", "1"}}).status, 503) << "inside the window again";
  const std::vector<upstream_attempt> log = r.server.take_attempts();
  ASSERT_EQ(log.size(), 1U) << "the attempts before the restart are gone";
  EXPECT_EQ(log[0].attempt, 1U) << "the attempt counts restarted too";
  EXPECT_EQ(log[0].status, 503);
  EXPECT_LT(log[0].arrived_ms, 500);
  const upstream_log_counts n = r.server.attempt_counts();
  EXPECT_EQ(n.discarded_by_restart, 2U);
  EXPECT_EQ(n.recorded, 1U);
}

TEST(FakeServerAttempts, RestartTimelineClosesTheListenerForARefuseWindowAtZero) {
  sim::provider_config cfg = openai_config();
  sim::fault_window w = window(0, 0.3);
  w.outage = sim::outage_kind::refuse;
  cfg.faults = {w};
  running r({cfg}, recording());
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  EXPECT_EQ(post_chat(r.port(), chat_saying(1)).status, 200);
  r.server.restart_timeline();
  EXPECT_EQ(testing::connect_error(r.port()), boost::asio::error::connection_refused);
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  EXPECT_EQ(post_chat(r.port(), chat_saying(1)).status, 200) << "the listener is back when the window ends";
}

TEST(FakeServerAttempts, RestartTimelineRefillsTheRateLimits) {
  sim::provider_config cfg = openai_config();
  cfg.rpm = 2;
  running r({cfg}, recording());
  EXPECT_EQ(post_chat(r.port(), chat_saying(1)).status, 200);
  EXPECT_EQ(post_chat(r.port(), chat_saying(1)).status, 200);
  EXPECT_EQ(post_chat(r.port(), chat_saying(1)).status, 429);
  r.server.restart_timeline();
  EXPECT_EQ(post_chat(r.port(), chat_saying(1)).status, 200);
}

TEST(FakeServerAttempts, ARequestInFlightAcrossARestartIsAnsweredAndItsRecordDiscarded) {
  sim::provider_config cfg = openai_config();
  cfg.ttft_ms = sim::distribution::constant(400);
  running r({cfg}, recording());
  std::thread slow([&] { EXPECT_EQ(post_chat(r.port(), chat_saying(1)).status, 200); });
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  r.server.restart_timeline();
  slow.join();
  EXPECT_TRUE(r.server.take_attempts().empty());
  EXPECT_EQ(r.server.attempt_counts().discarded_by_restart, 1U);
}

TEST(FakeServerAttempts, BeyondTheCapAttemptsAreServedAndCounted) {
  server_options o = recording();
  o.recorded_attempts_max = 2;
  running r({openai_config()}, o);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(post_chat(r.port(), chat_saying(1)).status, 200);
  EXPECT_EQ(r.server.take_attempts().size(), 2U);
  EXPECT_EQ(post_chat(r.port(), chat_saying(1)).status, 200);
  EXPECT_EQ(r.server.take_attempts().size(), 1U) << "taking made room";
  const upstream_log_counts n = r.server.attempt_counts();
  EXPECT_EQ(n.recorded, 3U);
  EXPECT_EQ(n.not_recorded, 1U);
}

TEST(FakeServerAttempts, NothingIsRecordedWhenRecordingIsOff) {
  running r({openai_config()});
  EXPECT_EQ(post_chat(r.port(), chat_saying(1, "[squall:1]"), {{"x-squall-request-id", "2"}}).status, 200);
  EXPECT_TRUE(r.server.take_attempts().empty());
  const upstream_log_counts n = r.server.attempt_counts();
  EXPECT_EQ(n.recorded, 0U);
  EXPECT_EQ(n.not_recorded, 0U);
}

TEST(FakeServerAttempts, TheLogOutlivesStop) {
  running r({openai_config()}, recording());
  EXPECT_EQ(post_chat(r.port(), chat_saying(1)).status, 200);
  r.server.stop();
  EXPECT_EQ(r.server.take_attempts().size(), 1U);
  r.server.restart_timeline();  // a no-op once stopped
  EXPECT_EQ(r.server.attempt_counts().recorded, 1U);
}

}  // namespace
}  // namespace squall::fake
