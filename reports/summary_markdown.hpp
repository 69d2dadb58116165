#pragma once
// summary.md: a run in GitHub-flavoured Markdown, ready for a pull-request comment or
// $GITHUB_STEP_SUMMARY. Rendered from a results document; the same document gives the same bytes.

#include <string>

#include "policies/core/json_reader.hpp"

namespace squall::reports {

// A heading with the verdict; scenario, digest, seed and the reproduce command; the fault timeline;
// a table with one column per configuration where every column after the first also shows the
// difference to the first (success rate, degraded rate, latency p50/p95/p99/p99.9, attempts per request,
// cache hit rate, breaker openings, cost, cost per success, cost wasted, and the other mechanisms' counts
// when any configuration used them); then every assertion with its measured value. A document made by
// aggregate_seeds() shows each mean with the half-width of its 95% confidence interval.
std::string summary_markdown(const json& results);

}  // namespace squall::reports
