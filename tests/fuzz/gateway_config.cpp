// The gateway-config importer (squall import-config): any text through the shared JSON reader, then the
// Portkey importer. Bad input must come back as an error value naming a JSON path; whatever it accepts
// must be a policy file that loads (the importer checks that itself and would say so as an error).

#include <cstddef>
#include <cstdint>

#include "config_import/portkey_config.hpp"
#include "policies/core/json_parse.hpp"
#include "tests/fuzz/fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto document = squall::parse_json(squall::fuzz::as_text(data, size));
  if (!document) return 0;
  auto imported = squall::config_import::import_portkey_config(*document, "config.json");
  if (!imported) {
    const std::string message = imported.error().describe();
    // The importer's self-check failing is a bug in the importer, not bad input.
    if (message.find("does not load") != std::string::npos) __builtin_trap();
    (void)squall::dump_json(squall::json(message));
    return 0;
  }
  (void)squall::dump_json(imported->document);
  for (const auto& n : imported->not_expressed) (void)squall::dump_json(squall::json(n.path + n.message));
  return 0;
}
