#include "policies/validate/validate_options.hpp"

namespace squall {

void read_validate_options(json_reader& reader, validate_options& options) {
  reader.boolean("non_empty", options.non_empty).boolean("not_truncated", options.not_truncated);
  if (const json* j = reader.child("json"); j != nullptr && !reader.failed()) {
    if (j->is_boolean()) {
      options.json = j->get<bool>() ? validate_json::always : validate_json::never;
    } else if (j->is_string() && j->get_ref<const std::string&>() == "when_asked") {
      options.json = validate_json::when_asked;
    } else {
      reader.fail_key("json", "expected true, false or \"when_asked\", got " + describe_json(*j));
    }
  }
  if (!reader.failed() && !options.non_empty && !options.not_truncated && options.json == validate_json::never) {
    reader.fail(reader.path(), "a validate policy that checks nothing; expected \"non_empty\", \"not_truncated\" "
                               "or \"json\" to be on");
  }
}

}  // namespace squall
