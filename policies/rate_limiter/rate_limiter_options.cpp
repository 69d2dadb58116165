#include "policies/rate_limiter/rate_limiter_options.hpp"

#include <string>

namespace squall {
namespace {

void read_aimd(json_reader& reader, const rate_limiter_options& outer, limiter_aimd_options& options) {
  std::string kind = "aimd";
  reader.choice("kind", kind, {"aimd"});
  reader.number("decrease_factor", options.decrease_factor, 0.01, 0.99)
      .number("increase_per_s", options.increase_per_s, 0.0, 1000000.0)
      .number("rpm_min", options.rpm_min, 0.01, 100000000.0)
      .number("rpm_max", options.rpm_max, 0.01, 100000000.0)
      .number("cooldown_ms", options.cooldown_ms, 0.0, 3600000.0);
  if (reader.failed() || !outer.rpm) return;
  const double rpm = *outer.rpm;
  if (options.rpm_min > rpm) {
    reader.fail_key("rpm_min", "expected at most rpm (" + describe_json(rpm) + "), got " +
                                   describe_json(options.rpm_min));
  } else if (options.rpm_max && *options.rpm_max < rpm) {
    reader.fail_key("rpm_max", "expected at least rpm (" + describe_json(rpm) + "), got " +
                                   describe_json(*options.rpm_max));
  }
}

}  // namespace

void read_rate_limiter_options(json_reader& reader, rate_limiter_options& options) {
  reader.allow_only({"rpm", "tpm", "mode", "wait_ms_max", "queue_max", "burst_s", "adaptive"});
  reader.number("rpm", options.rpm, 0.01, 100000000.0).number("tpm", options.tpm, 1.0, 1e12);
  if (!reader.failed() && !options.rpm && !options.tpm) {
    reader.fail(reader.path(), "expected \"rpm\", \"tpm\" or both: a rate limiter needs a rate");
  }

  std::string mode;
  reader.choice("mode", mode, {"wait", "reject"});
  if (mode == "wait") options.mode = limiter_mode::wait;
  if (mode == "reject") options.mode = limiter_mode::reject;

  reader.number("wait_ms_max", options.wait_ms_max, 0.0, 3600000.0)
      .count("queue_max", options.queue_max, 0, 1000000)
      .number("burst_s", options.burst_s, 0.001, 60.0);

  const json* adaptive = reader.child("adaptive");
  if (adaptive == nullptr || reader.failed()) return;
  if (!adaptive->is_object()) {
    reader.fail_key("adaptive", "expected an object such as {\"kind\": \"aimd\"}, got " + describe_json(*adaptive));
    return;
  }
  if (!options.rpm) {
    reader.fail_key("adaptive", "needs \"rpm\": the adaptive limiter adapts the request rate, starting from rpm");
    return;
  }
  json_reader sub(*adaptive, json_path_key(reader.path(), "adaptive"));
  limiter_aimd_options aimd;
  read_aimd(sub, options, aimd);
  if (auto e = sub.finish()) {
    reader.fail(std::move(e->path), std::move(e->message));
    return;
  }
  options.adaptive = aimd;
}

}  // namespace squall
