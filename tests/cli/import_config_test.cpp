// `squall import-config` through the binary: a Portkey config or a LiteLLM config.yaml becomes a policy file
// a scenario loads, what it cannot express is listed, and bad input is refused with exit 2 naming the JSON
// path (or the YAML line and column).

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "cli/exit_codes.hpp"
#include "policies/pipeline/pipeline.hpp"
#include "tests/support/squall_binary_test.hpp"

namespace squall {
namespace {

class ImportConfig : public testing::squall_binary_test {};

TEST_F(ImportConfig, WritesALoadablePolicyFileAndListsWhatItCannotExpress) {
  const auto out = dir_ / "portkey.policy.json";
  ASSERT_EQ(run("import-config portkey tests/config_import/samples/portkey-fallback.json --out '" + out.string() + "'"),
            cli::exit_ok)
      << output();
  EXPECT_NE(output().find("not expressed"), std::string::npos) << output();
  EXPECT_NE(output().find("$.targets[2].retry"), std::string::npos) << output();
  EXPECT_NE(output().find("ignored"), std::string::npos) << output();
  EXPECT_NE(output().find("wrote " + out.string() + " (4 policies"), std::string::npos) << output();
  auto spec = load_pipeline_file(out);
  ASSERT_TRUE(spec.ok()) << spec.error().describe();
  EXPECT_EQ(spec->policies.size(), 4U);
  // And a scenario runs it.
  std::ofstream(dir_ / "s.json") << R"({"name": "imported", "duration_s": 5,
    "providers": {"openai": {"models": {"gpt-4o": {"usd_per_mtok_in": 1, "usd_per_mtok_out": 1}}},
                  "anthropic-prod": {"models": {"claude-sonnet-4": {"usd_per_mtok_in": 1, "usd_per_mtok_out": 1}}},
                  "azure-openai": {"models": {"gpt-4o": {"usd_per_mtok_in": 1, "usd_per_mtok_out": 1}}}},
    "workload": {"arrivals": {"process": "constant", "rate_per_s": 5}, "provider": "openai", "model": "gpt-4o"},
    "policies": {"portkey": ")" + out.string() + R"("}})";
  EXPECT_EQ(run("run '" + (dir_ / "s.json").string() + "' -q --out '" + (dir_ / "o").string() + "'"), cli::exit_ok)
      << output();
}

TEST_F(ImportConfig, BadInputIsRefusedWithItsPathAndNothingWritten) {
  std::ofstream(dir_ / "bad.json") << R"({"retry": {"attempts": 9}})";
  EXPECT_EQ(run("import-config portkey '" + (dir_ / "bad.json").string() + "'"), cli::exit_bad_input);
  EXPECT_NE(output().find("$.retry.attempts"), std::string::npos) << output();
  EXPECT_FALSE(std::filesystem::exists(dir_ / "bad.policy.json"));
  std::ofstream(dir_ / "broken.json") << "{\"retry\": ";
  EXPECT_EQ(run("import-config portkey '" + (dir_ / "broken.json").string() + "'"), cli::exit_bad_input);
  EXPECT_EQ(run("import-config kong '" + (dir_ / "bad.json").string() + "'"), cli::exit_bad_input);
  EXPECT_EQ(run("import-config portkey '" + (dir_ / "missing.json").string() + "'"), cli::exit_bad_input);
  EXPECT_EQ(run("import-config portkey '" + (dir_ / "bad.json").string() + "' --out '" +
                (dir_ / "bad.json").string() + "'"),
            cli::exit_bad_input);
}

TEST_F(ImportConfig, TheDefaultOutputSitsBesideTheConfig) {
  std::ofstream(dir_ / "gw.json") << R"({"retry": {"attempts": 2}})";
  ASSERT_EQ(run("import-config portkey '" + (dir_ / "gw.json").string() + "'"), cli::exit_ok) << output();
  EXPECT_TRUE(std::filesystem::exists(dir_ / "gw.policy.json"));
  std::ofstream(dir_ / "ro");
  std::filesystem::create_directories(dir_ / "dir.policy.json");
  std::ofstream(dir_ / "dir.json") << R"({"retry": {"attempts": 2}})";
  EXPECT_EQ(run("import-config portkey '" + (dir_ / "dir.json").string() + "'"), cli::exit_io_error) << output();
}

json read_written(const std::filesystem::path& file) {
  std::ifstream in(file);
  std::stringstream text;
  text << in.rdbuf();
  return json::parse(text.str());
}

TEST_F(ImportConfig, ALitellmProxyConfigBecomesAPolicyFileForTheChosenGroup) {
  const auto out = dir_ / "litellm.policy.json";
  ASSERT_EQ(run("import-config litellm tests/config_import/samples/litellm-proxy.yaml --model-group gpt-4o --out '" +
                out.string() + "'"),
            cli::exit_ok)
      << output();
  EXPECT_NE(output().find("not expressed"), std::string::npos) << output();
  EXPECT_NE(output().find("$.litellm_settings.context_window_fallbacks"), std::string::npos) << output();
  EXPECT_NE(output().find("$.router_settings.redis_host"), std::string::npos) << output();
  EXPECT_NE(output().find("wrote " + out.string() + " (2 policies"), std::string::npos) << output();
  const json written = read_written(out);
  ASSERT_EQ(written["policies"].size(), 2U);
  EXPECT_EQ(written["policies"][0]["type"], "litellm_router");
  EXPECT_EQ(written["policies"][0]["model_group"], "gpt-4o");
  EXPECT_EQ(written["policies"][0]["fallbacks"].size(), 2U);
  EXPECT_EQ(written["policies"][1]["type"], "timeout");
  auto spec = load_pipeline_file(out);
  ASSERT_TRUE(spec.ok()) << spec.error().describe();
  EXPECT_EQ(spec->policies.size(), 2U);
}

TEST_F(ImportConfig, ALitellmRouterConfigOfOneGroupNeedsNoModelGroup) {
  ASSERT_EQ(run("import-config litellm tests/config_import/samples/litellm-router.yaml --out '" +
                (dir_ / "r.policy.json").string() + "'"),
            cli::exit_ok)
      << output();
  EXPECT_EQ(read_written(dir_ / "r.policy.json")["policies"][0]["model_group"], "gpt-4o");
  EXPECT_EQ(output().find("not expressed"), std::string::npos) << output();
  // A scenario with the group's two deployments as providers runs it.
  std::ofstream(dir_ / "s.json") << R"({"name": "imported-litellm", "duration_s": 5,
    "providers": {"openai": {"models": {"gpt-4o": {"usd_per_mtok_in": 1, "usd_per_mtok_out": 1}}},
                  "azure": {"models": {"gpt-4o": {"usd_per_mtok_in": 1, "usd_per_mtok_out": 1}}}},
    "workload": {"arrivals": {"process": "constant", "rate_per_s": 5}, "provider": "openai", "model": "gpt-4o"},
    "policies": {"litellm": ")" + (dir_ / "r.policy.json").string() + R"("}})";
  EXPECT_EQ(run("run '" + (dir_ / "s.json").string() + "' -q --out '" + (dir_ / "o").string() + "'"), cli::exit_ok)
      << output();
}

TEST_F(ImportConfig, BadLitellmInputIsRefusedWithItsPathOrLine) {
  const std::string samples = "tests/config_import/samples/";
  EXPECT_EQ(run("import-config litellm " + samples + "litellm-proxy.yaml --out '" + (dir_ / "x.json").string() + "'"),
            cli::exit_bad_input);
  EXPECT_NE(output().find("gpt-4o, claude, gpt-4o-mini"), std::string::npos) << output();
  EXPECT_NE(output().find("--model-group"), std::string::npos) << output();
  EXPECT_FALSE(std::filesystem::exists(dir_ / "x.json"));
  EXPECT_EQ(run("import-config litellm " + samples + "litellm-bad-syntax.yaml --out '" + (dir_ / "x.json").string() +
                "'"),
            cli::exit_bad_input);
  EXPECT_NE(output().find("line 4"), std::string::npos) << output();
  EXPECT_EQ(run("import-config litellm " + samples + "litellm-billion-laughs.yaml --out '" +
                (dir_ / "x.json").string() + "'"),
            cli::exit_bad_input);
  EXPECT_NE(output().find("billion laughs"), std::string::npos) << output();
  EXPECT_EQ(run("import-config litellm " + samples + "litellm-bad-fallbacks.yaml --model-group a --out '" +
                (dir_ / "x.json").string() + "'"),
            cli::exit_bad_input);
  EXPECT_NE(output().find("$.router_settings.fallbacks[0]"), std::string::npos) << output();
  EXPECT_FALSE(std::filesystem::exists(dir_ / "x.json"));
  // --model-group belongs to litellm.
  EXPECT_EQ(run("import-config portkey " + samples + "portkey-fallback.json --model-group a --out '" +
                (dir_ / "x.json").string() + "'"),
            cli::exit_bad_input);
  EXPECT_NE(output().find("--model-group is for litellm"), std::string::npos) << output();
  EXPECT_FALSE(std::filesystem::exists(dir_ / "x.json"));
}

TEST_F(ImportConfig, HelpNamesBothGatewaysAndTheModelGroup) {
  ASSERT_EQ(run("import-config --help"), cli::exit_ok) << output();
  EXPECT_NE(output().find("litellm"), std::string::npos) << output();
  EXPECT_NE(output().find("--model-group"), std::string::npos) << output();
}

}  // namespace
}  // namespace squall
