#pragma once
// A set of outcome classes, as policies name them in their options ("retry_on", "failure_on"). It is a
// bit mask so that asking "is this class in the set?" on the call path costs one AND, never a lookup.

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>

#include "policies/core/json_reader.hpp"
#include "policies/core/outcome.hpp"

namespace squall {

class outcome_class_set {
 public:
  constexpr outcome_class_set() = default;
  constexpr outcome_class_set(std::initializer_list<outcome_class> classes) {
    for (auto c : classes) insert(c);
  }

  constexpr void insert(outcome_class c) noexcept { bits_ |= bit(c); }
  constexpr bool contains(outcome_class c) const noexcept { return (bits_ & bit(c)) != 0; }
  constexpr bool empty() const noexcept { return bits_ == 0; }
  friend constexpr bool operator==(outcome_class_set, outcome_class_set) = default;

 private:
  static constexpr std::uint32_t bit(outcome_class c) noexcept { return 1U << static_cast<unsigned>(c); }
  static_assert(outcome_class_count <= 32, "outcome_class_set keeps one bit per class");

  std::uint32_t bits_ = 0;
};

// Why a policy refuses to list class `c` in one of its sets, or empty when it accepts it.
using outcome_class_refusal = std::string_view (*)(outcome_class c);

// Reads `key` (when present) as an array of class names into `out`, replacing the default. Mistakes
// name the element's JSON path ("$.policies[1].retry_on[2]"): a non-string, an unknown name (with the
// list of known ones) or a class `refuse` rejects.
inline void read_outcome_class_set(json_reader& reader, std::string_view key, outcome_class_set& out,
                                   outcome_class_refusal refuse = nullptr) {
  const json* list = reader.child(key);
  if (list == nullptr || reader.failed()) return;
  if (!list->is_array()) {
    reader.fail_key(key, "expected an array of outcome class names, got " + describe_json(*list));
    return;
  }
  const std::string list_path = json_path_key(reader.path(), key);
  outcome_class_set result;
  for (std::size_t i = 0; i < list->size(); ++i) {
    const json& item = (*list)[i];
    const std::string item_path = json_path_index(list_path, i);
    if (!item.is_string()) {
      reader.fail(item_path, "expected an outcome class name, got " + describe_json(item));
      return;
    }
    const auto c = outcome_class_from_string(item.get_ref<const std::string&>());
    if (!c) {
      std::string known;
      for (auto name : outcome_class_names) {
        if (!known.empty()) known += ", ";
        known += name;
      }
      reader.fail(item_path, "unknown outcome class " + describe_json(item) + "; expected one of " + known);
      return;
    }
    if (refuse != nullptr) {
      if (const std::string_view why = refuse(*c); !why.empty()) {
        reader.fail(item_path, std::string(why));
        return;
      }
    }
    result.insert(*c);
  }
  out = result;
}

}  // namespace squall
