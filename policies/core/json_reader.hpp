#pragma once
// Strict reading of JSON objects into options structs. Every key must be known, every value must have
// the expected type and lie in its range; the first mistake is kept with its JSON path. Readers only
// overwrite a field when its key is present, so a struct's member initialisers are the defaults.

#include <cstdint>
#include <initializer_list>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "policies/core/config_error.hpp"

namespace squall {

// squall keeps the user's key order everywhere (configuration order, error messages, output).
using json = nlohmann::ordered_json;

std::string json_path_key(const std::string& parent, std::string_view key);
std::string json_path_index(const std::string& parent, std::size_t index);
// A short rendering of a value for error messages ("-3", "\"fast\"", "an object").
std::string describe_json(const json& value);
// Levenshtein distance (insertions, deletions, substitutions), for "did you mean": an unknown key against
// the known ones, a mistyped command against the real ones.
std::size_t edit_distance(std::string_view a, std::string_view b);

class json_reader {
 public:
  // `value` must outlive the reader. A non-object value is reported as the first error.
  json_reader(const json& value, std::string path);

  bool failed() const noexcept { return error_.has_value(); }
  const std::string& path() const noexcept { return path_; }

  // Each reader marks its key as known. Absent keys leave `out` unchanged (its default).
  json_reader& number(std::string_view key, double& out, double min, double max);
  json_reader& number(std::string_view key, std::optional<double>& out, double min, double max);
  json_reader& integer(std::string_view key, std::int64_t& out, std::int64_t min, std::int64_t max);
  json_reader& count(std::string_view key, std::uint32_t& out, std::uint32_t min, std::uint32_t max);
  json_reader& seed(std::string_view key, std::optional<std::uint64_t>& out);
  json_reader& boolean(std::string_view key, bool& out);
  json_reader& string(std::string_view key, std::string& out);
  json_reader& choice(std::string_view key, std::string& out, std::initializer_list<std::string_view> allowed);

  // Marks `key` as known and returns its value, or nullptr when absent. For nested structures.
  const json* child(std::string_view key);
  // Like child(), but reports a missing key.
  const json* required(std::string_view key, std::string_view what);

  // Records an error at `path` (the first error wins).
  void fail(std::string path, std::string message);
  void fail_key(std::string_view key, std::string message);

  // Declares every key the object may have and reports an unknown one at once. Call it first where a
  // misspelt key would otherwise surface as a confusing "missing key" error.
  json_reader& allow_only(std::initializer_list<std::string_view> keys);

  // Reports unknown keys (with a suggestion when one is close) and returns the first error, if any.
  std::optional<config_error> finish();

 private:
  const json* lookup(std::string_view key);
  void report_unknown_keys();

  const json& value_;
  std::string path_;
  std::vector<std::string> known_;
  std::optional<config_error> error_;
};

// Records `e` into `error` unless an earlier error is there; returns whether `e` held an error.
bool keep_first(std::optional<config_error>& error, std::optional<config_error> e);

}  // namespace squall
