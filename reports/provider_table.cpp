#include "reports/provider_table.hpp"

#include "reports/format.hpp"

namespace squall::reports {
namespace {

std::string number_cell(const json& provider, const char* key, unit kind) {
  const auto v = provider.find(key);
  if (v == provider.end() || !v->is_number()) return "-";  // an older squall's results, or a live run's
  return format_value(v->get<double>(), kind);
}

}  // namespace

provider_table provider_figures(const json& results) {
  provider_table table;
  const auto configs = results.find("configurations");
  if (configs == results.end() || !configs->is_array()) return table;
  bool any_wait = false;
  for (const auto& c : *configs) {
    const auto providers = c.find("providers");
    if (providers == c.end() || !providers->is_array()) continue;
    for (const auto& p : *providers) {
      if (!p.is_object()) continue;
      any_wait = any_wait || p.contains("queue_wait_mean_ms");
      table.rows.push_back({c.value("name", std::string()), p.value("name", std::string()),
                            number_cell(p, "busy_max", unit::count), number_cell(p, "queue_max", unit::count),
                            number_cell(p, "queue_waited_share", unit::percent),
                            number_cell(p, "queue_wait_mean_ms", unit::ms), number_cell(p, "queue_wait_p50_ms", unit::ms),
                            number_cell(p, "queue_wait_p90_ms", unit::ms), number_cell(p, "queue_wait_p99_ms", unit::ms)});
    }
  }
  if (!any_wait) {
    table.rows.clear();
    return table;
  }
  table.header = {"configuration", "provider",        "peak busy",       "peak queue",     "waited",
                  "queue wait mean", "queue wait p50", "queue wait p90", "queue wait p99"};
  return table;
}

}  // namespace squall::reports
