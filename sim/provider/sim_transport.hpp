#pragma once
// The simulation's transport: the handler at the bottom of every pipeline. It routes each attempt to the
// provider named by the request (empty: the default provider), counts the attempt on the call, and adds
// the delivered attempt's cost to the call's bill. A request naming no known provider fails with
// invalid_request, answered from a zero-delay timer (never from inside start()).
//
// Routes are set up before the run; routing a call does not allocate (a linear scan over a handful of
// names). Per-attempt relay objects come from a pool. Destroy the transport only when its runtime no
// longer runs: attempts still in flight then belong to the providers, which free their own.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "policies/core/call.hpp"
#include "policies/core/free_list_pool.hpp"
#include "policies/core/runtime.hpp"

namespace squall::sim {

class sim_transport final : public handler {
 public:
  explicit sim_transport(runtime& clock) : clock_(clock) {}
  ~sim_transport() override;
  sim_transport(const sim_transport&) = delete;
  sim_transport& operator=(const sim_transport&) = delete;

  // Calls for provider `name` go to `target`, which must outlive the transport. The first route added is
  // the default unless another is made the default.
  void add_route(std::string name, handler& target, bool is_default = false);

  operation& start(const call_scope& scope, outcome_receiver& receiver) override;

  std::size_t live_relays() const noexcept { return pool_.in_use(); }
  std::uint64_t unroutable() const noexcept { return unroutable_; }

 private:
  struct route {
    std::string name;
    handler* target;
  };

  struct relay final : operation, outcome_receiver, timer_target {
    void on_outcome(outcome&& result) override { owner->forward(*this, std::move(result)); }
    void cancel() noexcept override { owner->cancel_relay(*this); }
    void on_timer(std::uint32_t) override { owner->answer_unroutable(*this); }

    sim_transport* owner = nullptr;
    call_context* call = nullptr;
    outcome_receiver* receiver = nullptr;
    operation* inner = nullptr;  // null while answering an unroutable call
    timer_id timer{};
    relay* next_free = nullptr;
    bool live = false;
  };

  handler* find(std::string_view name) const noexcept;
  relay& allocate();
  void release(relay& r) noexcept;
  void forward(relay& r, outcome&& result);
  void cancel_relay(relay& r) noexcept;
  void answer_unroutable(relay& r);

  runtime& clock_;
  std::vector<route> routes_;
  handler* default_ = nullptr;
  free_list_pool<relay> pool_;
  std::uint64_t unroutable_ = 0;
};

}  // namespace squall::sim
