// The results reader: any text through the shared JSON reader, then check_results. results_input.hpp
// promises that a document it accepts is safe for the writers, compare_results() and aggregate_seeds(),
// so an accepted document goes through all of them; compared with itself it must show no regression.

#include <cstddef>
#include <cstdint>
#include <vector>

#include "policies/core/json_parse.hpp"
#include "reports/aggregate.hpp"
#include "reports/compare.hpp"
#include "reports/junit_xml.hpp"
#include "reports/results.hpp"
#include "reports/results_input.hpp"
#include "reports/summary_markdown.hpp"
#include "reports/timeseries_csv.hpp"
#include "tests/fuzz/fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto document = squall::parse_json(squall::fuzz::as_text(data, size));
  if (!document) return 0;
  if (auto error = squall::reports::check_results(*document, "fuzz.json")) {
    (void)squall::dump_json(squall::json(error->describe()));
    return 0;
  }
  // `squall compare` of the document with itself: compare, then render the merged document the way
  // finish_run does (cli/run_command.cpp).
  auto same = squall::reports::compare_results(*document, *document);
  if (!same) return 0;
  if (!same->regressions.empty()) {
    squall::fuzz::broken_promise("a results document compared with itself shows a regression",
                                 same->regressions.front().describe());
  }
  (void)same->verdict_text();
  for (const auto* rendered : {&*document, &same->merged}) {
    (void)squall::reports::summary_markdown(*rendered);
    (void)squall::reports::junit_xml(*rendered);
    (void)squall::reports::timeseries_csv(*rendered);
    (void)squall::reports::summary_table(*rendered, true);
  }
  (void)squall::reports::aggregate_seeds(std::vector<squall::json>{*document, *document});
  return 0;
}
