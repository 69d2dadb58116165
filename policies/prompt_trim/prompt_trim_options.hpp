#pragma once
// Options of the prompt trimmer (type "prompt_trim"). Each member is one JSON key of the policy file,
// with the same name; the member initialisers are the defaults.
//
//   { "type": "prompt_trim", "input_tokens_max": 100000, "on_exceeded": "trim" }

#include <cstdint>

#include "policies/core/json_reader.hpp"

namespace squall {

// What happens to a request whose input is longer than input_tokens_max.
enum class prompt_trim_mode : std::uint8_t { trim, reject };

struct prompt_trim_options {
  // The longest input a request may carry, in tokens. Required: from 1 to 2000000. There is no default;
  // the initialiser only marks it unset until the parser reads it.
  std::uint32_t input_tokens_max = 0;

  // "trim": lower the request's input_tokens to input_tokens_max for the rest of the call (the oldest
  // context is what an application drops); "reject": answer invalid_request without calling the
  // provider. The default is "trim".
  prompt_trim_mode on_exceeded = prompt_trim_mode::trim;
};

// Reads every key above from `reader`, checking ranges; input_tokens_max must be present.
void read_prompt_trim_options(json_reader& reader, prompt_trim_options& options);

}  // namespace squall
