#include "policies/core/json_text.hpp"

#include "policies/core/json_parse.hpp"

namespace squall {

void append_json_string(std::string& out, std::string_view text) {
  out += '"';
  append_json_string_content(out, text);
  out += '"';
}

void append_json_string_content(std::string& out, std::string_view text) {
  static constexpr char hex[] = "0123456789abcdef";
  std::size_t run = 0;  // start of the pending run of bytes that are copied as they are
  std::size_t i = 0;
  while (i < text.size()) {
    const auto u = static_cast<unsigned char>(text[i]);
    if (u >= 0x20 && u < 0x80 && u != '"' && u != '\\') {
      ++i;
      continue;
    }
    if (u >= 0x80) {
      const std::size_t n = utf8_length_at(text, i);
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
}

}  // namespace squall
