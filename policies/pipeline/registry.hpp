#pragma once
// The list of policy types a policy file may name. Each policy folder exports its registration;
// this list is explicit (not static self-registration) so that linking can never drop a policy.

#include <span>

#include "policies/pipeline/policy_spec.hpp"

namespace squall {

std::span<const policy_registration> policy_registry();
const policy_registration* find_policy(std::string_view type);

}  // namespace squall
