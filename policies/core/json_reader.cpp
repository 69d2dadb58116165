#include "policies/core/json_reader.hpp"

#include <algorithm>
#include <cmath>

#include "policies/core/json_parse.hpp"

namespace squall {

std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0U : 1U)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

namespace {


std::string format_number(double v) {
  if (std::isfinite(v) && v == std::floor(v) && std::fabs(v) < 1e15) {
    return std::to_string(static_cast<long long>(v));
  }
  json j = v;
  return j.dump();
}

}  // namespace

std::string json_path_key(const std::string& parent, std::string_view key) {
  std::string out = parent;
  const bool plain = !key.empty() && std::all_of(key.begin(), key.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
  });
  if (plain) {
    out += '.';
    out += key;
  } else {
    out += "[";
    out += dump_json(json(valid_utf8(key)));
    out += "]";
  }
  return out;
}

std::string json_path_index(const std::string& parent, std::size_t index) {
  return parent + "[" + std::to_string(index) + "]";
}

std::string describe_json(const json& value) {
  switch (value.type()) {
    case json::value_t::object: return "an object";
    case json::value_t::array: return "an array";
    case json::value_t::null: return "null";
    case json::value_t::string: {
      return dump_json(json(valid_utf8(cut_utf8(value.get_ref<const std::string&>(), 40))));
    }
    default: return dump_json(value);
  }
}

json_reader::json_reader(const json& value, std::string path) : value_(value), path_(std::move(path)) {
  if (!value_.is_object()) fail(path_, "expected an object, got " + describe_json(value_));
}

const json* json_reader::lookup(std::string_view key) {
  known_.emplace_back(key);
  if (failed()) return nullptr;
  auto it = value_.find(key);
  return it == value_.end() ? nullptr : &*it;
}

void json_reader::fail(std::string path, std::string message) {
  if (!error_) error_ = config_error{{}, std::move(path), std::move(message)};
}

void json_reader::fail_key(std::string_view key, std::string message) {
  fail(json_path_key(path_, key), std::move(message));
}

json_reader& json_reader::number(std::string_view key, double& out, double min, double max) {
  const json* v = lookup(key);
  if (!v) return *this;
  if (!v->is_number()) {
    fail_key(key, "expected a number, got " + describe_json(*v));
  } else {
    const double d = v->get<double>();
    if (!(d >= min && d <= max)) {
      fail_key(key, "expected a number from " + format_number(min) + " to " + format_number(max) + ", got " +
                        describe_json(*v));
    } else {
      out = d;
    }
  }
  return *this;
}

json_reader& json_reader::number(std::string_view key, std::optional<double>& out, double min, double max) {
  double d = out.value_or(min);
  const bool present = value_.is_object() && value_.contains(key);
  number(key, d, min, max);
  if (present && !failed()) out = d;
  return *this;
}

json_reader& json_reader::integer(std::string_view key, std::int64_t& out, std::int64_t min, std::int64_t max) {
  const json* v = lookup(key);
  if (!v) return *this;
  const bool integral = v->is_number_integer() ||
                        (v->is_number_float() && std::floor(v->get<double>()) == v->get<double>() &&
                         std::fabs(v->get<double>()) < 9e15);
  if (!integral) {
    fail_key(key, "expected an integer from " + std::to_string(min) + " to " + std::to_string(max) + ", got " +
                      describe_json(*v));
    return *this;
  }
  bool in_range = false;
  std::int64_t i = 0;
  if (v->is_number_unsigned()) {
    const auto u = v->get<std::uint64_t>();
    in_range = u <= static_cast<std::uint64_t>(max) && static_cast<std::int64_t>(u) >= min;
    i = static_cast<std::int64_t>(u);
  } else if (v->is_number_integer()) {
    i = v->get<std::int64_t>();
    in_range = i >= min && i <= max;
  } else {
    i = static_cast<std::int64_t>(v->get<double>());
    in_range = i >= min && i <= max;
  }
  if (!in_range) {
    fail_key(key, "expected an integer from " + std::to_string(min) + " to " + std::to_string(max) + ", got " +
                      describe_json(*v));
  } else {
    out = i;
  }
  return *this;
}

json_reader& json_reader::count(std::string_view key, std::uint32_t& out, std::uint32_t min, std::uint32_t max) {
  std::int64_t i = out;
  integer(key, i, min, max);
  out = static_cast<std::uint32_t>(i);
  return *this;
}

json_reader& json_reader::seed(std::string_view key, std::optional<std::uint64_t>& out) {
  const json* v = lookup(key);
  if (!v) return *this;
  if (v->is_number_unsigned()) {
    out = v->get<std::uint64_t>();
  } else if (v->is_number_integer() && v->get<std::int64_t>() >= 0) {
    out = static_cast<std::uint64_t>(v->get<std::int64_t>());
  } else {
    fail_key(key, "expected an integer from 0 to 18446744073709551615, got " + describe_json(*v));
  }
  return *this;
}

json_reader& json_reader::boolean(std::string_view key, bool& out) {
  const json* v = lookup(key);
  if (!v) return *this;
  if (!v->is_boolean()) {
    fail_key(key, "expected true or false, got " + describe_json(*v));
  } else {
    out = v->get<bool>();
  }
  return *this;
}

json_reader& json_reader::string(std::string_view key, std::string& out) {
  const json* v = lookup(key);
  if (!v) return *this;
  if (!v->is_string()) {
    fail_key(key, "expected a string, got " + describe_json(*v));
  } else {
    out = v->get<std::string>();
  }
  return *this;
}

json_reader& json_reader::choice(std::string_view key, std::string& out,
                                 std::initializer_list<std::string_view> allowed) {
  const json* v = lookup(key);
  if (!v) return *this;
  std::string list;
  for (auto a : allowed) {
    if (!list.empty()) list += ", ";
    list += '"';
    list += a;
    list += '"';
  }
  if (!v->is_string() || std::find(allowed.begin(), allowed.end(), v->get<std::string>()) == allowed.end()) {
    fail_key(key, "expected one of " + list + ", got " + describe_json(*v));
  } else {
    out = v->get<std::string>();
  }
  return *this;
}

const json* json_reader::child(std::string_view key) { return lookup(key); }

const json* json_reader::required(std::string_view key, std::string_view what) {
  const json* v = lookup(key);
  if (!v && !failed()) fail(path_, "missing key \"" + std::string(key) + "\"; expected " + std::string(what));
  return v;
}

json_reader& json_reader::allow_only(std::initializer_list<std::string_view> keys) {
  for (auto k : keys) known_.emplace_back(k);
  if (!failed()) report_unknown_keys();
  return *this;
}

std::optional<config_error> json_reader::finish() {
  if (!error_) report_unknown_keys();
  return error_;
}

void json_reader::report_unknown_keys() {
  if (!value_.is_object()) return;
  for (auto it = value_.begin(); it != value_.end(); ++it) {
    const std::string& key = it.key();
    if (std::find(known_.begin(), known_.end(), key) != known_.end()) continue;
    std::string message = "unknown key \"" + key + "\"";
    std::string best;
    std::size_t best_distance = 3;
    for (const auto& k : known_) {
      const std::size_t d = edit_distance(key, k);
      if (d < best_distance) {
        best_distance = d;
        best = k;
      }
    }
    if (!best.empty()) {
      message += "; did you mean \"" + best + "\"?";
    } else {
      std::vector<std::string> sorted = known_;
      std::sort(sorted.begin(), sorted.end());
      sorted.erase(std::unique(sorted.begin(), sorted.end()), sorted.end());
      message += "; expected one of:";
      for (const auto& k : sorted) message += " " + k;
    }
    fail(path_, std::move(message));
    break;
  }
}

bool keep_first(std::optional<config_error>& error, std::optional<config_error> e) {
  if (!e) return false;
  if (!error) error = std::move(e);
  return true;
}

}  // namespace squall
