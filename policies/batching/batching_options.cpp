#include "policies/batching/batching_options.hpp"

namespace squall {

void read_batching_options(json_reader& reader, batching_options& options) {
  reader.count("batch_size_max", options.batch_size_max, 1, 4096)
      .number("window_ms", options.window_ms, 0.0, 60000.0)
      .count("groups_max", options.groups_max, 1, 100'000);
}

}  // namespace squall
