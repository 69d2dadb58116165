#pragma once
// YAML text as JSON: scenario files written in YAML, and LiteLLM's config.yaml / router.yaml for the importers.
// yaml-cpp parses; this file resolves plain scalars the way LiteLLM's own loader does (PyYAML's safe_load,
// YAML 1.1: yes/no/on/off are booleans, 0x1F and 017 are integers, 1_000 is 1000, 1e3 is a string),
// applies merge keys ("<<"), which yaml-cpp 0.7 leaves as ordinary keys, and keeps the last of repeated
// keys as a Python dict does. docs/import-config.md lists where it still reads differently.
//
// The input is bounded before anything grows with it: the text's size, the nesting depth, and the number
// of values after aliases are expanded (a "billion laughs" document of nested aliases is refused after
// nodes_max values, not expanded into memory). Errors are values naming the line and column.

#include <cstddef>
#include <filesystem>
#include <string_view>

#include "policies/core/config_error.hpp"
#include "policies/core/json_reader.hpp"  // json

namespace squall::documents {

struct yaml_limits {
  // Text longer than this is refused before parsing. A proxy config with a hundred deployments is about
  // 30 KiB. The default value is 1 MiB.
  std::size_t bytes_max = std::size_t{1} << 20;
  // Mappings and sequences nested deeper than this are refused (LiteLLM's configs nest fewer than 8
  // levels). The default value is 64.
  std::size_t depth_max = 64;
  // Values (scalars, mappings, sequences) in the JSON built, counting each alias as the copy it becomes.
  // The default value is 100000.
  std::size_t nodes_max = 100000;
  // A key written twice in one mapping: LiteLLM's loader keeps the last (a Python dict), so the importers
  // do too; squall's own files refuse it, as their JSON reader does, since the silent winner misleads.
  bool repeated_keys_refused = false;
};

// Parses one YAML document (a stream of several is refused, as safe_load refuses it). An empty document
// is null. On error the result's `path` is the JSON path of the offending value when there is one, and
// the message says "at line L, column C" (1-based); `file` is left empty for the caller.
config_result<json> parse_yaml(std::string_view text, const yaml_limits& limits = {});

// Reads and parses a file; errors name the file.
config_result<json> read_yaml_file(const std::filesystem::path& file, const yaml_limits& limits = {});

}  // namespace squall::documents
