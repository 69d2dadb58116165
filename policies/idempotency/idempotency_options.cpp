#include "policies/idempotency/idempotency_options.hpp"

namespace squall {

void read_idempotency_options(json_reader& reader, idempotency_options& options) {
  reader.number("ttl_ms", options.ttl_ms, 1.0, 604'800'000.0).count("entries_max", options.entries_max, 1, 10'000'000);
}

}  // namespace squall
