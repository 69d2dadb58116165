// The scenario loader: any text through the shared JSON reader, then parse_scenario. Relative policy
// paths resolve against the tree's scenarios/ folder, so the seeds that name "policies/retry-only.json"
// load real policy files and reach past the "policies" key.

#include <cstddef>
#include <cstdint>

#include "policies/core/json_parse.hpp"
#include "sim/scenario/scenario.hpp"
#include "tests/fuzz/fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto document = squall::parse_json(squall::fuzz::as_text(data, size));
  if (!document) return 0;
  auto s = squall::sim::parse_scenario(*document, SQUALL_SCENARIOS_DIR);
  if (!s) {
    (void)squall::dump_json(squall::json(s.error().describe()));
    return 0;
  }
  (void)s->effective_interval_s();
  return 0;
}
