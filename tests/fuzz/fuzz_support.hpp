#pragma once
// What every fuzz target shares: the input as text, and a check that turns a broken promise of the code
// under test into a crash libFuzzer saves (a returned error is never a crash: bad input is expected).

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

namespace squall::fuzz {

inline std::string_view as_text(const std::uint8_t* data, std::size_t size) noexcept {
  return {reinterpret_cast<const char*>(data), size};  // NOLINT: libFuzzer hands bytes, the readers take text
}

// A promise the documentation makes was broken: print it and abort, so libFuzzer saves the input.
[[noreturn]] inline void broken_promise(const char* what, const std::string& detail = {}) {
  std::fprintf(stderr, "\nbroken promise: %s\n%s\n", what, detail.c_str());
  std::abort();
}

}  // namespace squall::fuzz
