#include "runs/service_handler.hpp"

#include <utility>  // before Asio, whose awaitable.hpp uses std::exchange without it

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <algorithm>
#include <deque>
#include <optional>
#include <sstream>
#include <vector>

#include "policies/core/classify.hpp"
#include "policies/http/wire.hpp"
#include "sim/scenario/placeholders.hpp"

namespace squall::runs {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

std::string marker_prompt(const request& req) {
  return "[squall:" + std::to_string(req.id) + "] " + prompt_text(req.input_tokens, req.id);
}

// The template's value for one placeholder of a request.
std::string request_value(std::string_view name, const request& req, const std::string& provider) {
  if (name == "request_id") return std::to_string(req.id);
  if (name == "prompt") return marker_prompt(req);
  if (name == "model") return req.model;
  if (name == "provider") return req.provider.empty() ? provider : req.provider;
  if (name == "input_tokens") return std::to_string(req.input_tokens);
  if (name == "output_tokens") return std::to_string(req.output_tokens);
  return {};  // check_placeholders refused every other name when the scenario was read
}

json expand_body(const json& value, const request& req, const std::string& provider) {
  if (value.is_string()) {
    const std::string& text = value.get_ref<const std::string&>();
    const std::string_view sole = sim::sole_placeholder(text);
    if (sole == "input_tokens") return req.input_tokens;
    if (sole == "output_tokens") return req.output_tokens;
    return sim::expand_placeholders(text, [&](std::string_view n) { return request_value(n, req, provider); });
  }
  if (value.is_object()) {
    json out = json::object();
    for (auto it = value.begin(); it != value.end(); ++it) out[it.key()] = expand_body(*it, req, provider);
    return out;
  }
  if (value.is_array()) {
    json out = json::array();
    for (const auto& item : value) out.push_back(expand_body(item, req, provider));
    return out;
  }
  return value;
}

}  // namespace

// One keep-alive connection to the service.
struct service_connection {
  explicit service_connection(asio::io_context& io) : stream(io) {}
  beast::tcp_stream stream;
  beast::flat_buffer buffer;
  bool used = false;  // has carried an exchange: a failure before any answer byte may be a stale keep-alive
};

struct service_handler::impl {
  struct call;
  impl(asio::io_context& io_, service_target target_, const sim::service_spec& spec_, std::string provider_,
       service_side& side_)
      : io(io_), target(std::move(target_)), spec(spec_), provider(std::move(provider_)), side(side_) {}

  asio::io_context& io;
  service_target target;
  const sim::service_spec& spec;
  std::string provider;
  service_side& side;
  std::vector<std::unique_ptr<service_connection>> idle;
  std::size_t open = 0;
  std::deque<std::shared_ptr<call>> waiting;
  bool closing = false;

  http::request<http::string_body> build(const request& req) const;
  void acquire(const std::shared_ptr<call>& c);
  // Starts waiting calls while a connection is idle or may be opened.
  void pump();
  void release(std::unique_ptr<service_connection> conn, bool keep);
  void run(const std::shared_ptr<call>& c);
  void send(const std::shared_ptr<call>& c);
  void answered(const std::shared_ptr<call>& c);
  void failed(const std::shared_ptr<call>& c, beast::error_code ec);
  void deliver(const std::shared_ptr<call>& c, outcome o, const std::string& answer_key);
};

struct service_handler::impl::call final : operation, std::enable_shared_from_this<call> {
  call(impl& owner_, const call_scope& scope, outcome_receiver& receiver_)
      : owner(&owner_), ctx(scope.call), receiver(&receiver_) {}
  void cancel() noexcept override {
    if (done) return;
    done = true;
    if (conn) {
      // The exchange is cut: the connection is closed, never reused. The object stays with this call until
      // the aborted operations have run, since they still touch its buffer.
      beast::error_code ignored;
      conn->stream.socket().close(ignored);
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
  http::request<http::string_body> req;
  std::optional<http::response_parser<http::string_body>> parser;
  asio::steady_timer::time_point deadline;
  bool done = false;
  bool retried_stale = false;
};

http::request<http::string_body> service_handler::impl::build(const request& r) const {
  const auto value = [&](std::string_view n) { return request_value(n, r, provider); };
  http::request<http::string_body> out;
  out.method(http::string_to_verb(spec.request.method));
  out.target(sim::expand_placeholders(spec.request.path, value));
  out.version(11);
  out.set(http::field::host, target.host + ":" + std::to_string(target.port));
  bool content_type = false;
  for (const auto& [name, text] : spec.request.headers) {
    out.set(name, sim::expand_placeholders(text, value));
    if (beast::iequals(name, "content-type")) content_type = true;
  }
  out.set("x-squall-request-id", std::to_string(r.id));
  if (!spec.request.body.is_null()) {
    if (!content_type) out.set(http::field::content_type, "application/json");
    out.body() = expand_body(spec.request.body, r, provider).dump();
  }
  out.keep_alive(true);
  out.prepare_payload();
  return out;
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
    c->conn->stream.expires_at(c->deadline);
    c->conn->stream.async_connect(tcp::endpoint(asio::ip::make_address(target.host), target.port),
                                  [c](beast::error_code ec) {
                                    if (c->done) return;
                                    if (ec) return c->owner->failed(c, ec);
                                    c->owner->send(c);
                                  });
    return;
  }
  waiting.push_back(c);
}

void service_handler::impl::release(std::unique_ptr<service_connection> conn, bool keep) {
  if (!keep || closing) {
    beast::error_code ignored;
    conn->stream.socket().close(ignored);
    conn.reset();
    --open;
  } else {
    conn->used = true;
    idle.push_back(std::move(conn));
  }
  pump();
}

void service_handler::impl::pump() {
  while (!waiting.empty() && !closing && (!idle.empty() || open < spec.connections_max)) {
    std::shared_ptr<call> next = std::move(waiting.front());
    waiting.pop_front();
    if (!next->done) acquire(next);
  }
}

void service_handler::impl::send(const std::shared_ptr<call>& c) {
  c->conn->stream.expires_at(c->deadline);
  c->parser.emplace();
  c->parser->body_limit(answer_bytes_max);
  http::async_write(c->conn->stream, c->req, [c](beast::error_code ec, std::size_t) {
    if (c->done) return;
    if (ec) return c->owner->failed(c, ec);
    http::async_read(c->conn->stream, c->conn->buffer, *c->parser, [c](beast::error_code rec, std::size_t) {
      if (c->done) return;
      if (rec) return c->owner->failed(c, rec);
      c->owner->answered(c);
    });
  });
}

void service_handler::impl::failed(const std::shared_ptr<call>& c, beast::error_code ec) {
  const bool stale = c->conn && c->conn->used && !c->retried_stale && c->parser && !c->parser->got_some() &&
                     ec != beast::error::timeout;
  std::unique_ptr<service_connection> conn = std::move(c->conn);
  if (conn) release(std::move(conn), false);
  if (stale) {
    // A keep-alive connection the service had closed while idle: the request never reached it. Once, on a
    // new connection, as HTTP clients do.
    c->retried_stale = true;
    return acquire(c);
  }
  outcome o;
  std::string key;
  if (ec == beast::error::timeout) {
    o.kind = outcome_class::timeout;
    key = "timeout";
  } else if (ec.category() == http::make_error_code(http::error::bad_target).category() &&
             ec != http::error::partial_message && ec != http::error::end_of_stream) {
    // Not HTTP, or an answer beyond answer_bytes_max: the service answered, with garbage.
    o.kind = outcome_class::server_error;
    key = "bad_answer";
  } else {
    o.kind = outcome_class::connection_error;
    key = "connection_error";
  }
  deliver(c, std::move(o), key);
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
  std::string key = std::to_string(status);
  if (status_ok) {
    o.kind = outcome_class::ok;
    if (!spec.success.json_path.empty()) {
      const json answer = json::parse(res.body(), nullptr, false);
      const json* found = answer.is_discarded() ? nullptr : sim::find_json_path(answer, spec.success.json_path);
      if (!found || found->is_null()) {
        o.kind = outcome_class::server_error;  // a success status without the answer: the user got nothing
        key = "bad_answer";
      }
    }
  } else {
    o.kind = classify_http(status);
    if (o.kind == outcome_class::ok) o.kind = outcome_class::server_error;  // a 2xx the rule does not accept
  }
  deliver(c, std::move(o), key);
}

void service_handler::impl::deliver(const std::shared_ptr<call>& c, outcome o, const std::string& answer_key) {
  c->done = true;
  ++side.answers[answer_key];
  side.succeeded_by_id[c->ctx->req.id] = o.kind == outcome_class::ok;
  o.provider = c->ctx->req.provider;
  o.model = c->ctx->req.model;
  outcome_receiver* receiver = c->receiver;
  c->self.reset();
  receiver->on_outcome(std::move(o));
}

void service_handler::impl::run(const std::shared_ptr<call>& c) {
  if (c->done) return;
  acquire(c);
}

service_handler::service_handler(boost::asio::io_context& io, service_target target, const sim::service_spec& spec,
                                 std::string default_provider)
    : impl_(std::make_unique<impl>(io, std::move(target), spec, std::move(default_provider), side_)) {}

service_handler::~service_handler() {
  impl_->closing = true;
  for (auto& conn : impl_->idle) {
    beast::error_code ignored;
    conn->stream.socket().close(ignored);
  }
  impl_->idle.clear();
}

operation& service_handler::start(const call_scope& scope, outcome_receiver& receiver) {
  auto c = std::make_shared<impl::call>(*impl_, scope, receiver);
  c->self = c;
  ++scope.call->attempts;  // one request to the service per user request: squall's own side retries nothing
  c->req = impl_->build(scope.call->req);
  c->deadline = asio::steady_timer::clock_type::now() +
                std::chrono::duration_cast<asio::steady_timer::duration>(
                    std::chrono::duration<double, std::milli>(impl_->spec.request.timeout_ms));
  // Rule 1 of policies/core/call.hpp: never deliver from inside start().
  asio::post(impl_->io, [c] { c->owner->run(c); });
  return *c;
}

std::string service_handler::encode(const request& req) const {
  std::ostringstream out;
  out << impl_->build(req);
  return out.str();
}

}  // namespace squall::runs
