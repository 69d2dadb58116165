#include "reports/traffic_table.hpp"

#include <cstdio>

#include "reports/format.hpp"

namespace squall::reports {
namespace {

const json& array_of(const json& j, const char* key) {
  static const json empty = json::array();
  if (!j.is_object()) return empty;
  const auto it = j.find(key);
  return it != j.end() && it->is_array() ? *it : empty;
}

std::string cell_or_dash(const json& j, const char* key) {
  const std::string t = text_field(j, key);
  return t.empty() || t == "0" ? "-" : t;
}

std::string number_cell(const json& j, const char* key, unit kind) {
  const auto v = j.find(key);
  if (v == j.end() || !v->is_number()) return "-";
  return format_value(v->get<double>(), kind);
}

// Scenario time in seconds with one decimal, as fault windows are read ("20.0 s").
std::string time_cell(const json& j, const char* key) {
  const auto v = j.find(key);
  if (v == j.end() || !v->is_number()) return "-";
  char b[32];
  std::snprintf(b, sizeof b, "%.1f s", v->get<double>());
  return b;
}

std::vector<std::string> traffic_cells(const std::string& config, const std::string& provider, const std::string& model,
                                       const json& figures) {
  return {config,
          provider,
          model,
          number_cell(figures, "attempts", unit::count),
          number_cell(figures, "successes", unit::count),
          number_cell(figures, "failures", unit::count),
          number_cell(figures, "cancelled", unit::count),
          number_cell(figures, "cost_usd", unit::usd),
          number_cell(figures, "attempt_latency_p50_ms", unit::ms),
          number_cell(figures, "attempt_latency_p95_ms", unit::ms)};
}

}  // namespace

provider_table error_figures(const json& results) {
  provider_table table;
  for (const auto& c : array_of(results, "configurations")) {
    const std::string config = text_field(c, "name");
    for (const auto& e : array_of(c, "errors")) {
      if (!e.is_object()) continue;
      table.rows.push_back({config, text_field(e, "class"), cell_or_dash(e, "http_status"), cell_or_dash(e, "provider"),
                            cell_or_dash(e, "model"), cell_or_dash(e, "policy"), cell_or_dash(e, "message"),
                            number_cell(e, "requests", unit::count), number_cell(e, "attempts", unit::count),
                            time_cell(e, "first_s"), time_cell(e, "last_s")});
    }
  }
  if (!table.rows.empty()) {
    table.header = {"configuration", "class", "status", "provider", "model", "policy", "message",
                    "requests", "attempts", "first", "last"};
  }
  return table;
}

provider_table traffic_figures(const json& results) {
  provider_table table;
  for (const auto& c : array_of(results, "configurations")) {
    const std::string config = text_field(c, "name");
    const json& models = array_of(c, "models");
    for (const auto& p : array_of(c, "providers")) {
      // A provider no attempt went to (a fallback that was never needed) has nothing to show.
      const auto attempts = p.is_object() ? p.find("attempts") : p.end();
      if (!p.is_object() || attempts == p.end() || !attempts->is_number() || attempts->get<double>() == 0) continue;
      const std::string name = text_field(p, "name");
      std::vector<const json*> own;
      for (const auto& m : models) {
        if (m.is_object() && (m.value("other", false) ? name == "(other)" : text_field(m, "provider") == name)) own.push_back(&m);
      }
      if (own.size() == 1) {
        table.rows.push_back(traffic_cells(config, name, cell_or_dash(*own[0], "model"), p));
        continue;
      }
      table.rows.push_back(traffic_cells(config, name, own.empty() ? "-" : "all", p));
      for (const json* m : own) table.rows.push_back(traffic_cells(config, name, cell_or_dash(*m, "model"), *m));
    }
  }
  if (!table.rows.empty()) {
    table.header = {"configuration", "provider", "model", "attempts", "successes", "failures", "cancelled",
                    "cost", "latency p50", "latency p95"};
  }
  return table;
}

}  // namespace squall::reports
