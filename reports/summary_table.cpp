#include <cmath>
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include "reports/format.hpp"
#include "reports/results.hpp"

namespace squall::reports {
namespace {

// A configuration's summary metric, or nothing when a results file (an older squall's, a hand-edited one)
// lacks it: the table shows "-" there instead of failing.
std::optional<double> metric_of(const json& config, const char* metric) {
  const auto summary = config.find("summary");
  if (summary == config.end() || !summary->is_object()) return std::nullopt;
  const auto v = summary->find(metric);
  if (v == summary->end() || !v->is_number()) return std::nullopt;
  return v->get<double>();
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
  for (const auto& spec : comparison_rows()) {
    // Rows about mechanisms no configuration used (no breaker, no cache) would only be noise.
    bool any = spec.always;
    for (const auto& c : configs) any = any || metric_of(c, spec.metric).value_or(0) != 0;
    if (!any) continue;
    std::vector<std::string> line = {spec.label};
    std::vector<int> tones = {0};
    for (std::size_t i = 0; i < configs.size(); ++i) {
      const std::optional<double> value = metric_of(configs[i], spec.metric);
      if (!value) {
        line.push_back("-");
        tones.push_back(0);
        continue;
      }
      const double v = *value;
      std::string cell = format_value(v, spec.kind) + format_interval(configs[i], spec.metric, spec.kind);
      int t = 0;
      const json* b = baseline_of(configs, i);
      if (const std::optional<double> base_value = b ? metric_of(*b, spec.metric) : std::nullopt) {
        const double base = *base_value;
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
