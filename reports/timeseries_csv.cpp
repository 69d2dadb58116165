#include "reports/timeseries_csv.hpp"

#include <algorithm>
#include <string_view>
#include <vector>

#include "reports/format.hpp"

namespace squall::reports {
namespace {

// A text cell a spreadsheet would run as a formula (=, +, -, @, and tab or carriage return, which some
// read as the same) gets a leading single quote, as OWASP's CSV-injection advice says: the names in
// these cells come from scenario and policy files that the person opening the CSV may not have written.
// Numbers never pass through here, so a negative value stays a number.
std::string csv_field(const std::string& text) {
  const bool formula = !text.empty() && std::string_view("=+-@\t\r").find(text.front()) != std::string_view::npos;
  const std::string s = formula ? "'" + text : text;
  if (s.find_first_of(",\"\r\n") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

std::string csv_value(const json& v) {
  if (v.is_number_integer()) return v.dump();
  if (v.is_number()) return format_number(v.get<double>());
  if (v.is_string()) return csv_field(v.get<std::string>());
  if (v.is_boolean()) return v.get<bool>() ? "1" : "0";
  return "";
}

struct column {
  std::string name;
  std::string key;  // under series
  std::string sub;  // under series.<key> when the key holds an object of arrays
};

}  // namespace

std::string timeseries_csv(const json& results) {
  static const json empty = json::object();
  const json& configs = results.contains("configurations") ? results["configurations"] : empty;

  // Columns are the union over configurations, in order of first appearance, so that a document from
  // a newer binary with one more series still gives one rectangular table.
  std::vector<column> columns;
  auto add = [&](column c) {
    if (std::none_of(columns.begin(), columns.end(), [&](const column& k) { return k.name == c.name; })) {
      columns.push_back(std::move(c));
    }
  };
  for (const auto& c : configs) {
    if (!c.is_object() || !c.contains("series") || !c["series"].is_object()) continue;
    for (auto it = c["series"].begin(); it != c["series"].end(); ++it) {
      if (it->is_array()) add({it.key(), it.key(), ""});
      if (it->is_object()) {
        for (auto sub = it->begin(); sub != it->end(); ++sub) {
          if (sub->is_array()) add({it.key() + "_" + sub.key(), it.key(), sub.key()});
        }
      }
    }
  }

  // An interrupted run says so on every row, in a last column "run_incomplete" (always 1), so that a
  // chart made from the CSV alone cannot pass a partial run off as a whole one. A complete run's table
  // is unchanged.
  const bool incomplete = results.is_object() && results.value("incomplete", false);
  std::string out = "configuration,interval";
  for (const auto& col : columns) out += "," + csv_field(col.name);
  if (incomplete) out += ",run_incomplete";
  out += "\r\n";
  for (const auto& c : configs) {
    if (!c.is_object() || !c.contains("series") || !c["series"].is_object()) continue;
    const json& series = c["series"];
    std::vector<const json*> cells(columns.size(), nullptr);
    std::size_t row_count = 0;
    for (std::size_t i = 0; i < columns.size(); ++i) {
      const json* a = series.contains(columns[i].key) ? &series[columns[i].key] : nullptr;
      if (a && !columns[i].sub.empty()) a = a->is_object() && a->contains(columns[i].sub) ? &(*a)[columns[i].sub] : nullptr;
      if (a && a->is_array()) {
        cells[i] = a;
        row_count = std::max(row_count, a->size());
      }
    }
    const std::string name = csv_field(c.value("name", ""));
    for (std::size_t r = 0; r < row_count; ++r) {
      out += name + "," + std::to_string(r);
      for (const json* a : cells) {
        out += ",";
        if (a && r < a->size()) out += csv_value((*a)[r]);
      }
      if (incomplete) out += ",1";
      out += "\r\n";
    }
  }
  return out;
}

}  // namespace squall::reports
