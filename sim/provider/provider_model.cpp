#include "sim/provider/provider_model.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "policies/core/classify.hpp"

namespace squall::sim {
namespace {

constexpr double ns_per_minute = 60e9;
// Continuous refill in floating point lands a hair below whole numbers; a request that arrives exactly
// when its token is due must not be refused for rounding.
constexpr double bucket_slack = 1e-6;

}  // namespace

void provider_model::bucket::refill(std::int64_t now_ns) noexcept {
  if (now_ns > updated_ns) {
    level = std::min(capacity, level + per_ns * static_cast<double>(now_ns - updated_ns));
    updated_ns = now_ns;
  }
}

double provider_model::bucket::wait_ns(double amount) const noexcept {
  const double missing = amount - level - bucket_slack;
  return missing <= 0 ? 0.0 : missing / per_ns;
}

provider_model::provider_model(const provider_config& config, time_point origin)
    // Anthropic sheds load with 529 overloaded_error; OpenAI with 503, and Gemini with 503 UNAVAILABLE.
    : config_(config), origin_(origin), shed_status_(config.api == "anthropic" ? 529 : 503) {
  compile_windows();

  const std::int64_t start_ns = origin_.time_since_epoch().count();
  if (config_.rpm) {
    requests_ = bucket{*config_.rpm, *config_.rpm / ns_per_minute, *config_.rpm, start_ns, true};
  }
  if (config_.tpm) {
    tokens_ = bucket{*config_.tpm, *config_.tpm / ns_per_minute, *config_.tpm, start_ns, true};
  }
}

void provider_model::compile_windows() {
  mixes_.clear();
  baseline_end_ = compile_mix(config_.errors);
  timelines_.assign(unscoped_timeline() + 1, timeline{});

  // The parser guarantees time order and no overlap within a scope; a configuration built in code gets
  // the same guarantee here, the later window winning from its start where two overlap in one timeline.
  std::vector<const fault_window*> sorted;
  for (const auto& w : config_.faults) sorted.push_back(&w);
  std::stable_sort(sorted.begin(), sorted.end(),
                   [](const fault_window* a, const fault_window* b) { return a->at_s < b->at_s; });
  arrivals_.assign(sorted.size(), 0);
  const std::int64_t origin_ns = origin_.time_since_epoch().count();
  const auto models = static_cast<std::uint32_t>(config_.models.size());
  for (std::size_t i = 0; i < sorted.size(); ++i) {
    const fault_window* w = sorted[i];
    window c{};
    c.begin_ns = origin_ns + from_s(w->at_s).count();
    c.end_ns = origin_ns + from_s(w->at_s + w->for_s).count();
    c.mix_begin = static_cast<std::uint32_t>(mixes_.size());
    c.mix_end = compile_mix(w->errors);
    if (w->retry_after_s) c.retry_after = from_s(*w->retry_after_s);
    c.source = w;
    c.index = static_cast<std::uint32_t>(i);
    c.wire = w->wire;
    auto add = [&](timeline& t) {
      auto& ws = t.windows;
      if (!ws.empty() && ws.back().end_ns > c.begin_ns) ws.back().end_ns = c.begin_ns;
      if (!ws.empty() && ws.back().end_ns <= ws.back().begin_ns) ws.pop_back();
      if (c.end_ns > c.begin_ns) ws.push_back(c);
    };
    for (std::uint32_t m = 0; m <= models; ++m) {
      // The slot after the served models stands for any model the provider does not serve: only windows
      // not scoped to models reach it.
      if (m == models && !w->models.empty()) continue;
      const std::string_view name = m < models ? std::string_view(config_.models[m].first) : std::string_view();
      for (std::size_t e = 0; e < endpoint_count; ++e) {
        const auto endpoint = static_cast<endpoint_kind>(e);
        const bool model_ok = m == models || w->models.empty() ||
                              std::find(w->models.begin(), w->models.end(), name) != w->models.end();
        const bool endpoint_ok =
            w->endpoints.empty() || std::find(w->endpoints.begin(), w->endpoints.end(), endpoint) != w->endpoints.end();
        if (model_ok && endpoint_ok) add(timelines_[timeline_index(m, endpoint)]);
      }
    }
    if (!w->scoped()) add(timelines_[unscoped_timeline()]);
  }
}

void provider_model::set_faults(std::vector<fault_window> faults) {
  config_.faults = std::move(faults);
  compile_windows();
}

std::uint32_t provider_model::compile_mix(const error_mix& mix) {
  double cumulative = 0;
  for (const injected_error& e : mix) {
    if (e.probability <= 0) continue;
    cumulative += e.probability;
    mixes_.push_back(mix_entry{cumulative, e.status, e.kind});
  }
  return static_cast<std::uint32_t>(mixes_.size());
}

attempt_draws provider_model::draw(rng& r) const noexcept {
  attempt_draws d;
  d.error_u = r.uniform();
  d.ttft_ms = config_.ttft_ms.sample(r);
  d.ms_per_output_token = config_.ms_per_output_token.sample(r);
  d.error_latency_ms = config_.error_latency_ms.sample(r);
  d.wire_u = r.uniform();
  if (config_.network_rtt_ms) d.network_rtt_ms = config_.network_rtt_ms->sample(r);
  return d;
}

const provider_model::window* provider_model::active(std::uint32_t index, std::int64_t now_ns) noexcept {
  timeline& t = timelines_[index];
  const auto& windows = t.windows;
  if (windows.empty()) return nullptr;
  // Time went backwards past the cursor (a real-clock caller racing, or a reused model): search again.
  if (t.cursor > 0 && now_ns < windows[t.cursor - 1].end_ns) {
    t.cursor = static_cast<std::size_t>(
        std::partition_point(windows.begin(), windows.end(), [&](const window& w) { return w.end_ns <= now_ns; }) -
        windows.begin());
  }
  while (t.cursor < windows.size() && windows[t.cursor].end_ns <= now_ns) ++t.cursor;
  if (t.cursor == windows.size()) return nullptr;
  const window& w = windows[t.cursor];
  if (now_ns < w.begin_ns) return nullptr;
  // A first_n window that has had its attempts is over.
  if (w.source->first_n && arrivals_[w.index] >= *w.source->first_n) return nullptr;
  return &w;
}

const fault_window* provider_model::window_at(time_point now) noexcept {
  const window* w = active(unscoped_timeline(), now.time_since_epoch().count());
  return w ? w->source : nullptr;
}

const fault_window* provider_model::window_at(time_point now, std::uint32_t model_index,
                                              endpoint_kind endpoint) noexcept {
  const auto models = static_cast<std::uint32_t>(config_.models.size());
  const window* w = active(timeline_index(std::min(model_index, models), endpoint), now.time_since_epoch().count());
  return w ? w->source : nullptr;
}

double provider_model::latency_x_at(time_point now) noexcept { return factors_at(now).latency_x; }

namespace {

// Windows that count attempts carry no latency factors (the parser refuses them); one built in code
// gets none either, since its count says nothing about work that starts later.
service_factors factors_of(const fault_window* w) noexcept {
  if (!w || w->first_n || w->attempts) return service_factors{};
  return service_factors{w->latency_x, w->ttft_x, w->token_x};
}

}  // namespace

service_factors provider_model::factors_at(time_point now) noexcept { return factors_of(window_at(now)); }

service_factors provider_model::factors_at(time_point now, std::uint32_t index) noexcept {
  const window* w = active(std::min(index, unscoped_timeline()), now.time_since_epoch().count());
  return factors_of(w ? w->source : nullptr);
}

std::optional<std::uint32_t> provider_model::find_model(std::string_view model) const noexcept {
  if (model.empty()) return 0U;
  for (std::size_t i = 0; i < config_.models.size(); ++i) {
    if (config_.models[i].first == model) return static_cast<std::uint32_t>(i);
  }
  return std::nullopt;
}

admission provider_model::admit(time_point now, const request& req, const attempt_draws& draws, std::uint32_t attempt,
                                std::optional<endpoint_kind> endpoint) noexcept {
  const std::int64_t now_ns = now.time_since_epoch().count();
  const auto model = find_model(req.model);
  admission a;
  a.timeline = timeline_index(model ? *model : static_cast<std::uint32_t>(config_.models.size()),
                              endpoint ? *endpoint : chat_endpoint());
  const window* w = active(a.timeline, now_ns);
  // A window for each request's first attempts leaves the later ones alone (the baseline applies).
  if (w && w->source->attempts && attempt > *w->source->attempts) w = nullptr;
  if (w && w->source->first_n) ++arrivals_[w->index];

  if (w && w->source->outage != outage_kind::none) {
    a.outage = w->source->outage;
    a.kind = a.outage == outage_kind::reset  ? admission_kind::reset
             : a.outage == outage_kind::hang ? admission_kind::hang
                                             : admission_kind::refuse;  // refuse, handshake
    a.cls = outcome_class::connection_error;
    return a;
  }

  if (!model) {
    a.kind = admission_kind::unknown_model;
    a.http_status = 404;
    a.cls = classify_http(404);
    return a;
  }
  a.model_index = *model;

  // A window's mix replaces the baseline for its duration, even a window that only slows things down:
  // the scenario says "during this window, errors are these", and an empty mix means none.
  const std::uint32_t mix_begin = w ? w->mix_begin : 0;
  const std::uint32_t mix_end = w ? w->mix_end : baseline_end_;
  for (std::uint32_t i = mix_begin; i < mix_end; ++i) {
    if (draws.error_u < mixes_[i].cumulative) {
      const int status = mixes_[i].status;
      a.kind = admission_kind::injected;
      a.http_status = status;
      a.error = mixes_[i].kind;
      // The class the production classifier gives the wire answer the fake providers write for it.
      const error_kind_info* named = info(a.error);
      a.cls = named ? classify_http(status, named->classified_as) : classify_http(status);
      if (w && (status == 429 || status == 503 || status == 529)) a.retry_after = w->retry_after;
      return a;
    }
  }

  if (requests_.enabled || tokens_.enabled) {
    const double tokens = static_cast<double>(req.input_tokens) + static_cast<double>(req.output_tokens);
    double wait_ns = 0;
    bool never = false;
    if (requests_.enabled) {
      requests_.refill(now_ns);
      wait_ns = std::max(wait_ns, requests_.wait_ns(1.0));
      never = never || 1.0 > requests_.capacity;
    }
    if (tokens_.enabled) {
      tokens_.refill(now_ns);
      wait_ns = std::max(wait_ns, tokens_.wait_ns(tokens));
      never = never || tokens > tokens_.capacity;
    }
    if (wait_ns > 0 || never) {
      a.kind = admission_kind::rate_limited;
      a.http_status = 429;
      a.cls = outcome_class::rate_limited;
      // Like real providers, the hint is whole seconds, rounded up so that a client that obeys it
      // finds the tokens there. A request bigger than a whole minute's budget gets no hint: it never fits.
      if (!never) a.retry_after = std::chrono::seconds{static_cast<std::int64_t>(std::ceil(wait_ns / 1e9))};
      return a;
    }
    if (requests_.enabled) requests_.level -= 1.0;
    if (tokens_.enabled) tokens_.level -= tokens;
  }
  if (w && (!w->wire.empty() || !w->source->content.none())) {
    // One draw picks the wire or the content fault: wire faults first, then content faults.
    const wire_mix& m = w->wire;
    const content_mix& c = w->source->content;
    double edge = m.malformed;
    if (draws.wire_u < edge) {
      a.wire = wire_fault::malformed;
    } else if (draws.wire_u < (edge += m.stream_cut)) {
      a.wire = wire_fault::stream_cut;
    } else if (draws.wire_u < (edge += m.error_event)) {
      a.wire = wire_fault::error_event;
    } else if (draws.wire_u < (edge += c.empty)) {
      a.content = content_fault::empty;
    } else if (draws.wire_u < (edge += c.truncated)) {
      a.content = content_fault::truncated;
    } else if (draws.wire_u < (edge += c.invalid_json)) {
      a.content = content_fault::invalid_json;
    }
  }
  return a;
}

service_plan provider_model::plan_service(const attempt_draws& draws, std::uint32_t output_tokens, double latency_x,
                                          std::uint32_t busy, double ttft_x, double token_x) const noexcept {
  const double factor =
      latency_x * (1.0 + config_.slowdown * static_cast<double>(busy) / static_cast<double>(config_.slots));
  const double ttft_ms = draws.ttft_ms * ttft_x * factor;
  const double total_ms =
      (draws.ttft_ms * ttft_x + static_cast<double>(output_tokens) * draws.ms_per_output_token * token_x) * factor;
  return service_plan{from_ms(ttft_ms), from_ms(total_ms)};
}

double provider_model::cost_usd(std::uint32_t model_index, std::uint32_t input_tokens, std::uint32_t output_tokens,
                                std::uint32_t batch_size) const noexcept {
  const model_price& p = config_.models[model_index].second;
  const double list = static_cast<double>(input_tokens) * p.usd_per_mtok_in / 1e6 +
                      static_cast<double>(output_tokens) * p.usd_per_mtok_out / 1e6;
  return batch_size > 1 ? list * (1.0 - p.batch_discount) : list;
}

double provider_model::requests_remaining(time_point now) noexcept {
  if (!requests_.enabled) return std::numeric_limits<double>::infinity();
  requests_.refill(now.time_since_epoch().count());
  return requests_.level;
}

double provider_model::tokens_remaining(time_point now) noexcept {
  if (!tokens_.enabled) return std::numeric_limits<double>::infinity();
  tokens_.refill(now.time_since_epoch().count());
  return tokens_.level;
}

}  // namespace squall::sim
