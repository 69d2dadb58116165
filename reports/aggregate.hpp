#pragma once
// Multi-seed runs (`squall run --seeds N`): one scenario run on several seeds, summarised so that a
// comparison can tell a real difference from seed noise.

#include <vector>

#include "policies/core/config_error.hpp"
#include "policies/core/json_reader.hpp"

namespace squall::reports {

// Folds N >= 2 results documents of the same scenario (same digest, same configurations in the same
// order) into one "squall-results/1" document that every writer renders:
//   - "aggregate": {"runs": N, "seeds": [...], "confidence": 0.95, "interval": "student-t"}
//   - configurations[].summary: the mean of each metric over the runs;
//   - configurations[].summary_stats.<metric>: {"n", "mean", "sd" (sample, n-1), "ci95_low", "ci95_high"}
//     where the interval is mean -/+ t(0.975, n-1) * sd / sqrt(n);
//   - outcomes, latency_spectrum, breakers, decisions, simulated_s, events and every series column:
//     means over the runs (series cut to the shortest run); providers' busy_max and queue_max: maxima,
//     their service_started, queue_waited_share, queue_wait_*_ms and traffic figures (attempts, ...,
//     attempt_latency_p95_ms): means; errors and models: rows matched by key over the runs, their counts
//     and figures means (0 for a run without the row), an error's first_s the earliest and last_s the
//     latest of any run;
//     explained_requests and warnings: those of the first run;
//   - assertions: re-checked against the means, with "passed_runs" (how many single runs held it);
//   - seed and reproduce: the first run's (the command line may replace reproduce with its --seeds form).
// Fewer than two runs, an invalid document (file "run N", 0-based) or runs of different scenarios or
// configurations give an error value.
config_result<json> aggregate_seeds(const std::vector<json>& runs);

}  // namespace squall::reports
