#include "reports/junit_xml.hpp"

#include <cstdint>
#include <vector>

#include "policies/core/json_parse.hpp"
#include "reports/format.hpp"

namespace squall::reports {
namespace {

// Escapes for both attribute values and text. Characters XML 1.0 forbids (most C0 controls) become
// U+FFFD; bytes that are not valid UTF-8 are passed through only as whole well-formed sequences.
std::string xml_escape(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    switch (c) {
      case '&': out += "&amp;"; continue;
      case '<': out += "&lt;"; continue;
      case '>': out += "&gt;"; continue;
      case '"': out += "&quot;"; continue;
      case '\'': out += "&apos;"; continue;
      case '\n': out += "&#10;"; continue;  // kept through attribute normalisation
      case '\t': out += "&#9;"; continue;
      case '\r': out += "&#13;"; continue;
      default: break;
    }
    if (c < 0x20) {
      out += "\xEF\xBF\xBD";
      continue;
    }
    if (c < 0x80) {
      out += static_cast<char>(c);
      continue;
    }
    // A multi-byte UTF-8 sequence: copy it when well formed, otherwise replace the lead byte.
    const std::size_t length = (c >= 0xF0 && c < 0xF5) ? 4 : (c >= 0xE0) && c < 0xF0 ? 3 : (c >= 0xC2 && c < 0xE0) ? 2 : 0;
    bool ok = length != 0 && i + length <= s.size();
    for (std::size_t k = 1; ok && k < length; ++k) ok = (static_cast<unsigned char>(s[i + k]) & 0xC0) == 0x80;
    if (!ok) {
      out += "\xEF\xBF\xBD";
      continue;
    }
    out.append(s, i, length);
    i += length - 1;
  }
  return out;
}


struct suite {
  std::string name;
  std::vector<const json*> cases;
  std::size_t failures = 0;
  std::size_t skipped = 0;
};

}  // namespace

std::string junit_xml(const json& results) {
  static const json empty_object = json::object();
  static const json empty_array = json::array();
  const json& scenario = results.contains("scenario") ? results["scenario"] : empty_object;
  const json& configs = results.contains("configurations") ? results["configurations"] : empty_array;
  const json& assertions = results.contains("assertions") ? results["assertions"] : empty_array;
  const std::string scenario_name = text_field(scenario, "name");
  const std::string reproduce = text_field(results, "reproduce");

  std::vector<suite> suites;
  for (const auto& c : configs) suites.push_back({text_field(c, "name"), {}, 0});
  for (const auto& a : assertions) {
    const std::string name = text_field(a, "configuration");
    suite* s = nullptr;
    for (auto& candidate : suites) {
      if (candidate.name == name) s = &candidate;
    }
    if (!s) s = &suites.emplace_back(suite{name, {}, 0});
    s->cases.push_back(&a);
    if (a.contains("verdict") && (a["verdict"] == "not run" || a["verdict"] == "incomplete")) {
      ++s->skipped;
    } else if (!a.value("passed", false)) {
      ++s->failures;
    }
  }
  // An interrupted run adds one suite with one errored case, "the run completed", so that a CI test view
  // shows the run as broken even where every assertion that ran held.
  const bool incomplete = results.is_object() && results.value("incomplete", false);
  std::size_t tests = incomplete ? 1 : 0, failures = 0;
  for (const auto& s : suites) {
    tests += s.cases.size();
    failures += s.failures;
  }

  std::string out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  out += "<testsuites name=\"" + xml_escape("squall " + scenario_name) + "\" tests=\"" + std::to_string(tests) +
         "\" failures=\"" + std::to_string(failures) + "\" errors=\"" + (incomplete ? "1" : "0") + "\">\n";
  if (incomplete) {
    std::string not_run;
    if (results.contains("not_run") && results["not_run"].is_array()) {
      for (const auto& n : results["not_run"]) not_run += (not_run.empty() ? "" : ", ") + (n.is_string() ? n.get<std::string>() : n.dump());
    }
    const std::string reason = "incomplete run: " + text_field(results, "incomplete_reason") +
                               (not_run.empty() ? std::string() : "; not run: " + not_run);
    out += "  <testsuite name=\"squall run\" tests=\"1\" failures=\"0\" errors=\"1\" skipped=\"0\" id=\"" +
           std::to_string(suites.size()) + "\" package=\"" + xml_escape("squall." + scenario_name) + "\">\n";
    out += "    <testcase name=\"the run completed\" classname=\"" + xml_escape("squall." + scenario_name) + "\">\n";
    out += "      <error message=\"" + xml_escape(reason) + "\" type=\"incomplete\">" +
           xml_escape(reason + "\nreproduce: " + reproduce) + "</error>\n    </testcase>\n  </testsuite>\n";
  }
  for (std::size_t i = 0; i < suites.size(); ++i) {
    const suite& s = suites[i];
    out += "  <testsuite name=\"" + xml_escape(s.name) + "\" tests=\"" + std::to_string(s.cases.size()) +
           "\" failures=\"" + std::to_string(s.failures) + "\" errors=\"0\" skipped=\"" + std::to_string(s.skipped) +
           "\" id=\"" + std::to_string(i) + "\" package=\"" + xml_escape("squall." + scenario_name) + "\">\n";
    out += "    <properties>\n";
    auto property = [&](const char* name, const std::string& value) {
      out += "      <property name=\"" + std::string(name) + "\" value=\"" + xml_escape(value) + "\"/>\n";
    };
    property("scenario", scenario_name);
    property("scenario_digest", text_field(scenario, "digest"));
    property("seed", text_field(results, "seed"));
    property("mode", text_field(results, "mode"));
    property("reproduce", reproduce);
    property("squall_version", text_field(results, "squall_version"));
    if (incomplete) property("incomplete", "true");
    out += "    </properties>\n";
    const std::string classname = xml_escape("squall." + scenario_name + "." + s.name);
    for (const json* a : s.cases) {
      out += "    <testcase name=\"" + xml_escape(assertion_name(*a)) + "\" classname=\"" + classname + "\"";
      const std::string state = text_field(*a, "verdict");
      if (state == "not run" || state == "incomplete") {
        const std::string why = state == "not run" ? "not run: the run was interrupted before this configuration"
                                                   : "incomplete: this configuration was interrupted; " + assertion_detail(*a);
        // The Jenkins schema gives <skipped> text, not attributes.
        out += ">\n      <skipped>" + xml_escape(why) + "</skipped>\n    </testcase>\n";
        continue;
      }
      if (a->value("passed", false)) {
        out += "/>\n";
        continue;
      }
      const std::string detail = assertion_detail(*a);
      out += ">\n      <failure message=\"" + xml_escape(detail) + "\" type=\"assertion\">" +
             xml_escape(s.name + ": " + detail + "\nreproduce: " + reproduce) + "</failure>\n    </testcase>\n";
    }
    out += "  </testsuite>\n";
  }
  out += "</testsuites>\n";
  return out;
}

}  // namespace squall::reports
