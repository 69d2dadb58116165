#pragma once
// report.html: one self-contained page rendered from a results document ("squall-results/1"). It
// embeds the data, one Vega-Lite specification per chart and the chart libraries themselves, so it
// opens offline and from anywhere (a CI artifact, an e-mail attachment). The first screen answers
// "which configuration held up, and when did the incident happen": verdict, per-configuration cards,
// the fault timeline and the side-by-side table; the charts over time follow, every one shaded with
// the scenario's fault windows and coloured the same way per configuration.

#include <string>
#include <string_view>

#include "policies/core/json_reader.hpp"

namespace squall::reports {

// Renders the page. Pure: the same document gives the same bytes, and nothing is read from outside.
// Parts missing from the document (no faults, no series, no assertions) are left out of the page
// rather than reported as errors, so a partial document still renders what it has.
std::string report_html(const json& results);

// Makes text safe to place inside a <script> element: "</script" and "<!--" could otherwise end it or
// switch the HTML parser into a state where a later "</script>" does not. The rewrites keep the meaning
// of JavaScript and JSON, where "<\/" reads as "</" and "<\!--" as "<!--" inside strings.
std::string escape_script(std::string_view text);

// JSON for a <script type="application/json"> element: "<", ">" and "&" written as \u escapes, so no
// sequence in the data can close the element.
std::string script_json(const json& value);

// Escapes text for HTML content and attribute values.
std::string escape_html(std::string_view text);

}  // namespace squall::reports
