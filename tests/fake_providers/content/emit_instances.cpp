// Emits, for every schema of a corpus file and a range of seeds, what the fake model would answer, one
// JSON line each, for validate.py to check with a real JSON Schema validator:
//   {"name": ..., "seed": 3, "instance": ...}   or   {"name": ..., "seed": 3, "error": "..."}
// A corpus entry {"name", "schema", "as"?} is drawn with schema_instance, or, with "as": "tool", as the
// arguments of a call of a tool with that schema (answer() with tool_choice required), or, with
// "as": "json_schema", as a structured-output answer.
// Usage: emit_instances <corpus.json> <seeds>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <string>

#include <nlohmann/json.hpp>

#include "fake_providers/content/answer_content.hpp"
#include "fake_providers/content/schema_instance.hpp"

namespace content = squall::fake::content;
using json = nlohmann::json;

namespace {

json emit_one(const json& entry, std::uint64_t seed) {
  squall::rng r(seed);
  json line = {{"name", entry.at("name")}, {"seed", seed}};
  const json& schema = entry.at("schema");
  const std::string as = entry.value("as", "instance");
  if (as == "instance") {
    content::instance_result result = content::schema_instance(schema, r, {});
    if (result) line["instance"] = result.value();
    else line["error"] = result.error().describe();
    return line;
  }
  content::answer_request request;
  if (as == "tool") {
    request.tools.push_back({"the_tool", schema, "$.tools[0].parameters"});
    request.choice.mode = content::tool_choice_mode::required;
  } else {
    request.format = {content::output_kind::json_schema, schema, "$.response_format.json_schema.schema"};
  }
  content::answer_result result = content::answer(request, r);
  if (!result) {
    line["error"] = result.error().describe();
  } else if (as == "tool") {
    line["instance"] = json::parse(result.value().tool_calls.at(0).arguments_json);
  } else {
    line["instance"] = json::parse(result.value().json_text);
  }
  return line;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::cerr << "usage: emit_instances <corpus.json> <seeds>\n";
    return 2;
  }
  std::ifstream in(argv[1]);
  if (!in) {
    std::cerr << "cannot read " << argv[1] << "\n";
    return 2;
  }
  const json corpus = json::parse(in);
  const std::uint64_t seeds = std::strtoull(argv[2], nullptr, 10);
  for (const json& entry : corpus) {
    for (std::uint64_t seed = 1; seed <= seeds; ++seed) std::cout << emit_one(entry, seed).dump() << "\n";
  }
  return 0;
}
