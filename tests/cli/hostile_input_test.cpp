// The hostile-input corpus (issue 13): every kind of input squall reads (scenario, policy file, trace,
// results, tolerances, log, flags), broken in every way a person or a fuzzer would break it. Each case runs
// the real binary and asserts the documented exit code (2), a message naming the file, the JSON path and
// what was expected, and that nothing was written. Cases are built from valid base documents so that one
// mutation is the only thing wrong: a leaf of the wrong type, an unknown key, a repeated key, in every
// object of every document; and then the syntax, encoding, depth and flag cases by hand.

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "tests/support/squall_binary_test.hpp"

namespace squall {
namespace {

using json = nlohmann::ordered_json;
namespace fs = std::filesystem;

struct hostile_case {
  std::string name;
  std::vector<std::pair<std::string, std::string>> files;  // written into the scratch directory
  std::string args;                                         // "{dir}" stands for the scratch directory
  std::vector<std::string> says;                            // the message must hold each of these
  int exit_code = 2;
};

// gtest prints a case by its name rather than by its bytes.
void PrintTo(const hostile_case& c, std::ostream* os) { *os << c.name; }

const json base_scenario = json::parse(R"({
  "name": "hostile",
  "seed": 7,
  "duration_s": 10,
  "providers": {
    "openai": {
      "api": "openai",
      "models": { "m": { "usd_per_mtok_in": 1, "usd_per_mtok_out": 2 } },
      "latency": { "ttft_ms": { "dist": "lognormal", "median": 100, "sigma": 0.3 }, "ms_per_output_token": 1 },
      "capacity": { "slots": 8, "queue": 8 },
      "faults": [ { "at_s": 2, "for_s": 2, "errors": { "503": 0.5 } } ]
    }
  },
  "workload": {
    "arrivals": { "process": "poisson", "rate_per_s": 5 },
    "model": "m",
    "input_tokens": { "dist": "lognormal", "median": 100, "sigma": 0.5, "cap": 1000 }
  },
  "policies": { "file": "p.json", "inline": { "policies": [ { "type": "retry", "attempts_max": 3 } ] } },
  "assert": { "inline": { "success_rate_min": 0.5 } }
})");

const json base_policy = json::parse(R"({
  "name": "p",
  "policies": [
    { "type": "timeout", "timeout_ms": 1000 },
    { "type": "retry", "attempts_max": 3, "backoff": "exponential", "delay_ms_base": 100 },
    { "type": "circuit_breaker", "failure_rate_threshold": 0.5 }
  ]
})");

const json base_results = json::parse(R"({
  "format": "squall-results/1",
  "squall_version": "0.1.0",
  "mode": "sim",
  "seed": 1,
  "reproduce": "squall run s.json --seed 1",
  "scenario": { "name": "s", "digest": "sha256:00", "file": "s.json" },
  "configurations": [
    { "name": "a", "summary": { "success_rate": 0.99, "latency_p99_ms": 100 },
      "series": { "end_s": [1, 2], "completed": [3, 4] } }
  ],
  "assertions": [
    { "configuration": "a", "metric": "success_rate", "kind": "min", "bound": 0.9, "measured": 0.99, "passed": true }
  ],
  "verdict": "pass"
})");

const std::string trace_header = R"({"squall_trace":1,"source":"record","prompts":"hash"})";
const json base_attempt = json::parse(
    R"({"t_ms":12.5,"request_id":"r1","attempt":1,"provider":"openai","api":"openai","endpoint":"/v1/chat/completions",)"
    R"("model":"m","stream":true,"input_tokens":10,"output_tokens":5,"status":200,"outcome":"ok","latency_ms":80,)"
    R"("ttft_ms":20,"headers":{"retry-after":"2"}})");

std::string text_of(const json& j) { return j.dump(2); }

// Every (path, value) of a document's leaves and every (path, object) of its objects, in document order.
void walk(const json& j, const std::string& path, const std::function<void(const std::string&, const json&)>& visit) {
  visit(path, j);
  if (j.is_object()) {
    for (auto it = j.begin(); it != j.end(); ++it) {
      const std::string& k = it.key();
      const bool plain = k.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") ==
                         std::string::npos;
      walk(*it, plain ? path + "." + k : path + "[\"" + k + "\"]", visit);
    }
  } else if (j.is_array()) {
    for (std::size_t i = 0; i < j.size(); ++i) walk(j[i], path + "[" + std::to_string(i) + "]", visit);
  }
}

// The JSON pointer of a "$.a.b[0]" path, to edit the document there.
json::json_pointer pointer_of(const std::string& path) {
  std::string p;
  for (std::size_t i = 1; i < path.size();) {
    if (path[i] == '.') {
      const std::size_t end = path.find_first_of(".[", i + 1);
      p += "/" + path.substr(i + 1, end == std::string::npos ? std::string::npos : end - i - 1);
      i = end == std::string::npos ? path.size() : end;
    } else {  // [n]
      const std::size_t end = path.find(']', i);
      p += "/" + path.substr(i + 1, end - i - 1);
      i = end + 1;
    }
  }
  return json::json_pointer(p);
}

// The three generated families for one document: a leaf replaced by a value of the wrong kind, an unknown
// key in an object, and a repeated key in an object.
// Results documents are open to keys newer versions add, so they get no unknown-key family.
void mutations(const json& base, const std::string& family, const std::string& file,
               const std::function<hostile_case(std::string name, std::string text, std::vector<std::string> says)>& make,
               std::vector<hostile_case>& out, bool unknown_keys = true) {
  walk(base, "$", [&](const std::string& path, const json& value) {
    if (path == "$") return;
    if (!value.is_structured()) {
      json doc = base;
      doc[pointer_of(path)] = json{{"bogus", json::array({1})}};
      out.push_back(make(family + " wrong type at " + path, text_of(doc), {file, path, "expected"}));
    }
  });
  walk(base, "$", [&](const std::string& path, const json& value) {
    if (!value.is_object() || value.empty()) return;
    if (unknown_keys) {
      json doc = base;
      doc[pointer_of(path)]["bogus_key"] = 1;
      out.push_back(make(family + " unknown key in " + path, text_of(doc), {file, path, "bogus_key", "expected"}));
    }
    // A repeated key: the object's first key again, written after a marker that nlohmann cannot hold twice.
    json marked = base;
    marked[pointer_of(path)]["__repeat__"] = nullptr;
    std::string text = marked.dump();
    const std::string first = value.begin().key();
    const std::string again = "\"" + first + "\":" + value.begin()->dump();
    text.replace(text.find("\"__repeat__\":null"), std::string("\"__repeat__\":null").size(), again);
    const std::string key_path = path + "." + first;
    out.push_back(make(family + " repeated key " + key_path, text, {file, key_path, "twice", "expected"}));
  });
}

std::string deep(std::size_t levels, const std::string& open, const std::string& inner, const std::string& close) {
  std::string s;
  s.reserve(levels * (open.size() + close.size()) + inner.size());
  for (std::size_t i = 0; i < levels; ++i) s += open;
  s += inner;
  for (std::size_t i = 0; i < levels; ++i) s += close;
  return s;
}

std::string e_acute(int n) {
  std::string s;
  for (int i = 0; i < n; ++i) s += "\xC3\xA9";
  return s;
}

// A document given as text with one value replaced: `key` at `path` set to raw JSON text.
std::string with_raw(const json& base, const std::string& path, const std::string& raw) {
  json marked = base;
  marked[pointer_of(path)] = "__raw__";
  std::string text = marked.dump();
  text.replace(text.find("\"__raw__\""), std::string("\"__raw__\"").size(), raw);
  return text;
}

std::vector<hostile_case> all_cases() {
  std::vector<hostile_case> cases;
  const std::string policy_text = text_of(base_policy);
  const std::string run = "run {dir}/s.json --out {dir}/out";

  // Scenarios.
  auto scenario = [&](std::string name, std::string text, std::vector<std::string> says) {
    return hostile_case{std::move(name), {{"s.json", std::move(text)}, {"p.json", policy_text}}, run, std::move(says)};
  };
  mutations(base_scenario, "scenario", "s.json", scenario, cases);
  const std::vector<std::pair<std::string, std::string>> scenario_syntax = {
      {"empty file", ""},
      {"only whitespace", "  \n\t "},
      {"unclosed object", "{\"name\": \"x\""},
      {"trailing comma", "{\"name\": \"x\",}"},
      {"NaN", "{\"seed\": NaN}"},
      {"single quotes", "{'name': 'x'}"},
      {"comment", "{/* no */ \"name\": \"x\"}"},
      {"two documents", "{} {}"},
      {"binary garbage", std::string("\x00\x01\xFF\xFE garbage", 12)},
      {"invalid UTF-8 in a string", "{\"name\": \"caf\xE9\"}"},
      {"invalid UTF-8 outside strings", "{\"name\": \xC3\x28}"},
      {"overlong UTF-8", "{\"name\": \"\xC0\xAF\"}"},
      {"UTF-16 surrogate in UTF-8", "{\"name\": \"\xED\xA0\x80\"}"},
      {"100000 nested arrays", deep(100000, "[", "", "]")},
      {"100000 nested objects", deep(100000, "{\"a\":", "1", "}")},
      {"100000 unclosed arrays", std::string(100000, '[')},
      {"number too large", "{\"seed\": 1e400}"},
      {"a top-level array", "[1, 2]"},
      {"a top-level string", "\"scenario\""},
      {"a top-level null", "null"},
  };
  for (const auto& [name, text] : scenario_syntax) cases.push_back(scenario("scenario " + name, text, {"s.json", "expected"}));
  cases.push_back(scenario("scenario description nested 100000 deep", with_raw(base_scenario, "$.description", deep(100000, "[", "", "]")),
                           {"s.json", "$.description", "expected"}));
  cases.push_back(scenario("scenario inline policy nested 100000 deep",
                           with_raw(base_scenario, "$.policies.inline.policies", deep(100000, "[", "", "]")),
                           {"s.json", "$.policies.inline.policies", "expected"}));
  cases.push_back(scenario("scenario api of thirty e-acute", with_raw(base_scenario, "$.providers.openai.api", "\"" + e_acute(30) + "\""),
                           {"s.json", "$.providers.openai.api", "expected"}));
  cases.push_back(scenario("scenario key of thirty e-acute", with_raw(base_scenario, "$.workload.arrivals.process", "\"" + e_acute(30) + "\""),
                           {"s.json", "$.workload.arrivals.process", "expected"}));
  cases.push_back(scenario("scenario seed -1", with_raw(base_scenario, "$.seed", "-1"), {"s.json", "$.seed", "expected"}));
  cases.push_back(scenario("scenario seed 1.5", with_raw(base_scenario, "$.seed", "1.5"), {"s.json", "$.seed", "expected"}));
  cases.push_back(scenario("scenario seed 2^64", with_raw(base_scenario, "$.seed", "18446744073709551616"), {"s.json", "$.seed", "expected"}));
  cases.push_back(scenario("scenario duration negative", with_raw(base_scenario, "$.duration_s", "-5"), {"s.json", "$.duration_s", "expected"}));
  cases.push_back(scenario("scenario duration zero", with_raw(base_scenario, "$.duration_s", "0"), {"s.json", "$.duration_s", "expected"}));
  cases.push_back(scenario("scenario slots zero", with_raw(base_scenario, "$.providers.openai.capacity.slots", "0"),
                           {"s.json", "$.providers.openai.capacity.slots", "expected"}));
  cases.push_back(scenario("scenario error mix over one", with_raw(base_scenario, "$.providers.openai.faults[0].errors", "{\"503\": 0.7, \"500\": 0.6}"),
                           {"s.json", "$.providers.openai.faults[0].errors", "expected"}));
  cases.push_back(scenario("scenario unknown status", with_raw(base_scenario, "$.providers.openai.faults[0].errors", "{\"999\": 0.1}"),
                           {"s.json", "$.providers.openai.faults[0].errors", "expected"}));
  cases.push_back(scenario("scenario missing policy file", with_raw(base_scenario, "$.policies.file", "\"nope.json\""),
                           {"nope.json"}));
  cases.push_back(scenario("scenario policy path with NUL", with_raw(base_scenario, "$.policies.file", "\"p.json\\u0000evil\""),
                           {"s.json", "$.policies.file", "expected"}));
  cases.push_back(scenario("scenario unknown model in workload", with_raw(base_scenario, "$.workload.model", "\"gpt-nope\""),
                           {"s.json", "$.workload.model", "expected"}));
  cases.push_back(scenario("scenario assertion for an unknown configuration",
                           with_raw(base_scenario, "$.assert", "{\"ghost\": {\"success_rate_min\": 0.5}}"),
                           {"s.json", "$.assert.ghost", "expected"}));
  cases.push_back(scenario("scenario no policies", with_raw(base_scenario, "$.policies", "{}"), {"s.json", "$.policies", "expected"}));
  cases.push_back(scenario("scenario no providers", with_raw(base_scenario, "$.providers", "{}"), {"s.json", "$.providers", "expected"}));

  // Policy files, through a scenario that names them.
  auto policy = [&](std::string name, std::string text, std::vector<std::string> says) {
    return hostile_case{std::move(name), {{"s.json", text_of(base_scenario)}, {"p.json", std::move(text)}}, run, std::move(says)};
  };
  mutations(base_policy, "policy", "p.json", policy, cases);
  cases.push_back(policy("policy file nested 100000 deep", deep(100000, "[", "", "]"), {"p.json", "expected"}));
  cases.push_back(policy("policy file not JSON", "policies: [retry]", {"p.json", "line 1", "expected"}));
  cases.push_back(policy("policy unknown type", with_raw(base_policy, "$.policies[0].type", "\"retri\""), {"p.json", "$.policies[0].type", "expected"}));
  cases.push_back(policy("policy list not an array", with_raw(base_policy, "$.policies", "{}"), {"p.json", "$.policies", "expected"}));
  {
    json many = base_policy;
    for (int i = 0; i < 40; ++i) many["policies"].push_back(json{{"type", "timeout"}, {"timeout_ms", 1000}});
    cases.push_back(policy("policy list of 43", text_of(many), {"p.json", "$.policies", "expected at most"}));
  }
  cases.push_back(policy("policy attempts zero", with_raw(base_policy, "$.policies[1].attempts_max", "0"),
                         {"p.json", "$.policies[1].attempts_max", "expected"}));
  cases.push_back(policy("policy threshold over one", with_raw(base_policy, "$.policies[2].failure_rate_threshold", "1.5"),
                         {"p.json", "$.policies[2].failure_rate_threshold", "expected"}));

  // Results files, through compare (the base is valid and compared with itself).
  const std::string results_text = text_of(base_results);
  auto results = [&](std::string name, std::string text, std::vector<std::string> says) {
    return hostile_case{std::move(name), {{"base.json", results_text}, {"cand.json", std::move(text)}},
                        "compare {dir}/base.json {dir}/cand.json --out {dir}/out", std::move(says)};
  };
  mutations(base_results, "results", "cand.json", results, cases, /*unknown_keys=*/false);
  cases.push_back(results("results squall_version a number", with_raw(base_results, "$.squall_version", "5"),
                          {"cand.json", "$.squall_version", "expected"}));
  cases.push_back(results("results mode an array", with_raw(base_results, "$.mode", "[]"), {"cand.json", "$.mode", "expected"}));
  cases.push_back(results("results scenario file an object", with_raw(base_results, "$.scenario.file", "{}"),
                          {"cand.json", "$.scenario.file", "expected"}));
  cases.push_back(results("results series of strings", with_raw(base_results, "$.configurations[0].series.completed", "[\"3\", \"4\"]"),
                          {"cand.json", "$.configurations[0].series.completed[0]", "expected"}));
  cases.push_back(results("results nested 100000 deep", deep(100000, "{\"a\":", "1", "}"), {"cand.json", "expected"}));
  cases.push_back(results("results not JSON", "<html>", {"cand.json", "line 1", "expected"}));
  cases.push_back(results("results empty configurations", with_raw(base_results, "$.configurations", "[]"),
                          {"cand.json", "$.configurations", "expected"}));

  // Tolerances.
  auto tolerances = [&](std::string name, std::string text, std::vector<std::string> says) {
    return hostile_case{std::move(name), {{"base.json", results_text}, {"tol.json", std::move(text)}},
                        "compare {dir}/base.json {dir}/base.json --tolerances {dir}/tol.json --out {dir}/out", std::move(says)};
  };
  cases.push_back(tolerances("tolerances negative", R"({"latency_p99_growth_pct_max": -1})",
                             {"tol.json", "$.latency_p99_growth_pct_max", "expected"}));
  cases.push_back(tolerances("tolerances string", R"({"cost_growth_pct_max": "10"})", {"tol.json", "$.cost_growth_pct_max", "expected"}));
  cases.push_back(tolerances("tolerances unknown key", R"({"latency_p99_growth_max": 10})", {"tol.json", "latency_p99_growth_max", "expected"}));
  cases.push_back(tolerances("tolerances repeated key", R"({"cost_usd_slack": 1, "cost_usd_slack": 2})",
                             {"tol.json", "$.cost_usd_slack", "twice"}));
  cases.push_back(tolerances("tolerances nested deep", deep(1000, "[", "", "]"), {"tol.json", "expected"}));
  cases.push_back(tolerances("tolerances not an object", "[]", {"tol.json", "expected"}));

  // Traces, through replay and trace2scenario.
  auto trace_case = [&](std::string name, std::string text, std::vector<std::string> says) {
    return hostile_case{std::move(name), {{"t.jsonl", std::move(text)}}, "replay {dir}/t.jsonl --out {dir}/out", std::move(says)};
  };
  walk(base_attempt, "$", [&](const std::string& path, const json& value) {
    if (path == "$" || value.is_structured()) return;
    json a = base_attempt;
    a[pointer_of(path)] = json{{"bogus", json::array({1})}};
    cases.push_back(trace_case("trace wrong type at " + path, trace_header + "\n" + a.dump() + "\n", {"t.jsonl", "line 2", path, "expected"}));
  });
  cases.push_back(trace_case("trace empty", "", {"t.jsonl", "expected"}));
  cases.push_back(trace_case("trace without header", base_attempt.dump() + "\n", {"t.jsonl", "line 1", "expected"}));
  cases.push_back(trace_case("trace version 99", R"({"squall_trace":99,"source":"record"})" "\n", {"t.jsonl", "line 1", "expected"}));
  cases.push_back(trace_case("trace line not JSON", trace_header + "\nnot json\n", {"t.jsonl", "line 2", "expected"}));
  cases.push_back(trace_case("trace line nested deep", trace_header + "\n" + deep(100000, "[", "", "]") + "\n", {"t.jsonl", "line 2", "expected"}));
  cases.push_back(trace_case("trace repeated key", trace_header + "\n{\"t_ms\":1,\"t_ms\":2,\"status\":200}\n", {"t.jsonl", "line 2", "$.t_ms", "twice"}));
  cases.push_back(trace_case("trace invalid UTF-8", trace_header + "\n{\"t_ms\":1,\"model\":\"\xFF\",\"status\":200}\n", {"t.jsonl", "line 2", "expected"}));
  cases.push_back(trace_case("trace negative time", trace_header + "\n{\"t_ms\":-1,\"status\":200}\n", {"t.jsonl", "line 2", "$.t_ms", "expected"}));
  cases.push_back(trace_case("trace status 1000", trace_header + "\n{\"t_ms\":1,\"status\":1000}\n", {"t.jsonl", "line 2", "$.status", "expected"}));
  cases.push_back(trace_case("trace truncated last line", trace_header + "\n{\"t_ms\":1,\"sta", {"t.jsonl", "line 2", "truncated"}));
  cases.push_back(hostile_case{"trace2scenario line not JSON", {{"t.jsonl", trace_header + "\n{]\n"}},
                               "trace2scenario {dir}/t.jsonl --out {dir}/out.json", {"t.jsonl", "line 2", "expected"}});
  cases.push_back(hostile_case{"trace2scenario missing file", {}, "trace2scenario {dir}/none.jsonl --out {dir}/out.json", {"none.jsonl"}});

  // Logs, through import.
  cases.push_back(hostile_case{"import unknown format", {{"log.csv", "ts,status\n1,200\n"}},
                               "import {dir}/log.csv --format xml --map timestamp=ts,status=status --out {dir}/out", {"--format"}});
  cases.push_back(hostile_case{"import map without timestamp", {{"log.csv", "ts,status\n1,200\n"}},
                               "import {dir}/log.csv --format csv --map status=status --out {dir}/out", {"--map", "timestamp"}});
  cases.push_back(hostile_case{"import map to a missing column", {{"log.csv", "ts,status\n1,200\n"}},
                               "import {dir}/log.csv --format csv --map timestamp=when,status=status --out {dir}/out", {"when"}});
  cases.push_back(hostile_case{"import missing log", {}, "import {dir}/none.csv --format csv --map timestamp=ts,status=status --out {dir}/out",
                               {"none.csv"}});

  // Flags.
  const std::string valid = "{dir}/s.json --out {dir}/out";
  auto flag = [&](std::string name, std::string args, std::vector<std::string> says) {
    return hostile_case{std::move(name), {{"s.json", text_of(base_scenario)}, {"p.json", policy_text}}, std::move(args), std::move(says)};
  };
  cases.push_back(flag("flag --seed -1", "run " + valid + " --seed -1", {"--seed"}));
  cases.push_back(flag("flag --seed text", "run " + valid + " --seed abc", {"--seed"}));
  cases.push_back(flag("flag --seed 2^64", "run " + valid + " --seed 18446744073709551616", {"--seed"}));
  cases.push_back(flag("flag --seeds 0", "run " + valid + " --seeds 0", {"--seeds"}));
  cases.push_back(flag("flag --seeds 1001", "run " + valid + " --seeds 1001", {"--seeds"}));
  cases.push_back(flag("flag --seeds -2", "run " + valid + " --seeds -2", {"--seeds"}));
  cases.push_back(flag("flag --mode unknown", "run " + valid + " --mode turbo", {"--mode"}));
  cases.push_back(flag("flag --live-connections 0", "run " + valid + " --mode live --live-connections 0", {"--live-connections"}));
  cases.push_back(flag("flag --live-max-s 0", "run " + valid + " --mode live --live-max-s 0", {"--live-max-s"}));
  cases.push_back(flag("flag --target without =", "run " + valid + " --mode live --target openai", {"openai"}));
  cases.push_back(flag("flag --target remote", "run " + valid + " --mode live --target openai=http://192.0.2.1:80/v1", {"loopback"}));
  cases.push_back(flag("flag --trace with --seeds", "run " + valid + " --trace {dir}/t.jsonl --seeds 2", {"--trace"}));
  cases.push_back(flag("flag unknown", "run " + valid + " --sed 1", {"--sed"}));
  cases.push_back(flag("flag missing scenario", "run --out {dir}/out", {"scenario"}));
  cases.push_back(flag("flag unknown command", "runn " + valid, {"runn"}));
  cases.push_back(flag("flag serve port 70000", "serve {dir}/s.json --port 70000 --for-s 1", {"--port"}));
  cases.push_back(flag("flag serve remote host", "serve {dir}/s.json --host 192.0.2.1 --for-s 1", {"--allow-remote"}));
  cases.push_back(flag("flag record remote upstream", "record --upstream http://192.0.2.1:80/v1 --out {dir}/out.jsonl --for-s 1",
                       {"--allow-remote"}));
  cases.push_back(flag("flag record upstream by name", "record --upstream http://example.invalid/v1 --out {dir}/out.jsonl --for-s 1",
                       {"--allow-remote"}));
  cases.push_back(flag("flag record upstream not a URL", "record --upstream nonsense --out {dir}/out.jsonl --for-s 1", {"--upstream"}));
  cases.push_back(flag("flag replay window 0", "replay {dir}/s.json --window-s 0 --out {dir}/out", {"--window-s"}));
  cases.push_back(flag("flag validate missing file", "validate {dir}/none.json", {"none.json"}));
  cases.push_back(flag("flag validate broken scenario", "validate {dir}/p.json", {"p.json", "expected"}));
  cases.push_back(flag("flag compare missing file", "compare {dir}/none.json {dir}/none.json --out {dir}/out", {"none.json"}));
  cases.push_back(flag("flag compare a directory", "compare {dir} {dir} --out {dir}/out", {"directory"}));
  return cases;
}

class HostileInput : public squall::testing::squall_binary_test, public ::testing::WithParamInterface<hostile_case> {};

TEST_P(HostileInput, ExitsTwoNamingWhereAndWhatAndWritesNothing) {
  const hostile_case& c = GetParam();
  std::vector<std::string> inputs;
  for (const auto& [name, text] : c.files) {
    std::ofstream(dir_ / name, std::ios::binary) << text;
    inputs.push_back(name);
  }
  std::string args = c.args;
  for (std::size_t at; (at = args.find("{dir}")) != std::string::npos;) args.replace(at, 5, dir_.string());
  const int code = run(args);
  const std::string out = output();
  EXPECT_EQ(code, c.exit_code) << c.name << "\n" << out;
  for (const std::string& s : c.says) EXPECT_NE(out.find(s), std::string::npos) << "no \"" << s << "\" in:\n" << out;
  EXPECT_EQ(out.find("terminate called"), std::string::npos) << out;
  EXPECT_EQ(out.find("Sanitizer"), std::string::npos) << out;
  // Nothing written: the scratch directory holds the inputs and the captured output, nothing else.
  for (const auto& entry : fs::directory_iterator(dir_)) {
    const std::string name = entry.path().filename().string();
    if (name == "out.txt") continue;
    EXPECT_NE(std::find(inputs.begin(), inputs.end(), name), inputs.end()) << "wrote " << name;
  }
}

std::string case_name(const ::testing::TestParamInfo<hostile_case>& info) {
  std::string name;
  for (char ch : info.param.name) name += std::isalnum(static_cast<unsigned char>(ch)) ? ch : '_';
  return std::to_string(info.index) + "_" + name.substr(0, 80);
}

INSTANTIATE_TEST_SUITE_P(Corpus, HostileInput, ::testing::ValuesIn(all_cases()), case_name);

TEST(HostileCorpus, HasAtLeast150CasesAcrossEveryInputKind) {
  const auto cases = all_cases();
  EXPECT_GE(cases.size(), 150u);
  for (const char* kind : {"scenario ", "policy ", "results ", "tolerances ", "trace ", "import ", "flag "}) {
    EXPECT_TRUE(std::any_of(cases.begin(), cases.end(), [&](const hostile_case& c) { return c.name.rfind(kind, 0) == 0; }))
        << kind;
  }
}

}  // namespace
}  // namespace squall

namespace squall {
namespace {

// What the fuzzers found (tests/fuzz/crashes/), through the binary: each input once crashed or broke a
// promise; now it runs to its documented end.
class FuzzerFindings : public squall::testing::squall_binary_test {};

TEST_F(FuzzerFindings, AResultsFileMissingASummaryMetricComparesAndRendersInsteadOfAborting) {
  // check_results accepted a summary without "latency_p90_ms"; the terminal table's .at() then aborted.
  const std::string file = "tests/fuzz/crashes/results/summary-table-missing-key";
  const int code = run("compare " + file + " " + file + " --out " + (dir_ / "out").string());
  // The file carries two assertions that fail (the fuzzer changed their bounds): exit 1, no regression.
  EXPECT_EQ(code, 1) << output();
  EXPECT_NE(output().find("no regression"), std::string::npos) << output();
  EXPECT_EQ(output().find("terminate called"), std::string::npos) << output();
  for (const char* name : {"report.html", "results.json", "summary.md", "junit.xml", "timeseries.csv"}) {
    EXPECT_TRUE(fs::exists(dir_ / "out" / name)) << name;
  }
}

TEST_F(FuzzerFindings, RateLimitHeadersBeyondAScenariosRangeGiveAScenarioThatLoads) {
  // A limit header of 1.8e53 became "rpm": 1.8e53, which the scenario reader refuses, so trace2scenario
  // wrote a scenario that `squall run` could not load.
  for (const char* kind : {"rpm", "tpm"}) {
    const std::string trace = std::string("tests/fuzz/crashes/trace/rate-limit-header-beyond-scenario-range-") + kind;
    const fs::path scenario = dir_ / (std::string(kind) + ".json");
    ASSERT_EQ(run("trace2scenario " + trace + " --out " + scenario.string()), 0) << output();
    EXPECT_EQ(run("validate " + scenario.string()), 0) << kind << "\n" << output();
  }
}

}  // namespace
}  // namespace squall
