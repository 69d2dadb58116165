#pragma once
// The client's telemetry: counts the policies' events and the calls' results, and writes them with the
// transport's counters and the policies' gauges in the Prometheus text exposition format (0.0.4).
// Names follow Prometheus conventions: snake_case, a squall_ prefix, base units (seconds, dollars),
// _total for counters. Lives on the client's I/O thread: nothing here locks.
//
//   squall_client_calls_total{provider,model,outcome}       calls by final outcome ("degraded" for one)
//   squall_client_call_duration_seconds{provider}           histogram, from call() to the result
//   squall_client_attempts_total{provider}                  attempts that reached the transport
//   squall_client_cost_usd_total{provider,model}            billed, over all attempts
//   squall_client_tokens_total{provider,model,direction}    input and output tokens of the results
//   squall_client_in_flight                                  calls accepted and not yet answered
//   squall_policy_events_total{policy,event}                every policy event (policies/core/events.hpp)
//   squall_policy_<gauge>{policy}                            gauges: state, tokens_available, entries, ...
//   squall_http_*                                            the transport's connections and attempts

#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "policies/core/events.hpp"
#include "policies/http/http_transport.hpp"

namespace squall {

struct client_result;
struct policy_gauge;

class client_metrics final : public event_sink {
 public:
  void on_policy_event(const policy_event& event) override;
  void on_result(const client_result& r);

  std::string render(const http_transport_stats& transport, std::size_t open_connections,
                     std::size_t idle_connections, std::size_t in_flight,
                     const std::vector<policy_gauge>& gauges) const;

  // Latency buckets, in seconds: from a cache hit to a long generation.
  static constexpr std::array<double, 12> buckets_s = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                                       0.5,   1.0,  2.5,   5.0,  10.0, 30.0};

 private:
  struct latency_histogram {
    std::array<std::uint64_t, buckets_s.size()> at_most{};  // cumulative when written
    std::uint64_t count = 0;
    double sum_s = 0.0;
  };
  struct model_totals {
    double cost_usd = 0.0;
    std::uint64_t input_tokens = 0;
    std::uint64_t output_tokens = 0;
  };

  // Bounded by what the configuration names: policies, providers and models are finite; outcome
  // classes are 12. Unknown models beyond the transport's interned ones are reported as "".
  std::map<std::string, std::array<std::uint64_t, policy_event_kind_count>, std::less<>> events_;
  std::map<std::tuple<std::string, std::string, std::string>, std::uint64_t> calls_;
  std::map<std::string, latency_histogram> latency_;
  std::map<std::string, std::uint64_t> attempts_;
  std::map<std::pair<std::string, std::string>, model_totals> models_;
};

}  // namespace squall
