// The fake model's content generator (fake_providers/content): request bodies carry JSON schemas from
// untrusted clients (response_format, tool parameters, responseSchema). The first byte seeds the rng and
// picks how the schema is used (an instance, or a tool's arguments); the rest is the schema's JSON.
// schema_instance.hpp promises an error value or an instance within the limits: never a crash, never an
// instance deeper or larger than schema_limits says, never a string longer than string_length_max.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "fake_providers/content/answer_content.hpp"
#include "fake_providers/content/schema_instance.hpp"
#include "tests/fuzz/fuzz_support.hpp"

namespace {

using nlohmann::json;

struct shape {
  std::size_t nodes = 0;
  std::size_t depth = 0;
  std::size_t longest_string = 0;
};

void measure(const json& v, std::size_t depth, shape& out) {
  ++out.nodes;
  out.depth = std::max(out.depth, depth);
  if (v.is_string()) out.longest_string = std::max(out.longest_string, v.get_ref<const std::string&>().size());
  if (v.is_structured()) {
    for (const json& child : v) measure(child, depth + 1, out);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const json schema = json::parse(squall::fuzz::as_text(data + 1, size - 1), nullptr, false);
  if (schema.is_discarded()) return 0;
  squall::fake::content::schema_limits limits;
  limits.nodes_max = 200;  // small limits keep each execution fast; the promise is the same
  limits.depth_max = 12;
  squall::rng r(data[0]);
  if ((data[0] & 1) == 0) {
    const squall::fake::content::instance_result result = squall::fake::content::schema_instance(schema, r, limits);
    if (!result.ok()) return 0;
    shape s;
    measure(result.value(), 0, s);
    // Enum and const values come whole from the schema, so only generated values are bounded by the limits;
    // a const is one node, however large.
    const std::string_view text = squall::fuzz::as_text(data + 1, size - 1);
    const bool has_values = text.find("enum") != std::string_view::npos || text.find("const") != std::string_view::npos;
    if (!has_values && (s.nodes > limits.nodes_max || s.depth > limits.depth_max)) {
      squall::fuzz::broken_promise("an instance beyond the limits", result.value().dump().substr(0, 2000));
    }
    (void)result.value().dump(-1, ' ', false, json::error_handler_t::replace);
    return 0;
  }
  squall::fake::content::answer_request request;
  request.tools.push_back({"tool", schema, "$.tools[0].parameters"});
  request.choice.mode = squall::fake::content::tool_choice_mode::required;
  const squall::fake::content::answer_result result = squall::fake::content::answer(request, r, limits);
  if (!result.ok()) return 0;
  const json arguments = json::parse(result.value().tool_calls.at(0).arguments_json, nullptr, false);
  if (!arguments.is_object()) {
    squall::fuzz::broken_promise("tool arguments that are not a JSON object", result.value().tool_calls.at(0).arguments_json);
  }
  return 0;
}
