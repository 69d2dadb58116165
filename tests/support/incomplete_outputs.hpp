#pragma once
// Issue 13: an interrupted run must say so in every one of its five outputs, not only in results.json.
// One check for the interrupted-run tests of both modes.

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

namespace squall::testing {

inline std::string read_whole(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// The outputs in `dir` are those of an incomplete run in which `not_run` (a configuration with an
// assertion) never ran: results.json, summary.md, junit.xml, report.html and timeseries.csv all say so.
inline void expect_every_output_incomplete(const std::filesystem::path& dir, const std::string& not_run) {
  const auto doc = nlohmann::json::parse(read_whole(dir / "results.json"));
  EXPECT_EQ(doc.value("incomplete", false), true);
  EXPECT_EQ(doc["verdict"], "incomplete");
  EXPECT_EQ(doc["not_run"], nlohmann::json::array({not_run}));
  bool saw_not_run = false;
  for (const auto& a : doc["assertions"]) {
    EXPECT_EQ(a["passed"], a["verdict"] == "pass") << a.dump();
    if (a["configuration"] != not_run) continue;
    saw_not_run = true;
    EXPECT_EQ(a["verdict"], "not run") << a.dump();
    EXPECT_FALSE(a.contains("measured")) << a.dump();  // no value is made up for what never ran
  }
  EXPECT_TRUE(saw_not_run) << "the assertion of the configuration that never ran is dropped: " << doc["assertions"].dump();

  const std::string md = read_whole(dir / "summary.md");
  EXPECT_NE(md.find("INCOMPLETE"), std::string::npos) << md;
  EXPECT_NE(md.find("**Incomplete run:**"), std::string::npos) << md;
  EXPECT_NE(md.find("Not run: `" + not_run + "`"), std::string::npos) << md;
  EXPECT_NE(md.find("not run |"), std::string::npos) << md;
  EXPECT_EQ(md.substr(0, md.find('\n')).find("pass"), std::string::npos) << md;  // the heading's verdict

  const std::string xml = read_whole(dir / "junit.xml");
  EXPECT_NE(xml.find("<error message=\"incomplete run: "), std::string::npos) << xml;
  EXPECT_NE(xml.find("errors=\"1\""), std::string::npos) << xml;
  EXPECT_NE(xml.find("<skipped>not run: "), std::string::npos) << xml;

  const std::string html = read_whole(dir / "report.html");
  EXPECT_NE(html.find("id=\"verdict\">INCOMPLETE<"), std::string::npos);
  EXPECT_NE(html.find("id=\"incomplete\"><b>Incomplete run:</b>"), std::string::npos);

  const std::string csv = read_whole(dir / "timeseries.csv");
  const std::string header = csv.substr(0, csv.find("\r\n"));
  EXPECT_TRUE(header.ends_with(",run_incomplete")) << header;
}

}  // namespace squall::testing
