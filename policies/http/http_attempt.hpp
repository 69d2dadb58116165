#pragma once
// One attempt of the HTTP transport, shared by the two files that run it: http_transport.cpp (the
// connection: pool, open, send, timers, delivery) and http_answer.cpp (the answer: head, body or stream,
// classification, the server's hints). Private to policies/http.

#include <boost/asio/write.hpp>
#include <boost/beast/http.hpp>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "policies/http/http_transport.hpp"
#include "policies/http/transport_detail.hpp"

namespace squall::http_detail {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;

inline constexpr std::size_t header_bytes_max = 64 * 1024;

enum cookie : std::uint32_t { cookie_deadline = 1, cookie_connect = 2, cookie_answer = 3, cookie_read = 4 };

inline std::string_view header_value(const bhttp::fields& fields, std::string_view name) {
  const auto it = fields.find(beast::string_view(name.data(), name.size()));
  if (it == fields.end()) return {};
  const auto v = it->value();
  return {v.data(), v.size()};
}

inline std::string ms_text(double ms) { return std::to_string(static_cast<long long>(ms)) + " ms"; }

struct attempt final : operation, timer_target, open_waiter, std::enable_shared_from_this<attempt> {
  attempt(http_transport::impl& o, const call_scope& scope, outcome_receiver& r)
      : owner(o), call(scope.call), receiver(&r), started(o.runtime.now()) {}

  // -- operation / timer_target ----------------------------------------------------------------------
  void cancel() noexcept override;
  void on_timer(std::uint32_t which) override;
  // -- open_waiter (connection_pool.cpp opens new connections) -------------------------------------------
  bool abandoned() const noexcept override { return finished; }
  void on_open(open_result result) override;

  // -- the steps of one attempt ----------------------------------------------------------------------
  void begin(const call_scope& scope);
  void acquire();
  void open_new();  // the endpoint's `open` already counts it
  void send();
  void on_write(const boost::system::error_code& ec, std::size_t written);
  void on_header(const boost::system::error_code& ec);
  void read_body();
  void on_body(boost::system::error_code ec);
  void complete();
  void transport_failure(const boost::system::error_code& ec);

  void answer_later(outcome&& o);
  void deliver(outcome&& o, bool keep_connection);
  void fail_because(outcome_class kind, std::string message) { fail_because(outcome::failure(kind), std::move(message)); }
  void fail_because(outcome&& o, std::string message);
  // Gives up the connection: to the idle pool when `keep` and there is room, else closed; then hands a
  // free slot or connection to the next waiting attempt.
  void release_connection(bool keep);
  void stop_timers() noexcept;
  void note_progress() noexcept { last_progress = owner.runtime.now(); }
  void read_hints(outcome& o) const;
  void classify_failure_status(outcome& o);
  std::string encode_payload(const call_payload& p) const;
  void finish_fields(outcome& o);

  http_transport::impl& owner;
  endpoint_state* ep = nullptr;
  call_context* call;
  outcome_receiver* receiver;
  std::shared_ptr<attempt> self;  // keeps the attempt alive until it is answered or cancelled
  time_point started;
  time_point last_progress{};     // the request's write began, or the latest answer bytes arrived
  bool finished = false;          // answered or cancelled: every late completion handler does nothing
  bool waiting = false;
  bool reused = false;
  bool replaced_stale = false;
  std::unique_ptr<connection> conn;
  std::string wire;  // the whole request, head and body: one buffer, one write
  std::optional<bhttp::response_parser<bhttp::buffer_body>> parser;
  bool streaming = false;
  std::string body;  // of a JSON or error answer, at most response_bytes_max
  std::optional<sse_reader> sse;  // only for streams: its deque allocates on construction
  std::optional<stream_decoder> decoder;
  std::optional<duration> ttft;
  outcome pending;  // an answer decided in start(), delivered by a zero timer
  timer_id deadline_timer, connect_timer, answer_timer, read_timer;
  attempt* prev = nullptr;
  attempt* next = nullptr;
};

}  // namespace squall::http_detail
