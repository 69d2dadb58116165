// The shard reader of `squall merge`: any text through the shared JSON reader, then merge_shards as one
// shard. merge_shards promises that what it accepts is safe for sweep_document and the sweep's writers, so
// an accepted shard goes through all of them; and merging it again (re-read from its own text) must give
// the same document, since `squall merge` of shards equals the unsharded sweep byte for byte.

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "policies/core/json_parse.hpp"
#include "reports/sweep_report.hpp"
#include "sweeps/sweep_results.hpp"
#include "tests/fuzz/fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto document = squall::parse_json(squall::fuzz::as_text(data, size));
  if (!document) return 0;
  auto merged = squall::sweeps::merge_shards({{"fuzz.json", *document}});
  if (!merged) {
    (void)squall::dump_json(squall::json(merged.error().describe()));
    return 0;
  }
  const squall::json doc = squall::sweeps::sweep_document(merged->plan, merged->units, merged->incomplete_reason);
  (void)squall::reports::sweep_markdown(doc);
  (void)squall::reports::sweep_csv(doc);
  (void)squall::reports::sweep_terminal(doc);
  // The shard written back from what was read, and merged again: the same document.
  squall::json again = *document;
  squall::json units = squall::json::array();
  for (const auto& u : merged->units) {
    if (u) units.push_back(squall::sweeps::unit_json(*u));
  }
  again["units"] = units;
  auto second = squall::sweeps::merge_shards({{"again.json", squall::parse_json(squall::dump_json(again)).value()}});
  if (!second) squall::fuzz::broken_promise("a shard written from an accepted one does not merge", second.error().describe());
  if (squall::dump_json(squall::sweeps::sweep_document(second->plan, second->units, second->incomplete_reason)) != squall::dump_json(doc)) {
    squall::fuzz::broken_promise("a shard merged twice gives two documents");
  }
  return 0;
}
