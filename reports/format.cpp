#include "reports/format.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "policies/core/json_parse.hpp"

namespace squall::reports {
namespace {

constexpr metric_row rows[] = {
    {"success rate", "success_rate", unit::percent, true, true},
    {"degraded rate", "degraded_rate", unit::percent, false},
    {"bad content answers", "bad_content", unit::count, false},
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
    // A service under test: what the fake providers saw of it (runs/upstream_view.hpp).
    {"provider attempts", "upstream_attempts", unit::count, false},
    {"provider attempts / request", "upstream_attempts_per_request", unit::ratio, false},
    {"most attempts for one request", "upstream_attempts_request_peak", unit::count, false},
    {"provider retries", "upstream_retries", unit::count, false},
    {"unattributed attempts", "upstream_unattributed", unit::count, false},
    {"provider cost", "upstream_cost_usd", unit::usd, false},
    {"provider cost wasted", "upstream_cost_wasted_usd", unit::usd, false},
};

}  // namespace

std::span<const metric_row> comparison_rows() { return rows; }

namespace {

// A share as a percentage with two decimals, or as many more (up to four) as it takes not to round a share
// below 1 up to 100% or a share above 0 down to 0%: 0.999971 reads "99.997%", never "100.00%".
std::string format_percent(double v) {
  char b[64];
  for (int decimals = 2; decimals <= 4; ++decimals) {
    std::snprintf(b, sizeof b, "%.*f%%", decimals, v * 100);
    const double shown = std::strtod(b, nullptr) / 100;
    const bool rounded_to_whole = (v < 1 && shown >= 1) || (v > 0 && shown <= 0);
    if (!rounded_to_whole) return b;
  }
  if (v < 1 && v > 0.5) return ">99.9999%";
  return "<0.0001%";
}

// Dollars: cents from a dollar up; below, three significant digits in fixed notation ("$0.00766",
// "$0.0000603"), never e-notation, which a reader takes for a typo.
std::string format_usd(double v) {
  char b[64];
  if (v == 0 || std::fabs(v) >= 1) {
    std::snprintf(b, sizeof b, "$%.2f", v);
    return b;
  }
  const int decimals = std::clamp(2 - static_cast<int>(std::floor(std::log10(std::fabs(v)))), 2, 12);
  std::snprintf(b, sizeof b, "$%.*f", decimals, v);
  return b;
}

}  // namespace

std::string format_value(double v, unit kind) { return format_value(v, kind, v); }

std::string format_value(double v, unit kind, double row_max) {
  char b[64];
  switch (kind) {
    case unit::percent: return format_percent(v);
    case unit::ms:
      // One unit for a whole row or column: seconds when its largest value reaches 10 s.
      if (std::fabs(row_max) >= 10000 || std::fabs(v) >= 10000) {
        std::snprintf(b, sizeof b, std::fabs(v) >= 10000 ? "%.1f s" : "%.2f s", v / 1000);
      } else {
        std::snprintf(b, sizeof b, "%.0f ms", v);
      }
      break;
    case unit::count: std::snprintf(b, sizeof b, "%.0f", v); break;
    case unit::ratio: std::snprintf(b, sizeof b, "%.3f", v); break;
    case unit::usd: return format_usd(v);
  }
  return b;
}

std::string format_delta(double base, double v, unit kind) {
  char b[64];
  if (kind == unit::percent) {
    if (std::fabs(v - base) < 0.00005) return "=";  // would print as +0.00 pp
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

std::string format_number(double v) {
  if (!std::isfinite(v)) return v > 0 ? "inf" : (v < 0 ? "-inf" : "nan");
  char b[64];
  const auto r = std::to_chars(b, b + sizeof b, v);
  return std::string(b, r.ptr);
}

double results_number(double v) {
  if (!std::isfinite(v) || v == 0) return std::isfinite(v) ? v : 0.0;
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.6g", v);
  return std::strtod(buffer, nullptr);
}

std::string text_field(const json& parent, const char* key) {
  if (!parent.is_object() || !parent.contains(key)) return "";
  const json& v = parent[key];
  return v.is_string() ? v.get<std::string>() : dump_json(v);
}

std::string format_interval(const json& config, const char* metric, unit kind, double row_max) {
  if (!config.is_object()) return {};
  const auto stats = config.find("summary_stats");
  if (stats == config.end() || !stats->is_object()) return {};
  const auto s = stats->find(metric);
  if (s == stats->end() || !s->is_object()) return {};
  const auto low = s->find("ci95_low");
  const auto high = s->find("ci95_high");
  if (low == s->end() || high == s->end() || !low->is_number() || !high->is_number()) return {};
  const double h = (high->get<double>() - low->get<double>()) / 2;
  char b[64];
  if (kind == unit::percent) {
    std::snprintf(b, sizeof b, "%.2f pp", h * 100);
  } else if (kind == unit::count) {
    std::snprintf(b, sizeof b, "%.1f", h);
  } else {
    return " \xC2\xB1 " + format_value(h, kind, row_max);
  }
  return std::string(" \xC2\xB1 ") + b;
}

const json* baseline_of(const json& configurations, std::size_t i) {
  if (!configurations.is_array() || i >= configurations.size()) return nullptr;
  const json& c = configurations[i];
  if (c.is_object() && c.contains("baseline") && c["baseline"].is_string()) {
    for (std::size_t k = 0; k < configurations.size(); ++k) {
      if (k != i && configurations[k].is_object() && configurations[k].value("name", json()) == c["baseline"]) {
        return &configurations[k];
      }
    }
  }
  // A paired document (a comparison) measures only its candidates, each against its own base; the base
  // run's configurations are not measured against each other.
  for (const auto& other : configurations) {
    if (other.is_object() && other.contains("baseline")) return nullptr;
  }
  return i == 0 ? nullptr : &configurations[0];
}

namespace {

// " during storm", " after storm", or "" for the whole run.
std::string scope_suffix(const json& a) {
  if (!a.contains("scope") || !a["scope"].is_string() || !a.contains("fault") || !a["fault"].is_string()) return "";
  return " " + a["scope"].get<std::string>() + " " + a["fault"].get<std::string>();
}

}  // namespace

std::string assertion_name(const json& a) {
  if (a.contains("name") && a["name"].is_string()) return a["name"].get<std::string>();
  const bool is_min = a.value("kind", "min") == "min";
  return a.value("metric", "?") + (is_min ? "_min >= " : "_max <= ") + format_number(a.value("bound", 0.0)) +
         scope_suffix(a);
}

std::string assertion_detail(const json& a) {
  const bool is_min = a.value("kind", "min") == "min";
  const std::string must = (is_min ? "must be >= " : "must be <= ") + format_number(a.value("bound", 0.0));
  const bool has_note = a.contains("note") && a["note"].is_string();
  // A metric without samples has no measured value: the note says why, and the assertion failed on it.
  if (!a.contains("measured") && has_note) {
    return a.value("metric", "?") + scope_suffix(a) + ": " + a["note"].get<std::string>() + "; " + must;
  }
  std::string out = a.value("metric", "?") + scope_suffix(a) + " = " + format_number(a.value("measured", 0.0)) + ", " + must;
  if (has_note) out += " (" + a["note"].get<std::string>() + ")";
  return out;
}

std::string markdown_cell(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (c == '|') out += "\\|";
    else if (c == '\n' || c == '\r') out += ' ';
    else out += c;
  }
  return out;
}

}  // namespace squall::reports
