#pragma once
// Options of the token and spend budget (type "token_budget"). Each member is one JSON key of the
// policy file, with the same name; the member initialisers are the defaults.
//
//   { "type": "token_budget", "period_s": 3600, "tokens_max": 2000000, "usd_max": 25,
//     "on_exceeded": "downgrade", "downgrade_model": "gpt-4o-mini" }

#include <cstdint>
#include <optional>
#include <string>

#include "policies/core/json_reader.hpp"

namespace squall {

// What happens to a call that would take the period's spend past a limit.
enum class budget_exceeded_mode : std::uint8_t { reject, downgrade };

struct token_budget_options {
  // The length of one budget period, in seconds; periods are fixed windows starting when the policy is
  // built. From 1 to 31622400 (366 days). The default is 3600 s.
  double period_s = 3600.0;

  // The most tokens (input plus output) the calls may use per period. From 1 to 1e15. No default:
  // absent means no token limit. At least one of tokens_max and usd_max must be given.
  std::optional<double> tokens_max;

  // The most the calls may cost per period, in US dollars. From 0.000001 to 1e9. No default: absent
  // means no spend limit. At least one of tokens_max and usd_max must be given.
  std::optional<double> usd_max;

  // "reject": a call that does not fit is answered `rejected` without calling the provider;
  // "downgrade": it goes on with its model replaced by downgrade_model. The default is "reject".
  budget_exceeded_mode on_exceeded = budget_exceeded_mode::reject;

  // The cheaper model a call that does not fit is sent to. Required with "downgrade", refused with
  // "reject". No default.
  std::string downgrade_model;
};

// Reads every key above from `reader`, checking ranges and the cross-field rules.
void read_token_budget_options(json_reader& reader, token_budget_options& options);

}  // namespace squall
