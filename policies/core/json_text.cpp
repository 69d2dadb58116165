#include "policies/core/json_text.hpp"

namespace squall {
namespace {

// The length of the valid UTF-8 sequence starting at text[i] (a lead byte >= 0x80), or 0.
std::size_t utf8_sequence_length(std::string_view text, std::size_t i) noexcept {
  const auto b0 = static_cast<unsigned char>(text[i]);
  std::size_t n = 0;
  unsigned char lo = 0x80, hi = 0xBF;  // the allowed range of the second byte
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    n = 2;
  } else if (b0 == 0xE0) {
    n = 3;
    lo = 0xA0;  // no overlong forms
  } else if ((b0 >= 0xE1 && b0 <= 0xEC) || b0 == 0xEE || b0 == 0xEF) {
    n = 3;
  } else if (b0 == 0xED) {
    n = 3;
    hi = 0x9F;  // no UTF-16 surrogates
  } else if (b0 == 0xF0) {
    n = 4;
    lo = 0x90;
  } else if (b0 >= 0xF1 && b0 <= 0xF3) {
    n = 4;
  } else if (b0 == 0xF4) {
    n = 4;
    hi = 0x8F;  // nothing past U+10FFFF
  } else {
    return 0;
  }
  if (i + n > text.size()) return 0;
  for (std::size_t k = 1; k < n; ++k) {
    const auto b = static_cast<unsigned char>(text[i + k]);
    if (k == 1 ? (b < lo || b > hi) : (b < 0x80 || b > 0xBF)) return 0;
  }
  return n;
}

}  // namespace

void append_json_string(std::string& out, std::string_view text) {
  static constexpr char hex[] = "0123456789abcdef";
  out += '"';
  std::size_t run = 0;  // start of the pending run of bytes that are copied as they are
  std::size_t i = 0;
  while (i < text.size()) {
    const auto u = static_cast<unsigned char>(text[i]);
    if (u >= 0x20 && u < 0x80 && u != '"' && u != '\\') {
      ++i;
      continue;
    }
    if (u >= 0x80) {
      const std::size_t n = utf8_sequence_length(text, i);
      if (n != 0) {
        i += n;  // valid UTF-8 stays in the run
        continue;
      }
      out.append(text.substr(run, i - run));
      out += "\xEF\xBF\xBD";  // U+FFFD, as nlohmann's "replace" error handler does
      run = ++i;
      continue;
    }
    out.append(text.substr(run, i - run));
    run = ++i;
    switch (u) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      default:
        out += "\\u00";
        out += hex[u >> 4];
        out += hex[u & 0xF];
    }
  }
  out.append(text.substr(run));
  out += '"';
}

}  // namespace squall
