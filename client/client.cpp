#include "client/client.hpp"

#include <atomic>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <random>
#include <thread>
#include <unordered_map>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include "client/client_metrics.hpp"
#include "policies/cache/cache.hpp"
#include "policies/asio/asio_runtime.hpp"
#include "policies/prompt_trim/trim_messages.hpp"

namespace squall {

namespace {

// A built pipeline with the document it was built from; calls keep the one they started on alive.
struct pipeline_holder {
  pipeline_spec spec;
  std::unique_ptr<pipeline> running;
};

using steady = std::chrono::steady_clock;

}  // namespace

// Where a handle posts its cancellation: cleared once the I/O thread has stopped.
struct io_box {
  std::mutex mutex;
  boost::asio::io_context* io = nullptr;
};

struct call_handle::state final : outcome_receiver {
  client::impl* owner = nullptr;
  std::shared_ptr<io_box> box;
  call_context ctx;
  std::optional<std::chrono::milliseconds> deadline;
  client::callback done;
  steady::time_point called_at;
  std::shared_ptr<pipeline_holder> holder;
  operation* op = nullptr;
  bool finished = false;
  std::shared_ptr<state> self;  // while in flight on the I/O thread

  void on_outcome(outcome&& o) override;
};

// The service's own embedder (client_options::embed) as the policies see it: `done` may come from any
// thread, so it is posted to the I/O thread, where the cache waits; after cancel() or a drain it is dropped.
class function_embedder final : public embedder {
 public:
  function_embedder(decltype(client_options::embed) embed, std::shared_ptr<io_box> box)
      : embed_(std::move(embed)), box_(std::move(box)) {}

  operation& embed(std::string_view text, embedding_receiver& receiver) override {
    auto pending = std::make_shared<embedding_call>(receiver);
    pending->self = pending;
    client_options::embedding_done done = [pending, box = std::weak_ptr<io_box>(box_)](std::vector<float> vector,
                                                                                     std::string error) {
      auto held = box.lock();
      if (!held) return;
      std::lock_guard lock(held->mutex);
      if (held->io == nullptr) return;
      boost::asio::post(*held->io, [pending, v = std::move(vector), e = std::move(error)]() mutable {
        pending->deliver(std::move(v), e);
      });
    };
    try {
      embed_(std::string(text), done);
    } catch (const std::exception& e) {
      // A throwing embedder is a failed embedding, answered later like any other.
      done({}, std::string("the embedder threw: ") + e.what());
    } catch (...) {
      done({}, "the embedder threw");
    }
    return *pending;
  }

 private:
  struct embedding_call final : operation {
    explicit embedding_call(embedding_receiver& r) : receiver(r) {}
    void cancel() noexcept override { self.reset(); }  // `done` may still hold it; it then does nothing
    void deliver(std::vector<float>&& vector, const std::string& error) {
      if (!self) return;
      auto keep = std::move(self);
      receiver.on_embedding(std::move(vector), error);
    }
    embedding_receiver& receiver;
    std::shared_ptr<embedding_call> self;  // while the cache waits
  };

  decltype(client_options::embed) embed_;
  std::shared_ptr<io_box> box_;
};

struct client::impl {
  client_options options;
  boost::asio::io_context io;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work{io.get_executor()};
  asio_runtime rt{io};
  std::unique_ptr<http_transport> transport;
  std::unique_ptr<function_embedder> custom_embedder;  // when options.embed is set
  client_metrics metrics;
  std::uint64_t seed = 0;
  std::shared_ptr<pipeline_holder> current;  // I/O thread only
  std::shared_ptr<io_box> box = std::make_shared<io_box>();
  std::thread thread;

  std::atomic<std::uint64_t> next_id{1};
  std::atomic<std::size_t> in_flight{0};
  std::atomic<bool> accepting{true};
  std::mutex drained_mutex;
  std::condition_variable drained;
  std::unordered_map<call_handle::state*, std::shared_ptr<call_handle::state>> live;  // I/O thread only
  bool stopped = false;  // drain() ran to the end; guarded by stop_mutex
  std::mutex stop_mutex;
  mutable std::mutex name_mutex;
  std::string name;  // of the policy file in force
  std::string default_provider;  // what a call naming no provider goes to, for results that never got there

  std::thread::id io_thread_id;  // set once before the client is handed out; read from any thread
  bool on_io_thread() const { return io_thread_id == std::this_thread::get_id(); }

  // Runs `work` on the I/O thread and waits for its result.
  template <class F>
  auto on_io(F job) -> decltype(job()) {
    if (on_io_thread()) return job();
    std::packaged_task<decltype(job())()> task(std::move(job));
    auto result = task.get_future();
    boost::asio::post(io, [&task] { task(); });
    return result.get();
  }

  void start(const std::shared_ptr<call_handle::state>& s) {
    // An admitted call starts even while draining: it was counted in flight, and the drain's sweep,
    // queued after it, cancels it if it has not finished by then.
    if (!current) {
      finish(*s, outcome::failure(outcome_class::rejected, "client"));
      return;
    }
    s->holder = current;
    s->self = s;
    live.emplace(s.get(), s);
    s->ctx.started_at = rt.now();
    const time_point deadline =
        s->deadline ? rt.now() + std::chrono::duration_cast<duration>(*s->deadline) : time_never;
    s->op = &s->holder->running->start(call_scope{&s->ctx, deadline}, *s);
  }

  void cancel(call_handle::state& s) {
    if (s.finished || s.op == nullptr) return;
    operation* op = s.op;
    s.op = nullptr;
    op->cancel();
    finish(s, outcome::failure(outcome_class::cancelled, "client"));
  }

  void finish(call_handle::state& s, outcome&& o) {
    s.finished = true;
    s.op = nullptr;
    client_result r;
    r.kind = o.kind;
    r.http_status = o.http_status;
    r.degraded = o.degraded;
    r.from_cache = o.from_cache;
    r.attempts = s.ctx.attempts;
    r.cost_usd = s.ctx.cost_usd;
    r.input_tokens = o.input_tokens;
    r.output_tokens = o.output_tokens;
    r.latency = steady::now() - s.called_at;
    r.provider = std::string(!o.provider.empty()          ? o.provider
                             : !s.ctx.req.provider.empty() ? std::string_view(s.ctx.req.provider)
                                                           : std::string_view(default_provider));
    r.model = std::string(o.model.empty() ? std::string_view(s.ctx.req.model) : o.model);
    r.decided_by = std::string(o.decided_by);  // a view into the pipeline's spec: copied before it may go
    r.answer = std::move(o.answer);
    metrics.on_result(r);
    client::callback done = std::move(s.done);
    s.holder.reset();  // an old pipeline goes once its last call is over
    std::shared_ptr<call_handle::state> keep = std::move(s.self);
    live.erase(&s);
    try {
      if (done) done(std::move(r));
    } catch (...) {
      // A throwing callback must not take the I/O thread down with every other call.
    }
    if (in_flight.fetch_sub(1) == 1) {
      std::lock_guard lock(drained_mutex);
      drained.notify_all();
    }
  }

  std::vector<policy_gauge> collect_gauges() const {
    struct sink final : gauge_sink {
      std::vector<policy_gauge> out;
      void on_gauge(std::string_view policy, std::string_view gauge, double value) override {
        out.push_back({std::string(policy), std::string(gauge), value});
      }
    } s;
    if (current) current->running->report_gauges(s);
    return s.out;
  }

  std::shared_ptr<pipeline_holder> build(pipeline_spec spec) {
    auto h = std::make_shared<pipeline_holder>();
    h->spec = std::move(spec);
    h->running = std::make_unique<pipeline>(h->spec, rt, metrics, seed, *transport,
                                            embedding_source{custom_embedder.get(), transport.get()});
    return h;
  }
};

void call_handle::state::on_outcome(outcome&& o) {
  op = nullptr;
  owner->finish(*this, std::move(o));
}

void call_handle::cancel() const {
  if (!state_) return;
  std::lock_guard lock(state_->box->mutex);
  if (state_->box->io == nullptr) return;
  boost::asio::post(*state_->box->io, [s = state_] { s->owner->cancel(*s); });
}

std::string client_result::error() const {
  if (answer && !answer->error_message.empty()) return answer->error_message;
  if (ok()) return {};
  return degraded ? "degraded answer (" + std::string(to_string(kind)) + ")" : std::string(to_string(kind));
}

std::uint64_t payload_key(std::string_view model, const call_payload& payload) noexcept {
  std::uint64_t h = 1469598103934665603ULL;
  auto mix = [&](std::string_view bytes) {
    for (char c : bytes) {
      h ^= static_cast<unsigned char>(c);
      h *= 1099511628211ULL;
    }
    h ^= 0xFF;  // a separator no UTF-8 text contains: "ab"+"c" differs from "a"+"bc"
    h *= 1099511628211ULL;
  };
  mix(model);
  for (const chat_message& m : payload.messages) {
    mix(m.role);
    mix(m.content);
  }
  mix(payload.max_tokens ? std::to_string(*payload.max_tokens) : std::string());
  if (payload.temperature) {
    char bits[sizeof(double)];
    std::memcpy(bits, &*payload.temperature, sizeof bits);
    mix(std::string_view(bits, sizeof bits));
  }
  mix(payload.path);
  mix(payload.raw_body);
  return h == 0 ? 1 : h;
}

namespace {

// What a policy file names that only the transport can say exists: a semantic cache's embeddings endpoint.
// Checked before anything starts, so that a misspelt name is an error naming the key, not a cache that
// quietly misses on every call.
std::optional<config_error> check_against_transport(const pipeline_spec& spec, const http_transport_options& transport,
                                                    bool custom_embedder) {
  for (std::size_t i = 0; i < spec.policies.size(); ++i) {
    const auto* cache = dynamic_cast<const cache_spec*>(spec.policies[i].get());
    if (cache == nullptr || cache->options.match != cache_match::semantic ||
        cache->options.embedder != cache_embedder::provider || custom_embedder) {
      continue;
    }
    const std::string& wanted = cache->options.embedding_provider;
    if (wanted.empty()) continue;
    bool found = false;
    std::string known;
    for (const http_endpoint& e : transport.endpoints) {
      found = found || e.provider == wanted;
      known += (known.empty() ? "" : ", ") + e.provider;
    }
    if (!found) {
      return config_error{spec.file, "$.policies[" + std::to_string(i) + "].embedding_provider",
                          "names no endpoint of the transport: \"" + wanted + "\"; expected one of: " + known};
    }
  }
  return std::nullopt;
}

}  // namespace

config_result<std::unique_ptr<client>> client::create(client_options options) {
  if (options.in_flight_max < 1 || options.in_flight_max > 10000000) {
    return config_error{"", "in_flight_max", "expected 1 to 10000000 calls, got " + std::to_string(options.in_flight_max)};
  }
  if (!(options.drain_ms_max >= 0 && options.drain_ms_max <= 3600000)) {
    return config_error{"", "drain_ms_max", "expected 0 to 3600000 milliseconds"};
  }
  config_result<pipeline_spec> spec = config_error{};
  if (options.policy) {
    spec = parse_pipeline(*options.policy, "$");
  } else if (!options.policy_file.empty()) {
    spec = load_pipeline_file(options.policy_file);
  } else {
    return config_error{"", "policy", "expected a policy document or a policy_file"};
  }
  if (!spec) return std::move(spec).error();
  if (auto error = check_against_transport(*spec, options.transport, static_cast<bool>(options.embed))) return *error;

  auto state = std::make_unique<impl>();
  state->options = options;
  state->seed = options.seed != 0 ? options.seed : (std::uint64_t{std::random_device{}()} << 32) ^ std::random_device{}();
  auto transport = http_transport::create(state->rt, options.transport);
  if (!transport) return std::move(transport).error();
  state->transport = std::move(transport.value());
  state->name = spec->name;
  state->default_provider = !options.transport.default_provider.empty() ? options.transport.default_provider
                            : !options.transport.endpoints.empty()      ? options.transport.endpoints[0].provider
                                                                        : std::string();
  if (options.embed) state->custom_embedder = std::make_unique<function_embedder>(options.embed, state->box);
  state->current = state->build(std::move(spec.value()));
  state->box->io = &state->io;
  impl* raw = state.get();
  state->thread = std::thread([raw] { raw->io.run(); });
  state->io_thread_id = state->thread.get_id();
  return std::unique_ptr<client>(new client(std::move(state)));
}

client::client(std::unique_ptr<impl> state) : impl_(std::move(state)) {}

client::~client() { drain(); }

namespace {

std::shared_ptr<call_handle::state> new_call(client::impl& owner, client::callback done) {
  auto s = std::make_shared<call_handle::state>();
  s->called_at = steady::now();
  s->done = std::move(done);
  s->ctx.req.id = owner.next_id.fetch_add(1);
  return s;
}

}  // namespace

call_handle client::submit(std::shared_ptr<call_handle::state> s) {
  s->owner = impl_.get();
  s->box = impl_->box;
  {
    // Admission and the hand-over happen under the box's lock, which drain() takes to close the door:
    // a call is either queued before the drain's final sweep (and answered by it) or refused here.
    std::lock_guard lock(impl_->box->mutex);
    if (impl_->box->io != nullptr && impl_->accepting.load()) {
      if (impl_->in_flight.fetch_add(1) < impl_->options.in_flight_max) {
        boost::asio::post(impl_->io, [s] { s->owner->start(s); });
        return call_handle(std::move(s));
      }
      impl_->in_flight.fetch_sub(1);
    }
  }
  // Refused: over in_flight_max, or draining. Answered on the caller's thread, before call() returns.
  client_result rejected;
  rejected.kind = outcome_class::rejected;
  rejected.decided_by = "client";
  rejected.provider = s->ctx.req.provider;
  rejected.model = s->ctx.req.model;
  if (s->done) {
    try {
      s->done(std::move(rejected));
    } catch (...) {
    }
  }
  return call_handle(std::move(s));
}

call_handle client::call(chat_call c, callback done) {
  auto s = new_call(*impl_, std::move(done));
  s->deadline = c.deadline;
  request& r = s->ctx.req;
  r.provider = std::move(c.provider);
  r.model = std::move(c.model);
  r.priority = c.priority;
  r.complexity = c.complexity;
  r.idempotency_key = c.idempotency_key;
  r.input_tokens = estimate_message_tokens(c.messages);
  r.output_tokens = c.max_tokens.value_or(0);
  r.payload = make_chat_payload(std::move(c.messages), c.max_tokens, c.temperature);
  if (c.cacheable) r.cache_key = payload_key(r.model, *r.payload);
  return submit(std::move(s));
}

call_handle client::call_raw(std::string model, std::string path, std::string body, callback done,
                             std::string provider) {
  auto s = new_call(*impl_, std::move(done));
  request& r = s->ctx.req;
  r.provider = std::move(provider);
  r.model = std::move(model);
  r.input_tokens = estimate_tokens(body);
  r.payload = make_raw_payload(std::move(body), std::move(path));
  return submit(std::move(s));
}

std::future<client_result> client::call(chat_call c) {
  auto promise = std::make_shared<std::promise<client_result>>();
  std::future<client_result> result = promise->get_future();
  call(std::move(c), [promise](client_result r) { promise->set_value(std::move(r)); });
  return result;
}

void client::awaitable::await_suspend(std::coroutine_handle<> h) {
  owner->call(std::move(request), [this, h](client_result r) {
    result = std::move(r);
    h.resume();
  });
}

std::optional<config_error> client::reload(const json& policy_document) {
  auto spec = parse_pipeline(policy_document, "$");
  if (!spec) return std::move(spec).error();
  if (auto error = check_against_transport(*spec, impl_->options.transport, static_cast<bool>(impl_->options.embed))) {
    return error;
  }
  std::lock_guard stop(impl_->stop_mutex);
  if (impl_->stopped) return config_error{"", "", "the client has been drained; nothing to reload"};
  const std::string name = spec->name;
  impl_->on_io([this, &spec] { impl_->current = impl_->build(std::move(spec.value())); });
  std::lock_guard lock(impl_->name_mutex);
  impl_->name = name;
  return std::nullopt;
}

std::optional<config_error> client::reload_file(const std::filesystem::path& policy_file) {
  auto document = read_json_file(policy_file);
  if (!document) return std::move(document).error();
  auto result = reload(document.value());
  if (result && result->file.empty()) result->file = policy_file.string();
  return result;
}

std::size_t client::drain(std::optional<std::chrono::milliseconds> wait) {
  if (impl_->on_io_thread()) return 0;  // it would wait for itself; documented: not from a callback
  std::lock_guard stop(impl_->stop_mutex);
  if (impl_->stopped) return 0;
  impl_->accepting.store(false);
  const auto limit = wait ? *wait : std::chrono::milliseconds(static_cast<std::int64_t>(impl_->options.drain_ms_max));
  {
    std::unique_lock lock(impl_->drained_mutex);
    impl_->drained.wait_for(lock, limit, [this] { return impl_->in_flight.load() == 0; });
  }
  {
    std::lock_guard lock(impl_->box->mutex);
    impl_->box->io = nullptr;  // from here on calls are refused at the door
  }
  // Whatever is left is cancelled on the I/O thread, which then lets go of the pipelines and transport.
  const std::size_t cancelled = impl_->on_io([this] {
    std::vector<std::shared_ptr<call_handle::state>> left;
    for (auto& [raw, s] : impl_->live) left.push_back(s);
    for (auto& s : left) impl_->cancel(*s);
    impl_->current.reset();
    impl_->transport.reset();
    return left.size();
  });
  impl_->work.reset();
  impl_->io.stop();
  if (impl_->thread.joinable()) impl_->thread.join();
  impl_->stopped = true;
  return cancelled;
}

std::vector<policy_gauge> client::gauges() {
  std::lock_guard stop(impl_->stop_mutex);
  if (impl_->stopped) return {};
  return impl_->on_io([this] { return impl_->collect_gauges(); });
}

std::string client::metrics_text() {
  std::lock_guard stop(impl_->stop_mutex);
  if (impl_->stopped) return {};
  return impl_->on_io([this] {
    return impl_->metrics.render(impl_->transport->stats(), impl_->transport->open_connections(),
                                 impl_->transport->idle_connections(), impl_->in_flight.load(),
                                 impl_->collect_gauges());
  });
}

std::size_t client::in_flight() const noexcept { return impl_->in_flight.load(); }

std::string client::policy_name() const {
  std::lock_guard lock(impl_->name_mutex);
  return impl_->name;
}

}  // namespace squall
