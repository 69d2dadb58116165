#pragma once
// Real results documents for the writers' tests: a small scenario run through the simulation library,
// exactly as `squall run` does, so the tests read what users get.

#include <cstdint>
#include <string>

#include "policies/core/json_reader.hpp"

namespace squall::reports::testing {

// A scenario document run as `squall run FILE --seed SEED` runs it: every configuration, its summary,
// the assertions judged, and the results document read back through text as a reader of results.json
// sees it. Throws with the parser's message when the document is not a valid scenario.
json run_document(const json& scenario, std::uint64_t seed, const std::string& file);

// The name of the third configuration: a comma, quotes and XML's special characters, to exercise quoting.
inline const std::string odd_name = "odd, \"quoted\" <name> & co";

// A 60 s run of 20 requests/s against a provider that fails half its calls from 20 s to 40 s, with
// three configurations: "plain" (no policy), "retry" (three attempts) and odd_name (no policy). The
// assertions: retry success_rate_min 0.9 (holds), plain success_rate_min 0.99 (fails),
// plain latency_p99_ms_max 100000 (holds). `fault_rate` changes the failure share of the window;
// `with_assertions` false gives a run with none.
json run_scenario(std::uint64_t seed = 7, double fault_rate = 0.5, bool with_assertions = true);

// A model name that must stay text in every report.
inline const std::string script_model = "<script>alert(1)</script>";

// A 60 s run of 20 requests/s to provider "primary" (model "m1"), which answers every call with 503
// from 20 s to 40 s; provider "backup" serves model script_model. Two configurations: "plain" (no
// policy: the 503s reach the caller) and "fallback" (a fallback from primary/m1 to backup/script_model:
// the 503s stay on the attempts' side). No assertions.
json run_fallback_scenario(std::uint64_t seed = 11);

}  // namespace squall::reports::testing
