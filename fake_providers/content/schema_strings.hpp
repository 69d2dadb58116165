#pragma once
// The strings of generated instances: readable words, the common `format`s and the regex subset of
// `pattern`. Plain functions of their arguments and an injected rng, tested on their own.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "policies/core/rng.hpp"

namespace squall::fake::content {

// One word of the vocabulary (lower-case ASCII letters, 2 to 8 of them).
std::string_view word(rng& r);

// Words separated by single spaces, at least `length_min` and at most `length_max` characters
// (length_min <= length_max); aims at one to four words when the bounds allow.
std::string words_between(rng& r, std::uint32_t length_min, std::uint32_t length_max);

// A value of `format` (date-time, date, time, email, uuid, uri, hostname, ipv4, ipv6), or nothing for a
// format the generator does not know: JSON Schema treats those as annotations, so any string will do.
std::optional<std::string> format_string(std::string_view format, rng& r);

// A string matching `pattern` (ECMA-262 as JSON Schema says, searched unanchored, so an exact match of the
// anchored body is always valid), or the reason it cannot be honoured. The subset: ^ and $ at the ends,
// literal characters and escapes (\. \- \\ ...), classes [a-z0-9_] and [^...], \d \w \s \D \W \S, `.`,
// groups (...) (?:...) with alternatives |, and the quantifiers ? * + {n} {n,} {n,m} (open ones repeat
// at most 3 more times). Not: back-references, look-arounds, \b, Unicode classes, anchors inside.
struct pattern_outcome {
  std::optional<std::string> text;  // set on success
  std::string reason;               // why not, otherwise
};
pattern_outcome pattern_string(std::string_view pattern, rng& r, std::uint32_t length_max);

}  // namespace squall::fake::content
