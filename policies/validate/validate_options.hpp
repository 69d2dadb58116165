#pragma once
// Options of the validate policy (type "validate"). Each member is one JSON key of the policy file, with
// the same name; the member initialisers are the defaults.
//
//   { "type": "validate", "non_empty": true, "json": "when_asked", "not_truncated": true }

#include <cstdint>

#include "policies/core/json_reader.hpp"

namespace squall {

// When an answer must be valid JSON.
enum class validate_json : std::uint8_t {
  never,       // false: JSON is not checked
  always,      // true: every answer's text must be valid JSON
  when_asked,  // "when_asked": only answers to requests that asked for JSON (a raw body whose
               // "response_format" or "output_format" has type "json_object" or "json_schema")
};

struct validate_options {
  // Refuse an answer whose text is empty or only white space. The default is true.
  bool non_empty = true;

  // false, true or "when_asked": when the answer's text must parse as JSON. The default is false.
  validate_json json = validate_json::never;

  // Refuse an answer the provider cut short by its length limit (finish reason "length" or "max_tokens").
  // The default is false: a caller that set max_tokens may want the cut answer.
  bool not_truncated = false;
};

// Reads every key above from `reader`, checking types; leaves absent keys at their defaults. A policy
// that checks nothing (non_empty and not_truncated false, json false) is refused.
void read_validate_options(json_reader& reader, validate_options& options);

}  // namespace squall
