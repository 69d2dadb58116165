#include "policies/bulkhead/bulkhead.hpp"

#include "policies/core/deferred_answer.hpp"

#include <utility>

namespace squall {

// One call through the bulkhead: queued (linked into the handler's list) until a slot frees, then
// running (forwarding to the next stage) until its outcome arrives. Frees itself when it delivers, is
// rejected from the queue, or is cancelled.
class bulkhead_call final : public operation, public outcome_receiver {
 public:
  bulkhead_call(bulkhead_handler& owner, const call_scope& scope, outcome_receiver& receiver)
      : owner_(owner), scope_(scope), receiver_(receiver), enqueued_at_(owner.clock_.now()) {}

  void run() {
    ++owner_.running_;
    running_ = true;
    inner_ = &owner_.next_.start(scope_, *this);
  }

  void cancel() noexcept override {
    if (running_) {
      bulkhead_handler& owner = owner_;
      inner_->cancel();
      delete this;
      owner.release();
    } else {
      bulkhead_handler& owner = owner_;
      const bool was_head = owner.queue_.front() == this;
      owner.queue_.unlink(*this);
      delete this;
      if (was_head) owner.rearm();
    }
  }

  void on_outcome(outcome&& result) override {
    bulkhead_handler& owner = owner_;
    outcome_receiver& receiver = receiver_;
    delete this;
    owner.release();
    receiver.on_outcome(std::move(result));
  }

  // The wait ran out: answered by the handler's timer, so delivering here is allowed.
  void reject_from_queue(time_point now) {
    const duration waited = now - enqueued_at_;
    owner_.emit(policy_event_kind::bulkhead_rejected, request_id(), waited);
    outcome result = outcome::failure(outcome_class::rejected, owner_.name_);
    result.latency = waited;
    outcome_receiver& receiver = receiver_;
    delete this;
    receiver.on_outcome(std::move(result));
  }

  std::uint64_t request_id() const noexcept { return scope_.call != nullptr ? scope_.call->req.id : 0; }
  time_point deadline() const noexcept { return enqueued_at_ + owner_.wait_max_; }

  bulkhead_call* prev = nullptr;
  bulkhead_call* next = nullptr;

 private:
  bulkhead_handler& owner_;
  const call_scope scope_;
  outcome_receiver& receiver_;
  operation* inner_ = nullptr;
  time_point enqueued_at_;
  bool running_ = false;
};

bulkhead_handler::bulkhead_handler(const bulkhead_options& options, std::string name, const policy_environment& env,
                                   handler& next)
    : options_(options),
      name_(std::move(name)),
      wait_max_(from_ms(options.queue_wait_ms_max)),
      clock_(env.clock),
      events_(env.events),
      next_(next) {}

bulkhead_handler::~bulkhead_handler() { clock_.cancel_timer(timer_); }

operation& bulkhead_handler::start(const call_scope& scope, outcome_receiver& receiver) {
  // A free slot goes to the queue's head first: a newcomer never overtakes a waiting call.
  if (running_ < options_.concurrency_max && queue_.empty()) {
    auto* call = new bulkhead_call(*this, scope, receiver);
    call->run();
    return *call;
  }
  const std::uint64_t id = scope.call != nullptr ? scope.call->req.id : 0;
  if (queue_.size() >= options_.queue_max) {
    emit(policy_event_kind::bulkhead_rejected, id, duration{});
    return deferred_answer::start(clock_, outcome::failure(outcome_class::rejected, name_), duration{}, receiver);
  }
  auto* call = new bulkhead_call(*this, scope, receiver);
  enqueue(*call);
  emit(policy_event_kind::bulkhead_queued, id, duration{});
  return *call;
}

void bulkhead_handler::enqueue(bulkhead_call& call) {
  queue_.push_back(call);
  if (queue_.front() == &call) rearm();
}

void bulkhead_handler::release() noexcept {
  --running_;
  pump(false);
}

void bulkhead_handler::pump(bool expire) {
  bulkhead_call* const old_head = queue_.front();
  const time_point now = clock_.now();
  while (!queue_.empty()) {
    bulkhead_call& call = *queue_.front();
    if (expire && call.deadline() <= now) {
      queue_.unlink(call);
      call.reject_from_queue(now);  // may re-enter start(); the loop re-reads the front
      continue;
    }
    if (running_ >= options_.concurrency_max) break;
    queue_.unlink(call);
    call.run();
  }
  if (queue_.front() != old_head || expire) rearm();
}

void bulkhead_handler::rearm() noexcept {
  clock_.cancel_timer(timer_);
  timer_ = {};
  if (!queue_.empty()) timer_ = clock_.start_timer(queue_.front()->deadline() - clock_.now(), *this, 0);
}

void bulkhead_handler::on_timer(std::uint32_t) {
  timer_ = {};
  pump(true);
}

void bulkhead_handler::emit(policy_event_kind kind, std::uint64_t request_id, duration delay) {
  events_.on_policy_event(policy_event{kind, name_, clock_.now(), request_id, delay, outcome_class::ok, 0, {}});
}

std::unique_ptr<handler> bulkhead_spec::build(const policy_environment& env, handler& next) const {
  return std::make_unique<bulkhead_handler>(options, name.empty() ? std::string(type()) : name, env, next);
}

namespace {

std::unique_ptr<policy_spec> parse_bulkhead(json_reader& reader) {
  bulkhead_options options;
  read_bulkhead_options(reader, options);
  return std::make_unique<bulkhead_spec>(options);
}

}  // namespace

policy_registration bulkhead_registration() {
  return policy_registration{"bulkhead", &parse_bulkhead,
                             "caps concurrent calls at concurrency_max, queueing a bounded number FIFO"};
}

}  // namespace squall
