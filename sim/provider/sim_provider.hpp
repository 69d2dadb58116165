#pragma once
// The simulated provider: the provider model run on a runtime's timers (the simulation's event loop).
// It is a transport-level handler: each start() is one attempt that reached the provider.
//
//  - Randomness is counter-based: attempt n of request i draws from a generator seeded with
//    mix_seed(mix_seed(seed, i), n), so the same attempt draws the same error and latency under every
//    policy configuration (common random numbers), whatever happened before it.
//  - Capacity: `slots` attempts in service, then a bounded FIFO queue, then load is shed (503 for an
//    OpenAI-style provider, 529 for an Anthropic-style one).
//  - Work on abandoned attempts goes on: an attempt cancelled while queued or in service keeps its place
//    until its service ends, as on a real server that never learns the client left. It is billed, and the
//    bill is reported to the listener. A hung attempt that is cancelled is freed at once.
//  - Outages and injected errors apply to attempts when they arrive; work already admitted finishes.
//  - Network ("network": {"rtt_ms"}): an attempt travels half its drawn round trip before it arrives
//    (admission, rate limits, the queue and fault windows all see it then) and its answer or error half
//    on the way back. The legs hold no slot and no window or slowdown stretches them. An attempt
//    cancelled on its way there never arrives; one cancelled on the way back is dropped (its work
//    billed, unseen, as any abandoned work).
//
// Attempt objects come from a pool owned by the provider (no allocation once the pool has grown to the
// peak concurrency). The destructor cancels the provider's timers and frees every attempt, so a run may
// end with work in flight and the runtime may outlive the provider. The provider reads the call context
// only inside start(); receivers must stay alive until they are answered or cancel.

#include <cstdint>
#include <string_view>
#include <vector>

#include "policies/core/call.hpp"
#include "policies/core/free_list_pool.hpp"
#include "policies/core/rng.hpp"
#include "policies/core/runtime.hpp"
#include "sim/metrics/histogram.hpp"
#include "sim/provider/provider_config.hpp"
#include "sim/provider/provider_model.hpp"

namespace squall::sim {

// Hears about what no caller receives. Called from the runtime's timer callbacks; must not call back
// into the provider.
class provider_listener {
 public:
  // An abandoned attempt finished its service and was billed `usd`, though nobody received the answer.
  // Also called from cancel() when an answer on its way back over the network is dropped.
  virtual void on_abandoned_billed(double usd) = 0;

 protected:
  ~provider_listener() = default;
};

// Counters since construction. An attempt cancelled on its way to the provider (cancelled_in_transit)
// never arrives. Each arrival ends in exactly one of: served, shed, rate_limited,
// injected_errors, unknown_model, refused, handshake_failed, reset, hung (or is still queued / in service / answering).
struct provider_stats {
  std::uint64_t arrivals = 0;
  std::uint64_t served = 0;           // completed service (delivered or abandoned)
  std::uint64_t shed = 0;             // no slot and a full queue: 503 / 529
  std::uint64_t rate_limited = 0;     // server rate limit: 429
  std::uint64_t injected_errors = 0;  // from the baseline or a window's error mix
  std::uint64_t unknown_model = 0;    // 404
  std::uint64_t refused = 0;          // outage "refuse"
  std::uint64_t handshake_failed = 0; // outage "handshake"
  std::uint64_t reset = 0;            // outage "reset"
  std::uint64_t hung = 0;             // outage "hang" (freed when cancelled)
  std::uint64_t abandoned = 0;        // served, billed, but cancelled by the caller before the answer
  std::uint64_t wire_faults = 0;      // served, billed, but the answer broke on the wire (malformed,
                                      // stream cut, error event): the caller got an error
  std::uint64_t content_faults = 0;   // served and delivered ok, but with a content fault (empty,
                                      // truncated, invalid JSON): the outcome carries the flaw
  std::uint64_t cancelled = 0;        // attempts the caller cancelled, in any state
  std::uint64_t cancelled_in_transit = 0;  // of those, cancelled on the network before they arrived
  double billed_usd = 0.0;            // every served attempt, delivered or abandoned
  double abandoned_usd = 0.0;         // the abandoned part of billed_usd
  std::uint64_t service_started = 0;
  std::uint64_t service_waited = 0;   // service starts that waited in the queue at all (> 0)
  duration queue_wait_total{};        // sum over service starts of (service start - arrival)
};

class sim_provider final : public handler {
 public:
  // `config` is copied; outcome strings point into the copy and live as long as the provider.
  // `seed` is the provider's stream seed, the same for every policy configuration of a run.
  // Scenario time 0 (the origin of fault windows) is `clock.now()` at construction.
  sim_provider(runtime& clock, const provider_config& config, std::uint64_t seed,
               provider_listener* listener = nullptr);
  ~sim_provider() override;
  sim_provider(const sim_provider&) = delete;
  sim_provider& operator=(const sim_provider&) = delete;

  operation& start(const call_scope& scope, outcome_receiver& receiver) override;

  std::string_view name() const noexcept { return model_.config().name; }
  const provider_config& config() const noexcept { return model_.config(); }
  provider_model& model() noexcept { return model_; }
  void set_listener(provider_listener* listener) noexcept { listener_ = listener; }

  std::uint32_t busy() const noexcept { return busy_; }
  std::size_t queue_depth() const noexcept { return queue_size_; }
  std::size_t hung() const noexcept { return hung_; }
  // Attempts occupying the provider: in service, queued, or hung.
  std::size_t in_flight() const noexcept { return busy_ + queue_size_ + hung_; }
  // Attempts alive in any state, error answers on their way included.
  std::size_t live_attempts() const noexcept { return pool_.in_use(); }
  const provider_stats& stats() const noexcept { return stats_; }
  // Queue wait of every service start (0 for one that found a free slot), in microseconds: a fixed-size
  // histogram, so that its percentiles cost no memory that grows with the run.
  const histogram& queue_wait_us() const noexcept { return queue_wait_us_; }

 private:
  // outbound: on the network towards the provider; returning: served, its answer (or, with a pending
  // wire_timer, the news of a broken stream) on the network back to the client.
  enum class state : std::uint8_t { free, outbound, answering, hung, queued, in_service, returning };

  struct attempt final : operation, timer_target {
    void cancel() noexcept override { owner->cancel_attempt(*this); }
    void on_timer(std::uint32_t cookie) override { owner->on_attempt_timer(*this, cookie); }

    sim_provider* owner = nullptr;
    outcome_receiver* receiver = nullptr;  // null once the caller abandoned the attempt
    attempt* next_free = nullptr;
    timer_id timer{};
    timer_id wire_timer{};                 // a stream_cut / error_event striking mid-service
    time_point sent{};                     // when the client sent it: latencies count from here
    time_point arrival{};                  // when it reached the provider: queue waits count from here
    duration leg{};                        // one way of its network round trip (zero without "network")
    request held;                          // outbound: what admission reads on arrival (no payload)
    std::uint32_t attempt_number = 0;      // outbound: the call's attempt count, for admission
    outcome reply;                         // returning: the answer on its way back
    duration ttft{};                       // round trip + queue wait + scaled time to first token
    attempt_draws draws{};
    std::optional<duration> retry_after;
    std::uint32_t input_tokens = 0;
    std::uint32_t output_tokens = 0;
    std::uint32_t model_index = 0;
    std::uint32_t batch_size = 1;          // > 1 for a batching policy's call: priced with batch_discount
    int http_status = 0;
    outcome_class cls = outcome_class::ok;
    wire_fault wire = wire_fault::none;
    content_fault content = content_fault::none;
    std::uint32_t timeline = 0;            // admission::timeline: the scope whose window sets the factors
    bool wire_pending = false;             // wire_timer is running
    bool wire_struck = false;              // the caller was told of a stream_cut / error_event
    bool has_model = false;
    state st = state::free;
  };

  attempt& allocate();
  void release(attempt& a) noexcept;
  // The attempt reaches the provider: admission, then capacity.
  void arrive(attempt& a, const request& req, std::uint32_t attempt_number);
  // An error answer leaves after `delay` (and its way back).
  void answer_after(attempt& a, duration delay);
  // A served attempt's answer (ok or broken) goes back to the client, over the network when there is one.
  void send_back(attempt& a, outcome o);
  void deliver_reply(attempt& a);
  void start_service(attempt& a);
  void finish_service(attempt& a);
  void deliver_error(attempt& a);
  // The per-minute limits a real provider states in its headers (on answers and on 429s), as the fake
  // providers send them; traces keep them.
  void set_limits(outcome& o) const noexcept;
  void on_attempt_timer(attempt& a, std::uint32_t cookie);
  void strike_wire_fault(attempt& a);
  void cancel_attempt(attempt& a) noexcept;
  void push_queue(attempt* a);
  attempt* pop_queue() noexcept;

  runtime& clock_;
  provider_model model_;
  std::uint64_t seed_;
  provider_listener* listener_;
  rng rng_;  // reseeded per attempt

  free_list_pool<attempt> pool_;  // bounded by peak concurrency

  // The FIFO queue: a ring that grows by doubling up to the configured bound.
  std::vector<attempt*> ring_;
  std::size_t queue_head_ = 0;
  std::size_t queue_size_ = 0;

  std::uint32_t busy_ = 0;
  std::size_t hung_ = 0;
  provider_stats stats_;
  histogram queue_wait_us_;
};

}  // namespace squall::sim
