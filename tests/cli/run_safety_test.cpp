// Issue 13, through the binary: every run is bounded before it starts, outputs are written all or
// nothing, names from a scenario never lead outside the output root, unsigned flags refuse a sign, and a
// NUL in a policy path is refused. Each test failed on the code before the fix.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "tests/support/squall_binary_test.hpp"

namespace {

namespace fs = std::filesystem;
using squall::testing::source_dir;
const std::string squall_bin = SQUALL_BINARY;

std::string read_all(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

void spit(const fs::path& p, const std::string& text) {
  fs::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary) << text;
}

// A one-provider scenario around the given workload and top-level keys, with two configurations whose
// policy files are the library's (absolute paths, so the scenario may lie anywhere).
std::string scenario_text(const std::string& name, const std::string& top, const std::string& arrivals) {
  const std::string policies = (source_dir / "scenarios/policies").string();
  return R"({
  "name": ")" + name + R"(", "seed": 3, )" + top + R"(,
  "providers": { "openai": { "api": "openai",
    "models": { "gpt-4o-mini": { "usd_per_mtok_in": 0.15, "usd_per_mtok_out": 0.6 } },
    "latency": { "ttft_ms": { "dist": "lognormal", "median": 100, "sigma": 0.3 }, "ms_per_output_token": 1 } } },
  "workload": { "arrivals": )" + arrivals + R"(, "model": "gpt-4o-mini" },
  "policies": { "a": ")" + policies + R"(/no-retry.json", "b": ")" + policies + R"(/retry-backoff.json" }
})";
}

class CliRunSafety : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("squall-safety-" + std::to_string(::getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "work");
  }
  void TearDown() override { fs::remove_all(dir_); }

  // The exit code of `squall ARGS` run in `cwd` (default: the source tree); its output in out_ and err_.
  int run(const std::string& args, const fs::path& cwd = source_dir) {
    const std::string command = "cd '" + cwd.string() + "' && '" + squall_bin + "' " + args + " >'" +
                                (dir_ / "stdout.txt").string() + "' 2>'" + (dir_ / "stderr.txt").string() + "' </dev/null";
    const int status = std::system(command.c_str());
    out_ = read_all(dir_ / "stdout.txt");
    err_ = read_all(dir_ / "stderr.txt");
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }

  // Every path under `root`, relative to it.
  static std::vector<std::string> listing(const fs::path& root) {
    std::vector<std::string> out;
    for (const auto& e : fs::recursive_directory_iterator(root)) out.push_back(fs::relative(e.path(), root).string());
    std::sort(out.begin(), out.end());
    return out;
  }

  fs::path dir_;
  std::string out_, err_;
};

// Issue 13: 1e7 arrivals per second for 30 days (2.6e13 requests) and an interval of 0.01 s over 30 days
// (259 million time-series rows) were both valid by every documented range and ran with no warning.
// Both are refused before anything runs, naming the file, the keys and what to change; validate says
// the same; --allow-large-run raises the limits but still bounds the time series.
TEST_F(CliRunSafety, ARunBeyondTheLimitsIsRefusedBeforeItStarts) {
  const fs::path months = dir_ / "months.json";
  spit(months, scenario_text("months", R"("duration_s": 2592000)", R"({ "process": "poisson", "rate_per_s": 10000000 })"));
  // validate first: before the fix the run itself would have run for months.
  ASSERT_EQ(run("validate '" + months.string() + "'"), 2);
  EXPECT_NE(err_.find("$.workload.arrivals"), std::string::npos) << err_;
  const fs::path out = dir_ / "out";
  EXPECT_EQ(run("run '" + months.string() + "' --out '" + out.string() + "'"), 2) << err_;
  EXPECT_NE(err_.find(months.string() + ": $.workload.arrivals, $.duration_s: the run would offer about 5.18e+13 requests"),
            std::string::npos) << err_;
  EXPECT_NE(err_.find("more than the limit of 1e+08"), std::string::npos) << err_;
  EXPECT_NE(err_.find("--allow-large-run"), std::string::npos) << err_;
  EXPECT_FALSE(fs::exists(out));
  // Past even the raised limit of 1e10 requests.
  EXPECT_EQ(run("validate --allow-large-run '" + months.string() + "'"), 2);

  const fs::path fine = dir_ / "fine-grained.json";
  spit(fine, scenario_text("fine", R"("duration_s": 2592000, "interval_s": 0.01)", R"({ "process": "poisson", "rate_per_s": 0.001 })"));
  ASSERT_EQ(run("validate '" + fine.string() + "'"), 2);
  EXPECT_EQ(run("run '" + fine.string() + "' --out '" + out.string() + "'"), 2) << err_;
  EXPECT_NE(err_.find(fine.string() + ": $.interval_s, $.duration_s, $.drain_s: the time series would have 2.59e+08 "
                                      "intervals per configuration, more than the limit of 20000"),
            std::string::npos) << err_;
  EXPECT_NE(err_.find("interval_s of at least 130 s"), std::string::npos) << err_;
  EXPECT_EQ(run("run '" + fine.string() + "' --allow-large-run --out '" + out.string() + "'"), 2) << err_;
  EXPECT_NE(err_.find("more than the limit of 1e+06; expected an interval_s of at least 3 s (or leave it out: about "
                      "duration/200 is chosen) (this is the raised limit)"),
            std::string::npos) << err_;
  EXPECT_FALSE(fs::exists(out));

  // The library's scenarios are all well within the limits.
  EXPECT_EQ(run("validate scenarios/quickstart.json scenarios/cost-blowup-budget.json scenarios/live-smoke.json"), 0) << err_;
}

// Issue 13: a write that failed (exit 3) left four of the five outputs and a .tmp behind. The outputs now
// go into a temporary directory first: a failure leaves none of them, and no temporary file or folder.
// Root ignores permissions, so the failures are made with paths: a destination that is a directory, and
// an output directory under a regular file.
TEST_F(CliRunSafety, AFailedWriteLeavesNoOutputAndNoTemporaryFile) {
  const fs::path out = dir_ / "work" / "out";
  fs::create_directories(out / "timeseries.csv");  // the fourth output cannot replace a directory
  EXPECT_EQ(run("run scenarios/quickstart.json -q --out '" + out.string() + "'"), 3) << err_;
  EXPECT_NE(err_.find("timeseries.csv"), std::string::npos) << err_;
  EXPECT_EQ(listing(dir_ / "work"), (std::vector<std::string>{"out", "out/timeseries.csv"}));

  spit(dir_ / "work" / "file", "not a directory");
  const fs::path under_file = dir_ / "work" / "file" / "out";
  EXPECT_EQ(run("run scenarios/quickstart.json -q --out '" + under_file.string() + "'"), 3) << err_;
  EXPECT_EQ(listing(dir_ / "work"), (std::vector<std::string>{"file", "out", "out/timeseries.csv"}));

  // Into a directory that does not exist yet, and again over the first outputs: whole sets each time.
  const fs::path fresh = dir_ / "work" / "new" / "deeper";
  ASSERT_EQ(run("run scenarios/quickstart.json -q --out '" + fresh.string() + "'"), 0) << err_;
  ASSERT_EQ(run("run scenarios/quickstart.json -q --out '" + fresh.string() + "'"), 0) << err_;
  EXPECT_EQ(listing(dir_ / "work" / "new"),
            (std::vector<std::string>{"deeper", "deeper/junit.xml", "deeper/report.html", "deeper/results.json",
                                      "deeper/summary.md", "deeper/timeseries.csv"}));
}

// Issue 13: a scenario named "../../x" wrote its outputs two levels above squall-out/. The name is made
// one path component (".._.._escape"), so the outputs stay under squall-out/ of the working directory.
TEST_F(CliRunSafety, AScenarioNameCannotLeadOutsideTheOutputRoot) {
  const fs::path cwd = dir_ / "work" / "deep";
  spit(cwd / "s.json", scenario_text("../../escape", R"("duration_s": 5)", R"({ "process": "poisson", "rate_per_s": 5 })"));
  ASSERT_EQ(run("run s.json -q", cwd), 0) << err_;
  EXPECT_FALSE(fs::exists(dir_ / "escape"));
  EXPECT_FALSE(fs::exists(dir_ / "work" / "escape"));
  EXPECT_TRUE(fs::exists(cwd / "squall-out" / ".._.._escape" / "results.json"));
  EXPECT_EQ(listing(dir_ / "work"),
            (std::vector<std::string>{"deep", "deep/s.json", "deep/squall-out", "deep/squall-out/.._.._escape",
                                      "deep/squall-out/.._.._escape/junit.xml", "deep/squall-out/.._.._escape/report.html",
                                      "deep/squall-out/.._.._escape/results.json", "deep/squall-out/.._.._escape/summary.md",
                                      "deep/squall-out/.._.._escape/timeseries.csv"}));
  // The same for `replay --name`, whose name is the reconstructed scenario's.
  ASSERT_EQ(run("run s.json -q --trace t.jsonl --out first", cwd), 0) << err_;
  ASSERT_EQ(run("replay t.a.jsonl -q --name ../../replayed", cwd), 0) << err_;
  EXPECT_FALSE(fs::exists(dir_ / "replayed"));
  EXPECT_FALSE(fs::exists(dir_ / "work" / "replayed"));
  EXPECT_TRUE(fs::exists(cwd / "squall-out" / ".._.._replayed" / "results.json"));
  // A name that is only dots is not the parent directory either.
  spit(cwd / "dots.json", scenario_text("..", R"("duration_s": 5)", R"({ "process": "poisson", "rate_per_s": 5 })"));
  ASSERT_EQ(run("run dots.json -q", cwd), 0) << err_;
  EXPECT_TRUE(fs::exists(cwd / "squall-out" / "__" / "results.json"));
  EXPECT_FALSE(fs::exists(cwd / "results.json"));
}

// Issue 13: CLI11 read "--seed -1" as 18446744073709551615 and ran. Every unsigned flag now refuses a
// sign, and a value past 64 bits, with exit 2 naming the flag; nothing is written.
TEST_F(CliRunSafety, NegativeAndOverflowingUnsignedFlagsAreRefusedNamingTheFlag) {
  const std::string out = " --out '" + (dir_ / "out").string() + "'";
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"run scenarios/quickstart.json --seed -1" + out, "--seed"},
      {"run scenarios/quickstart.json --seed 18446744073709551616" + out, "--seed"},
      {"run scenarios/quickstart.json --seed +5" + out, "--seed"},
      {"run scenarios/quickstart.json --seeds -1" + out, "--seeds"},
      {"run scenarios/quickstart.json --mode live --live-max-requests -1" + out, "--live-max-requests"},
      {"run scenarios/quickstart.json --mode live --live-connections -1" + out, "--live-connections"},
      {"serve scenarios/quickstart.json --port -1 --for-s 0.01", "--port"},
      {"serve scenarios/quickstart.json --seed -1 --for-s 0.01", "--seed"},
      {"replay no-such-trace.jsonl --seed -1" + out, "--seed"},
      {"trace2scenario no-such-trace.jsonl --seed -1 --out '" + (dir_ / "s.json").string() + "'", "--seed"},
      {"import no-such-log.csv --format csv --map timestamp=t --max-errors -1", "--max-errors"},
  };
  for (const auto& [args, flag] : cases) {
    SCOPED_TRACE(args);
    EXPECT_EQ(run(args), 2) << out_ << err_;
    EXPECT_NE(err_.find(flag + ": expected a whole number of"), std::string::npos) << err_;
  }
  EXPECT_FALSE(fs::exists(dir_ / "out"));
  EXPECT_FALSE(fs::exists(dir_ / "s.json"));
}

// Issue 13: "policies": {"x": "a.json\u0000evil"} opened a.json, the path cut at the NUL. It is refused
// with exit 2 naming the scenario and the JSON path.
TEST_F(CliRunSafety, ANulInAPolicyPathIsRefusedNamingTheJsonPath) {
  spit(dir_ / "work" / "a.json", read_all(source_dir / "scenarios/policies/no-retry.json"));
  std::string text = scenario_text("nul", R"("duration_s": 5)", R"({ "process": "poisson", "rate_per_s": 5 })");
  const std::string policies = (source_dir / "scenarios/policies").string();
  const std::string from = "\"a\": \"" + policies + "/no-retry.json\"";
  ASSERT_NE(text.find(from), std::string::npos);
  text.replace(text.find(from), from.size(), R"("x": "a.json\u0000evil")");
  spit(dir_ / "work" / "s.json", text);
  const fs::path out = dir_ / "out";
  EXPECT_EQ(run("run '" + (dir_ / "work" / "s.json").string() + "' --out '" + out.string() + "'"), 2) << out_;
  EXPECT_NE(err_.find((dir_ / "work" / "s.json").string() + ": $.policies.x: expected a policy file path without a NUL"),
            std::string::npos) << err_;
  EXPECT_FALSE(fs::exists(out));
  EXPECT_EQ(run("validate '" + (dir_ / "work" / "s.json").string() + "'"), 2);
}

}  // namespace
