#include "sim/metrics/traffic_tables.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "policies/core/payload.hpp"

namespace squall::sim {
namespace {

outcome failed_with(outcome_class kind, int status) {
  outcome o = outcome::failure(kind);
  o.http_status = status;
  o.provider = "p";
  o.model = "m";
  return o;
}

TEST(ErrorTable, CountsRequestsAndAttemptsApartWithFirstAndLastTimes) {
  error_table t;
  const outcome o = failed_with(outcome_class::overloaded, 503);
  t.record_attempt(o, "p", "m", 21.5);
  t.record_attempt(o, "p", "m", 20.25);
  t.record_request(o, 30.0);
  const auto rows = t.rows();
  ASSERT_EQ(rows.size(), 1U);
  EXPECT_EQ(rows[0].requests, 1U);
  EXPECT_EQ(rows[0].attempts, 2U);
  EXPECT_EQ(rows[0].first_s, 20.25);
  EXPECT_EQ(rows[0].last_s, 30.0);
  EXPECT_EQ(rows[0].provider, "p");
  EXPECT_EQ(rows[0].model, "m");
}

TEST(ErrorTable, KeepsAtMostItsRowsAndSumsTheRestInOtherLast) {
  error_table t;
  // Statuses 400..459: 60 ways of failing, the later ones more frequent.
  for (int k = 0; k < 60; ++k) {
    const outcome o = failed_with(outcome_class::server_error, 400 + k);
    for (int n = 0; n <= k; ++n) t.record_request(o, static_cast<double>(k));
  }
  const auto rows = t.rows();
  ASSERT_EQ(rows.size(), error_table::rows_max + 1);
  EXPECT_TRUE(rows.back().other);
  std::uint64_t other = 0;
  for (int k = 50; k < 60; ++k) other += static_cast<std::uint64_t>(k + 1);
  EXPECT_EQ(rows.back().requests, other);
  EXPECT_EQ(rows.back().first_s, 50.0);
  EXPECT_EQ(rows.back().last_s, 59.0);
  // The kept rows, most requests first.
  EXPECT_EQ(rows[0].http_status, 449);
  for (std::size_t i = 1; i + 1 < rows.size(); ++i) EXPECT_GE(rows[i - 1].requests, rows[i].requests);
}

TEST(ErrorTable, TiesAreOrderedByKeySoTheOrderIsTheSameEveryTime) {
  error_table a, b;
  const outcome x = failed_with(outcome_class::timeout, 0);
  const outcome y = failed_with(outcome_class::rate_limited, 429);
  a.record_request(x, 1);
  a.record_request(y, 2);
  b.record_request(y, 2);
  b.record_request(x, 1);
  ASSERT_EQ(a.rows().size(), 2U);
  EXPECT_EQ(a.rows()[0].kind, outcome_class::rate_limited);  // declared before timeout
  EXPECT_EQ(b.rows()[0].kind, a.rows()[0].kind);
}

TEST(ErrorTable, MessagesAreCutOnACharacterBoundary) {
  error_table t;
  outcome o = failed_with(outcome_class::invalid_request, 400);
  auto answer = std::make_shared<answer_payload>();
  answer->error_type = "invalid_request_error";
  for (int i = 0; i < 100; ++i) answer->error_message += "\xC3\xA9";  // é, two bytes each
  o.answer = answer;
  t.record_request(o, 1);
  const auto rows = t.rows();
  ASSERT_EQ(rows.size(), 1U);
  EXPECT_LE(rows[0].message.size(), error_table::message_bytes_max);
  EXPECT_EQ(rows[0].message.rfind("invalid_request_error: ", 0), 0U) << rows[0].message;
  // Marked as cut, with no half character before the mark: the bytes between come in whole pairs.
  ASSERT_GE(rows[0].message.size(), 26U);
  EXPECT_EQ(rows[0].message.substr(rows[0].message.size() - 3), "...");
  EXPECT_EQ((rows[0].message.size() - std::string("invalid_request_error: ").size() - 3) % 2, 0U);
}

TEST(TrafficTable, CountsEveryAttemptOnceAndSumsPastItsRowsInOther) {
  traffic_table t;
  outcome ok;
  ok.cost_usd = 0.5;
  traffic_row& r = t.row("p", "m");
  traffic_table::record(r, &ok, from_ms(100));
  const outcome bad = failed_with(outcome_class::overloaded, 503);
  traffic_table::record(r, &bad, from_ms(10));
  traffic_table::record(r, nullptr, duration::zero());
  EXPECT_EQ(&t.row("p", "m"), &r);
  EXPECT_EQ(r.attempts, 3U);
  EXPECT_EQ(r.successes, 1U);
  EXPECT_EQ(r.failures, 1U);
  EXPECT_EQ(r.cancelled, 1U);
  EXPECT_EQ(r.cost_usd, 0.5);
  EXPECT_EQ(r.latency.count(), 2U) << "a cancelled attempt has no latency";
  for (std::size_t i = 0; i < traffic_table::rows_max + 5; ++i) traffic_table::record(t.row("q", std::to_string(i)), nullptr, {});
  const auto rows = t.rows();
  ASSERT_EQ(rows.size(), traffic_table::rows_max + 1);
  EXPECT_TRUE(rows.back()->other);
  EXPECT_EQ(rows.back()->attempts, 6U);  // rows_max - 1 "q" rows fit after "p"; six did not
}

}  // namespace
}  // namespace squall::sim
