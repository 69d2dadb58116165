// The fallback chain with "breaker": Portkey's per-target circuit breaker instead of the cooldown and
// probes. Sequences worked out by hand from Portkey's gateway 2.2.3 (handlerUtils.ts tryTargetsRecursively,
// utils/circuitBreaker.ts): open targets are filtered out when the request starts, all of them are used
// when all are open, and an open target closes by itself cooldown_ms after its first failure.

#include "policies/fallback/fallback.hpp"

#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "tests/policies/fallback/routed_providers.hpp"

namespace squall {
namespace {

using testing::routed_rig;

fallback_endpoint breaker_endpoint(std::string provider, std::string model) {
  fallback_endpoint e{std::move(provider), std::move(model), {}};
  e.name = e.provider + "/" + e.model;
  return e;
}

// openai/gpt-4o, then anthropic/claude, then local/llama; a target opens at its second failure and is
// forgotten 30 s after its first.
fallback_options chain_with_breaker() {
  fallback_options o;
  o.endpoints = {breaker_endpoint("openai", "gpt-4o"), breaker_endpoint("anthropic", "claude"),
                 breaker_endpoint("local", "llama")};
  target_breaker_options b;
  b.failures_to_open = 2;
  b.cooldown_ms = 30000.0;
  o.breaker = b;
  return o;
}

struct breaker_chain_rig : routed_rig<fallback_handler> {
  explicit breaker_chain_rig(const fallback_options& o) : routed_rig(o, "fb") {}

  outcome call(std::uint64_t id) {
    auto p = begin(id, time_never, 0);
    return finish(*p);
  }
  std::vector<std::string> served_since(std::size_t from) const {
    return {providers.served.begin() + static_cast<std::ptrdiff_t>(from), providers.served.end()};
  }
};

TEST(fallback_breaker, an_open_endpoint_is_skipped_until_cooldown_ms_after_its_first_failure) {
  breaker_chain_rig rig(chain_with_breaker());
  rig.providers.fails["openai/gpt-4o"] = outcome_class::server_error;
  EXPECT_EQ(rig.call(1).model, "claude");
  const time_point first_failure = rig.loop.now() - from_ms(10);  // the primary answered 10 ms before
  EXPECT_EQ(rig.call(2).model, "claude");
  EXPECT_EQ(rig.providers.served, (std::vector<std::string>{"openai/gpt-4o", "anthropic/claude", "openai/gpt-4o",
                                                            "anthropic/claude"}));
  ASSERT_EQ(rig.sink.count(policy_event_kind::endpoint_cooldown), 1U);

  // Open: the next calls start on the second endpoint; the skip is a fallback caused by circuit_open.
  rig.providers.fails.clear();  // the provider is fine now, but nobody probes it
  rig.sink.events.clear();
  std::size_t from = rig.providers.served.size();
  EXPECT_EQ(rig.call(3).model, "claude");
  EXPECT_EQ(rig.served_since(from), (std::vector<std::string>{"anthropic/claude"}));
  ASSERT_EQ(rig.sink.count(policy_event_kind::fallback_used), 1U);
  EXPECT_EQ(rig.sink.events[0].cause, outcome_class::circuit_open);

  // A call starting exactly 30 s after the first failure still skips it.
  rig.loop.run_until(first_failure + from_ms(30000));
  from = rig.providers.served.size();
  EXPECT_EQ(rig.call(4).model, "claude");
  EXPECT_EQ(rig.served_since(from), (std::vector<std::string>{"anthropic/claude"}));

  // One nanosecond later it is closed, with its counts forgotten: the primary serves again.
  rig.loop.run_until(first_failure + from_ms(30000) + duration{1});
  rig.sink.events.clear();
  from = rig.providers.served.size();
  EXPECT_EQ(rig.call(5).model, "gpt-4o");
  EXPECT_EQ(rig.served_since(from), (std::vector<std::string>{"openai/gpt-4o"}));
  EXPECT_EQ(rig.sink.count(policy_event_kind::endpoint_recovered), 1U);
}

TEST(fallback_breaker, the_open_set_is_fixed_when_the_call_starts) {
  fallback_options o = chain_with_breaker();
  o.breaker->failures_to_open = 1;
  breaker_chain_rig rig(o);
  rig.providers.fails["anthropic/claude"] = outcome_class::server_error;
  rig.providers.fails["openai/gpt-4o"] = outcome_class::server_error;
  // Both fail in this call and open during it; the call still goes on to the third endpoint.
  EXPECT_EQ(rig.call(1).model, "llama");
  EXPECT_EQ(rig.providers.served,
            (std::vector<std::string>{"openai/gpt-4o", "anthropic/claude", "local/llama"}));
  std::size_t from = rig.providers.served.size();
  EXPECT_EQ(rig.call(2).model, "llama");
  EXPECT_EQ(rig.served_since(from), (std::vector<std::string>{"local/llama"}));
}

TEST(fallback_breaker, when_every_endpoint_is_open_the_call_goes_through_all_of_them) {
  fallback_options o = chain_with_breaker();
  o.breaker->failures_to_open = 1;
  breaker_chain_rig rig(o);
  for (const char* name : {"openai/gpt-4o", "anthropic/claude", "local/llama"}) {
    rig.providers.fails[name] = outcome_class::overloaded;
  }
  EXPECT_EQ(rig.call(1).kind, outcome_class::overloaded);
  EXPECT_EQ(rig.sink.count(policy_event_kind::endpoint_cooldown), 3U);
  const std::size_t from = rig.providers.served.size();
  const outcome o2 = rig.call(2);
  EXPECT_EQ(o2.kind, outcome_class::overloaded) << "the last endpoint's failure, not circuit_open";
  EXPECT_EQ(rig.served_since(from),
            (std::vector<std::string>{"openai/gpt-4o", "anthropic/claude", "local/llama"}));
}

TEST(fallback_breaker, a_failure_not_in_fallback_on_still_counts_for_the_breaker) {
  fallback_options o = chain_with_breaker();
  o.fallback_on = outcome_class_set{outcome_class::overloaded};
  o.breaker->failures_to_open = 1;
  breaker_chain_rig rig(o);
  rig.providers.fails["openai/gpt-4o"] = outcome_class::server_error;
  EXPECT_EQ(rig.call(1).kind, outcome_class::server_error) << "not a fallback class: delivered";
  EXPECT_EQ(rig.sink.count(policy_event_kind::endpoint_cooldown), 1U) << "but a 500 for the breaker";
  EXPECT_EQ(rig.call(2).model, "claude");
}

TEST(fallback_breaker, without_the_key_the_cooldown_and_probes_are_unchanged) {
  fallback_options o = chain_with_breaker();
  o.breaker.reset();
  o.failures_to_cooldown = 2;
  o.cooldown_ms = 30000.0;
  breaker_chain_rig rig(o);
  rig.providers.fails["openai/gpt-4o"] = outcome_class::server_error;
  rig.call(1);
  rig.call(2);
  EXPECT_EQ(rig.policy.state(0), endpoint_state::cooling);
}

std::optional<config_error> read_fallback_breaker_json(const std::string& text, fallback_options& o) {
  const json j = json::parse(text);
  json_reader reader(j, "$.policies[0]");
  read_fallback_options(reader, o);
  return reader.finish();
}

TEST(fallback_breaker, the_breaker_key_is_read_and_refuses_the_cooldown_keys_beside_it) {
  fallback_options o;
  ASSERT_FALSE(read_fallback_breaker_json(
      R"({"endpoints": [{"provider": "a"}], "breaker": {"failure_percent_to_open": 20, "requests_min": 10}})", o));
  ASSERT_TRUE(o.breaker);
  EXPECT_EQ(o.breaker->failure_percent_to_open, 20.0);
  EXPECT_EQ(o.breaker->requests_min, 10U);
  for (const char* key : {"failures_to_cooldown", "cooldown_ms", "probe_calls", "when_all_cooling"}) {
    fallback_options bad;
    const std::string value = std::string(key) == "when_all_cooling" ? "\"fail\"" : "2";
    const auto e = read_fallback_breaker_json(R"({"endpoints": [{"provider": "a"}], "breaker": {"failures_to_open": 1}, ")" +
                                                  std::string(key) + "\": " + value + "}",
                                              bad);
    ASSERT_TRUE(e) << key;
    EXPECT_EQ(e->path, "$.policies[0]." + std::string(key));
    EXPECT_NE(e->message.find("breaker"), std::string::npos) << e->message;
  }
  fallback_options bad;
  const auto e = read_fallback_breaker_json(R"({"endpoints": [{"provider": "a"}], "breaker": {"cooldown_ms": 5}})", bad);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->path, "$.policies[0].breaker");
}

}  // namespace
}  // namespace squall
