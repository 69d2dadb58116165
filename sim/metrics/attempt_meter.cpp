#include "sim/metrics/attempt_meter.hpp"

#include <utility>

namespace squall::sim {

operation& attempt_meter::start(const call_scope& scope, outcome_receiver& receiver) {
  metrics_.on_attempt();
  if (!clock_) return next_.start(scope, receiver);
  const request& req = scope.call->req;
  relay& r = pool_.take();
  r.owner = this;
  r.receiver = &receiver;
  // Read now: a fallback or a router retargets the request for this attempt only and restores it after.
  r.row = &metrics_.traffic().row(req.provider.empty() ? std::string_view(default_provider_) : req.provider, req.model);
  r.started = clock_->now();
  r.inner = &next_.start(scope, r);
  return r;
}

void attempt_meter::answered(relay& r, outcome&& result) {
  const time_point now = clock_->now();
  traffic_row* row = r.row;
  // A request naming no model is served the provider's default one, which the answer names.
  if (row->model.empty() && !result.model.empty() && !row->other) row = &metrics_.traffic().row(row->provider, result.model);
  traffic_table::record(*row, &result, now - r.started);
  if (result.kind != outcome_class::ok) {
    // The table full, the "other" row has no names: the answer's own serve.
    const std::string_view provider = row->other ? result.provider : std::string_view(row->provider);
    const std::string_view model = row->other ? result.model : std::string_view(row->model);
    metrics_.errors().record_attempt(result, provider, model, to_s(now));
  }
  outcome_receiver* receiver = r.receiver;
  r.receiver = nullptr;
  r.inner = nullptr;
  r.row = nullptr;
  pool_.give_back(r);
  receiver->on_outcome(std::move(result));
}

void attempt_meter::cancelled(relay& r) noexcept {
  r.inner->cancel();
  traffic_table::record(*r.row, nullptr, duration::zero());
  r.receiver = nullptr;
  r.inner = nullptr;
  r.row = nullptr;
  pool_.give_back(r);
}

}  // namespace squall::sim
