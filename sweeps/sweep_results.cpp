#include "sweeps/sweep_results.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

#include "policies/core/json_parse.hpp"
#include "reports/format.hpp"
#include "sim/metrics/run_metrics.hpp"
#include "squall_version.hpp"

namespace squall::sweeps {
namespace {

double ratio(double a, double b) { return b > 0 ? a / b : 0.0; }

// A whole number 0 or more, however the JSON reader typed it.
bool is_whole(const json& v) { return v.is_number_unsigned() || (v.is_number_integer() && v.get<std::int64_t>() >= 0); }


// A figure as the messages print it: 4 significant digits.
std::string short_number(double v) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.4g", v);
  return buffer;
}

bool maximized(const std::string& metric) { return metric.rfind("success_rate", 0) == 0; }

struct cell_figures {
  std::size_t runs = 0;
  bool complete = false;
  json metrics;  // null when nothing ran
};

cell_figures figures_of(const std::vector<const unit_record*>& units, std::uint32_t seeds) {
  cell_figures f;
  std::uint64_t requests = 0, completed = 0, succeeded = 0, unfinished = 0, attempts = 0;
  double cost = 0;
  double rate_min = std::numeric_limits<double>::infinity();
  double rate_max = -rate_min;
  sim::histogram latency;
  bool incomplete = false;
  for (const unit_record* u : units) {
    ++f.runs;
    incomplete = incomplete || u->incomplete;
    requests += u->requests;
    completed += u->completed;
    succeeded += u->succeeded;
    unfinished += u->unfinished;
    attempts += u->attempts;
    cost += u->cost_usd;
    const double rate = ratio(static_cast<double>(u->succeeded), static_cast<double>(u->requests));
    rate_min = std::min(rate_min, rate);
    rate_max = std::max(rate_max, rate);
    if (auto h = sim::histogram::from_parts(u->latency_buckets, u->latency_sum_us, u->latency_min_us, u->latency_max_us)) {
      latency.merge(*h);
    }
  }
  f.complete = f.runs == seeds && !incomplete;
  if (f.runs == 0) return f;
  auto ms = [&](double q) { return reports::results_number(static_cast<double>(latency.quantile(q)) / 1000.0); };
  using reports::results_number;
  f.metrics = {
      {"requests", requests},
      {"success_rate", results_number(ratio(static_cast<double>(succeeded), static_cast<double>(requests)))},
      {"success_rate_min", results_number(rate_min)},
      {"success_rate_max", results_number(rate_max)},
      {"latency_p50_ms", ms(0.50)},
      {"latency_p95_ms", ms(0.95)},
      {"latency_p99_ms", ms(0.99)},
      {"cost_usd", results_number(cost / static_cast<double>(f.runs))},
      {"cost_per_success_usd", results_number(ratio(cost, static_cast<double>(succeeded)))},
      {"attempts_per_request", results_number(ratio(static_cast<double>(attempts), static_cast<double>(completed + unfinished)))},
  };
  return f;
}

// a dominates b: at least as good on all three objectives and better on one.
bool dominates(const json& a, const json& b) {
  const double sa = a["success_rate"], sb = b["success_rate"];
  const double la = a["latency_p99_ms"], lb = b["latency_p99_ms"];
  const double ca = a["cost_usd"], cb = b["cost_usd"];
  return sa >= sb && la <= lb && ca <= cb && (sa > sb || la < lb || ca < cb);
}

// The order of the recommendation among cells that meet the constraints: the objective, then success rate,
// p99 latency and cost, then the lower index.
bool better(const json& a, std::size_t ia, const json& b, std::size_t ib, const objective& goal) {
  const double ga = a[goal.metric], gb = b[goal.metric];
  if (ga != gb) return goal.maximize ? ga > gb : ga < gb;
  for (const auto& [metric, up] : {std::pair<const char*, bool>{"success_rate", true}, {"latency_p99_ms", false}, {"cost_usd", false}}) {
    const double va = a[metric], vb = b[metric];
    if (va != vb) return up ? va > vb : va < vb;
  }
  return ia < ib;
}

std::uint64_t read_count(const json& j, const char* key, const std::string& where, std::optional<config_error>& error,
                         const std::string& file) {
  if (error) return 0;
  if (!j.contains(key) || !is_whole(j[key])) {
    error = config_error{file, json_path_key(where, key), "expected a whole number 0 or more"};
    return 0;
  }
  return j[key].get<std::uint64_t>();
}

// A plan read from a shard file, checked to be one plan_json writes, so that sweep_document and the writers
// meet only what they expect; the error names the first thing that is not.
std::optional<config_error> check_plan(const json& plan, const std::string& file) {
  auto bad = [&](const std::string& path, const std::string& what) { return config_error{file, "$.plan" + path, "expected " + what}; };
  if (!plan.is_object() || plan.value("format", "") != sweep_format) return bad("", std::string("the sweep's plan (\"") + sweep_format + "\")");
  for (const char* key : {"squall_version", "scenario", "file", "digest", "reproduce"}) {
    if (!plan.contains(key) || !plan[key].is_string()) return bad(json_path_key("", key), "a string");
  }
  if (!plan.contains("seed") || !is_whole(plan["seed"])) return bad(".seed", "a whole number");
  if (!plan.contains("seeds") || !is_whole(plan["seeds"]) || plan["seeds"].get<std::uint64_t>() < 1 || plan["seeds"].get<std::uint64_t>() > 1000) {
    return bad(".seeds", "a whole number from 1 to 1000");
  }
  if (!plan.contains("draws") || !is_whole(plan["draws"])) return bad(".draws", "a whole number");
  if (!plan.contains("configurations") || !plan["configurations"].is_array()) return bad(".configurations", "an array of names");
  for (const auto& c : plan["configurations"]) {
    if (!c.is_string()) return bad(".configurations", "an array of names");
  }
  if (!plan.contains("parameters") || !plan["parameters"].is_array()) return bad(".parameters", "an array");
  for (std::size_t i = 0; i < plan["parameters"].size(); ++i) {
    const json& p = plan["parameters"][i];
    if (!p.is_object() || !p.contains("path") || !p["path"].is_string()) return bad(json_path_index(".parameters", i), "{\"path\": ...}");
  }
  const json& goal = plan.contains("objective") ? plan["objective"] : json();
  if (!goal.is_object() || !goal.contains("metric") || !goal["metric"].is_string() || !parse_objective(goal["metric"].get<std::string>()).ok()) {
    return bad(".objective", "{\"metric\": one of the cell metrics}");
  }
  if (!plan.contains("constraints") || !plan["constraints"].is_array()) return bad(".constraints", "an array");
  for (std::size_t i = 0; i < plan["constraints"].size(); ++i) {
    const json& c = plan["constraints"][i];
    if (!c.is_string() || !parse_constraint(c.get<std::string>()).ok()) return bad(json_path_index(".constraints", i), "a constraint such as cost_usd<=1.1x");
  }
  if (!plan.contains("cells") || !plan["cells"].is_array() || plan["cells"].empty()) return bad(".cells", "a non-empty array");
  for (std::size_t i = 0; i < plan["cells"].size(); ++i) {
    const json& c = plan["cells"][i];
    const std::string where = json_path_index(".cells", i);
    if (!c.is_object() || !c.contains("index") || !is_whole(c["index"]) || c["index"].get<std::uint64_t>() != i) return bad(where, "a cell with \"index\" " + std::to_string(i));
    if (!c.contains("configuration") || !c["configuration"].is_string() || !c.contains("run") || !c["run"].is_string() ||
        !c.contains("baseline") || !c["baseline"].is_boolean() || !c.contains("values") || !c["values"].is_array() || !c.contains("sets") ||
        !c["sets"].is_array()) {
      return bad(where, "a cell {index, configuration, baseline, values, sets, run}");
    }
    for (const auto& set : c["sets"]) {
      if (!set.is_string()) return bad(json_path_key(where, "sets"), "an array of strings");
    }
  }
  return std::nullopt;
}

}  // namespace

const std::vector<std::string>& cell_metric_names() {
  static const std::vector<std::string> names = {"requests",       "success_rate",   "success_rate_min",
                                                 "success_rate_max", "latency_p50_ms", "latency_p95_ms",
                                                 "latency_p99_ms", "cost_usd",       "cost_per_success_usd",
                                                 "attempts_per_request"};
  return names;
}

unit_record make_unit_record(std::size_t unit, const sim::configuration_result& result) {
  const sim::run_metrics& m = *result.metrics;
  unit_record r;
  r.unit = unit;
  r.incomplete = result.incomplete;
  r.requests = m.offered();
  r.completed = m.completed();
  r.succeeded = m.succeeded();
  r.unfinished = m.unfinished();
  r.attempts = m.attempts();
  r.cost_usd = m.cost_usd();
  set_latency(r, m.latency());
  return r;
}

void set_latency(unit_record& r, const sim::histogram& h) {
  r.latency_buckets.clear();
  for (std::size_t i = 0; i < sim::histogram::bucket_count; ++i) {
    if (h.bucket(i) != 0) r.latency_buckets.emplace_back(i, h.bucket(i));
  }
  r.latency_sum_us = h.sum();
  r.latency_min_us = h.min();
  r.latency_max_us = h.max();
}

json unit_json(const unit_record& r) {
  json buckets = json::array();
  for (const auto& [index, n] : r.latency_buckets) buckets.push_back(json::array({index, n}));
  return {{"unit", r.unit},
          {"incomplete", r.incomplete},
          {"requests", r.requests},
          {"completed", r.completed},
          {"succeeded", r.succeeded},
          {"unfinished", r.unfinished},
          {"attempts", r.attempts},
          {"cost_usd", r.cost_usd},
          {"latency_us", {{"sum", r.latency_sum_us}, {"min", r.latency_min_us}, {"max", r.latency_max_us}, {"buckets", buckets}}}};
}

config_result<unit_record> read_unit(const json& j, const std::string& file, const std::string& where) {
  if (!j.is_object()) return config_error{file, where, "expected a unit object, got " + describe_json(j)};
  std::optional<config_error> error;
  unit_record r;
  r.unit = read_count(j, "unit", where, error, file);
  r.requests = read_count(j, "requests", where, error, file);
  r.completed = read_count(j, "completed", where, error, file);
  r.succeeded = read_count(j, "succeeded", where, error, file);
  r.unfinished = read_count(j, "unfinished", where, error, file);
  r.attempts = read_count(j, "attempts", where, error, file);
  if (error) return *error;
  if (!j.contains("incomplete") || !j["incomplete"].is_boolean()) return config_error{file, json_path_key(where, "incomplete"), "expected true or false"};
  r.incomplete = j["incomplete"].get<bool>();
  if (!j.contains("cost_usd") || !j["cost_usd"].is_number() || j["cost_usd"].get<double>() < 0) {
    return config_error{file, json_path_key(where, "cost_usd"), "expected a number 0 or more"};
  }
  r.cost_usd = j["cost_usd"].get<double>();
  const std::string lwhere = json_path_key(where, "latency_us");
  if (!j.contains("latency_us") || !j["latency_us"].is_object()) return config_error{file, lwhere, "expected the latency histogram object"};
  const json& l = j["latency_us"];
  r.latency_sum_us = read_count(l, "sum", lwhere, error, file);
  r.latency_min_us = read_count(l, "min", lwhere, error, file);
  r.latency_max_us = read_count(l, "max", lwhere, error, file);
  if (error) return *error;
  const std::string bwhere = json_path_key(lwhere, "buckets");
  if (!l.contains("buckets") || !l["buckets"].is_array()) return config_error{file, bwhere, "expected an array of [index, count]"};
  for (std::size_t i = 0; i < l["buckets"].size(); ++i) {
    const json& b = l["buckets"][i];
    if (!b.is_array() || b.size() != 2 || !is_whole(b[0]) || !is_whole(b[1])) {
      return config_error{file, json_path_index(bwhere, i), "expected [index, count] with whole numbers"};
    }
    r.latency_buckets.emplace_back(b[0].get<std::size_t>(), b[1].get<std::uint64_t>());
  }
  if (!sim::histogram::from_parts(r.latency_buckets, r.latency_sum_us, r.latency_min_us, r.latency_max_us)) {
    return config_error{file, lwhere, "the buckets, min and max do not describe a histogram (indices rising below " +
                                          std::to_string(sim::histogram::bucket_count) + ", counts above 0, min and max in the end buckets)"};
  }
  return r;
}

config_result<constraint> parse_constraint(std::string_view text) {
  constraint c;
  c.text = std::string(text);
  const auto bad = [&](const std::string& why) {
    std::string names;
    for (const auto& n : cell_metric_names()) names += (names.empty() ? "" : ", ") + n;
    return config_error{{}, {}, "--require " + cut_utf8(text, 80) + ": " + why +
                                    " (expected METRIC<=VALUE or METRIC>=VALUE, VALUE a number or a multiple of the "
                                    "baseline such as 1.1x; metrics: " + names + ")"};
  };
  std::size_t op = text.find("<=");
  c.at_most = true;
  if (op == std::string_view::npos) {
    op = text.find(">=");
    c.at_most = false;
  }
  if (op == std::string_view::npos) return bad("no <= or >=");
  c.metric = std::string(text.substr(0, op));
  const auto& names = cell_metric_names();
  if (std::find(names.begin(), names.end(), c.metric) == names.end()) return bad("\"" + c.metric + "\" is not a metric of a cell");
  std::string value(text.substr(op + 2));
  if (!value.empty() && value.back() == 'x') {
    c.relative = true;
    value.pop_back();
  }
  char* end = nullptr;
  c.bound = std::strtod(value.c_str(), &end);
  if (value.empty() || end != value.c_str() + value.size() || !std::isfinite(c.bound)) return bad("\"" + value + "\" is not a number");
  if (c.relative && c.bound <= 0) return bad("a multiple of the baseline must be above 0");
  return c;
}

config_result<objective> parse_objective(std::string_view text) {
  const auto& names = cell_metric_names();
  objective o;
  o.metric = std::string(text);
  if (std::find(names.begin(), names.end(), o.metric) == names.end() || o.metric == "requests") {
    std::string list;
    for (const auto& n : names) list += n == "requests" ? "" : (list.empty() ? "" : ", ") + n;
    return config_error{{}, {}, "--objective " + cut_utf8(text, 80) + ": not a metric of a cell; one of " + list};
  }
  o.maximize = maximized(o.metric);
  return o;
}

json plan_json(const sweep_plan& plan, const sweep_definition& definition) {
  json parameters = json::array();
  for (const auto& p : plan.parameters) {
    json j = {{"text", p.text}, {"path", p.path}, {"in_policy", p.in_policy}};
    if (p.draw) {
      j["draw"] = {{"low", p.draw->low}, {"high", p.draw->high}, {"log", p.draw->log}, {"integer", p.draw->integer}};
    } else {
      j["values"] = p.values;
    }
    parameters.push_back(std::move(j));
  }
  json constraints = json::array();
  for (const auto& c : definition.constraints) constraints.push_back(c.text);
  json cells = json::array();
  for (const auto& c : plan.cells) {
    std::string run = definition.run_prefix;
    for (const auto& set : c.sets) run += " --set " + (definition.quote ? definition.quote(set) : set);
    run += " --seed " + std::to_string(plan.seed);
    if (plan.seeds > 1) run += " --seeds " + std::to_string(plan.seeds);
    cells.push_back({{"index", c.index},
                     {"configuration", c.configuration},
                     {"baseline", c.baseline},
                     {"values", c.values},
                     {"sets", c.sets},
                     {"run", run}});
  }
  return {{"format", sweep_format},
          {"squall_version", squall_version},
          {"scenario", definition.scenario_name},
          {"file", definition.scenario_file},
          {"digest", definition.scenario_digest},
          {"reproduce", definition.reproduce},
          {"seed", plan.seed},
          {"seeds", plan.seeds},
          {"draws", plan.draws},
          {"configurations", plan.configurations},
          {"parameters", parameters},
          {"objective", {{"metric", definition.goal.metric}, {"direction", definition.goal.maximize ? "max" : "min"}}},
          {"constraints", constraints},
          {"cells", cells}};
}

json sweep_document(const json& plan, const std::vector<std::optional<unit_record>>& units, const std::string& incomplete_reason) {
  json doc = plan;
  const auto seeds = plan["seeds"].get<std::uint32_t>();
  json& cells = doc["cells"];
  const std::size_t count = cells.size();
  std::vector<cell_figures> figures(count);
  for (std::size_t c = 0; c < count; ++c) {
    std::vector<const unit_record*> of_cell;
    for (std::size_t s = 0; s < seeds; ++s) {
      const std::size_t u = c * seeds + s;
      if (u < units.size() && units[u]) of_cell.push_back(&*units[u]);
    }
    figures[c] = figures_of(of_cell, seeds);
  }
  auto usable = [&](std::size_t c) { return figures[c].complete && figures[c].metrics["requests"].get<std::uint64_t>() > 0; };

  // The frontier: cells no other usable cell dominates.
  json frontier = json::array();
  std::vector<bool> on_frontier(count, false);
  for (std::size_t c = 0; c < count; ++c) {
    if (!usable(c)) continue;
    bool dominated = false;
    for (std::size_t d = 0; d < count && !dominated; ++d) dominated = d != c && usable(d) && dominates(figures[d].metrics, figures[c].metrics);
    if (!dominated) {
      on_frontier[c] = true;
      frontier.push_back(c);
    }
  }

  // Constraints against each cell; relative bounds against the baseline (cell 0).
  std::vector<constraint> constraints;
  for (const auto& text : plan["constraints"]) {
    if (auto c = parse_constraint(text.get<std::string>())) constraints.push_back(*c);
  }
  objective goal;
  if (auto o = parse_objective(plan["objective"]["metric"].get<std::string>())) goal = *o;
  const bool baseline_usable = count > 0 && usable(0);
  std::optional<std::size_t> best;
  std::size_t meeting = 0;
  for (std::size_t c = 0; c < count; ++c) {
    json& cell = cells[c];
    cell["runs"] = figures[c].runs;
    cell["complete"] = figures[c].complete;
    cell["metrics"] = figures[c].metrics;
    cell["frontier"] = on_frontier[c];
    json violations = json::array();
    if (!usable(c)) {
      violations.push_back(figures[c].runs == 0 ? "not run" : (figures[c].complete ? "no requests" : "incomplete"));
    } else {
      const json& m = figures[c].metrics;
      for (const auto& k : constraints) {
        if (k.relative && !baseline_usable) {
          violations.push_back(k.text + ": the baseline did not run whole");
          continue;
        }
        const double bound = k.relative ? k.bound * cells[0]["metrics"][k.metric].get<double>() : k.bound;
        const double v = m[k.metric];
        if (k.at_most ? v > bound : v < bound) {
          violations.push_back(k.text + ": " + short_number(v) + (k.at_most ? " > " : " < ") + short_number(bound));
        }
      }
    }
    cell["meets_constraints"] = violations.empty();
    cell["violations"] = violations;
    if (violations.empty()) {
      ++meeting;
      if (!best || better(figures[c].metrics, c, figures[*best].metrics, *best, goal)) best = c;
    }
  }
  doc["frontier"] = frontier;
  std::string stated;
  for (const auto& k : constraints) stated += (stated.empty() ? "" : ", ") + k.text;
  json recommendation = {{"cell", nullptr}, {"cells_meeting", meeting}};
  if (best) {
    recommendation["cell"] = *best;
    recommendation["why"] = std::string(goal.maximize ? "highest " : "lowest ") + goal.metric + " of the " +
                            std::to_string(meeting) + " of " + std::to_string(count) + " cells " +
                            (stated.empty() ? "(no constraints given)" : "meeting " + stated);
  } else {
    recommendation["why"] = "no cell " + (stated.empty() ? std::string("ran whole") : "meets " + stated);
  }
  doc["recommendation"] = recommendation;
  std::size_t ran = 0;
  for (const auto& u : units) ran += u ? 1u : 0u;
  const bool incomplete = !incomplete_reason.empty() || ran < units.size() ||
                          std::any_of(units.begin(), units.end(), [](const auto& u) { return u && u->incomplete; });
  doc["incomplete"] = incomplete;
  if (incomplete) doc["incomplete_reason"] = incomplete_reason.empty() ? "not every unit ran whole" : incomplete_reason;
  return doc;
}

json shard_document(const json& plan, const shard_spec& shard, const std::vector<std::optional<unit_record>>& units,
                    const std::string& incomplete_reason) {
  json list = json::array();
  for (std::size_t u = 0; u < units.size(); ++u) {
    if (shard.owns(u) && units[u]) list.push_back(unit_json(*units[u]));
  }
  json doc = {{"format", shard_format}, {"shard", shard.index}, {"shards", shard.count}, {"plan", plan}, {"units", list}};
  if (!incomplete_reason.empty()) doc["incomplete_reason"] = incomplete_reason;
  return doc;
}

config_result<merged_shards> merge_shards(const std::vector<std::pair<std::string, json>>& files) {
  if (files.empty()) return config_error{{}, {}, "no shard files given"};
  merged_shards out;
  std::optional<std::uint32_t> count;
  std::vector<std::string> seen;  // file of each shard index
  std::string first_file;
  for (const auto& [file, doc] : files) {
    if (!doc.is_object() || !doc.contains("format") || doc["format"] != shard_format) {
      return config_error{file, "$.format", std::string("expected a sweep shard (\"") + shard_format +
                                                "\", written by squall sweep --shard I/N)"};
    }
    if (!doc.contains("shard") || !is_whole(doc["shard"]) || !doc.contains("shards") || !is_whole(doc["shards"]) || doc["shards"].get<std::uint64_t>() == 0 ||
        doc["shard"].get<std::uint64_t>() >= doc["shards"].get<std::uint64_t>() || doc["shards"].get<std::uint64_t>() > 10'000) {
      return config_error{file, "$.shard", "expected \"shard\" I and \"shards\" N with 0 <= I < N <= 10000"};
    }
    if (!doc.contains("plan")) return config_error{file, "$.plan", "expected the sweep's plan"};
    if (auto e = check_plan(doc["plan"], file)) return *e;
    const auto shards = doc["shards"].get<std::uint32_t>();
    const auto index = doc["shard"].get<std::uint32_t>();
    if (!count) {
      count = shards;
      seen.assign(shards, "");
      out.plan = doc["plan"];
      first_file = file;
      const std::size_t units = out.plan["cells"].size() * out.plan["seeds"].get<std::size_t>();
      if (units > units_max) return config_error{file, "$.plan", "more runs (cells x seeds) than a sweep may have"};
      out.units.assign(units, std::nullopt);
    } else if (shards != *count) {
      return config_error{file, "$.shards", "this shard is one of " + std::to_string(shards) + ", " + first_file + " one of " +
                                                std::to_string(*count) + ": shards of different splits"};
    } else if (doc["plan"] != out.plan) {
      return config_error{file, "$.plan", "a different sweep than " + first_file +
                                              " (scenario, options, seeds or squall version differ); merge the shards of one sweep"};
    }
    if (!seen[index].empty()) return config_error{file, "$.shard", "shard " + std::to_string(index) + " is given twice (also " + seen[index] + ")"};
    seen[index] = file;
    if (doc.contains("incomplete_reason") && out.incomplete_reason.empty() && doc["incomplete_reason"].is_string()) {
      out.incomplete_reason = file + ": " + doc["incomplete_reason"].get<std::string>();
    }
    if (!doc.contains("units") || !doc["units"].is_array()) return config_error{file, "$.units", "expected the array of units"};
    const shard_spec shard{index, shards};
    for (std::size_t i = 0; i < doc["units"].size(); ++i) {
      const std::string where = json_path_index("$.units", i);
      auto unit = read_unit(doc["units"][i], file, where);
      if (!unit) return std::move(unit).error();
      if (unit->unit >= out.units.size() || !shard.owns(unit->unit)) {
        return config_error{file, json_path_key(where, "unit"), "unit " + std::to_string(unit->unit) + " is not one of shard " +
                                                                    std::to_string(index) + "/" + std::to_string(shards) + "'s"};
      }
      if (out.units[unit->unit]) return config_error{file, json_path_key(where, "unit"), "unit " + std::to_string(unit->unit) + " twice"};
      out.units[unit->unit] = std::move(*unit);
    }
  }
  std::string missing;
  for (std::size_t i = 0; i < seen.size(); ++i) {
    if (seen[i].empty()) missing += (missing.empty() ? "" : ", ") + std::to_string(i);
  }
  if (!missing.empty()) {
    return config_error{{}, {}, "shards missing: " + missing + " of 0 to " + std::to_string(*count - 1) +
                                    "; give every shard's file (squall merge DIR reads the folder's shard-*.json)"};
  }
  return out;
}

}  // namespace squall::sweeps
