#include "policies/core/target_breaker.hpp"

#include <string>

namespace squall {

void read_target_breaker_options(json_reader& reader, target_breaker_options& options) {
  reader.count("failures_to_open", options.failures_to_open, 0, 100000)
      .number("failure_percent_to_open", options.failure_percent_to_open, 0.0, 100.0)
      .count("requests_min", options.requests_min, 1, 100000)
      .number("cooldown_ms", options.cooldown_ms, 1.0, 86400000.0);
  if (http_status_set statuses; read_http_status_set(reader, "failure_on_status", statuses)) {
    options.failure_on_status = statuses;
  }
  // Portkey ignores a cb_config with neither threshold; a breaker that can never open is a mistake here.
  if (!reader.failed() && options.failures_to_open == 0 && options.failure_percent_to_open <= 0.0) {
    reader.fail(reader.path(), "expected \"failures_to_open\" or \"failure_percent_to_open\" above 0: without "
                               "either the breaker never opens");
  }
}

void read_target_breaker(json_reader& reader, std::string_view key, std::optional<target_breaker_options>& out) {
  const json* value = reader.child(key);
  if (value == nullptr || reader.failed()) return;
  const std::string path = json_path_key(reader.path(), key);
  if (!value->is_object()) {
    reader.fail(path, "expected an object such as {\"failures_to_open\": 5, \"cooldown_ms\": 30000}, got " +
                          describe_json(*value));
    return;
  }
  json_reader inner(*value, path);
  target_breaker_options options;
  read_target_breaker_options(inner, options);
  if (auto error = inner.finish()) {
    reader.fail(error->path, error->message);
    return;
  }
  out = options;
}

int breaker_status(const outcome& result) noexcept {
  if (result.kind == outcome_class::ok) return 0;
  if (result.http_status != 0) return result.http_status;
  switch (result.kind) {
    case outcome_class::timeout: return 408;           // Portkey's request_timeout answers 408
    case outcome_class::connection_error: return 500;  // its retry handler answers 500 for a failed fetch
    case outcome_class::server_error: return 500;
    case outcome_class::overloaded: return 503;
    case outcome_class::rate_limited:
    case outcome_class::quota: return 429;
    case outcome_class::invalid_request: return 400;
    case outcome_class::auth: return 401;
    default: return 0;
  }
}

target_breakers::target_breakers(const target_breaker_options& options, std::size_t targets)
    : options_(options), cooldown_(from_ms(options.cooldown_ms)), states_(targets) {}

bool target_breakers::is_open(const state& s) const noexcept {
  if (options_.failures_to_open > 0 && s.failures >= options_.failures_to_open) return true;
  const std::uint64_t answers = s.failures + s.successes;
  if (options_.failure_percent_to_open > 0.0 && answers > 0 && answers >= options_.requests_min) {
    // Computed as Portkey computes it: (100 * failures) / answers, compared with the percentage.
    const double percent = (100.0 * static_cast<double>(s.failures)) / static_cast<double>(answers);
    return percent >= options_.failure_percent_to_open;
  }
  return false;
}

target_breakers::check target_breakers::start_call(time_point now) {
  check result;
  for (std::size_t i = 0; i < states_.size(); ++i) {
    state& s = states_[i];
    const std::uint32_t bit = 1U << i;
    if (s.failing && now - s.first_failure > cooldown_) {
      if (is_open(s)) result.recovered |= bit;
      s = state{};
    } else if (is_open(s)) {
      result.open |= bit;
    }
  }
  return result;
}

bool target_breakers::record(std::size_t index, const outcome& result, time_point now) {
  state& s = states_[index];
  if (result.ok()) {
    ++s.successes;
    return false;
  }
  const int status = breaker_status(result);
  if (status == 0) return false;
  const bool failure = options_.failure_on_status ? options_.failure_on_status->contains(status) : status >= 500;
  if (!failure) return false;
  const bool was_open = is_open(s);
  ++s.failures;
  if (!s.failing) {
    // The first failure starts the cooldown clock and drops the successes counted before it.
    s.failing = true;
    s.first_failure = now;
    s.successes = 0;
  }
  return !was_open && is_open(s);
}

}  // namespace squall
