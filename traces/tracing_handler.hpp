#pragma once
// Run traces, for both clocks with one code: a handler that sits at the bottom of a pipeline, right
// above the transport, and writes one trace_attempt per attempt that reaches it. It reads time only from
// the injected runtime, so `squall run` (virtual clock) and `squall run --mode live` (real clock) trace
// through the very same object code.
//
// What a run trace holds differs from a recorded one (docs/trace-format.md, "Run traces"): the transport
// has already parsed the server's hints into the outcome, so the headers of a line are those hints
// re-encoded (retry-after-ms from outcome.retry_after, x-should-retry, x-ratelimit-reset-requests from
// outcome.ratelimit_reset, x-ratelimit-limit-requests / -tokens from the stated limits), not the raw
// headers the server sent.
//
// A cancelled attempt (a timeout policy gave up, or a hedge lost) is written when it is cancelled, with
// status 0, outcome "timeout" and its latency up to the cancel. Attempts cancelled after end_of_run()
// (the run is over and its driver cancels what is still in flight) are written as outcome "cancelled"
// without a latency: they never ended.
//
// Not thread-safe, like the pipelines it sits in: one runtime thread per tracing handler.

#include <cstdint>
#include <string>
#include <vector>

#include "policies/core/call.hpp"
#include "policies/core/free_list_pool.hpp"
#include "policies/core/runtime.hpp"
#include "traces/trace.hpp"

namespace squall::traces {

// How the trace names a provider's API and endpoint.
struct trace_route {
  std::string provider;
  std::string api;       // "openai", "anthropic" or "gemini"
  std::string endpoint;  // "/v1/chat/completions", "/v1/messages" (see default_endpoint)
};

// The request path of an API's chat endpoint: "/v1/messages" for "anthropic", the path with a "{model}"
// placeholder for "gemini" (endpoint_of fills it), else "/v1/chat/completions".
std::string default_endpoint(std::string_view api);
// The endpoint a trace line names: the route's, or for Gemini the path of the model and method.
std::string endpoint_of(const trace_route& route, std::string_view model, bool stream);

struct tracing_options {
  std::vector<trace_route> routes;  // a handful: found by a linear scan
  std::string default_provider;     // the provider of a request that names none
  time_point origin{};              // the runtime time written as t_ms = 0
  bool stream = false;              // whether the transport asks for streamed answers
};

class tracing_handler final : public handler {
 public:
  // `clock`, `next` and `writer` must outlive the handler.
  tracing_handler(runtime& clock, handler& next, trace_writer& writer, tracing_options options);
  tracing_handler(const tracing_handler&) = delete;
  tracing_handler& operator=(const tracing_handler&) = delete;

  operation& start(const call_scope& scope, outcome_receiver& receiver) override;

  // From now on a cancelled attempt is the run's end, not a timeout: it is written as "cancelled".
  void end_of_run() noexcept { ending_ = true; }

  std::size_t in_flight() const noexcept { return pool_.in_use(); }

 private:
  struct relay final : operation, outcome_receiver {
    void on_outcome(outcome&& result) override { owner->complete(*this, std::move(result)); }
    void cancel() noexcept override { owner->cancel_relay(*this); }

    tracing_handler* owner = nullptr;
    outcome_receiver* receiver = nullptr;
    operation* inner = nullptr;
    time_point sent{};
    trace_attempt line;
    relay* next_free = nullptr;
  };

  relay& allocate();
  void release(relay& r) noexcept;
  void complete(relay& r, outcome&& result);
  void cancel_relay(relay& r) noexcept;
  const trace_route* find(std::string_view provider) const noexcept;

  runtime& clock_;
  handler& next_;
  trace_writer& writer_;
  tracing_options options_;
  free_list_pool<relay> pool_;  // at most the attempts in flight at once, which the layers above bound
  bool ending_ = false;
};

}  // namespace squall::traces
