#pragma once
// The one reader of JSON text for every input squall takes: scenario, policy, trace, results and
// tolerance files, log rows, HTTP bodies and the control API. It is strict where a silent guess would
// mislead: a repeated key is an error (not "the last one wins"), bytes that are not UTF-8 are an error,
// and nesting deeper than a limit is refused while parsing, before a tree is built, so that nothing later
// copies, dumps or walks a document deep enough to overflow the stack. Errors are values that name the
// line and column or the JSON path, and say what was expected.
//
// Messages built from user text go through the UTF-8 helpers below, so a message cut to length never
// splits a character and nothing that renders it (nlohmann's dump, a terminal, an HTML page) can fail on it.

#include <cstddef>
#include <filesystem>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "policies/core/config_error.hpp"

namespace squall {

struct json_parse_limits {
  // Objects and arrays nested deeper than this are refused. squall's own files nest fewer than 10
  // levels; a JSON Schema in a tool definition rarely passes 20. The default value is 64.
  std::size_t depth_max = 64;
  // Text longer than this is refused before parsing. The default value is 256 MiB.
  std::size_t bytes_max = std::size_t{256} << 20;
};

// Parses one JSON document. `Json` is nlohmann::ordered_json (squall::json, which keeps the user's key
// order) or nlohmann::json. On error the result's `path` is the JSON path of the offending key or value
// ("$.providers.openai.models" for a repeated key), or empty when the text itself is not JSON; the
// message then starts with "invalid JSON at line L, column C:". `file` is left empty for the caller.
template <class Json>
config_result<Json> parse_json_as(std::string_view text, const json_parse_limits& limits = {});

config_result<nlohmann::ordered_json> parse_json(std::string_view text, const json_parse_limits& limits = {});

// One line of JSON Lines (a trace, a log): as parse_json, but a syntax error names only the column, since
// the caller names the line of the file.
config_result<nlohmann::ordered_json> parse_json_line(std::string_view line, const json_parse_limits& limits = {});

// A file's whole text, refused when it is a directory (`kind` says what was expected: "a JSON file"), cannot
// be opened or read, or is longer than `bytes_max`; errors name the file. Every reader of files uses it.
config_result<std::string> read_text_file(const std::filesystem::path& file, std::size_t bytes_max,
                                          std::string_view kind);

// Reads and parses a file; errors name the file.
config_result<nlohmann::ordered_json> read_json_file(const std::filesystem::path& file,
                                                     const json_parse_limits& limits = {});

// `text` cut to at most `bytes_max` bytes on a code-point boundary, with "..." appended when cut.
std::string cut_utf8(std::string_view text, std::size_t bytes_max);

// `text` with every byte that is not part of valid UTF-8 replaced by U+FFFD, so that it can be dumped,
// printed or embedded in HTML safely.
std::string valid_utf8(std::string_view text);

// The length of the valid UTF-8 sequence starting at text[i] (1 for ASCII), or 0 when none starts there.
std::size_t utf8_length_at(std::string_view text, std::size_t i) noexcept;

// Whether `text` is valid UTF-8 (no overlong forms, no surrogates, nothing past U+10FFFF).
bool is_valid_utf8(std::string_view text) noexcept;

// nlohmann's dump that never throws: strings that are not valid UTF-8 are written with U+FFFD.
template <class Json>
std::string dump_json(const Json& value, int indent = -1) {
  return value.dump(indent, ' ', false, Json::error_handler_t::replace);
}

}  // namespace squall
