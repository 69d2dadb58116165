#include "policies/prompt_trim/prompt_trim_options.hpp"

#include <string>

namespace squall {

void read_prompt_trim_options(json_reader& reader, prompt_trim_options& options) {
  // Declared first so that a misspelt "input_tokens_max" is named as unknown, not as missing.
  reader.allow_only({"input_tokens_max", "on_exceeded"});
  if (reader.required("input_tokens_max", "the longest input a request may carry, in tokens (1 to 2000000)") !=
      nullptr) {
    reader.count("input_tokens_max", options.input_tokens_max, 1, 2000000);
  }
  std::string mode;
  reader.choice("on_exceeded", mode, {"trim", "reject"});
  if (mode == "trim") options.on_exceeded = prompt_trim_mode::trim;
  if (mode == "reject") options.on_exceeded = prompt_trim_mode::reject;
}

}  // namespace squall
