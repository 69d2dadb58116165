#include "runs/service_run.hpp"

#include <boost/asio/io_context.hpp>
#include <memory>

#include "fake_providers/fake_server.hpp"
#include "fake_providers/serve.hpp"
#include "policies/asio/asio_runtime.hpp"
#include "policies/http/url.hpp"
#include "runs/service_handler.hpp"
#include "runs/upstream_view.hpp"
#include "sim/metrics/attempt_meter.hpp"
#include "sim/scenario/placeholders.hpp"
#include "sut/free_port.hpp"
#include "sut/service_process.hpp"

namespace squall::runs {
namespace {

// At most this many attempts are kept per configuration (about 200 bytes each: 200 MB at the cap); beyond,
// they are counted. Eight attempts for each request the live caps allow is more than retry policies make.
constexpr std::uint64_t recorded_attempts_per_request = 8;
constexpr std::uint64_t recorded_attempts_max = 1'000'000;

// A folder name from a configuration's name: what path_component does for the outputs.
std::string folder_for(const std::string& name) {
  std::string safe = name;
  for (char& c : safe) {
    const bool keep = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
                      c == '_' || c == '-';
    if (!keep) c = '_';
  }
  if (safe.empty() || safe == "." || safe == "..") safe = "_" + safe;
  return safe;
}

// The service's environment and command: the scenario's, then the configuration's, placeholders expanded.
struct start_values {
  std::uint16_t port = 0;
  const fake::fake_server* providers = nullptr;
  std::string operator()(std::string_view name) const {
    if (name == "port") return std::to_string(port);
    // providers.<name>.base_url | providers.<name>.origin (checked when the scenario was read)
    const std::size_t last = name.rfind('.');
    const std::string_view provider = name.substr(10, last - 10);
    const fake::endpoint_info* e = providers->find(provider);
    if (!e) return {};
    return name.substr(last + 1) == "origin" ? e->origin : e->base_url;
  }
};

}  // namespace

std::optional<config_error> check_service_run(const sim::scenario& s, const service_run_options& options) {
  if (!s.service) return config_error{s.file, "$", "the scenario has no \"service\" block"};
  const sim::service_spec& spec = *s.service;
  if (!spec.base_url.empty()) {
    auto url = parse_http_url(spec.base_url);
    if (!url) return config_error{s.file, "$.service.base_url", url.error().message};
    if (url->tls) {
      return config_error{s.file, "$.service.base_url", "https:// services are not supported yet; give the service's "
                                                        "plain-HTTP address on loopback"};
    }
    if (!options.live.allow_remote && !is_loopback_host(url->host)) {
      return config_error{s.file, "$.service.base_url",
                          "\"" + url->host + "\" is not a loopback address: squall sends load only to 127.0.0.0/8, "
                                             "::1 or localhost unless --allow-remote is given"};
    }
  }
  if (options.live.requests_max < 1) return config_error{"", "--live-max-requests", "must be at least 1"};
  if (!(options.live.run_s_max > 0)) return config_error{"", "--live-max-s", "must be greater than 0"};
  return std::nullopt;
}

service_run_outcome run_service_configuration(const sim::scenario& s, std::size_t index, std::uint64_t seed,
                                              const service_run_options& options, const sim::progress_fn& progress) {
  service_run_outcome out;
  const sim::service_spec& spec = *s.service;
  const sim::configuration& config = s.configurations.at(index);
  const sim::service_configuration& version = spec.configurations.at(index);

  // 1. The fake providers, recording every attempt.
  fake::serve_options serve;
  serve.seed = seed;
  serve.port = spec.providers_port;
  fake::server_options server_options = fake::options_for(s, serve);
  server_options.record_attempts = true;
  server_options.recorded_attempts_max =
      std::min(recorded_attempts_max, options.live.requests_max * recorded_attempts_per_request);
  fake::fake_server providers(s.providers, server_options);
  if (auto error = providers.start()) {
    out.failure = service_run_failure{service_run_failure::kind::providers,
                                      "the fake providers could not start: " + *error};
    return out;
  }

  // 2. The service, or where it already runs.
  service_target target;
  std::unique_ptr<sut::service_process> service;
  if (!spec.base_url.empty()) {
    auto url = parse_http_url(spec.base_url);  // check_service_run accepted it
    target.host = url->host;
    target.port = static_cast<std::uint16_t>(std::stoul(url->port));
  } else {
    auto port = sut::free_loopback_port();
    if (!port) {
      out.failure = service_run_failure{service_run_failure::kind::service_start, port.error().describe()};
      return out;
    }
    target.port = *port;
    const start_values values{*port, &providers};
    sut::service_options o;
    for (const auto& arg : version.command.empty() ? spec.command : version.command) {
      o.argv.push_back(sim::expand_placeholders(arg, values));
    }
    o.working_directory = spec.cwd.string();
    for (const auto& [name, text] : spec.env) o.env_set[name] = sim::expand_placeholders(text, values);
    for (const auto& [name, text] : version.env) o.env_set[name] = sim::expand_placeholders(text, values);
    out.log_path = (options.logs_dir / folder_for(config.name) / "service.log").string();
    o.log_path = out.log_path;
    if (!spec.ready_http_path.empty()) {
      o.ready = sut::http_ready{*port, spec.ready_http_path};
    } else {
      o.ready = sut::output_ready{spec.ready_output};
    }
    o.ready_timeout_ms = static_cast<std::uint64_t>(spec.ready_timeout_ms);
    o.stop_signal = spec.stop_signal;
    o.stop_grace_ms = static_cast<std::uint64_t>(spec.stop_grace_ms);
    auto started = sut::service_process::start(std::move(o));
    if (!started) {
      out.failure = service_run_failure{service_run_failure::kind::service_start, started.error().describe()};
      return out;
    }
    service = std::move(*started);
  }

  // 3. Time 0 of the fault timeline and of the load: now, on both clocks.
  providers.restart_timeline();
  boost::asio::io_context io;
  asio_runtime rt(io);

  // 4. The load.
  sim::configuration_result result;
  result.name = config.name;
  result.policy_source = "service";
  result.policy_name = config.name;
  result.metrics = std::make_unique<sim::run_metrics>();
  for (const auto& p : s.providers) result.providers.push_back(sim::provider_summary{p.name});
  service_handler to_service(io, target, spec, s.workload.provider);
  sim::attempt_meter meter(to_service, *result.metrics);
  sim::live_options live = options.live;
  std::string service_died;
  live.watch = [&]() -> std::string {
    if (!service) return {};
    const auto end = service->poll();
    if (!end) return {};
    service_died = "the service " + end->describe() + " during the run (log: " + out.log_path + "; last lines: " +
                   service->last_output_lines(3) + ")";
    return service_died;
  };
  const sim::live_drive drive = sim::drive_live_workload(s, seed, live, rt, meter, *result.metrics, progress);
  result.simulated_s = drive.elapsed_s;
  result.events = drive.events;
  result.incomplete = drive.incomplete;
  result.incomplete_reason = drive.incomplete_reason;
  out.service_died = !service_died.empty();

  // 5. Stop the service, then the providers, and join the two sides.
  json service_doc = json::object();
  if (service) {
    const sut::service_end end = service->stop();
    service_doc = {{"command", service->command()}, {"log", out.log_path}, {"pid", service->pid()},
                   {"end", end.describe()}};
  } else {
    service_doc = {{"base_url", spec.base_url}};
  }
  providers.stop();
  const std::vector<fake::upstream_attempt> attempts = providers.take_attempts();
  upstream_view view = make_upstream_view(attempts, providers.attempt_counts().not_recorded, to_service.side(),
                                          s.effective_interval_s(), drive.elapsed_s);
  view.document["service"] = std::move(service_doc);
  result.upstream = std::move(view.document);
  result.upstream_summary = std::move(view.summary);
  out.result = std::move(result);
  return out;
}

}  // namespace squall::runs
