// Test-only: renders report.html from a results.json, so that the browser test can open the report of a
// real scenario run before the command line writes one itself.
//   squall_make_report <results.json> <report.html>

#include <fstream>
#include <iostream>
#include <sstream>

#include "reports/html/report_html.hpp"

int main(int argc, char** argv) {
  if (argc != 3) {
    std::cerr << "usage: squall_make_report <results.json> <report.html>\n";
    return 2;
  }
  std::ifstream in(argv[1], std::ios::binary);
  if (!in) {
    std::cerr << argv[1] << ": cannot open\n";
    return 2;
  }
  const squall::json results = squall::json::parse(in, nullptr, false);
  if (results.is_discarded()) {
    std::cerr << argv[1] << ": not valid JSON\n";
    return 2;
  }
  const std::string html = squall::reports::report_html(results);
  std::ofstream out(argv[2], std::ios::binary);
  out << html;
  out.close();
  if (!out) {
    std::cerr << argv[2] << ": cannot write\n";
    return 3;
  }
  return 0;
}
