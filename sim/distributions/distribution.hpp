#pragma once
// Random quantities in scenarios: latencies, token counts, think times. Written in JSON as a bare number
// (a constant) or as an object:
//   { "dist": "constant",    "value": 400 }
//   { "dist": "uniform",     "min": 100, "max": 900 }
//   { "dist": "exponential", "mean": 400 }
//   { "dist": "lognormal",   "median": 400, "sigma": 0.5 }
// Any of them may add "cap" as an upper bound on draws (lognormal tails can be long).

#include <string>

#include "policies/core/config_error.hpp"
#include "policies/core/json_reader.hpp"
#include "policies/core/rng.hpp"

namespace squall::sim {

class distribution {
 public:
  enum class kind { constant, uniform, exponential, lognormal };

  static distribution constant(double value) { return distribution{kind::constant, value, value, value}; }
  static distribution uniform(double lo, double hi) { return distribution{kind::uniform, lo, hi, hi}; }
  static distribution exponential(double mean) { return distribution{kind::exponential, mean, 0, inf()}; }
  static distribution lognormal(double median, double sigma);

  double sample(rng& r) const noexcept;
  // The mean of the (uncapped) distribution; used by documentation and queueing checks.
  double mean() const noexcept;
  kind shape() const noexcept { return kind_; }
  bool is_zero() const noexcept { return kind_ == kind::constant && a_ == 0.0; }

  distribution() = default;

 private:
  static constexpr double inf() { return 1e300; }
  distribution(kind k, double a, double b, double cap) : kind_(k), a_(a), b_(b), cap_(cap) {}

  kind kind_ = kind::constant;
  double a_ = 0;    // constant: value; uniform: min; exponential: mean; lognormal: mu = ln(median)
  double b_ = 0;    // uniform: max; lognormal: sigma
  double cap_ = inf();

  friend config_result<distribution> parse_distribution(const json&, const std::string&, double, double);
};

// Reads a distribution whose draws must lie in [min, max] (checked on the parameters, and enforced by
// capping at `max`). Errors name `path`.
config_result<distribution> parse_distribution(const json& value, const std::string& path, double min, double max);

// Reads optional key `key` of `reader` into `out`; leaves `out` alone when absent.
void read_distribution(json_reader& reader, std::string_view key, distribution& out, double min, double max);

}  // namespace squall::sim
