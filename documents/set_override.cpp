#include "documents/set_override.hpp"

#include <utility>

#include "policies/core/json_parse.hpp"

namespace squall::documents {
namespace {

constexpr std::size_t steps_max = 32;

std::string describe_steps(const std::vector<path_step>& path, std::size_t count) {
  std::string out = "$";
  for (std::size_t i = 0; i < count && i < path.size(); ++i) {
    out = path[i].index ? json_path_index(out, *path[i].index) : json_path_key(out, path[i].key);
  }
  return out;
}

// The layer of a policy list that `key` names: by "name", else the only one of that "type".
config_result<std::size_t> find_layer(const json& layers, const std::string& key, const std::string& where) {
  for (std::size_t i = 0; i < layers.size(); ++i) {
    const json& l = layers[i];
    if (l.is_object() && l.contains("name") && l["name"].is_string() && l["name"].get<std::string>() == key) return i;
  }
  std::optional<std::size_t> found;
  std::size_t of_type = 0;
  std::string names;
  for (std::size_t i = 0; i < layers.size(); ++i) {
    const json& l = layers[i];
    if (!l.is_object()) continue;
    const std::string type = l.contains("type") && l["type"].is_string() ? l["type"].get<std::string>() : "";
    const std::string name = l.contains("name") && l["name"].is_string() ? l["name"].get<std::string>() : "";
    names += (names.empty() ? "" : ", ") + (name.empty() ? type : name + " (" + type + ")");
    if (type == key) {
      found = i;
      ++of_type;
    }
  }
  if (of_type == 1) return *found;
  if (of_type > 1) {
    return config_error{{}, where, std::to_string(of_type) + " layers have the type \"" + key +
                                       "\"; name one by its \"name\" or write its index: " + names};
  }
  return config_error{{}, where, "no key and no layer \"" + key + "\" here; the layers are: " + names};
}

}  // namespace

config_result<set_override> parse_set_override(std::string_view text) {
  const std::string given(text);
  auto bad = [&](const std::string& why) {
    return config_error{{}, {}, "--set " + cut_utf8(given, 120) + ": " + why +
                                    " (expected PATH=VALUE, e.g. workload.rate_rps=200 or "
                                    "policies.candidate.retry.attempts_max=2)"};
  };
  set_override out;
  out.text = given;
  std::size_t i = 0;
  if (text.substr(0, 2) == "$.") i = 2;
  bool expect_key = true;  // at the start or after a '.'
  while (i < text.size() && text[i] != '=') {
    if (out.path.size() >= steps_max) return bad("a path of more than " + std::to_string(steps_max) + " steps");
    if (text[i] == '[') {
      const std::size_t close = text.find(']', i);
      if (close == std::string_view::npos) return bad("an unclosed \"[\"");
      std::string_view inside = text.substr(i + 1, close - i - 1);
      path_step step;
      if (inside.size() >= 2 && inside.front() == '"' && inside.back() == '"') {
        step.key = std::string(inside.substr(1, inside.size() - 2));
      } else {
        if (inside.empty() || inside.size() > 9 || inside.find_first_not_of("0123456789") != std::string_view::npos) {
          return bad("\"[" + std::string(inside) + "]\" is neither an index [N] nor a quoted key [\"key\"]");
        }
        step.index = static_cast<std::size_t>(std::stoul(std::string(inside)));
      }
      out.path.push_back(std::move(step));
      i = close + 1;
      expect_key = false;
      continue;
    }
    if (text[i] == '.') {
      if (expect_key) return bad("an empty step in the path");
      ++i;
      expect_key = true;
      continue;
    }
    if (!expect_key) return bad("expected \".\", \"[\" or \"=\" after \"" + describe_steps(out.path, out.path.size()) + "\"");
    const std::size_t end = text.find_first_of(".[=", i);
    const std::size_t stop = end == std::string_view::npos ? text.size() : end;
    out.path.push_back(path_step{std::string(text.substr(i, stop - i)), std::nullopt});
    i = stop;
    expect_key = false;
  }
  if (i >= text.size()) return bad("no \"=\"");
  if (out.path.empty() || expect_key) return bad(out.path.empty() ? "no path before \"=\"" : "an empty step in the path");
  const std::string_view value_text = text.substr(i + 1);
  // JSON when it is JSON (200, 0.5, true, null, "quoted", [..], {..}); otherwise the text as a string.
  auto parsed = parse_json(value_text);
  if (parsed && !value_text.empty()) {
    out.value = std::move(*parsed);
  } else {
    out.value = std::string(value_text);
  }
  if (!is_valid_utf8(value_text)) return bad("the value is not UTF-8");
  return out;
}

std::optional<config_error> apply_set_override(json& document, const set_override& override_,
                                               const reference_opener& open) {
  auto fail = [&](const std::string& where, const std::string& why) {
    return config_error{{}, where, "--set " + cut_utf8(override_.text, 120) + ": " + why};
  };
  json* node = &document;
  std::string where = "$";
  // A string where a step needs an object or array: the caller's document for it (a policy file).
  auto open_here = [&]() -> std::optional<config_error> {
    if (!node->is_string() || !open) return std::nullopt;
    auto opened = open(where, node->get<std::string>());
    if (!opened) {
      config_error e = std::move(opened).error();
      e.message = "--set " + cut_utf8(override_.text, 120) + ": " + e.message;
      if (e.path.empty()) e.path = where;
      return e;
    }
    *node = std::move(*opened);
    return std::nullopt;
  };

  for (std::size_t s = 0; s < override_.path.size(); ++s) {
    const path_step& step = override_.path[s];
    if (auto e = open_here()) return e;
    if (step.index) {
      if (!node->is_array()) return fail(where, "expected an array to index with [" + std::to_string(*step.index) + "], found " + describe_json(*node));
      if (*step.index >= node->size()) {
        return fail(where, "index " + std::to_string(*step.index) + " is past the end (the array has " +
                               std::to_string(node->size()) + " elements)");
      }
      node = &(*node)[*step.index];
      where = json_path_index(where, *step.index);
      continue;
    }
    if (node->is_null()) *node = json::object();
    // A key that is not there may name a layer: of a configuration's {"policy": ...}, or of a policy list.
    bool layer_taken = false;
    for (int hop = 0; hop < 3 && !layer_taken && node->is_object() && !node->contains(step.key); ++hop) {
      // The wrapper's own keys stay on the wrapper: {"policy": ..., "fleet": ..., "reference": ...}.
      if (node->contains("policy") && step.key != "fleet" && step.key != "reference") {
        node = &(*node)["policy"];
        where = json_path_key(where, "policy");
        if (auto e = open_here()) return e;
        continue;
      }
      if (node->contains("policies") && (*node)["policies"].is_array()) {
        json& layers = (*node)["policies"];
        auto found = find_layer(layers, step.key, json_path_key(where, "policies"));
        if (!found) {
          config_error e = std::move(found).error();
          return fail(e.path, e.message);
        }
        node = &layers[*found];
        where = json_path_index(json_path_key(where, "policies"), *found);
        layer_taken = true;  // the layer itself is this step
        break;
      }
      break;
    }
    if (layer_taken) continue;
    if (node->is_array()) {
      auto found = find_layer(*node, step.key, where);
      if (!found) {
        config_error e = std::move(found).error();
        return fail(e.path, e.message);
      }
      where = json_path_index(where, *found);
      node = &(*node)[*found];
      continue;
    }
    if (!node->is_object()) {
      return fail(where, "expected an object to hold \"" + step.key + "\", found " + describe_json(*node));
    }
    where = json_path_key(where, step.key);
    node = &(*node)[step.key];  // created (null) when missing
  }
  *node = override_.value;
  return std::nullopt;
}

}  // namespace squall::documents
