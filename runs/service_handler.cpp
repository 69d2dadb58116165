#include "runs/service_handler.hpp"

#include <utility>  // before Asio, whose awaitable.hpp uses std::exchange without it

#include <simdjson.h>

#include <algorithm>
#include <array>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <deque>
#include <optional>
#include <vector>

#include "policies/core/classify.hpp"

namespace squall::runs {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using steady = std::chrono::steady_clock;

// How often deadlines are looked at. One timer for all calls instead of one per call (a timer per
// operation was a visible share of the generator's time); a timeout fires up to this late.
constexpr auto sweep_period = std::chrono::milliseconds(10);

// What a request came to, when no status tells it.
enum class cause : std::uint8_t { timeout, connection_error, bad_answer };

outcome timed_out_outcome() {
  outcome o;
  o.kind = outcome_class::timeout;
  return o;
}

}  // namespace

// One keep-alive connection to the service.
struct service_connection {
  explicit service_connection(asio::io_context& io) : socket(io) {}
  tcp::socket socket;
  beast::flat_buffer buffer;
  bool used = false;  // has carried an exchange: a failure before any answer byte may be a stale keep-alive
};

struct service_handler::impl {
  struct call;
  impl(asio::io_context& io_, service_target target_, const sim::service_spec& spec_, std::string provider)
      : io(io_),
        target(std::move(target_)),
        endpoint(asio::ip::make_address(target.host), target.port),
        spec(spec_),
        request_bytes(spec_, target.host + ":" + std::to_string(target.port), std::move(provider)),
        success_path(compile_json_path(spec_.success.json_path)),
        timeout(std::chrono::duration_cast<steady::duration>(std::chrono::duration<double, std::milli>(spec_.request.timeout_ms))),
        sweep(io_) {}

  asio::io_context& io;
  service_target target;
  tcp::endpoint endpoint;
  const sim::service_spec& spec;
  request_template request_bytes;
  std::vector<json_path_step> success_path;
  steady::duration timeout;
  simdjson::dom::parser json_parser;
  std::vector<std::unique_ptr<service_connection>> idle;
  std::size_t open = 0;
  std::deque<std::shared_ptr<call>> waiting;
  // Calls in flight in the order they started, which is their deadlines' order (one timeout for all).
  call* oldest = nullptr;
  call* newest = nullptr;
  bool sweeping = false;
  asio::steady_timer sweep;
  bool closing = false;
  // What the users saw.
  std::array<std::uint64_t, 600> by_status{};
  std::array<std::uint64_t, 3> by_cause{};
  std::vector<std::pair<std::uint64_t, bool>> verdicts;

  void link(call& c);
  void unlink(call& c);
  void arm_sweep();
  void on_sweep();
  void acquire(const std::shared_ptr<call>& c);
  void pump();
  void release(std::unique_ptr<service_connection> conn, bool keep);
  void send(const std::shared_ptr<call>& c);
  void answered(const std::shared_ptr<call>& c);
  void failed(const std::shared_ptr<call>& c, beast::error_code ec);
  bool has_answer(const std::string& body);
  void deliver(const std::shared_ptr<call>& c, outcome o, std::optional<cause> why);
};

struct service_handler::impl::call final : operation, std::enable_shared_from_this<call> {
  call(impl& owner_, const call_scope& scope, outcome_receiver& receiver_)
      : owner(&owner_), ctx(scope.call), receiver(&receiver_) {}
  void cancel() noexcept override {
    if (done) return;
    done = true;
    owner->unlink(*this);
    if (conn) {
      // The exchange is cut: the connection is closed, never reused. The object stays with this call until
      // the aborted operations have run, since they still touch its buffer.
      beast::error_code ignored;
      conn->socket.close(ignored);
      --owner->open;
      owner->pump();
    }
    self.reset();  // the pending handlers hold the rest
  }
  impl* owner;
  call_context* ctx;
  outcome_receiver* receiver;
  std::shared_ptr<call> self;  // alive while the caller may still cancel (rule 3 of policies/core/call.hpp)
  std::unique_ptr<service_connection> conn;
  std::string bytes;
  std::optional<http::response_parser<http::string_body>> parser;
  steady::time_point deadline;
  call* older = nullptr;  // the in-flight list
  call* newer = nullptr;
  bool linked = false;
  bool done = false;
  bool timed_out = false;
  bool retried_stale = false;
};

void service_handler::impl::link(call& c) {
  c.older = newest;
  c.newer = nullptr;
  if (newest) newest->newer = &c;
  else oldest = &c;
  newest = &c;
  c.linked = true;
  if (!sweeping) arm_sweep();
}

void service_handler::impl::unlink(call& c) {
  if (!c.linked) return;
  c.linked = false;
  (c.older ? c.older->newer : oldest) = c.newer;
  (c.newer ? c.newer->older : newest) = c.older;
  c.older = c.newer = nullptr;
}

void service_handler::impl::arm_sweep() {
  sweeping = true;
  sweep.expires_after(sweep_period);
  sweep.async_wait([this](beast::error_code ec) {
    sweeping = false;
    if (!ec && !closing) on_sweep();
  });
}

// Times out the calls past their deadline: the oldest first, which are the first to be due.
void service_handler::impl::on_sweep() {
  const steady::time_point now = steady::now();
  while (oldest && oldest->deadline <= now) {
    std::shared_ptr<call> c = oldest->shared_from_this();
    unlink(*c);
    c->timed_out = true;
    if (c->conn) {
      // Its pending read or write ends with operation_aborted and reports the timeout.
      beast::error_code ignored;
      c->conn->socket.close(ignored);
    } else {
      deliver(c, timed_out_outcome(), cause::timeout);  // still waiting for a connection
    }
  }
  if (oldest) arm_sweep();
}

void service_handler::impl::acquire(const std::shared_ptr<call>& c) {
  if (!idle.empty()) {
    c->conn = std::move(idle.back());
    idle.pop_back();
    return send(c);
  }
  if (open < spec.connections_max) {
    ++open;
    c->conn = std::make_unique<service_connection>(io);
    c->conn->socket.async_connect(endpoint, [c](beast::error_code ec) {
      if (c->done) return;
      if (ec) return c->owner->failed(c, ec);
      beast::error_code ignored;
      c->conn->socket.set_option(tcp::no_delay(true), ignored);
      c->owner->send(c);
    });
    return;
  }
  waiting.push_back(c);
}

void service_handler::impl::pump() {
  while (!waiting.empty() && !closing && (!idle.empty() || open < spec.connections_max)) {
    std::shared_ptr<call> next = std::move(waiting.front());
    waiting.pop_front();
    if (!next->done) acquire(next);
  }
}

void service_handler::impl::release(std::unique_ptr<service_connection> conn, bool keep) {
  if (!keep || closing) {
    beast::error_code ignored;
    conn->socket.close(ignored);
    conn.reset();
    --open;
  } else {
    conn->used = true;
    idle.push_back(std::move(conn));
  }
  pump();
}

void service_handler::impl::send(const std::shared_ptr<call>& c) {
  c->parser.emplace();
  c->parser->body_limit(answer_bytes_max);
  asio::async_write(c->conn->socket, asio::buffer(c->bytes), [c](beast::error_code ec, std::size_t) {
    if (c->done) return;
    if (ec) return c->owner->failed(c, ec);
    http::async_read(c->conn->socket, c->conn->buffer, *c->parser, [c](beast::error_code rec, std::size_t) {
      if (c->done) return;
      if (rec) return c->owner->failed(c, rec);
      c->owner->answered(c);
    });
  });
}

void service_handler::impl::failed(const std::shared_ptr<call>& c, beast::error_code ec) {
  const bool stale = !c->timed_out && c->conn && c->conn->used && !c->retried_stale && c->parser &&
                     !c->parser->got_some();
  std::unique_ptr<service_connection> conn = std::move(c->conn);
  if (conn) release(std::move(conn), false);
  if (stale) {
    // A keep-alive connection the service had closed while idle: the request never reached it. Once, on a
    // new connection, as HTTP clients do.
    c->retried_stale = true;
    return acquire(c);
  }
  if (c->timed_out) return deliver(c, timed_out_outcome(), cause::timeout);
  // Not HTTP, or an answer beyond answer_bytes_max: the service answered, with garbage.
  const bool garbage = ec.category() == http::make_error_code(http::error::bad_target).category() &&
                       ec != http::error::partial_message && ec != http::error::end_of_stream;
  outcome o;
  o.kind = garbage ? outcome_class::server_error : outcome_class::connection_error;
  deliver(c, std::move(o), garbage ? cause::bad_answer : cause::connection_error);
}

// Whether the answer holds a value that is not null at the success rule's path.
bool service_handler::impl::has_answer(const std::string& body) {
  simdjson::dom::element at;
  if (json_parser.parse(body.data(), body.size()).get(at) != simdjson::SUCCESS) return false;
  for (const json_path_step& step : success_path) {
    simdjson::dom::element next;
    if (step.index) {
      simdjson::dom::array array;
      if (at.get_array().get(array) != simdjson::SUCCESS || array.at(step.position).get(next) != simdjson::SUCCESS) {
        return false;
      }
    } else {
      simdjson::dom::object object;
      if (at.get_object().get(object) != simdjson::SUCCESS || object.at_key(step.key).get(next) != simdjson::SUCCESS) {
        return false;
      }
    }
    at = next;
  }
  return !at.is_null();
}

void service_handler::impl::answered(const std::shared_ptr<call>& c) {
  const auto& res = c->parser->get();
  const int status = static_cast<int>(res.result_int());
  const bool keep = res.keep_alive();
  std::unique_ptr<service_connection> conn = std::move(c->conn);
  release(std::move(conn), keep);
  outcome o;
  o.http_status = status;
  const bool status_ok = spec.success.statuses.empty()
                             ? status >= 200 && status < 300
                             : std::find(spec.success.statuses.begin(), spec.success.statuses.end(), status) !=
                                   spec.success.statuses.end();
  if (status_ok) {
    o.kind = outcome_class::ok;
    if (!spec.success.json_path.empty() && !has_answer(res.body())) {
      o.kind = outcome_class::server_error;  // a success status without the answer: the user got nothing
      return deliver(c, std::move(o), cause::bad_answer);
    }
  } else {
    o.kind = classify_http(status);
    if (o.kind == outcome_class::ok) o.kind = outcome_class::server_error;  // a 2xx the rule does not accept
  }
  deliver(c, std::move(o), std::nullopt);
}

void service_handler::impl::deliver(const std::shared_ptr<call>& c, outcome o, std::optional<cause> why) {
  c->done = true;
  unlink(*c);
  if (why) {
    ++by_cause[static_cast<std::size_t>(*why)];
  } else if (o.http_status >= 0 && static_cast<std::size_t>(o.http_status) < by_status.size()) {
    ++by_status[static_cast<std::size_t>(o.http_status)];
  }
  verdicts.emplace_back(c->ctx->req.id, o.kind == outcome_class::ok);
  o.provider = c->ctx->req.provider;
  o.model = c->ctx->req.model;
  outcome_receiver* receiver = c->receiver;
  c->self.reset();
  receiver->on_outcome(std::move(o));
}

service_handler::service_handler(boost::asio::io_context& io, service_target target, const sim::service_spec& spec,
                                 std::string default_provider)
    : impl_(std::make_unique<impl>(io, std::move(target), spec, std::move(default_provider))) {}

service_handler::~service_handler() {
  impl_->closing = true;
  impl_->sweep.cancel();
  for (auto& conn : impl_->idle) {
    beast::error_code ignored;
    conn->socket.close(ignored);
  }
  impl_->idle.clear();
}

operation& service_handler::start(const call_scope& scope, outcome_receiver& receiver) {
  auto c = std::make_shared<impl::call>(*impl_, scope, receiver);
  c->self = c;
  ++scope.call->attempts;  // one request to the service per user request: squall's own side retries nothing
  impl_->request_bytes.write(scope.call->req, c->bytes);
  c->deadline = steady::now() + impl_->timeout;
  impl_->link(*c);
  // Rule 1 of policies/core/call.hpp: never deliver from inside start().
  asio::post(impl_->io, [c] {
    if (!c->done) c->owner->acquire(c);
  });
  return *c;
}

service_side service_handler::side() const {
  service_side s;
  for (std::size_t status = 0; status < impl_->by_status.size(); ++status) {
    if (impl_->by_status[status] != 0) s.answers[std::to_string(status)] = impl_->by_status[status];
  }
  const std::array<const char*, 3> names = {"timeout", "connection_error", "bad_answer"};
  for (std::size_t k = 0; k < names.size(); ++k) {
    if (impl_->by_cause[k] != 0) s.answers[names[k]] = impl_->by_cause[k];
  }
  s.succeeded_by_id.reserve(impl_->verdicts.size());
  for (const auto& [id, ok] : impl_->verdicts) s.succeeded_by_id[id] = ok;
  return s;
}

}  // namespace squall::runs
