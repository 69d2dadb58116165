#include "reports/results_input.hpp"

#include <set>

#include "policies/core/json_parse.hpp"

#include "reports/results.hpp"

namespace squall::reports {
namespace {

struct checker {
  const std::string& file;
  std::optional<config_error> error;

  bool fail(const std::string& path, const std::string& message) {
    if (!error) error = config_error{file, path, message};
    return false;
  }
  // Whether `parent` holds `key` with a value of the wanted kind; reports it otherwise.
  const json* need(const json& parent, const std::string& path, const char* key, json::value_t kind, const char* what) {
    const std::string p = json_path_key(path, key);
    if (!parent.contains(key)) {
      fail(p, std::string("missing; expected ") + what);
      return nullptr;
    }
    const json& v = parent[key];
    const bool number_ok = kind == json::value_t::number_float && v.is_number();
    const bool unsigned_ok = kind == json::value_t::number_unsigned && v.is_number_unsigned();
    if (!number_ok && !unsigned_ok && v.type() != kind) {
      fail(p, std::string("expected ") + what + ", got " + describe_json(v));
      return nullptr;
    }
    return &v;
  }
  // Like need(), for a key that may be absent.
  void may(const json& parent, const std::string& path, const char* key, json::value_t kind, const char* what) {
    if (parent.contains(key)) need(parent, path, key, kind, what);
  }
  // A series: an array of numbers (null where an interval had nothing to measure).
  void numbers(const json& v, const std::string& path) {
    if (!v.is_array()) {
      fail(path, "expected an array of numbers, got " + describe_json(v));
      return;
    }
    for (std::size_t i = 0; i < v.size(); ++i) {
      if (!v[i].is_number() && !v[i].is_null()) {
        fail(json_path_index(path, i), "expected a number, got " + describe_json(v[i]));
        return;
      }
    }
  }
};

}  // namespace

std::optional<config_error> check_results(const json& doc, const std::string& file) {
  checker c{file, std::nullopt};
  using vt = json::value_t;
  if (!doc.is_object()) {
    c.fail("$", "expected a results document (an object with \"format\": \"" + std::string(results_format) + "\"), got " +
                    describe_json(doc));
    return c.error;
  }
  const json* format = c.need(doc, "$", "format", vt::string, "\"squall-results/1\" (a results.json written by squall run)");
  if (!format) return c.error;
  if (*format != results_format) {
    c.fail("$.format", "expected \"" + std::string(results_format) + "\" (a results.json written by squall run), got " +
                           describe_json(*format));
    return c.error;
  }
  // An interrupted run's figures cover only part of its scenario; comparing or averaging them with a
  // whole run would mislead, so they are refused by name before anything else is read.
  if (doc.contains("incomplete") && doc["incomplete"] == true) {
    c.fail("$.incomplete", "expected the results of a complete run; this run was interrupted (" +
                               (doc.contains("incomplete_reason") ? describe_json(doc["incomplete_reason"]) : std::string("no reason given")) +
                               "): rerun it to the end");
    return c.error;
  }
  c.need(doc, "$", "seed", vt::number_unsigned, "the run's seed (an unsigned integer)");
  c.need(doc, "$", "reproduce", vt::string, "the reproduce command (a string)");
  c.may(doc, "$", "squall_version", vt::string, "a version string such as \"0.1.0\"");
  c.may(doc, "$", "mode", vt::string, "\"sim\" or \"live\"");
  if (const json* s = c.need(doc, "$", "scenario", vt::object, "an object")) {
    c.need(*s, "$.scenario", "name", vt::string, "a string");
    c.need(*s, "$.scenario", "digest", vt::string, "a string such as \"sha256:...\"");
    c.may(*s, "$.scenario", "file", vt::string, "the scenario file's path (a string)");
  }
  if (c.error) return c.error;
  const json* configs = c.need(doc, "$", "configurations", vt::array, "an array");
  if (!configs) return c.error;
  if (configs->empty()) {
    c.fail("$.configurations", "expected at least one configuration, got an empty array");
    return c.error;
  }
  std::set<std::string> names;
  for (std::size_t i = 0; i < configs->size() && !c.error; ++i) {
    const json& cfg = (*configs)[i];
    const std::string path = json_path_index("$.configurations", i);
    if (!cfg.is_object()) {
      c.fail(path, "expected an object, got " + describe_json(cfg));
      break;
    }
    if (const json* name = c.need(cfg, path, "name", vt::string, "a string")) {
      if (!names.insert(name->get<std::string>()).second) {
        c.fail(json_path_key(path, "name"), "the configuration name " + describe_json(*name) + " appears twice");
      }
    }
    if (cfg.contains("reference")) c.need(cfg, path, "reference", vt::string, "a string (why the configuration is a reference)");
    if (const json* summary = c.need(cfg, path, "summary", vt::object, "an object of metric values")) {
      for (auto it = summary->begin(); it != summary->end(); ++it) {
        if (!it->is_number()) c.fail(json_path_key(json_path_key(path, "summary"), it.key()), "expected a number, got " + describe_json(*it));
      }
    }
    if (cfg.contains("series")) {
      const json* series = c.need(cfg, path, "series", vt::object, "an object of arrays");
      if (series) {
        for (auto it = series->begin(); it != series->end(); ++it) {
          const std::string sp = json_path_key(json_path_key(path, "series"), it.key());
          if (it->is_object()) {
            for (auto sub = it->begin(); sub != it->end(); ++sub) c.numbers(*sub, json_path_key(sp, sub.key()));
          } else {
            c.numbers(*it, sp);
          }
        }
      }
    }
  }
  if (c.error) return c.error;
  const json* assertions = c.need(doc, "$", "assertions", vt::array, "an array");
  if (!assertions) return c.error;
  for (std::size_t i = 0; i < assertions->size() && !c.error; ++i) {
    const json& a = (*assertions)[i];
    const std::string path = json_path_index("$.assertions", i);
    if (!a.is_object()) {
      c.fail(path, "expected an object, got " + describe_json(a));
      break;
    }
    c.need(a, path, "configuration", vt::string, "a string");
    c.need(a, path, "metric", vt::string, "a string");
    if (const json* kind = c.need(a, path, "kind", vt::string, "\"min\" or \"max\"")) {
      if (*kind != "min" && *kind != "max") c.fail(json_path_key(path, "kind"), "expected \"min\" or \"max\", got " + describe_json(*kind));
    }
    c.need(a, path, "bound", vt::number_float, "a number");
    // No measured value: the run did not get to it ("verdict": "not run"), or its metric had no samples
    // (the "note" says why, and the assertion failed).
    const bool unmeasured = (a.contains("note") && !a.value("passed", true)) ||
                            (a.contains("verdict") && a["verdict"] == "not run");
    if (!unmeasured || a.contains("measured")) c.need(a, path, "measured", vt::number_float, "a number");
    if (a.contains("scope")) {
      if (const json* scope = c.need(a, path, "scope", vt::string, "\"during\" or \"after\"")) {
        if (*scope != "during" && *scope != "after") c.fail(json_path_key(path, "scope"), "expected \"during\" or \"after\", got " + describe_json(*scope));
      }
      c.need(a, path, "fault", vt::string, "the fault window's name");
    }
    c.need(a, path, "passed", vt::boolean, "true or false");
    if (a.contains("name")) c.need(a, path, "name", vt::string, "a string");
    if (a.contains("note")) c.need(a, path, "note", vt::string, "a string");
  }
  if (c.error) return c.error;
  if (const json* verdict = c.need(doc, "$", "verdict", vt::string, "\"pass\" or \"fail\"")) {
    if (*verdict != "pass" && *verdict != "fail") c.fail("$.verdict", "expected \"pass\" or \"fail\", got " + describe_json(*verdict));
  }
  return c.error;
}

config_result<json> load_results(const std::string& path) {
  auto parsed = read_json_file(path);
  if (!parsed) {
    config_error e = std::move(parsed).error();
    if (e.path.empty()) e.message += " (expected a results.json written by squall run)";
    return e;
  }
  json doc = std::move(*parsed);
  if (auto e = check_results(doc, path)) return *e;
  return doc;
}

}  // namespace squall::reports
