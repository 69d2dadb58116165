#pragma once
// Draws the attributes of request `id` (model, token counts, cache key) from a random stream keyed by the
// id alone, so that request i is the same request under every policy configuration (common random
// numbers), whatever happened before it.

#include <cstdint>
#include <memory>
#include <vector>

#include "policies/core/request.hpp"
#include "sim/workload/workload_config.hpp"

namespace squall::sim {

class request_factory {
 public:
  request_factory(const workload_config& config, std::uint64_t seed);

  void fill(request& out, std::uint64_t id, time_point now) const;

 private:
  const workload_config& config_;
  std::uint64_t seed_;
  std::vector<double> model_cdf_;
  std::vector<double> class_cdf_;  // empty = no request classes configured, no draw
  std::shared_ptr<const std::vector<double>> zipf_cdf_;  // cumulative popularity of cache keys 1..N
};

}  // namespace squall::sim
