#pragma once
// Providers and a running server for the fake-provider tests: quick latencies, an OpenAI-style provider
// with a chat and an embeddings model, an Anthropic-style one, servers on loopback port 0.
#include <gtest/gtest.h>

#include <utility>
#include <vector>

#include "fake_providers/fake_server.hpp"
#include "tests/support/http_test_client.hpp"

namespace squall::fake::testing {

inline sim::provider_config openai_config() {
  sim::provider_config c;
  c.name = "openai";
  c.api = "openai";
  c.models = {{"gpt-4o-mini", sim::model_price{0.15, 0.60}}, {"text-embedding-3-small", sim::model_price{0.02, 0}}};
  c.ttft_ms = sim::distribution::constant(20);
  c.ms_per_output_token = sim::distribution::constant(1);
  c.error_latency_ms = sim::distribution::constant(5);
  c.slots = 64;
  c.queue = 256;
  return c;
}

inline sim::provider_config anthropic_config() {
  sim::provider_config c = openai_config();
  c.name = "anthropic";
  c.api = "anthropic";
  c.models = {{"claude-sonnet-4", sim::model_price{3, 15}}};
  return c;
}

struct running {
  explicit running(std::vector<sim::provider_config> configs, server_options o = {}) : server(std::move(configs), o) {
    const auto e = server.start();
    EXPECT_FALSE(e) << *e;
  }
  std::uint16_t port(std::size_t i = 0) const { return server.endpoints().at(i).port; }
  fake_server server;
};

// Arms a fault window through the control API (POST /squall/faults).
inline reply arm(std::uint16_t port, const nlohmann::json& fault) {
  client c(port);
  return c.post("/squall/faults", fault);
}

// A chat completion request body for the test providers' gpt-4o-mini.
inline nlohmann::json chat(std::uint32_t max_tokens, bool stream = false, bool usage = false) {
  nlohmann::json b = {{"model", "gpt-4o-mini"},
            {"messages", nlohmann::json::array({{{"role", "user"}, {"content", "one two three four five"}}})},
            {"max_tokens", max_tokens}};
  if (stream) b["stream"] = true;
  if (usage) b["stream_options"] = {{"include_usage", true}};
  return b;
}

// A messages request body for the test providers' claude-sonnet-4.
inline nlohmann::json message(std::uint32_t max_tokens, bool stream = false) {
  nlohmann::json b = {{"model", "claude-sonnet-4"},
            {"system", "be brief"},
            {"messages", nlohmann::json::array({{{"role", "user"}, {"content", nlohmann::json::array({{{"type", "text"}, {"text", "a b c"}}})}}})},
            {"max_tokens", max_tokens}};
  if (stream) b["stream"] = true;
  return b;
}

}  // namespace squall::fake::testing
