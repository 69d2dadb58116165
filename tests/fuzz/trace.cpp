// The trace reader: any text as a JSON Lines trace (parse_trace). A trace that reads is then turned into
// a scenario (scenario_from_trace, what `squall trace2scenario` and `squall replay` do), and
// reconstruct.hpp promises that what comes out passes sim::parse_scenario like a hand-written scenario.

#include <cstddef>
#include <cstdint>

#include "policies/core/json_parse.hpp"
#include "sim/scenario/scenario.hpp"
#include "tests/fuzz/fuzz_support.hpp"
#include "traces/replay/reconstruct.hpp"
#include "traces/trace.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  squall::traces::trace_read_options options;
  options.attempts_max = 100'000;  // a bound of its own, so that one input cannot take the memory limit
  auto t = squall::traces::parse_trace(squall::fuzz::as_text(data, size), "fuzz.jsonl", options);
  if (!t) {
    (void)squall::dump_json(squall::json(t.error().describe()));
    return 0;
  }
  for (const auto& a : t->attempts) (void)squall::traces::encode_line(a);
  (void)squall::traces::encode_line(t->header);

  squall::traces::reconstruct_options reconstruct;
  reconstruct.source = "fuzz.jsonl";
  auto document = squall::traces::scenario_from_trace(*t, reconstruct);
  if (!document) return 0;
  auto s = squall::sim::parse_scenario(*document, SQUALL_SCENARIOS_DIR);
  if (!s) {
    squall::fuzz::broken_promise("scenario_from_trace gave a scenario that parse_scenario refuses",
                                 s.error().describe() + "\n" + squall::dump_json(*document, 1));
  }
  return 0;
}
