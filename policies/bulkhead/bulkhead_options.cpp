#include "policies/bulkhead/bulkhead_options.hpp"

namespace squall {

void read_bulkhead_options(json_reader& reader, bulkhead_options& options) {
  reader.count("concurrency_max", options.concurrency_max, 1, 100000)
      .count("queue_max", options.queue_max, 0, 1000000)
      .number("queue_wait_ms_max", options.queue_wait_ms_max, 0.0, 3600000.0);
}

}  // namespace squall
