#include "sim/provider/provider_config.hpp"

#include <algorithm>
#include <array>
#include <cmath>

namespace squall::sim {
namespace {

// The statuses a scenario may inject: the ones real AI providers answer with. Anything else is more
// likely a typo than an intent.

// Probabilities are written by hand ("0.1 + 0.2 + 0.7"); allow for binary rounding when they sum to 1.
constexpr double probability_sum_slack = 1e-9;

constexpr double latency_ms_max = 3'600'000;  // one hour: anything longer is a hang, say so with an outage
// A round trip above a minute is no network but an outage: say so with one.
constexpr double network_rtt_ms_max = 60'000;
constexpr double scenario_s_max = 31'536'000;  // one year of scenario time

std::string injectable_list() {
  std::string out;
  for (int s : injectable_statuses) {
    if (!out.empty()) out += ", ";
    out += std::to_string(s);
  }
  return out;
}

std::string format_number(double v) {
  if (v == std::floor(v) && std::fabs(v) < 1e15) return std::to_string(static_cast<long long>(v));
  json j = v;
  return j.dump();
}

std::string error_kind_list() {
  std::string out;
  for (const error_kind_info& k : error_kinds) {
    if (!out.empty()) out += ", ";
    out += k.name;
  }
  return out;
}

// An error mix written as { "503": 0.2, "429": 0.1, "overloaded_500": 0.3 }: a status, or a named kind of
// error that real providers answer with in known incidents.
std::optional<config_error> parse_error_mix(const json& value, const std::string& path, error_mix& out) {
  if (!value.is_object()) {
    return config_error{{}, path, "expected an object mapping HTTP status (or error kind) to probability, such as "
                                  "{\"503\": 0.2}, got " + describe_json(value)};
  }
  error_mix mix;
  double sum = 0;
  for (auto it = value.begin(); it != value.end(); ++it) {
    const std::string& key = it.key();
    const std::string key_path = json_path_key(path, key);
    injected_error e;
    bool digits = key.size() == 3;
    for (char c : key) digits = digits && c >= '0' && c <= '9';
    if (digits) e.status = std::stoi(key);
    bool known = false;
    for (int s : injectable_statuses) known = known || s == e.status;
    for (std::size_t k = 0; k < error_kinds.size() && !known; ++k) {
      if (error_kinds[k].name == key) {
        known = true;
        e.kind = static_cast<error_kind>(k + 1);
        e.status = error_kinds[k].status;
      }
    }
    if (!known) {
      return config_error{{}, key_path, "unknown HTTP status or error kind \"" + key + "\"; expected one of " +
                                            injectable_list() + " or " + error_kind_list()};
    }
    const json& p = it.value();
    if (!p.is_number() || !(p.get<double>() >= 0.0 && p.get<double>() <= 1.0)) {
      return config_error{{}, key_path, "expected a probability from 0 to 1, got " + describe_json(p)};
    }
    e.probability = p.get<double>();
    sum += e.probability;
    mix.push_back(e);
  }
  if (sum > 1.0 + probability_sum_slack) {
    return config_error{{}, path, "expected probabilities that sum to at most 1, got a sum of " + format_number(sum)};
  }
  out = std::move(mix);
  return std::nullopt;
}

bool injects_overload_or_rate_limit(const error_mix& mix) {
  for (const injected_error& e : mix) {
    if ((e.status == 429 || e.status == 503 || e.status == 529) && e.probability > 0) return true;
  }
  return false;
}

std::optional<config_error> parse_models(const json& value, const std::string& path,
                                         std::vector<std::pair<std::string, model_price>>& out) {
  if (!value.is_object()) {
    return config_error{{}, path, "expected an object mapping model name to prices, such as "
                                  "{\"gpt-4o-mini\": {\"usd_per_mtok_in\": 0.15, \"usd_per_mtok_out\": 0.6}}, got " +
                                      describe_json(value)};
  }
  if (value.empty()) return config_error{{}, path, "expected at least one model"};
  for (auto it = value.begin(); it != value.end(); ++it) {
    const std::string model_path = json_path_key(path, it.key());
    if (it.key().empty()) return config_error{{}, model_path, "a model name must not be empty"};
    json_reader r(it.value(), model_path);
    model_price price;
    r.required("usd_per_mtok_in", "price in USD per million input tokens");
    r.number("usd_per_mtok_in", price.usd_per_mtok_in, 0, 100'000);
    r.required("usd_per_mtok_out", "price in USD per million output tokens");
    r.number("usd_per_mtok_out", price.usd_per_mtok_out, 0, 100'000);
    r.number("batch_discount", price.batch_discount, 0, 1);
    if (auto e = r.finish()) return e;
    out.emplace_back(it.key(), price);
  }
  return std::nullopt;
}

// A non-empty array of distinct non-empty strings, at most 64 of them.
void parse_names(json_reader& r, const json& value, const std::string& path, std::vector<std::string>& out) {
  if (!value.is_array() || value.empty() || value.size() > 64) {
    r.fail(path, "expected an array of 1 to 64 names, got " + describe_json(value));
    return;
  }
  for (std::size_t i = 0; i < value.size(); ++i) {
    const json& item = value[i];
    if (!item.is_string() || item.get_ref<const std::string&>().empty()) {
      r.fail(json_path_index(path, i), "expected a non-empty name, got " + describe_json(item));
      return;
    }
    for (const std::string& seen : out) {
      if (seen == item.get_ref<const std::string&>()) {
        r.fail(json_path_index(path, i), "the name " + describe_json(item) + " appears twice; expected each once");
        return;
      }
    }
    out.push_back(item.get<std::string>());
  }
}

std::optional<config_error> parse_fault(const json& value, const std::string& path, fault_window& out) {
  json_reader r(value, path);
  r.string("name", out.name);
  if (!r.failed() && value.is_object() && value.contains("name") && (out.name.empty() || out.name.size() > 64)) {
    r.fail_key("name", "expected a name of 1 to 64 characters, such as \"storm\"");
  }
  r.required("at_s", "start of the window, seconds from the start of the run");
  r.number("at_s", out.at_s, 0, scenario_s_max);
  r.required("for_s", "length of the window in seconds");
  r.number("for_s", out.for_s, 0, scenario_s_max);
  if (!r.failed() && !(out.for_s > 0)) r.fail_key("for_s", "expected a length above 0 seconds, got 0");
  if (const json* errors = r.child("errors"); errors && !r.failed()) {
    if (auto e = parse_error_mix(*errors, json_path_key(path, "errors"), out.errors)) r.fail(e->path, e->message);
  }
  r.number("latency_x", out.latency_x, 0.001, 1000);
  r.number("ttft_x", out.ttft_x, 0.001, 1000);
  if (const json* wire = r.child("wire"); wire && !r.failed()) {
    const std::string wire_path = json_path_key(path, "wire");
    json_reader wr(*wire, wire_path);
    wr.number("malformed", out.wire.malformed, 0, 1);
    wr.number("stream_cut", out.wire.stream_cut, 0, 1);
    wr.number("error_event", out.wire.error_event, 0, 1);
    if (auto e = wr.finish()) {
      r.fail(e->path, e->message);
    } else if (const double sum = out.wire.malformed + out.wire.stream_cut + out.wire.error_event;
               sum > 1.0 + probability_sum_slack) {
      r.fail(wire_path, "expected probabilities that sum to at most 1, got a sum of " + format_number(sum));
    }
  }
  r.number("token_x", out.token_x, 0.001, 1000);
  if (const json* content = r.child("content"); content && !r.failed()) {
    const std::string content_path = json_path_key(path, "content");
    json_reader cr(*content, content_path);
    cr.number("empty", out.content.empty, 0, 1);
    cr.number("truncated", out.content.truncated, 0, 1);
    cr.number("invalid_json", out.content.invalid_json, 0, 1);
    if (auto e = cr.finish()) {
      r.fail(e->path, e->message);
    } else if (const double sum = out.content.empty + out.content.truncated + out.content.invalid_json +
                                  out.wire.malformed + out.wire.stream_cut + out.wire.error_event;
               sum > 1.0 + probability_sum_slack) {
      // One draw picks a served attempt's wire or content fault: together they are one mix.
      r.fail(content_path, "expected probabilities that, with the window's \"wire\" faults, sum to at most 1, "
                           "got a sum of " + format_number(sum));
    }
  }
  std::string outage;
  r.choice("outage", outage, {"refuse", "hang", "reset", "handshake"});
  if (outage == "refuse") out.outage = outage_kind::refuse;
  if (outage == "hang") out.outage = outage_kind::hang;
  if (outage == "reset") out.outage = outage_kind::reset;
  if (outage == "handshake") out.outage = outage_kind::handshake;
  r.number("retry_after_s", out.retry_after_s, 0, 86'400);
  if (const json* models = r.child("models"); models && !r.failed()) {
    parse_names(r, *models, json_path_key(path, "models"), out.models);
  }
  if (const json* endpoints = r.child("endpoints"); endpoints && !r.failed()) {
    std::vector<std::string> names;
    const std::string endpoints_path = json_path_key(path, "endpoints");
    parse_names(r, *endpoints, endpoints_path, names);
    for (std::size_t i = 0; i < names.size() && !r.failed(); ++i) {
      std::size_t k = 0;
      while (k < endpoint_count && endpoint_names[k] != names[i]) ++k;
      if (k == endpoint_count) {
        r.fail(json_path_index(endpoints_path, i),
               "unknown endpoint \"" + names[i] + "\"; expected one of chat, embeddings, responses, messages");
      } else {
        out.endpoints.push_back(static_cast<endpoint_kind>(k));
      }
    }
  }
  if (r.child("first_n") && !r.failed()) {
    std::int64_t n = 0;
    r.integer("first_n", n, 1, 1'000'000'000'000);
    out.first_n = static_cast<std::uint64_t>(n);
  }
  if (r.child("attempts") && !r.failed()) {
    std::uint32_t k = 0;
    r.count("attempts", k, 1, 100);
    out.attempts = k;
  }
  if (auto e = r.finish()) return e;
  if (out.errors.empty() && out.latency_x == 1.0 && out.ttft_x == 1.0 && out.token_x == 1.0 && out.wire.empty() &&
      out.content.none() && out.outage == outage_kind::none) {
    return config_error{{}, path, "a fault window must do something: give it \"errors\", a \"latency_x\", "
                                  "\"ttft_x\" or \"token_x\" other than 1, \"wire\" or \"content\" faults, "
                                  "or an \"outage\""};
  }
  if (out.outage == outage_kind::handshake && out.scoped()) {
    return config_error{{}, json_path_key(path, out.models.empty() ? "endpoints" : "models"),
                        "a handshake failure happens before the request is read, so it cannot be scoped to "
                        "models or endpoints; give the window no \"models\" and no \"endpoints\""};
  }
  if (out.first_n && out.attempts) {
    return config_error{{}, json_path_key(path, "attempts"),
                        "a window counts either its first N attempts (\"first_n\") or each request's first "
                        "attempts (\"attempts\"), not both"};
  }
  if ((out.first_n || out.attempts) && (out.latency_x != 1.0 || out.ttft_x != 1.0 || out.token_x != 1.0)) {
    // Which attempts a window counts is decided when they arrive; latency factors act when service starts,
    // which for queued work is later, so the two do not combine honestly.
    return config_error{{}, json_path_key(path, out.first_n ? "first_n" : "attempts"),
                        "a window that counts attempts injects errors, outages, wire or content faults; "
                        "expected no \"latency_x\", \"ttft_x\" or \"token_x\" with it"};
  }
  if (out.outage == outage_kind::handshake && (out.first_n || out.attempts)) {
    return config_error{{}, json_path_key(path, out.first_n ? "first_n" : "attempts"),
                        "a handshake failure happens before the request (and its attempt number) is read; "
                        "expected no \"first_n\" or \"attempts\" with it"};
  }
  if (out.retry_after_s && !injects_overload_or_rate_limit(out.errors)) {
    return config_error{{}, json_path_key(path, "retry_after_s"),
                        "the hint is sent only with injected 429, 503 and 529 answers, and this window's "
                        "\"errors\" has none"};
  }
  return std::nullopt;
}

std::optional<config_error> parse_faults(const json& value, const std::string& path, std::vector<fault_window>& out) {
  if (!value.is_array()) {
    return config_error{{}, path, "expected an array of fault windows, such as "
                                  "[{\"at_s\": 120, \"for_s\": 60, \"errors\": {\"503\": 0.8}}], got " +
                                      describe_json(value)};
  }
  for (std::size_t i = 0; i < value.size(); ++i) {
    const std::string window_path = json_path_index(path, i);
    fault_window w;
    if (auto e = parse_fault(value[i], window_path, w)) return e;
    // One window at a time for any one attempt keeps "what is the provider doing at t for this
    // request" a plain question; a window can already combine errors, a latency factor and an outage.
    // Windows whose scopes share no attempt (other models, other endpoints) may overlap.
    if (!out.empty() && w.at_s < out.back().at_s) {
      return config_error{{}, json_path_key(window_path, "at_s"),
                          "fault windows must be in time order: this one starts at " + format_number(w.at_s) +
                              " s, before " + json_path_index(path, i - 1) + " starts at " +
                              format_number(out.back().at_s) + " s"};
    }
    for (std::size_t k = out.size(); k-- > 0;) {
      const fault_window& prev = out[k];
      const double prev_end = prev.at_s + prev.for_s;
      if (w.at_s < prev_end && w.scope_meets(prev)) {
        return config_error{{}, json_path_key(window_path, "at_s"),
                            std::string("fault windows ") + (w.scoped() || prev.scoped() ? "of one scope " : "") +
                                "must not overlap: this one starts at " + format_number(w.at_s) + " s, before " +
                                json_path_index(path, k) + " ends at " + format_number(prev_end) +
                                " s; scope them to different \"models\" or \"endpoints\", or move them apart"};
      }
    }
    out.push_back(std::move(w));
  }
  return std::nullopt;
}

}  // namespace

bool fault_window::applies_to(std::string_view model, endpoint_kind endpoint) const noexcept {
  const bool model_ok = models.empty() || std::find(models.begin(), models.end(), model) != models.end();
  const bool endpoint_ok = endpoints.empty() || std::find(endpoints.begin(), endpoints.end(), endpoint) != endpoints.end();
  return model_ok && endpoint_ok;
}

bool fault_window::scope_meets(const fault_window& other) const noexcept {
  bool models_meet = models.empty() || other.models.empty();
  for (const std::string& m : models) {
    models_meet = models_meet || std::find(other.models.begin(), other.models.end(), m) != other.models.end();
  }
  bool endpoints_meet = endpoints.empty() || other.endpoints.empty();
  for (endpoint_kind e : endpoints) {
    endpoints_meet = endpoints_meet || std::find(other.endpoints.begin(), other.endpoints.end(), e) != other.endpoints.end();
  }
  return models_meet && endpoints_meet;
}

config_result<fault_window> parse_fault_window(const json& value, const std::string& path) {
  fault_window w;
  if (auto e = parse_fault(value, path, w)) return *e;
  return w;
}

config_result<provider_config> parse_provider(const json& value, const std::string& path, const std::string& name) {
  provider_config config;
  config.name = name;
  json_reader r(value, path);

  r.choice("api", config.api, {"openai", "anthropic", "gemini"});

  if (const json* models = r.required("models", "model name -> prices"); models && !r.failed()) {
    if (auto e = parse_models(*models, json_path_key(path, "models"), config.models)) r.fail(e->path, e->message);
  }

  if (const json* latency = r.child("latency"); latency && !r.failed()) {
    json_reader lr(*latency, json_path_key(path, "latency"));
    read_distribution(lr, "ttft_ms", config.ttft_ms, 0, latency_ms_max);
    read_distribution(lr, "ms_per_output_token", config.ms_per_output_token, 0, 60'000);
    if (auto e = lr.finish()) r.fail(e->path, e->message);
  }

  read_distribution(r, "error_latency_ms", config.error_latency_ms, 0, latency_ms_max);

  if (const json* capacity = r.child("capacity"); capacity && !r.failed()) {
    json_reader cr(*capacity, json_path_key(path, "capacity"));
    cr.count("slots", config.slots, 1, 1'000'000);
    cr.count("queue", config.queue, 0, 10'000'000);
    cr.number("slowdown", config.slowdown, 0, 1000);
    if (auto e = cr.finish()) r.fail(e->path, e->message);
  }

  if (const json* network = r.child("network"); network && !r.failed()) {
    json_reader nr(*network, json_path_key(path, "network"));
    nr.allow_only({"rtt_ms"});
    distribution rtt = distribution::constant(0);
    if (nr.required("rtt_ms", "a distribution of the round trip in ms, such as 40 or "
                              "{\"dist\": \"lognormal\", \"median\": 40, \"sigma\": 0.3}") && !nr.failed()) {
      read_distribution(nr, "rtt_ms", rtt, 0, network_rtt_ms_max);
      config.network_rtt_ms = rtt;
    }
    if (auto e = nr.finish()) r.fail(e->path, e->message);
  }

  if (const json* limits = r.child("rate_limits"); limits && !r.failed()) {
    json_reader lr(*limits, json_path_key(path, "rate_limits"));
    lr.number("rpm", config.rpm, 1, rpm_max);
    lr.number("tpm", config.tpm, 1, tpm_max);
    if (auto e = lr.finish()) r.fail(e->path, e->message);
  }

  if (const json* errors = r.child("errors"); errors && !r.failed()) {
    if (auto e = parse_error_mix(*errors, json_path_key(path, "errors"), config.errors)) r.fail(e->path, e->message);
  }

  if (const json* faults = r.child("faults"); faults && !r.failed()) {
    if (auto e = parse_faults(*faults, json_path_key(path, "faults"), config.faults)) r.fail(e->path, e->message);
  }

  if (auto e = r.finish()) return *e;
  for (std::size_t i = 0; i < config.faults.size(); ++i) {
    if (config.faults[i].name.empty()) config.faults[i].name = name + ".faults[" + std::to_string(i) + "]";
  }
  // A window scoped to a model the provider does not serve would never apply: a typo, most likely.
  for (std::size_t i = 0; i < config.faults.size(); ++i) {
    const auto& names = config.faults[i].models;
    for (std::size_t k = 0; k < names.size(); ++k) {
      bool served = false;
      for (const auto& m : config.models) served = served || m.first == names[k];
      if (!served) {
        return config_error{{}, json_path_index(json_path_key(json_path_index(json_path_key(path, "faults"), i), "models"), k),
                            "the provider serves no model \"" + names[k] + "\"; expected one of its \"models\""};
      }
    }
  }
  return config;
}

}  // namespace squall::sim
