#include "policies/token_budget/token_budget_options.hpp"

namespace squall {

void read_token_budget_options(json_reader& reader, token_budget_options& options) {
  reader.allow_only({"period_s", "tokens_max", "usd_max", "on_exceeded", "downgrade_model"});
  reader.number("period_s", options.period_s, 1.0, 31622400.0)
      .number("tokens_max", options.tokens_max, 1.0, 1e15)
      .number("usd_max", options.usd_max, 0.000001, 1e9);
  if (!reader.failed() && !options.tokens_max && !options.usd_max) {
    reader.fail(reader.path(), "expected \"tokens_max\", \"usd_max\" or both: a budget needs a limit");
  }

  std::string mode;
  reader.choice("on_exceeded", mode, {"reject", "downgrade"});
  if (mode == "reject") options.on_exceeded = budget_exceeded_mode::reject;
  if (mode == "downgrade") options.on_exceeded = budget_exceeded_mode::downgrade;

  const bool has_model = reader.child("downgrade_model") != nullptr;
  reader.string("downgrade_model", options.downgrade_model);
  if (reader.failed()) return;
  if (options.on_exceeded == budget_exceeded_mode::downgrade && options.downgrade_model.empty()) {
    if (has_model) {
      reader.fail_key("downgrade_model", "expected a model name, got an empty string");
    } else {
      reader.fail(reader.path(), "missing key \"downgrade_model\"; expected the cheaper model that \"downgrade\" "
                                 "sends calls to");
    }
  } else if (options.on_exceeded == budget_exceeded_mode::reject && has_model) {
    reader.fail_key("downgrade_model", "only used with \"on_exceeded\": \"downgrade\"; "
                                       "remove it or set on_exceeded to \"downgrade\"");
  }
}

}  // namespace squall
