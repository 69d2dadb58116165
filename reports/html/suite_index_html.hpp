#pragma once
// index.html of a run of several scenarios: one line per scenario (verdict, assertions held, a link to its
// report.html) and the configurations' headline numbers, so a reviewer opens the one that failed first.
// Self-contained and script-free: it is a page of links.

#include <string>
#include <vector>

#include "reports/suite_index.hpp"

namespace squall::reports {

std::string suite_index_html(const std::vector<suite_run>& runs, int exit_code);

}  // namespace squall::reports
