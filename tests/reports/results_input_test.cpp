#include "reports/results_input.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "tests/reports/run_fixture.hpp"

namespace squall::reports {
namespace {

namespace fs = std::filesystem;

class ResultsInput : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("squall-results-input-" + std::to_string(::getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string write(const std::string& name, const std::string& text) {
    const fs::path p = dir_ / name;
    std::ofstream(p, std::ios::binary) << text;
    return p.string();
  }
  fs::path dir_;
};

TEST_F(ResultsInput, ReadsBackARealRun) {
  const json doc = testing::run_scenario();
  EXPECT_FALSE(check_results(doc, "x").has_value());
  auto loaded = load_results(write("results.json", doc.dump(2)));
  ASSERT_TRUE(loaded.ok()) << loaded.error().describe();
  EXPECT_EQ(*loaded, doc);
}

TEST_F(ResultsInput, UnreadableOrWrongFilesAreErrorValuesNamingFileAndPath) {
  auto missing = load_results((dir_ / "nope.json").string());
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().describe().find("nope.json: cannot open"), std::string::npos) << missing.error().describe();

  auto directory = load_results(dir_.string());
  ASSERT_FALSE(directory.ok());
  EXPECT_NE(directory.error().message.find("directory"), std::string::npos);

  auto not_json = load_results(write("bad.json", "{ \"format\": "));
  ASSERT_FALSE(not_json.ok());
  EXPECT_NE(not_json.error().message.find("invalid JSON at line 1"), std::string::npos);

  auto scenario_file = load_results(write("scenario.json", R"({ "name": "x", "duration_s": 10 })"));
  ASSERT_FALSE(scenario_file.ok());
  EXPECT_EQ(scenario_file.error().describe(),
            (dir_ / "scenario.json").string() + ": $.format: missing; expected \"squall-results/1\" (a results.json written by squall run)");

  json other = testing::run_scenario();
  other["format"] = "squall-results/2";
  auto wrong_format = load_results(write("v2.json", other.dump()));
  ASSERT_FALSE(wrong_format.ok());
  EXPECT_EQ(wrong_format.error().path, "$.format");
  EXPECT_NE(wrong_format.error().message.find("expected \"squall-results/1\""), std::string::npos);
}

TEST_F(ResultsInput, ChecksTheShapeTheWritersRelyOn) {
  const json good = testing::run_scenario();
  auto broken = [&](auto change) {
    json d = good;
    change(d);
    auto e = check_results(d, "f.json");
    return e ? e->path + ": " + e->message : std::string("accepted");
  };
  EXPECT_EQ(broken([](json& d) { d["configurations"] = json::array(); }),
            "$.configurations: expected at least one configuration, got an empty array");
  EXPECT_EQ(broken([](json& d) { d["configurations"][1]["summary"]["success_rate"] = "high"; }),
            "$.configurations[1].summary.success_rate: expected a number, got \"high\"");
  EXPECT_EQ(broken([](json& d) { d["configurations"][1]["name"] = "plain"; }),
            "$.configurations[1].name: the configuration name \"plain\" appears twice");
  EXPECT_EQ(broken([](json& d) { d["configurations"][0]["series"]["offered"] = 3; }),
            "$.configurations[0].series.offered: expected an array of numbers, got 3");
  EXPECT_EQ(broken([](json& d) { d["configurations"][0]["series"]["offered"][0] = "3"; }),
            "$.configurations[0].series.offered[0]: expected a number, got \"3\"");
  EXPECT_EQ(broken([](json& d) { d["assertions"][0]["kind"] = "at_least"; }),
            "$.assertions[0].kind: expected \"min\" or \"max\", got \"at_least\"");
  EXPECT_EQ(broken([](json& d) { d["seed"] = -1; }), "$.seed: expected the run's seed (an unsigned integer), got -1");
  EXPECT_EQ(broken([](json& d) { d.erase("verdict"); }), "$.verdict: missing; expected \"pass\" or \"fail\"");
  EXPECT_EQ(broken([](json&) {}), "accepted");
}

}  // namespace
}  // namespace squall::reports
