#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "reports/results.hpp"

namespace squall::reports {
namespace {

enum class unit { percent, ms, count, ratio, usd };

struct row_spec {
  const char* label;
  const char* metric;
  unit kind;
  bool higher_is_better;
  bool always = false;  // shown even when zero for every configuration
};

constexpr row_spec rows[] = {
    {"success rate", "success_rate", unit::percent, true, true},
    {"degraded rate", "degraded_rate", unit::percent, false},
    {"latency p50", "latency_p50_ms", unit::ms, false, true},
    {"latency p95", "latency_p95_ms", unit::ms, false, true},
    {"latency p99", "latency_p99_ms", unit::ms, false, true},
    {"latency p99.9", "latency_p999_ms", unit::ms, false, true},
    {"attempts / request", "attempts_per_request", unit::ratio, false, true},
    {"retries", "retries", unit::count, false},
    {"timeouts", "timeouts", unit::count, false},
    {"breaker openings", "breaker_openings", unit::count, false},
    {"breaker rejections", "breaker_rejections", unit::count, false},
    {"cache hit rate", "cache_hit_rate", unit::percent, true},
    {"hedges", "hedges", unit::count, false},
    {"fallbacks", "fallbacks", unit::count, false},
    {"client rejections", "client_rejections", unit::count, false},
    {"shed by client", "shed", unit::count, false},
    {"unfinished", "unfinished", unit::count, false},
    {"cost", "cost_usd", unit::usd, false, true},
    {"cost / success", "cost_per_success_usd", unit::usd, false, true},
    {"cost wasted", "cost_wasted_usd", unit::usd, false},
};

std::string format_value(double v, unit kind) {
  char b[64];
  switch (kind) {
    case unit::percent: std::snprintf(b, sizeof b, "%.2f%%", v * 100); break;
    case unit::ms:
      if (v >= 10000) std::snprintf(b, sizeof b, "%.1f s", v / 1000);
      else std::snprintf(b, sizeof b, "%.0f ms", v);
      break;
    case unit::count: std::snprintf(b, sizeof b, "%.0f", v); break;
    case unit::ratio: std::snprintf(b, sizeof b, "%.3f", v); break;
    case unit::usd:
      // Costs per request are fractions of a cent: keep three significant digits below a dollar.
      if (v != 0 && std::fabs(v) < 1) std::snprintf(b, sizeof b, "$%#.3g", v);
      else std::snprintf(b, sizeof b, "$%.2f", v);
      break;
  }
  return b;
}

std::string format_delta(double base, double v, unit kind) {
  char b[64];
  if (kind == unit::percent) {
    std::snprintf(b, sizeof b, "%+.2f pp", (v - base) * 100);
  } else if (base == 0) {
    if (v == 0) return "=";
    return "new";
  } else {
    const double pct = (v - base) / std::fabs(base) * 100;
    if (std::fabs(pct) < 0.05) return "=";
    std::snprintf(b, sizeof b, "%+.1f%%", pct);
  }
  return b;
}

std::string pad(const std::string& s, std::size_t width, bool right) {
  if (s.size() >= width) return s;
  return right ? std::string(width - s.size(), ' ') + s : s + std::string(width - s.size(), ' ');
}

}  // namespace

std::string summary_table(const json& results, bool color) {
  const json& configs = results.at("configurations");
  std::vector<std::vector<std::string>> cells;  // [row][column]
  std::vector<std::vector<int>> tone;           // -1 worse, 0 same, +1 better
  std::vector<std::string> header = {""};
  for (const auto& c : configs) header.push_back(c.at("name").get<std::string>());
  for (const auto& spec : rows) {
    // Rows about mechanisms no configuration used (no breaker, no cache) would only be noise.
    bool any = spec.always;
    for (const auto& c : configs) any = any || c.at("summary").at(spec.metric).get<double>() != 0;
    if (!any) continue;
    std::vector<std::string> line = {spec.label};
    std::vector<int> tones = {0};
    const double base = configs.front().at("summary").at(spec.metric).get<double>();
    for (std::size_t i = 0; i < configs.size(); ++i) {
      const double v = configs[i].at("summary").at(spec.metric).get<double>();
      std::string cell = format_value(v, spec.kind);
      int t = 0;
      if (i > 0) {
        const std::string d = format_delta(base, v, spec.kind);
        cell += " (" + d + ")";
        if (d != "=") t = ((v > base) == spec.higher_is_better) ? 1 : -1;
      }
      line.push_back(cell);
      tones.push_back(t);
    }
    cells.push_back(std::move(line));
    tone.push_back(std::move(tones));
  }
  std::vector<std::size_t> width(header.size(), 0);
  for (std::size_t c = 0; c < header.size(); ++c) width[c] = header[c].size();
  for (const auto& line : cells) {
    for (std::size_t c = 0; c < line.size(); ++c) width[c] = std::max(width[c], line[c].size());
  }
  std::string out;
  for (std::size_t c = 0; c < header.size(); ++c) out += (c ? "  " : "") + pad(header[c], width[c], c > 0);
  out += '\n';
  for (std::size_t r = 0; r < cells.size(); ++r) {
    for (std::size_t c = 0; c < cells[r].size(); ++c) {
      std::string cell = pad(cells[r][c], width[c], c > 0);
      if (color && tone[r][c] != 0) cell = (tone[r][c] > 0 ? "\033[32m" : "\033[31m") + cell + "\033[0m";
      out += (c ? "  " : "") + cell;
    }
    out += '\n';
  }
  return out;
}

}  // namespace squall::reports
