// Every kind of fault the timeline scripts, run both in the simulation and live against the fake providers
// on loopback: the two modes must agree (issue 16). One short scenario per kind under tests/cli/live/faults/,
// each with assertions that pass in both modes (so that the fault did something: the comparison is not
// vacuous), compared here within the tolerances of Live.SimulationAndLiveAgreeOnSuccessAttemptsAndBreakerWindows
// (success within 2 points, attempts per request within 5 percent), and by what the traces say the providers
// answered.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "tests/support/squall_binary_test.hpp"

namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

// The attempts of a trace, without its header line.
std::vector<json> attempts_of(const fs::path& file) {
  std::ifstream in(file);
  std::vector<json> lines;
  std::string line;
  std::getline(in, line);
  while (std::getline(in, line)) lines.push_back(json::parse(line));
  return lines;
}

// How many attempts ended with each status and outcome class ("503 overloaded", "200 ok", "0 timeout").
std::map<std::string, double> answers_of(const std::vector<json>& attempts) {
  std::map<std::string, double> counts;
  for (const json& a : attempts) {
    counts[std::to_string(a.value("status", 0)) + " " + a.value("outcome", std::string("?"))] += 1;
  }
  return counts;
}

struct fault_kind {
  std::string scenario;  // tests/cli/live/faults/<scenario>.json
  // What else the kind promises, checked on each configuration's live and simulated traces.
  std::function<void(const std::vector<json>& live, const std::vector<json>& sim)> also;
};

std::size_t count_if(const std::vector<json>& attempts, int status, const std::string& outcome) {
  return static_cast<std::size_t>(std::count_if(attempts.begin(), attempts.end(), [&](const json& a) {
    return a.value("status", 0) == status && a.value("outcome", std::string()) == outcome;
  }));
}

// Anthropic's overload in both spellings and its 429s reach the client as such.
void overload_spellings(const std::vector<json>& live, const std::vector<json>&) {
  EXPECT_GT(count_if(live, 529, "overloaded"), 5U);
  EXPECT_GT(count_if(live, 500, "server_error"), 5U);  // a 500 "Overloaded" is a server error to a client
  EXPECT_GT(count_if(live, 429, "rate_limited"), 5U);
}

// "first_n": 30 is a count, not a rate: exactly 30 answers of insufficient_quota in both modes.
void first_n_exactly(const std::vector<json>& live, const std::vector<json>& sim) {
  EXPECT_EQ(count_if(live, 429, "quota"), 30U);
  EXPECT_EQ(count_if(sim, 429, "quota"), 30U);
}

// Scoped windows strike only their model (gpt-4o-mini from 1 s to 2 s, gpt-4o from 1 s to 6 s), and the
// window scoped to the Responses API strikes nothing: the workload calls chat.
void only_in_scope(const std::vector<json>& live, const std::vector<json>&) {
  std::size_t errors = 0;
  for (const json& a : live) {
    if (a.value("status", 0) != 503) continue;
    ++errors;
    const double t_s = a["t_ms"].get<double>() / 1000;
    const double end_s = a["model"] == "gpt-4o-mini" ? 2 : 6;
    EXPECT_GE(t_s, 1 - 0.5) << a.dump();
    EXPECT_LE(t_s, end_s + 0.5) << a.dump();
    EXPECT_EQ(a["endpoint"], "/v1/chat/completions");
  }
  EXPECT_GT(errors, 50U);
}

void nothing_more(const std::vector<json>&, const std::vector<json>&) {}

void PrintTo(const fault_kind& k, std::ostream* os) { *os << k.scenario; }

class LiveFaults : public squall::testing::squall_binary_test, public ::testing::WithParamInterface<fault_kind> {
 protected:
  json results(const std::string& sub) {
    std::ifstream in(dir_ / sub / "results.json");
    return json::parse(in);
  }
  // Runs the scenario in both modes; both must pass its assertions.
  void run_both() {
    const std::string scenario = "tests/cli/live/faults/" + GetParam().scenario + ".json";
    ASSERT_EQ(run("run " + scenario + " -q --out " + (dir_ / "sim").string() + " --trace " + (dir_ / "sim.jsonl").string()), 0)
        << output();
    ASSERT_EQ(run("run " + scenario + " -q --mode live --out " + (dir_ / "live").string() + " --trace " +
                  (dir_ / "live.jsonl").string()),
              0)
        << output();
    sim_ = results("sim");
    live_ = results("live");
  }
  // The trace of a configuration (FILE.<configuration>.jsonl; FILE.jsonl when the scenario has one).
  std::vector<json> trace(const std::string& mode, const json& configuration) {
    const fs::path one = dir_ / (mode + ".jsonl");
    return attempts_of(fs::exists(one) ? one : dir_ / (mode + "." + configuration["name"].get<std::string>() + ".jsonl"));
  }

  json sim_, live_;
};

TEST_P(LiveFaults, SimulationAndLiveAgree) {
  run_both();
  if (HasFatalFailure()) return;
  EXPECT_EQ(live_["mode"], "live");
  ASSERT_EQ(sim_["configurations"].size(), live_["configurations"].size());
  for (std::size_t i = 0; i < sim_["configurations"].size(); ++i) {
    const json& s = sim_["configurations"][i];
    const json& l = live_["configurations"][i];
    SCOPED_TRACE(s["name"].get<std::string>());
    EXPECT_FALSE(l.value("incomplete", false));
    const json& ss = s["summary"];
    const json& ls = l["summary"];
    const double requests = ss["requests"].get<double>();
    EXPECT_EQ(ls["requests"], ss["requests"]);  // the same arrivals were offered
    EXPECT_NEAR(ls["success_rate"].get<double>(), ss["success_rate"].get<double>(), 0.02);
    EXPECT_NEAR(ls["attempts_per_request"].get<double>() / ss["attempts_per_request"].get<double>(), 1.0, 0.05);
    EXPECT_NEAR(ls["bad_content"].get<double>(), ss["bad_content"].get<double>(), 0.02 * requests);
    // What the providers answered, attempt by attempt: each status and class within 2 percent of the
    // attempts (at least 5), so that a 500 "Overloaded" is an overload in both modes, not a server error
    // in one of them.
    const std::vector<json> s_trace = trace("sim", s);
    const std::vector<json> l_trace = trace("live", l);
    EXPECT_EQ(static_cast<double>(l_trace.size()), ls["attempts"].get<double>());
    const auto s_answers = answers_of(s_trace);
    const auto l_answers = answers_of(l_trace);
    const double slack = std::max(5.0, 0.02 * ss["attempts"].get<double>());
    std::map<std::string, std::pair<double, double>> both;
    for (const auto& [k, n] : s_answers) both[k].first = n;
    for (const auto& [k, n] : l_answers) both[k].second = n;
    for (const auto& [k, n] : both) EXPECT_NEAR(n.second, n.first, slack) << k;
    GetParam().also(l_trace, s_trace);
  }
}

INSTANTIATE_TEST_SUITE_P(EveryKind, LiveFaults,
                         ::testing::Values(fault_kind{"overloaded-kinds", overload_spellings},
                                           fault_kind{"attempt-counts", first_n_exactly},
                                           fault_kind{"scoped-windows", only_in_scope},
                                           fault_kind{"content-brownout", nothing_more},
                                           fault_kind{"trickle", nothing_more},
                                           fault_kind{"handshake-outage", nothing_more}),
                         [](const ::testing::TestParamInfo<fault_kind>& param) {
                           std::string name = param.param.scenario;
                           std::replace(name.begin(), name.end(), '-', '_');
                           return name;
                         });

}  // namespace
