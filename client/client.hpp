#pragma once
// squall::client: the production client. It loads the policy file CI simulates, builds the same pipeline
// in front of the HTTP transport, and owns the I/O thread that runs them. Callable from any thread.
//
//   auto made = squall::client::create(options);          // validates everything, starts the I/O thread
//   squall::chat_call call{.model = "gpt-4o-mini", .messages = {{"user", "Hello"}}};
//   squall::client_result r = made.value()->call(call).get();    // a future
//   made.value()->call(call, [](squall::client_result r) {...});  // a callback, on the I/O thread
//   squall::client_result r = co_await made.value()->co_call(call); // a C++20 coroutine
//
// Threading: every call is handed to the I/O thread, which alone runs the policies and the transport
// (they are single-threaded by design, like the simulation's event loop). So the pipeline's state needs no
// lock and a call's policies see every other call in the order they arrived. One I/O thread drives tens of
// thousands of calls a second (bench/README.md); a service that needs more runs several clients.
//
// Lifetime: the destructor drains (drain_ms_max) and then cancels what is left; every caller gets exactly
// one result, `cancelled` for calls that never ended. Callbacks must not block the I/O thread.

#include <chrono>
#include <coroutine>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <future>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "policies/core/config_error.hpp"
#include "policies/core/outcome.hpp"
#include "policies/core/payload.hpp"
#include "policies/http/http_transport.hpp"
#include "policies/pipeline/pipeline.hpp"

namespace squall {

struct client_options {
  // The policy document: a file (what CI's scenarios name) or a document already read. One of them.
  std::filesystem::path policy_file;
  std::optional<json> policy;
  // Providers: endpoints, prices, connection limits, timeouts (policies/http/http_transport.hpp).
  http_transport_options transport;
  // Calls accepted and not yet answered; beyond it a call is answered `rejected` at once. From 1 to
  // 10000000. The default value is 100000.
  std::uint32_t in_flight_max = 100000;
  // How long the destructor (and drain() without an argument) waits for calls in flight before it
  // cancels them. The default value is 10 s.
  double drain_ms_max = 10000;
  // The policies' random draws (jitter); 0 draws a seed from std::random_device. The default value is 0.
  std::uint64_t seed = 0;
  // What a semantic cache ("match": "semantic") embeds prompts with. Empty (the default): the provider's
  // embeddings endpoint, through the transport, with the cache's embedding_model and embedding_provider.
  // Your own (a local model, another vendor): a function that starts embedding `text` and calls `done`
  // exactly once, from any thread, with the vector, or with an empty vector and a message when it failed.
  // It must not block: it is called on the I/O thread. A `done` that comes after the cache stopped waiting
  // (embedding_timeout_ms) or after the client drained is ignored.
  using embedding_done = std::function<void(std::vector<float> vector, std::string error)>;
  std::function<void(std::string text, embedding_done done)> embed;
};

// One chat call, as a service writes it. Everything but model and messages is optional.
struct chat_call {
  std::string model;
  std::vector<chat_message> messages;
  std::optional<std::uint32_t> max_tokens;
  std::optional<double> temperature;
  std::string provider;                  // empty: the transport's default endpoint
  std::uint64_t idempotency_key = 0;     // 0: none
  bool cacheable = true;                 // false: no cache or coalescing key is derived
  std::uint8_t priority = 0;
  std::uint8_t complexity = 0;           // request class for routers: 0 simple, 1 moderate, 2 complex, 3 critical
  std::optional<std::chrono::milliseconds> deadline;  // from the call's start; none: the policies decide
};

// What a call ended with. Owns everything it names, so it outlives reloads and the client.
struct client_result {
  outcome_class kind = outcome_class::ok;
  int http_status = 0;
  bool degraded = false;
  bool from_cache = false;
  std::uint32_t attempts = 0;          // attempts that reached the transport
  double cost_usd = 0.0;               // over all attempts
  std::uint32_t input_tokens = 0;
  std::uint32_t output_tokens = 0;
  std::chrono::nanoseconds latency{};  // from call() to the result
  std::string provider, model, decided_by;
  answer_ptr answer;                   // text, finish reason, id, error message, raw body

  bool ok() const noexcept { return kind == outcome_class::ok && !degraded; }
  // The answer's text (a degraded answer's text too); empty when there is none.
  std::string_view text() const noexcept { return answer ? std::string_view(answer->text) : std::string_view(); }
  // What went wrong, in words: the provider's or transport's message, else the outcome class.
  std::string error() const;
};

// A call in flight, for cancellation. Cancelling a finished call does nothing. Copyable; any thread.
class call_handle {
 public:
  call_handle() = default;
  void cancel() const;

 private:
  friend class client;

 public:
  struct state;  // defined in client.cpp

 private:
  explicit call_handle(std::shared_ptr<state> s) : state_(std::move(s)) {}
  std::shared_ptr<state> state_;
};

// One policy's read-only state: e.g. {"breaker", "state", 1} (0 closed, 1 open, 2 half-open),
// {"limiter", "tokens_available", 812}, {"cache", "entries", 1200}.
struct policy_gauge {
  std::string policy;
  std::string name;
  double value = 0.0;
};

class client_metrics;

class client {
 public:
  static config_result<std::unique_ptr<client>> create(client_options options);
  ~client();
  client(const client&) = delete;
  client& operator=(const client&) = delete;

  using callback = std::function<void(client_result)>;

  // Starts a call. The callback runs once, on the I/O thread.
  call_handle call(chat_call c, callback done);
  // Any other endpoint of the provider's API: `body` is sent as is to base URL + `path` ("/embeddings").
  call_handle call_raw(std::string model, std::string path, std::string body, callback done,
                       std::string provider = {});
  std::future<client_result> call(chat_call c);

  // co_await client.co_call(c): resumes the coroutine on the I/O thread with the result.
  struct awaitable {
    client* owner;
    chat_call request;
    client_result result;
    bool await_ready() const noexcept { return false; }
    void await_suspend(std::coroutine_handle<> h);
    client_result await_resume() { return std::move(result); }
  };
  awaitable co_call(chat_call c) { return awaitable{this, std::move(c), {}}; }

  // Validates a new policy document and switches to it: calls already in flight finish on the pipeline
  // they started on; new calls take the new one. The old pipeline's state (a breaker's window) is not
  // carried over. On a validation error nothing changes and the error names the JSON path.
  std::optional<config_error> reload(const json& policy_document);
  std::optional<config_error> reload_file(const std::filesystem::path& policy_file);

  // Stops taking calls (new ones are answered `rejected`), waits up to `wait` for the calls in flight,
  // cancels the rest (their callers get `cancelled`), and stops the I/O thread. Returns how many were
  // cancelled. Idempotent; the destructor calls it with drain_ms_max. Not from the I/O thread.
  std::size_t drain(std::optional<std::chrono::milliseconds> wait = std::nullopt);

  // Read-only state of every policy, outermost first (waits for the I/O thread; not from a callback).
  std::vector<policy_gauge> gauges();
  // The policies' events, calls by provider, model and outcome, latencies, costs, the transport's
  // connections and the gauges above, in the Prometheus text exposition format (version 0.0.4), for a
  // service to serve on its own /metrics. Not from a callback.
  std::string metrics_text();

  std::size_t in_flight() const noexcept;
  std::string policy_name() const;  // the name of the policy file in force

  struct impl;

 private:
  explicit client(std::unique_ptr<impl> state);
  call_handle submit(std::shared_ptr<call_handle::state> s);
  std::unique_ptr<impl> impl_;
};

// A stable key of a call's content for caches and coalescing: FNV-1a over the model and the payload.
// Never 0 (0 means "not cacheable" to the policies).
std::uint64_t payload_key(std::string_view model, const call_payload& payload) noexcept;

}  // namespace squall
