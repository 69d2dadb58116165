#include "sweeps/sweep_plan.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <set>

#include "policies/core/json_parse.hpp"

namespace squall::sweeps {
namespace {

// The scenario's top-level keys (sim/scenario/scenario.cpp): a path starting with another key is read
// inside the swept configuration's policy.
const std::set<std::string, std::less<>>& scenario_keys() {
  static const std::set<std::string, std::less<>> keys = {"$schema", "name",      "description", "seed",
                                                          "duration_s", "drain_s", "interval_s",  "providers",
                                                          "workload", "policies", "service",     "assert",
                                                          "recovery"};
  return keys;
}

config_error bad_parameter(const std::string& text, const std::string& why) {
  return config_error{{}, {}, "--param " + cut_utf8(text, 120) + ": " + why};
}

// A whole number as text (strtod accepts more; the end must be the text's end).
std::optional<double> number_of(std::string_view text) {
  if (text.empty() || text.size() > 40) return std::nullopt;
  const std::string s(text);
  char* end = nullptr;
  const double v = std::strtod(s.c_str(), &end);
  if (end != s.c_str() + s.size() || !std::isfinite(v)) return std::nullopt;
  return v;
}

bool written_as_integer(std::string_view text) { return text.find_first_of(".eE") == std::string_view::npos; }

// A decimal value as a person writes it: 0.1 * 3 is 0.3, not 0.30000000000000004.
double tidy(double v, int digits) {
  char buffer[40];
  std::snprintf(buffer, sizeof buffer, "%.*g", digits, v);
  return std::strtod(buffer, nullptr);
}

json number_json(double v, bool integer) {
  if (integer) return static_cast<std::int64_t>(std::llround(v));
  return v;
}

// "A..B" or "A..B:STEP"; nullopt when the text is not a range (then it is a list or a value).
std::optional<config_result<std::vector<json>>> parse_range(const std::string& text, std::string_view spec) {
  const std::size_t dots = spec.find("..");
  if (dots == std::string_view::npos) return std::nullopt;
  const std::string_view low_text = spec.substr(0, dots);
  std::string_view high_text = spec.substr(dots + 2);
  std::string_view step_text;
  if (const std::size_t colon = high_text.find(':'); colon != std::string_view::npos) {
    step_text = high_text.substr(colon + 1);
    high_text = high_text.substr(0, colon);
  }
  const auto low = number_of(low_text);
  const auto high = number_of(high_text);
  if (!low || !high) return std::nullopt;
  const bool integer = written_as_integer(low_text) && written_as_integer(high_text) &&
                       (step_text.empty() || written_as_integer(step_text));
  double step = 1;
  if (!step_text.empty()) {
    const auto s = number_of(step_text);
    if (!s || *s <= 0) return bad_parameter(text, "the step after \":\" must be a number above 0, got \"" + std::string(step_text) + "\"");
    step = *s;
  } else if (!integer) {
    return bad_parameter(text, "a range of decimals needs a step, e.g. 0.1..0.5:0.1");
  }
  if (*low > *high) return bad_parameter(text, "the range runs from its low end to its high end (A..B with A <= B)");
  const double count = std::floor((*high - *low) / step + 1e-9) + 1;
  if (count > static_cast<double>(values_max)) {
    return bad_parameter(text, "the range has " + std::to_string(static_cast<long long>(count)) + " values, more than " +
                                   std::to_string(values_max) + "; take a larger step");
  }
  std::vector<json> values;
  for (std::size_t i = 0; i < static_cast<std::size_t>(count); ++i) {
    const double v = *low + static_cast<double>(i) * step;
    values.push_back(number_json(integer ? v : tidy(v, 12), integer));
  }
  return values;
}

// "~A..B" or "~log:A..B".
config_result<value_draw> parse_draw(const std::string& text, std::string_view spec) {
  value_draw d;
  spec.remove_prefix(1);
  if (spec.substr(0, 4) == "log:") {
    d.log = true;
    spec.remove_prefix(4);
  }
  const std::size_t dots = spec.find("..");
  const auto low = dots == std::string_view::npos ? std::nullopt : number_of(spec.substr(0, dots));
  const auto high = dots == std::string_view::npos ? std::nullopt : number_of(spec.substr(dots + 2));
  if (!low || !high) return bad_parameter(text, "a draw is ~LOW..HIGH or ~log:LOW..HIGH with numbers, e.g. ~500..8000");
  if (*low >= *high) return bad_parameter(text, "a draw needs LOW < HIGH");
  if (d.log && *low <= 0) return bad_parameter(text, "a log-uniform draw needs LOW > 0");
  d.low = *low;
  d.high = *high;
  d.integer = written_as_integer(spec.substr(0, dots)) && written_as_integer(spec.substr(dots + 2));
  return d;
}

std::string trim(std::string_view s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  return std::string(s);
}

// splitmix64: a small generator of the sweep's own, so that draws do not depend on any library's
// distribution code and the same command gives the same cells everywhere.
struct draw_source {
  std::uint64_t state;
  double next_unit() {
    std::uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    z ^= z >> 31;
    return static_cast<double>(z >> 11) * 0x1.0p-53;
  }
};

json draw_value(const value_draw& d, draw_source& source) {
  const double u = source.next_unit();
  if (d.integer) {
    const double lo = std::ceil(d.low);
    const double hi = std::floor(d.high);
    double v = d.log ? std::round(std::exp(std::log(lo) + u * (std::log(hi) - std::log(lo)))) : std::floor(lo + u * (hi - lo + 1));
    return number_json(std::clamp(v, lo, hi), true);
  }
  const double v = d.log ? std::exp(std::log(d.low) + u * (std::log(d.high) - std::log(d.low))) : d.low + u * (d.high - d.low);
  return std::clamp(tidy(v, 4), d.low, d.high);
}

}  // namespace

config_result<sweep_parameter> parse_parameter(std::string_view text) {
  const std::string given(text);
  auto parsed = documents::parse_set_override(text);
  if (!parsed) {
    config_error e = std::move(parsed).error();
    if (e.message.rfind("--set ", 0) == 0) e.message.replace(0, 5, "--param");
    e.message += "; a --param's VALUE is a list (1,2,3 or a JSON array), a range (1..5, 0.1..0.5:0.1) or a draw (~1..10)";
    return e;
  }
  sweep_parameter p;
  p.text = given;
  p.steps = parsed->path;
  if (p.steps.front().index) return bad_parameter(given, "a path starts with a key, not an index");
  p.in_policy = !scenario_keys().contains(p.steps.front().key);
  // Where the path ends: a quoted key may hold '=', so the first '=' after which the path reads whole.
  std::size_t value_at = given.size();
  for (std::size_t at = given.find('='); at != std::string::npos; at = given.find('=', at + 1)) {
    auto probe = documents::parse_set_override(given.substr(0, at) + "=0");
    if (probe && probe->path.size() == p.steps.size()) {
      value_at = at;
      break;
    }
  }
  p.path = given.substr(0, value_at);
  if (p.path.rfind("$.", 0) == 0) p.path.erase(0, 2);
  const std::string value_text = value_at < given.size() ? given.substr(value_at + 1) : std::string();

  const json& value = parsed->value;
  if (value.is_array()) {
    if (value.empty()) return bad_parameter(given, "an empty list sweeps nothing");
    if (value.size() > values_max) return bad_parameter(given, "more than " + std::to_string(values_max) + " values");
    p.values.assign(value.begin(), value.end());
  } else if (!value.is_string() || (!value_text.empty() && value_text.front() == '"')) {
    p.values.push_back(value);  // one value (a number, an object, a quoted string): the same in every cell
  } else if (!value_text.empty() && value_text.front() == '~') {
    auto draw = parse_draw(given, value_text);
    if (!draw) return std::move(draw).error();
    p.draw = *draw;
  } else if (auto range = parse_range(given, value_text)) {
    if (!*range) return std::move(*range).error();
    p.values = std::move(**range);
  } else {
    std::size_t start = 0;
    for (;;) {
      const std::size_t comma = value_text.find(',', start);
      const std::string item = trim(std::string_view(value_text).substr(start, comma == std::string::npos ? std::string::npos : comma - start));
      if (item.empty()) return bad_parameter(given, "an empty item in the list (write items between commas)");
      auto as_json = parse_json(item);
      p.values.push_back(as_json ? std::move(*as_json) : json(item));
      if (p.values.size() > values_max) return bad_parameter(given, "more than " + std::to_string(values_max) + " values");
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
  }
  return p;
}

std::string configuration_path(const std::string& name) {
  const bool plain = !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
  });
  return plain ? "policies." + name : "policies[\"" + name + "\"]";
}

config_result<sweep_plan> plan_sweep(const sim::scenario& base, const sweep_request& request) {
  if (request.parameters.empty()) {
    return config_error{base.file, {}, "a sweep needs at least one --param PATH=VALUES, e.g. --param retry.attempts_max=1..5"};
  }
  if (base.service) {
    return config_error{base.file, "$.service",
                        "a sweep runs in virtual time, and this scenario drives a service under test on the real clock; "
                        "sweep a scenario without \"service\""};
  }
  sweep_plan plan;
  plan.parameters = request.parameters;
  plan.seed = request.seed;
  plan.seeds = request.seeds;
  std::string known;
  for (const auto& c : base.configurations) known += (known.empty() ? "" : ", ") + c.name;
  if (request.configurations.empty()) {
    for (const auto& c : base.configurations) plan.configurations.push_back(c.name);
  } else {
    for (const auto& name : request.configurations) {
      const bool found = std::any_of(base.configurations.begin(), base.configurations.end(),
                                     [&](const sim::configuration& c) { return c.name == name; });
      if (!found) return config_error{base.file, "$.policies", "--config " + name + ": no such configuration; the scenario has " + known};
      if (std::find(plan.configurations.begin(), plan.configurations.end(), name) != plan.configurations.end()) {
        return config_error{{}, {}, "--config " + name + " is given twice"};
      }
      plan.configurations.push_back(name);
    }
  }
  const bool drawn = std::any_of(plan.parameters.begin(), plan.parameters.end(), [](const sweep_parameter& p) { return p.draw.has_value(); });
  plan.draws = drawn ? request.draws : 0;

  // The grid's size before building it, so that a sweep of billions is refused rather than attempted.
  double per_configuration = 1;
  for (const auto& p : plan.parameters) per_configuration *= p.draw ? 1.0 : static_cast<double>(p.values.size());
  if (drawn) per_configuration *= plan.draws;
  const double total = (per_configuration + 1) * static_cast<double>(plan.configurations.size());
  if (total > static_cast<double>(request.cells_max)) {
    return config_error{{}, {}, "the sweep has " + std::to_string(static_cast<long long>(total)) + " cells, more than the limit of " +
                                    std::to_string(request.cells_max) +
                                    "; fewer values, fewer --draws, or --allow-large-run to raise the limit"};
  }

  draw_source source{request.seed * 0x2545f4914f6cdd1dULL + 0x5eedULL};
  std::vector<std::size_t> grid_parameters;
  for (std::size_t i = 0; i < plan.parameters.size(); ++i) {
    if (!plan.parameters[i].draw) grid_parameters.push_back(i);
  }
  for (const auto& configuration : plan.configurations) {
    sweep_cell baseline;
    baseline.index = plan.cells.size();
    baseline.configuration = configuration;
    baseline.baseline = true;
    plan.cells.push_back(std::move(baseline));
    std::vector<std::size_t> at(grid_parameters.size(), 0);
    for (bool more = true; more;) {
      for (std::uint32_t d = 0; d < std::max<std::uint32_t>(1, plan.draws); ++d) {
        sweep_cell cell;
        cell.index = plan.cells.size();
        cell.configuration = configuration;
        std::size_t g = 0;
        for (const auto& p : plan.parameters) {
          json v = p.draw ? draw_value(*p.draw, source) : p.values[at[g++]];
          const std::string where = p.in_policy ? configuration_path(configuration) + "." + p.path : p.path;
          cell.sets.push_back(where + "=" + dump_json(v));
          cell.values.push_back(std::move(v));
        }
        plan.cells.push_back(std::move(cell));
      }
      // The next grid point: the last parameter turns fastest.
      more = false;
      for (std::size_t k = grid_parameters.size(); k-- > 0;) {
        if (++at[k] < plan.parameters[grid_parameters[k]].values.size()) {
          more = true;
          break;
        }
        at[k] = 0;
      }
    }
  }
  return plan;
}

config_result<shard_spec> parse_shard(std::string_view text) {
  const std::size_t slash = text.find('/');
  const auto bad = [&](const std::string& why) {
    return config_error{{}, {}, "--shard " + cut_utf8(text, 60) + ": " + why + " (expected I/N with 0 <= I < N, e.g. 0/4 to 3/4)"};
  };
  if (slash == std::string_view::npos) return bad("no \"/\"");
  const std::string_view i_text = text.substr(0, slash);
  const std::string_view n_text = text.substr(slash + 1);
  auto whole = [](std::string_view t) -> std::optional<std::uint32_t> {
    if (t.empty() || t.size() > 6 || t.find_first_not_of("0123456789") != std::string_view::npos) return std::nullopt;
    return static_cast<std::uint32_t>(std::stoul(std::string(t)));
  };
  const auto i = whole(i_text);
  const auto n = whole(n_text);
  if (!i || !n) return bad("I and N are whole numbers");
  if (*n < 1 || *n > 10'000) return bad("N is from 1 to 10000");
  if (*i >= *n) return bad("shards are numbered from 0 to N-1 (a Kubernetes Indexed Job's JOB_COMPLETION_INDEX)");
  return shard_spec{*i, *n};
}

}  // namespace squall::sweeps
