#include "reports/aggregate.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <initializer_list>
#include <string>

#include "reports/format.hpp"
#include "reports/results_input.hpp"
#include "reports/statistics.hpp"

namespace squall::reports {
namespace {

double number_at(const json& v) { return v.is_number() ? v.get<double>() : 0.0; }

// The element-wise mean of the same array in every run, cut to the shortest.
json mean_array(const std::vector<const json*>& arrays) {
  std::size_t length = SIZE_MAX;
  for (const json* a : arrays) length = std::min(length, a && a->is_array() ? a->size() : 0);
  json out = json::array();
  for (std::size_t i = 0; i < length; ++i) {
    double sum = 0;
    for (const json* a : arrays) sum += number_at((*a)[i]);
    out.push_back(results_number(sum / static_cast<double>(arrays.size())));
  }
  return out;
}

// The mean over runs of every number found at the same place in `values` (objects and arrays of
// numbers, recursively). A run lacking a number counts it as 0, as a counter that never fired; strings
// and other leaves are taken from the first run that has them.
json mean_tree(const std::vector<const json*>& values) {
  const json* first = nullptr;
  for (const json* v : values) {
    if (v && !first) first = v;
  }
  if (!first) return nullptr;
  if (first->is_number()) {
    double sum = 0;
    for (const json* v : values) sum += v ? number_at(*v) : 0.0;
    return results_number(sum / static_cast<double>(values.size()));
  }
  if (first->is_object()) {
    std::vector<std::string> keys;  // the union, in order of first appearance
    for (const json* v : values) {
      if (!v || !v->is_object()) continue;
      for (auto it = v->begin(); it != v->end(); ++it) {
        if (std::find(keys.begin(), keys.end(), it.key()) == keys.end()) keys.push_back(it.key());
      }
    }
    json out = json::object();
    for (const auto& key : keys) {
      std::vector<const json*> children;
      for (const json* v : values) children.push_back(v && v->is_object() && v->contains(key) ? &(*v)[key] : nullptr);
      out[key] = mean_tree(children);
    }
    return out;
  }
  if (first->is_array()) {
    const bool numbers = std::all_of(first->begin(), first->end(), [](const json& e) { return e.is_number(); });
    if (numbers) return mean_array(values);
    std::size_t length = SIZE_MAX;
    for (const json* v : values) length = std::min(length, v && v->is_array() ? v->size() : 0);
    json out = json::array();
    for (std::size_t i = 0; i < length; ++i) {
      std::vector<const json*> children;
      for (const json* v : values) children.push_back(&(*v)[i]);
      out.push_back(mean_tree(children));
    }
    return out;
  }
  return *first;
}

// Rows of a table keyed by some of their fields (configurations[].errors, .models), over the runs: one
// row per key seen in any run, in order of first appearance; counts and figures the mean over all runs (a
// run without the row counts 0, as a failure that did not happen there); first_s the earliest and last_s
// the latest of any run. Rows are then ordered by "requests" (the error table's order) when they have it.
json mean_rows(const std::vector<const json*>& tables, std::initializer_list<const char*> key_fields) {
  auto same_key = [&](const json& a, const json& b) {
    for (const char* k : key_fields) {
      if (a.value(k, json()) != b.value(k, json())) return false;
    }
    return true;
  };
  json out = json::array();
  std::vector<std::vector<const json*>> members;  // per output row, the row of each run (null: absent)
  for (std::size_t run = 0; run < tables.size(); ++run) {
    if (!tables[run] || !tables[run]->is_array()) continue;
    for (const auto& row : *tables[run]) {
      if (!row.is_object()) continue;
      std::size_t at = 0;
      while (at < out.size() && !same_key(out[at], row)) ++at;
      if (at == out.size()) {
        out.push_back(row);
        members.emplace_back(tables.size(), nullptr);
      }
      members[at][run] = &row;
    }
  }
  for (std::size_t i = 0; i < out.size(); ++i) {
    json& row = out[i];
    for (auto it = row.begin(); it != row.end(); ++it) {
      if (!it->is_number()) continue;
      const std::string key = it.key();
      if (std::find_if(key_fields.begin(), key_fields.end(), [&](const char* k) { return key == k; }) != key_fields.end()) continue;
      const bool earliest = key == "first_s", latest = key == "last_s";
      double acc = 0;
      bool seen = false;
      for (const json* m : members[i]) {
        if (!m || !m->contains(key)) continue;
        const double v = number_at((*m)[key]);
        if (earliest || latest) acc = !seen ? v : earliest ? std::min(acc, v) : std::max(acc, v);
        else acc += v;
        seen = true;
      }
      *it = results_number(earliest || latest ? acc : acc / static_cast<double>(tables.size()));
    }
  }
  if (!out.empty() && out[0].contains("requests")) {
    std::stable_sort(out.begin(), out.end(), [](const json& a, const json& b) {
      const bool a_other = a.value("class", "") == "other", b_other = b.value("class", "") == "other";
      if (a_other != b_other) return b_other;
      return number_at(a.value("requests", json())) > number_at(b.value("requests", json()));
    });
  }
  return out;
}

}  // namespace

config_result<json> aggregate_seeds(const std::vector<json>& runs) {
  if (runs.size() < 2) {
    return config_error{"", "", "aggregating seeds needs at least 2 runs, got " + std::to_string(runs.size())};
  }
  for (std::size_t i = 0; i < runs.size(); ++i) {
    if (auto e = check_results(runs[i], "run " + std::to_string(i))) return *e;
  }
  const json& first = runs[0];
  for (std::size_t i = 1; i < runs.size(); ++i) {
    const std::string file = "run " + std::to_string(i);
    if (runs[i]["scenario"]["digest"] != first["scenario"]["digest"]) {
      return config_error{file, "$.scenario.digest",
                          "expected the scenario of run 0 (" + first["scenario"]["digest"].get<std::string>() +
                              "), got " + runs[i]["scenario"]["digest"].get<std::string>() +
                              ": seeds can only be aggregated over one scenario"};
    }
    const json& a = first["configurations"];
    const json& b = runs[i]["configurations"];
    bool same = a.size() == b.size();
    for (std::size_t k = 0; same && k < a.size(); ++k) same = a[k]["name"] == b[k]["name"];
    if (!same) return config_error{file, "$.configurations", "expected the same configurations, in the same order, as run 0"};
  }
  const double n = static_cast<double>(runs.size());

  json doc = first;
  json seeds = json::array();
  for (const auto& r : runs) seeds.push_back(r["seed"]);

  json& configs = doc["configurations"];
  for (std::size_t k = 0; k < configs.size(); ++k) {
    json& c = configs[k];
    auto gather = [&](const char* key) {
      std::vector<const json*> values;
      for (const auto& r : runs) {
        const json& rc = r["configurations"][k];
        values.push_back(rc.contains(key) ? &rc[key] : nullptr);
      }
      return values;
    };
    json summary = json::object();
    json stats = json::object();
    for (auto it = first["configurations"][k]["summary"].begin(); it != first["configurations"][k]["summary"].end(); ++it) {
      std::vector<double> values;
      for (const auto& r : runs) {
        const json& s = r["configurations"][k]["summary"];
        values.push_back(s.contains(it.key()) ? s[it.key()].get<double>() : 0.0);
      }
      const sample_stats st = describe_sample(values);
      summary[it.key()] = results_number(st.mean);
      stats[it.key()] = {{"n", st.n}, {"mean", results_number(st.mean)}, {"sd", results_number(st.sd)},
                         {"ci95_low", results_number(st.ci95_low)}, {"ci95_high", results_number(st.ci95_high)}};
    }
    c["summary"] = std::move(summary);
    c["summary_stats"] = std::move(stats);
    for (const char* key : {"outcomes", "latency_spectrum", "breakers", "decisions", "simulated_s", "events", "series"}) {
      auto values = gather(key);
      if (values[0]) c[key] = mean_tree(values);
    }
    if (auto values = gather("errors"); values[0]) {
      c["errors"] = mean_rows(values, {"class", "http_status", "provider", "model", "policy", "message"});
    }
    if (auto values = gather("models"); values[0]) c["models"] = mean_rows(values, {"provider", "model", "other"});
    if (c.contains("providers") && c["providers"].is_array()) {
      for (std::size_t p = 0; p < c["providers"].size(); ++p) {
        for (const char* key : {"busy_max", "queue_max"}) {
          double most = 0;
          for (const auto& r : runs) {
            const json& rp = r["configurations"][k].value("providers", json::array());
            if (p < rp.size() && rp[p].contains(key)) most = std::max(most, number_at(rp[p][key]));
          }
          if (c["providers"][p].contains(key)) c["providers"][p][key] = most;
        }
        // Queue waits and traffic are read like the summary's latency percentiles: the mean of each run's
        // figure.
        for (const char* key : {"service_started", "queue_waited_share", "queue_wait_mean_ms", "queue_wait_p50_ms",
                                "queue_wait_p90_ms", "queue_wait_p99_ms", "attempts", "successes", "failures",
                                "cancelled", "cost_usd", "attempt_latency_p50_ms", "attempt_latency_p95_ms"}) {
          if (!c["providers"][p].contains(key)) continue;
          double sum = 0;
          for (const auto& r : runs) {
            const json& rp = r["configurations"][k].value("providers", json::array());
            if (p < rp.size() && rp[p].contains(key)) sum += number_at(rp[p][key]);
          }
          c["providers"][p][key] = results_number(sum / n);
        }
      }
    }
  }

  json assertions = json::array();
  bool all_passed = true;
  for (const auto& a : first["assertions"]) {
    json out = a;
    const std::string metric = a["metric"].get<std::string>();
    const bool is_min = a["kind"] == "min";
    const double bound = a["bound"].get<double>();
    const json* config = nullptr;
    for (const auto& c : configs) {
      if (c["name"] == a["configuration"]) config = &c;
    }
    // The same assertion in another run: the same configuration, metric, bound and scope.
    auto same = [&a](const json& ra) {
      return ra["configuration"] == a["configuration"] && ra["metric"] == a["metric"] && ra["kind"] == a["kind"] &&
             ra["bound"] == a["bound"] && ra.value("scope", "") == a.value("scope", "") &&
             ra.value("fault", "") == a.value("fault", "");
    };
    std::size_t passed_runs = 0;
    std::string unmeasured;  // the note of a run in which the metric had no samples
    for (const auto& r : runs) {
      for (const auto& ra : r["assertions"]) {
        if (!same(ra)) continue;
        if (ra["passed"].get<bool>()) ++passed_runs;
        if (!ra.contains("measured") && unmeasured.empty()) unmeasured = ra.value("note", "no samples");
        break;
      }
    }
    if (!unmeasured.empty()) {
      // A metric without samples in one run has no mean over the runs: the assertion fails, as in that run.
      out.erase("measured");
      out["note"] = unmeasured;
      out["passed"] = false;
    } else if (config && !a.contains("scope") && (*config)["summary"].contains(metric)) {
      const double mean = (*config)["summary"][metric].get<double>();
      out["measured"] = mean;
      out["passed"] = is_min ? mean >= bound : mean <= bound;
    } else {
      // An assertion on a metric the summary lacks (a window's, a recovery) is averaged over the runs.
      double sum = 0;
      for (const auto& r : runs) {
        for (const auto& ra : r["assertions"]) {
          if (same(ra)) {
            sum += ra["measured"].get<double>();
            break;
          }
        }
      }
      out["measured"] = results_number(sum / n);
      out["passed"] = is_min ? sum / n >= bound : sum / n <= bound;
    }
    out["passed_runs"] = passed_runs;
    out["runs"] = runs.size();
    all_passed = all_passed && out["passed"].get<bool>();
    assertions.push_back(std::move(out));
  }
  doc["assertions"] = std::move(assertions);
  doc["verdict"] = all_passed ? "pass" : "fail";
  doc["aggregate"] = {{"runs", runs.size()}, {"seeds", std::move(seeds)}, {"confidence", 0.95}, {"interval", "student-t"}};
  return doc;
}

}  // namespace squall::reports
