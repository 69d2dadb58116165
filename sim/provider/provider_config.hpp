#pragma once
// The provider model's configuration, as a scenario writes it under "providers.<name>". The simulated
// provider (virtual clock) and the HTTP fake providers (real clock) are both driven by this one model,
// so a scenario means the same thing in both modes.

#include <array>
#include <cstdint>
#include <optional>
#include <string>
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

// An error mix: HTTP status -> probability that an attempt gets it. Probabilities sum to at most 1.
using error_mix = std::vector<std::pair<int, double>>;

enum class outage_kind : std::uint8_t { none, refuse, hang, reset };

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

// A window of scenario time that changes how the provider behaves.
struct fault_window {
  double at_s = 0;                       // start, seconds from the start of the run
  double for_s = 0;                      // length
  error_mix errors;                      // replaces the baseline error mix inside the window
  double latency_x = 1.0;                // multiplies service time
  double ttft_x = 1.0;                   // multiplies the time to first token only: a slow first token
  wire_mix wire;                         // wire faults on served attempts
  outage_kind outage = outage_kind::none;
  std::optional<double> retry_after_s;   // hint sent with injected 429/503/529 answers
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
};

// One fault window as a scenario's "faults[i]" (or the fake providers' control API) writes it.
config_result<fault_window> parse_fault_window(const json& value, const std::string& path);

config_result<provider_config> parse_provider(const json& value, const std::string& path, const std::string& name);

}  // namespace squall::sim
