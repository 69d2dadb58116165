#pragma once
// Writing JSON text by appending to a string, for the hot paths (answers of the fake providers, request
// bodies of the live transport) where building an nlohmann tree per message cost more than the rest of
// the work together (bench/README.md). Everything else builds trees: they are clearer.

#include <string>
#include <string_view>

namespace squall {

// Appends `text` as a JSON string literal: quoted, with '"', '\\' and control characters escaped. Valid
// UTF-8 passes through unchanged; a byte that is not part of valid UTF-8 becomes U+FFFD, so the result is
// always valid JSON whatever the text held (a log line, a server's answer).
void append_json_string(std::string& out, std::string_view text);
// The same without the quotes: a piece of a string literal (a template's text around its placeholders).
void append_json_string_content(std::string& out, std::string_view text);

}  // namespace squall
