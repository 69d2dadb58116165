#pragma once
// Turns a trace (traces/trace.hpp) into an ordinary scenario document: the recorded arrivals of first
// attempts, the request mix, and the provider's behaviour over time (a calm baseline plus fault windows
// found by cutting the trace into windows), so that any policy configuration meets plausible answers
// when it is replayed. docs/replay.md states each rule of the reconstruction and why it was chosen.
//
// The result passes sim::parse_scenario like any hand-written scenario; `squall trace2scenario` writes
// it to a file, `squall replay` runs it in memory.

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "policies/core/config_error.hpp"
#include "policies/core/json_reader.hpp"
#include "traces/trace.hpp"

namespace squall::traces {

struct reconstruct_options {
  std::string name = "replay";  // the scenario's "name"
  std::string source;           // where the trace came from (a file name), for the description
  // Length of the windows the trace is cut into, in seconds. Default: the trace's span / 60 rounded up to
  // 1, 2, 5, 10, 15, 20, 30 or 60 s: about 60 windows, each long enough to hold a few attempts.
  std::optional<double> window_s;
  // Configuration name -> policy file path (a string, resolved where the scenario is parsed) or an inline
  // policy object, in order. Empty: one configuration "as-recorded" with no policies.
  std::vector<std::pair<std::string, json>> policies;
  // A window whose typical latency differs from the baseline by this factor (or its inverse) is disturbed.
  // The default is 1.3.
  double latency_x_min = 1.3;
  std::uint64_t seed = 1;
};

// Bounds on what a trace may produce.
inline constexpr std::size_t reconstruct_windows_max = 100'000;
inline constexpr std::size_t reconstruct_providers_max = 64;

// The window length used when none is given, for a trace spanning `span_s` seconds.
double default_window_s(double span_s) noexcept;

// The scenario document. Errors (an empty trace, no first attempts, a window too short for the trace's
// span, more providers than a scenario holds) name the trace and say what was wrong.
config_result<json> scenario_from_trace(const trace& t, const reconstruct_options& options);

}  // namespace squall::traces
