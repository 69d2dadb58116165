#include "fake_providers/fault_control.hpp"

#include <algorithm>
#include <string>

namespace squall::fake {
namespace {

using json = nlohmann::json;

struct interval {
  double begin;
  double end;
};

// `w` minus the intervals in `over`, as pieces of `w`.
std::vector<sim::fault_window> subtract(const sim::fault_window& w, std::vector<interval> over) {
  std::sort(over.begin(), over.end(), [](const interval& a, const interval& b) { return a.begin < b.begin; });
  std::vector<sim::fault_window> pieces;
  double at = w.at_s;
  const double end = w.at_s + w.for_s;
  for (const interval& o : over) {
    if (o.end <= at || o.begin >= end) continue;
    if (o.begin > at) {
      sim::fault_window piece = w;
      piece.at_s = at;
      piece.for_s = o.begin - at;
      pieces.push_back(piece);
    }
    at = std::max(at, o.end);
  }
  if (at < end) {
    sim::fault_window piece = w;
    piece.at_s = at;
    piece.for_s = end - at;
    pieces.push_back(piece);
  }
  return pieces;
}

}  // namespace

json to_json(const sim::fault_window& w) {
  json out = {{"at_s", w.at_s}, {"for_s", w.for_s}};
  if (!w.errors.empty()) {
    json errors = json::object();
    for (const sim::injected_error& e : w.errors) {
      const sim::error_kind_info* named = sim::info(e.kind);
      errors[named ? std::string(named->name) : std::to_string(e.status)] = e.probability;
    }
    out["errors"] = errors;
  }
  if (w.latency_x != 1.0) out["latency_x"] = w.latency_x;
  if (w.ttft_x != 1.0) out["ttft_x"] = w.ttft_x;
  if (w.retry_after_s) out["retry_after_s"] = *w.retry_after_s;
  switch (w.outage) {
    case sim::outage_kind::refuse: out["outage"] = "refuse"; break;
    case sim::outage_kind::hang: out["outage"] = "hang"; break;
    case sim::outage_kind::reset: out["outage"] = "reset"; break;
    case sim::outage_kind::handshake: out["outage"] = "handshake"; break;
    case sim::outage_kind::none: break;
  }
  if (w.token_x != 1.0) out["token_x"] = w.token_x;
  if (!w.content.none()) {
    json content = json::object();
    if (w.content.empty > 0) content["empty"] = w.content.empty;
    if (w.content.truncated > 0) content["truncated"] = w.content.truncated;
    if (w.content.invalid_json > 0) content["invalid_json"] = w.content.invalid_json;
    out["content"] = content;
  }
  if (!w.models.empty()) out["models"] = w.models;
  if (!w.endpoints.empty()) {
    json endpoints = json::array();
    for (sim::endpoint_kind e : w.endpoints) endpoints.push_back(sim::endpoint_names[static_cast<std::size_t>(e)]);
    out["endpoints"] = endpoints;
  }
  if (w.first_n) out["first_n"] = *w.first_n;
  if (w.attempts) out["attempts"] = *w.attempts;
  if (!w.wire.empty()) {
    json wire = json::object();
    if (w.wire.malformed > 0) wire["malformed"] = w.wire.malformed;
    if (w.wire.stream_cut > 0) wire["stream_cut"] = w.wire.stream_cut;
    if (w.wire.error_event > 0) wire["error_event"] = w.wire.error_event;
    out["wire"] = wire;
  }
  return out;
}

fault_control::fault_control(std::vector<sim::fault_window> scenario, std::size_t armed_max)
    : scenario_(std::move(scenario)), armed_max_(armed_max) {}

config_result<json> fault_control::arm(const json& body, time_point now) {
  if (body.is_discarded()) return config_error{{}, "$", "the body is not valid JSON"};
  if (!body.is_object()) {
    return config_error{{}, "$", "expected a fault window such as {\"for_s\": 30, \"errors\": {\"503\": 0.5}}, got " +
                                     describe_json(body)};
  }
  json spec = body;
  if (!spec.contains("at_s")) spec["at_s"] = 0;
  auto parsed = sim::parse_fault_window(spec, "$");
  if (!parsed.ok()) return std::move(parsed).error();
  const double now_s = to_s(now);
  std::erase_if(armed_, [&](const armed& a) { return a.window.at_s + a.window.for_s <= now_s; });
  if (armed_.size() >= armed_max_) {
    return config_error{{}, "$", "at most " + std::to_string(armed_max_) +
                                     " armed faults at a time; DELETE /squall/faults clears them"};
  }
  sim::fault_window w = std::move(parsed).value();
  w.at_s += now_s;
  armed_.push_back(armed{next_id_++, w});
  json listed = to_json(w);
  listed["id"] = armed_.back().id;
  return listed;
}

std::size_t fault_control::clear(bool scenario_too) {
  std::size_t n = armed_.size();
  armed_.clear();
  if (scenario_too) {
    n += scenario_.size();
    scenario_.clear();
  }
  return n;
}

std::optional<json> fault_control::remove(std::uint64_t id) {
  const auto it = std::find_if(armed_.begin(), armed_.end(), [&](const armed& a) { return a.id == id; });
  if (it == armed_.end()) return std::nullopt;
  json listed = to_json(it->window);
  listed["id"] = it->id;
  armed_.erase(it);
  return listed;
}

std::vector<sim::fault_window> fault_control::timeline() const {
  // Priority: the scenario's windows lowest, then armed windows in the order they were armed.
  std::vector<sim::fault_window> all = scenario_;
  for (const armed& a : armed_) all.push_back(a.window);
  std::vector<sim::fault_window> out;
  for (std::size_t i = 0; i < all.size(); ++i) {
    std::vector<interval> over;
    const std::size_t first_above = i < scenario_.size() ? scenario_.size() : i + 1;
    for (std::size_t k = first_above; k < all.size(); ++k) over.push_back({all[k].at_s, all[k].at_s + all[k].for_s});
    for (sim::fault_window& piece : subtract(all[i], std::move(over))) out.push_back(std::move(piece));
  }
  std::stable_sort(out.begin(), out.end(),
                   [](const sim::fault_window& a, const sim::fault_window& b) { return a.at_s < b.at_s; });
  return out;
}

json fault_control::list(const std::vector<sim::fault_window>& timeline, time_point now) const {
  const double now_s = to_s(now);
  json windows = json::array();
  for (const sim::fault_window& w : timeline) {
    json item = to_json(w);
    item["active"] = w.at_s <= now_s && now_s < w.at_s + w.for_s;
    windows.push_back(std::move(item));
  }
  json armed_list = json::array();
  for (const auto& a : armed_) {
    json item = to_json(a.window);
    item["id"] = a.id;
    armed_list.push_back(std::move(item));
  }
  return json{{"now_s", now_s}, {"timeline", std::move(windows)}, {"armed", std::move(armed_list)}};
}

std::optional<time_point> fault_control::next_boundary_after(const std::vector<sim::fault_window>& timeline,
                                                             time_point now) {
  std::optional<time_point> next;
  for (const sim::fault_window& w : timeline) {
    for (const double s : {w.at_s, w.at_s + w.for_s}) {
      const time_point t{from_s(s)};
      if (t > now && (!next || t < *next)) next = t;
    }
  }
  return next;
}

}  // namespace squall::fake
