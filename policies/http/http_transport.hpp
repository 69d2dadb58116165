#pragma once
// The live transport: the handler at the bottom of a production (or live-mode) pipeline. Each start() is
// one attempt: one HTTP/1.1 POST to the endpoint serving request.provider, on the asio_runtime's
// io_context, answered by exactly one outcome classified with the shared classifier.
//
//  - Endpoints: an API kind (OpenAI-style POST {base}/chat/completions with "Authorization: Bearer", or
//    Anthropic-style POST {base}/messages with x-api-key and anthropic-version) and a base URL, chosen per
//    request.provider (empty: the default endpoint). A request naming no endpoint gets invalid_request.
//  - The body carries the request's model, a deterministic prompt of about input_tokens tokens and
//    max_tokens = output_tokens; "stream" per endpoint. Headers x-squall-request-id, x-squall-attempt and
//    x-squall-input-tokens let squall's fake providers key their draws like the simulation does.
//  - Connections: per endpoint at most connections_max open (in use, idle or connecting); attempts
//    beyond it wait in a FIFO of at most waiting_max (beyond that: rejected). Idle keep-alive connections
//    are reused (newest first), at most idle_max kept. A reused connection that fails before any byte of
//    the answer (the server closed it while idle) is replaced by a fresh one once, transparently.
//  - Answers: JSON or SSE (by the answer's content type). Time to first token is the first non-empty
//    content chunk of a stream, or the whole answer otherwise. Usage tokens from the answer (the request's
//    counts when it has none); cost from the price table by (provider, request model).
//  - Failures: status + provider error type -> classify_http; retry-after-ms / retry-after, x-should-retry,
//    x-ratelimit-reset-* and anthropic-ratelimit-*-reset -> the outcome's hints (parsers of policies/retry).
//    Refused, reset, connect timeout, or a stream cut after a 200 -> connection_error. A 200 whose body is
//    not the expected JSON, or a stream event that is not -> server_error (the server misbehaved; a retry
//    may help). An error event inside a 200 stream classifies as its error type's usual status would.
//  - Deadline: with honor_deadline, the attempt ends with timeout at call_scope.deadline (an attempt
//    started past its deadline is not sent).
//  - cancel() closes the attempt's connection (never pooled again) and never calls the receiver.
//
// Threading: like its runtime, the transport runs on the one thread that runs the io_context.
// Destroying the transport abandons its attempts in flight (their receivers are never called); the
// io_context must outlive it.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "policies/asio/asio_runtime.hpp"
#include "policies/core/call.hpp"
#include "policies/core/config_error.hpp"
#include "policies/http/wire.hpp"

namespace squall {

struct http_endpoint {
  std::string provider;  // the request.provider this endpoint serves
  api_kind api = api_kind::openai;
  std::string base_url;  // "http://127.0.0.1:8080/v1"
  std::string api_key;   // sent as a bearer token (OpenAI) or x-api-key (Anthropic); empty sends none
  bool stream = false;   // ask for a server-sent-event stream. The default value is false.
  // The max_tokens sent to an API that requires one (Anthropic) for a call whose payload names none.
  // The default value is 4096.
  std::uint32_t max_tokens_default = 4096;
};

// Prices of one model at one provider, in US dollars per million tokens.
struct http_price {
  std::string provider;
  std::string model;
  double usd_per_mtok_in = 0.0;
  double usd_per_mtok_out = 0.0;
  double batch_discount = 0.0;  // fraction off both prices when request.batch_size > 1
};

struct http_transport_options {
  std::vector<http_endpoint> endpoints;  // provider names must be distinct
  std::string default_provider;          // for requests naming none; empty = the first endpoint
  std::vector<http_price> prices;        // a model without a price costs 0
  std::uint32_t connections_max = 256;   // per endpoint. The default value is 256.
  std::uint32_t idle_max = 64;           // idle connections kept per endpoint. The default value is 64.
  std::uint32_t waiting_max = 4096;      // attempts waiting for a connection, per endpoint. Default 4096.
  double connect_timeout_ms = 10000;     // The default value is 10 s.
  std::uint32_t response_bytes_max = 8U << 20;  // body limit of one answer. The default value is 8 MiB.
  bool honor_deadline = true;            // end attempts at call_scope.deadline. The default value is true.
  bool loopback_only = false;            // refuse endpoints whose addresses are not loopback
  std::string anthropic_version = "2023-06-01";
  // Send x-squall-request-id, x-squall-attempt and x-squall-input-tokens with every attempt, so that
  // squall's fake providers key their draws like the simulation (the load generator turns this on). A
  // production client leaves it off: real providers have no use for them. The default value is false.
  bool squall_headers = false;
};

struct http_transport_stats {
  std::uint64_t attempts = 0;
  std::uint64_t connections_opened = 0;  // TCP connects started
  std::uint64_t connections_reused = 0;  // attempts served on an idle keep-alive connection
  std::uint64_t stale_reconnects = 0;    // reused connections found closed and replaced
  std::uint64_t waited = 0;              // attempts that waited for a free connection
  std::uint64_t rejected = 0;            // attempts refused because the wait queue was full
  std::uint64_t cancelled = 0;
  std::uint64_t unroutable = 0;          // requests naming no endpoint
};

class http_transport final : public handler {
 public:
  // Validates the options (URLs, names, limits) and resolves every endpoint's host once. Errors name the
  // offending endpoint ("endpoints[1] (openai): ...").
  static config_result<std::unique_ptr<http_transport>> create(asio_runtime& runtime,
                                                               http_transport_options options);
  ~http_transport() override;
  http_transport(const http_transport&) = delete;
  http_transport& operator=(const http_transport&) = delete;

  operation& start(const call_scope& scope, outcome_receiver& receiver) override;

  const http_transport_stats& stats() const noexcept;
  std::size_t in_flight() const noexcept;         // attempts started, neither answered nor cancelled
  std::size_t open_connections() const noexcept;  // over all endpoints, idle included
  std::size_t idle_connections() const noexcept;

  struct impl;

 private:
  explicit http_transport(std::unique_ptr<impl> state);
  std::unique_ptr<impl> impl_;
};

}  // namespace squall
