#include "reports/compare.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

#include "policies/core/json_parse.hpp"

#include "reports/format.hpp"
#include "reports/results.hpp"
#include "reports/results_input.hpp"
#include "reports/statistics.hpp"

namespace squall::reports {
namespace {

// Six significant digits, as results.json stores its numbers: a bound shown is the bound checked.
double tidy_bound(double v) {
  if (!std::isfinite(v) || v == 0) return v;  // an infinite bound stays infinite (it used to become 0)
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.6g", v);
  return std::strtod(buffer, nullptr);
}

struct check_spec {
  const char* metric;
  bool rate;  // compared in percentage points; otherwise in percent of the base
  bool higher_is_better;
  double compare_tolerances::*tolerance;
  double compare_tolerances::*slack;  // absolute change that never counts, or nullptr
};

constexpr check_spec checks[] = {
    {"success_rate", true, true, &compare_tolerances::success_rate_drop_pp_max, nullptr},
    {"degraded_rate", true, false, &compare_tolerances::degraded_rate_rise_pp_max, nullptr},
    {"latency_p50_ms", false, false, &compare_tolerances::latency_p50_growth_pct_max, &compare_tolerances::latency_ms_slack},
    {"latency_p99_ms", false, false, &compare_tolerances::latency_p99_growth_pct_max, &compare_tolerances::latency_ms_slack},
    {"cost_usd", false, false, &compare_tolerances::cost_growth_pct_max, &compare_tolerances::cost_usd_slack},
    {"attempts_per_request", false, false, &compare_tolerances::attempts_growth_pct_max, nullptr},
};

struct tolerance_key {
  const char* key;
  double compare_tolerances::*field;
};

constexpr tolerance_key tolerance_keys[] = {
    {"success_rate_drop_pp_max", &compare_tolerances::success_rate_drop_pp_max},
    {"degraded_rate_rise_pp_max", &compare_tolerances::degraded_rate_rise_pp_max},
    {"latency_p50_growth_pct_max", &compare_tolerances::latency_p50_growth_pct_max},
    {"latency_p99_growth_pct_max", &compare_tolerances::latency_p99_growth_pct_max},
    {"cost_growth_pct_max", &compare_tolerances::cost_growth_pct_max},
    {"attempts_growth_pct_max", &compare_tolerances::attempts_growth_pct_max},
    {"latency_ms_slack", &compare_tolerances::latency_ms_slack},
    {"cost_usd_slack", &compare_tolerances::cost_usd_slack},
};

std::optional<config_error> check_tolerances(const compare_tolerances& t) {
  for (const auto& k : tolerance_keys) {
    const double v = t.*k.field;
    if (!std::isfinite(v) || v < 0) {
      return config_error{"tolerances", std::string("$.") + k.key, "expected a number >= 0, got " + format_number(v)};
    }
  }
  return std::nullopt;
}

json tolerances_document(const compare_tolerances& t) {
  json out = json::object();
  for (const auto& k : tolerance_keys) out[k.key] = t.*k.field;
  return out;
}

const json* find_config(const json& doc, const std::string& name) {
  for (const auto& c : doc["configurations"]) {
    if (c["name"] == name) return &c;
  }
  return nullptr;
}

double summary_metric(const json& config, const char* metric, bool& present) {
  present = config["summary"].contains(metric);
  return present ? config["summary"][metric].get<double>() : 0.0;
}

// n and sd of an aggregated metric, or n = 0 for a single run.
std::pair<std::size_t, double> spread(const json& config, const char* metric) {
  if (!config.contains("summary_stats") || !config["summary_stats"].is_object()) return {0, 0};
  const json& stats = config["summary_stats"];
  if (!stats.contains(metric) || !stats[metric].is_object()) return {0, 0};
  const json& s = stats[metric];
  if (!s.contains("n") || !s["n"].is_number_unsigned() || !s.contains("sd") || !s["sd"].is_number()) return {0, 0};
  return {s["n"].get<std::size_t>(), s["sd"].get<double>()};
}

json run_identity(const json& doc) {
  return {{"seed", doc["seed"]},
          {"reproduce", doc["reproduce"]},
          {"scenario_digest", doc["scenario"]["digest"]},
          {"scenario_file", doc["scenario"].value("file", "")},
          {"squall_version", doc.value("squall_version", "")}};
}

json regression_document(const regression& r) {
  json out = {{"configuration", r.configuration}, {"metric", r.metric},        {"base", r.base},
              {"candidate", r.candidate},         {"tolerance", r.tolerance}, {"unit", r.unit}};
  if (std::isfinite(r.change)) out["change"] = tidy_bound(r.change);
  if (r.noise > 0) out["noise"] = tidy_bound(r.noise);
  out["description"] = r.describe();
  return out;
}

}  // namespace

config_result<compare_tolerances> parse_tolerances(const json& value, const std::string& file) {
  compare_tolerances t;
  json_reader r(value, "$");
  for (const auto& k : tolerance_keys) r.number(k.key, t.*k.field, 0, 1e12);
  if (auto e = r.finish()) {
    e->file = file;
    return *e;
  }
  return t;
}

std::string regression::describe() const {
  char line[256];
  const bool fell = candidate < base;
  if (unit == "pp") {
    std::snprintf(line, sizeof line, "%s by %.2f pp (%s -> %s), tolerance %s pp", fell ? "fell" : "rose",
                  std::fabs(change), format_number(base).c_str(), format_number(candidate).c_str(),
                  format_number(tolerance).c_str());
  } else if (std::isfinite(change)) {
    std::snprintf(line, sizeof line, "grew by %.1f%% (%s -> %s), tolerance %s%%", change, format_number(base).c_str(),
                  format_number(candidate).c_str(), format_number(tolerance).c_str());
  } else {
    std::snprintf(line, sizeof line, "grew from 0 to %s", format_number(candidate).c_str());
  }
  std::string out = configuration + ": " + metric + " " + line;
  if (noise > 0) out += ", seed noise +/-" + format_number(tidy_bound(noise));
  return out;
}

std::string comparison::verdict_text() const {
  std::string out;
  if (regressions.empty()) out += "no regression\n";
  for (const auto& r : regressions) out += "REGRESSION  " + r.describe() + "\n";
  for (const auto& r : within_noise) out += "noise       " + r.describe() + " (within seed noise, not failed)\n";
  for (const auto& w : warnings) out += "warning: " + w + "\n";
  return out;
}

config_result<comparison> compare_results(const json& base, const json& candidate, const compare_tolerances& tolerances) {
  if (auto e = check_results(base, "base")) return *e;
  if (auto e = check_results(candidate, "candidate")) return *e;
  if (auto e = check_tolerances(tolerances)) return *e;

  comparison out;
  const std::string base_digest = base["scenario"]["digest"].get<std::string>();
  const std::string cand_digest = candidate["scenario"]["digest"].get<std::string>();
  if (base_digest != cand_digest) {
    out.warnings.push_back("the runs come from different scenarios (base " + base["scenario"]["name"].get<std::string>() +
                           " " + cut_utf8(base_digest, 22) + ", candidate " +
                           candidate["scenario"]["name"].get<std::string>() + " " + cut_utf8(cand_digest, 22) +
                           "): differences may come from the scenario, not the policies");
  }

  // Pairs of (base configuration, candidate configuration).
  std::vector<std::pair<const json*, const json*>> pairs;
  for (const auto& b : base["configurations"]) {
    if (const json* c = find_config(candidate, b["name"].get<std::string>())) pairs.emplace_back(&b, c);
  }
  const auto& base_configs = base["configurations"];
  const auto& cand_configs = candidate["configurations"];
  if (pairs.empty() && base_configs.size() == 1 && cand_configs.size() == 1) {
    pairs.emplace_back(&base_configs[0], &cand_configs[0]);
    out.warnings.push_back("no configuration name in common; comparing base " + dump_json(base_configs[0]["name"]) +
                           " with candidate " + dump_json(cand_configs[0]["name"]));
  }
  if (pairs.empty()) {
    std::string b_names, c_names;
    for (const auto& c : base_configs) b_names += (b_names.empty() ? "" : ", ") + dump_json(c["name"]);
    for (const auto& c : cand_configs) c_names += (c_names.empty() ? "" : ", ") + dump_json(c["name"]);
    return config_error{"candidate", "$.configurations",
                        "no configuration to compare: base has " + b_names + ", candidate has " + c_names};
  }
  auto paired = [&](const json* c, bool is_base) {
    return std::any_of(pairs.begin(), pairs.end(), [&](const auto& p) { return (is_base ? p.first : p.second) == c; });
  };
  for (const auto& b : base_configs) {
    if (!paired(&b, true)) out.warnings.push_back("configuration " + dump_json(b["name"]) + " is only in the base run");
  }
  for (const auto& c : cand_configs) {
    if (!paired(&c, false)) out.warnings.push_back("configuration " + dump_json(c["name"]) + " is only in the candidate run");
  }

  json merged_configs = json::array();
  auto renamed = [](const json& c, const std::string& prefix) {
    json copy = c;
    copy["name"] = prefix + c["name"].get<std::string>();
    return copy;
  };
  for (const auto& b : base_configs) {
    merged_configs.push_back(renamed(b, "base: "));
    for (const auto& [pb, pc] : pairs) {
      if (pb == &b) {
        json c = renamed(*pc, "candidate: ");
        c["baseline"] = "base: " + b["name"].get<std::string>();
        merged_configs.push_back(std::move(c));
      }
    }
  }
  for (const auto& c : cand_configs) {
    if (!paired(&c, false)) merged_configs.push_back(renamed(c, "candidate: "));
  }

  json assertions = json::array();
  for (const auto& a : candidate["assertions"]) {
    json copy = a;
    copy["configuration"] = "candidate: " + a["configuration"].get<std::string>();
    assertions.push_back(std::move(copy));
  }
  for (const auto& [pb, pc] : pairs) {
    const std::string name = (*pc)["name"].get<std::string>();
    for (const auto& spec : checks) {
      bool has_b = false, has_c = false;
      const double b = summary_metric(*pb, spec.metric, has_b);
      const double c = summary_metric(*pc, spec.metric, has_c);
      if (!has_b || !has_c) {
        out.warnings.push_back("configuration " + dump_json((*pc)["name"]) + ": no " + spec.metric + " in " +
                               (has_b ? "the candidate" : "the base") + " run; not compared");
        continue;
      }
      const double tol = tolerances.*spec.tolerance;
      const double slack = spec.slack ? tolerances.*spec.slack : 0.0;
      double bound = 0;
      if (spec.rate) bound = spec.higher_is_better ? b - tol / 100 : b + tol / 100;
      else bound = b + std::max(std::fabs(b) * (tol / 100), slack);  // tol / 100 first: |b| * tol overflows near 1.8e308
      bound = tidy_bound(bound);
      if (std::isinf(bound)) bound = std::copysign(std::numeric_limits<double>::max(), bound);  // JSON has no inf
      // A value equal to its base never regresses, whatever rounding or overflow did to the bound (two
      // identical documents with values near 1.7e308 used to be reported as regressions).
      const bool held = c == b || (spec.higher_is_better ? c >= bound : c <= bound);

      regression r;
      r.configuration = name;
      r.metric = spec.metric;
      r.base = b;
      r.candidate = c;
      r.tolerance = tol;
      r.unit = spec.rate ? "pp" : "%";
      if (spec.rate) r.change = (c - b) * 100;
      else r.change = b != 0 ? (c - b) / std::fabs(b) * 100 : (c == b ? 0 : INFINITY);
      const auto [n_b, sd_b] = spread(*pb, spec.metric);
      const auto [n_c, sd_c] = spread(*pc, spec.metric);
      r.noise = welch_half_width_95(n_b, sd_b, n_c, sd_c);
      const bool noise_only = !held && r.noise > 0 && std::fabs(c - b) <= r.noise;

      json a = json::object();
      a["configuration"] = "candidate: " + name;
      a["metric"] = spec.metric;
      a["kind"] = spec.higher_is_better ? "min" : "max";
      a["bound"] = bound;
      a["measured"] = c;
      a["passed"] = held || noise_only;
      a["name"] = std::string("compare: ") + spec.metric + (spec.rate ? (spec.higher_is_better ? " drop <= " : " rise <= ") : " growth <= ") +
                  format_number(tol) + (spec.rate ? " pp" : "%");
      a["base"] = b;
      a["source"] = "compare";
      if (noise_only) a["note"] = "worse than the tolerance but within seed noise +/-" + format_number(tidy_bound(r.noise));
      assertions.push_back(std::move(a));
      if (noise_only) out.within_noise.push_back(std::move(r));
      else if (!held) out.regressions.push_back(std::move(r));
    }
  }

  bool all_passed = true;
  for (const auto& a : assertions) all_passed = all_passed && a["passed"].get<bool>();
  json& m = out.merged;
  m = json::object();
  m["format"] = results_format;
  m["squall_version"] = candidate.value("squall_version", "");
  m["mode"] = candidate.value("mode", "");
  m["seed"] = candidate["seed"];
  m["reproduce"] = candidate["reproduce"];
  m["scenario"] = candidate["scenario"];
  m["configurations"] = std::move(merged_configs);
  m["assertions"] = std::move(assertions);
  m["verdict"] = all_passed ? "pass" : "fail";
  m["warnings"] = out.warnings;
  json regressions = json::array();
  for (const auto& r : out.regressions) regressions.push_back(regression_document(r));
  json noise = json::array();
  for (const auto& r : out.within_noise) noise.push_back(regression_document(r));
  m["compare"] = {{"base", run_identity(base)},
                  {"candidate", run_identity(candidate)},
                  {"tolerances", tolerances_document(tolerances)},
                  {"passed", out.passed()},
                  {"regressions", std::move(regressions)},
                  {"within_noise", std::move(noise)}};
  return out;
}

}  // namespace squall::reports
