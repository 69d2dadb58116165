// squall::client against real loopback servers: the provider's exact text reaches the caller, with the
// policy file's behaviour; cancellation, reload, drain, the in-flight limit, gauges, Prometheus metrics and
// the coroutine form.

#include "client/client.hpp"

#include <gtest/gtest.h>

#include <coroutine>
#include <exception>
#include <future>
#include <thread>

#include "tests/support/canned_http_server.hpp"

namespace squall {
namespace {

using testing::canned_http_server;
using testing::canned_reply;
using testing::http_response;
using testing::received_request;

std::string openai_answer(const std::string& text) {
  return R"({"id":"chatcmpl-5","object":"chat.completion","model":"gpt-4o-mini","choices":[{"index":0,)"
         R"("message":{"role":"assistant","content":")" + text + R"("},"finish_reason":"stop"}],)"
         R"("usage":{"prompt_tokens":3,"completion_tokens":2}})";
}

client_options options_for(const std::string& base_url, const char* policy) {
  client_options o;
  o.policy = json::parse(policy);
  o.transport.endpoints.push_back({"openai", api_kind::openai, base_url, "sk-test", false});
  o.transport.prices.push_back({"openai", "gpt-4o-mini", 0.15, 0.60, 0.0});
  o.seed = 7;
  return o;
}

std::unique_ptr<client> make(const client_options& o) {
  auto made = client::create(o);
  EXPECT_TRUE(made) << (made ? "" : made.error().describe());
  return made ? std::move(made.value()) : nullptr;
}

chat_call question(const std::string& text = "Capital of France?") {
  chat_call c;
  c.model = "gpt-4o-mini";
  c.messages = {{"user", text}};
  return c;
}

constexpr const char* retry_timeout_breaker = R"({"name":"production","policies":[
  {"type":"timeout","timeout_ms":5000},
  {"type":"retry","attempts_max":3,"delay_ms_base":1,"jitter":"none"},
  {"type":"circuit_breaker","name":"breaker"}]})";

TEST(client, the_providers_exact_text_reaches_the_caller_through_the_policies) {
  std::atomic<int> seen{0};
  canned_http_server server([&](const received_request&) {
    // The first attempt fails: the policy file's retry must answer it.
    if (seen.fetch_add(1) == 0) return canned_reply{}.write(http_response(503, "Service Unavailable", "{}"));
    return canned_reply{}.write(http_response(200, "OK", openai_answer("Paris, of course.")));
  });
  auto c = make(options_for(server.base_url(), retry_timeout_breaker));
  ASSERT_TRUE(c);
  const client_result r = c->call(question()).get();
  EXPECT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(r.text(), "Paris, of course.");
  EXPECT_EQ(r.attempts, 2U);
  EXPECT_EQ(r.provider, "openai");
  EXPECT_EQ(r.model, "gpt-4o-mini");
  EXPECT_GT(r.cost_usd, 0.0);
  EXPECT_EQ(c->policy_name(), "production");
  EXPECT_EQ(server.requests().at(1).header("x-squall-request-id"), "") << "no harness headers in production";
}

TEST(client, a_bad_policy_is_refused_at_create_naming_the_path) {
  auto made = client::create(options_for("http://127.0.0.1:1/v1", R"({"policies":[{"type":"retry","attempts_max":0}]})"));
  ASSERT_FALSE(made);
  EXPECT_NE(made.error().describe().find("$.policies[0].attempts_max"), std::string::npos) << made.error().describe();
  client_options none = options_for("http://127.0.0.1:1/v1", "{}");
  none.policy.reset();
  EXPECT_FALSE(client::create(none)) << "neither a document nor a file";
}

TEST(client, provider_errors_arrive_with_their_message) {
  canned_http_server server([](const received_request&) {
    return canned_reply{}.write(http_response(400, "Bad Request",
                                              R"({"error":{"message":"max_tokens is too large","type":"invalid_request_error"}})"));
  });
  auto c = make(options_for(server.base_url(), retry_timeout_breaker));
  const client_result r = c->call(question()).get();
  EXPECT_EQ(r.kind, outcome_class::invalid_request);
  EXPECT_EQ(r.error(), "max_tokens is too large");
  EXPECT_EQ(r.attempts, 1U) << "never retried: the same request fails the same way";
}

TEST(client, a_cancelled_call_answers_cancelled_once) {
  canned_http_server server([](const received_request&) { return canned_reply{}.hang(); });
  auto c = make(options_for(server.base_url(), R"({"policies":[]})"));
  std::promise<client_result> got;
  std::atomic<int> calls{0};
  call_handle h = c->call(question(), [&](client_result r) {
    if (calls.fetch_add(1) == 0) got.set_value(std::move(r));
  });
  while (server.requests().empty()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  h.cancel();
  h.cancel();
  const client_result r = got.get_future().get();
  EXPECT_EQ(r.kind, outcome_class::cancelled);
  c->drain(std::chrono::milliseconds(0));
  EXPECT_EQ(calls.load(), 1);
}

TEST(client, reload_lets_calls_in_flight_finish_on_the_old_policies) {
  canned_http_server server([](const received_request&) {
    return canned_reply{}.write(http_response(200, "OK", openai_answer("late")), 300);
  });
  auto c = make(options_for(server.base_url(), R"({"name":"patient","policies":[{"type":"timeout","timeout_ms":10000}]})"));
  std::future<client_result> before = c->call(question());
  while (server.requests().empty()) std::this_thread::sleep_for(std::chrono::milliseconds(1));

  const auto refused = c->reload(json::parse(R"({"policies":[{"type":"timeout","timeout_ms":-1}]})"));
  ASSERT_TRUE(refused);
  EXPECT_NE(refused->describe().find("$.policies[0].timeout_ms"), std::string::npos) << refused->describe();
  EXPECT_EQ(c->policy_name(), "patient") << "a refused reload changes nothing";

  ASSERT_FALSE(c->reload(json::parse(R"({"name":"impatient","policies":[{"type":"timeout","timeout_ms":50}]})")));
  EXPECT_EQ(c->policy_name(), "impatient");
  const client_result after = c->call(question()).get();
  EXPECT_EQ(after.kind, outcome_class::timeout) << "the new policy: 50 ms";
  const client_result old = before.get();
  EXPECT_TRUE(old.ok()) << "the old policy's 10 s timeout let it finish: " << old.error();
  EXPECT_EQ(old.text(), "late");
}

TEST(client, drain_waits_then_cancels_and_refuses_new_calls) {
  canned_http_server server([](const received_request& req) {
    if (req.body.find("quick") != std::string::npos) {
      return canned_reply{}.write(http_response(200, "OK", openai_answer("quick")), 50);
    }
    return canned_reply{}.hang();
  });
  auto c = make(options_for(server.base_url(), R"({"policies":[]})"));
  std::future<client_result> quick = c->call(question("quick"));
  std::vector<std::future<client_result>> stuck;
  for (int i = 0; i < 3; ++i) stuck.push_back(c->call(question("stuck")));
  while (server.requests().size() < 4) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  EXPECT_EQ(c->in_flight(), 4U);
  EXPECT_EQ(c->drain(std::chrono::milliseconds(500)), 3U);
  EXPECT_TRUE(quick.get().ok()) << "finished within the grace period";
  for (auto& f : stuck) EXPECT_EQ(f.get().kind, outcome_class::cancelled);
  EXPECT_EQ(c->call(question()).get().kind, outcome_class::rejected) << "drained: no new calls";
  EXPECT_EQ(c->drain(), 0U) << "idempotent";
}

TEST(client, calls_beyond_in_flight_max_are_rejected_at_once) {
  canned_http_server server([](const received_request&) { return canned_reply{}.hang(); });
  client_options o = options_for(server.base_url(), R"({"policies":[]})");
  o.in_flight_max = 2;
  auto c = make(o);
  auto a = c->call(question());
  auto b = c->call(question());
  const client_result third = c->call(question()).get();
  EXPECT_EQ(third.kind, outcome_class::rejected);
  EXPECT_EQ(third.decided_by, "client");
  EXPECT_EQ(c->drain(std::chrono::milliseconds(0)), 2U);
  EXPECT_EQ(a.get().kind, outcome_class::cancelled);
  EXPECT_EQ(b.get().kind, outcome_class::cancelled);
}

TEST(client, gauges_and_prometheus_metrics_show_the_breaker_opening) {
  canned_http_server server([](const received_request&) {
    return canned_reply{}.write(http_response(500, "Internal Server Error", R"({"error":{"message":"boom","type":"server_error"}})"));
  });
  auto c = make(options_for(server.base_url(), R"({"policies":[
    {"type":"circuit_breaker","name":"breaker","calls_min":4,"window_size":4,"open_ms":60000}]})"));
  for (int i = 0; i < 6; ++i) c->call(question()).get();
  const std::vector<policy_gauge> g = c->gauges();
  ASSERT_FALSE(g.empty());
  EXPECT_EQ(g[0].policy, "breaker");
  EXPECT_EQ(g[0].name, "state");
  EXPECT_EQ(g[0].value, 1.0) << "open";
  const std::string text = c->metrics_text();
  EXPECT_NE(text.find("squall_client_calls_total{provider=\"openai\",model=\"gpt-4o-mini\",outcome=\"server_error\"} 4"),
            std::string::npos) << text;
  EXPECT_NE(text.find("outcome=\"circuit_open\"} 2"), std::string::npos) << text;
  EXPECT_NE(text.find("squall_policy_events_total{policy=\"breaker\",event=\"breaker_opened\"} 1"), std::string::npos);
  EXPECT_NE(text.find("squall_policy_state{policy=\"breaker\"} 1"), std::string::npos);
  EXPECT_NE(text.find("# TYPE squall_client_call_duration_seconds histogram"), std::string::npos);
  EXPECT_NE(text.find("squall_client_call_duration_seconds_count{provider=\"openai\"} 6"), std::string::npos);
  EXPECT_NE(text.find("squall_http_attempts_total 4"), std::string::npos);
}

// A minimal coroutine type: runs eagerly, keeps its result in a promise.
struct task {
  struct promise_type {
    std::promise<client_result> result;
    task get_return_object() { return task{result.get_future()}; }
    std::suspend_never initial_suspend() noexcept { return {}; }
    std::suspend_never final_suspend() noexcept { return {}; }
    void return_value(client_result r) { result.set_value(std::move(r)); }
    void unhandled_exception() { result.set_exception(std::current_exception()); }
  };
  std::future<client_result> done;
};

task ask(client& c) {
  client_result first = co_await c.co_call(question("one"));
  client_result second = co_await c.co_call(question("two"));
  second.input_tokens += first.input_tokens;
  co_return second;
}

TEST(client, the_coroutine_form_awaits_each_call) {
  canned_http_server server([](const received_request& req) {
    return canned_reply{}.write(http_response(200, "OK", openai_answer(req.body.find("two") != std::string::npos ? "2" : "1")));
  });
  auto c = make(options_for(server.base_url(), R"({"policies":[]})"));
  const client_result r = ask(*c).done.get();
  EXPECT_EQ(r.text(), "2");
  EXPECT_EQ(r.input_tokens, 6U) << "both answers' usage";
}

}  // namespace
}  // namespace squall
