#include "sim/provider/sim_provider.hpp"

#include <utility>

namespace squall::sim {

sim_provider::sim_provider(runtime& clock, const provider_config& config, std::uint64_t seed,
                           provider_listener* listener)
    : clock_(clock), model_(config, clock.now()), seed_(seed), listener_(listener) {}

sim_provider::~sim_provider() {
  // The runtime may outlive us: no timer of ours may fire into freed attempts.
  for (attempt& a : pool_.all()) {
    if (a.st != state::free) clock_.cancel_timer(a.timer);
    if (a.wire_pending) clock_.cancel_timer(a.wire_timer);
  }
}

sim_provider::attempt& sim_provider::allocate() {
  attempt& a = pool_.take();
  a.owner = this;
  return a;
}

void sim_provider::release(attempt& a) noexcept {
  a.st = state::free;
  a.receiver = nullptr;
  a.timer = timer_id{};
  a.wire_timer = timer_id{};
  a.wire_pending = false;
  a.wire_struck = false;
  a.wire = wire_fault::none;
  a.content = content_fault::none;
  pool_.give_back(a);
}

void sim_provider::push_queue(attempt* a) {
  if (queue_size_ == ring_.size()) {
    // Grow by doubling, unrolling the ring so that the head lands at index 0.
    std::vector<attempt*> bigger(ring_.empty() ? 16 : ring_.size() * 2);
    for (std::size_t i = 0; i < queue_size_; ++i) bigger[i] = ring_[(queue_head_ + i) % ring_.size()];
    ring_ = std::move(bigger);
    queue_head_ = 0;
  }
  ring_[(queue_head_ + queue_size_) & (ring_.size() - 1)] = a;
  ++queue_size_;
}

sim_provider::attempt* sim_provider::pop_queue() noexcept {
  if (queue_size_ == 0) return nullptr;
  attempt* a = ring_[queue_head_];
  queue_head_ = (queue_head_ + 1) & (ring_.size() - 1);
  --queue_size_;
  return a;
}

operation& sim_provider::start(const call_scope& scope, outcome_receiver& receiver) {
  const call_context& call = *scope.call;
  attempt& a = allocate();
  a.receiver = &receiver;
  a.sent = clock_.now();
  a.input_tokens = call.req.input_tokens;
  a.output_tokens = call.req.output_tokens;
  a.batch_size = call.req.batch_size;
  a.retry_after.reset();

  // Common random numbers: this attempt's draws depend on (request id, attempt number) only.
  rng_.reseed(mix_seed(mix_seed(seed_, call.req.id), call.attempts));
  a.draws = model_.draw(rng_);
  a.leg = model_.network_leg(a.draws);
  if (a.leg > duration::zero()) {
    // The call context is the caller's to change once start() returns: keep what admission reads.
    a.held = call.req;
    a.held.payload = nullptr;
    a.attempt_number = call.attempts;
    a.st = state::outbound;
    a.timer = clock_.start_timer(a.leg, a, 0);
  } else {
    arrive(a, call.req, call.attempts);
  }
  return a;
}

void sim_provider::arrive(attempt& a, const request& req, std::uint32_t attempt_number) {
  const time_point now = clock_.now();
  ++stats_.arrivals;
  a.arrival = now;
  const admission verdict = model_.admit(now, req, a.draws, attempt_number, model_.chat_endpoint());
  a.has_model = verdict.kind != admission_kind::unknown_model && verdict.kind != admission_kind::refuse &&
                verdict.kind != admission_kind::reset && verdict.kind != admission_kind::hang;
  a.model_index = verdict.model_index;
  a.http_status = verdict.http_status;
  a.cls = verdict.cls;
  a.retry_after = verdict.retry_after;
  a.wire = verdict.wire;
  a.content = verdict.content;
  a.timeline = verdict.timeline;

  switch (verdict.kind) {
    case admission_kind::serve:
      switch (model_.place(busy_, queue_size_)) {
        case capacity_decision::start:
          start_service(a);
          break;
        case capacity_decision::enqueue:
          a.st = state::queued;
          push_queue(&a);
          break;
        case capacity_decision::shed:
          ++stats_.shed;
          a.http_status = model_.shed_status();
          a.cls = outcome_class::overloaded;
          answer_after(a, model_.error_latency(a.draws));
          break;
      }
      break;
    case admission_kind::injected:
      ++stats_.injected_errors;
      answer_after(a, model_.error_latency(a.draws));
      break;
    case admission_kind::rate_limited:
      ++stats_.rate_limited;
      answer_after(a, model_.error_latency(a.draws));
      break;
    case admission_kind::unknown_model:
      ++stats_.unknown_model;
      answer_after(a, model_.error_latency(a.draws));
      break;
    case admission_kind::refuse:
      // A failed handshake fails as fast as a refusal: the client sees a connection error either way.
      ++(verdict.outage == outage_kind::handshake ? stats_.handshake_failed : stats_.refused);
      answer_after(a, provider_model::refuse_latency);
      break;
    case admission_kind::reset:
      ++stats_.reset;
      answer_after(a, model_.error_latency(a.draws));
      break;
    case admission_kind::hang:
      ++stats_.hung;
      ++hung_;
      a.st = state::hung;
      break;
  }
}

void sim_provider::answer_after(attempt& a, duration delay) {
  a.st = state::answering;
  a.timer = clock_.start_timer(delay + a.leg, a, 0);
}

void sim_provider::send_back(attempt& a, outcome o) {
  a.reply = std::move(o);
  if (a.leg > duration::zero()) {
    a.st = state::returning;
    a.timer = clock_.start_timer(a.leg, a, 0);
  } else {
    deliver_reply(a);
  }
}

void sim_provider::deliver_reply(attempt& a) {
  outcome o = std::move(a.reply);
  o.latency = clock_.now() - a.sent;
  outcome_receiver* receiver = a.receiver;
  release(a);
  receiver->on_outcome(std::move(o));
}

void sim_provider::start_service(attempt& a) {
  const time_point now = clock_.now();
  ++busy_;
  ++stats_.service_started;
  const duration wait = now - a.arrival;
  stats_.queue_wait_total += wait;
  if (wait > duration::zero()) ++stats_.service_waited;
  queue_wait_us_.record(static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(wait).count()));
  const service_factors f = model_.factors_at(now, a.timeline);
  const service_plan plan =
      model_.plan_service(a.draws, a.output_tokens, f.latency_x, busy_, f.ttft_x, f.token_x);
  // The first token is seen by the client: after the way there, the wait, and the way back.
  a.ttft = a.leg + wait + plan.ttft + a.leg;
  a.st = state::in_service;
  // A truncated answer stops halfway through its output tokens, with a length finish reason.
  a.timer = clock_.start_timer(a.content == content_fault::truncated ? plan.wire_fault_at() : plan.total, a, 0);
  // An answer without output tokens has no halfway: it ends whole before a cut could strike. (Armed
  // anyway, the strike fired on an attempt already answered and released, perhaps taken again by a
  // retry at the same instant.)
  if ((a.wire == wire_fault::stream_cut || a.wire == wire_fault::error_event) && plan.wire_fault_at() < plan.total) {
    a.wire_pending = true;
    // The client hears of the cut one network leg after it happened.
    a.wire_timer = clock_.start_timer(plan.wire_fault_at() + a.leg, a, 1);
  }
}

void sim_provider::on_attempt_timer(attempt& a, std::uint32_t cookie) {
  if (cookie == 1) {
    strike_wire_fault(a);
  } else if (a.st == state::in_service) {
    finish_service(a);
  } else if (a.st == state::outbound) {
    arrive(a, a.held, a.attempt_number);
  } else if (a.st == state::returning) {
    deliver_reply(a);
  } else {
    deliver_error(a);
  }
}

// The caller hears of the broken answer now; the server goes on with the work, as a real one would.
void sim_provider::strike_wire_fault(attempt& a) {
  a.wire_pending = false;
  outcome_receiver* receiver = a.receiver;
  if (!receiver) return;  // the caller left already: nobody sees the fault
  ++stats_.wire_faults;
  outcome o;
  o.kind = a.wire == wire_fault::stream_cut ? outcome_class::connection_error : outcome_class::overloaded;
  // A cut stream had its 200 head already, as the HTTP fake sends it: a client that decides by status
  // (an SDK's retry loop) has finished deciding by then.
  o.http_status = a.wire == wire_fault::stream_cut ? 200 : model_.shed_status();
  o.latency = clock_.now() - a.sent;
  o.time_to_first_token = a.ttft;
  o.provider = model_.config().name;
  o.model = model_.model_name(a.model_index);
  if (a.st == state::returning) {
    release(a);  // the server finished while the news of the cut was on its way back
  } else {
    a.receiver = nullptr;
    a.wire_struck = true;
  }
  receiver->on_outcome(std::move(o));
}

void sim_provider::finish_service(attempt& a) {
  --busy_;
  ++stats_.served;
  // The freed slot goes to the head of the queue before anyone hears of this answer, so that a caller
  // retrying from inside on_outcome cannot jump the queue.
  if (attempt* next = pop_queue()) start_service(*next);
  if (a.content == content_fault::truncated) a.output_tokens /= 2;  // what was produced before the cut

  const double cost = model_.cost_usd(a.model_index, a.input_tokens, a.output_tokens, a.batch_size);
  stats_.billed_usd += cost;
  outcome_receiver* receiver = a.receiver;
  if (!receiver) {
    // Either the caller cancelled, or a wire fault already told it the answer broke: billed, unused.
    if (!a.wire_struck) ++stats_.abandoned;
    stats_.abandoned_usd += cost;
    release(a);
    if (listener_) listener_->on_abandoned_billed(cost);
    return;
  }
  if (a.wire_pending) {
    // The stream broke during service, but the client hears of it only a network leg later, after the
    // server finished: the work is billed and unused; the attempt waits for the news to arrive.
    stats_.abandoned_usd += cost;
    a.st = state::returning;
    if (listener_) listener_->on_abandoned_billed(cost);
    return;
  }
  if (a.wire == wire_fault::malformed) {
    // The whole answer arrived but does not parse: the work is billed and wasted.
    ++stats_.wire_faults;
    stats_.abandoned_usd += cost;
    outcome o;
    o.kind = outcome_class::server_error;
    o.http_status = 200;
    o.time_to_first_token = a.ttft;
    o.provider = model_.config().name;
    o.model = model_.model_name(a.model_index);
    if (listener_) listener_->on_abandoned_billed(cost);
    send_back(a, std::move(o));
    return;
  }
  outcome o;
  o.kind = outcome_class::ok;
  o.http_status = 200;
  o.time_to_first_token = a.ttft;
  o.input_tokens = a.input_tokens;
  o.output_tokens = a.output_tokens;
  o.cost_usd = cost;
  o.provider = model_.config().name;
  o.model = model_.model_name(a.model_index);
  // The simulation has no text: the outcome says what a validator would find in it.
  switch (a.content) {
    case content_fault::none: break;
    case content_fault::empty: o.flaw = content_flaw::empty; break;
    case content_fault::truncated: o.flaw = content_flaw::truncated; break;
    case content_fault::invalid_json: o.flaw = content_flaw::invalid_json; break;
  }
  if (o.flaw != content_flaw::none) ++stats_.content_faults;
  set_limits(o);
  send_back(a, std::move(o));
}

void sim_provider::set_limits(outcome& o) const noexcept {
  const provider_config& c = model_.config();
  auto per_minute = [](const std::optional<double>& v) -> std::uint32_t {
    return v ? static_cast<std::uint32_t>(std::min(*v, 4294967295.0)) : 0;
  };
  o.ratelimit_requests_limit = per_minute(c.rpm);
  o.ratelimit_tokens_limit = per_minute(c.tpm);
}

void sim_provider::deliver_error(attempt& a) {
  outcome o;
  o.kind = a.cls;
  o.http_status = a.http_status;
  o.latency = clock_.now() - a.sent;
  o.retry_after = a.retry_after;
  o.provider = model_.config().name;
  if (a.has_model) o.model = model_.model_name(a.model_index);
  if (o.kind == outcome_class::rate_limited) set_limits(o);
  outcome_receiver* receiver = a.receiver;
  release(a);
  receiver->on_outcome(std::move(o));
}

void sim_provider::cancel_attempt(attempt& a) noexcept {
  ++stats_.cancelled;
  switch (a.st) {
    case state::outbound:
      // Still on its way: the provider never hears of it.
      ++stats_.cancelled_in_transit;
      clock_.cancel_timer(a.timer);
      release(a);
      break;
    case state::answering:
      clock_.cancel_timer(a.timer);
      release(a);
      break;
    case state::returning:
      // Served, its answer on the way back: dropped. Work nobody received is abandoned work.
      clock_.cancel_timer(a.timer);
      if (a.wire_pending) {
        clock_.cancel_timer(a.wire_timer);
        ++stats_.abandoned;  // billed at the end of service already
      } else if (a.reply.kind == outcome_class::ok) {
        ++stats_.abandoned;
        stats_.abandoned_usd += a.reply.cost_usd;
        if (listener_) listener_->on_abandoned_billed(a.reply.cost_usd);
      }
      release(a);
      break;
    case state::hung:
      --hung_;
      release(a);
      break;
    case state::queued:
    case state::in_service:
      // The server does not know the client left: the work goes on and is billed, unseen.
      a.receiver = nullptr;
      if (a.wire_pending) {
        clock_.cancel_timer(a.wire_timer);
        a.wire_pending = false;
      }
      break;
    case state::free:
      break;
  }
}

}  // namespace squall::sim
