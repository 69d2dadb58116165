#include "sim/scenario/service_spec.hpp"

#include <algorithm>
#include <array>

#include "sim/scenario/placeholders.hpp"

namespace squall::sim {
namespace {

constexpr std::size_t argv_max = 256;
constexpr std::size_t env_max = 256;
constexpr std::size_t headers_max = 64;
constexpr std::size_t text_max = 64 * 1024;  // one argument, variable, header value or path

struct signal_name {
  std::string_view name;
  int number;
};
constexpr std::array<signal_name, 6> signal_names = {{{"SIGTERM", SIGTERM},
                                                      {"SIGINT", SIGINT},
                                                      {"SIGHUP", SIGHUP},
                                                      {"SIGQUIT", SIGQUIT},
                                                      {"SIGUSR1", SIGUSR1},
                                                      {"SIGUSR2", SIGUSR2}}};

// A list of strings ("command"): 1 to argv_max non-empty items without NUL, placeholders checked.
void read_argv(json_reader& r, const json* value, const std::string& path, std::vector<std::string>& out,
               const placeholder_rules& rules) {
  if (!value || r.failed()) return;
  if (!value->is_array() || value->empty() || value->size() > argv_max) {
    r.fail(path, "expected a list of 1 to " + std::to_string(argv_max) +
                     " strings, the program and its arguments, e.g. [\"node\", \"server.mjs\"] (no shell: write "
                     "[\"sh\", \"-c\", \"...\"] for one)");
    return;
  }
  out.clear();
  for (std::size_t i = 0; i < value->size() && !r.failed(); ++i) {
    const json& item = (*value)[i];
    const std::string ipath = json_path_index(path, i);
    if (!item.is_string() || item.get_ref<const std::string&>().size() > text_max ||
        item.get_ref<const std::string&>().find('\0') != std::string::npos) {
      r.fail(ipath, "expected a string without NUL of at most " + std::to_string(text_max) + " bytes, got " +
                        describe_json(item));
      return;
    }
    if (i == 0 && item.get_ref<const std::string&>().empty()) {
      r.fail(ipath, "expected the program to run, got an empty string");
      return;
    }
    if (auto e = check_placeholders(item.get_ref<const std::string&>(), rules, ipath)) {
      r.fail(e->path, e->message);
      return;
    }
    out.push_back(item.get<std::string>());
  }
}

// An object of name -> string ("env", "headers").
void read_pairs(json_reader& r, const json* value, const std::string& path, string_pairs& out, std::size_t max,
                const placeholder_rules& rules, bool environment) {
  if (!value || r.failed()) return;
  if (!value->is_object() || value->size() > max) {
    r.fail(path, "expected an object of at most " + std::to_string(max) + " names -> strings");
    return;
  }
  for (auto it = value->begin(); it != value->end() && !r.failed(); ++it) {
    const std::string kpath = json_path_key(path, it.key());
    const std::string& key = it.key();
    const bool name_ok = !key.empty() && key.size() <= 256 &&
                         std::all_of(key.begin(), key.end(), [&](char c) {
                           return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                                  c == '_' || (!environment && c == '-');
                         }) &&
                         !(environment && key[0] >= '0' && key[0] <= '9');
    if (!name_ok) {
      r.fail(kpath, environment ? "expected an environment variable name: letters, digits and '_', not starting "
                                  "with a digit"
                                : "expected a header name: letters, digits, '-' and '_'");
      return;
    }
    if (!it->is_string() || it->get_ref<const std::string&>().size() > text_max) {
      r.fail(kpath, "expected a string of at most " + std::to_string(text_max) + " bytes, got " + describe_json(*it));
      return;
    }
    const std::string& text = it->get_ref<const std::string&>();
    const bool bad_char = std::any_of(text.begin(), text.end(), [&](char c) {
      return c == '\0' || (!environment && (c == '\r' || c == '\n'));
    });
    if (bad_char) {
      r.fail(kpath, environment ? "expected a value without NUL" : "expected a header value without CR, LF or NUL");
      return;
    }
    if (auto e = check_placeholders(text, rules, kpath)) {
      r.fail(e->path, e->message);
      return;
    }
    out.emplace_back(key, text);
  }
}

// Every string in a body template, at any depth, has known placeholders.
std::optional<config_error> check_body(const json& value, const std::string& path, const placeholder_rules& rules,
                                       int depth) {
  if (depth > 32) return config_error{{}, path, "nested deeper than 32 levels"};
  if (value.is_string()) return check_placeholders(value.get_ref<const std::string&>(), rules, path);
  if (value.is_object()) {
    for (auto it = value.begin(); it != value.end(); ++it) {
      if (auto e = check_body(*it, json_path_key(path, it.key()), rules, depth + 1)) return e;
    }
  } else if (value.is_array()) {
    for (std::size_t i = 0; i < value.size(); ++i) {
      if (auto e = check_body(value[i], json_path_index(path, i), rules, depth + 1)) return e;
    }
  }
  return std::nullopt;
}

void read_request(json_reader& top, const json* value, const std::string& path, service_request_template& out) {
  if (!value || top.failed()) return;
  json_reader r(*value, path);
  r.allow_only({"method", "path", "headers", "body", "timeout_ms"});
  r.choice("method", out.method, {"POST", "GET", "PUT", "PATCH", "DELETE"});
  r.string("path", out.path);
  r.number("timeout_ms", out.timeout_ms, 1, 3'600'000);
  const placeholder_rules rules = request_placeholders();
  if (!r.failed() && (out.path.empty() || out.path[0] != '/' || out.path.size() > text_max ||
                      std::any_of(out.path.begin(), out.path.end(),
                                  [](char c) { return c == ' ' || c == '\r' || c == '\n' || c == '\0'; }))) {
    r.fail_key("path", "expected a path starting with '/' without spaces, e.g. \"/ask\"");
  }
  if (!r.failed()) {
    if (auto e = check_placeholders(out.path, rules, json_path_key(path, "path"))) r.fail(e->path, e->message);
  }
  read_pairs(r, r.child("headers"), json_path_key(path, "headers"), out.headers, headers_max, rules, false);
  if (const json* body = r.child("body"); body && !r.failed()) {
    if (!body->is_object() && !body->is_array()) {
      r.fail_key("body", "expected a JSON object (or array) with placeholders, e.g. {\"prompt\": \"${prompt}\"}");
    } else if (auto e = check_body(*body, json_path_key(path, "body"), rules, 0)) {
      r.fail(e->path, e->message);
    } else {
      out.body = *body;
    }
  }
  if (auto e = r.finish()) top.fail(e->path, e->message);
}

void read_success(json_reader& top, const json* value, const std::string& path, service_success_rule& out) {
  if (!value || top.failed()) return;
  json_reader r(*value, path);
  r.allow_only({"statuses", "json_path"});
  if (const json* statuses = r.child("statuses"); statuses && !r.failed()) {
    if (!statuses->is_array() || statuses->empty() || statuses->size() > 64) {
      r.fail_key("statuses", "expected a list of 1 to 64 HTTP statuses, e.g. [200]");
    } else {
      for (std::size_t i = 0; i < statuses->size(); ++i) {
        const json& s = (*statuses)[i];
        if (!s.is_number_integer() || s.get<std::int64_t>() < 100 || s.get<std::int64_t>() > 599) {
          r.fail(json_path_index(json_path_key(path, "statuses"), i), "expected an HTTP status from 100 to 599, got " +
                                                                          describe_json(s));
          break;
        }
        out.statuses.push_back(s.get<int>());
      }
    }
  }
  r.string("json_path", out.json_path);
  if (!r.failed() && !out.json_path.empty()) {
    if (auto e = check_json_path(out.json_path)) r.fail_key("json_path", *e);
  }
  if (auto e = r.finish()) top.fail(e->path, e->message);
}

void read_ready(json_reader& top, const json* value, const std::string& path, service_spec& out) {
  if (!value || top.failed()) return;
  json_reader r(*value, path);
  r.allow_only({"http", "output"});
  r.string("http", out.ready_http_path).string("output", out.ready_output);
  if (!r.failed() && out.ready_http_path.empty() == out.ready_output.empty()) {
    r.fail(path, "expected exactly one of \"http\" (a path squall GETs until it answers 2xx, e.g. \"/health\") or "
                 "\"output\" (text the service prints when it is ready)");
  }
  if (!r.failed() && !out.ready_http_path.empty() && out.ready_http_path[0] != '/') {
    r.fail_key("http", "expected a path starting with '/', e.g. \"/health\"");
  }
  if (auto e = r.finish()) top.fail(e->path, e->message);
}

void read_stop(json_reader& top, const json* value, const std::string& path, service_spec& out) {
  if (!value || top.failed()) return;
  json_reader r(*value, path);
  std::string name = "SIGTERM";
  r.choice("signal", name, {"SIGTERM", "SIGINT", "SIGHUP", "SIGQUIT", "SIGUSR1", "SIGUSR2"});
  r.number("grace_ms", out.stop_grace_ms, 0, 600'000);
  if (!r.failed()) out.stop_signal = *signal_from_name(name);
  if (auto e = r.finish()) top.fail(e->path, e->message);
}

void read_configurations(json_reader& top, const json* value, const std::string& path, service_spec& out,
                         const placeholder_rules& rules) {
  if (!value || top.failed()) {
    if (!top.failed()) out.configurations.push_back(service_configuration{"service", {}, {}});
    return;
  }
  if (!value->is_object() || value->empty() || value->size() > 16) {
    top.fail(path, "expected an object of 1 to 16 configurations, e.g. {\"default-retries\": {}, \"no-retries\": "
                   "{\"env\": {\"OPENAI_MAX_RETRIES\": \"0\"}}}");
    return;
  }
  for (auto it = value->begin(); it != value->end() && !top.failed(); ++it) {
    const std::string cpath = json_path_key(path, it.key());
    json_reader r(*it, cpath);
    r.allow_only({"command", "env"});
    service_configuration c;
    c.name = it.key();
    read_argv(r, r.child("command"), json_path_key(cpath, "command"), c.command, rules);
    read_pairs(r, r.child("env"), json_path_key(cpath, "env"), c.env, env_max, rules, true);
    if (auto e = r.finish()) {
      top.fail(e->path, e->message);
      return;
    }
    if (!out.base_url.empty() && (!c.command.empty() || !c.env.empty())) {
      top.fail(cpath, "a service given by \"base_url\" is not started by squall: its configurations cannot change "
                      "its command or environment; give \"command\" instead");
      return;
    }
    out.configurations.push_back(std::move(c));
  }
}

}  // namespace

std::optional<int> signal_from_name(std::string_view name) noexcept {
  for (const auto& s : signal_names) {
    if (s.name == name) return s.number;
  }
  return std::nullopt;
}

config_result<service_spec> parse_service_spec(const json& value, const std::string& path,
                                               const std::vector<std::string>& providers,
                                               const std::filesystem::path& base_dir) {
  service_spec s;
  json_reader r(value, path);
  r.allow_only({"command", "base_url", "cwd", "env", "ready", "ready_timeout_ms", "stop", "providers_port",
                "connections_max", "request", "success", "configurations"});
  const placeholder_rules start_rules = start_placeholders(providers);
  read_argv(r, r.child("command"), json_path_key(path, "command"), s.command, start_rules);
  r.string("base_url", s.base_url);
  if (!r.failed() && s.command.empty() == s.base_url.empty()) {
    r.fail(path, "expected exactly one of \"command\" (squall starts the service for each configuration, e.g. "
                 "[\"node\", \"server.mjs\"]) or \"base_url\" (a service already running, e.g. "
                 "\"http://127.0.0.1:8080\")");
  }
  std::string cwd;
  r.string("cwd", cwd);
  if (!r.failed() && cwd.find('\0') != std::string::npos) r.fail_key("cwd", "expected a folder without NUL");
  s.cwd = cwd.empty() ? base_dir : base_dir / cwd;
  read_pairs(r, r.child("env"), json_path_key(path, "env"), s.env, env_max, start_rules, true);
  read_ready(r, r.child("ready"), json_path_key(path, "ready"), s);
  r.number("ready_timeout_ms", s.ready_timeout_ms, 1, 600'000);
  read_stop(r, r.child("stop"), json_path_key(path, "stop"), s);
  std::uint32_t port = 0;
  r.count("providers_port", port, 0, 65'535 - 64);
  s.providers_port = static_cast<std::uint16_t>(port);
  r.count("connections_max", s.connections_max, 1, 10'000);
  const json* request = r.required("request", "the request squall sends the service for each user request");
  read_request(r, request, json_path_key(path, "request"), s.request);
  read_success(r, r.child("success"), json_path_key(path, "success"), s.success);
  if (!r.failed() && !s.base_url.empty()) {
    for (const char* key : {"cwd", "env", "ready", "stop"}) {
      if (value.contains(key)) {
        r.fail_key(key, "only for a service squall starts (\"command\"); a service given by \"base_url\" is "
                        "already running");
        break;
      }
    }
  }
  if (!r.failed() && !s.command.empty() && s.ready_http_path.empty() && s.ready_output.empty()) {
    r.fail(path, "missing key \"ready\": say how squall knows the service is ready, e.g. {\"http\": \"/health\"} "
                 "or {\"output\": \"listening\"}");
  }
  read_configurations(r, r.child("configurations"), json_path_key(path, "configurations"), s, start_rules);
  if (auto e = r.finish()) return *e;
  return s;
}

}  // namespace squall::sim
