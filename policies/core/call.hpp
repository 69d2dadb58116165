#pragma once
// The call path. Every policy and every transport is a `handler`: it starts an operation for a call and
// later delivers exactly one outcome to the receiver it was given, unless the caller cancels first.
//
// Rules every handler keeps (they are what makes timeouts, hedging and teardown safe):
//  1. The outcome is never delivered from inside start(): a caller may start work while half-way
//     through its own bookkeeping (the same rule as Asio's completion handlers).
//  2. After operation::cancel() returns, the receiver is never called; the operation frees itself.
//  3. The operation reference is valid until the outcome is delivered or cancel() is called.
//  4. cancel() propagates: an operation cancels whatever inner work and timers it still holds.

#include <cstdint>
#include <string_view>

#include "policies/core/outcome.hpp"
#include "policies/core/request.hpp"
#include "policies/core/time.hpp"

namespace squall {

// What all layers of one logical call share. Owned by whoever starts the call; outlives its operation.
struct call_context {
  request req;
  time_point started_at{};
  std::uint32_t attempts = 0;  // attempts that reached the transport, counted by the transport
  double cost_usd = 0.0;       // billed to this call so far, over all delivered attempts
};

// What one layer is asked to do: serve `call`, finishing by `deadline`. Copied down the chain so that a
// per-attempt timeout tightens the deadline for the layers inside it only.
struct call_scope {
  call_context* call = nullptr;
  time_point deadline = time_never;
};

class outcome_receiver {
 public:
  virtual void on_outcome(outcome&& result) = 0;

 protected:
  ~outcome_receiver() = default;
};

class operation {
 public:
  virtual void cancel() noexcept = 0;

 protected:
  ~operation() = default;
};

// Receives a policy's read-only state: a breaker's state, a limiter's tokens, a cache's size. Names are
// snake_case with units last ("tokens", "entries", "state"); the policy is its name in the policy file.
class gauge_sink {
 public:
  virtual void on_gauge(std::string_view policy, std::string_view name, double value) = 0;

 protected:
  ~gauge_sink() = default;
};

class handler {
 public:
  virtual ~handler() = default;
  virtual operation& start(const call_scope& scope, outcome_receiver& receiver) = 0;
  // Reports this handler's gauges, and those of the handlers it owns. On the handler's own thread, like
  // start(). The default has none.
  virtual void report_gauges(gauge_sink& /*sink*/) const {}
};

}  // namespace squall
