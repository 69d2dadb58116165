#include "sim/workload/request_factory.hpp"

#include <algorithm>
#include <cmath>

#include "policies/core/rng.hpp"

namespace squall::sim {

request_factory::request_factory(const workload_config& config, std::uint64_t seed) : config_(config), seed_(seed) {
  double total = 0;
  for (const auto& m : config_.models) total += m.second;
  double acc = 0;
  for (const auto& m : config_.models) {
    acc += m.second / total;
    model_cdf_.push_back(acc);
  }
  double class_total = 0;
  for (double w : config_.class_weights) class_total += w;
  if (class_total > 0) {
    double class_acc = 0;
    for (double w : config_.class_weights) {
      class_acc += w / class_total;
      class_cdf_.push_back(class_acc);
    }
  }
  if (config_.cache_keys > 0) {
    auto cdf = std::make_shared<std::vector<double>>(config_.cache_keys);
    double sum = 0;
    for (std::uint32_t k = 0; k < config_.cache_keys; ++k) {
      sum += 1.0 / std::pow(static_cast<double>(k + 1), config_.zipf_s);
      (*cdf)[k] = sum;
    }
    for (auto& v : *cdf) v /= sum;
    zipf_cdf_ = std::move(cdf);
  }
}

void request_factory::fill(request& out, std::uint64_t id, time_point now) const {
  rng r(mix_seed(seed_, id));
  out.id = id;
  out.provider = config_.provider;
  std::size_t model = 0;
  if (model_cdf_.size() > 1) {
    const double u = r.uniform();
    model = static_cast<std::size_t>(std::upper_bound(model_cdf_.begin(), model_cdf_.end(), u) - model_cdf_.begin());
    model = std::min(model, model_cdf_.size() - 1);
  }
  out.model = config_.models[model].first;
  out.input_tokens = static_cast<std::uint32_t>(std::lround(config_.input_tokens.sample(r)));
  out.output_tokens = static_cast<std::uint32_t>(std::lround(config_.output_tokens.sample(r)));
  out.cache_key = 0;
  out.semantic_cluster = 0;
  if (zipf_cdf_) {
    const double u = r.uniform();
    const auto& cdf = *zipf_cdf_;
    const auto k = static_cast<std::size_t>(std::upper_bound(cdf.begin(), cdf.end(), u) - cdf.begin());
    out.cache_key = std::min<std::uint64_t>(k, cdf.size() - 1) + 1;
    out.semantic_cluster = static_cast<std::uint32_t>(out.cache_key);
  }
  out.idempotency_key = id;
  out.priority = 0;
  out.deadline = config_.deadline_ms ? now + from_ms(*config_.deadline_ms) : time_never;
  // The class is the last draw, and only made when classes are configured, so that adding classes does
  // not change any earlier attribute of any request.
  out.complexity = 0;
  if (!class_cdf_.empty()) {
    const double u = r.uniform();
    const auto c = static_cast<std::size_t>(std::upper_bound(class_cdf_.begin(), class_cdf_.end(), u) - class_cdf_.begin());
    out.complexity = static_cast<std::uint8_t>(std::min<std::size_t>(c, class_cdf_.size() - 1));
  }
}

}  // namespace squall::sim
