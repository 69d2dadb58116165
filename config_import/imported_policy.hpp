#pragma once
// What an importer of a gateway's configuration gives: a squall policy file (docs/policies.md) that
// does what the gateway would, and everything in the configuration the file cannot say, each named by its
// JSON path, so that nothing is dropped silently.

#include <string>
#include <vector>

#include "policies/core/json_reader.hpp"  // json

namespace squall::config_import {

struct import_note {
  std::string path;     // where in the user's configuration, "$.targets[1].weight"
  std::string message;  // what is not expressed, or how it was approximated
};

struct imported_policy {
  json document;                        // a policy file: {"name", "description", "policies": [...]}
  std::vector<import_note> not_expressed;  // what the policy file does not do that the gateway would
  std::vector<import_note> approximated;   // expressed, but not exactly (the message says how)
  std::vector<import_note> ignored;        // not a policy's concern (credentials, hosts, hooks' code)
};

}  // namespace squall::config_import
