#include "fake_providers/content/schema_strings.hpp"

#include <array>
#include <cstdio>
#include <vector>

namespace squall::fake::content {

namespace {

constexpr std::array<std::string_view, 32> vocabulary = {
    "river",  "amber", "signal", "quiet", "orbit", "maple",  "harbor", "lantern", "copper", "meadow", "pixel",
    "summit", "cobalt", "ember",  "falcon", "garden", "island", "jasper", "kettle",  "lumen",  "marble", "nectar",
    "otter",  "pepper", "quartz", "ripple", "saffron", "timber", "velvet", "willow",  "yonder", "zephyr"};

std::string two_digits(std::uint64_t n) {
  std::string out(2, '0');
  out[0] = static_cast<char>('0' + (n / 10) % 10);
  out[1] = static_cast<char>('0' + n % 10);
  return out;
}

std::string date(rng& r) {
  return std::to_string(2024 + r.below(3)) + "-" + two_digits(1 + r.below(12)) + "-" + two_digits(1 + r.below(28));
}

std::string time_of_day(rng& r) {
  return two_digits(r.below(24)) + ":" + two_digits(r.below(60)) + ":" + two_digits(r.below(60)) + "Z";
}

std::string hex(rng& r, int digits) {
  static constexpr std::string_view alphabet = "0123456789abcdef";
  std::string out;
  for (int i = 0; i < digits; ++i) out += alphabet[r.below(16)];
  return out;
}

// --- pattern: a parsed regex, one node per atom with its repetition bounds -------------------------------

struct pattern_node {
  std::string chars;                                  // the characters an atom may be (empty for a group)
  std::vector<std::vector<pattern_node>> alternatives;  // a group's alternatives
  std::uint32_t min = 1;
  std::uint32_t max = 1;
};

constexpr std::uint32_t open_repeats = 3;     // * + {n,} add at most this many beyond the minimum
constexpr std::uint32_t group_depth_max = 16;  // nested groups
constexpr std::uint32_t repeat_max = 1000;     // {n,m} with larger n or m is refused

std::string range(char lo, char hi) {
  std::string out;
  for (int c = lo; c <= hi; ++c) out += static_cast<char>(c);
  return out;
}

const std::string& printable() {
  static const std::string all = range(' ', '~');
  return all;
}

class pattern_parser {
 public:
  explicit pattern_parser(std::string_view text) : text_(text) {}

  bool parse(std::vector<std::vector<pattern_node>>& out) {
    if (!text_.empty() && text_.front() == '^') ++pos_;
    std::string_view body = text_.substr(pos_);
    // A final unescaped $ anchors the end; the exact match generated satisfies it.
    if (!body.empty() && body.back() == '$' && (body.size() < 2 || body[body.size() - 2] != '\\')) {
      text_.remove_suffix(1);
    }
    if (!alternation(out, 0)) return false;
    if (pos_ != text_.size()) return fail("an unmatched ')'");
    return true;
  }

  const std::string& reason() const { return reason_; }

 private:
  bool fail(std::string what) {
    if (reason_.empty()) reason_ = "uses " + what + " (at offset " + std::to_string(pos_) + ")";
    return false;
  }

  bool alternation(std::vector<std::vector<pattern_node>>& out, std::uint32_t depth) {
    if (depth > group_depth_max) return fail("groups nested deeper than " + std::to_string(group_depth_max));
    out.emplace_back();
    while (pos_ < text_.size()) {
      const char c = text_[pos_];
      if (c == ')') break;
      if (c == '|') {
        ++pos_;
        out.emplace_back();
        continue;
      }
      pattern_node node;
      if (!atom(node, depth)) return false;
      if (!quantifier(node)) return false;
      out.back().push_back(std::move(node));
    }
    return true;
  }

  bool atom(pattern_node& node, std::uint32_t depth) {
    const char c = text_[pos_++];
    switch (c) {
      case '(':
        if (text_.substr(pos_, 2) == "?:") {
          pos_ += 2;
        } else if (pos_ < text_.size() && text_[pos_] == '?') {
          return fail("a look-around or named group");
        }
        if (!alternation(node.alternatives, depth + 1)) return false;
        if (pos_ >= text_.size() || text_[pos_] != ')') return fail("an unclosed '('");
        ++pos_;
        return true;
      case '[':
        return char_class(node.chars);
      case '.':
        node.chars = printable();
        return true;
      case '\\':
        return escape(node.chars, false);
      case '^':
      case '$':
        return fail("an anchor inside the pattern");
      case '*':
      case '+':
      case '?':
      case '{':
        return fail("a quantifier with nothing to repeat");
      default:
        node.chars = std::string(1, c);
        return true;
    }
  }

  bool escape(std::string& chars, bool in_class) {
    if (pos_ >= text_.size()) return fail("a trailing backslash");
    const char c = text_[pos_++];
    switch (c) {
      case 'd': chars += range('0', '9'); return true;
      case 'w': chars += range('a', 'z') + range('A', 'Z') + range('0', '9') + "_"; return true;
      case 's': chars += " "; return true;
      case 'D': chars += range('a', 'z'); return true;
      case 'W': chars += "-"; return true;
      case 'S': chars += range('a', 'z'); return true;
      case 't': chars += "\t"; return true;
      case 'n': chars += "\n"; return true;
      default: break;
    }
    const bool letter_or_digit = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    if (letter_or_digit) {
      return fail(in_class ? std::string("the class escape \\") + c : std::string("the escape \\") + c);
    }
    chars += c;  // an escaped punctuation character stands for itself
    return true;
  }

  bool char_class(std::string& chars) {
    bool negated = false;
    if (pos_ < text_.size() && text_[pos_] == '^') {
      negated = true;
      ++pos_;
    }
    std::string members;
    bool first = true;
    while (pos_ < text_.size() && (text_[pos_] != ']' || first)) {
      first = false;
      std::string one;
      if (text_[pos_] == '\\') {
        ++pos_;
        if (!escape(one, true)) return false;
      } else {
        one = std::string(1, text_[pos_++]);
      }
      // A range a-z: a single character, '-', then a character other than ']'.
      if (one.size() == 1 && pos_ + 1 < text_.size() && text_[pos_] == '-' && text_[pos_ + 1] != ']') {
        ++pos_;
        char hi = text_[pos_++];
        if (hi == '\\') {
          std::string escaped;
          if (!escape(escaped, true)) return false;
          if (escaped.size() != 1) return fail("a range ending in a class");
          hi = escaped[0];
        }
        if (hi < one[0]) return fail("a reversed range");
        members += range(one[0], hi);
      } else {
        members += one;
      }
    }
    if (pos_ >= text_.size()) return fail("an unclosed '['");
    ++pos_;
    if (!negated) {
      if (members.empty()) return fail("an empty class");
      chars = members;
      return true;
    }
    for (char c : printable()) {
      if (members.find(c) == std::string::npos) chars += c;
    }
    if (chars.empty()) return fail("a class that excludes every printable character");
    return true;
  }

  bool number(std::uint32_t& out) {
    const std::size_t start = pos_;
    std::uint64_t value = 0;
    while (pos_ < text_.size() && text_[pos_] >= '0' && text_[pos_] <= '9') {
      value = value * 10 + static_cast<std::uint64_t>(text_[pos_++] - '0');
      if (value > repeat_max) return fail("a repetition count above " + std::to_string(repeat_max));
    }
    out = static_cast<std::uint32_t>(value);
    return pos_ > start;
  }

  bool quantifier(pattern_node& node) {
    if (pos_ >= text_.size()) return true;
    const char c = text_[pos_];
    if (c == '?') node.min = 0, node.max = 1;
    else if (c == '*') node.min = 0, node.max = open_repeats;
    else if (c == '+') node.min = 1, node.max = 1 + open_repeats;
    else if (c == '{') {
      ++pos_;
      if (!number(node.min)) return reason_.empty() ? fail("a '{' that is not a repetition") : false;
      node.max = node.min;
      if (pos_ < text_.size() && text_[pos_] == ',') {
        ++pos_;
        if (pos_ < text_.size() && text_[pos_] == '}') node.max = node.min + open_repeats;
        else if (!number(node.max)) return reason_.empty() ? fail("a malformed repetition") : false;
      }
      if (pos_ >= text_.size() || text_[pos_] != '}') return fail("an unclosed '{'");
      if (node.max < node.min) return fail("a repetition whose maximum is below its minimum");
    } else {
      return true;
    }
    ++pos_;
    // A lazy or possessive suffix changes which match is found, not which strings match.
    if (pos_ < text_.size() && (text_[pos_] == '?' || text_[pos_] == '+')) ++pos_;
    return true;
  }

  std::string_view text_;
  std::size_t pos_ = 0;
  std::string reason_;
};

// Appends a match of `sequence`; false when it would pass `length_max` characters.
bool emit(const std::vector<pattern_node>& sequence, rng& r, std::uint32_t length_max, std::string& out) {
  for (const pattern_node& node : sequence) {
    const std::uint32_t count = node.min + static_cast<std::uint32_t>(r.below(node.max - node.min + 1ULL));
    for (std::uint32_t i = 0; i < count; ++i) {
      if (node.alternatives.empty()) {
        if (out.size() >= length_max) return false;
        out += node.chars[r.below(node.chars.size())];
      } else if (!emit(node.alternatives[r.below(node.alternatives.size())], r, length_max, out)) {
        return false;
      }
    }
  }
  return true;
}

}  // namespace

std::string_view word(rng& r) { return vocabulary[r.below(vocabulary.size())]; }

std::string words_between(rng& r, std::uint32_t length_min, std::uint32_t length_max) {
  std::string out;
  const std::uint64_t words = 1 + r.below(4);
  for (std::uint64_t i = 0; i < words || out.size() < length_min; ++i) {
    std::string_view next = word(r);
    if (!out.empty() && out.size() + 1 + next.size() > length_max && out.size() >= length_min) break;
    if (!out.empty()) out += ' ';
    out += next;
  }
  if (out.size() > length_max) out.resize(length_max);
  // A cut can leave a trailing space; a letter reads better and keeps the length.
  if (!out.empty() && out.back() == ' ') out.back() = 'a';
  return out;
}

std::optional<std::string> format_string(std::string_view format, rng& r) {
  if (format == "date-time") return date(r) + "T" + time_of_day(r);
  if (format == "date") return date(r);
  if (format == "time") return time_of_day(r);
  if (format == "email") return std::string(word(r)) + "." + std::string(word(r)) + "@example.com";
  if (format == "uuid") {
    static constexpr std::string_view variant = "89ab";
    return hex(r, 8) + "-" + hex(r, 4) + "-4" + hex(r, 3) + "-" + variant[r.below(4)] + hex(r, 3) + "-" + hex(r, 12);
  }
  if (format == "uri") return "https://example.com/" + std::string(word(r)) + "/" + std::string(word(r));
  if (format == "hostname") return std::string(word(r)) + ".example.com";
  if (format == "ipv4") {
    return "10." + std::to_string(r.below(256)) + "." + std::to_string(r.below(256)) + "." +
           std::to_string(1 + r.below(254));
  }
  if (format == "ipv6") return "fd00::" + hex(r, 4) + ":" + hex(r, 4);
  return std::nullopt;
}

pattern_outcome pattern_string(std::string_view pattern, rng& r, std::uint32_t length_max) {
  for (char c : pattern) {
    // Classes of multi-byte characters would be split into bytes that are not UTF-8.
    if (static_cast<unsigned char>(c) >= 0x80) return {std::nullopt, "pattern " + std::string(pattern) + " has non-ASCII characters"};
  }
  std::vector<std::vector<pattern_node>> alternatives;
  pattern_parser parser(pattern);
  if (!parser.parse(alternatives)) return {std::nullopt, "pattern " + std::string(pattern) + " " + parser.reason()};
  std::string out;
  if (!emit(alternatives[r.below(alternatives.size())], r, length_max, out)) {
    return {std::nullopt, "pattern " + std::string(pattern) + " gives strings longer than " +
                              std::to_string(length_max) + " characters"};
  }
  return {std::move(out), {}};
}

}  // namespace squall::fake::content
