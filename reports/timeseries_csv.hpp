#pragma once
// timeseries.csv: the per-interval series of every configuration as one table, for spreadsheets and
// notebooks. Rendered from a results document; the same document gives the same bytes.

#include <string>

#include "policies/core/json_reader.hpp"

namespace squall::reports {

// One header row, then one row per (configuration, interval) in document order. Columns:
// configuration, interval (0-based), then every array under configurations[].series in document order
// (end_s, offered, ..., client_rejections), then one column per outcome class under
// series.outcomes, named "outcomes_<class>" (outcomes_ok, outcomes_rate_limited, ...). A column that a
// configuration lacks is left empty. Fields follow RFC 4180: CRLF line ends, fields holding a comma,
// quote or line break are quoted, quotes doubled. A text cell starting with =, +, -, @, tab or CR is
// prefixed with a single quote so that no spreadsheet runs it as a formula. When the document is
// incomplete (an interrupted run, "incomplete": true) a last column "run_incomplete" holds 1 on every row.
std::string timeseries_csv(const json& results);

}  // namespace squall::reports
