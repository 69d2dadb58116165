#include "policies/timeout/timeout_options.hpp"

namespace squall {

void read_timeout_options(json_reader& reader, timeout_options& options) {
  reader.number("timeout_ms", options.timeout_ms, 1.0, 86400000.0);
}

}  // namespace squall
