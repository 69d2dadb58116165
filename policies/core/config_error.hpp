#pragma once
// Configuration errors are values that name where the mistake is (file and JSON path) and what was
// expected. Options are validated once, when a pipeline or scenario is built; nothing re-checks later.

#include <string>
#include <utility>
#include <variant>

namespace squall {

struct config_error {
  std::string file;     // may be empty while the file is not yet known to the parser
  std::string path;     // JSON path, "$.providers.openai.capacity.slots"
  std::string message;  // what was expected and what was found

  std::string describe() const {
    std::string out;
    if (!file.empty()) out += file + ": ";
    if (!path.empty()) out += path + ": ";
    out += message;
    return out;
  }
};

// A value or the configuration error that prevented it (std::expected arrives with C++23).
template <class T>
class config_result {
 public:
  config_result(T value) : state_(std::move(value)) {}  // NOLINT: implicit by design, like expected
  config_result(config_error error) : state_(std::move(error)) {}  // NOLINT

  bool ok() const noexcept { return state_.index() == 0; }
  explicit operator bool() const noexcept { return ok(); }
  T& value() & { return std::get<0>(state_); }
  T&& value() && { return std::get<0>(std::move(state_)); }
  const T& value() const& { return std::get<0>(state_); }
  T& operator*() & { return value(); }
  T* operator->() { return &std::get<0>(state_); }
  const T* operator->() const { return &std::get<0>(state_); }
  const config_error& error() const& { return std::get<1>(state_); }
  config_error&& error() && { return std::get<1>(std::move(state_)); }

 private:
  std::variant<T, config_error> state_;
};

}  // namespace squall
