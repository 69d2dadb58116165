#include "policies/retry/retry_options.hpp"

#include <optional>
#include <string>

namespace squall {
namespace {

std::string_view refuse_for_retry(outcome_class c) {
  if (is_permanent(c)) {
    switch (c) {
      case outcome_class::invalid_request:
        return "invalid_request is never retried: the same request fails the same way again";
      case outcome_class::auth: return "auth is never retried: the same credentials fail the same way again";
      default: return "quota is never retried: an exhausted quota or billing limit does not recover by waiting";
    }
  }
  if (c == outcome_class::ok) return "ok is a success and is never retried";
  return {};
}

std::optional<backoff_kind> read_backoff(json_reader& reader) {
  std::string backoff;
  reader.choice("backoff", backoff, {"constant", "linear", "exponential"});
  if (backoff == "constant") return backoff_kind::constant;
  if (backoff == "linear") return backoff_kind::linear;
  if (backoff == "exponential") return backoff_kind::exponential;
  return std::nullopt;
}

std::optional<jitter_kind> read_jitter(json_reader& reader) {
  std::string jitter;
  reader.choice("jitter", jitter, {"none", "full", "equal", "decorrelated", "shrink"});
  if (jitter == "none") return jitter_kind::none;
  if (jitter == "full") return jitter_kind::full;
  if (jitter == "equal") return jitter_kind::equal;
  if (jitter == "decorrelated") return jitter_kind::decorrelated;
  if (jitter == "shrink") return jitter_kind::shrink;
  return std::nullopt;
}

hint_mode read_hint_mode(json_reader& reader, std::string_view key, hint_mode fallback) {
  std::string mode;
  reader.choice(key, mode, {"honor", "ignore"});
  if (mode == "honor") return hint_mode::honor;
  if (mode == "ignore") return hint_mode::ignore;
  return fallback;
}

void read_class_options(json_reader& reader, const retry_options& top, retry_class_options& out) {
  std::uint32_t attempts = top.attempts_max;
  if (reader.count("attempts_max", attempts, 1, 100); reader.failed()) return;
  if (const json* v = reader.child("attempts_max"); v != nullptr) out.attempts_max = attempts;
  out.backoff = read_backoff(reader);
  reader.number("delay_ms_base", out.delay_ms_base, 0.0, 3600000.0)
      .number("multiplier", out.multiplier, 1.0, 10.0)
      .number("delay_ms_max", out.delay_ms_max, 0.0, 3600000.0);
  const double base = out.delay_ms_base.value_or(top.delay_ms_base);
  const double cap = out.delay_ms_max.value_or(top.delay_ms_max);
  if (!reader.failed() && cap < base) {
    const bool own_cap = out.delay_ms_max.has_value();
    reader.fail_key(own_cap ? "delay_ms_max" : "delay_ms_base",
                    own_cap ? "expected at least delay_ms_base (" + describe_json(base) + "), got " + describe_json(cap)
                            : "expected at most delay_ms_max (" + describe_json(cap) + "), got " + describe_json(base));
  }
  out.jitter = read_jitter(reader);
}

void read_per_class(json_reader& reader, retry_options& options) {
  const json* object = reader.child("per_class");
  if (object == nullptr || reader.failed()) return;
  const std::string path = json_path_key(reader.path(), "per_class");
  if (!object->is_object()) {
    reader.fail(path, "expected an object keyed by outcome class name, got " + describe_json(*object));
    return;
  }
  for (auto it = object->begin(); it != object->end() && !reader.failed(); ++it) {
    const std::string item_path = json_path_key(path, it.key());
    const auto c = outcome_class_from_string(it.key());
    if (!c) {
      std::string known;
      for (auto name : outcome_class_names) {
        if (!known.empty()) known += ", ";
        known += name;
      }
      reader.fail(item_path, "unknown outcome class \"" + it.key() + "\"; expected one of " + known);
      return;
    }
    if (const std::string_view why = refuse_for_retry(*c); !why.empty()) {
      reader.fail(item_path, std::string(why));
      return;
    }
    if (!options.retry_on.contains(*c)) {
      reader.fail(item_path, it.key() + " is not in retry_on, so it is never retried; add it to retry_on");
      return;
    }
    json_reader item(it.value(), item_path);
    read_class_options(item, options, options.per_class[static_cast<std::size_t>(*c)]);
    if (auto e = item.finish()) reader.fail(e->path, e->message);
  }
}

}  // namespace

retry_class_settings resolve_retry_settings(const retry_options& options, outcome_class c) noexcept {
  const retry_class_options& own = options.per_class[static_cast<std::size_t>(c)];
  return retry_class_settings{own.attempts_max.value_or(options.attempts_max),
                              own.backoff.value_or(options.backoff),
                              own.delay_ms_base.value_or(options.delay_ms_base),
                              own.delay_ms_max.value_or(options.delay_ms_max),
                              own.multiplier.value_or(options.multiplier),
                              own.jitter.value_or(options.jitter)};
}

void read_retry_options(json_reader& reader, retry_options& options) {
  reader.count("attempts_max", options.attempts_max, 1, 100);
  options.backoff = read_backoff(reader).value_or(options.backoff);
  reader.number("delay_ms_base", options.delay_ms_base, 0.0, 3600000.0)
      .number("multiplier", options.multiplier, 1.0, 10.0)
      .number("delay_ms_max", options.delay_ms_max, 0.0, 3600000.0);
  if (!reader.failed() && options.delay_ms_max < options.delay_ms_base) {
    reader.fail_key("delay_ms_max", "expected at least delay_ms_base (" + describe_json(options.delay_ms_base) +
                                        "), got " + describe_json(options.delay_ms_max));
  }
  options.jitter = read_jitter(reader).value_or(options.jitter);
  reader.number("jitter_fraction", options.jitter_fraction, 0.0, 1.0);

  read_outcome_class_set(reader, "retry_on", options.retry_on, refuse_for_retry);
  if (http_status_set statuses; read_http_status_set(reader, "retry_on_status", statuses)) {
    options.retry_on_status = statuses;
  }

  std::string hint;
  reader.choice("retry_after", hint, {"honor", "ignore"});
  if (hint == "honor") options.retry_after = retry_after_mode::honor;
  if (hint == "ignore") options.retry_after = retry_after_mode::ignore;

  reader.number("retry_after_ms_max", options.retry_after_ms_max, 0.0, 2147483647.0);

  std::string over;
  reader.choice("retry_after_over_max", over, {"cap", "give_up", "backoff"});
  if (over == "cap") options.retry_after_over_max = retry_after_over_max_mode::cap;
  if (over == "give_up") options.retry_after_over_max = retry_after_over_max_mode::give_up;
  if (over == "backoff") options.retry_after_over_max = retry_after_over_max_mode::backoff;

  if (http_status_set statuses; read_http_status_set(reader, "retry_after_on_status", statuses)) {
    options.retry_after_on_status = statuses;
  }
  std::string after_hint;
  reader.choice("backoff_after_hint", after_hint, {"keep", "none"});
  if (after_hint == "keep") options.backoff_after_hint = backoff_after_hint_mode::keep;
  if (after_hint == "none") options.backoff_after_hint = backoff_after_hint_mode::none;

  std::string zero;
  reader.choice("retry_after_zero", zero, {"at_once", "backoff"});
  if (zero == "at_once") options.retry_after_zero = retry_after_zero_mode::at_once;
  if (zero == "backoff") options.retry_after_zero = retry_after_zero_mode::backoff;

  options.should_retry_header = read_hint_mode(reader, "should_retry_header", options.should_retry_header);
  options.ratelimit_reset = read_hint_mode(reader, "ratelimit_reset", options.ratelimit_reset);

  // After retry_on and the top-level delays, which per_class entries are checked against.
  read_per_class(reader, options);
  read_retry_budget_options(reader, "budget", options.budget);
}

}  // namespace squall

