// End-to-end tests of the squall command: real process, real files, exit codes as documented.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "tests/support/squall_binary_test.hpp"

namespace {

namespace fs = std::filesystem;
using squall::testing::source_dir;
const std::string squall = SQUALL_BINARY;

struct result {
  int exit_code;
  std::string out;
  std::string err;
};

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

class Cli : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("squall-cli-" + std::to_string(::getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  result run(const std::string& args) {
    const fs::path out = dir_ / "stdout.txt";
    const fs::path err = dir_ / "stderr.txt";
    const std::string command = "cd '" + source_dir.string() + "' && '" + squall + "' " + args + " >'" + out.string() +
                                "' 2>'" + err.string() + "' </dev/null";
    const int status = std::system(command.c_str());
    return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, slurp(out), slurp(err)};
  }

  fs::path dir_;
};

TEST_F(Cli, SameSeedGivesByteIdenticalResultsAndAnotherSeedDoesNot) {
  const auto a = run("run scenarios/quickstart.json --seed 42 --out " + (dir_ / "a").string());
  const auto b = run("run scenarios/quickstart.json --seed 42 --out " + (dir_ / "b").string());
  const auto c = run("run scenarios/quickstart.json --seed 43 --out " + (dir_ / "c").string());
  ASSERT_EQ(a.exit_code, 0) << a.err;
  ASSERT_EQ(b.exit_code, 0) << b.err;
  ASSERT_EQ(c.exit_code, 0) << c.err;
  const std::string ra = slurp(dir_ / "a/results.json");
  ASSERT_FALSE(ra.empty());
  EXPECT_EQ(ra, slurp(dir_ / "b/results.json"));
  EXPECT_NE(ra, slurp(dir_ / "c/results.json"));
  EXPECT_NE(ra.find("\"seed\": 42"), std::string::npos);
  // The summary, the seed and the reproduce command are printed.
  EXPECT_NE(a.out.find("success rate"), std::string::npos);
  EXPECT_NE(a.out.find("seed 42"), std::string::npos);
  EXPECT_NE(a.out.find("reproduce: squall run scenarios/quickstart.json --seed 42"), std::string::npos);
}

TEST_F(Cli, ScenarioSeedIsTheDefault) {
  const auto a = run("run scenarios/quickstart.json --quiet --out " + (dir_ / "a").string());
  ASSERT_EQ(a.exit_code, 0) << a.err;
  EXPECT_TRUE(a.out.empty()) << a.out;
  EXPECT_NE(slurp(dir_ / "a/results.json").find("\"seed\": 42"), std::string::npos);
}

TEST_F(Cli, FailedAssertionExitsOneAndNamesIt) {
  const fs::path scenario = dir_ / "strict.json";
  std::string text = slurp(source_dir / "scenarios/quickstart.json");
  const std::string from = "\"success_rate_min\": 0.99";
  text.replace(text.find(from), from.size(), "\"success_rate_min\": 0.9999");
  std::ofstream(scenario) << text;
  // Relative policy paths resolve against the scenario's folder: copy the policies beside it.
  fs::copy(source_dir / "scenarios/policies", dir_ / "policies");
  const auto r = run("run " + scenario.string() + " --out " + (dir_ / "o").string());
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("FAIL  retry-backoff: success_rate"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("must be >= 0.9999"), std::string::npos) << r.err;
  EXPECT_TRUE(fs::exists(dir_ / "o/results.json"));  // the evidence is still written
  EXPECT_NE(slurp(dir_ / "o/results.json").find("\"verdict\": \"fail\""), std::string::npos);
}

TEST_F(Cli, BadScenariosExitTwoAndWriteNothing) {
  int checked = 0;
  for (const auto& entry : fs::directory_iterator(source_dir / "tests/sim/scenario/broken")) {
    if (entry.path().extension() != ".json") continue;
    SCOPED_TRACE(entry.path().string());
    const fs::path out = dir_ / "out";
    const auto r = run("run " + entry.path().string() + " --out " + out.string());
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_NE(r.err.find("squall: error: "), std::string::npos) << r.err;
    EXPECT_NE(r.err.find(".json"), std::string::npos) << r.err;  // names the file
    EXPECT_FALSE(fs::exists(out));
    ++checked;
  }
  EXPECT_GE(checked, 12);
}

TEST_F(Cli, BadFlagsExitTwo) {
  EXPECT_EQ(run("run scenarios/quickstart.json --seed banana").exit_code, 2);
  EXPECT_EQ(run("run scenarios/quickstart.json --sed 4").exit_code, 2);
  EXPECT_EQ(run("run").exit_code, 2);
  EXPECT_EQ(run("fly").exit_code, 2);
  const result no_pool = run("run scenarios/quickstart.json --mode live --live-connections 0");
  EXPECT_EQ(no_pool.exit_code, 2);
  EXPECT_NE(no_pool.err.find("--live-connections"), std::string::npos) << no_pool.err;
  EXPECT_EQ(run("run does-not-exist.json --out " + (dir_ / "x").string()).exit_code, 2);
  EXPECT_FALSE(fs::exists(dir_ / "x"));
}

// What a person types by mistake gets a message that says what to do: a near command, `squall help`, a
// YAML file where JSON is read, and --out - (a run writes five files, standard output holds none of them).
TEST_F(Cli, MistakesGetMessagesThatSayWhatToDo) {
  const result typo = run("runn scenarios/quickstart.json");
  EXPECT_EQ(typo.exit_code, 2);
  EXPECT_NE(typo.err.find("unknown command \"runn\"; did you mean \"run\"?"), std::string::npos) << typo.err;
  const result far = run("fly");
  EXPECT_EQ(far.exit_code, 2);
  EXPECT_EQ(far.err.find("did you mean"), std::string::npos) << far.err;
  EXPECT_NE(far.err.find("squall help COMMAND"), std::string::npos) << far.err;
  const result help = run("help");
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_NE(help.out.find("Exit codes"), std::string::npos) << help.out;
  const result help_run = run("help run");
  EXPECT_EQ(help_run.exit_code, 0);
  EXPECT_NE(help_run.out.find("--out"), std::string::npos) << help_run.out;
  EXPECT_EQ(run("help runn").exit_code, 2);
  std::ofstream(dir_ / "r.yaml") << "format: squall-results/1\n";
  const result yaml = run("compare " + (dir_ / "r.yaml").string() + " " + (dir_ / "r.yaml").string());
  EXPECT_EQ(yaml.exit_code, 2);
  EXPECT_NE(yaml.err.find("is a YAML file (by its name); squall reads policy, trace and results files as JSON"),
            std::string::npos)
      << yaml.err;
  const result dash = run("run scenarios/quickstart.json --out -");
  EXPECT_EQ(dash.exit_code, 2);
  EXPECT_NE(dash.err.find("standard output"), std::string::npos) << dash.err;
  EXPECT_FALSE(fs::exists(source_dir / "-"));
}

TEST_F(Cli, HelpVersionPoliciesValidate) {
  const auto help = run("--help");
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_NE(help.out.find("Exit codes"), std::string::npos);
  EXPECT_EQ(run("run --help").exit_code, 0);
  EXPECT_NE(run("--version").out.find("squall "), std::string::npos);
  const auto policies = run("policies");
  EXPECT_EQ(policies.exit_code, 0);
  for (const char* type : {"retry", "timeout", "circuit_breaker"}) EXPECT_NE(policies.out.find(type), std::string::npos);
  const auto validate = run("validate scenarios/quickstart.json scenarios/openai-503-storm.json");
  EXPECT_EQ(validate.exit_code, 0) << validate.err;
  EXPECT_EQ(run("validate tests/sim/scenario/broken/wrong-type.json").exit_code, 2);
}

}  // namespace

TEST_F(Cli, RunWritesEveryOutputFromOneDocument) {
  const auto r = run("run scenarios/quickstart.json -q --out " + (dir_ / "o").string());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  for (const char* file : {"results.json", "report.html", "summary.md", "junit.xml", "timeseries.csv"}) {
    EXPECT_TRUE(fs::exists(dir_ / "o" / file)) << file;
    EXPECT_FALSE(fs::exists(dir_ / "o" / (std::string(file) + ".tmp"))) << file;
  }
  // One JUnit test case per assertion of the scenario, and the verdict in the pull-request summary.
  const std::string junit = slurp(dir_ / "o/junit.xml");
  const std::string results = slurp(dir_ / "o/results.json");
  std::size_t assertions = 0;
  for (std::size_t at = results.find("\"kind\":"); at != std::string::npos; at = results.find("\"kind\":", at + 1)) {
    ++assertions;
  }
  std::size_t cases = 0;
  for (std::size_t at = junit.find("<testcase "); at != std::string::npos; at = junit.find("<testcase ", at + 1)) {
    ++cases;
  }
  EXPECT_GT(assertions, 0u);
  EXPECT_EQ(cases, assertions);
  EXPECT_NE(slurp(dir_ / "o/summary.md").find("pass"), std::string::npos);
}

TEST_F(Cli, CompareExitsZeroForTheSameRunOneForARegressionTwoForBadInput) {
  const std::string base = (dir_ / "base").string();
  const std::string worse = (dir_ / "worse").string();
  ASSERT_EQ(run("run scenarios/quickstart.json -q --out " + base).exit_code, 0);
  auto same = run("compare " + base + "/results.json " + base + "/results.json -q --out " + (dir_ / "c1").string());
  EXPECT_EQ(same.exit_code, 0) << same.err;
  EXPECT_TRUE(fs::exists(dir_ / "c1/report.html"));

  // A candidate from another seed differs a little; with zero tolerance that difference is a regression
  // in at least one direction, and the comparison must name it.
  ASSERT_EQ(run("run scenarios/quickstart.json -q --seed 99 --out " + worse).exit_code, 0);
  std::ofstream(dir_ / "strict.json") << R"({"success_rate_drop_pp_max": 0, "cost_growth_pct_max": 0,
      "latency_p50_growth_pct_max": 0, "latency_p99_growth_pct_max": 0, "attempts_growth_pct_max": 0,
      "latency_ms_slack": 0, "cost_usd_slack": 0})";
  auto a = run("compare " + base + "/results.json " + worse + "/results.json --tolerances " +
               (dir_ / "strict.json").string() + " --out " + (dir_ / "c2").string());
  auto b = run("compare " + worse + "/results.json " + base + "/results.json --tolerances " +
               (dir_ / "strict.json").string() + " --out " + (dir_ / "c3").string());
  // With zero tolerance, one of the two directions must regress somewhere (the seeds differ).
  EXPECT_TRUE(a.exit_code == 1 || b.exit_code == 1) << a.out << b.out;
  const std::string& text_failed = a.exit_code == 1 ? a.out : b.out;
  EXPECT_NE(text_failed.find("REGRESSION"), std::string::npos) << text_failed;

  EXPECT_EQ(run("compare " + base + "/results.json " + (dir_ / "missing.json").string()).exit_code, 2);
  std::ofstream(dir_ / "negative.json") << R"({"cost_growth_pct_max": -1})";
  const auto bad = run("compare " + base + "/results.json " + base + "/results.json --tolerances " +
                       (dir_ / "negative.json").string());
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("cost_growth_pct_max"), std::string::npos) << bad.err;
  EXPECT_FALSE(fs::exists(source_dir / "squall-out/compare/results.json.tmp"));
}

TEST_F(Cli, SeedsReportMeansWithIntervals) {
  const auto r = run("run scenarios/quickstart.json -q --seed 7 --seeds 3 --out " + (dir_ / "o").string());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string results = slurp(dir_ / "o/results.json");
  EXPECT_NE(results.find("\"runs\": 3"), std::string::npos);
  EXPECT_NE(results.find("\"ci95_low\""), std::string::npos);
  EXPECT_NE(results.find("--seed 7 --seeds 3"), std::string::npos);
  EXPECT_EQ(run("run scenarios/quickstart.json --seeds 0").exit_code, 2);
}

namespace {

TEST_F(Cli, RunTraceWritesOneTracePerConfigurationDeterministically) {
  const auto a = run("run scenarios/quickstart.json -q --out " + (dir_ / "a").string() + " --trace " + (dir_ / "a.jsonl").string());
  const auto b = run("run scenarios/quickstart.json -q --out " + (dir_ / "b").string() + " --trace " + (dir_ / "b.jsonl").string());
  ASSERT_EQ(a.exit_code, 0) << a.err;
  ASSERT_EQ(b.exit_code, 0) << b.err;
  std::size_t traces = 0;
  for (const auto& entry : fs::directory_iterator(dir_)) {
    const std::string name = entry.path().filename().string();
    if (name.rfind("a.", 0) != 0 || entry.path().extension() != ".jsonl") continue;
    ++traces;
    const std::string text = slurp(entry.path());
    EXPECT_EQ(text.rfind("{\"squall_trace\":1,\"source\":\"sim\",\"prompts\":\"hash\"}\n", 0), 0U) << name;
    EXPECT_EQ(text, slurp(dir_ / ("b." + name.substr(2)))) << name;
    EXPECT_GT(std::count(text.begin(), text.end(), '\n'), 100) << name;
  }
  EXPECT_GE(traces, 2U);
  EXPECT_FALSE(fs::exists(dir_ / "a.jsonl"));  // several configurations: one named file each
}

TEST_F(Cli, RunTraceThatCannotBeWrittenExitsThreeAndWithSeedsTwo) {
  const auto unwritable = run("run scenarios/quickstart.json -q --out " + (dir_ / "x").string() + " --trace " +
                              (dir_ / "no/such/dir/t.jsonl").string());
  EXPECT_EQ(unwritable.exit_code, 3) << unwritable.err;
  EXPECT_NE(unwritable.err.find("cannot write the trace"), std::string::npos) << unwritable.err;
  EXPECT_FALSE(fs::exists(dir_ / "x/results.json"));
  const auto seeds = run("run scenarios/quickstart.json -q --seeds 2 --trace " + (dir_ / "t.jsonl").string());
  EXPECT_EQ(seeds.exit_code, 2);
  EXPECT_NE(seeds.err.find("--trace"), std::string::npos) << seeds.err;
}

}  // namespace
