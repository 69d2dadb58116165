// What a CI job uses: a folder of scenarios in one invocation (one index, one exit code), --summary-json on
// standard output, --set and --env changes, and YAML scenario files. Real process, real files.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include <nlohmann/json.hpp>

#include "tests/support/squall_binary_test.hpp"

namespace {

namespace fs = std::filesystem;
using squall::testing::source_dir;

class CiRun : public squall::testing::squall_binary_test {
 protected:
  void SetUp() override {
    squall_binary_test::SetUp();
    fs::create_directories(dir_ / "suite");
  }
  split_run run(const std::string& args, const std::string& env = "") { return run_split(args, env); }

  // quickstart at a tenth of its rate, its policy files named from `dir_`, with the retry's success bound
  // given: 0.99 holds, 0.9999 fails.
  void write_quickstart(const fs::path& file, const std::string& name, double success_min) {
    auto doc = nlohmann::ordered_json::parse(slurp(source_dir / "scenarios/quickstart.json"));
    doc["name"] = name;
    doc["workload"]["arrivals"]["rate_per_s"] = 10;
    for (auto& [key, value] : doc["policies"].items()) value = (source_dir / "scenarios" / value.get<std::string>()).string();
    doc["assert"]["retry-backoff"]["success_rate_min"] = success_min;
    std::ofstream(file) << doc.dump(2);
  }
};

TEST_F(CiRun, AFolderRunsEveryScenarioWithOneIndexAndTheMostSeriousExitCode) {
  write_quickstart(dir_ / "suite/a-holds.json", "holds", 0.99);
  write_quickstart(dir_ / "suite/b-fails.json", "fails", 0.9999);
  std::ofstream(dir_ / "suite/notes.txt") << "not a scenario";
  fs::create_directories(dir_ / "suite/policies");  // subfolders are not read
  const auto r = run("run " + (dir_ / "suite").string() + " --out " + (dir_ / "out").string() + " --summary-json -");
  EXPECT_EQ(r.exit_code, 1) << r.err;
  // Standard output is the JSON document alone.
  const auto summary = nlohmann::json::parse(r.out);
  EXPECT_EQ(summary["format"], "squall-summary/1");
  EXPECT_EQ(summary["exit_code"], 1);
  EXPECT_EQ(summary["verdict"], "fail");
  ASSERT_EQ(summary["runs"].size(), 2u);
  EXPECT_EQ(summary["runs"][0]["scenario"], "holds");
  EXPECT_EQ(summary["runs"][0]["exit_code"], 0);
  EXPECT_EQ(summary["runs"][1]["verdict"], "fail");
  EXPECT_EQ(summary["runs"][1]["exit_code"], 1);
  EXPECT_NE(summary["runs"][1]["reproduce"].get<std::string>().find("b-fails.json"), std::string::npos);
  // The summary's numbers are the results' numbers.
  const auto results = nlohmann::json::parse(slurp(dir_ / "out/fails/results.json"));
  EXPECT_EQ(summary["runs"][1]["configurations"][1]["summary"], results["configurations"][1]["summary"]);
  // One index of both, linking each report.
  const std::string index = slurp(dir_ / "out/index.html");
  EXPECT_NE(index.find("1 of 2 scenarios passed"), std::string::npos);
  EXPECT_NE(index.find("href=\"holds/report.html\""), std::string::npos);
  EXPECT_NE(index.find("href=\"fails/report.html\""), std::string::npos);
  EXPECT_TRUE(fs::exists(dir_ / "out/holds/report.html"));
  const std::string md = slurp(dir_ / "out/index.md");
  EXPECT_NE(md.find("| fails | fail | 1 of 2 |"), std::string::npos) << md;
}

TEST_F(CiRun, OneBrokenFileInAFolderStopsEveryRunBeforeItStarts) {
  write_quickstart(dir_ / "suite/a.json", "a", 0.99);
  std::ofstream(dir_ / "suite/b.json") << R"({"name": "b", "duration_s": -1})";
  std::ofstream(dir_ / "suite/c.yaml") << "name: c\nduration_s: [\n";
  const auto r = run("run " + (dir_ / "suite").string() + " --out " + (dir_ / "out").string());
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("b.json"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("c.yaml"), std::string::npos) << "every broken file is named at once: " << r.err;
  EXPECT_FALSE(fs::exists(dir_ / "out")) << "nothing ran";
  fs::create_directories(dir_ / "empty");
  const auto empty = run("run " + (dir_ / "empty").string());
  EXPECT_EQ(empty.exit_code, 2);
  EXPECT_NE(empty.err.find("is a folder without scenario files"), std::string::npos) << empty.err;
}

TEST_F(CiRun, SetChangesTheScenarioAndItsPolicyFilesAndTheReproduceLineKeepsIt) {
  const std::string out = (dir_ / "out").string();
  const auto r = run("run scenarios/quickstart.json --out " + out +
                     " --set workload.arrivals.rate_per_s=10 --set policies.retry-backoff.retry.attempts_max=1 "
                     "--summary-json " + (dir_ / "summary.json").string());
  ASSERT_NE(r.exit_code, 2) << r.err;
  const auto results = nlohmann::json::parse(slurp(dir_ / "out/results.json"));
  const auto& retry = results["configurations"][1];
  EXPECT_EQ(retry["name"], "retry-backoff");
  EXPECT_EQ(retry["summary"]["retries"], 0) << "one attempt: no retry";
  EXPECT_LT(retry["summary"]["requests"].get<double>(), 3500) << "10 requests a second for 300 s";
  const std::string reproduce = results["reproduce"];
  EXPECT_NE(reproduce.find("--set workload.arrivals.rate_per_s=10 --set policies.retry-backoff.retry.attempts_max=1"),
            std::string::npos) << reproduce;
  const auto summary = nlohmann::json::parse(slurp(dir_ / "summary.json"));
  EXPECT_EQ(summary["runs"][0]["reproduce"], reproduce);
  // The reproduce line gives the same bytes.
  const std::string again = reproduce.substr(std::string("squall ").size()) + " --out " + (dir_ / "again").string();
  ASSERT_EQ(run(again).exit_code, r.exit_code);
  EXPECT_EQ(slurp(dir_ / "again/results.json"), slurp(dir_ / "out/results.json"));

  const auto typo = run("run scenarios/quickstart.json --set policies.retry-backoff.retry.attemps_max=1");
  EXPECT_EQ(typo.exit_code, 2);
  EXPECT_NE(typo.err.find("did you mean \"attempts_max\""), std::string::npos) << typo.err;
  const auto malformed = run("run scenarios/quickstart.json --set workload.arrivals.rate_per_s");
  EXPECT_EQ(malformed.exit_code, 2);
  EXPECT_NE(malformed.err.find("expected PATH=VALUE"), std::string::npos) << malformed.err;
}

TEST_F(CiRun, EnvironmentVariablesFillTheScenarioFromTheEnvironmentOrEnvFlags) {
  write_quickstart(dir_ / "s.json", "env", 0.99);
  auto doc = nlohmann::ordered_json::parse(slurp(dir_ / "s.json"));
  doc["workload"]["arrivals"]["rate_per_s"] = "${RATE}";
  doc["description"] = "at ${RATE} requests a second, seed ${SEEDLESS:-none}";
  std::ofstream(dir_ / "s.json") << doc.dump(2);
  const auto unset = run("run " + (dir_ / "s.json").string(), "env -u RATE");
  EXPECT_EQ(unset.exit_code, 2);
  EXPECT_NE(unset.err.find("$.description: the environment variable RATE is not set"), std::string::npos)
      << unset.err;
  const auto from_env = run("run " + (dir_ / "s.json").string() + " --out " + (dir_ / "a").string(), "RATE=5");
  ASSERT_NE(from_env.exit_code, 2) << from_env.err;
  const auto flag = run("run " + (dir_ / "s.json").string() + " --env RATE=5 --out " + (dir_ / "b").string(), "RATE=500");
  ASSERT_NE(flag.exit_code, 2) << flag.err;
  const auto a = nlohmann::json::parse(slurp(dir_ / "a/results.json"));
  const auto b = nlohmann::json::parse(slurp(dir_ / "b/results.json"));
  EXPECT_EQ(a["configurations"], b["configurations"]) << "--env comes before the environment";
  EXPECT_EQ(a["scenario"]["description"], "at 5 requests a second, seed none");
  EXPECT_NE(a["reproduce"].get<std::string>().find("--env RATE=5"), std::string::npos) << a["reproduce"];
  const auto bad = run("run " + (dir_ / "s.json").string() + " --env rate=5");
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("expected NAME=VALUE"), std::string::npos) << bad.err;
}

TEST_F(CiRun, AYamlScenarioRunsAsItsJsonDoes) {
  write_quickstart(dir_ / "s.json", "yaml-or-json", 0.99);
  const auto doc = nlohmann::ordered_json::parse(slurp(dir_ / "s.json"));
  // The same scenario in YAML, written by hand-rolled block style: flow mappings are YAML too.
  std::ofstream(dir_ / "s.yaml") << "# the same scenario\n" << doc.dump(2) << "\n";
  ASSERT_EQ(run("run " + (dir_ / "s.json").string() + " --out " + (dir_ / "j").string()).exit_code, 0);
  const auto y = run("run " + (dir_ / "s.yaml").string() + " --out " + (dir_ / "y").string());
  ASSERT_EQ(y.exit_code, 0) << y.err;
  auto j_results = nlohmann::json::parse(slurp(dir_ / "j/results.json"));
  auto y_results = nlohmann::json::parse(slurp(dir_ / "y/results.json"));
  EXPECT_EQ(j_results["scenario"]["digest"], y_results["scenario"]["digest"]);
  EXPECT_EQ(j_results["configurations"], y_results["configurations"]);
  std::ofstream(dir_ / "twice.yaml") << "name: a\nname: b\n";
  const auto twice = run("validate " + (dir_ / "twice.yaml").string());
  EXPECT_EQ(twice.exit_code, 2);
  EXPECT_NE(twice.err.find("\"name\" is written twice"), std::string::npos) << twice.err;
}

TEST_F(CiRun, AFolderShardedAndMergedIsTheUnshardedRun) {
  write_quickstart(dir_ / "suite/a.json", "first", 0.99);
  write_quickstart(dir_ / "suite/b.json", "second", 0.9999);  // fails: the merged exit code is 1 as the whole run's
  write_quickstart(dir_ / "suite/c.json", "third", 0.99);
  const std::string suite = (dir_ / "suite").string();
  const auto whole = run("run " + suite + " -q --out " + (dir_ / "whole").string());
  EXPECT_EQ(whole.exit_code, 1) << whole.err;
  // Two jobs, each writing into its own folder (as CI artifacts), gathered into one before the merge.
  for (int i : {0, 1}) {
    const auto part = run("run " + suite + " -q --shard " + std::to_string(i) + "/2 --out " + (dir_ / ("job" + std::to_string(i))).string());
    EXPECT_EQ(part.exit_code, i == 1 ? 1 : 0) << part.err;  // shard 1 holds b (position 1)
    fs::copy(dir_ / ("job" + std::to_string(i)), dir_ / "gathered", fs::copy_options::recursive | fs::copy_options::overwrite_existing);
  }
  EXPECT_FALSE(fs::exists(dir_ / "job0/second"));
  EXPECT_TRUE(fs::exists(dir_ / "job0/third/results.json"));
  const auto merged = run("merge " + (dir_ / "gathered").string() + " -q");
  EXPECT_EQ(merged.exit_code, 1) << merged.err;
  for (const char* f : {"index.html", "index.md", "first/results.json", "second/report.html", "third/summary.md"}) {
    EXPECT_TRUE(slurp(dir_ / "whole" / f) == slurp(dir_ / "gathered" / f)) << f;
  }
  // A shard short, or a file that is no shard.
  fs::remove(dir_ / "gathered/run-shard-1-of-2.json");
  const auto short_one = run("merge " + (dir_ / "gathered").string() + " --out " + (dir_ / "m").string());
  EXPECT_EQ(short_one.exit_code, 2);
  EXPECT_NE(short_one.err.find("run shards missing: 1 of 0 to 1"), std::string::npos) << short_one.err;
  const auto one = run("run " + suite + "/a.json --shard 0/2");
  EXPECT_EQ(one.exit_code, 2);
  EXPECT_NE(one.err.find("--shard splits the scenarios of a folder"), std::string::npos) << one.err;
}

}  // namespace
