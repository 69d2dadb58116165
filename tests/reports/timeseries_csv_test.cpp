#include "reports/timeseries_csv.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <string>
#include <vector>

#include "tests/reports/run_fixture.hpp"

namespace squall::reports {
namespace {

using table = std::vector<std::vector<std::string>>;

// A strict RFC 4180 reader: CRLF records, quoted fields with doubled quotes. Fails the test on anything else.
table parse_csv(const std::string& text) {
  table rows;
  std::vector<std::string> row;
  std::string field;
  std::size_t i = 0;
  bool at_field_start = true;
  while (i < text.size()) {
    const char c = text[i];
    if (at_field_start && c == '"') {
      ++i;
      while (true) {
        if (i >= text.size()) {
          ADD_FAILURE() << "unterminated quoted field";
          return rows;
        }
        if (text[i] == '"') {
          if (i + 1 < text.size() && text[i + 1] == '"') {
            field += '"';
            i += 2;
            continue;
          }
          ++i;
          break;
        }
        field += text[i++];
      }
      at_field_start = false;
      continue;
    }
    if (c == ',') {
      row.push_back(std::move(field));
      field.clear();
      at_field_start = true;
      ++i;
    } else if (c == '\r') {
      EXPECT_TRUE(i + 1 < text.size() && text[i + 1] == '\n') << "a CR not followed by LF at " << i;
      row.push_back(std::move(field));
      field.clear();
      rows.push_back(std::move(row));
      row.clear();
      at_field_start = true;
      i += 2;
    } else {
      EXPECT_NE(c, '\n') << "a bare LF at " << i;
      EXPECT_NE(c, '"') << "a quote inside an unquoted field at " << i;
      field += c;
      at_field_start = false;
      ++i;
    }
  }
  EXPECT_TRUE(row.empty() && field.empty()) << "the last record does not end with CRLF";
  return rows;
}

TEST(TimeseriesCsv, OneRowPerConfigurationAndIntervalWithEverySeriesColumn) {
  const json doc = testing::run_scenario();
  const table rows = parse_csv(timeseries_csv(doc));
  ASSERT_FALSE(rows.empty());
  const auto& header = rows[0];

  // Every array under series is a column, and every outcome class has its own.
  const json& series = doc["configurations"][0]["series"];
  std::vector<std::string> expected = {"configuration", "interval"};
  for (auto it = series.begin(); it != series.end(); ++it) {
    if (it->is_array()) expected.push_back(it.key());
  }
  for (auto it = series["outcomes"].begin(); it != series["outcomes"].end(); ++it) expected.push_back("outcomes_" + it.key());
  EXPECT_EQ(header, expected);
  EXPECT_GE(series["outcomes"].size(), 10U);  // ok, rate_limited, overloaded, server_error, ...

  std::size_t expected_rows = 0;
  for (const auto& c : doc["configurations"]) expected_rows += c["series"]["end_s"].size();
  ASSERT_EQ(rows.size(), expected_rows + 1);
  EXPECT_EQ(doc["configurations"].size(), 3U);

  // Every cell reads back to the JSON value it came from.
  std::size_t r = 1;
  std::size_t nonzero_503s = 0;
  for (const auto& c : doc["configurations"]) {
    const std::size_t n = c["series"]["end_s"].size();
    EXPECT_GT(n, 10U);
    for (std::size_t i = 0; i < n; ++i, ++r) {
      const auto& row = rows[r];
      ASSERT_EQ(row.size(), header.size()) << "row " << r;
      EXPECT_EQ(row[0], c["name"].get<std::string>());
      EXPECT_EQ(row[1], std::to_string(i));
      for (std::size_t k = 2; k < header.size(); ++k) {
        const std::string& name = header[k];
        const json& v = name.starts_with("outcomes_") ? c["series"]["outcomes"][name.substr(9)][i] : c["series"][name][i];
        EXPECT_EQ(std::strtod(row[k].c_str(), nullptr), v.get<double>()) << c["name"] << " " << name << " " << i;
        if (v.is_number_integer()) {
          EXPECT_EQ(row[k], v.dump());
        }
      }
      const auto col = static_cast<std::size_t>(
          std::find(header.begin(), header.end(), "outcomes_overloaded") - header.begin());
      ASSERT_LT(col, header.size());
      if (row[col] != "0") ++nonzero_503s;  // a 503 is classed as overloaded
    }
  }
  // The fault window shows in the per-class counts.
  EXPECT_GT(nonzero_503s, 3U);
}

TEST(TimeseriesCsv, QuotesNamesWithCommasAndQuotes) {
  const json doc = testing::run_scenario();
  const std::string csv = timeseries_csv(doc);
  EXPECT_NE(csv.find("\r\n\"odd, \"\"quoted\"\" <name> & co\",0,"), std::string::npos);
  const table rows = parse_csv(csv);
  EXPECT_EQ(rows.back()[0], testing::odd_name);
}

TEST(TimeseriesCsv, SameDocumentSameBytes) {
  EXPECT_EQ(timeseries_csv(testing::run_scenario(3)), timeseries_csv(testing::run_scenario(3)));
  EXPECT_NE(timeseries_csv(testing::run_scenario(3)), timeseries_csv(testing::run_scenario(4)));
}

TEST(TimeseriesCsv, DocumentWithoutSeriesGivesOnlyTheHeader) {
  json doc = testing::run_scenario();
  for (auto& c : doc["configurations"]) c.erase("series");
  EXPECT_EQ(timeseries_csv(doc), "configuration,interval\r\n");
}

// Issue 13: a configuration named "=HYPERLINK(...)" opened in a spreadsheet ran as a formula. Every text
// cell that starts like one is quoted with a leading apostrophe (OWASP); numbers, negative ones included,
// stay numbers.
TEST(TimeseriesCsv, CellsThatWouldBeFormulasAreEscaped) {
  json doc = testing::run_scenario();
  const std::vector<std::string> names = {"=HYPERLINK(\"http://x\")", "+1+1", "-2", "@SUM(A1)", "\tx"};
  ASSERT_FALSE(doc["configurations"].empty());
  const json first = doc["configurations"][0];
  doc["configurations"] = json::array();
  for (const auto& n : names) {
    json c = first;
    c["name"] = n;
    doc["configurations"].push_back(c);
  }
  const table rows = parse_csv(timeseries_csv(doc));
  ASSERT_GT(rows.size(), names.size());
  std::vector<std::string> seen;
  for (std::size_t r = 1; r < rows.size(); ++r) {
    if (seen.empty() || seen.back() != rows[r][0]) seen.push_back(rows[r][0]);
  }
  ASSERT_EQ(seen.size(), names.size());
  for (std::size_t i = 0; i < names.size(); ++i) EXPECT_EQ(seen[i], "'" + names[i]);
}

// Issue 13: an interrupted run's CSV said nothing of it. Its rows now carry run_incomplete = 1.
TEST(TimeseriesCsv, AnIncompleteRunIsMarkedOnEveryRow) {
  json doc = testing::run_scenario();
  EXPECT_EQ(timeseries_csv(doc).find("run_incomplete"), std::string::npos);
  doc["incomplete"] = true;
  const table rows = parse_csv(timeseries_csv(doc));
  ASSERT_GT(rows.size(), 1U);
  EXPECT_EQ(rows[0].back(), "run_incomplete");
  for (std::size_t r = 1; r < rows.size(); ++r) EXPECT_EQ(rows[r].back(), "1");
}

}  // namespace
}  // namespace squall::reports
