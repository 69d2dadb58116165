// The gateway-config importers (squall import-config). Byte 0 picks the gateway: 0 is Portkey (the rest is
// JSON through the shared JSON reader), any other byte LiteLLM (the rest is YAML through
// documents/yaml_document, imported for the config's only group, or its first group when it has
// several). Bad input must come back as an error value naming a path; whatever an importer accepts must
// be a policy file that loads (the importer checks that itself and would say so as an error).

#include <cstddef>
#include <cstdint>

#include "config_import/litellm_config.hpp"
#include "config_import/portkey_config.hpp"
#include "documents/yaml_document.hpp"
#include "policies/core/json_parse.hpp"
#include "tests/fuzz/fuzz_support.hpp"

namespace {

void consume(const squall::config_result<squall::config_import::imported_policy>& imported) {
  if (!imported) {
    const std::string message = imported.error().describe();
    // The importer's self-check failing is a bug in the importer, not bad input. Told by how the message
    // starts, not by words anywhere in it: messages quote the input, and an input saying "does not load"
    // (a YAML document that is that plain scalar) is only bad input.
    if (imported.error().message.rfind("the imported policy file does not load (", 0) == 0) {
      squall::fuzz::broken_promise("an imported policy file does not load", message);
    }
    (void)squall::dump_json(squall::json(message));
    return;
  }
  (void)squall::dump_json(imported->document);
  for (const auto* notes : {&imported->not_expressed, &imported->approximated, &imported->ignored}) {
    for (const auto& n : *notes) (void)squall::dump_json(squall::json(n.path + n.message));
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const auto text = squall::fuzz::as_text(data + 1, size - 1);
  if (data[0] == 0) {
    auto document = squall::parse_json(text);
    if (!document) return 0;
    consume(squall::config_import::import_portkey_config(*document, "config.json"));
    return 0;
  }
  auto document = squall::documents::parse_yaml(text);
  if (!document) {
    (void)squall::dump_json(squall::json(document.error().describe()));
    return 0;
  }
  auto imported = squall::config_import::import_litellm_config(*document, "config.yaml");
  consume(imported);
  // Several groups: the first one, so that the rest of the importer is reached too.
  const squall::json& list = document->is_object() && document->contains("model_list") ? (*document)["model_list"]
                                                                                        : squall::json();
  if (!imported && list.is_array() && !list.empty() && list[0].is_object() && list[0].contains("model_name") &&
      list[0]["model_name"].is_string()) {
    consume(squall::config_import::import_litellm_config(*document, "config.yaml",
                                                         list[0]["model_name"].get<std::string>()));
  }
  return 0;
}
