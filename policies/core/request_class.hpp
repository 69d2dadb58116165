#pragma once
// Request classes, as request.complexity numbers them. The router picks targets per class and the degrade
// policy's rules match on them, so both read the same names from here.

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace squall {

inline constexpr std::size_t request_class_count = 4;
inline constexpr std::array<std::string_view, request_class_count> request_class_names = {"simple", "moderate",
                                                                                          "complex", "critical"};

// The class of a request: its complexity, with every value past the last class counting as critical.
constexpr std::size_t request_class_of(std::uint8_t complexity) noexcept {
  return complexity < request_class_count ? complexity : request_class_count - 1;
}

constexpr std::optional<std::size_t> request_class_from_string(std::string_view name) noexcept {
  for (std::size_t i = 0; i < request_class_count; ++i) {
    if (request_class_names[i] == name) return i;
  }
  return std::nullopt;
}

}  // namespace squall
