// Live mode against canned servers on loopback port 0: the counts a short run must give, the same
// requests as the simulation, the policies driven on the real clock, the caps, the stop flag, and the
// refusal of targets that are not loopback.

#include "sim/live/live_run.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <set>
#include <thread>

#include "reports/results.hpp"
#include "sim/run/summary.hpp"
#include "sim/workload/request_factory.hpp"
#include "tests/support/canned_http_server.hpp"

namespace squall::sim {
namespace {

using testing::canned_http_server;
using testing::canned_reply;
using testing::http_response;
using testing::received_request;

const std::string openai_ok = R"({"id":"c","object":"chat.completion","model":"gpt-4o-mini",
  "choices":[{"index":0,"message":{"role":"assistant","content":"ok"},"finish_reason":"stop"}],
  "usage":{"prompt_tokens":100,"completion_tokens":10,"total_tokens":110}})";

// Fifty requests in one second (a constant process offers exactly duration x rate), one provider.
scenario make_scenario(const std::string& policies = R"({"name": "none", "policies": []})",
                       const std::string& arrivals = R"({"process": "constant", "rate_per_s": 50})",
                       double duration_s = 1) {
  const json doc = json::parse(R"({
    "name": "live-test", "seed": 7, "duration_s": )" + std::to_string(duration_s) + R"(, "drain_s": 5,
    "providers": { "openai": { "api": "openai",
      "models": { "gpt-4o-mini": { "usd_per_mtok_in": 0.15, "usd_per_mtok_out": 0.60 } } } },
    "workload": { "arrivals": )" + arrivals + R"(, "model": "gpt-4o-mini",
      "input_tokens": { "dist": "uniform", "min": 10, "max": 60 }, "output_tokens": 10 },
    "policies": { "config": )" + policies + R"( } })");
  auto s = parse_scenario(doc, ".");
  EXPECT_TRUE(s) << (s ? "" : s.error().describe());
  return std::move(s.value());
}

live_options options_for(const canned_http_server& server) {
  live_options o;
  o.targets.push_back({"openai", server.base_url()});
  o.stream = false;
  return o;
}

TEST(live_run, a_short_run_against_a_loopback_server_gives_the_expected_counts) {
  canned_http_server server([](const received_request&) { return canned_reply{}.write(http_response(200, "OK", openai_ok)); });
  const scenario s = make_scenario();
  auto r = run_live_configuration(s, 0, 7, options_for(server));
  ASSERT_TRUE(r) << r.error().describe();
  const run_metrics& m = *r->metrics;
  EXPECT_EQ(m.offered(), 50U);
  EXPECT_EQ(m.completed(), 50U);
  EXPECT_EQ(m.succeeded(), 50U);
  EXPECT_EQ(m.unfinished(), 0U);
  EXPECT_EQ(m.shed(), 0U);
  EXPECT_EQ(server.requests().size(), 50U);
  EXPECT_NEAR(m.cost_usd(), 50 * (100 * 0.15 + 10 * 0.60) / 1e6, 1e-12);
  EXPECT_FALSE(r->incomplete);
  EXPECT_GE(r->simulated_s, 0.98) << "arrivals span the scenario's second of real time";
  EXPECT_LT(r->simulated_s, 5.0) << "the run ends when the last answer is in, not after the drain";
  EXPECT_LT(server.connections(), 50) << "keep-alive connections are reused";
  EXPECT_FALSE(m.series().empty());
}

TEST(live_run, sends_the_simulations_requests_with_their_ids_and_sizes) {
  canned_http_server server([](const received_request&) { return canned_reply{}.write(http_response(200, "OK", openai_ok)); });
  const scenario s = make_scenario();
  ASSERT_TRUE(run_live_configuration(s, 0, 7, options_for(server)));
  const configuration_result simulated = run_configuration(s, 0, 7);
  EXPECT_EQ(simulated.metrics->offered(), 50U) << "the simulation offers the same number";

  request_factory factory(s.workload, stream_seed(7, "workload/requests"));
  std::set<std::uint64_t> ids;
  for (const auto& req : server.requests()) {
    const std::uint64_t id = std::stoull(req.header("x-squall-request-id"));
    ids.insert(id);
    request expected;
    factory.fill(expected, id, time_point{});
    EXPECT_EQ(req.header("x-squall-input-tokens"), std::to_string(expected.input_tokens)) << "request " << id;
    const auto body = nlohmann::json::parse(req.body);
    EXPECT_EQ(body["max_tokens"], expected.output_tokens);
    EXPECT_EQ(body["model"], expected.model);
  }
  EXPECT_EQ(ids.size(), 50U);
  EXPECT_EQ(*ids.begin(), 1U);
  EXPECT_EQ(*ids.rbegin(), 50U);
}

TEST(live_run, the_pipeline_retries_a_429_on_the_real_clock) {
  canned_http_server server([](const received_request& req) {
    if (req.header("x-squall-attempt") == "1") {
      return canned_reply{}.write(http_response(429, "Too Many Requests",
                                                R"({"error":{"type":"requests","code":"rate_limit_exceeded"}})",
                                                {{"retry-after-ms", "5"}}));
    }
    return canned_reply{}.write(http_response(200, "OK", openai_ok));
  });
  const scenario s = make_scenario(R"({"name": "retry", "policies": [
      {"type": "retry", "attempts_max": 3, "backoff": "constant", "delay_ms_base": 1, "jitter": "none"}]})");
  auto r = run_live_configuration(s, 0, 7, options_for(server));
  ASSERT_TRUE(r) << r.error().describe();
  EXPECT_EQ(r->metrics->succeeded(), 50U);
  EXPECT_EQ(r->metrics->attempts(), 100U);
  EXPECT_EQ(r->metrics->retries(), 50U);
  EXPECT_EQ(server.requests().size(), 100U);
}

TEST(live_run, the_attempts_side_of_the_error_and_traffic_tables_is_measured_live_too) {
  canned_http_server server([](const received_request& req) {
    if (req.header("x-squall-attempt") == "1") {
      return canned_reply{}.write(http_response(429, "Too Many Requests",
                                                R"({"error":{"type":"requests","code":"rate_limit_exceeded"}})",
                                                {{"retry-after-ms", "5"}}));
    }
    return canned_reply{}.write(http_response(200, "OK", openai_ok));
  });
  const scenario s = make_scenario(R"({"name": "retry", "policies": [
      {"type": "retry", "attempts_max": 3, "backoff": "constant", "delay_ms_base": 1, "jitter": "none"}]})");
  auto r = run_live_configuration(s, 0, 7, options_for(server));
  ASSERT_TRUE(r) << r.error().describe();
  const run_metrics& m = *r->metrics;
  const auto traffic = m.traffic().rows();
  ASSERT_EQ(traffic.size(), 1U);
  EXPECT_EQ(traffic[0]->provider, "openai");
  EXPECT_EQ(traffic[0]->model, "gpt-4o-mini");
  EXPECT_EQ(traffic[0]->attempts, m.attempts());
  EXPECT_EQ(traffic[0]->successes, 50U);
  EXPECT_EQ(traffic[0]->failures, 50U);
  EXPECT_EQ(traffic[0]->latency.count(), 100U);
  const auto errors = m.errors().rows();
  ASSERT_EQ(errors.size(), 1U);
  EXPECT_EQ(errors[0].kind, outcome_class::rate_limited);
  EXPECT_EQ(errors[0].http_status, 429);
  EXPECT_EQ(errors[0].provider, "openai");
  EXPECT_EQ(errors[0].attempts, 50U);
  EXPECT_EQ(errors[0].requests, 0U) << "every request was retried to a success";
  EXPECT_LE(errors[0].first_s, errors[0].last_s);
  EXPECT_LE(errors[0].last_s, r->simulated_s);
}

TEST(live_run, latency_counts_from_the_intended_send_time) {
  canned_http_server server([](const received_request&) {
    return canned_reply{}.write(http_response(200, "OK", openai_ok), 30);
  });
  const scenario s = make_scenario(R"({"name": "none", "policies": []})", R"({"process": "constant", "rate_per_s": 20})");
  live_options o = options_for(server);
  o.in_flight_max = 1;  // the generator cannot keep up: arrivals due while one is in flight are shed
  auto r = run_live_configuration(s, 0, 7, o);
  ASSERT_TRUE(r) << r.error().describe();
  EXPECT_GE(r->metrics->latency().min(), 30000U) << "microseconds: never less than the server's delay";
  EXPECT_EQ(r->metrics->offered(), 20U);
  EXPECT_EQ(r->metrics->completed() + r->metrics->shed(), 20U);
  EXPECT_EQ(server.connections(), 1) << "one request in flight at a time needs one connection";
}

TEST(live_run, requests_wait_for_a_connection_when_the_pool_is_full) {
  canned_http_server server([](const received_request&) {
    return canned_reply{}.write(http_response(200, "OK", openai_ok), 30);
  });
  // 50 a second answered after 30 ms: two in flight at times, with only one connection to send them on.
  const scenario s = make_scenario(R"({"name": "none", "policies": []})", R"({"process": "constant", "rate_per_s": 50})");
  live_options o = options_for(server);
  o.connections_per_target_max = 1;
  auto r = run_live_configuration(s, 0, 7, o);
  ASSERT_TRUE(r) << r.error().describe();
  EXPECT_EQ(r->metrics->completed(), 50U) << "none is shed or lost while waiting";
  EXPECT_EQ(r->metrics->succeeded(), 50U);
  EXPECT_EQ(server.connections(), 1);
  EXPECT_GE(r->metrics->latency().max(), 2 * 30000U) << "microseconds: some waited for the one connection";

  o.connections_per_target_max = 0;
  auto refused = run_live_configuration(s, 0, 7, o);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().path, "connections_per_target_max");
}

TEST(live_run, the_request_cap_stops_arrivals_and_marks_the_result_incomplete) {
  canned_http_server server([](const received_request&) { return canned_reply{}.write(http_response(200, "OK", openai_ok)); });
  const scenario s = make_scenario();
  live_options o = options_for(server);
  o.requests_max = 10;
  auto r = run_live_configuration(s, 0, 7, o);
  ASSERT_TRUE(r) << r.error().describe();
  EXPECT_EQ(r->metrics->offered(), 10U);
  EXPECT_EQ(r->metrics->completed(), 10U);
  EXPECT_TRUE(r->incomplete);
  EXPECT_NE(r->incomplete_reason.find("requests_max"), std::string::npos);
}

TEST(live_run, the_stop_flag_ends_the_run_cleanly_and_marks_it_incomplete) {
  canned_http_server server([](const received_request&) { return canned_reply{}.hang(); });
  const scenario s = make_scenario(R"({"name": "none", "policies": []})", R"({"process": "constant", "rate_per_s": 50})", 60);
  live_options o = options_for(server);
  std::atomic<bool> stop{false};
  o.stop = &stop;
  std::thread stopper([&] {
    while (server.requests().size() < 3) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    stop = true;  // as a SIGINT handler would
  });
  auto r = run_live_configuration(s, 0, 7, o);
  stopper.join();
  ASSERT_TRUE(r) << r.error().describe();
  EXPECT_TRUE(r->incomplete);
  EXPECT_EQ(r->incomplete_reason, "stopped by the user");
  EXPECT_GE(r->metrics->unfinished(), 3U) << "the hung requests were cancelled and counted";
  EXPECT_EQ(r->metrics->completed(), 0U);
  EXPECT_LT(r->simulated_s, 30.0) << "stopped long before the scenario's minute";

  // The results document says so.
  std::vector<configuration_result> results;
  results.push_back(std::move(r.value()));
  const std::vector<summary> summaries = {summarize(results[0])};
  const std::vector<assertion_result> verdicts;
  const json doc = reports::results_document({s, 7, "live", "squall run x --mode live", results, summaries, verdicts});
  EXPECT_EQ(doc["mode"], "live");
  EXPECT_EQ(doc["configurations"][0]["incomplete"], true);
  EXPECT_EQ(doc["configurations"][0]["incomplete_reason"], "stopped by the user");
}

TEST(live_run, targets_that_are_not_loopback_are_refused_unless_allowed) {
  const scenario s = make_scenario();
  live_options o;
  o.targets.push_back({"openai", "http://10.1.2.3:8080/v1"});
  auto error = check_live_options(s, o);
  ASSERT_TRUE(error);
  EXPECT_EQ(error->path, "--target openai");
  EXPECT_NE(error->message.find("--allow-remote"), std::string::npos) << error->message;
  EXPECT_NE(error->message.find("not a loopback address"), std::string::npos);
  auto run = run_live_configuration(s, 0, 7, o);
  EXPECT_FALSE(run) << "the run itself refuses too";

  o.allow_remote = true;
  EXPECT_FALSE(check_live_options(s, o)) << "allowed explicitly (only checked here: no load is sent)";

  for (const char* loopback : {"http://127.0.0.1:1/v1", "http://127.9.9.9:1", "http://[::1]:1", "http://localhost:1"}) {
    live_options ok;
    ok.targets.push_back({"openai", loopback});
    EXPECT_FALSE(check_live_options(s, ok)) << loopback;
  }
}

TEST(live_run, targets_must_cover_the_scenarios_providers_exactly) {
  const scenario s = make_scenario();
  live_options none;
  auto missing = check_live_options(s, none);
  ASSERT_TRUE(missing);
  EXPECT_NE(missing->message.find("--target openai=http://127.0.0.1:PORT"), std::string::npos);

  live_options unknown;
  unknown.targets.push_back({"openai", "http://127.0.0.1:1"});
  unknown.targets.push_back({"anthropic", "http://127.0.0.1:2"});
  auto e = check_live_options(s, unknown);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->path, "--target anthropic");

  EXPECT_FALSE(parse_live_target("openai"));
  EXPECT_FALSE(parse_live_target("=http://x"));
  auto t = parse_live_target("openai=http://127.0.0.1:9/v1");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->provider, "openai");
  EXPECT_EQ(t->base_url, "http://127.0.0.1:9/v1");
}

}  // namespace
}  // namespace squall::sim
