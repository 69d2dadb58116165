// Issue 13: an interrupted simulation. Before, a simulation ignored SIGINT/SIGTERM handlers (the signal
// killed it, writing nothing) and had no wall-clock limit. Now the simulation loop looks at a stop flag:
// the run writes what it finished, marks all five outputs incomplete, gives the configuration that never
// ran (with its failing assertion) the verdict "not run", and exits 4.
#include <gtest/gtest.h>
#include <signal.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "tests/support/child_process.hpp"
#include "tests/support/incomplete_outputs.hpp"
#include "tests/support/squall_binary_test.hpp"

namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;
using squall::testing::source_dir;

class CliInterrupted : public squall::testing::squall_binary_test {
 protected:
  // A simulation far too long to finish in a test (4e9 requests, past the default limits, hence
  // --allow-large-run): configuration "a", then "b" with an assertion that would fail.
  fs::path long_scenario() {
    const std::string policies = (source_dir / "scenarios/policies").string();
    const fs::path file = dir_ / "long.json";
    std::ofstream(file) << R"({
  "name": "long", "seed": 5, "duration_s": 100000,
  "providers": { "openai": { "api": "openai",
    "models": { "gpt-4o-mini": { "usd_per_mtok_in": 0.15, "usd_per_mtok_out": 0.6 } },
    "latency": { "ttft_ms": { "dist": "lognormal", "median": 100, "sigma": 0.3 }, "ms_per_output_token": 1 } } },
  "workload": { "arrivals": { "process": "poisson", "rate_per_s": 20000 }, "model": "gpt-4o-mini" },
  "policies": { "a": ")" + policies + R"(/no-retry.json", "b": ")" + policies + R"(/retry-backoff.json" },
  "assert": { "a": { "success_rate_min": 0.5 }, "b": { "attempts_per_request_max": 0.5 } }
})";
    return file;
  }
};

TEST_F(CliInterrupted, ASigtermStopsASimulationWhichWritesWhatItFinishedMarkedIncomplete) {
  const fs::path out = dir_ / "out";
  // squall with its stdout and stderr on one pipe, started in the source tree.
  squall::testing::child_process p(
      SQUALL_BINARY, {"squall", "run", long_scenario().string(), "--allow-large-run", "--out", out.string()},
      source_dir);
  // The header is printed once SIGINT and SIGTERM are the run's to handle: signalling after it is no race.
  ASSERT_TRUE(p.wait_for("| scenario long")) << p.output();
  p.signal(SIGTERM);
  EXPECT_EQ(p.wait(), 4) << p.output();
  EXPECT_NE(p.output().find("squall: the run is incomplete (a: interrupted by SIGTERM"), std::string::npos)
      << p.output();
  EXPECT_NE(p.output().find("not run: b"), std::string::npos) << p.output();
  EXPECT_NE(p.output().find("not run  b: attempts_per_request <= 0.5"), std::string::npos) << p.output();

  squall::testing::expect_every_output_incomplete(out, "b");
  const json doc = json::parse(squall::testing::read_whole(out / "results.json"));
  ASSERT_EQ(doc["configurations"].size(), 1U);  // "a", cut short; "b" never started
  const json& a = doc["configurations"][0];
  EXPECT_EQ(a["incomplete"], true);
  EXPECT_LT(a["simulated_s"].get<double>(), 100000);  // how far it got depends on when the signal came
  EXPECT_EQ(doc["assertions"][0]["verdict"], "incomplete");  // measured on the part that ran: no pass
  EXPECT_EQ(doc["assertions"][0]["passed"], false);
}

TEST_F(CliInterrupted, TheWallClockLimitStopsASimulationTheSameWay) {
  const fs::path out = dir_ / "out";
  EXPECT_EQ(run("run '" + long_scenario().string() + "' --allow-large-run --max-wall-s 1 -q --out '" + out.string() + "'"), 4)
      << output();
  EXPECT_NE(output().find("stopped at the wall-clock limit of 1 s (--max-wall-s)"), std::string::npos) << output();
  squall::testing::expect_every_output_incomplete(out, "b");
}

// The results of an interrupted run are refused by compare, by name: partial figures against whole ones
// would mislead.
TEST_F(CliInterrupted, AnIncompleteRunCannotBeCompared) {
  const fs::path out = dir_ / "out";
  ASSERT_EQ(run("run '" + long_scenario().string() + "' --allow-large-run --max-wall-s 0.5 -q --out '" + out.string() + "'"), 4)
      << output();
  EXPECT_EQ(run("compare '" + (out / "results.json").string() + "' '" + (out / "results.json").string() + "' --out '" +
                (dir_ / "cmp").string() + "'"),
            2);
  EXPECT_NE(output().find("$.incomplete: expected the results of a complete run"), std::string::npos) << output();
  EXPECT_FALSE(fs::exists(dir_ / "cmp"));
}

// With --seeds, a stopped run reports the means of the seeds that finished, says how many, and is still
// incomplete (exit 4): every configuration ran on those seeds, so none is "not run".
TEST_F(CliInterrupted, AStoppedMultiSeedRunReportsTheSeedsThatFinished) {
  const fs::path out = dir_ / "out";
  EXPECT_EQ(run("run scenarios/quickstart.json --seeds 1000 --max-wall-s 4 -q --out '" + out.string() + "'"), 4) << output();
  const json doc = json::parse(squall::testing::read_whole(out / "results.json"));
  EXPECT_EQ(doc["verdict"], "incomplete");
  EXPECT_NE(doc["incomplete_reason"].get<std::string>().find("--max-wall-s"), std::string::npos) << doc["incomplete_reason"];
  if (doc.contains("aggregate")) {  // at least one seed finished within the limit (else: the stopped seed alone)
    EXPECT_NE(doc["incomplete_reason"].get<std::string>().find(" of 1000 seeds finished"), std::string::npos);
    EXPECT_EQ(doc["not_run"], json::array());
  }
  const std::string csv = squall::testing::read_whole(out / "timeseries.csv");
  EXPECT_TRUE(csv.substr(0, csv.find("\r\n")).ends_with(",run_incomplete"));
  EXPECT_NE(squall::testing::read_whole(out / "summary.md").find("INCOMPLETE"), std::string::npos);
}

}  // namespace
