#pragma once
// junit.xml: a run's assertions as test results, for CI systems that show JUnit reports (Jenkins,
// GitLab, GitHub test reporters). Rendered from a results document; no wall-clock time or host name,
// so the same document gives the same bytes. Follows the Jenkins JUnit schema (junit-4.xsd).

#include <string>

#include "policies/core/json_reader.hpp"

namespace squall::reports {

// <testsuites name="squall <scenario>"> holding one <testsuite> per configuration (name = the
// configuration, with properties scenario, digest, seed, mode, reproduce, squall_version), and in it one
// <testcase> per assertion on that configuration: classname "squall.<scenario>.<configuration>",
// name as written in the scenario ("success_rate_min >= 0.995"). A failed assertion carries
// <failure message="success_rate = 0.93, must be >= 0.995" type="assertion"> with the reproduce command.
// Assertions naming no configuration of the document get a suite of their own. A run without
// assertions gives suites with tests="0", still a valid file.
std::string junit_xml(const json& results);

}  // namespace squall::reports
