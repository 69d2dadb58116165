#include "sim/workload/workload_config.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace squall::sim {

double workload_config::rate_at(double t_s) const noexcept {
  if (profile.empty()) return 0;
  if (t_s < profile.front().at_s) return 0;
  for (std::size_t i = profile.size(); i-- > 0;) {
    if (t_s >= profile[i].at_s) {
      if (profile_shape == shape::step || i + 1 == profile.size()) return profile[i].rate_per_s;
      const rate_point& a = profile[i];
      const rate_point& b = profile[i + 1];
      const double f = (t_s - a.at_s) / (b.at_s - a.at_s);
      return a.rate_per_s + f * (b.rate_per_s - a.rate_per_s);
    }
  }
  return 0;
}

double workload_config::rate_max() const noexcept {
  double m = 0;
  for (const auto& p : profile) m = std::max(m, p.rate_per_s);
  return m;
}

namespace {

// Integral of the rate over [a.at_s, a.at_s + dt) within the segment that starts at point i.
double segment_integral(const workload_config& w, std::size_t i, double dt) {
  const rate_point& a = w.profile[i];
  if (w.profile_shape == workload_config::shape::step || i + 1 == w.profile.size()) return a.rate_per_s * dt;
  const rate_point& b = w.profile[i + 1];
  const double slope = (b.rate_per_s - a.rate_per_s) / (b.at_s - a.at_s);
  return a.rate_per_s * dt + 0.5 * slope * dt * dt;
}

}  // namespace

double workload_config::intensity_at(double t_s) const noexcept {
  double total = 0;
  for (std::size_t i = 0; i < profile.size() && profile[i].at_s < t_s; ++i) {
    const double end = i + 1 < profile.size() ? std::min(profile[i + 1].at_s, t_s) : t_s;
    total += segment_integral(*this, i, end - profile[i].at_s);
  }
  return total;
}

double workload_config::time_at_intensity(double target) const noexcept {
  double total = 0;
  for (std::size_t i = 0; i < profile.size(); ++i) {
    const rate_point& a = profile[i];
    const bool last = i + 1 == profile.size();
    const double length = last ? 0 : profile[i + 1].at_s - a.at_s;
    const double in_segment = last ? 0 : segment_integral(*this, i, length);
    if (!last && total + in_segment < target) {
      total += in_segment;
      continue;
    }
    const double need = target - total;
    if (profile_shape == shape::step || last) {
      if (a.rate_per_s <= 0) {
        if (last) return std::numeric_limits<double>::infinity();
        total += in_segment;
        continue;
      }
      return a.at_s + need / a.rate_per_s;
    }
    // Linear rate r(x) = r0 + k x on this segment: solve r0 x + k x^2 / 2 = need for the smallest x >= 0.
    const double r0 = a.rate_per_s;
    const double k = (profile[i + 1].rate_per_s - r0) / length;
    double x = 0;
    if (std::fabs(k) < 1e-12) {
      x = r0 > 0 ? need / r0 : length;
    } else {
      const double disc = std::max(0.0, r0 * r0 + 2 * k * need);
      x = (std::sqrt(disc) - r0) / k;
    }
    return a.at_s + std::clamp(x, 0.0, length);
  }
  return std::numeric_limits<double>::infinity();
}

config_result<std::vector<double>> parse_recorded_times(const json& value, const std::string& path) {
  if (!value.is_array() || value.empty() || value.size() > recorded_times_max) {
    return config_error{{}, path, "expected an array of 1 to " + std::to_string(recorded_times_max) +
                                      " send times in seconds, got " + describe_json(value)};
  }
  std::vector<double> times;
  times.reserve(value.size());
  for (std::size_t i = 0; i < value.size(); ++i) {
    const json& t = value[i];
    if (!t.is_number() || !(t.get<double>() >= 0 && t.get<double>() <= 1e7)) {
      return config_error{{}, json_path_index(path, i), "expected a time from 0 to 10000000 seconds, got " + describe_json(t)};
    }
    const double s = t.get<double>();
    // Sorted, so that the arrival stream is a plain cursor and a typo (a time out of place) is caught.
    if (!times.empty() && s < times.back()) {
      return config_error{{}, json_path_index(path, i), "times must be in non-decreasing order: " + describe_json(t) +
                                                            " comes after " + json(times.back()).dump()};
    }
    times.push_back(s);
  }
  return times;
}

config_result<workload_config> parse_workload(const json& value, const std::string& path) {
  workload_config w;
  json_reader r(value, path);
  r.allow_only({"arrivals", "users", "bursts", "provider", "model", "models", "input_tokens", "output_tokens",
                "cache_keys", "deadline_ms", "in_flight_max", "classes"});

  const json* arrivals = r.child("arrivals");
  const json* users = r.child("users");
  if (!r.failed() && arrivals && users) {
    r.fail(path, "give either \"arrivals\" (open loop) or \"users\" (closed loop), not both");
  }
  if (!r.failed() && !arrivals && !users) {
    r.fail(path, "missing \"arrivals\" (open loop, e.g. {\"process\": \"poisson\", \"rate_per_s\": 50}) "
                 "or \"users\" (closed loop, e.g. {\"count\": 20, \"think_ms\": 1000})");
  }
  if (arrivals && !r.failed()) {
    const std::string apath = json_path_key(path, "arrivals");
    json_reader a(*arrivals, apath);
    a.allow_only({"process", "rate_per_s", "profile", "shape", "times_s"});
    std::string proc = "poisson";
    std::string shape = "step";
    std::optional<double> rate;
    a.choice("process", proc, {"poisson", "constant", "recorded"}).number("rate_per_s", rate, 0, 1e7);
    const json* profile = a.child("profile");
    const json* times = a.child("times_s");
    a.choice("shape", shape, {"step", "ramp"});
    if (proc == "recorded" && !a.failed()) {
      if (rate || profile) a.fail(apath, "a \"recorded\" process lists its \"times_s\"; \"rate_per_s\" and \"profile\" do not apply");
      if (!a.failed() && !times) a.fail(apath, "missing \"times_s\": the send times of a \"recorded\" process, e.g. [0.1, 0.25, 1.5]");
      if (!a.failed()) {
        auto parsed = parse_recorded_times(*times, json_path_key(apath, "times_s"));
        if (!parsed) a.fail(parsed.error().path, parsed.error().message);
        else w.recorded_times_s = std::make_shared<const std::vector<double>>(std::move(*parsed));
      }
    } else if (times && !a.failed()) {
      a.fail(json_path_key(apath, "times_s"), "\"times_s\" belongs to a \"recorded\" process; set \"process\": \"recorded\"");
    }
    if (proc != "recorded" && !a.failed() && rate && profile) a.fail(apath, "give either \"rate_per_s\" or \"profile\", not both");
    if (proc != "recorded" && !a.failed() && !rate && !profile) {
      a.fail(apath, "missing \"rate_per_s\" (a constant rate) or \"profile\" (a list of {\"at_s\", \"rate_per_s\"} points)");
    }
    w.arrival_process = proc == "poisson"    ? workload_config::process::poisson
                        : proc == "constant" ? workload_config::process::constant
                                             : workload_config::process::recorded;
    w.profile_shape = shape == "ramp" ? workload_config::shape::ramp : workload_config::shape::step;
    if (rate) w.profile.push_back({0, *rate});
    if (profile && !a.failed()) {
      const std::string ppath = json_path_key(apath, "profile");
      if (!profile->is_array() || profile->empty() || profile->size() > 10000) {
        a.fail(ppath, "expected an array of 1 to 10000 {\"at_s\", \"rate_per_s\"} points, got " + describe_json(*profile));
      } else {
        for (std::size_t i = 0; i < profile->size() && !a.failed(); ++i) {
          json_reader p((*profile)[i], json_path_index(ppath, i));
          rate_point point;
          if (!p.failed() && (!(*profile)[i].contains("at_s") || !(*profile)[i].contains("rate_per_s"))) {
            p.fail(p.path(), "each profile point needs \"at_s\" and \"rate_per_s\"");
          }
          p.number("at_s", point.at_s, 0, 1e7).number("rate_per_s", point.rate_per_s, 0, 1e7);
          if (!p.failed() && !w.profile.empty() && point.at_s <= w.profile.back().at_s) {
            p.fail_key("at_s", "profile points must be in increasing time order");
          }
          if (auto e = p.finish()) a.fail(e->path, e->message);
          w.profile.push_back(point);
        }
      }
    }
    if (!a.failed() && proc != "recorded" && w.rate_max() <= 0 && !value.contains("bursts")) {
      a.fail(apath, "the arrival rate is zero everywhere: no request would be sent");
    }
    if (auto e = a.finish()) r.fail(e->path, e->message);
  }
  if (users && !r.failed()) {
    json_reader u(*users, json_path_key(path, "users"));
    if (!u.failed() && !users->contains("count")) u.fail(u.path(), "missing key \"count\"; expected the number of users");
    u.count("count", w.users, 1, 1000000);
    read_distribution(u, "think_ms", w.think_ms, 0, 3.6e6);
    if (auto e = u.finish()) r.fail(e->path, e->message);
  }

  if (const json* b = r.child("bursts"); b && !r.failed()) {
    const std::string bpath = json_path_key(path, "bursts");
    if (!b->is_array() || b->size() > 1000) {
      r.fail(bpath, "expected an array of at most 1000 {\"at_s\", \"requests\", \"over_s\"} objects");
    } else {
      for (std::size_t i = 0; i < b->size() && !r.failed(); ++i) {
        json_reader br((*b)[i], json_path_index(bpath, i));
        burst one;
        if (!br.failed() && (!(*b)[i].contains("at_s") || !(*b)[i].contains("requests"))) {
          br.fail(br.path(), "each burst needs \"at_s\" and \"requests\"");
        }
        br.number("at_s", one.at_s, 0, 1e7).count("requests", one.requests, 1, 10000000).number("over_s", one.over_s, 0, 1e5);
        if (auto e = br.finish()) r.fail(e->path, e->message);
        w.bursts.push_back(one);
      }
    }
  }

  r.string("provider", w.provider);
  std::string model;
  r.string("model", model);
  const json* models = r.child("models");
  if (!r.failed() && !model.empty() && models) r.fail(path, "give either \"model\" or \"models\" (weights), not both");
  if (!model.empty()) w.models.emplace_back(model, 1.0);
  if (models && !r.failed()) {
    const std::string mpath = json_path_key(path, "models");
    if (!models->is_object() || models->empty()) {
      r.fail(mpath, "expected an object of model name -> weight, e.g. {\"gpt-4o\": 0.3, \"gpt-4o-mini\": 0.7}");
    } else {
      for (auto it = models->begin(); it != models->end() && !r.failed(); ++it) {
        if (!it->is_number() || it->get<double>() <= 0) {
          r.fail(json_path_key(mpath, it.key()), "expected a positive weight, got " + describe_json(*it));
        } else {
          w.models.emplace_back(it.key(), it->get<double>());
        }
      }
    }
  }
  read_distribution(r, "input_tokens", w.input_tokens, 0, 2e6);
  read_distribution(r, "output_tokens", w.output_tokens, 0, 2e6);
  if (const json* c = r.child("cache_keys"); c && !r.failed()) {
    json_reader cr(*c, json_path_key(path, "cache_keys"));
    cr.count("count", w.cache_keys, 1, 1000000).number("zipf_s", w.zipf_s, 0, 10);
    if (auto e = cr.finish()) r.fail(e->path, e->message);
  }
  r.number("deadline_ms", w.deadline_ms, 1, 8.64e7);
  r.count("in_flight_max", w.in_flight_max, 1, 1000000);
  if (const json* c = r.child("classes"); c && !r.failed()) {
    const std::string cpath = json_path_key(path, "classes");
    json_reader cr(*c, cpath);
    cr.allow_only({"simple", "moderate", "complex", "critical"});
    static constexpr const char* class_names[] = {"simple", "moderate", "complex", "critical"};
    for (std::size_t i = 0; i < w.class_weights.size(); ++i) cr.number(class_names[i], w.class_weights[i], 0, 1e9);
    if (!cr.failed() && w.class_weights[0] + w.class_weights[1] + w.class_weights[2] + w.class_weights[3] <= 0) {
      cr.fail(cpath, "expected at least one positive weight among \"simple\", \"moderate\", \"complex\", \"critical\"");
    }
    if (auto e = cr.finish()) r.fail(e->path, e->message);
  }
  if (auto e = r.finish()) return *e;
  return w;
}

}  // namespace squall::sim
