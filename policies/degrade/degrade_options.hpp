#pragma once
// Options of the degrade policy (type "degrade"). Each member is one JSON key of the policy file, with the
// same name; the member initialisers are the defaults.
//
//   { "type": "degrade", "answer": "last_good", "entries_max": 10000, "output_tokens": 50, "latency_ms": 1,
//     "degrade_on": ["rate_limited", "overloaded", "server_error", "timeout", "connection_error"] }
//
// With rules, first match wins; "answer" and "output_tokens" are then the default for failures no rule
// matches:
//
//   { "type": "degrade", "answer": "static",
//     "rules": [ { "name": "critical", "when": { "request_class": ["critical"] }, "answer": "pass" },
//                { "name": "vip", "when": { "priority_min": 2, "failure": ["overloaded"] },
//                  "answer": "last_good" } ] }

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "policies/core/json_reader.hpp"
#include "policies/core/outcome.hpp"
#include "policies/core/outcome_class_set.hpp"
#include "policies/core/request.hpp"
#include "policies/core/request_class.hpp"

namespace squall {

// What a degraded answer is.
enum class degrade_answer : std::uint8_t {
  static_answer,  // "static": a fixed answer
  last_good,      // "last_good": the last ok answer seen for the same cache key, else the static answer
  pass,           // "pass": no degraded answer; the failure reaches the caller (rules, or the default with rules)
};

// The most rules one degrade policy may have: rule matches are kept as one bit per rule.
inline constexpr std::size_t degrade_rules_max = 32;
// The most names one "model" or "provider" list of a rule may hold.
inline constexpr std::size_t degrade_names_max = 64;

// The "when" object of a rule: every key given must match (and); an absent key matches anything.
struct degrade_match {
  // "request_class": the request classes (request.complexity: "simple", "moderate", "complex", "critical";
  // larger complexities count as critical), one bit per class. 0 = any class. The default is any.
  std::uint8_t request_classes = 0;

  // "priority_min" / "priority_max": request.priority within [min, max]. Each from 0 to 255, min <= max.
  // The defaults are 0 and 255 (any priority).
  std::uint32_t priority_min = 0;
  std::uint32_t priority_max = 255;

  // "model" / "provider": request.model (request.provider) is one of these names, as the request reached
  // the degrade policy. 1 to 64 non-empty names each. The default is any.
  std::vector<std::string> models;
  std::vector<std::string> providers;

  // "failure": the failure's class is one of these; each must be in degrade_on, since other classes never
  // reach the rules. The default (empty) is any class in degrade_on.
  outcome_class_set failures;

  // Whether the request-side keys (all but "failure") accept `req`.
  bool matches_request(const request& req) const noexcept;
  // Whether the rule matches every failure of every request (given `degrade_on`): later rules are dead.
  bool matches_everything(outcome_class_set degrade_on) const noexcept;
};

inline constexpr std::size_t degrade_text_bytes_max = 65536;

struct degrade_rule {
  // "name": what the policy's events carry when this rule decides. Non-empty, unique, not "default"
  // (the name of the decision when no rule matches). The default is "rules[<index>]".
  std::string name;
  // "when": what the rule matches. The default (absent) matches every failure in degrade_on.
  degrade_match when;
  // "answer": "static", "last_good" or "pass". Required.
  degrade_answer answer = degrade_answer::static_answer;
  // "output_tokens": the output tokens of this rule's static answer (also used by "last_good" for a key
  // with no remembered answer). From 0 to 1000000; not with "pass". The default is the policy's
  // output_tokens.
  std::optional<std::uint32_t> output_tokens;
  // "text": in production, the text of this rule's static answer; not with "pass". The default is the
  // policy's text.
  std::optional<std::string> text;
};

struct degrade_options {
  // The failure classes replaced by a degraded answer. Any class except ok and cancelled. The default is
  // every failure class except invalid_request and auth (the caller's own mistakes, which a degraded
  // answer would hide): ["rate_limited", "overloaded", "server_error", "timeout", "connection_error",
  // "quota", "circuit_open", "rejected", "bad_answer"]. Failures outside it pass through and never reach
  // the rules.
  outcome_class_set degrade_on{outcome_class::rate_limited,     outcome_class::overloaded,
                               outcome_class::server_error,     outcome_class::timeout,
                               outcome_class::connection_error, outcome_class::quota,
                               outcome_class::circuit_open,     outcome_class::rejected,
                               outcome_class::bad_answer};

  // "static" or "last_good"; with rules also "pass". With rules it answers the failures no rule matches.
  // The default is "static".
  degrade_answer answer = degrade_answer::static_answer;

  // The output tokens of the static answer. From 0 to 1000000. The default is 50 tokens.
  std::uint32_t output_tokens = 50;

  // In production (calls that carry a payload), the text of the static answer, given back as the
  // answer's text with finish reason "degraded". At most 65536 bytes. The default is empty text.
  std::string text;

  // How long producing a degraded answer takes, in milliseconds, after the failure it replaces. From 0 to
  // 60000. The default is 1 ms.
  double latency_ms = 1.0;

  // Only when some answer is "last_good": how many cache keys keep their last ok answer; the least
  // recently used key is forgotten beyond it. From 1 to 10000000. The default is 10000 entries.
  std::uint32_t entries_max = 10000;

  // Ordered rules, first match wins: 1 to 32 of them. The default is none: every failure in degrade_on
  // gets `answer`.
  std::vector<degrade_rule> rules;

  // Whether any answer (the default or a rule's) is "last_good", so that good answers must be remembered.
  bool uses_last_good() const noexcept;
};

// Reads every key above from `reader`, checking ranges; leaves absent keys at their defaults.
void read_degrade_options(json_reader& reader, degrade_options& options);

}  // namespace squall
