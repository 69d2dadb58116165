#include "policies/batching/batching.hpp"

#include <algorithm>
#include <limits>
#include <memory>
#include <utility>
#include <vector>

#include "policies/batching/embeddings_batch.hpp"

namespace squall {

// One call waiting in a batch: the operation its caller holds.
struct batching_member final : public operation {
  void cancel() noexcept override;

  batching_batch* batch = nullptr;
  outcome_receiver* receiver = nullptr;
  call_context* call = nullptr;
  time_point joined_at{};
  time_point deadline = time_never;
  std::uint32_t input_tokens = 0;
  std::uint32_t output_tokens = 0;
  std::string text;        // an embeddings batch: this member's input
  std::uint32_t index = 0;  // an embeddings batch: its place in the batch's "input", set when it leaves
  batching_member* prev = nullptr;
  batching_member* next = nullptr;
};

// One batch: collecting members until it is full or its window ends, then one inner call on its own
// call_context, then the split answer. Frees itself once it has answered every member, or when the last
// member is gone.
class batching_batch final : public outcome_receiver, public timer_target {
 public:
  // `key` names the batch in the handler's open batches; `group` is an embeddings batch's
  // read_embeddings_member().group, empty for the simulation's batches.
  batching_batch(batching_handler& owner, const request& first, std::string key, std::string group)
      : owner_(owner), key_(std::move(key)), group_(std::move(group)) {
    call_.req = first;
    timer_ = owner_.clock_.start_timer(owner_.window_, *this, 0);
  }

  std::string_view key() const noexcept { return key_; }
  const std::string& provider() const noexcept { return call_.req.provider; }
  std::uint32_t size() const noexcept { return size_; }

  operation& add(const call_scope& scope, outcome_receiver& receiver, std::string text = {}) {
    auto* m = new batching_member;
    m->batch = this;
    m->receiver = &receiver;
    m->call = scope.call;
    m->joined_at = owner_.clock_.now();
    m->deadline = scope.deadline;
    m->input_tokens = scope.call->req.input_tokens;
    m->output_tokens = scope.call->req.output_tokens;
    if (!group_.empty()) m->input_tokens = estimate_tokens(text);
    m->text = std::move(text);
    m->prev = tail_;
    if (tail_ != nullptr) tail_->next = m; else head_ = m;
    tail_ = m;
    ++size_;
    return *m;
  }

  void on_timer(std::uint32_t) override {
    timer_ = {};
    send();
  }

  void send() {
    owner_.clock_.cancel_timer(timer_);
    timer_ = {};
    owner_.open_.erase(key());
    sent_ = true;
    const time_point now = owner_.clock_.now();
    std::uint64_t input = 0;
    std::uint64_t output = 0;
    time_point deadline{};
    for (batching_member* m = head_; m != nullptr; m = m->next) {
      input += m->input_tokens;
      output += m->output_tokens;
      deadline = std::max(deadline, m->deadline);
    }
    constexpr std::uint64_t tokens_max = std::numeric_limits<std::uint32_t>::max();
    call_.req.input_tokens = static_cast<std::uint32_t>(std::min(input, tokens_max));
    call_.req.output_tokens = static_cast<std::uint32_t>(std::min(output, tokens_max));
    call_.req.batch_size = size_;
    sent_size_ = size_;
    if (!group_.empty()) {
      // The members' texts become one "input" array, in the order they joined.
      std::vector<std::string_view> texts;
      texts.reserve(size_);
      for (batching_member* m = head_; m != nullptr; m = m->next) {
        m->index = static_cast<std::uint32_t>(texts.size());
        texts.push_back(m->text);
      }
      call_.req.payload = make_raw_payload(batch_embeddings_body(group_, texts), group_.substr(0, group_.find('\n')));
    }
    call_.started_at = now;
    sent_at_ = now;
    // Members join in order, so the first one has waited longest.
    owner_.events_.on_policy_event(policy_event{policy_event_kind::batch_sent, owner_.name_, now, call_.req.id,
                                                now - head_->joined_at, outcome_class::ok, size_, {}});
    inner_ = &owner_.next_.start(call_scope{&call_, deadline}, *this);
  }

  void detach(batching_member& m) noexcept {
    unlink(m);
    delete &m;
    // While answering, a receiver may cancel another member (a hedge's loser): it just leaves; the loop
    // in on_outcome owns the batch's end.
    if (delivering_ || head_ != nullptr) return;
    if (sent_) {
      inner_->cancel();
    } else {
      owner_.clock_.cancel_timer(timer_);
      owner_.open_.erase(key());
    }
    delete this;
  }

  void on_outcome(outcome&& result) override {
    inner_ = nullptr;
    delivering_ = true;
    const time_point now = owner_.clock_.now();

    // First the bill, for every member still waiting, before any receiver runs: a receiver may cancel
    // another member, whose caller still owns its context and must see its share.
    double tokens_total = 0;
    for (batching_member* m = head_; m != nullptr; m = m->next) {
      tokens_total += static_cast<double>(m->input_tokens) + static_cast<double>(m->output_tokens);
    }
    if (head_ != nullptr) head_->call->attempts += call_.attempts;
    for (batching_member* m = head_; m != nullptr; m = m->next) m->call->cost_usd += call_.cost_usd * share(*m, tokens_total);

    // An embeddings batch's answer is split: each member gets its own vector, never another's.
    std::vector<std::string> bodies;
    std::vector<std::uint32_t> tokens;
    if (!group_.empty() && result.ok() && result.answer) {
      tokens.assign(sent_size_, 0);
      for (batching_member* m = head_; m != nullptr; m = m->next) {
        tokens[m->index] = static_cast<std::uint32_t>(std::llround(static_cast<double>(result.input_tokens) * share(*m, tokens_total)));
      }
      bodies = split_embeddings_answer(result.answer->body, tokens);
    }

    while (batching_member* m = head_) {
      unlink(*m);
      outcome copy = result;
      if (result.kind == outcome_class::ok) {
        copy.input_tokens = m->input_tokens;
        copy.output_tokens = m->output_tokens;
      }
      if (!bodies.empty()) {
        copy.input_tokens = tokens[m->index];
        auto own = std::make_shared<answer_payload>();
        own->body = std::move(bodies[m->index]);
        if (own->body.empty()) {
          copy.kind = outcome_class::server_error;
          own->error_message = "the batched embeddings answer has no embedding for input " + std::to_string(m->index);
        }
        copy.answer = std::move(own);
      }
      copy.cost_usd = result.cost_usd * share(*m, tokens_total);
      copy.latency = now - m->joined_at;
      if (copy.time_to_first_token) *copy.time_to_first_token += sent_at_ - m->joined_at;
      outcome_receiver* receiver = m->receiver;
      delete m;
      receiver->on_outcome(std::move(copy));
    }
    delete this;
  }

 private:
  double share(const batching_member& m, double tokens_total) const noexcept {
    if (tokens_total <= 0) return 1.0 / static_cast<double>(size_);
    return (static_cast<double>(m.input_tokens) + static_cast<double>(m.output_tokens)) / tokens_total;
  }

  void unlink(batching_member& m) noexcept {
    if (m.prev != nullptr) m.prev->next = m.next; else head_ = m.next;
    if (m.next != nullptr) m.next->prev = m.prev; else tail_ = m.prev;
    --size_;
  }

  batching_handler& owner_;
  const std::string key_;
  const std::string group_;
  std::uint32_t sent_size_ = 0;  // members when the batch left (the "input" array's length)
  call_context call_;  // the batch call's own context: the transport counts attempts and cost here
  operation* inner_ = nullptr;
  timer_id timer_;
  time_point sent_at_{};
  batching_member* head_ = nullptr;
  batching_member* tail_ = nullptr;
  std::uint32_t size_ = 0;  // members still attached
  bool sent_ = false;
  bool delivering_ = false;
};

void batching_member::cancel() noexcept { batch->detach(*this); }

batching_handler::batching_handler(const batching_options& options, std::string name, const policy_environment& env,
                                   handler& next)
    : options_(options),
      name_(std::move(name)),
      window_(from_ms(options.window_ms)),
      clock_(env.clock),
      events_(env.events),
      next_(next) {}

operation& batching_handler::start(const call_scope& scope, outcome_receiver& receiver) {
  const request& req = scope.call->req;
  if (req.payload) {
    // Of the calls that carry a payload, only embeddings with one text input are batched (as one "input"
    // array, which the embeddings API answers item by item). A chat call goes alone: no provider's
    // synchronous chat API answers several conversations in one call, and sending one member's request
    // for all would answer the others with its result.
    auto member = read_embeddings_member(*req.payload);
    if (!member) return next_.start(scope, receiver);
    std::string key = "embeddings\x01" + req.provider + '\x01' + member->group;
    batching_batch* batch = nullptr;
    if (const auto it = open_.find(key); it != open_.end()) {
      batch = it->second;
    } else {
      if (open_.size() >= options_.groups_max) return next_.start(scope, receiver);
      batch = new batching_batch(*this, req, std::move(key), std::move(member->group));
      open_.emplace(batch->key(), batch);
    }
    operation& joined = batch->add(scope, receiver, std::move(member->text));
    if (batch->size() >= std::min(options_.batch_size_max, embeddings_inputs_max)) batch->send();
    return joined;
  }
  batching_batch* batch = nullptr;
  if (const auto it = open_.find(req.model); it != open_.end()) {
    batch = it->second;
    // Another provider for the same model cannot ride in this batch: it goes alone.
    if (batch->provider() != req.provider) return next_.start(scope, receiver);
  } else {
    if (open_.size() >= options_.groups_max) return next_.start(scope, receiver);
    batch = new batching_batch(*this, req, req.model, {});
    open_.emplace(batch->key(), batch);
  }
  operation& member = batch->add(scope, receiver);
  if (batch->size() >= options_.batch_size_max) batch->send();
  return member;
}

std::unique_ptr<handler> batching_spec::build(const policy_environment& env, handler& next) const {
  return std::make_unique<batching_handler>(options, name.empty() ? std::string(type()) : name, env, next);
}

namespace {

std::unique_ptr<policy_spec> parse_batching(json_reader& reader) {
  batching_options options;
  read_batching_options(reader, options);
  return std::make_unique<batching_spec>(options);
}

}  // namespace

policy_registration batching_registration() {
  return policy_registration{"batching", &parse_batching,
                             "sends calls for one model together as one batched call, splitting tokens and cost back"};
}

}  // namespace squall
