#pragma once
// The provider model's configuration, as a scenario writes it under "providers.<name>". The simulated
// provider (virtual clock) and the HTTP fake providers (real clock) are both driven by this one model,
// so a scenario means the same thing in both modes.

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "policies/core/config_error.hpp"
#include "policies/core/json_reader.hpp"
#include "sim/distributions/distribution.hpp"

namespace squall::sim {

struct model_price {
  double usd_per_mtok_in = 0.0;   // per million input tokens
  double usd_per_mtok_out = 0.0;  // per million output tokens
  double batch_discount = 0.0;    // fraction off both prices for a batched request (batch_size > 1), 0..1
};

// An injected error that is more than its status: the exact answer a real provider gives in a known
// incident. The fake providers write its type and message; the simulation classifies it as the
// production classifier (policies/core/classify.hpp) classifies that wire answer, so both modes agree.
enum class error_kind : std::uint8_t {
  status,                // a bare status ("503"): the API's usual error shape for it
  overloaded_529,        // Anthropic's 529 overloaded_error "Overloaded": overloaded
  overloaded_500,        // Anthropic's 500 api_error "Overloaded": classified by its status, server_error
  rate_limit_account,    // 429 rate_limit_error about the organization's rate limit: rate_limited
  rate_limit_temporary,  // Anthropic's 429 rate_limit_error "temporarily limiting requests" (high demand,
                         // not the account's usage): rate_limited, the only class the wire allows
  insufficient_quota,    // OpenAI's 429 with code insufficient_quota: quota, never retried
};

struct error_kind_info {
  std::string_view name;            // the error mix key ("overloaded_500")
  int status;
  std::string_view classified_as;   // the error type the production classifier reads from the body
  std::string_view message;         // the message real providers write
};

// Every named kind (error_kind::status has no entry), in enum order from overloaded_529.
inline constexpr std::array<error_kind_info, 5> error_kinds = {{
    {"overloaded_529", 529, "overloaded_error", "Overloaded"},
    {"overloaded_500", 500, "api_error", "Overloaded"},
    {"rate_limit_account", 429, "rate_limit_error",
     "This request would exceed the rate limit for your organization of 50 requests per minute. Please "
     "reduce the rate of requests or contact sales to discuss your options for a rate limit increase."},
    {"rate_limit_temporary", 429, "rate_limit_error",
     "We are temporarily limiting requests to this model due to high demand. This is not a result of your "
     "usage. Please try again shortly."},
    {"insufficient_quota", 429, "insufficient_quota",
     "You exceeded your current quota, please check your plan and billing details. For more information on "
     "this error, read the docs: https://platform.openai.com/docs/guides/error-codes/api-errors."},
}};

constexpr const error_kind_info* info(error_kind k) noexcept {
  return k == error_kind::status ? nullptr : &error_kinds[static_cast<std::size_t>(k) - 1];
}

// One entry of an error mix: the answer and the probability that an attempt gets it.
struct injected_error {
  int status = 0;
  double probability = 0;
  error_kind kind = error_kind::status;

  friend bool operator==(const injected_error&, const injected_error&) = default;
};

// An error mix; probabilities sum to at most 1.
using error_mix = std::vector<injected_error>;

// "handshake": the connection opens but the TLS handshake is aborted (plain HTTP: the server answers
// with bytes that are not HTTP/1.1 and closes). A client sees a connection error about as fast as a refusal.
enum class outage_kind : std::uint8_t { none, refuse, hang, reset, handshake };

// The endpoints of an AI provider's API that a window may be scoped to. The simulation has no endpoint
// of its own: its requests are the API's chat calls ("chat" for OpenAI, "messages" for Anthropic).
enum class endpoint_kind : std::uint8_t { chat, embeddings, responses, messages };
inline constexpr std::array<std::string_view, 4> endpoint_names = {"chat", "embeddings", "responses", "messages"};
inline constexpr std::size_t endpoint_count = endpoint_names.size();

// Faults that live on the wire of a successful answer. The HTTP fake providers act them out byte for
// byte; the simulated provider gives each the outcome a client would see, so a scenario means the same
// in both modes:
//  - malformed:   the 200 answer's body (or a stream event) is not valid JSON. Seen at the end of
//                 service: server_error, the work billed but unused.
//  - stream_cut:  the connection drops halfway through the output tokens. Seen at that point:
//                 connection_error; the server finishes the work and bills it, unused.
//  - error_event: halfway through, the stream carries an error event (Anthropic "event: error" with
//                 overloaded_error, OpenAI a chunk holding an "error" object); a non-streaming request
//                 gets a 503 / 529 then. Seen at that point: overloaded; billed, unused.
enum class wire_fault : std::uint8_t { none, malformed, stream_cut, error_event };

// Probabilities that a served attempt gets each wire fault; they sum to at most 1.
struct wire_mix {
  double malformed = 0;
  double stream_cut = 0;
  double error_event = 0;

  bool empty() const noexcept { return malformed <= 0 && stream_cut <= 0 && error_event <= 0; }
};

// Faults in the content of a 200 answer (a brownout that serves degraded answers):
//  - empty:        the answer's text is empty
//  - truncated:    the answer is cut short: fewer output tokens and a length finish reason
//  - invalid_json: the text is not valid JSON where JSON was asked for
// The simulation serves the answer as ok and marks the outcome (outcome::content_flaw).
enum class content_fault : std::uint8_t { none, empty, truncated, invalid_json };

struct content_mix {
  double empty = 0;
  double truncated = 0;
  double invalid_json = 0;

  bool none() const noexcept { return empty <= 0 && truncated <= 0 && invalid_json <= 0; }
};

// A window of scenario time that changes how the provider behaves.
struct fault_window {
  // "name": how assertions ("during"/"after") and reports refer to the window. Default (filled in by
  // parse_provider): "<provider>.faults[<i>]", the window's place in the scenario. Unique in a scenario.
  std::string name;
  double at_s = 0;                       // start, seconds from the start of the run
  double for_s = 0;                      // length
  error_mix errors;                      // replaces the baseline error mix inside the window
  double latency_x = 1.0;                // multiplies service time
  double ttft_x = 1.0;                   // multiplies the time to first token only: a slow first token
  wire_mix wire;                         // wire faults on served attempts
  outage_kind outage = outage_kind::none;
  std::optional<double> retry_after_s;   // hint sent with injected 429/503/529 answers
  double token_x = 1.0;                  // multiplies the per-output-token time only: a trickling stream
  content_mix content;                   // content faults on served attempts
  // Scope: the window applies only to attempts for these models / on these endpoints (empty = all).
  // Windows whose scopes share an attempt must not overlap in time.
  std::vector<std::string> models;
  std::vector<endpoint_kind> endpoints;
  // Only the first N attempts arriving in the window (in its scope) get its faults; then it is over.
  std::optional<std::uint64_t> first_n;
  // Only each request's first K attempts (attempt numbers 1..K) get the window's faults.
  std::optional<std::uint32_t> attempts;

  bool scoped() const noexcept { return !models.empty() || !endpoints.empty(); }
  // Whether an attempt for `model` on `endpoint` is in this window's scope.
  bool applies_to(std::string_view model, endpoint_kind endpoint) const noexcept;
  // Whether some attempt is in the scope of both windows.
  bool scope_meets(const fault_window& other) const noexcept;
};

// The HTTP statuses a scenario may inject (in an error mix or a fault window).
inline constexpr std::array<int, 14> injectable_statuses = {400, 401, 403, 404, 408, 409, 413,
                                                            422, 429, 500, 502, 503, 504, 529};

// The largest server rate limits a scenario may state; higher ones are as good as no limit.
inline constexpr double rpm_max = 1e9;
inline constexpr double tpm_max = 1e12;

struct provider_config {
  std::string name;
  std::string api = "openai";                        // "openai", "anthropic" or "gemini": error shapes, 529
  std::vector<std::pair<std::string, model_price>> models;
  distribution ttft_ms = distribution::lognormal(400, 0.5);
  distribution ms_per_output_token = distribution::constant(8);
  distribution error_latency_ms = distribution::constant(30);  // how long an error answer takes
  std::uint32_t slots = 64;         // concurrent requests served
  std::uint32_t queue = 256;        // requests waiting for a slot; beyond it the provider sheds load
  double slowdown = 0.0;            // service time x (1 + slowdown * busy/slots): degradation under load
  std::optional<double> rpm;        // server-side requests per minute
  std::optional<double> tpm;        // server-side tokens per minute (input + output)
  error_mix errors;                 // baseline error mix outside fault windows
  std::vector<fault_window> faults;
  // "network": {"rtt_ms": ...}: the round trip between client and provider, outside the provider's
  // capacity. Each attempt pays half on its way to the provider (before admission and the queue) and half
  // on the way back (before the client hears the answer or the error); it holds no slot and no window or
  // slowdown stretches it. None: the attempt reaches the provider at once, as before the key existed.
  std::optional<distribution> network_rtt_ms;
};

// One fault window as a scenario's "faults[i]" (or the fake providers' control API) writes it.
config_result<fault_window> parse_fault_window(const json& value, const std::string& path);

config_result<provider_config> parse_provider(const json& value, const std::string& path, const std::string& name);

}  // namespace squall::sim
