#pragma once
// A set of HTTP statuses, as a policy that imitates a status-reading client names them ("retry_on_status":
// [408, 409, 429, "5xx"]). A bit per status from 100 to 599, so that the call path asks with one test.

#include <bitset>
#include <cstddef>
#include <string>
#include <string_view>

#include "policies/core/json_reader.hpp"

namespace squall {

class http_status_set {
 public:
  static constexpr int status_min = 100;
  static constexpr int status_max = 599;

  void insert(int status) noexcept {
    if (status >= status_min && status <= status_max) bits_.set(static_cast<std::size_t>(status - status_min));
  }
  bool contains(int status) const noexcept {
    return status >= status_min && status <= status_max && bits_.test(static_cast<std::size_t>(status - status_min));
  }
  bool empty() const noexcept { return bits_.none(); }

 private:
  std::bitset<status_max - status_min + 1> bits_;
};

// Reads `key` (when present) as an array whose items are statuses (integers from 100 to 599) or classes
// of them ("4xx", "5xx"), into `out`. Mistakes name the item's JSON path. Returns whether the key was there.
inline bool read_http_status_set(json_reader& reader, std::string_view key, http_status_set& out) {
  const json* list = reader.child(key);
  if (list == nullptr || reader.failed()) return false;
  if (!list->is_array()) {
    reader.fail_key(key, "expected an array of HTTP statuses (408) or status classes (\"5xx\"), got " +
                             describe_json(*list));
    return false;
  }
  const std::string list_path = json_path_key(reader.path(), key);
  http_status_set result;
  for (std::size_t i = 0; i < list->size(); ++i) {
    const json& item = (*list)[i];
    const std::string item_path = json_path_index(list_path, i);
    if (item.is_number_integer()) {
      const auto status = item.get<long long>();
      if (status < http_status_set::status_min || status > http_status_set::status_max) {
        reader.fail(item_path, "expected an HTTP status from 100 to 599, got " + describe_json(item));
        return false;
      }
      result.insert(static_cast<int>(status));
      continue;
    }
    const std::string_view text = item.is_string() ? std::string_view(item.get_ref<const std::string&>()) : "";
    if (text.size() == 3 && text[0] >= '1' && text[0] <= '5' && text.substr(1) == "xx") {
      const int first = (text[0] - '0') * 100;
      for (int s = first; s < first + 100; ++s) result.insert(s);
      continue;
    }
    reader.fail(item_path, "expected an HTTP status (an integer such as 429) or a class of them (\"1xx\" to \"5xx\"), got " +
                               describe_json(item));
    return false;
  }
  out = result;
  return true;
}

}  // namespace squall
