// The provider model's decisions for the fault timeline's issue-16 additions, and the simulated
// provider's outcomes for them: scopes, error kinds (classified as production classifies their wire
// answers), first_n and attempts, content faults, token_x and the handshake outage.
#include <gtest/gtest.h>

#include "policies/core/classify.hpp"
#include "sim/provider/provider_model.hpp"
#include "sim/provider/sim_provider.hpp"
#include "tests/sim/provider/provider_test_support.hpp"

namespace squall::sim {
namespace {

using namespace std::chrono_literals;
using testing::client;
using testing::simple_config;
using testing::window;

request timeline_request(std::string model = "m") {
  request r;
  r.model = std::move(model);
  r.input_tokens = 10;
  r.output_tokens = 10;
  return r;
}

time_point timeline_at(double s) { return time_point{from_s(s)}; }

attempt_draws draws(double error_u = 0.5, double wire_u = 0.5) {
  attempt_draws d;
  d.error_u = error_u;
  d.wire_u = wire_u;
  d.ttft_ms = 100;
  d.ms_per_output_token = 10;
  return d;
}

TEST(TimelineModel, AScopedWindowAppliesOnlyToItsModelsAndEndpoints) {
  provider_config c = simple_config();
  fault_window big_out = window(0, 60);
  big_out.models = {"big"};
  big_out.outage = outage_kind::refuse;
  fault_window m_out = window(0, 30);  // overlaps in time: another model
  m_out.models = {"m"};
  m_out.endpoints = {endpoint_kind::embeddings};
  m_out.outage = outage_kind::reset;
  c.faults = {big_out, m_out};
  provider_model model(c);
  EXPECT_EQ(model.admit(timeline_at(10), timeline_request("big"), draws()).kind, admission_kind::refuse);
  EXPECT_EQ(model.admit(timeline_at(10), timeline_request("m"), draws()).kind, admission_kind::serve) << "chat: not in m_out's scope";
  EXPECT_EQ(model.admit(timeline_at(10), timeline_request("m"), draws(), 1, endpoint_kind::embeddings).kind, admission_kind::reset);
  EXPECT_EQ(model.window_at(timeline_at(10)), nullptr) << "a connection, before any request, meets no scoped window";
  EXPECT_EQ(model.window_at(timeline_at(10), 1, endpoint_kind::chat), &model.config().faults[0]);
  // Recovery per model: m_out is over at 30 s, big_out still holds.
  EXPECT_EQ(model.admit(timeline_at(40), timeline_request("m"), draws(), 1, endpoint_kind::embeddings).kind, admission_kind::serve);
  EXPECT_EQ(model.admit(timeline_at(40), timeline_request("big"), draws()).kind, admission_kind::refuse);
  EXPECT_EQ(model.admit(timeline_at(60), timeline_request("big"), draws()).kind, admission_kind::serve);
}

TEST(TimelineModel, AnUnknownModelMeetsOnlyWindowsWithoutModels) {
  provider_config c = simple_config();
  fault_window w = window(0, 60);
  w.models = {"m"};
  w.outage = outage_kind::hang;
  c.faults = {w};
  provider_model model(c);
  EXPECT_EQ(model.admit(timeline_at(1), timeline_request("nope"), draws()).kind, admission_kind::unknown_model);
}

TEST(TimelineModel, ErrorKindsCarryTheirKindAndProductionsClass) {
  struct expectation {
    error_kind kind;
    int status;
    outcome_class cls;
  };
  const expectation cases[] = {
      {error_kind::overloaded_529, 529, outcome_class::overloaded},
      {error_kind::overloaded_500, 500, outcome_class::server_error},  // 500 api_error: the status decides
      {error_kind::rate_limit_account, 429, outcome_class::rate_limited},
      {error_kind::rate_limit_temporary, 429, outcome_class::rate_limited},
      {error_kind::insufficient_quota, 429, outcome_class::quota},
  };
  for (const expectation& e : cases) {
    provider_config c = simple_config();
    fault_window w = window(0, 60);
    w.errors = {injected_error{e.status, 1.0, e.kind}};
    c.faults = {w};
    provider_model model(c);
    const admission a = model.admit(timeline_at(1), timeline_request(), draws());
    EXPECT_EQ(a.kind, admission_kind::injected);
    EXPECT_EQ(a.error, e.kind);
    EXPECT_EQ(a.http_status, e.status);
    EXPECT_EQ(a.cls, e.cls) << info(e.kind)->name;
    EXPECT_EQ(a.cls, classify_http(e.status, info(e.kind)->classified_as)) << "what the HTTP transport would say";
  }
}

TEST(TimelineModel, FirstNCountsTheAttemptsInItsScopeThenIsOver) {
  provider_config c = simple_config();
  fault_window w = window(10, 60);
  w.errors = {{429, 1.0}};
  w.first_n = 3;
  w.models = {"m"};
  c.faults = {w};
  provider_model model(c);
  EXPECT_EQ(model.admit(timeline_at(5), timeline_request(), draws()).kind, admission_kind::serve) << "before the window: not counted";
  EXPECT_EQ(model.admit(timeline_at(11), timeline_request("big"), draws()).kind, admission_kind::serve) << "out of scope: not counted";
  for (int i = 0; i < 3; ++i) EXPECT_EQ(model.admit(timeline_at(12), timeline_request(), draws()).http_status, 429) << i;
  EXPECT_EQ(model.admit(timeline_at(13), timeline_request(), draws()).kind, admission_kind::serve) << "the fourth is served";
  EXPECT_EQ(model.window_at(timeline_at(13), 0, endpoint_kind::chat), nullptr) << "the window is over";
}

TEST(TimelineModel, AttemptsFailsEachRequestsFirstKAttempts) {
  provider_config c = simple_config();
  c.errors = {{500, 0.0}};
  fault_window w = window(0, 60);
  w.errors = {{503, 1.0}};
  w.attempts = 2;
  c.faults = {w};
  provider_model model(c);
  EXPECT_EQ(model.admit(timeline_at(1), timeline_request(), draws(), 1).http_status, 503);
  EXPECT_EQ(model.admit(timeline_at(1), timeline_request(), draws(), 2).http_status, 503);
  EXPECT_EQ(model.admit(timeline_at(1), timeline_request(), draws(), 3).kind, admission_kind::serve);
  EXPECT_EQ(model.admit(timeline_at(2), timeline_request(), draws(), 1).http_status, 503) << "every request, not the first N";
}

TEST(TimelineModel, ContentFaultsFollowTheWireFaultsOnOneDraw) {
  provider_config c = simple_config();
  fault_window w = window(0, 60);
  w.wire.malformed = 0.1;
  w.content = {0.2, 0.3, 0.3};  // empty, truncated, invalid_json: with the wire fault, up to 0.9
  c.faults = {w};
  provider_model model(c);
  EXPECT_EQ(model.admit(timeline_at(1), timeline_request(), draws(0.5, 0.05)).wire, wire_fault::malformed);
  EXPECT_EQ(model.admit(timeline_at(1), timeline_request(), draws(0.5, 0.15)).content, content_fault::empty);
  EXPECT_EQ(model.admit(timeline_at(1), timeline_request(), draws(0.5, 0.35)).content, content_fault::truncated);
  EXPECT_EQ(model.admit(timeline_at(1), timeline_request(), draws(0.5, 0.75)).content, content_fault::invalid_json);
  const admission clean = model.admit(timeline_at(1), timeline_request(), draws(0.5, 0.999));
  EXPECT_EQ(clean.content, content_fault::none);
  EXPECT_EQ(clean.wire, wire_fault::none);
}

TEST(TimelineModel, TokenXStretchesThePerTokenTimeOnly) {
  provider_config c = simple_config();
  fault_window w = window(0, 60);
  w.token_x = 5;
  w.endpoints = {endpoint_kind::chat};
  c.faults = {w};
  provider_model model(c);
  const admission a = model.admit(timeline_at(1), timeline_request(), draws());
  const service_factors f = model.factors_at(timeline_at(1), a.timeline);
  EXPECT_EQ(f.token_x, 5);
  EXPECT_EQ(model.factors_at(timeline_at(1)).token_x, 1) << "the unscoped view has no window";
  const service_plan p = model.plan_service(draws(), 10, f.latency_x, 1, f.ttft_x, f.token_x);
  EXPECT_EQ(p.ttft, 100ms) << "the first token as usual";
  EXPECT_EQ(p.total, 100ms + 10 * 10ms * 5);
}

TEST(TimelineSimProvider, ContentFaultsAreOkAnswersMarkedWithTheirFlaw) {
  const std::pair<double, content_flaw> cases[] = {{0, content_flaw::empty}, {1, content_flaw::truncated},
                                                   {2, content_flaw::invalid_json}};
  for (const auto& [which, flaw] : cases) {
    provider_config c = simple_config();
    fault_window w = window(0, 100);
    (which == 0 ? w.content.empty : which == 1 ? w.content.truncated : w.content.invalid_json) = 1.0;
    c.faults = {w};
    event_loop loop;
    sim_provider p(loop, c, 5);
    client cl(loop, 1, 40);
    cl.send(p);
    loop.run();
    ASSERT_EQ(cl.received, 1);
    EXPECT_EQ(cl.got->kind, outcome_class::ok);
    EXPECT_TRUE(cl.got->ok());
    EXPECT_EQ(cl.got->flaw, flaw);
    EXPECT_EQ(p.stats().content_faults, 1U);
    if (flaw == content_flaw::truncated) {
      EXPECT_EQ(cl.got->output_tokens, 20U) << "cut halfway through its tokens";
      EXPECT_EQ(cl.got->latency, 100ms + 20 * 10ms);
    } else {
      EXPECT_EQ(cl.got->output_tokens, 40U);
      EXPECT_EQ(cl.got->latency, 100ms + 40 * 10ms);
    }
  }
}

TEST(TimelineSimProvider, AHandshakeFailureIsAConnectionErrorAsFastAsARefusal) {
  provider_config c = simple_config();
  fault_window w = window(0, 100);
  w.outage = outage_kind::handshake;
  c.faults = {w};
  event_loop loop;
  sim_provider p(loop, c, 5);
  client cl(loop, 1, 40);
  cl.send(p);
  loop.run();
  ASSERT_EQ(cl.received, 1);
  EXPECT_EQ(cl.got->kind, outcome_class::connection_error);
  EXPECT_EQ(cl.got->latency, provider_model::refuse_latency);
  EXPECT_EQ(p.stats().handshake_failed, 1U);
  EXPECT_EQ(p.stats().refused, 0U);
}

TEST(TimelineSimProvider, AttemptsUsesTheCallsAttemptNumber) {
  provider_config c = simple_config();
  fault_window w = window(0, 100);
  w.errors = {injected_error{429, 1.0, error_kind::rate_limit_temporary}};
  w.attempts = 1;
  c.faults = {w};
  event_loop loop;
  sim_provider p(loop, c, 5);
  client cl(loop, 1, 4);
  cl.send(p);
  loop.run();
  EXPECT_EQ(cl.got->kind, outcome_class::rate_limited);
  cl.send(p);  // attempt 2
  loop.run();
  EXPECT_EQ(cl.got->kind, outcome_class::ok);
}

TEST(TimelineSimProvider, TokenXSlowsTheStreamNotItsFirstToken) {
  provider_config c = simple_config();
  fault_window w = window(0, 100);
  w.token_x = 3;
  c.faults = {w};
  event_loop loop;
  sim_provider p(loop, c, 5);
  client cl(loop, 1, 10);
  cl.send(p);
  loop.run();
  EXPECT_EQ(cl.got->time_to_first_token, 100ms);
  EXPECT_EQ(cl.got->latency, 100ms + 10 * 10ms * 3);
}

}  // namespace
}  // namespace squall::sim
