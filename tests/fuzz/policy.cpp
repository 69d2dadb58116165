// The policy-file loader: any text through the shared JSON reader, then parse_pipeline, which validates
// every option of every policy. Bad input must come back as an error value naming a JSON path.

#include <cstddef>
#include <cstdint>

#include "policies/core/json_parse.hpp"
#include "policies/pipeline/pipeline.hpp"
#include "tests/fuzz/fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto document = squall::parse_json(squall::fuzz::as_text(data, size));
  if (!document) {
    (void)document.error().describe();
    return 0;
  }
  auto spec = squall::parse_pipeline(*document, "$");
  if (!spec) {
    // Messages carry user text; they must stay printable as JSON (the CLI and reports embed them).
    (void)squall::dump_json(squall::json(spec.error().describe()));
    return 0;
  }
  (void)squall::dump_json(spec->source);
  return 0;
}
