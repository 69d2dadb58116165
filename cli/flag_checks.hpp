#pragma once
// Checks on the text of command-line values that CLI11 does not make by itself.
#include <CLI/CLI.hpp>

#include <charconv>
#include <cstdint>
#include <string>

namespace squall::cli {

// CLI11 reads "-1" into an unsigned option by wrapping it (--seed -1 ran as 18446744073709551615) and
// lets a range check see only the wrapped value. Every unsigned flag therefore checks its text first:
// digits only, and a value that fits in 64 bits (narrower flags also carry a range or CLI11's own
// conversion check). The error names the flag: CLI11 prefixes it.
inline const CLI::Validator unsigned_integer(
    [](std::string& text) -> std::string {
      if (text.empty() || text.find_first_not_of("0123456789") != std::string::npos) {
        return "expected a whole number of 0 or more (digits only), got \"" + text + "\"";
      }
      std::uint64_t value = 0;
      const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
      if (ec != std::errc{} || end != text.data() + text.size()) {
        return "expected a whole number of at most 18446744073709551615, got " + text;
      }
      return {};
    },
    "UINT", "unsigned_integer");

// --out of a run names the folder its files go to (report, results, summary, JUnit, series): "-" would make
// a folder called "-", not standard output, which cannot hold five files.
inline const CLI::Validator output_folder(
    [](std::string& text) -> std::string {
      if (text == "-") {
        return "expected the folder to write the run's files into; \"-\" (standard output) cannot hold "
               "report.html, results.json, summary.md, junit.xml and timeseries.csv";
      }
      if (text.empty()) return "expected a folder, got an empty path";
      return {};
    },
    "DIR", "output_folder");

}  // namespace squall::cli
