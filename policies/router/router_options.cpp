#include "policies/router/router_options.hpp"

#include <string>

namespace squall {
namespace {

constexpr std::size_t candidates_max = 16;

std::string_view refuse_for_router(outcome_class c) {
  if (c == outcome_class::ok) return "ok is a success and cannot be counted as a failure";
  if (c == outcome_class::cancelled) return "cancelled is never delivered: the caller has already gone";
  return {};
}

std::string target_name(const router_target& t) { return (t.provider.empty() ? std::string("*") : t.provider) + "/" + t.model; }

// Reads "provider" (optional, non-empty when given) and "model" (required) of a target object.
void read_target(json_reader& reader, router_target& out) {
  reader.string("provider", out.provider);
  if (!reader.failed() && out.provider.empty() && reader.child("provider") != nullptr) {
    reader.fail_key("provider", "expected a non-empty name; omit the key to keep the request's own provider");
  }
  if (reader.required("model", "the model to route to") != nullptr) reader.string("model", out.model);
  if (!reader.failed() && out.model.empty()) reader.fail_key("model", "expected a non-empty model name");
  out.name = target_name(out);
}

void read_routes(json_reader& reader, const json& routes, router_options& options) {
  const std::string path = json_path_key(reader.path(), "routes");
  if (!routes.is_object() || routes.empty()) {
    reader.fail(path, "expected an object of class name -> {\"provider\", \"model\"} with at least one of "
                      "\"simple\", \"moderate\", \"complex\", \"critical\", got " + describe_json(routes));
    return;
  }
  json_reader classes(routes, path);
  classes.allow_only({"simple", "moderate", "complex", "critical"});
  for (std::size_t c = 0; c < request_class_count && !classes.failed(); ++c) {
    const json* route = classes.child(request_class_names[c]);
    if (route == nullptr) continue;
    json_reader r(*route, json_path_key(path, request_class_names[c]));
    router_target t;
    read_target(r, t);
    if (auto e = r.finish()) {
      classes.fail(e->path, e->message);
      break;
    }
    options.routes[c] = std::move(t);
  }
  if (auto e = classes.finish()) reader.fail(e->path, e->message);
}

void read_candidates(json_reader& reader, const json& list, router_options& options) {
  const std::string path = json_path_key(reader.path(), "candidates");
  if (!list.is_array() || list.empty() || list.size() > candidates_max) {
    reader.fail(path, "expected an array of 1 to 16 candidate objects, got " +
                          (list.is_array() ? std::to_string(list.size()) + " entries" : describe_json(list)));
    return;
  }
  for (std::size_t i = 0; i < list.size(); ++i) {
    json_reader r(list[i], json_path_index(path, i));
    router_candidate c;
    read_target(r, c.target);
    r.number("usd_per_mtok_out", c.usd_per_mtok_out, 0.0, 1000000.0)
        .number("quality", c.quality, 0.0, 1.0)
        .number("speed", c.speed, 0.0, 1000000.0);
    for (const auto& earlier : options.candidates) {
      if (!r.failed() && earlier.target.provider == c.target.provider && earlier.target.model == c.target.model) {
        r.fail(r.path(), "duplicate candidate \"" + c.target.name + "\": each provider and model may appear once");
      }
    }
    if (auto e = r.finish()) {
      reader.fail(e->path, e->message);
      return;
    }
    options.candidates.push_back(std::move(c));
  }
}

}  // namespace

void read_router_options(json_reader& reader, router_options& options) {
  const json* routes = reader.child("routes");
  const json* candidates = reader.child("candidates");
  if (!reader.failed() && routes != nullptr && candidates != nullptr) {
    reader.fail(reader.path(), "give either \"routes\" (a target per request class) or \"candidates\" (with "
                               "\"priority\"), not both");
  }
  if (!reader.failed() && routes == nullptr && candidates == nullptr) {
    reader.fail(reader.path(), "missing \"routes\" (a target per request class) or \"candidates\" (models to "
                               "pick from by \"priority\")");
  }
  if (!reader.failed() && routes != nullptr) {
    for (std::string_view key : {"priority", "quality_min"}) {
      if (!reader.failed() && reader.child(key) != nullptr) {
        reader.fail_key(key, "only applies to \"candidates\", not to \"routes\"");
      }
    }
    if (!reader.failed()) read_routes(reader, *routes, options);
  }
  if (!reader.failed() && candidates != nullptr) {
    read_candidates(reader, *candidates, options);
    std::string priority;
    reader.choice("priority", priority, {"cost", "speed", "quality", "balanced"});
    if (priority == "cost") options.priority = router_priority::cost;
    if (priority == "speed") options.priority = router_priority::speed;
    if (priority == "quality") options.priority = router_priority::quality;
    if (priority == "balanced") options.priority = router_priority::balanced;
    if (const json* q = reader.child("quality_min"); q != nullptr && !reader.failed()) {
      json_reader qr(*q, json_path_key(reader.path(), "quality_min"));
      for (std::size_t c = 0; c < request_class_count; ++c) {
        qr.number(request_class_names[c], options.quality_min[c], 0.0, 1.0);
      }
      if (auto e = qr.finish()) reader.fail(e->path, e->message);
    }
  }
  read_outcome_class_set(reader, "failure_on", options.failure_on, refuse_for_router);
  reader.count("health_window", options.health_window, 1, 10000)
      .count("health_answers_min", options.health_answers_min, 1, 10000)
      .number("unhealthy_failure_rate", options.unhealthy_failure_rate, 0.0, 1.0)
      .number("recheck_ms", options.recheck_ms, 1.0, 86400000.0);
  if (!reader.failed() && options.health_answers_min > options.health_window) {
    reader.fail_key("health_answers_min", "expected at most health_window (" + std::to_string(options.health_window) +
                                              "), got " + std::to_string(options.health_answers_min));
  }
}

}  // namespace squall
