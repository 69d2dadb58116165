#pragma once
// Reading one field of a provider's JSON answer or of a request body leniently, shared by the wire
// readers (wire.cpp) and writers (wire_payload.cpp): a missing or mistyped field reads as empty.

#include <string>

#include <nlohmann/json.hpp>

namespace squall::wire_detail {

inline std::string string_at(const nlohmann::json& parent, const char* key) {
  const auto it = parent.find(key);
  return it != parent.end() && it->is_string() ? it->get<std::string>() : std::string{};
}

}  // namespace squall::wire_detail
