#include "policies/litellm_router/litellm_routing.hpp"

#include <limits>
#include <utility>

namespace squall {
namespace {

// LiteLLM's penalty sample for a timeout (lowest_latency.py async_log_failure_event).
constexpr double litellm_timeout_sample_s = 1000.0;

std::int64_t minute_of(time_point now) noexcept {
  return static_cast<std::int64_t>(now.time_since_epoch() / std::chrono::minutes(1));
}

std::uint64_t limit_or_max(const std::optional<std::uint64_t>& limit) noexcept {
  return limit ? *limit : std::numeric_limits<std::uint64_t>::max();
}

// tokens + input > limit, without overflow (an absent limit is never passed).
bool passes_tpm(const std::optional<std::uint64_t>& tpm, std::uint64_t used, std::uint32_t input_tokens) noexcept {
  return tpm && used + input_tokens > *tpm;
}

}  // namespace

litellm_group::litellm_group(std::string name, const std::vector<litellm_deployment>& deployments,
                             const litellm_router_options& options)
    : name_(std::move(name)), deployments_(deployments), options_(options), state_(deployments.size()) {
  least_busy_order_.reserve(deployments.size());
  usage_order_.reserve(deployments.size());
}

bool litellm_group::cooling(std::size_t index, time_point now) const noexcept {
  const litellm_deployment_state& s = state_[index];
  return s.cooled && now < s.cooling_until;
}

std::size_t litellm_group::healthy_count(time_point now) const noexcept {
  std::size_t n = 0;
  for (std::size_t i = 0; i < state_.size(); ++i) {
    if (!cooling(i, now)) ++n;
  }
  return n;
}

litellm_pick litellm_group::pick(time_point now, std::uint32_t input_tokens, rng& random) {
  // The Router filters out cooling deployments before any strategy runs.
  if (healthy_count(now) == 0) return {litellm_pick_status::none_healthy, 0};
  switch (options_.routing_strategy) {
    case litellm_routing_strategy::least_busy: return pick_least_busy(now, random);
    case litellm_routing_strategy::latency_based: return pick_lowest_latency(now, input_tokens, random);
    case litellm_routing_strategy::usage_based: return pick_lowest_usage(now, input_tokens);
    case litellm_routing_strategy::usage_based_v2: return pick_lowest_usage_v2(now, input_tokens, random);
    case litellm_routing_strategy::simple_shuffle: break;
  }
  return pick_shuffle(now, random);
}

litellm_pick litellm_group::pick_uniform_healthy(time_point now, rng& random) const {
  const std::size_t healthy = healthy_count(now);
  std::size_t k = 0;
  if (healthy > 1) k = static_cast<std::size_t>(random.uniform() * static_cast<double>(healthy));
  for (std::size_t i = 0; i < state_.size(); ++i) {
    if (cooling(i, now)) continue;
    if (k == 0) return {litellm_pick_status::picked, i};
    --k;
  }
  return {litellm_pick_status::none_healthy, 0};  // not reached: healthy > 0
}

litellm_pick litellm_group::pick_shuffle(time_point now, rng& random) const {
  // simple_shuffle.py weighs by "weight" when the first healthy deployment has one. squall keeps its
  // earlier rule there (any weight given: every deployment weighs its weight, 1 by default) so that
  // existing files route as before; without any weight, rpm then tpm of the first healthy deployment
  // pick the weights, a deployment without the key weighing 0, as LiteLLM does.
  enum class by : std::uint8_t { weight, rpm, tpm };
  by mode = by::weight;
  bool any_weight = false;
  for (const litellm_deployment& d : deployments_) any_weight = any_weight || d.weight_given;
  if (!any_weight) {
    for (std::size_t i = 0; i < deployments_.size(); ++i) {
      if (cooling(i, now)) continue;
      if (deployments_[i].rpm) mode = by::rpm;
      else if (deployments_[i].tpm) mode = by::tpm;
      break;
    }
  }
  const auto weight_of = [&](std::size_t i) {
    const litellm_deployment& d = deployments_[i];
    switch (mode) {
      case by::rpm: return d.rpm ? static_cast<double>(*d.rpm) : 0.0;
      case by::tpm: return d.tpm ? static_cast<double>(*d.tpm) : 0.0;
      case by::weight: break;
    }
    return d.weight;
  };

  double total = 0.0;
  std::size_t healthy = 0;
  std::size_t last = 0;
  for (std::size_t i = 0; i < deployments_.size(); ++i) {
    if (cooling(i, now)) continue;
    total += weight_of(i);
    ++healthy;
    last = i;
  }
  // One candidate needs no draw, so a group of one spends its random stream on jitter alone.
  if (healthy <= 1) return {litellm_pick_status::picked, last};
  // Every rpm (or tpm) 0: Python's random.choices refuses zero weights; squall draws uniformly.
  if (total <= 0.0) return pick_uniform_healthy(now, random);
  double u = random.uniform() * total;
  for (std::size_t i = 0; i < deployments_.size(); ++i) {
    if (cooling(i, now)) continue;
    u -= weight_of(i);
    if (u < 0.0) return {litellm_pick_status::picked, i};
  }
  return {litellm_pick_status::picked, last};  // rounding left u at 0 past the last weight
}

litellm_pick litellm_group::pick_least_busy(time_point now, rng& random) {
  // least_busy.py adds the healthy deployments it has not seen to its dict, then takes the minimum over
  // the whole dict, cooling deployments included.
  for (std::size_t i = 0; i < state_.size(); ++i) {
    if (state_[i].seen || cooling(i, now)) continue;
    state_[i].seen = true;
    least_busy_order_.push_back(i);
  }
  std::size_t best = state_.size();
  std::uint64_t fewest = std::numeric_limits<std::uint64_t>::max();
  for (std::size_t i : least_busy_order_) {
    if (state_[i].in_flight < fewest) {
      fewest = state_[i].in_flight;
      best = i;
    }
  }
  if (best < state_.size() && !cooling(best, now)) return {litellm_pick_status::picked, best};
  return pick_uniform_healthy(now, random);
}

double litellm_group::average_latency_s(std::size_t index, time_point now) const noexcept {
  const litellm_deployment_state& s = state_[index];
  // No entry: LiteLLM gives it the placeholder list [0].
  if (!latency_map_alive(now) || !s.in_latency_map || s.latency_count == 0) return 0.0;
  double total = 0.0;
  for (std::size_t k = 0; k < s.latency_count; ++k) total += s.latency_s[k];
  return total / static_cast<double>(s.latency_count);
}

void litellm_group::forget_latency_map() noexcept {
  latency_map_written_ = false;
  for (litellm_deployment_state& s : state_) {
    s.in_latency_map = false;
    s.latency_count = 0;
    s.usage = litellm_minute_usage{};
  }
}

litellm_pick litellm_group::pick_lowest_latency(time_point now, std::uint32_t input_tokens, rng& random) {
  if (latency_map_written_ && !latency_map_alive(now)) forget_latency_map();
  // The placeholder {"latency": [0]} for a healthy deployment without an entry is written into the
  // cached map object itself, so it stays (and counts in the average's length) once the map exists.
  if (latency_map_alive(now)) {
    for (std::size_t i = 0; i < state_.size(); ++i) {
      litellm_deployment_state& s = state_[i];
      if (s.in_latency_map || cooling(i, now)) continue;
      s.in_latency_map = true;
      s.latency_s[0] = 0.0;
      s.latency_count = 1;
    }
  }
  double lowest = std::numeric_limits<double>::infinity();
  std::array<double, 16> average{};
  std::array<bool, 16> candidate{};
  for (std::size_t i = 0; i < state_.size() && i < average.size(); ++i) {
    if (cooling(i, now)) continue;
    const litellm_deployment& d = deployments_[i];
    const litellm_minute_usage u = usage(i, now);
    // lowest_latency.py: item_tpm + input_tokens > tpm or item_rpm + 1 > rpm skips the deployment.
    if (passes_tpm(d.tpm, u.tokens, input_tokens) || u.successes + 1 > limit_or_max(d.rpm)) continue;
    candidate[i] = true;
    average[i] = average_latency_s(i, now);
    if (average[i] < lowest) lowest = average[i];
  }
  std::size_t valid = 0;
  const double ceiling = lowest + options_.routing_strategy_args.lowest_latency_buffer * lowest;
  for (std::size_t i = 0; i < state_.size(); ++i) {
    if (candidate[i] && average[i] <= ceiling) ++valid;
  }
  if (valid == 0) return {litellm_pick_status::none_within_limits, 0};
  std::size_t k = 0;
  if (valid > 1) k = static_cast<std::size_t>(random.uniform() * static_cast<double>(valid));
  for (std::size_t i = 0; i < state_.size(); ++i) {
    if (!candidate[i] || average[i] > ceiling) continue;
    if (k == 0) return {litellm_pick_status::picked, i};
    --k;
  }
  return {litellm_pick_status::none_within_limits, 0};  // not reached
}

litellm_pick litellm_group::pick_lowest_usage(time_point now, std::uint32_t input_tokens) {
  const std::int64_t minute = minute_of(now);
  if (usage_order_minute_ != minute) {
    usage_order_.clear();
    usage_order_minute_ = minute;
  }
  // The minute's tpm dict holds the deployments that succeeded this minute, in that order; the healthy
  // ones missing from it are appended with 0.
  std::array<std::size_t, 16> order{};
  std::size_t n = 0;
  for (std::size_t i : usage_order_) order[n++] = i;
  for (std::size_t i = 0; i < state_.size(); ++i) {
    bool listed = false;
    for (std::size_t j : usage_order_) listed = listed || j == i;
    if (!listed && !cooling(i, now)) order[n++] = i;
  }
  std::uint64_t lowest = std::numeric_limits<std::uint64_t>::max();
  litellm_pick best{litellm_pick_status::none_within_limits, 0};
  for (std::size_t k = 0; k < n; ++k) {
    const std::size_t i = order[k];
    if (cooling(i, now)) continue;
    const litellm_deployment& d = deployments_[i];
    const litellm_minute_usage u = usage(i, now);
    if (passes_tpm(d.tpm, u.tokens, input_tokens)) continue;
    // lowest_tpm_rpm.py: a deployment in the minute's rpm dict is skipped at rpm_dict[id] + 1 >= rpm,
    // so it takes rpm - 1 successes a minute.
    if (u.successes > 0 && d.rpm && u.successes + 1 >= *d.rpm) continue;
    if (u.tokens < lowest) {
      lowest = u.tokens;
      best = {litellm_pick_status::picked, i};
    }
  }
  return best;
}

litellm_pick litellm_group::pick_lowest_usage_v2(time_point now, std::uint32_t input_tokens, rng& random) const {
  // lowest_tpm_rpm_v2.py compares the model id with rpm keys of the form "id:rpm:minute", which never
  // match, so rpm plays no part here; async_pre_call_check enforces it (admit()).
  std::uint64_t lowest = std::numeric_limits<std::uint64_t>::max();
  std::size_t ties = 0;
  for (std::size_t i = 0; i < state_.size(); ++i) {
    if (cooling(i, now)) continue;
    const litellm_minute_usage u = usage(i, now);
    if (passes_tpm(deployments_[i].tpm, u.tokens, input_tokens)) continue;
    if (u.tokens < lowest) {
      lowest = u.tokens;
      ties = 1;
    } else if (u.tokens == lowest) {
      ++ties;
    }
  }
  if (ties == 0) return {litellm_pick_status::none_within_limits, 0};
  std::size_t k = 0;
  if (ties > 1) k = static_cast<std::size_t>(random.uniform() * static_cast<double>(ties));
  for (std::size_t i = 0; i < state_.size(); ++i) {
    if (cooling(i, now)) continue;
    const litellm_minute_usage u = usage(i, now);
    if (passes_tpm(deployments_[i].tpm, u.tokens, input_tokens) || u.tokens != lowest) continue;
    if (k == 0) return {litellm_pick_status::picked, i};
    --k;
  }
  return {litellm_pick_status::none_within_limits, 0};  // not reached
}

litellm_minute_usage litellm_group::usage(std::size_t index, time_point now) const noexcept {
  const litellm_minute_usage& u = state_[index].usage;
  return u.minute == minute_of(now) ? u : litellm_minute_usage{minute_of(now), 0, 0, 0};
}

litellm_minute_usage& litellm_group::usage_now(std::size_t index, time_point now) {
  litellm_minute_usage& u = state_[index].usage;
  const std::int64_t minute = minute_of(now);
  if (u.minute != minute) u = litellm_minute_usage{minute, 0, 0, 0};
  return u;
}

bool litellm_group::admit(std::size_t index, time_point now) {
  litellm_minute_usage& u = usage_now(index, now);
  if (u.attempts >= limit_or_max(deployments_[index].rpm)) return false;
  ++u.attempts;
  return true;
}

void litellm_group::attempt_started(std::size_t index) { ++state_[index].in_flight; }

void litellm_group::attempt_abandoned(std::size_t index) {
  if (state_[index].in_flight > 0) --state_[index].in_flight;
}

void litellm_group::add_latency_sample(std::size_t index, time_point now, double sample) {
  if (!latency_map_alive(now)) forget_latency_map();
  litellm_deployment_state& s = state_[index];
  s.in_latency_map = true;
  // Below 10 samples the list grows; at 10, LiteLLM keeps the first 9 and replaces the last.
  if (s.latency_count < litellm_latency_samples_max) {
    s.latency_s[s.latency_count++] = sample;
  } else {
    s.latency_s[litellm_latency_samples_max - 1] = sample;
  }
  latency_map_written_ = true;
  latency_map_expires_ = now + from_s(options_.routing_strategy_args.ttl_s);
}

void litellm_group::attempt_ended(std::size_t index, time_point now, const outcome& result, duration took) {
  attempt_abandoned(index);
  const bool latency = options_.routing_strategy == litellm_routing_strategy::latency_based;
  if (result.kind == outcome_class::ok) {
    if (latency) {
      // A success's sample is its response time per output token; with 0 output tokens LiteLLM's
      // division raises inside the callback and nothing at all is recorded.
      if (result.output_tokens == 0) return;
      add_latency_sample(index, now, to_s(took) / static_cast<double>(result.output_tokens));
    }
    litellm_minute_usage& u = usage_now(index, now);
    ++u.successes;
    u.tokens += static_cast<std::uint64_t>(result.input_tokens) + result.output_tokens;
    if (options_.routing_strategy == litellm_routing_strategy::usage_based) {
      if (usage_order_minute_ != u.minute) {
        usage_order_.clear();
        usage_order_minute_ = u.minute;
      }
      bool listed = false;
      for (std::size_t j : usage_order_) listed = listed || j == index;
      if (!listed) usage_order_.push_back(index);
    }
    return;
  }
  // LiteLLM's Timeout class: a timeout outcome or a 408.
  if (latency && (result.kind == outcome_class::timeout || result.http_status == 408)) {
    add_latency_sample(index, now, litellm_timeout_sample_s);
  }
}

}  // namespace squall
