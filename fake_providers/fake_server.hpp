#pragma once
// HTTP fake providers: one listener per scenario provider, speaking the OpenAI or Anthropic wire format
// and driven by the same provider model as the simulation (sim/provider/provider_model.hpp), so a
// scenario means the same thing in both modes.
//
//   OpenAI style:     POST /v1/chat/completions (JSON or server-sent events), POST /v1/embeddings,
//                     GET /v1/models
//   Anthropic style:  POST /v1/messages (JSON or its event stream), GET /v1/models
//   Both:             GET /healthz, GET /metrics (Prometheus text, or OpenMetrics when asked), /squall/faults
//                     (control API: GET lists, POST arms a fault window relative to now, DELETE clears;
//                     DELETE /squall/faults/{id} removes one armed window)
//
// With server_options::tls every listener speaks HTTPS instead (the same routes, over TLS).
//
// Everything runs on one thread with asynchronous I/O and timers: a request held open for a second of
// injected latency costs a timer, not a thread, so thousands wait side by side. The provider model is
// only touched from that thread, which is the serialisation it asks for.
//
// Attribution and common random numbers. An AI request (chat, messages, embeddings) names the user
// request behind it with the header x-squall-request-id, or else with a marker "[squall:<id>]" anywhere
// in its raw body (the first well-formed one; a prompt is the usual place), for a service that cannot
// add headers to its SDK's calls. Its attempt number is x-squall-attempt (1 for a first attempt) when
// sent; else the server counts the attempts of each id (1, 2, ...; the count is the server's, shared by
// all its providers, and bounded by server_options::attempt_counted_ids_max). The attempt's random
// draws are then exactly the simulated provider's for that (request, attempt), so a live run sees the
// faults a simulated run sees, and a service's own retries draw afresh. A request that names no id is
// numbered in arrival order per provider, attempt 1.
//
// The attempt log (server_options::record_attempts): one upstream_attempt per AI request received, in
// arrival order, with its attribution, how its exchange ended and what it was billed, for a run against
// a system under test (fake_providers/upstream_attempt.hpp). Requests refused before they are routed
// (bad HTTP, 413, 431) are not AI attempts and are not recorded; ones with a bad body or a bad
// x-squall-* header are, as "error" 400s.

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "fake_providers/tls_certificate.hpp"
#include "fake_providers/upstream_attempt.hpp"
#include "sim/distributions/distribution.hpp"
#include "sim/provider/provider_config.hpp"

namespace squall::fake {

struct server_options {
  std::string host = "127.0.0.1";  // loopback unless the user says otherwise
  // Port of the first provider; the next ones count up from it. 0: each gets an ephemeral port.
  std::uint16_t port = 0;
  // Root seed; provider p draws from stream_seed(seed, "provider/<p>") as in the simulation.
  std::uint64_t seed = 1;
  // Output tokens of a request that names no max_tokens (the scenario's workload distribution).
  sim::distribution output_tokens = sim::distribution::constant(200);
  std::uint32_t output_tokens_max = 128'000;  // larger max_tokens get a 400
  std::size_t connections_max = 16384;         // per provider; beyond it a new connection is closed at once
  std::size_t header_bytes_max = 16 * 1024;    // beyond it: 431
  std::size_t body_bytes_max = 4 * 1024 * 1024;  // beyond it: 413
  // An answer that would be larger is refused with a 400 before it is built (embeddings: inputs times
  // dimensions, counted at 16 bytes a float); a client that lets this much (and 1 MiB more) pile up
  // unread is dropped. 64 MiB lets OpenAI's largest common request through: 2,048 inputs of 1,536 floats.
  std::size_t answer_bytes_max = 64 * 1024 * 1024;
  std::size_t embedding_inputs_max = 2048;     // OpenAI's limit; beyond it a 400 with OpenAI's words
  double idle_timeout_s = 60;                  // a connection must send a whole request within this
  // When accepting fails for want of descriptors or memory (EMFILE, ENFILE, ENOBUFS, ENOMEM), the
  // listener waits this long before it tries again instead of spinning; the connection waits in the backlog.
  double accept_backoff_s = 0.05;
  std::size_t armed_faults_max = 64;           // control API
  std::uint32_t embedding_dims_default = 1536;
  // Serve HTTPS with this certificate and key instead of plain HTTP (every route: the provider API, the
  // control API and /metrics share the listener). TLS 1.2 or newer; no client certificates. A connection
  // must finish its handshake within idle_timeout_s. fake_providers/tls_certificate.hpp makes throwaway ones.
  std::optional<tls_identity> tls;
  // Keep an upstream_attempt per AI request (take_attempts). Off, it costs a branch per request.
  bool record_attempts = false;
  // At most this many records are held; beyond it attempts are served but not recorded (counted in
  // upstream_log_counts::not_recorded) until take_attempts empties the log. 10^6 records take ~200 MB.
  std::size_t recorded_attempts_max = 1'000'000;
  // At most this many request ids have their attempts counted (those without x-squall-attempt); a new id
  // beyond it is attempt 1 every time (upstream_log_counts::ids_over_cap). 10^6 ids take ~40 MB.
  std::size_t attempt_counted_ids_max = 1'000'000;
  // Tests only: called on the I/O thread where a handler may fail ("request": a request is routed;
  // "answer": a whole answer is built), so that a test can throw there and see the server survive it.
  std::function<void(std::string_view where)> fault_hook_for_tests;
};

struct endpoint_info {
  std::string provider;
  std::string api;        // "openai", "anthropic" or "gemini"
  std::uint16_t port = 0;
  std::string origin;     // "http://127.0.0.1:PORT" ("https://..." with server_options::tls)
  std::string base_url;   // what the SDK takes: origin + "/v1" (OpenAI), the origin (Anthropic, Gemini)
  // What squall's HTTP transport takes (http_endpoint::base_url, a live run's --target): origin + "/v1"
  // (OpenAI, Anthropic: it appends "/chat/completions" or "/messages"), the origin (Gemini).
  std::string transport_base_url;
};

class fake_server {
 public:
  explicit fake_server(std::vector<sim::provider_config> providers, server_options options = {});
  ~fake_server();  // stops
  fake_server(const fake_server&) = delete;
  fake_server& operator=(const fake_server&) = delete;

  // Binds every listener and starts the I/O thread. Scenario time 0 is now. An error message when a
  // listener cannot bind or the TLS certificate or key is unusable (nothing is left running then). Call once.
  std::optional<std::string> start();
  // Closes every listener and connection and joins the I/O thread. Idempotent; safe from any thread
  // except the I/O thread itself.
  void stop() noexcept;

  // Scenario time 0 is now again, for a load that starts after the server (a system under test is
  // started, pointed at the URLs, and made ready first): the clock restarts; every provider's model
  // (rate-limit buckets, fault windows) and fault timeline start again from the scenario as written (the
  // windows armed through /squall/faults go); the timeline is followed afresh (a refuse window at 0 closes
  // the listener at once, as start() does); the attempt counts per request id and the unattributed
  // request numbering restart; the attempt log is emptied (those attempts were not the load's: counted in
  // upstream_log_counts::discarded_by_restart). Requests in flight carry on and finish when they would
  // have (their times move onto the new timeline); they keep their slots, and their records are gone.
  // The /metrics counters go on counting. Returns once done (it runs on the I/O thread; called from a
  // handler there, it runs at once). A no-op before start() and after stop(); not concurrently with stop().
  void restart_timeline();
  // The attempt log in arrival order; the log is empty afterwards, and records taken while their
  // exchange was still open stay "open" (take them once the load has settled). From any thread, not
  // concurrently with stop(); after stop() it reads what was left.
  std::vector<upstream_attempt> take_attempts();
  upstream_log_counts attempt_counts() const;

  const std::vector<endpoint_info>& endpoints() const noexcept;
  const endpoint_info* find(std::string_view provider) const noexcept;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace squall::fake
