#pragma once
// The fault timeline of one fake provider: the scenario's windows plus the ones armed through the
// control API (/squall/faults). An armed window is written like a scenario's "faults[i]" entry, with
// "at_s" counted from the moment it is armed (0 when absent). Where windows overlap, the one armed last
// wins for as long as it lasts; the scenario's windows go on around it.

#include <cstdint>
#include <optional>
#include <vector>

#include <nlohmann/json.hpp>

#include "policies/core/config_error.hpp"
#include "policies/core/time.hpp"
#include "sim/provider/provider_config.hpp"

namespace squall::fake {

class fault_control {
 public:
  fault_control(std::vector<sim::fault_window> scenario, std::size_t armed_max);

  // Arms a window from a control request's body; `now` is scenario time. The armed window as listed.
  config_result<nlohmann::json> arm(const nlohmann::json& body, time_point now);
  // Forgets the armed windows (and the scenario's too when `scenario_too`); how many went.
  std::size_t clear(bool scenario_too);
  // Forgets the armed window `id`: the window as it was listed, or nothing when no armed window has
  // that id (never armed, removed, cleared, or forgotten once over).
  std::optional<nlohmann::json> remove(std::uint64_t id);

  // The windows in effect, in scenario time: sorted, not overlapping.
  std::vector<sim::fault_window> timeline() const;
  // {"now_s", "timeline": [... "active"], "armed": [{"id", ...}]}
  nlohmann::json list(const std::vector<sim::fault_window>& timeline, time_point now) const;

  // The first window start or end after `now`, when the provider's behaviour may change.
  static std::optional<time_point> next_boundary_after(const std::vector<sim::fault_window>& timeline,
                                                       time_point now);

 private:
  struct armed {
    std::uint64_t id;
    sim::fault_window window;
  };
  std::vector<sim::fault_window> scenario_;
  std::vector<armed> armed_;
  std::uint64_t next_id_ = 1;
  std::size_t armed_max_;
};

nlohmann::json to_json(const sim::fault_window& w);

}  // namespace squall::fake
