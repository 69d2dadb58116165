#include "policies/coalesce/coalesce.hpp"

#include <utility>

#include "policies/core/rng.hpp"

namespace squall {

// One caller attached to a flight: the operation its caller holds.
struct coalesce_member final : public operation {
  void cancel() noexcept override;

  coalesce_flight* flight = nullptr;
  outcome_receiver* receiver = nullptr;
  call_context* call = nullptr;
  time_point joined_at{};
  coalesce_member* prev = nullptr;
  coalesce_member* next = nullptr;
  bool leader = false;  // the leader's member lives inside the flight; waiters are allocated
};

// One shared inner call and the callers waiting for it, in the order they attached. Frees itself once
// it has answered them all, or when the last of them is gone.
class coalesce_flight final : public outcome_receiver {
 public:
  coalesce_flight(coalesce_handler& owner, std::uint64_t key, const call_scope& scope, outcome_receiver& receiver)
      : owner_(owner), key_(key) {
    call_.req = scope.call->req;
    call_.started_at = scope.call->started_at;
    leader_.flight = this;
    leader_.receiver = &receiver;
    leader_.call = scope.call;
    leader_.joined_at = owner.clock_.now();
    leader_.leader = true;
    link(leader_);
  }

  operation& begin(const call_scope& scope) {
    inner_ = &owner_.next_.start(call_scope{&call_, scope.deadline}, *this);
    return leader_;
  }

  bool matches(const request& req) const noexcept {
    return call_.req.cache_key == req.cache_key && call_.req.model == req.model && call_.req.provider == req.provider;
  }
  bool has_room() const noexcept { return waiters_ < owner_.options_.waiters_max; }

  operation& attach(call_context* call, outcome_receiver& receiver) {
    auto* m = new coalesce_member;
    m->flight = this;
    m->receiver = &receiver;
    m->call = call;
    m->joined_at = owner_.clock_.now();
    link(*m);
    ++waiters_;
    owner_.events_.on_policy_event(policy_event{policy_event_kind::coalesced, owner_.name_, m->joined_at,
                                                call->req.id, duration{}, outcome_class::ok, waiters_, {}});
    return *m;
  }

  void detach(coalesce_member& m) noexcept {
    unlink(m);
    if (!m.leader) {
      --waiters_;
      delete &m;
    }
    // While answering, a receiver may cancel another caller of this flight (a hedge's loser): that
    // caller just leaves; the loop in on_outcome owns the flight's end.
    if (delivering_ || head_ != nullptr) return;
    inner_->cancel();
    owner_.flights_.erase(key_);
    delete this;
  }

  void on_outcome(outcome&& result) override {
    inner_ = nullptr;
    delivering_ = true;
    // A caller arriving from inside a receiver starts a fresh call rather than joining one that is over.
    owner_.flights_.erase(key_);
    const time_point now = owner_.clock_.now();
    coalesce_member* payer = head_;
    if (payer != nullptr) {
      payer->call->attempts += call_.attempts;
      payer->call->cost_usd += call_.cost_usd;
    }
    while (coalesce_member* m = head_) {
      unlink(*m);
      outcome copy = result;
      if (m != payer) copy.cost_usd = 0.0;
      if (!m->leader) copy.latency = now - m->joined_at;
      outcome_receiver* receiver = m->receiver;
      if (!m->leader) {
        --waiters_;
        delete m;
      }
      receiver->on_outcome(std::move(copy));
    }
    delete this;
  }

 private:
  void link(coalesce_member& m) noexcept {
    m.prev = tail_;
    m.next = nullptr;
    if (tail_ != nullptr) tail_->next = &m; else head_ = &m;
    tail_ = &m;
  }
  void unlink(coalesce_member& m) noexcept {
    if (m.prev != nullptr) m.prev->next = m.next; else head_ = m.next;
    if (m.next != nullptr) m.next->prev = m.prev; else tail_ = m.prev;
    m.prev = nullptr;
    m.next = nullptr;
  }

  coalesce_handler& owner_;
  const std::uint64_t key_;
  call_context call_;  // the inner call's own context: it may outlive the leader's
  operation* inner_ = nullptr;
  coalesce_member leader_;
  coalesce_member* head_ = nullptr;
  coalesce_member* tail_ = nullptr;
  std::uint32_t waiters_ = 0;  // attached callers other than the leader
  bool delivering_ = false;
};

void coalesce_member::cancel() noexcept { flight->detach(*this); }

coalesce_handler::coalesce_handler(const coalesce_options& options, std::string name, const policy_environment& env,
                                   handler& next)
    : options_(options), name_(std::move(name)), clock_(env.clock), events_(env.events), next_(next) {}

operation& coalesce_handler::start(const call_scope& scope, outcome_receiver& receiver) {
  const request& req = scope.call->req;
  if (req.cache_key == 0) return next_.start(scope, receiver);
  const std::uint64_t key = mix_seed(req.cache_key, hash_name(req.model));
  const auto it = flights_.find(key);
  if (it != flights_.end()) {
    coalesce_flight& flight = *it->second;
    // A hash collision, another provider, or a full flight: this call goes on its own.
    if (!flight.matches(req) || !flight.has_room()) return next_.start(scope, receiver);
    return flight.attach(scope.call, receiver);
  }
  if (flights_.size() >= options_.in_flight_max) return next_.start(scope, receiver);
  auto* flight = new coalesce_flight(*this, key, scope, receiver);
  flights_.emplace(key, flight);
  return flight->begin(scope);
}

std::unique_ptr<handler> coalesce_spec::build(const policy_environment& env, handler& next) const {
  return std::make_unique<coalesce_handler>(options, name.empty() ? std::string(type()) : name, env, next);
}

namespace {

std::unique_ptr<policy_spec> parse_coalesce(json_reader& reader) {
  coalesce_options options;
  read_coalesce_options(reader, options);
  return std::make_unique<coalesce_spec>(options);
}

}  // namespace

policy_registration coalesce_registration() {
  return policy_registration{"coalesce", &parse_coalesce,
                             "lets identical calls in flight at the same time share one provider call, paid once"};
}

}  // namespace squall
