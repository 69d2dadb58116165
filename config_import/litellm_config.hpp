#pragma once
// `squall import-config litellm config.yaml [--model-group NAME]`: a LiteLLM proxy config (model_list,
// router_settings, litellm_settings, general_settings) or a Router's settings in the same shape, already
// read from YAML (documents/yaml_document.hpp), as a squall policy file, outermost first:
//   litellm_router <- one model group of model_list (its deployments: provider/model from
//                     litellm_params.model, weight, rpm, tpm), the Router's retries, cooldowns, routing
//                     strategy, and its fallbacks to other groups (with their deployments)
//   timeout        <- the per-attempt timeout LiteLLM resolves: a deployment's litellm_params.timeout,
//                     else router_settings.timeout, else litellm_settings.request_timeout, else 6000 s
// Everything else (credentials, Redis, callbacks, caches, pre-call checks, other groups) is named in
// imported_policy::not_expressed, approximated or ignored with its path. docs/import-config.md has the
// mapping and the LiteLLM source read.

#include <string>

#include "config_import/imported_policy.hpp"
#include "policies/core/config_error.hpp"

namespace squall::config_import {

// `model_group` picks the model_list group (its model_name); empty picks the only group, and a config
// with several is then an error listing them. `file` names the configuration in messages. Errors name
// the JSON path in the user's file ("$.router_settings.num_retries").
config_result<imported_policy> import_litellm_config(const json& config, const std::string& file,
                                                     const std::string& model_group = "");

}  // namespace squall::config_import
