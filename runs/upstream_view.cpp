#include "runs/upstream_view.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <unordered_map>

namespace squall::runs {
namespace {

double tidy(double v) { return std::round(v * 1000.0) / 1000.0; }

// Nearest-rank quantile of sorted values.
double quantile(const std::vector<double>& sorted, double q) {
  if (sorted.empty()) return 0;
  const auto rank = static_cast<std::size_t>(std::ceil(q * static_cast<double>(sorted.size())));
  return sorted[std::min(sorted.size() - 1, rank == 0 ? 0 : rank - 1)];
}

json spread(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  json out = {{"count", values.size()}};
  if (values.empty()) return out;
  out["min_ms"] = tidy(values.front());
  out["p50_ms"] = tidy(quantile(values, 0.5));
  out["p90_ms"] = tidy(quantile(values, 0.9));
  out["max_ms"] = tidy(values.back());
  return out;
}

std::string status_key(const fake::upstream_attempt& a) {
  return a.status != 0 ? std::to_string(a.status) : a.end;
}

}  // namespace

upstream_view make_upstream_view(const std::vector<fake::upstream_attempt>& attempts, std::uint64_t not_recorded,
                                 const service_side& users, double interval_s, double end_s) {
  // Each user request's attempts, in arrival order (the log is in arrival order).
  std::unordered_map<std::uint64_t, std::vector<const fake::upstream_attempt*>> by_request;
  std::uint64_t by_header = 0, by_marker = 0, unattributed = 0;
  double cost = 0;
  for (const auto& a : attempts) {
    cost += a.cost_usd;
    switch (a.attributed_by) {
      case fake::attribution::header: ++by_header; break;
      case fake::attribution::prompt_marker: ++by_marker; break;
      case fake::attribution::none: ++unattributed; continue;
    }
    by_request[a.request_id].push_back(&a);
  }

  std::uint64_t attributed = by_header + by_marker, peak = 0, retries = 0;
  double wasted = 0;
  std::map<std::size_t, std::uint64_t> histogram;
  std::map<std::size_t, std::vector<double>> delays_by_attempt;  // attempt number -> delays before it
  std::vector<double> delays;
  std::uint64_t succeeded_attempts = 0, succeeded_requests = 0, failed_attempts = 0, failed_requests = 0;
  for (const auto& [id, list] : by_request) {
    peak = std::max<std::uint64_t>(peak, list.size());
    retries += list.size() - 1;
    const auto verdict = users.succeeded_by_id.find(id);
    const bool user_ok = verdict != users.succeeded_by_id.end() && verdict->second;
    if (verdict != users.succeeded_by_id.end()) {
      (user_ok ? succeeded_attempts : failed_attempts) += list.size();
      ++(user_ok ? succeeded_requests : failed_requests);
    }
    const fake::upstream_attempt* last_billed = nullptr;
    for (const auto* a : list) {
      if (a->cost_usd > 0) last_billed = a;
    }
    for (std::size_t k = 0; k < list.size(); ++k) {
      if (!user_ok || list[k] != last_billed) wasted += list[k]->cost_usd;
      if (k > 0 && list[k - 1]->ended_ms >= 0) {
        const double d = list[k]->arrived_ms - list[k - 1]->ended_ms;
        delays.push_back(d);
        delays_by_attempt[k + 1].push_back(d);
      }
    }
  }
  // Requests answered without any attempt (failed fast, served from a cache) count with 0.
  for (const auto& [id, ok] : users.succeeded_by_id) {
    if (by_request.count(id) == 0) ++histogram[0];
  }
  for (const auto& [id, list] : by_request) ++histogram[list.size()];

  const auto answered = static_cast<double>(users.succeeded_by_id.size());
  const double per_request = answered > 0 ? static_cast<double>(attributed) / answered : 0;

  json hist = json::object();
  for (const auto& [n, count] : histogram) hist[std::to_string(n)] = count;
  json by_attempt = json::object();
  for (auto& [k, list] : delays_by_attempt) by_attempt[std::to_string(k)] = spread(list);
  json retry_delays = spread(delays);
  retry_delays["before_attempt"] = std::move(by_attempt);

  // Per provider and model.
  std::map<std::pair<std::string, std::string>, json> groups;
  for (const auto& a : attempts) {
    json& g = groups[{a.provider, a.model}];
    if (g.is_null()) g = {{"provider", a.provider}, {"model", a.model}, {"attempts", 0}, {"cost_usd", 0.0},
                          {"answers", json::object()}};
    g["attempts"] = g["attempts"].get<std::uint64_t>() + 1;
    g["cost_usd"] = g["cost_usd"].get<double>() + a.cost_usd;
    json& answers = g["answers"];
    const std::string key = status_key(a);
    answers[key] = answers.value(key, std::uint64_t{0}) + 1;
  }
  json providers = json::array();
  for (auto& [key, g] : groups) {
    g["cost_usd"] = tidy(g["cost_usd"].get<double>() * 1e6) / 1e6;
    providers.push_back(std::move(g));
  }

  // A time series on the user side's step: attempts arriving in each interval and those not answered 2xx.
  json series = json::array();
  if (interval_s > 0 && end_s > 0) {
    const auto steps = static_cast<std::size_t>(std::ceil(end_s / interval_s - 1e-9));
    std::vector<std::uint64_t> count(std::max<std::size_t>(steps, 1)), errors(count.size());
    for (const auto& a : attempts) {
      if (a.arrived_ms < 0) continue;
      const auto i = std::min(count.size() - 1, static_cast<std::size_t>(a.arrived_ms / 1000.0 / interval_s));
      ++count[i];
      if (a.status < 200 || a.status > 299 || a.end != "ok") ++errors[i];
    }
    for (std::size_t i = 0; i < count.size(); ++i) {
      series.push_back({{"t_s", tidy(static_cast<double>(i + 1) * interval_s)}, {"attempts", count[i]},
                        {"errors", errors[i]}});
    }
  }

  json answers_seen = json::object();
  for (const auto& [key, n] : users.answers) answers_seen[key] = n;

  upstream_view v;
  v.document = {
      {"attempts", attempts.size() + not_recorded},
      {"recorded", attempts.size()},
      {"not_recorded", not_recorded},
      {"attributed", {{"header", by_header}, {"prompt_marker", by_marker}}},
      {"unattributed", unattributed},
      {"user_requests_answered", users.succeeded_by_id.size()},
      {"attempts_per_request", tidy(per_request)},
      {"attempts_request_peak", peak},
      {"attempts_per_request_histogram", std::move(hist)},
      {"attempts_per_succeeded_request",
       tidy(succeeded_requests ? static_cast<double>(succeeded_attempts) / static_cast<double>(succeeded_requests) : 0)},
      {"attempts_per_failed_request",
       tidy(failed_requests ? static_cast<double>(failed_attempts) / static_cast<double>(failed_requests) : 0)},
      {"retries", retries},
      {"retry_delays", std::move(retry_delays)},
      {"cost_usd", tidy(cost * 1e6) / 1e6},
      {"cost_wasted_usd", tidy(wasted * 1e6) / 1e6},
      {"by_provider", std::move(providers)},
      {"service_answers", std::move(answers_seen)},
      {"series", std::move(series)},
  };
  v.summary = {
      {"upstream_attempts", static_cast<double>(attempts.size() + not_recorded)},
      {"upstream_attempts_per_request", per_request},
      {"upstream_attempts_request_peak", static_cast<double>(peak)},
      {"upstream_retries", static_cast<double>(retries)},
      {"upstream_unattributed", static_cast<double>(unattributed)},
      {"upstream_cost_usd", cost},
      {"upstream_cost_wasted_usd", wasted},
  };
  return v;
}

}  // namespace squall::runs
