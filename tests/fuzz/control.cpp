// The fake providers' control API (POST /squall/faults): any body through the shared JSON reader as
// nlohmann::json, armed at a time taken from the input's first bytes, then everything the server does
// next with it: the timeline, the listing it answers to GET, the next boundary, and the answer bodies it
// dumps. The same body is armed until the limit of armed windows refuses it.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include <nlohmann/json.hpp>

#include "fake_providers/fault_control.hpp"
#include "policies/core/json_parse.hpp"
#include "tests/fuzz/fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // Two bytes of scenario time, in seconds, so that windows armed late meet the scenario's own.
  std::uint16_t seconds = 0;
  if (size >= sizeof seconds) {
    std::memcpy(&seconds, data, sizeof seconds);
    data += sizeof seconds;
    size -= sizeof seconds;
  }
  const squall::time_point now{std::chrono::seconds(seconds)};

  auto body = squall::parse_json_as<nlohmann::json>(squall::fuzz::as_text(data, size));
  if (!body) return 0;

  // A scenario window of its own for the armed ones to meet: 2 to 3 minutes into the run.
  squall::sim::fault_window storm;
  storm.at_s = 120;
  storm.for_s = 60;
  constexpr std::size_t armed_max = 4;
  squall::fake::fault_control control({storm}, armed_max);

  for (std::size_t i = 0; i <= armed_max; ++i) {
    auto armed = control.arm(*body, now);
    if (!armed.ok()) {
      // The 400 the server answers.
      const nlohmann::json answer{{"error", {{"message", armed.error().describe()}, {"path", armed.error().path}}}};
      (void)answer.dump();
      break;
    }
    (void)armed->dump();
    const auto timeline = control.timeline();
    (void)control.list(timeline, now).dump();
    (void)squall::fake::fault_control::next_boundary_after(timeline, now);
    for (std::size_t j = 1; j < timeline.size(); ++j) {
      if (timeline[j].at_s < timeline[j - 1].at_s + timeline[j - 1].for_s - 1e-9) {
        squall::fuzz::broken_promise("the timeline overlaps or is out of order", control.list(timeline, now).dump(1));
      }
    }
  }
  (void)control.clear(true);
  return 0;
}
