// The scenario loader: any text through the document readers, then parse_scenario. Relative policy
// paths resolve against the tree's scenarios/ folder, so the seeds that name "policies/retry-only.json"
// load real policy files and reach past the "policies" key.
//
// The first byte picks the reader, so that the JSON seeds ('{', whitespace) keep working: 'Y' reads the
// rest as YAML (as a .yaml scenario is read), 'S' takes the first line as a --set PATH=VALUE applied to the
// JSON that follows; anything else is JSON. Every document then has its ${NAME}s expanded, RATE and MODEL set.

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "documents/environment.hpp"
#include "documents/set_override.hpp"
#include "documents/yaml_document.hpp"
#include "policies/core/json_parse.hpp"
#include "sim/scenario/scenario.hpp"
#include "tests/fuzz/fuzz_support.hpp"

namespace {

std::optional<std::string> fuzz_environment(std::string_view name) {
  if (name == "RATE") return std::string("5");
  if (name == "MODEL") return std::string("gpt-4o-mini");
  return std::nullopt;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text = squall::fuzz::as_text(data, size);
  std::optional<squall::documents::set_override> set;
  squall::config_result<squall::json> document = squall::json();
  if (!text.empty() && text.front() == 'Y') {
    squall::documents::yaml_limits limits;
    limits.repeated_keys_refused = true;
    document = squall::documents::parse_yaml(text.substr(1), limits);
  } else {
    if (!text.empty() && text.front() == 'S') {
      const std::size_t end = text.find('\n');
      auto parsed = squall::documents::parse_set_override(text.substr(1, end == std::string_view::npos ? text.size() - 1 : end - 1));
      if (parsed) set = std::move(*parsed);
      text = end == std::string_view::npos ? std::string_view() : text.substr(end + 1);
    }
    document = squall::parse_json(text);
  }
  if (!document) return 0;
  if (!squall::documents::expand_environment(*document, fuzz_environment)) return 0;
  if (set && squall::documents::apply_set_override(*document, *set, {})) return 0;
  auto s = squall::sim::parse_scenario(*document, SQUALL_SCENARIOS_DIR);
  if (!s) {
    (void)squall::dump_json(squall::json(s.error().describe()));
    return 0;
  }
  (void)s->effective_interval_s();
  return 0;
}
