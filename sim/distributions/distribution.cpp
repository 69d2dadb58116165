#include "sim/distributions/distribution.hpp"

#include <algorithm>
#include <cmath>

namespace squall::sim {

distribution distribution::lognormal(double median, double sigma) {
  return distribution{kind::lognormal, std::log(median), sigma, inf()};
}

double distribution::sample(rng& r) const noexcept {
  double v = 0;
  switch (kind_) {
    case kind::constant: return a_;
    case kind::uniform: v = r.uniform(a_, b_); break;
    case kind::exponential: v = r.exponential(a_); break;
    case kind::lognormal: v = std::exp(a_ + b_ * r.normal()); break;
  }
  return std::min(v, cap_);
}

double distribution::mean() const noexcept {
  switch (kind_) {
    case kind::constant: return a_;
    case kind::uniform: return (a_ + b_) / 2;
    case kind::exponential: return a_;
    case kind::lognormal: return std::exp(a_ + b_ * b_ / 2);
  }
  return a_;
}

config_result<distribution> parse_distribution(const json& value, const std::string& path, double min, double max) {
  if (value.is_number()) {
    const double v = value.get<double>();
    if (!(v >= min && v <= max)) {
      json lo = min, hi = max;
      return config_error{{}, path, "expected a value from " + lo.dump() + " to " + hi.dump() + ", got " + describe_json(value)};
    }
    return distribution::constant(v);
  }
  if (!value.is_object()) {
    return config_error{{}, path, "expected a number or a distribution object such as "
                                  "{\"dist\": \"lognormal\", \"median\": 400, \"sigma\": 0.5}, got " +
                                      describe_json(value)};
  }
  json_reader r(value, path);
  std::string dist;
  if (!value.contains("dist")) {
    r.fail(path, "missing key \"dist\"; expected one of \"constant\", \"uniform\", \"exponential\", \"lognormal\"");
  }
  r.choice("dist", dist, {"constant", "uniform", "exponential", "lognormal"});
  double cap = max;
  r.number("cap", cap, min, max);
  distribution d;
  if (dist == "constant") {
    double v = min;
    if (!value.contains("value")) r.fail(path, "missing key \"value\"; expected a number");
    r.number("value", v, min, max);
    d = distribution::constant(v);
  } else if (dist == "uniform") {
    double lo = min, hi = min;
    if (!value.contains("min") || !value.contains("max")) r.fail(path, "a uniform distribution needs \"min\" and \"max\"");
    r.number("min", lo, min, max).number("max", hi, min, max);
    if (!r.failed() && hi < lo) r.fail_key("max", "must be at least \"min\"");
    d = distribution::uniform(lo, hi);
  } else if (dist == "exponential") {
    double mean = 1;
    if (!value.contains("mean")) r.fail(path, "missing key \"mean\"; expected a number");
    r.number("mean", mean, std::max(min, 1e-9), max);
    d = distribution::exponential(mean);
  } else if (dist == "lognormal") {
    double median = 1, sigma = 0;
    if (!value.contains("median") || !value.contains("sigma")) {
      r.fail(path, "a lognormal distribution needs \"median\" and \"sigma\"");
    }
    r.number("median", median, std::max(min, 1e-9), max).number("sigma", sigma, 0, 5);
    d = distribution::lognormal(median, sigma);
  }
  if (auto e = r.finish()) return *e;
  if (d.kind_ != distribution::kind::constant) d.cap_ = cap;
  return d;
}

void read_distribution(json_reader& reader, std::string_view key, distribution& out, double min, double max) {
  const json* v = reader.child(key);
  if (!v) return;
  auto d = parse_distribution(*v, json_path_key(reader.path(), key), min, max);
  if (!d) {
    reader.fail(d.error().path, d.error().message);
  } else {
    out = *d;
  }
}

}  // namespace squall::sim
