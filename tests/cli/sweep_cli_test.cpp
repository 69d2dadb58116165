// `squall sweep` and `squall merge` through the binary, and the shard recipes in examples/sweep-shards: the
// Kubernetes Indexed Job and the GitHub Actions matrix read as the YAML their engines read, their commands
// run as the engines would run them, and the merged shards equal the unsharded sweep byte for byte.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include <nlohmann/json.hpp>

#include "documents/yaml_document.hpp"
#include "tests/support/squall_binary_test.hpp"

namespace {

namespace fs = std::filesystem;
using squall::testing::source_dir;

// The recipes sweep openai-503-storm's ten minutes at 50 requests/s over 101 cells; the tests add these
// changes to every command alike (200 s, 10 requests/s) so that the 505 runs stay quick under the sanitizers.
const std::string quicker = " --set duration_s=200 --set workload.arrivals.rate_per_s=10";

class SweepCli : public squall::testing::squall_binary_test {
 protected:
  split_run sweep(const std::string& args) { return run_split(args); }

  // Runs `script` with /bin/sh in `cwd` (which sees the repository's scenarios), squall on PATH and `env`.
  int shell(const std::string& script, const fs::path& cwd, const std::string& env = "") {
    const std::string bin_dir = fs::path(squall::testing::squall_binary).parent_path().string();
    const std::string command = "cd '" + cwd.string() + "' && env PATH='" + bin_dir + ":/usr/bin:/bin' " + env +
                                " /bin/sh -c \"$SWEEP_SCRIPT\" >>'" + (dir_ / "shell.txt").string() + "' 2>&1 </dev/null";
    ::setenv("SWEEP_SCRIPT", script.c_str(), 1);
    const int status = std::system(command.c_str());
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }

  static nlohmann::ordered_json yaml(const std::string& name) {
    auto doc = squall::documents::read_yaml_file(source_dir / "examples/sweep-shards" / name);
    EXPECT_TRUE(doc.ok()) << (doc.ok() ? "" : doc.error().describe());
    return doc.ok() ? *doc : nlohmann::ordered_json();
  }

  static std::string replace_all(std::string s, const std::string& from, const std::string& to) {
    for (std::size_t at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size())) s.replace(at, from.size(), to);
    return s;
  }

  void expect_same_outputs(const fs::path& a, const fs::path& b) {
    for (const char* f : {"sweep.json", "sweep.md", "sweep.csv", "sweep.html"}) {
      ASSERT_TRUE(fs::exists(a / f)) << a / f;
      ASSERT_TRUE(fs::exists(b / f)) << b / f;
      EXPECT_TRUE(slurp(a / f) == slurp(b / f)) << f << " differs between " << a << " and " << b;
    }
  }
};

TEST_F(SweepCli, TheKubernetesIndexedJobShardsMergeIntoTheUnshardedSweep) {
  const auto job = yaml("kubernetes-indexed-job.yaml");
  ASSERT_TRUE(job.is_object());
  EXPECT_EQ(job["apiVersion"], "batch/v1");
  EXPECT_EQ(job["kind"], "Job");
  const auto& spec = job["spec"];
  EXPECT_EQ(spec["completionMode"], "Indexed");
  ASSERT_TRUE(spec["completions"].is_number_integer());
  const int shards = spec["completions"].get<int>();
  EXPECT_GE(shards, 2);
  EXPECT_LE(spec["parallelism"].get<int>(), shards);
  const auto& pod = spec["template"]["spec"];
  EXPECT_TRUE(pod["restartPolicy"] == "Never" || pod["restartPolicy"] == "OnFailure");
  ASSERT_EQ(pod["containers"].size(), 1u);
  const auto& container = pod["containers"][0];
  EXPECT_EQ(container["command"], nlohmann::ordered_json::array({"/bin/sh", "-c"}));
  const std::string script = container["args"][0].get<std::string>();
  // The shard comes from the index Kubernetes gives each pod, out of as many as the Job completes.
  EXPECT_NE(script.find("--shard \"${JOB_COMPLETION_INDEX}/" + std::to_string(shards) + "\""), std::string::npos) << script;
  ASSERT_NE(script.find("--out /results"), std::string::npos);
  ASSERT_EQ(container["volumeMounts"][0]["mountPath"], "/results");
  const auto merge_job = yaml("kubernetes-merge-job.yaml");
  EXPECT_EQ(merge_job["kind"], "Job");
  const std::string merge_script = merge_job["spec"]["template"]["spec"]["containers"][0]["args"][0].get<std::string>();
  EXPECT_EQ(merge_job["spec"]["template"]["spec"]["volumes"][0]["persistentVolumeClaim"]["claimName"],
            pod["volumes"][0]["persistentVolumeClaim"]["claimName"]);

  // Each pod's command, as the pod runs it (its working directory holds the scenarios; /results is here).
  fs::create_directories(dir_ / "pod");
  fs::create_symlink(source_dir / "scenarios", dir_ / "pod/scenarios");
  const std::string results = (dir_ / "results").string();
  const std::string pod_script = replace_all(script, "/results", results) + quicker;
  for (int i = 0; i < shards; ++i) {
    EXPECT_EQ(shell(pod_script, dir_ / "pod", "JOB_COMPLETION_INDEX=" + std::to_string(i)), 0) << slurp(dir_ / "shell.txt");
    EXPECT_TRUE(fs::exists(dir_ / "results" / ("shard-" + std::to_string(i) + "-of-" + std::to_string(shards) + ".json")));
  }
  EXPECT_EQ(shell(replace_all(merge_script, "/results", results), dir_ / "pod"), 0) << slurp(dir_ / "shell.txt");

  // The same sweep on one machine, without --shard.
  std::string whole = replace_all(script, " --shard \"${JOB_COMPLETION_INDEX}/" + std::to_string(shards) + "\"", "");
  whole = replace_all(whole, "--out /results", "--out " + (dir_ / "whole").string()) + quicker;
  ASSERT_EQ(shell(whole, dir_ / "pod"), 0) << slurp(dir_ / "shell.txt");
  expect_same_outputs(dir_ / "whole", dir_ / "results/sweep");
  const auto doc = nlohmann::json::parse(slurp(dir_ / "whole/sweep.json"));
  EXPECT_EQ(doc["cells"].size(), 101u);  // at least 100 cells, as a sweep worth sharding has
  EXPECT_FALSE(doc["frontier"].empty());
}

TEST_F(SweepCli, TheGitHubActionsMatrixRunsTheSameSweepOneShardPerJob) {
  const auto workflow = yaml("github-actions.yml");
  const auto& shard_job = workflow["jobs"]["shard"];
  const auto& matrix = shard_job["strategy"]["matrix"]["shard"];
  ASSERT_TRUE(matrix.is_array());
  std::string sweep_step;
  for (const auto& step : shard_job["steps"]) {
    if (step.contains("run") && step["run"].get<std::string>().find("squall sweep") != std::string::npos) sweep_step = step["run"];
  }
  ASSERT_FALSE(sweep_step.empty());
  const std::string shard_flag = "--shard ${{ matrix.shard }}/" + std::to_string(matrix.size());
  EXPECT_NE(sweep_step.find(shard_flag), std::string::npos) << sweep_step;
  for (std::size_t i = 0; i < matrix.size(); ++i) EXPECT_EQ(matrix[i], static_cast<int>(i));  // 0 to N-1, each once
  EXPECT_EQ(workflow["jobs"]["merge"]["needs"], "shard");
  std::string merge_step;
  for (const auto& step : workflow["jobs"]["merge"]["steps"]) {
    if (step.contains("run") && step["run"].get<std::string>().rfind("squall merge", 0) == 0) merge_step = step["run"];
    if (step.contains("uses") && step["uses"].get<std::string>().rfind("actions/download-artifact", 0) == 0) {
      EXPECT_EQ(step["with"]["merge-multiple"], true);  // every shard's file in one folder
    }
  }
  ASSERT_FALSE(merge_step.empty());

  // GitHub substitutes ${{ matrix.shard }} in the text; the job runs in the checkout.
  fs::create_directories(dir_ / "job");
  fs::create_symlink(source_dir / "scenarios", dir_ / "job/scenarios");
  for (std::size_t i = 0; i < matrix.size(); ++i) {
    EXPECT_EQ(shell(replace_all(sweep_step, "${{ matrix.shard }}", std::to_string(i)) + quicker, dir_ / "job"), 0) << slurp(dir_ / "shell.txt");
  }
  EXPECT_EQ(shell(merge_step, dir_ / "job"), 0) << slurp(dir_ / "shell.txt");
  // The Kubernetes recipe runs the same sweep: its unsharded outputs are these.
  const auto job = yaml("kubernetes-indexed-job.yaml");
  std::string whole = job["spec"]["template"]["spec"]["containers"][0]["args"][0].get<std::string>();
  whole = replace_all(whole, " --shard \"${JOB_COMPLETION_INDEX}/" + std::to_string(matrix.size()) + "\"", "");
  whole = replace_all(replace_all(whole, " --jobs 2", ""), "--out /results", "--out whole") + quicker;
  ASSERT_EQ(shell(whole, dir_ / "job"), 0) << slurp(dir_ / "shell.txt");
  expect_same_outputs(dir_ / "job/whole", dir_ / "job/sweep");
}

TEST_F(SweepCli, MistakesAreNamedBeforeAnythingRuns) {
  const std::string base = "sweep scenarios/openai-503-storm.json --config retry-breaker --out " + (dir_ / "o").string();
  auto r = sweep(base + " --param retry.attempts_max=0..2");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("sweep cell 1 (policies.retry-breaker.retry.attempts_max=0)"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(dir_ / "o"));
  r = sweep(base + " --param retry.attempts_max=1..2 --shard 2/2");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("0 to N-1"), std::string::npos) << r.err;
  r = sweep(base + " --param retry.attempts_max=1..2 --require 'p99<=5'");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("latency_p99_ms"), std::string::npos) << r.err;
  r = sweep(base + " --param 'nolayer.x=1,2'");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("no key and no layer \"nolayer\""), std::string::npos) << r.err;
  r = sweep(base + " --config nope --param retry.attempts_max=1..2");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--config nope: no such configuration"), std::string::npos) << r.err;
}

TEST_F(SweepCli, AnUnmetRequirementExitsOneAndMergeRefusesAPartialSet) {
  const std::string base = "sweep scenarios/openai-503-storm.json --config retry-breaker --param retry.attempts_max=1..3" + quicker;
  auto r = sweep(base + " --require 'success_rate>=0.9999' --out " + (dir_ / "unmet").string());
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("no cell meets the constraints"), std::string::npos) << r.err;
  const auto doc = nlohmann::json::parse(slurp(dir_ / "unmet/sweep.json"));
  EXPECT_TRUE(doc["recommendation"]["cell"].is_null());
  EXPECT_EQ(doc["cells"].size(), 4u);

  for (int i : {0, 2}) ASSERT_EQ(sweep(base + " --shard " + std::to_string(i) + "/3 -q --out " + (dir_ / "shards").string()).exit_code, 0);
  r = sweep("merge " + (dir_ / "shards").string() + " --out " + (dir_ / "merged").string());
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("shards missing: 1 of 0 to 2"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(dir_ / "merged"));
  // A shard of another seed is another sweep.
  ASSERT_EQ(sweep(base + " --seed 7 --shard 1/3 -q --out " + (dir_ / "shards").string()).exit_code, 0);
  r = sweep("merge " + (dir_ / "shards").string() + " --out " + (dir_ / "merged").string());
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("a different sweep"), std::string::npos) << r.err;
}

}  // namespace
