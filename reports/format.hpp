#pragma once
// How the human-facing writers (terminal table, Markdown summary, HTML report) show summary metrics,
// so a number reads the same everywhere. Kept apart from the writers so that each renders one row list.

#include <span>
#include <string>

#include "policies/core/json_reader.hpp"

namespace squall::reports {

enum class unit { percent, ms, count, ratio, usd };

struct metric_row {
  const char* label;
  const char* metric;  // a key of configurations[].summary
  unit kind;
  bool higher_is_better;
  bool always = false;  // shown even when zero for every configuration
};

// The rows of the side-by-side comparison, in reading order.
std::span<const metric_row> comparison_rows();

// "93.55%", "412 ms", "12.3 s", "2.721", "$0.00766", "$0.0000603", "$104.44". A share below 1 never reads
// 100% (0.999971 is "99.997%"), nor one above 0 as 0%; a cost is never in e-notation.
std::string format_value(double v, unit kind);
// The same, for a value shown in a row or column with others whose largest is `row_max`: latencies of one
// row all read in ms, or all in s when the largest reaches 10 s ("0.41 s" beside "12.3 s").
std::string format_value(double v, unit kind, double row_max);
// The change from `base` to `v`: "+1.20 pp" for rates, "+12.5%" otherwise, "=" when unchanged, "new"
// when the base is zero.
std::string format_delta(double base, double v, unit kind);
// A number as results.json stores it: six significant digits, so the file stays readable and the same
// value always rounds the same way; not finite reads as 0.
double results_number(double v);
// A field of a JSON object as text: a string as it is, any other value as its JSON, "" when absent.
std::string text_field(const json& parent, const char* key);
// Text made safe for a Markdown table cell: pipes escaped, line breaks flattened.
std::string markdown_cell(const std::string& text);
// A JSON number as the shortest text that reads back to the same value ("0.995", "5000", "1e-06").
std::string format_number(double v);

// A multi-seed run's 95% interval of a configuration's summary metric (aggregate.hpp's summary_stats), as
// text to put after its mean: " Â± 1.20 pp" for rates, " Â± 12 ms"; empty for a single run.
// `row_max` as for format_value: the interval reads in the unit of its row.
std::string format_interval(const json& config, const char* metric, unit kind, double row_max = 0);

// The configuration that configurations[i] is shown against: the one its "baseline" key names (set by
// compare_results(): "candidate: X" against "base: X"), otherwise the first; nullptr for the first itself,
// and for every configuration without a "baseline" in a document where some have one (the base run's).
const json* baseline_of(const json& configurations, std::size_t i);

// Whether `a` (an element of results.assertions) held, and the name a CI system shows for it:
// "success_rate_min >= 0.995" as written in the scenario, or the "name" a comparison gave it.
std::string assertion_name(const json& a);
// "success_rate = 0.93, must be >= 0.995".
std::string assertion_detail(const json& a);

}  // namespace squall::reports
