#include "policies/http/http_transport.hpp"

#include <algorithm>
#include <boost/asio/write.hpp>
#include <boost/beast/http.hpp>
#include <limits>
#include <optional>
#include <string_view>

#include "policies/core/content_flaw.hpp"
#include "policies/http/request_head.hpp"
#include "policies/http/http_attempt.hpp"
#include "policies/http/transport_detail.hpp"
#include "policies/http/wire_payload.hpp"

namespace squall {

using http_detail::attempt;
using http_detail::connection;
using http_detail::endpoint_state;
using http_detail::cookie_answer;
using http_detail::cookie_connect;
using http_detail::cookie_deadline;
using http_detail::cookie_read;
using http_detail::header_value;
using http_detail::ms_text;
namespace bhttp = boost::beast::http;

// ----- impl ------------------------------------------------------------------------------------------

http_transport::impl::~impl() {
  // Attempts still in flight are abandoned: no receiver hears of them again.
  while (live_head) {
    attempt* a = live_head;
    unlink(*a);
    a->finished = true;
    a->stop_timers();
    if (a->conn) a->conn->close();
    a->ep = nullptr;
    auto keep = std::move(a->self);
  }
}

void http_transport::impl::link(attempt& a) noexcept {
  a.prev = nullptr;
  a.next = live_head;
  if (live_head) live_head->prev = &a;
  live_head = &a;
  ++live;
}

void http_transport::impl::unlink(attempt& a) noexcept {
  if (a.prev) a.prev->next = a.next;
  else live_head = a.next;
  if (a.next) a.next->prev = a.prev;
  a.prev = a.next = nullptr;
  --live;
}

namespace http_detail {

// ----- attempt ---------------------------------------------------------------------------------------

void attempt::begin(const call_scope& scope) {
  ep = owner.find(call->req.provider);
  if (!ep) {
    ++owner.stats.unroutable;
    answer_later(outcome::failure(outcome_class::invalid_request));
    return;
  }
  const request& r = call->req;
  // Written as text rather than through Beast's serializer: a field list per attempt was a measurable
  // part of the generator's cost (bench/README.md). Values were checked for line breaks in create().
  // A production call carries its payload; the simulation's requests get a synthesized prompt.
  const std::string payload =
      r.payload ? encode_payload(*r.payload)
                : encode_request(ep->config.api, r.model, r.input_tokens, r.output_tokens, ep->config.stream, r.id);
  if (std::string error; !build_request(*ep, owner.options, r, call->attempts, payload, wire, error)) {
    // A key read for this attempt that is missing: a configuration problem no retry will fix.
    outcome o = outcome::failure(outcome_class::invalid_request);
    if (r.payload) {
      auto a = std::make_shared<answer_payload>();
      a->error_message = error;
      o.answer = std::move(a);
    }
    owner.last_error = std::move(error);
    answer_later(std::move(o));
    return;
  }

  if (owner.options.honor_deadline && scope.deadline != time_never) {
    const time_point now = owner.runtime.now();
    if (scope.deadline <= now) {
      answer_later(outcome::failure(outcome_class::timeout));
      return;
    }
    deadline_timer = owner.runtime.start_timer(scope.deadline - now, *this, cookie_deadline);
  }
  acquire();
}

std::string attempt::encode_payload(const call_payload& p) const {
  if (!p.raw_body.empty()) return p.raw_body;
  return encode_payload_request(ep->config.api, call->req.model, p, ep->config.max_tokens_default, ep->config.stream);
}

void attempt::acquire() {
  if ((conn = take_idle(owner, *ep))) {
    reused = true;
    ++owner.stats.connections_reused;
    send();
  } else if (ep->open < owner.options.connections_max) {
    ++ep->open;
    open_new();
  } else if (ep->waiting.size() < owner.options.waiting_max) {
    waiting = true;
    ++owner.stats.waited;
    ep->waiting.push_back(this);
  } else {
    ++owner.stats.rejected;
    answer_later(outcome::failure(outcome_class::rejected));
  }
}

void attempt::open_new() {
  conn = ep->tls ? std::make_unique<connection>(owner.runtime.io(), *ep->tls)
                 : std::make_unique<connection>(owner.runtime.io());
  reused = false;
  // Resolving, connecting and the TLS handshake all count against the connect timeout.
  connect_timer = owner.runtime.start_timer(from_ms(owner.options.connect_timeout_ms), *this, cookie_connect);
  open_connection(owner, *ep, *conn, shared_from_this());
}

void attempt::on_open(open_result result) {
  owner.runtime.cancel_timer(connect_timer);
  connect_timer = {};
  if (!result.ok) {
    fail_because(outcome_class::connection_error, std::move(result.message));
    return;
  }
  send();
}

void attempt::send() {
  if (owner.options.read_timeout_ms > 0) {
    note_progress();
    owner.runtime.cancel_timer(read_timer);
    read_timer = owner.runtime.start_timer(from_ms(owner.options.read_timeout_ms), *this, cookie_read);
  }
  conn->visit([&](auto& stream) {
    boost::asio::async_write(stream, boost::asio::buffer(wire),
                             [self = shared_from_this()](const boost::system::error_code& ec, std::size_t written) {
                               self->on_write(ec, written);
                             });
  });
}

void attempt::on_write(const boost::system::error_code& ec, std::size_t written) {
  if (finished) return;
  if (ec) {
    // Not one byte left: the server cannot have seen this request, so a fresh connection is not a retry.
    // (A reused connection found closed before the write never gets here: take_idle checks first.)
    if (written == 0 && reused && !replaced_stale) {
      replaced_stale = true;
      ++owner.stats.stale_reconnects;
      conn->close();
      owner.runtime.cancel_timer(read_timer);
      read_timer = {};
      open_new();  // keeps the endpoint's slot
      return;
    }
    transport_failure(ec);
    return;
  }
  if (owner.options.read_timeout_ms > 0) note_progress();
  parser.emplace();
  parser->header_limit(header_bytes_max);
  parser->body_limit(owner.options.response_bytes_max);
  conn->visit([&](auto& stream) {
    bhttp::async_read_header(stream, conn->buffer, *parser,
                             [self = shared_from_this()](const boost::system::error_code& e, std::size_t) {
                               self->on_header(e);
                             });
  });
}

void attempt::transport_failure(const boost::system::error_code& ec) {
  // Some or all of the request was written: the server may have received it, and a POST is not sent
  // twice behind the caller's back. The retry policy, which knows the request, decides.
  if (reused) ++owner.stats.not_resent;
  fail_because(outcome_class::connection_error,
               std::string(reused ? "the reused keep-alive connection to " : "the connection to ") + ep->where +
                   " broke before the answer (" + ec.message() + "); the request was written, so it is not sent again");
}

void attempt::answer_later(outcome&& o) {
  pending = std::move(o);
  answer_timer = owner.runtime.start_timer(duration::zero(), *this, cookie_answer);
}

void attempt::on_timer(std::uint32_t which) {
  if (finished) return;
  switch (which) {
    case cookie_deadline:
      deadline_timer = {};
      fail_because(outcome_class::timeout, "the call's deadline passed before the answer from " + ep->where);
      break;
    case cookie_connect:
      connect_timer = {};
      fail_because(outcome_class::connection_error,
                   "no connection to " + ep->where + (ep->proxy ? " through proxy " + ep->proxy->where : "") +
                       " (resolve, connect" + (ep->proxy ? ", CONNECT" : "") + (ep->tls ? ", TLS handshake" : "") +
                       ") within connect_timeout_ms (" + ms_text(owner.options.connect_timeout_ms) + ")");
      break;
    case cookie_read: {
      // Re-armed lazily: answer bytes only move `last_progress`, so a stream costs no timer work per chunk.
      read_timer = {};
      const duration limit = from_ms(owner.options.read_timeout_ms);
      const duration quiet = owner.runtime.now() - last_progress;
      if (quiet < limit) {
        read_timer = owner.runtime.start_timer(limit - quiet, *this, cookie_read);
        break;
      }
      ++owner.stats.read_timeouts;
      fail_because(outcome_class::timeout, "nothing from " + ep->where + " for read_timeout_ms (" +
                                               ms_text(owner.options.read_timeout_ms) + ") while waiting for the answer");
      break;
    }
    case cookie_answer:
      answer_timer = {};
      deliver(std::move(pending), false);
      break;
    default:
      break;
  }
}

void attempt::stop_timers() noexcept {
  owner.runtime.cancel_timer(deadline_timer);
  owner.runtime.cancel_timer(connect_timer);
  owner.runtime.cancel_timer(answer_timer);
  owner.runtime.cancel_timer(read_timer);
  deadline_timer = connect_timer = answer_timer = read_timer = {};
}

void attempt::release_connection(bool keep) {
  if (waiting) {
    waiting = false;
    std::erase(ep->waiting, this);
  }
  if (!conn) return;
  endpoint_state& e = *ep;
  if (keep) {
    put_idle(owner, e, conn);  // or closes it, when the pool is full
  } else {
    conn->close();
    --e.open;
  }
  // Keep `conn` (closed) alive until our own pending handlers have run; it goes with the attempt.
  while (!e.waiting.empty() && (!e.idle.empty() || e.open < owner.options.connections_max)) {
    attempt* waiter = e.waiting.front();
    e.waiting.pop_front();
    waiter->waiting = false;
    waiter->acquire();
  }
}

void attempt::finish_fields(outcome& o) {
  o.latency = owner.runtime.now() - started;
  if (ep) {
    o.provider = ep->config.provider;
    if (const http_price* p = owner.price(ep->config.provider, call->req.model)) {
      o.model = p->model;
    } else {
      o.model = owner.intern(call->req.model);
    }
  }
}

void attempt::fail_because(outcome&& o, std::string message) {
  // A production call learns why (the certificate, the refused connect, the read timeout) from its answer.
  if (call != nullptr && call->req.payload && !o.answer) {
    auto a = std::make_shared<answer_payload>();
    a->error_message = message;
    o.answer = std::move(a);
  }
  owner.last_error = std::move(message);
  deliver(std::move(o), false);
}

void attempt::deliver(outcome&& o, bool keep_connection) {
  finished = true;
  stop_timers();
  if (ep) release_connection(keep_connection);
  owner.unlink(*this);
  finish_fields(o);
  call->cost_usd += o.cost_usd;
  outcome_receiver* r = receiver;
  const auto keep_alive = std::move(self);  // frees the attempt once this call and its handlers are done
  r->on_outcome(std::move(o));
}

void attempt::cancel() noexcept {
  if (finished) return;
  finished = true;
  ++owner.stats.cancelled;
  stop_timers();
  if (ep) {
    try {
      release_connection(false);
    } catch (...) {
      // Handing the slot to a waiter may allocate; a failure there must not escape cancel().
    }
  }
  owner.unlink(*this);
  receiver = nullptr;
  const auto keep_alive = std::move(self);
}

}  // namespace http_detail

// ----- http_transport --------------------------------------------------------------------------------

http_transport::http_transport(std::unique_ptr<impl> state) : impl_(std::move(state)) {}
http_transport::~http_transport() = default;

operation& http_transport::start(const call_scope& scope, outcome_receiver& receiver) {
  ++scope.call->attempts;
  ++impl_->stats.attempts;
  auto a = std::make_shared<attempt>(*impl_, scope, receiver);
  a->self = a;
  impl_->link(*a);
  a->begin(scope);
  return *a;
}

const http_transport_stats& http_transport::stats() const noexcept { return impl_->stats; }
std::size_t http_transport::in_flight() const noexcept { return impl_->live; }

const std::string& http_transport::last_error() const noexcept { return impl_->last_error; }

}  // namespace squall
