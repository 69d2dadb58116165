#pragma once
// A scenario's system under test: the team's own service that squall drives while its fake providers
// misbehave (docs/black-box.md). The scenario's "service" block says how to reach it (a command squall
// starts for each configuration, or the base URL of one already running), how squall's requests to it
// look (a template with placeholders), what counts as a success, and which versions of it to compare
// ("configurations": other commands or environment variables, on the same workload and fault timeline).
//
// Placeholders are checked when the scenario is read, so a typo fails before anything starts:
//   command, env:     ${port} (the port squall chose for the service), ${providers.<name>.base_url}
//                     (what the provider's SDK takes: origin + "/v1" for OpenAI) and ${providers.<name>.origin}
//   request headers,  ${request_id} (unique per user request; also sent as x-squall-request-id),
//   request body:     ${prompt} (starts with the marker "[squall:<request_id>]", then about input_tokens
//                     words), ${model}, ${provider}, ${input_tokens}, ${output_tokens}
// A body string that is exactly one numeric placeholder ("${output_tokens}") becomes a JSON number.

#include <csignal>
#include <cstdint>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "policies/core/config_error.hpp"
#include "policies/core/json_reader.hpp"

namespace squall::sim {

using string_pairs = std::vector<std::pair<std::string, std::string>>;

struct service_request_template {
  std::string method = "POST";
  std::string path = "/";       // may carry a query; placeholders allowed
  string_pairs headers;         // values may hold placeholders
  json body;                    // null: no body; strings may hold placeholders
  double timeout_ms = 60'000;   // per user request, from when it is sent
};

struct service_success_rule {
  std::vector<int> statuses;  // empty: any 2xx
  std::string json_path;      // "$.answer": must be present and not null in a JSON answer; "" = not checked
};

// One version of the service to compare: the service's command and environment with these changes.
struct service_configuration {
  std::string name;
  std::vector<std::string> command;  // empty: the service's own
  string_pairs env;                  // set over the service's
};

struct service_spec {
  std::vector<std::string> command;  // argv; empty when base_url is given
  std::string base_url;              // a service squall does not start ("http://127.0.0.1:8080")
  std::filesystem::path cwd;         // resolved against the scenario's folder
  string_pairs env;
  std::string ready_http_path;       // GET it until a 2xx ...
  std::string ready_output;          // ... or wait for this text on the service's output
  double ready_timeout_ms = 30'000;
  int stop_signal = SIGTERM;
  double stop_grace_ms = 5'000;
  // The fake providers' first port (the next providers count up): a service squall does not start must
  // know where they are. 0: ephemeral ports, handed to a started service through ${providers...}.
  std::uint16_t providers_port = 0;
  std::uint32_t connections_max = 256;  // squall's connections to the service
  service_request_template request;
  service_success_rule success;
  std::vector<service_configuration> configurations;  // at least one ("service" when none is written)
};

// Parses the "service" block at `path` ("$.service"); `providers` are the scenario's provider names (for
// ${providers.<name>...}); `base_dir` resolves "cwd". Errors name the JSON path.
config_result<service_spec> parse_service_spec(const json& value, const std::string& path,
                                               const std::vector<std::string>& providers,
                                               const std::filesystem::path& base_dir);

// The signal names "stop.signal" takes, and their numbers.
std::optional<int> signal_from_name(std::string_view name) noexcept;

}  // namespace squall::sim
