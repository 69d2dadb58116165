// squall::client called from many threads at once against squall's fake provider (in-process, loopback):
// every call gets exactly one result, the counts add up, and ThreadSanitizer (scripts/test.sh runs this
// suite under it) finds no race between the callers, the I/O thread and reloads.

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "client/client.hpp"
#include "fake_providers/fake_server.hpp"

namespace squall {
namespace {

sim::provider_config instant_provider() {
  sim::provider_config cfg;
  cfg.name = "openai";
  cfg.models = {{"gpt-4o-mini", sim::model_price{0.15, 0.60}}};
  cfg.ttft_ms = sim::distribution::constant(0);
  cfg.ms_per_output_token = sim::distribution::constant(0);
  cfg.error_latency_ms = sim::distribution::constant(0);
  cfg.slots = 100000;
  cfg.queue = 0;
  return cfg;
}

TEST(client_threads, eight_threads_of_ten_thousand_calls_each_all_answered) {
  fake::fake_server server({instant_provider()});
  ASSERT_FALSE(server.start());
  client_options o;
  o.policy = json::parse(R"({"name":"production","policies":[
    {"type":"timeout","timeout_ms":20000},
    {"type":"retry","attempts_max":3,"delay_ms_base":1},
    {"type":"circuit_breaker"},
    {"type":"timeout","timeout_ms":5000}]})");
  o.transport.endpoints.push_back({"openai", api_kind::openai, server.endpoints()[0].base_url, "sk", false});
  o.transport.prices.push_back({"openai", "gpt-4o-mini", 0.15, 0.60, 0.0});
  o.transport.connections_max = 64;
  auto made = client::create(o);
  ASSERT_TRUE(made) << made.error().describe();
  client& c = *made.value();

  constexpr int threads = 8;
  constexpr int calls_per_thread = 10000;
  constexpr int window = 64;  // each thread keeps at most this many calls outstanding
  std::atomic<int> ok{0}, failed{0}, answered{0};
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      std::atomic<int> outstanding{0};
      for (int i = 0; i < calls_per_thread; ++i) {
        while (outstanding.load() >= window) std::this_thread::yield();
        ++outstanding;
        chat_call q;
        q.model = "gpt-4o-mini";
        q.max_tokens = 4;
        q.cacheable = false;
        q.messages = {{"user", "thread " + std::to_string(t) + " call " + std::to_string(i)}};
        c.call(std::move(q), [&](client_result r) {
          ++(r.ok() && r.text().size() > 0 ? ok : failed);
          ++answered;
          --outstanding;
        });
      }
      while (outstanding.load() > 0) std::this_thread::yield();
    });
  }
  // Meanwhile: reloads and state reads from yet another thread.
  std::thread reader([&] {
    for (int i = 0; i < 20 && answered.load() < threads * calls_per_thread; ++i) {
      EXPECT_FALSE(c.reload(*o.policy));
      EXPECT_FALSE(c.gauges().empty());
      EXPECT_NE(c.metrics_text().find("squall_client_calls_total"), std::string::npos);
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  });
  for (auto& th : pool) th.join();
  reader.join();
  EXPECT_EQ(answered.load(), threads * calls_per_thread);
  EXPECT_EQ(ok.load(), threads * calls_per_thread);
  EXPECT_EQ(failed.load(), 0);
  EXPECT_EQ(c.in_flight(), 0U);
  EXPECT_NE(c.metrics_text().find("outcome=\"ok\"} 80000"), std::string::npos);
  EXPECT_EQ(c.drain(), 0U);
}

}  // namespace
}  // namespace squall
