#include "sim/provider/sim_transport.hpp"

#include <utility>

namespace squall::sim {

sim_transport::~sim_transport() {
  for (relay& r : pool_.all()) {
    if (r.live && !r.inner) clock_.cancel_timer(r.timer);
  }
}

void sim_transport::add_route(std::string name, handler& target, bool is_default) {
  routes_.push_back(route{std::move(name), &target});
  if (is_default || !default_) default_ = &target;
}

handler* sim_transport::find(std::string_view name) const noexcept {
  if (name.empty()) return default_;
  for (const route& r : routes_) {
    if (r.name == name) return r.target;
  }
  return nullptr;
}

sim_transport::relay& sim_transport::allocate() {
  relay& r = pool_.take();
  r.owner = this;
  r.live = true;
  return r;
}

void sim_transport::release(relay& r) noexcept {
  r.live = false;
  r.call = nullptr;
  r.receiver = nullptr;
  r.inner = nullptr;
  r.timer = timer_id{};
  pool_.give_back(r);
}

operation& sim_transport::start(const call_scope& scope, outcome_receiver& receiver) {
  ++scope.call->attempts;
  relay& r = allocate();
  r.call = scope.call;
  r.receiver = &receiver;
  if (handler* target = find(scope.call->req.provider)) {
    r.inner = &target->start(scope, r);
  } else {
    ++unroutable_;
    r.timer = clock_.start_timer(duration::zero(), r, 0);
  }
  return r;
}

void sim_transport::forward(relay& r, outcome&& result) {
  r.call->cost_usd += result.cost_usd;
  outcome_receiver* receiver = r.receiver;
  release(r);
  receiver->on_outcome(std::move(result));
}

void sim_transport::cancel_relay(relay& r) noexcept {
  if (r.inner) {
    r.inner->cancel();
  } else {
    clock_.cancel_timer(r.timer);
  }
  release(r);
}

void sim_transport::answer_unroutable(relay& r) {
  outcome o = outcome::failure(outcome_class::invalid_request);
  outcome_receiver* receiver = r.receiver;
  release(r);
  receiver->on_outcome(std::move(o));
}

}  // namespace squall::sim
