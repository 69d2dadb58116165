#include "policies/coalesce/coalesce_options.hpp"

namespace squall {

void read_coalesce_options(json_reader& reader, coalesce_options& options) {
  reader.count("waiters_max", options.waiters_max, 1, 1'000'000)
      .count("in_flight_max", options.in_flight_max, 1, 10'000'000);
}

}  // namespace squall
