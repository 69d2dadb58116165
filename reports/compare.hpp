#pragma once
// `squall compare`: a candidate run against a base run of the same scenario, for gating a policy change
// in CI. Configurations are paired by name; for each pair a few service-level metrics may worsen only
// within stated tolerances. The outcome is a verdict (the regressions, with measured values and the
// tolerance they broke) and a merged results document that every writer renders as a side-by-side run.

#include <string>
#include <vector>

#include "policies/core/config_error.hpp"
#include "policies/core/json_reader.hpp"

namespace squall::reports {

// How much worse the candidate may be than the base before the comparison fails. A tolerance may be 0
// (any worsening fails) but not negative.
struct compare_tolerances {
  // Success rate may drop by at most this many percentage points. The default is 0.5.
  double success_rate_drop_pp_max = 0.5;
  // Degraded (served from a fallback or a stale cache) rate may rise by at most this many percentage
  // points. The default is 1.
  double degraded_rate_rise_pp_max = 1.0;
  // Median latency may grow by at most this percentage. The default is 10.
  double latency_p50_growth_pct_max = 10;
  // p99 latency may grow by at most this percentage. The default is 10.
  double latency_p99_growth_pct_max = 10;
  // Total cost may grow by at most this percentage. The default is 5.
  double cost_growth_pct_max = 5;
  // Attempts per request (retry amplification) may grow by at most this percentage. The default is 10.
  double attempts_growth_pct_max = 10;
  // A latency growth smaller than this many milliseconds is never a regression, whatever its percentage
  // (3 ms against 2 ms is +50% and means nothing). The default is 5.
  double latency_ms_slack = 5;
  // A cost growth smaller than this many dollars is never a regression. The default is 0.01.
  double cost_usd_slack = 0.01;
};

// Reads tolerances from JSON, every key optional (the defaults above), e.g.
// {"success_rate_drop_pp_max": 1, "latency_p99_growth_pct_max": 20}. Unknown keys and negative
// values are errors naming their path.
config_result<compare_tolerances> parse_tolerances(const json& value, const std::string& file);

struct regression {
  std::string configuration;  // the configuration's name in both runs
  std::string metric;         // a summary metric, e.g. "success_rate", "latency_p99_ms"
  double base = 0;
  double candidate = 0;
  double change = 0;     // candidate - base, in percentage points for rates, in percent otherwise
  double tolerance = 0;  // in the same unit as change
  std::string unit;      // "pp" or "%"
  double noise = 0;      // half-width of the 95% interval of the difference when both runs aggregate seeds, else 0

  // "retry: success_rate fell by 1.20 pp (99.50% -> 98.30%), tolerance 0.5 pp".
  std::string describe() const;
};

struct comparison {
  std::vector<regression> regressions;
  // Worse than the tolerance but not beyond the seed noise of multi-seed runs: reported, not failed.
  std::vector<regression> within_noise;
  // Different scenario digests, configurations present on one side only, paired by position.
  std::vector<std::string> warnings;
  // A "squall-results/1" document: configurations "base: X" and "candidate: X" side by side; the
  // candidate's own assertions (renamed) plus one per compared metric (name "compare: ...", configuration
  // "candidate: X"); "verdict" fails when any of them fails; "warnings"; and "compare" with both runs'
  // seed, reproduce command and digest, the tolerances and the regressions. Its "reproduce" is the
  // candidate's; the command line may replace it with the `squall compare` invocation.
  json merged;

  bool passed() const noexcept { return regressions.empty(); }
  // Several lines for a terminal: "no regression" or one line per regression, then warnings.
  std::string verdict_text() const;
};

// Compares two results documents. Either one not being a valid results document is an input error
// (file "base" or "candidate"); so is a pair of runs with no configuration to compare. A comparison is
// computed for every pair: by name, or, when each run has a single configuration under different names,
// those two (with a warning). When both documents come from aggregate_seeds(), a worsening beyond the
// tolerance fails only if the difference of means is also beyond the 95% noise (Welch's t interval).
config_result<comparison> compare_results(const json& base, const json& candidate,
                                          const compare_tolerances& tolerances = {});

}  // namespace squall::reports
