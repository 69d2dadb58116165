#pragma once
// The provider model's decisions, apart from any clock. The simulated provider (virtual clock) and the
// HTTP fake providers (real clock) both ask this class what an attempt gets: which fault window is
// active, which error is injected, whether the server's rate limits let it in, whether a slot or the
// queue takes it, how long its service lasts, and what it costs. It never schedules anything: every
// call takes the current time (and the attempt's random draws) as arguments.
//
// Not thread-safe: the rate-limit buckets and the window cursor are state. A real-clock user serialises
// calls (one mutex around admit()).

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "policies/core/outcome.hpp"
#include "policies/core/request.hpp"
#include "policies/core/rng.hpp"
#include "policies/core/time.hpp"
#include "sim/provider/provider_config.hpp"

namespace squall::sim {

// The random quantities of one attempt. They are drawn all at once, in this fixed order, from the
// attempt's own generator, so an attempt's service time does not depend on whether it was errored
// elsewhere: under common random numbers, only the branch taken differs between configurations.
struct attempt_draws {
  double error_u = 1.0;              // uniform in [0, 1): picks the injected error, if any
  double ttft_ms = 0.0;              // time to first token before latency factors
  double ms_per_output_token = 0.0;
  double error_latency_ms = 0.0;     // how long an error answer takes
  double wire_u = 1.0;               // uniform in [0, 1): picks the wire fault, if any (drawn last, so
                                     // scenarios without wire faults draw exactly what they drew before)
  double network_rtt_ms = 0.0;       // the round trip to the provider; drawn after everything else and
                                     // only with a "network" key, so other scenarios draw as before
};

// What the provider does with an attempt when it arrives.
enum class admission_kind : std::uint8_t {
  serve,          // take it into service (subject to capacity)
  injected,       // answer with an error from the active error mix
  rate_limited,   // answer 429: a server rate-limit bucket is empty
  unknown_model,  // answer 404: the request names a model this provider does not serve
  refuse,         // outage: refuse the connection (or, outage "handshake", fail its handshake)
  reset,          // outage: accept, then reset the connection
  hang,           // outage: accept and never answer
};

struct admission {
  admission_kind kind = admission_kind::serve;
  int http_status = 0;                  // for the answered errors (injected, rate_limited, unknown_model)
  outcome_class cls = outcome_class::ok;
  std::optional<duration> retry_after;  // the server's hint, when it sends one
  std::uint32_t model_index = 0;        // index into config().models; valid unless unknown_model
  wire_fault wire = wire_fault::none;   // for kind == serve: what goes wrong on the wire of the answer
  content_fault content = content_fault::none;  // for kind == serve: what is wrong with the answer's content
  error_kind error = error_kind::status;        // for kind == injected: the exact answer to write
  outage_kind outage = outage_kind::none;       // for refuse / reset / hang: the window's outage
  std::uint32_t timeline = 0;           // the compiled timeline of the attempt's scope, for factors_at
};

enum class capacity_decision : std::uint8_t { start, enqueue, shed };

struct service_plan {
  duration ttft{};   // first token after service start, all factors applied
  duration total{};  // whole service time, all factors applied

  // Where a stream_cut or error_event strikes: halfway through the output tokens.
  duration wire_fault_at() const noexcept { return ttft + (total - ttft) / 2; }
};

// The latency factors of the window active when service starts.
struct service_factors {
  double latency_x = 1.0;
  double ttft_x = 1.0;
  double token_x = 1.0;
};

class provider_model {
 public:
  // Keeps its own copy of `config`: outcome strings (provider, model) point into it. `origin` is the
  // instant of scenario time 0, from which fault windows are counted.
  explicit provider_model(const provider_config& config, time_point origin = time_point{});
  provider_model(const provider_model&) = delete;
  provider_model& operator=(const provider_model&) = delete;

  const provider_config& config() const noexcept { return config_; }
  time_point origin() const noexcept { return origin_; }

  // Draws the attempt's random quantities in their fixed order.
  attempt_draws draw(rng& r) const noexcept;

  // The unscoped fault window (no "models", no "endpoints") active at `now` ([at_s, at_s + for_s) of
  // scenario time), or nullptr: what a connection meets before any request is read. Amortised O(1)
  // while `now` does not go backwards (a cursor per timeline), O(log n) when it does.
  const fault_window* window_at(time_point now) noexcept;
  // The window active at `now` for an attempt for model `model_index` (config().models.size() for a
  // model the provider does not serve) on `endpoint`; likewise amortised O(1).
  const fault_window* window_at(time_point now, std::uint32_t model_index, endpoint_kind endpoint) noexcept;
  double latency_x_at(time_point now) noexcept;
  service_factors factors_at(time_point now) noexcept;
  // The latency factors at `now` for an attempt admitted with admission::timeline `index` (its scope's).
  service_factors factors_at(time_point now, std::uint32_t index) noexcept;

  // The endpoint of the simulation's requests, which carry none: the API's chat endpoint.
  endpoint_kind chat_endpoint() const noexcept {
    return config_.api == "anthropic" ? endpoint_kind::messages : endpoint_kind::chat;
  }

  // Replaces the fault timeline (windows in scenario time, sorted or not; where two overlap the later
  // one wins from its start). The rate-limit buckets keep their levels: the fake providers' control API
  // arms faults on a running server.
  void set_faults(std::vector<fault_window> faults);

  // Decides what an arriving attempt gets, in the order a real server would: an outage first, then a
  // model it does not know, then an injected error (the active window's mix, else the baseline), then
  // the server's rate limits. An attempt that is served takes its tokens from the rate-limit buckets.
  // `attempt` is the request's attempt number (1 for its first), for windows with "attempts";
  // `endpoint` the endpoint it came to (none: the API's chat endpoint, as in the simulation). An
  // attempt in the scope of a window with "first_n" counts towards it.
  admission admit(time_point now, const request& req, const attempt_draws& draws, std::uint32_t attempt = 1,
                  std::optional<endpoint_kind> endpoint = std::nullopt) noexcept;

  // Where an admitted attempt goes, given the provider's current occupancy.
  capacity_decision place(std::uint32_t busy, std::size_t queued) const noexcept {
    if (busy < config_.slots) return capacity_decision::start;
    if (queued < config_.queue) return capacity_decision::enqueue;
    return capacity_decision::shed;
  }
  // The status with which the provider sheds load it has no room for.
  int shed_status() const noexcept { return shed_status_; }

  // Service time of an attempt that starts service with `busy` slots in use (itself included) under
  // the window factor `latency_x`: (ttft + tokens * ms_per_token) * latency_x * (1 + slowdown * busy/slots).
  // A window's ttft_x stretches the time to first token alone (and so the total by as much); its
  // token_x stretches the per-token time alone (a trickling stream: the first token as usual).
  service_plan plan_service(const attempt_draws& draws, std::uint32_t output_tokens, double latency_x,
                            std::uint32_t busy, double ttft_x = 1.0, double token_x = 1.0) const noexcept;
  duration error_latency(const attempt_draws& draws) const noexcept { return from_ms(draws.error_latency_ms); }
  // One way of the attempt's network round trip (half of it): zero without a "network" key.
  duration network_leg(const attempt_draws& draws) const noexcept { return from_ms(draws.network_rtt_ms / 2); }
  // A refused connection fails about as fast as a loopback round trip.
  static constexpr duration refuse_latency = std::chrono::milliseconds{1};

  // Index of `model` in config().models; an empty name means the first model. nullopt when unknown.
  std::optional<std::uint32_t> find_model(std::string_view model) const noexcept;
  std::string_view model_name(std::uint32_t index) const noexcept { return config_.models[index].first; }
  // A batched request (batch_size > 1, sent by a batching policy) gets the model's batch_discount.
  double cost_usd(std::uint32_t model_index, std::uint32_t input_tokens, std::uint32_t output_tokens,
                  std::uint32_t batch_size = 1) const noexcept;

  // Rate-limit buckets, for metrics and the fake providers' x-ratelimit-remaining headers.
  double requests_remaining(time_point now) noexcept;
  double tokens_remaining(time_point now) noexcept;

 private:
  struct mix_entry {
    double cumulative;  // probability that the draw lands at or before this entry
    int status;
    error_kind kind;
  };
  struct window {
    std::int64_t begin_ns;
    std::int64_t end_ns;
    std::uint32_t mix_begin;  // range in mixes_
    std::uint32_t mix_end;
    std::optional<duration> retry_after;
    const fault_window* source;
    std::uint32_t index;      // into arrivals_, for first_n
    wire_mix wire;
  };
  // The windows one scope sees, sorted and non-overlapping, with its cursor.
  struct timeline {
    std::vector<window> windows;
    std::size_t cursor = 0;  // first window that has not ended at the last asked time
  };
  // A token bucket holding up to one minute's worth, refilled continuously.
  struct bucket {
    double capacity = 0;
    double per_ns = 0;
    double level = 0;
    std::int64_t updated_ns = 0;
    bool enabled = false;

    void refill(std::int64_t now_ns) noexcept;
    // Time until `amount` is available, in ns (0 if it is).
    double wait_ns(double amount) const noexcept;
  };

  std::uint32_t compile_mix(const error_mix& mix);
  void compile_windows();
  // Timeline of the scope (model index, endpoint); the one after all of them holds the unscoped windows.
  std::uint32_t timeline_index(std::uint32_t model_index, endpoint_kind endpoint) const noexcept {
    return model_index * static_cast<std::uint32_t>(endpoint_count) + static_cast<std::uint32_t>(endpoint);
  }
  std::uint32_t unscoped_timeline() const noexcept {
    return static_cast<std::uint32_t>((config_.models.size() + 1) * endpoint_count);
  }
  const window* active(std::uint32_t timeline, std::int64_t now_ns) noexcept;

  provider_config config_;
  time_point origin_;
  int shed_status_;
  std::vector<mix_entry> mixes_;   // the baseline mix first, then each window's
  std::uint32_t baseline_end_ = 0;
  // One timeline per (model, endpoint) scope, models.size() + 1 of them per endpoint (the last for models
  // the provider does not serve), then the unscoped one: an attempt finds its window in amortised O(1)
  // however many scoped windows overlap in time.
  std::vector<timeline> timelines_;
  std::vector<std::uint64_t> arrivals_;  // per window (sorted order): attempts counted towards first_n
  bucket requests_;
  bucket tokens_;
};

}  // namespace squall::sim
