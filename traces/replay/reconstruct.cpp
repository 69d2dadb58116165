#include "traces/replay/reconstruct.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <map>
#include <string_view>
#include <tuple>

#include "sim/provider/provider_config.hpp"

namespace squall::traces {
namespace {

// The statuses a scenario may inject; others in a trace are not reproduced.
using sim::injectable_statuses;

// A connection error that fails faster than this was refused (a loopback refusal takes well under a
// millisecond; the simulated one takes 1 ms); a slower one was accepted and then reset.
constexpr double refuse_latency_ms_max = 5.0;
// Windows need this many successes before their latency is judged.
constexpr std::size_t latency_samples_min = 3;
// Connection errors must be at least this share of a window's attempts for it to become an outage.
constexpr double outage_share_min = 0.5;
// A window is disturbed by errors when its error count is this unlikely under the baseline rate
// (binomial upper tail), shared over all windows (Bonferroni), and exceeds the baseline by this much.
constexpr double error_family_alpha = 0.01;
constexpr double error_excess_min = 0.05;
// Adjacent error windows merge while their rates differ by less than this z-score (or 0.1).
constexpr double error_z = 3.0;
// A window's median latency must differ from the baseline by this many standard errors (as well as by
// latency_x_min): the median of a few samples wanders.
constexpr double latency_z = 3.5;
// Adjacent disturbed windows merge while their latency factors stay within this ratio.
constexpr double merge_latency_ratio_max = 1.5;
// Headroom over the trace's peak concurrency, so that a replay queues only where the trace did.
constexpr double capacity_headroom = 4.0;
constexpr std::uint32_t capacity_slots_min = 64;

// Prices are not in a trace. Known models get their list prices (USD per million tokens, input and
// output, as of 2025); others a placeholder the user edits in the written scenario.
std::pair<double, double> list_prices(const std::string& model) {
  static const std::pair<const char*, std::pair<double, double>> table[] = {
      {"gpt-4o-mini", {0.15, 0.6}},       {"gpt-4o", {2.5, 10.0}},          {"gpt-4.1-nano", {0.1, 0.4}},
      {"gpt-4.1-mini", {0.4, 1.6}},       {"gpt-4.1", {2.0, 8.0}},          {"o3-mini", {1.1, 4.4}},
      {"claude-3-5-haiku", {0.8, 4.0}},   {"claude-haiku", {0.8, 4.0}},     {"claude-sonnet", {3.0, 15.0}},
      {"claude-3-7-sonnet", {3.0, 15.0}}, {"claude-opus", {15.0, 75.0}},
  };
  for (const auto& [prefix, prices] : table) {
    if (model.starts_with(prefix)) return prices;
  }
  return {1.0, 4.0};
}

bool injectable(int status) {
  return std::find(injectable_statuses.begin(), injectable_statuses.end(), status) != injectable_statuses.end();
}

// Rounds to a whole number of 1/per_unit (per_unit = 1e6: microseconds of a time in seconds). Dividing
// by per_unit, not multiplying by its inverse, gives the double nearest the decimal, which prints short.
double round_to(double v, double per_unit) { return std::round(v * per_unit) / per_unit; }

// Rounds to `digits` significant digits: enough to read and to reproduce, without float noise.
double round_sig(double v, int digits = 4) {
  if (v == 0 || !std::isfinite(v)) return v;
  const double scale = std::pow(10.0, digits - 1 - static_cast<int>(std::floor(std::log10(std::fabs(v)))));
  return std::round(v * scale) / scale;
}

double quantile(std::vector<double> values, double q) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  const double pos = q * static_cast<double>(values.size() - 1);
  const auto lo = static_cast<std::size_t>(std::floor(pos));
  const auto hi = std::min(lo + 1, values.size() - 1);
  return values[lo] + (pos - static_cast<double>(lo)) * (values[hi] - values[lo]);
}

double median(const std::vector<double>& values) { return quantile(values, 0.5); }

// A lognormal fitted by its quantiles (robust to a few wild values): median, and sigma from the 16th and
// 84th percentiles (one standard deviation either side in log space). Values that do not vary give a
// constant; `cap` bounds the draws (the largest value recorded, for token counts).
json fit_distribution(const std::vector<double>& values, std::optional<double> cap, double max_value) {
  std::vector<double> positive;
  for (double v : values) {
    if (v > 0) positive.push_back(v);
  }
  if (positive.empty()) return 0;
  const double m = std::min(median(positive), max_value);
  const double lo = quantile(positive, 0.1587);
  const double hi = quantile(positive, 0.8413);
  const double sigma = lo > 0 ? (std::log(hi) - std::log(lo)) / 2 : 0;
  if (sigma < 0.02) return round_sig(m);
  json d = {{"dist", "lognormal"}, {"median", round_sig(m)}, {"sigma", round_sig(std::min(sigma, 5.0), 3)}};
  if (cap) d["cap"] = std::min(round_sig(*cap, 6), max_value);
  return d;
}

std::optional<double> header_number(const trace_attempt& a, std::string_view name) {
  for (const auto& [key, value] : a.headers) {
    if (key != name) continue;
    char* end = nullptr;
    const double v = std::strtod(value.c_str(), &end);
    if (end != value.c_str() && *end == '\0' && std::isfinite(v) && v >= 0) return v;
  }
  return std::nullopt;
}

// The retry hint a provider sent, in seconds (retry-after-ms first, as clients read it).
std::optional<double> retry_after_s(const trace_attempt& a) {
  if (auto ms = header_number(a, "retry-after-ms")) return *ms / 1000.0;
  if (auto s = header_number(a, "retry-after")) return *s;
  return std::nullopt;
}

enum class outage { none, refuse, reset, hang };

const char* outage_name(outage o) {
  switch (o) {
    case outage::refuse: return "refuse";
    case outage::reset: return "reset";
    case outage::hang: return "hang";
    case outage::none: break;
  }
  return "none";
}

// What one provider did in one window of the trace (or in several pooled).
struct window_stats {
  std::size_t attempts = 0;
  std::map<int, std::size_t> statuses;  // injected-looking error statuses
  std::array<std::size_t, 3> connection{};  // refuse, reset, hang
  std::size_t malformed = 0, stream_cut = 0, error_event = 0;
  std::vector<double> norm_latency;      // latency / expected latency, of successes
  std::vector<double> retry_after_s;     // hints received with 429/503/529
  std::vector<double> ttft_ms, ms_per_token, latency_ms, error_latency_ms;  // raw, for the baseline fits

  std::size_t connection_errors() const { return connection[0] + connection[1] + connection[2]; }
  std::size_t errors() const {
    std::size_t n = connection_errors() + malformed + stream_cut + error_event;
    for (const auto& [s, c] : statuses) n += c;
    return n;
  }
  double error_rate() const { return attempts ? static_cast<double>(errors()) / static_cast<double>(attempts) : 0; }
  outage outage_kind() const {
    if (attempts == 0 || static_cast<double>(connection_errors()) < outage_share_min * static_cast<double>(attempts)) {
      return outage::none;
    }
    const auto it = std::max_element(connection.begin(), connection.end());
    return static_cast<outage>(1 + (it - connection.begin()));
  }
  int dominant_status() const {
    int best = 0;
    std::size_t count = 0;
    for (const auto& [s, c] : statuses) {
      if (c > count) best = s, count = c;
    }
    return best;
  }
  void add(const window_stats& o) {
    attempts += o.attempts;
    for (const auto& [s, c] : o.statuses) statuses[s] += c;
    for (std::size_t i = 0; i < connection.size(); ++i) connection[i] += o.connection[i];
    malformed += o.malformed;
    stream_cut += o.stream_cut;
    error_event += o.error_event;
    auto append = [](std::vector<double>& to, const std::vector<double>& from) { to.insert(to.end(), from.begin(), from.end()); };
    append(norm_latency, o.norm_latency);
    append(retry_after_s, o.retry_after_s);
    append(ttft_ms, o.ttft_ms);
    append(ms_per_token, o.ms_per_token);
    append(latency_ms, o.latency_ms);
    append(error_latency_ms, o.error_latency_ms);
  }
};

// P(X >= k) for X ~ Binomial(n, p), summed in log space from the k-th term up.
double binomial_tail(std::size_t n, std::size_t k, double p) {
  if (k == 0) return 1;
  if (k > n || p <= 0) return 0;
  if (p >= 1) return 1;
  const double nd = static_cast<double>(n);
  const double kd = static_cast<double>(k);
  double term = std::exp(std::lgamma(nd + 1) - std::lgamma(kd + 1) - std::lgamma(nd - kd + 1) + kd * std::log(p) +
                         (nd - kd) * std::log1p(-p));
  double sum = 0;
  for (std::size_t j = k; j <= n && term > 0; ++j) {
    sum += term;
    if (term < sum * 1e-12) break;
    term *= (nd - static_cast<double>(j)) / (static_cast<double>(j) + 1) * p / (1 - p);
  }
  return std::min(1.0, sum);
}

// The spread of log latency (its robust standard deviation), for the latency test's standard error.
double log_sigma(const std::vector<double>& norm_latency) {
  std::vector<double> logs;
  for (double v : norm_latency) {
    if (v > 0) logs.push_back(std::log(v));
  }
  if (logs.size() < 2) return 0;
  return (quantile(logs, 0.8413) - quantile(logs, 0.1587)) / 2;
}

struct provider_trace {
  std::string name;
  std::map<std::string, std::size_t> api_votes;
  std::vector<std::string> models;  // in order of first appearance
  std::vector<const trace_attempt*> attempts;
  std::optional<double> rpm, tpm;   // from the limit headers it sent
  bool any_529 = false;
};

enum class judged { empty, calm, disturbed };

struct window_verdict {
  judged state = judged::empty;
  bool errors = false;   // error rate beyond the baseline
  bool latency = false;  // latency beyond the baseline
  double latency_x = 1;
};

class reconstruction {
 public:
  reconstruction(const trace& t, const reconstruct_options& options) : trace_(t), options_(options) {}

  config_result<json> build();

 private:
  std::optional<config_error> group_providers();
  json provider_json(provider_trace& p);
  // Expected latency of a success with `output_tokens`, under the current latency model.
  double expected_ms(double output_tokens) const { return std::max(1e-3, ttft0_ms_ + output_tokens * mpt0_ms_); }
  std::vector<window_stats> stats_by_window(const provider_trace& p) const;
  window_verdict judge(const window_stats& w, double p0, double ref, double sigma_log) const;
  bool alike(const window_stats& group, const window_verdict& gv, const window_stats& w, const window_verdict& wv) const;
  json fault_json(const window_stats& w, const window_verdict& v, double begin_s, double end_s, const json& baseline_errors) const;
  json errors_json(const window_stats& w, bool with_wire, json* wire) const;

  const trace& trace_;
  const reconstruct_options& options_;
  std::vector<provider_trace> providers_;
  double window_s_ = 1;
  std::size_t windows_ = 0;
  double ttft0_ms_ = 0, mpt0_ms_ = 0;
  bool limits_known_ = false;  // of the provider being built
  std::size_t attempts_total_ = 0;  // of the provider being built
  std::vector<std::string> summary_;
};

config_error trace_error(const reconstruct_options& o, std::string message) {
  return config_error{o.source, "", std::move(message)};
}

std::optional<config_error> reconstruction::group_providers() {
  std::map<std::string, std::size_t> index;
  for (const auto& a : trace_.attempts) {
    std::string name = !a.provider.empty() ? a.provider : !a.api.empty() ? a.api : "provider";
    auto it = index.find(name);
    if (it == index.end()) {
      if (providers_.size() == reconstruct_providers_max) {
        return trace_error(options_, "the trace names more than " + std::to_string(reconstruct_providers_max) +
                                         " providers; a scenario holds at most that many");
      }
      it = index.emplace(name, providers_.size()).first;
      providers_.push_back(provider_trace{name, {}, {}, {}, {}, {}, false});
    }
    provider_trace& p = providers_[it->second];
    p.attempts.push_back(&a);
    if (!a.api.empty()) ++p.api_votes[a.api];
    const std::string model = a.model.empty() ? "model" : a.model;
    if (std::find(p.models.begin(), p.models.end(), model) == p.models.end()) p.models.push_back(model);
    if (a.status == 529) p.any_529 = true;
    // A limit beyond what a scenario may state (a header of 1.8e53, found by the trace fuzzer) is no
    // limit worth simulating: it is left out rather than written into a scenario that cannot load.
    for (auto [header, target, limit_max] : {std::tuple{"x-ratelimit-limit-requests", &p.rpm, sim::rpm_max},
                                             std::tuple{"anthropic-ratelimit-requests-limit", &p.rpm, sim::rpm_max},
                                             std::tuple{"x-ratelimit-limit-tokens", &p.tpm, sim::tpm_max},
                                             std::tuple{"anthropic-ratelimit-tokens-limit", &p.tpm, sim::tpm_max}}) {
      if (auto v = header_number(a, header); v && *v >= 1 && *v <= limit_max) {
        *target = std::max(target->value_or(0), *v);
      }
    }
  }
  return std::nullopt;
}

std::vector<window_stats> reconstruction::stats_by_window(const provider_trace& p) const {
  std::vector<window_stats> windows(windows_);
  for (const trace_attempt* a : p.attempts) {
    const std::size_t k = std::min(windows_ - 1, static_cast<std::size_t>(a->t_ms / 1000 / window_s_));
    window_stats& w = windows[k];
    ++w.attempts;
    const double out = a->output_tokens.value_or(0);
    if (a->status == 0) {
      // No answer: refused, reset, or never answered (the client gave up: a timeout).
      if (a->outcome == "timeout" || !a->latency_ms) {
        ++w.connection[2];
        // A timed-out attempt's latency is a lower bound on what it would have taken.
        if (a->latency_ms) w.norm_latency.push_back(*a->latency_ms / expected_ms(out));
      } else if (*a->latency_ms < refuse_latency_ms_max) {
        ++w.connection[0];
      } else {
        ++w.connection[1];
      }
      continue;
    }
    if (a->status >= 200 && a->status < 300) {
      // An answer that broke on the wire: the outcome says how.
      if (a->outcome == "server_error") {
        ++w.malformed;
      } else if (a->outcome == "connection_error") {
        ++w.stream_cut;
      } else if (a->outcome == "overloaded") {
        ++w.error_event;
      } else if (a->latency_ms) {
        w.norm_latency.push_back(*a->latency_ms / expected_ms(out));
        w.latency_ms.push_back(*a->latency_ms);
        if (a->ttft_ms) {
          w.ttft_ms.push_back(*a->ttft_ms);
          if (out > 0) w.ms_per_token.push_back(std::max(0.0, *a->latency_ms - *a->ttft_ms) / out);
        }
      }
      continue;
    }
    if (a->latency_ms) w.error_latency_ms.push_back(*a->latency_ms);
    if (a->status == 429 || a->status == 503 || a->status == 529) {
      if (auto hint = retry_after_s(*a)) w.retry_after_s.push_back(*hint);
    }
    // With the provider's limits known, its 429s come from the rate limiter the scenario sets up: they
    // are not injected errors (a policy sending more attempts must meet more of them, not a fixed share).
    if (a->status == 429 && limits_known_) continue;
    if (injectable(a->status)) ++w.statuses[a->status];
  }
  return windows;
}

window_verdict reconstruction::judge(const window_stats& w, double p0, double ref, double sigma_log) const {
  window_verdict v;
  if (w.attempts == 0) return v;
  v.state = judged::calm;
  // A baseline of no errors at all still allows one error in the whole trace by chance.
  const double p = std::max(p0, 1.0 / static_cast<double>(std::max<std::size_t>(attempts_total_, 1)));
  v.errors = w.error_rate() - p0 > error_excess_min &&
             binomial_tail(w.attempts, w.errors(), p) < error_family_alpha / static_cast<double>(windows_);
  if (w.norm_latency.size() >= latency_samples_min && ref > 0) {
    v.latency_x = median(w.norm_latency) / ref;
    // The standard error of a median is about 1.25 sigma / sqrt(n).
    const double noise = latency_z * 1.25 * sigma_log / std::sqrt(static_cast<double>(w.norm_latency.size()));
    const double shift = std::fabs(std::log(v.latency_x));
    v.latency = shift >= std::log(options_.latency_x_min) && shift > noise;
  }
  if (v.errors || v.latency) v.state = judged::disturbed;
  return v;
}

bool reconstruction::alike(const window_stats& g, const window_verdict& gv, const window_stats& w,
                           const window_verdict& wv) const {
  if (gv.errors != wv.errors || gv.latency != wv.latency) return false;
  if (g.outage_kind() != w.outage_kind()) return false;
  if (gv.errors && g.outage_kind() == outage::none) {
    if (g.dominant_status() != w.dominant_status()) return false;
    const double n1 = static_cast<double>(g.attempts);
    const double n2 = static_cast<double>(w.attempts);
    const double p = static_cast<double>(g.errors() + w.errors()) / (n1 + n2);
    const double margin = std::max(0.1, error_z * std::sqrt(std::clamp(p, 0.01, 0.99) * (1 - std::clamp(p, 0.01, 0.99)) * (1 / n1 + 1 / n2)));
    if (std::fabs(g.error_rate() - w.error_rate()) > margin) return false;
  }
  if (gv.latency) {
    const double ratio = std::max(gv.latency_x, wv.latency_x) / std::min(gv.latency_x, wv.latency_x);
    if (ratio > merge_latency_ratio_max) return false;
  }
  return true;
}

json reconstruction::errors_json(const window_stats& w, bool with_wire, json* wire) const {
  json errors = json::object();
  const double n = static_cast<double>(std::max<std::size_t>(w.attempts, 1));
  double sum = 0;
  for (const auto& [status, count] : w.statuses) {
    // Rounded down, so that the shares never sum above 1.
    const double p = std::floor(static_cast<double>(count) / n * 1e4) / 1e4;
    if (p <= 0) continue;
    errors[std::to_string(status)] = p;
    sum += p;
  }
  (void)sum;
  if (with_wire && wire) {
    json out = json::object();
    auto put = [&](const char* key, std::size_t count) {
      const double p = std::floor(static_cast<double>(count) / n * 1e4) / 1e4;
      if (p > 0) out[key] = p;
    };
    put("malformed", w.malformed);
    put("stream_cut", w.stream_cut);
    put("error_event", w.error_event);
    *wire = out;
  }
  return errors;
}

json reconstruction::fault_json(const window_stats& w, const window_verdict& v, double begin_s, double end_s,
                                const json& baseline_errors) const {
  const double at_s = round_to(begin_s, 1e6);
  const double until_s = round_to(end_s, 1e6);  // the next window starts exactly here
  double for_s = until_s - at_s;
  while (at_s + for_s > until_s) for_s = std::nextafter(for_s, 0.0);  // never overlap the next window
  json f = {{"at_s", at_s}, {"for_s", for_s}};
  const outage kind = w.outage_kind();
  if (kind != outage::none) {
    f["outage"] = outage_name(kind);
  } else if (v.errors) {
    json wire;
    json errors = errors_json(w, true, &wire);
    if (!errors.empty()) f["errors"] = errors;
    if (!wire.empty()) f["wire"] = wire;
    bool hinted = false;
    for (const char* s : {"429", "503", "529"}) hinted = hinted || errors.contains(s);
    if (hinted && !w.retry_after_s.empty()) f["retry_after_s"] = round_sig(median(w.retry_after_s), 3);
  } else if (!baseline_errors.empty()) {
    f["errors"] = baseline_errors;  // a latency window keeps the calm error mix
  }
  if (v.latency) f["latency_x"] = std::clamp(round_sig(v.latency_x, 3), 0.001, 1000.0);
  return f;
}

json reconstruction::provider_json(provider_trace& p) {
  limits_known_ = p.rpm.has_value() || p.tpm.has_value();
  attempts_total_ = p.attempts.size();

  // The first latency model: medians over every success. It only normalises latencies (so that a window
  // of long answers is not mistaken for a slow window); the baseline is fitted on calm windows below.
  ttft0_ms_ = 1;
  mpt0_ms_ = 0;
  {
    window_stats all;
    for (const auto& w : stats_by_window(p)) all.add(w);
    if (!all.ttft_ms.empty()) {
      ttft0_ms_ = median(all.ttft_ms);
      mpt0_ms_ = median(all.ms_per_token);
    } else {
      ttft0_ms_ = median(all.latency_ms);
    }
  }
  const std::vector<window_stats> stats = stats_by_window(p);

  // The baseline: first the median window (robust while fewer than half the windows are disturbed), then
  // the pooled calm windows, judged again against it.
  std::vector<double> rates, latencies;
  for (const auto& w : stats) {
    if (w.attempts) rates.push_back(w.error_rate());
    if (w.norm_latency.size() >= latency_samples_min) latencies.push_back(median(w.norm_latency));
  }
  double p0 = median(rates);
  double ref = latencies.empty() ? 1 : median(latencies);
  double sigma_log = 0;
  {
    std::vector<double> all;
    for (const auto& w : stats) all.insert(all.end(), w.norm_latency.begin(), w.norm_latency.end());
    sigma_log = log_sigma(all);
  }
  std::vector<window_verdict> verdicts(windows_);
  for (int pass = 0; pass < 2; ++pass) {
    window_stats calm;
    for (std::size_t k = 0; k < windows_; ++k) verdicts[k] = judge(stats[k], p0, ref, sigma_log);
    for (std::size_t k = 0; k < windows_; ++k) {
      if (verdicts[k].state == judged::calm) calm.add(stats[k]);
    }
    if (calm.attempts == 0) break;
    p0 = calm.error_rate();
    if (calm.norm_latency.size() >= latency_samples_min) {
      ref = median(calm.norm_latency);
      sigma_log = log_sigma(calm.norm_latency);
    }
  }
  for (std::size_t k = 0; k < windows_; ++k) verdicts[k] = judge(stats[k], p0, ref, sigma_log);

  window_stats calm;
  for (std::size_t k = 0; k < windows_; ++k) {
    if (verdicts[k].state == judged::calm) calm.add(stats[k]);
  }
  if (calm.attempts == 0) {
    // Disturbed from start to end: the baseline is the whole trace, and the windows say how it varied.
    for (const auto& w : stats) calm.add(w);
  }

  json provider = json::object();
  std::string api = "openai";
  std::size_t votes = 0;
  for (const auto& [name, count] : p.api_votes) {
    if (count > votes) api = name, votes = count;
  }
  if (votes == 0 && p.any_529) api = "anthropic";
  provider["api"] = api;

  json models = json::object();
  for (const auto& m : p.models) {
    models[m] = {{"usd_per_mtok_in", list_prices(m).first}, {"usd_per_mtok_out", list_prices(m).second}};
  }
  provider["models"] = models;

  json latency = json::object();
  if (!calm.ttft_ms.empty()) {
    latency["ttft_ms"] = fit_distribution(calm.ttft_ms, std::nullopt, 3.6e6);
    latency["ms_per_output_token"] = calm.ms_per_token.empty() ? json(0) : fit_distribution(calm.ms_per_token, std::nullopt, 6e4);
  } else if (!calm.latency_ms.empty()) {
    // No time to first token recorded (whole answers, or imported logs): the whole latency is modelled
    // as the first token's, with no per-token time.
    latency["ttft_ms"] = fit_distribution(calm.latency_ms, std::nullopt, 3.6e6);
    latency["ms_per_output_token"] = 0;
  }
  if (!latency.empty()) provider["latency"] = latency;
  // Error answers may all lie in fault windows: then their latency is taken from there.
  std::vector<double> error_latency_ms = calm.error_latency_ms;
  for (std::size_t k = 0; error_latency_ms.empty() && k < windows_; ++k) {
    error_latency_ms.insert(error_latency_ms.end(), stats[k].error_latency_ms.begin(), stats[k].error_latency_ms.end());
  }
  if (!error_latency_ms.empty()) provider["error_latency_ms"] = round_sig(median(error_latency_ms));

  // Peak concurrency of the trace, by a sweep over [send, send + latency) of the attempts that ended.
  std::vector<std::pair<double, int>> edges;
  for (const trace_attempt* a : p.attempts) {
    if (!a->latency_ms) continue;
    edges.emplace_back(a->t_ms, 1);
    edges.emplace_back(a->t_ms + *a->latency_ms, -1);
  }
  std::sort(edges.begin(), edges.end());
  int in_flight = 0, peak = 0;
  for (const auto& [t, d] : edges) peak = std::max(peak, in_flight += d);
  const auto slots = static_cast<std::uint32_t>(
      std::min(1e6, std::max<double>(capacity_slots_min, std::ceil(capacity_headroom * peak))));
  provider["capacity"] = {{"slots", slots}, {"queue", slots}};

  if (limits_known_) {
    json limits = json::object();
    if (p.rpm) limits["rpm"] = *p.rpm;
    if (p.tpm) limits["tpm"] = *p.tpm;
    provider["rate_limits"] = limits;
  }
  const json baseline_errors = errors_json(calm, false, nullptr);
  if (!baseline_errors.empty()) provider["errors"] = baseline_errors;

  // Adjacent disturbed windows that look alike become one fault window; windows without attempts
  // between two alike ones are bridged (nothing says the incident paused).
  json faults = json::array();
  std::size_t k = 0;
  while (k < windows_) {
    if (verdicts[k].state != judged::disturbed) {
      ++k;
      continue;
    }
    window_stats group = stats[k];
    window_verdict gv = verdicts[k];
    std::size_t end = k + 1;
    std::size_t next = k + 1;
    while (next < windows_) {
      std::size_t probe = next;
      while (probe < windows_ && verdicts[probe].state == judged::empty) ++probe;
      if (probe == windows_ || verdicts[probe].state != judged::disturbed) break;
      if (!alike(group, gv, stats[probe], verdicts[probe])) break;
      group.add(stats[probe]);
      gv = judge(group, p0, ref, sigma_log);
      gv.errors = verdicts[k].errors;
      gv.latency = verdicts[k].latency;
      if (!gv.latency) gv.latency_x = 1;
      end = probe + 1;
      next = end;
    }
    json f = fault_json(group, gv, static_cast<double>(k) * window_s_, static_cast<double>(end) * window_s_,
                        baseline_errors);
    if (f.size() > 2) faults.push_back(std::move(f));
    k = end;
  }
  if (!faults.empty()) provider["faults"] = faults;

  char line[256];
  std::snprintf(line, sizeof line, "%s: %zu attempts, baseline error rate %.2f%%%s, %zu fault windows",
                p.name.c_str(), p.attempts.size(), 100 * p0, limits_known_ ? ", rate limits from headers" : "",
                faults.size());
  summary_.push_back(line);
  return provider;
}

}  // namespace

double default_window_s(double span_s) noexcept {
  // About 60 windows, on a round length so that window edges fall on round times.
  const double raw = span_s / 60.0;
  for (double step : {1.0, 2.0, 5.0, 10.0, 15.0, 20.0, 30.0}) {
    if (raw <= step) return step;
  }
  return 60.0;
}

config_result<json> scenario_from_trace(const trace& t, const reconstruct_options& options) {
  return reconstruction(t, options).build();
}

namespace {

config_result<json> reconstruction::build() {
  if (trace_.attempts.empty()) return trace_error(options_, "the trace is empty: it has no attempts to replay");
  std::vector<double> arrivals;
  double span_s = 0;
  for (const auto& a : trace_.attempts) {
    if (!(a.t_ms >= 0) || !std::isfinite(a.t_ms)) {
      return trace_error(options_, "an attempt has send time " + std::to_string(a.t_ms) + " ms; expected >= 0");
    }
    span_s = std::max(span_s, a.t_ms / 1000);
    if (a.first_attempt()) arrivals.push_back(round_to(a.t_ms / 1000, 1e6));
  }
  if (arrivals.empty()) {
    return trace_error(options_, "the trace has no first attempts (attempt 0 or 1): there are no arrivals to "
                                 "replay, only retries");
  }
  if (arrivals.size() > 10'000'000) {
    return trace_error(options_, "the trace has " + std::to_string(arrivals.size()) +
                                     " first attempts; a replay holds at most 10000000");
  }
  std::sort(arrivals.begin(), arrivals.end());

  window_s_ = options_.window_s.value_or(default_window_s(span_s));
  if (!(window_s_ > 0) || !std::isfinite(window_s_)) {
    return trace_error(options_, "the window length must be above 0 seconds");
  }
  const double count = std::floor(span_s / window_s_) + 1;
  if (count > static_cast<double>(reconstruct_windows_max)) {
    return trace_error(options_, "a window of " + std::to_string(window_s_) + " s cuts a trace of " +
                                     std::to_string(span_s) + " s into more than " +
                                     std::to_string(reconstruct_windows_max) + " windows; choose a longer window");
  }
  windows_ = static_cast<std::size_t>(count);

  if (auto e = group_providers()) return *e;

  json doc = json::object();
  doc["name"] = options_.name;
  doc["description"] = "";  // filled in below, once the windows are known
  doc["seed"] = options_.seed;
  const double duration_s = std::floor(arrivals.back()) + 1;
  doc["duration_s"] = duration_s;
  // Requests still in flight get twice the longest latency recorded to finish, at least the default.
  double latency_max_ms = 0;
  for (const auto& a : trace_.attempts) latency_max_ms = std::max(latency_max_ms, a.latency_ms.value_or(0));
  doc["drain_s"] = std::min(86400.0, std::max(60.0, std::ceil(2 * latency_max_ms / 1000)));

  json providers = json::object();
  for (auto& p : providers_) providers[p.name] = provider_json(p);

  // The workload goes to the provider that received the most first attempts.
  std::map<std::string, std::size_t> first_by_provider;
  for (const auto& a : trace_.attempts) {
    if (a.first_attempt()) ++first_by_provider[!a.provider.empty() ? a.provider : !a.api.empty() ? a.api : "provider"];
  }
  std::string target;
  std::size_t most = 0;
  for (const auto& p : providers_) {
    if (first_by_provider[p.name] > most) target = p.name, most = first_by_provider[p.name];
  }

  json workload = json::object();
  workload["arrivals"] = {{"process", "recorded"}, {"times_s", arrivals}};
  workload["provider"] = target;
  std::vector<std::pair<std::string, std::size_t>> model_counts;
  std::vector<double> input_tokens, output_tokens, output_any;
  for (const auto& a : trace_.attempts) {
    if (!a.first_attempt()) continue;
    const std::string provider = !a.provider.empty() ? a.provider : !a.api.empty() ? a.api : "provider";
    if (provider == target) {
      const std::string model = a.model.empty() ? "model" : a.model;
      auto it = std::find_if(model_counts.begin(), model_counts.end(), [&](const auto& m) { return m.first == model; });
      if (it == model_counts.end()) model_counts.emplace_back(model, 1);
      else ++it->second;
    }
    if (a.input_tokens) input_tokens.push_back(*a.input_tokens);
    if (a.output_tokens) {
      output_any.push_back(*a.output_tokens);
      if (a.status >= 200 && a.status < 300) output_tokens.push_back(*a.output_tokens);
    }
  }
  if (output_tokens.empty()) output_tokens = output_any;
  if (model_counts.size() == 1) {
    workload["model"] = model_counts.front().first;
  } else {
    json weights = json::object();
    for (const auto& [m, c] : model_counts) weights[m] = c;
    workload["models"] = weights;
  }
  auto max_of = [](const std::vector<double>& v) { return v.empty() ? 0.0 : *std::max_element(v.begin(), v.end()); };
  if (!input_tokens.empty()) workload["input_tokens"] = fit_distribution(input_tokens, max_of(input_tokens), 2e6);
  if (!output_tokens.empty()) workload["output_tokens"] = fit_distribution(output_tokens, max_of(output_tokens), 2e6);

  json policies = json::object();
  if (options_.policies.empty()) {
    policies["as-recorded"] = {{"name", "as-recorded"},
                               {"description", "No policy: each request is one attempt, as the arrivals were recorded."},
                               {"policies", json::array()}};
  }
  for (const auto& [name, value] : options_.policies) {
    if (policies.contains(name)) {
      return config_error{options_.source, "", "two policy configurations are named \"" + name + "\""};
    }
    policies[name] = value;
  }

  std::string description = "Reconstructed by squall from the trace " +
                            (options_.source.empty() ? std::string("in memory") : options_.source) + ": " +
                            std::to_string(trace_.attempts.size()) + " attempts, " + std::to_string(arrivals.size()) +
                            " first attempts replayed at their recorded times; windows of " +
                            json(round_sig(window_s_, 6)).dump() + " s. ";
  for (const auto& s : summary_) description += s + ". ";
  description.pop_back();
  doc["description"] = description;
  doc["providers"] = providers;
  doc["workload"] = workload;
  doc["policies"] = policies;
  return doc;
}

}  // namespace

}  // namespace squall::traces
