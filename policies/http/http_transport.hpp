#pragma once
// The live transport: the handler at the bottom of a production (or live-mode) pipeline. Each start() is
// one attempt: one HTTP/1.1 POST (over TLS for https:// endpoints) to the endpoint serving
// request.provider, on the asio_runtime's io_context, answered by exactly one outcome classified with the
// shared classifier.
//
//  - Endpoints: an API kind (OpenAI-style POST {base}/chat/completions with "Authorization: Bearer",
//    Anthropic-style POST {base}/messages with x-api-key and anthropic-version, or Gemini's POST
//    {base}/v1beta/models/{model}:generateContent (:streamGenerateContent?alt=sse) with x-goog-api-key,
//    the base being the origin, https://generativelanguage.googleapis.com) and a base URL, chosen per
//    request.provider (empty: the default endpoint). A request naming no endpoint gets invalid_request.
//    A base URL's query follows the API path (Azure OpenAI: {base}/chat/completions?api-version=...).
//    `auth` picks the key's header (bearer, x-api-key, or Azure's api-key); `headers` adds fixed headers
//    (OpenAI-Organization, anthropic-beta); user_agent names the client (default "squall"). The key is
//    fixed (api_key, written once into the endpoint's head) or read for every attempt (api_key_env,
//    api_key_provider), so a rotated key is used from the next attempt on; a missing one fails the
//    attempt as invalid_request, with the reason in last_error().
//  - The body carries the request's model, a deterministic prompt of about input_tokens tokens and
//    max_tokens = output_tokens; "stream" per endpoint. Headers x-squall-request-id, x-squall-attempt and
//    x-squall-input-tokens let squall's fake providers key their draws like the simulation does.
//  - Connections: per endpoint at most connections_max open (in use, idle or connecting); attempts
//    beyond it wait in a FIFO of at most waiting_max (beyond that: rejected). A new connection resolves
//    the host again (a host name; an IP literal is used as is), connects and, for https, runs the TLS
//    handshake, all within connect_timeout_ms. Idle keep-alive connections are reused (newest first), at
//    most idle_max kept, none kept longer than idle_timeout_ms (closed when the pool is next used: no
//    timer is armed for them, so an io_context with nothing in flight still runs out of work).
//  - Proxy: with `proxy` (or, when proxy_from_environment, HTTPS_PROXY / HTTP_PROXY), connections to
//    endpoints not exempted by no_proxy go to the proxy, which is asked with HTTP CONNECT for a tunnel to
//    the endpoint's host:port; TLS then runs inside the tunnel, end to end with the endpoint. Plain http
//    endpoints are tunnelled the same way (one path; the proxy sees no request). Reaching the proxy and
//    its answer count under connect_timeout_ms; a refusal (407, 403, 502...) is a connection_error whose
//    message names the proxy and its status line. loopback_only checks the proxy's addresses too.
//  - No silent re-send: before a request goes out on a connection idle for 1 ms or more, one non-blocking
//    peek checks that the server has not closed it; one that has is dropped and another taken
//    (stale_reconnects).
//    Once any byte of the request was written, a connection that breaks before the answer is reported as
//    connection_error and the request is never sent again by the transport: the server may have received
//    it, and whether to retry a POST is the retry policy's call (not_resent counts these on reused
//    connections). A write that fails without writing a single byte is replaced once, transparently.
//  - TLS (https://): OpenSSL through Asio. The system's CA store (honouring SSL_CERT_FILE and
//    SSL_CERT_DIR) plus ca_file; the chain is verified and the certificate must name the URL's host (its
//    DNS name, or an IP literal among its IP addresses); SNI carries host names. A failed handshake is a
//    connection_error, counted in tls_failures, with the reason in last_error() ("TLS handshake with
//    127.0.0.1:8443 failed: certificate verify failed: unable to get local issuer certificate"). Plain
//    http:// connections never touch OpenSSL.
//  - Answers: JSON or SSE (by the answer's content type). Time to first token is the first non-empty
//    content chunk of a stream, or the whole answer otherwise. Usage tokens from the answer (the request's
//    counts when it has none); cost from the price table by (provider, request model).
//  - Failures: status + provider error type -> classify_http; retry-after-ms / retry-after (for Gemini,
//    without them, the error body's RetryInfo retryDelay), x-should-retry,
//    x-ratelimit-reset-* and anthropic-ratelimit-*-reset -> the outcome's hints (parsers of policies/retry).
//    Refused, reset, connect timeout, or a stream cut after a 200 -> connection_error. A 200 whose body is
//    not the expected JSON, or a stream event that is not -> server_error (the server misbehaved; a retry
//    may help). An error event inside a 200 stream classifies as its error type's usual status would.
//  - Deadline: with honor_deadline, the attempt ends with timeout at call_scope.deadline (an attempt
//    started past its deadline is not sent). Without any deadline, read_timeout_ms still ends an attempt
//    with timeout when nothing arrives for that long once its request is being written: the write, the
//    wait for the head, every gap between answer bytes (a stream's included).
//  - Failure messages: every failure the transport decides by itself (connect, resolve, TLS, a broken
//    connection, connect or read timeout) comes with a sentence naming the endpoint and the cause;
//    last_error() holds the latest.
//  - cancel() closes the attempt's connection (never pooled again) and never calls the receiver.
//
// Threading: like its runtime, the transport runs on the one thread that runs the io_context.
// Destroying the transport abandons its attempts in flight (their receivers are never called); the
// io_context must outlive it.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "policies/asio/asio_runtime.hpp"
#include "policies/core/call.hpp"
#include "policies/core/config_error.hpp"
#include "policies/http/wire.hpp"

namespace squall {

// How an endpoint's API key travels.
enum class http_auth {
  by_api,          // bearer for openai, x_api_key for anthropic, x_goog_api_key for gemini (the default)
  bearer,          // "Authorization: Bearer KEY" (OpenAI)
  x_api_key,       // "x-api-key: KEY" (Anthropic)
  api_key,         // "api-key: KEY" (Azure OpenAI)
  x_goog_api_key,  // "x-goog-api-key: KEY" (Gemini)
};

struct http_endpoint {
  std::string provider;  // the request.provider this endpoint serves
  api_kind api = api_kind::openai;
  // "http://127.0.0.1:8080/v1"; a query is kept and sent after the API path:
  // "https://x.openai.azure.com/openai/deployments/gpt4o?api-version=2024-10-21".
  std::string base_url;
  std::string api_key;   // sent as `auth` says; empty sends none
  bool stream = false;   // ask for a server-sent-event stream. The default value is false.
  // The max_tokens sent to an API that requires one (Anthropic) for a call whose payload names none.
  // The default value is 4096.
  std::uint32_t max_tokens_default = 4096;
  // The header carrying the key. The default value is by_api (bearer for OpenAI, x-api-key for Anthropic,
  // x-goog-api-key for Gemini).
  http_auth auth = http_auth::by_api;
  // Sent with every request of this endpoint, after the transport's own ("OpenAI-Organization",
  // "anthropic-beta"). Names must be HTTP tokens, values hold no line break. The default is none.
  std::vector<std::pair<std::string, std::string>> headers{};
  // Where the key comes from when it may change while the transport runs (rotation without a rebuild).
  // At most one of api_key, api_key_env and api_key_provider is set; with either of the last two the key
  // is read for every attempt and nothing is cached. An empty or line-breaking key fails the attempt as
  // invalid_request with a message in last_error().
  //  - api_key_env: the environment variable read (getenv) for each attempt. getenv races with setenv on
  //    other threads: change the variable only while no attempt starts, or use api_key_provider.
  //  - api_key_provider: called on the I/O thread for each attempt; must be cheap and must not block.
  std::string api_key_env{};
  std::function<std::string()> api_key_provider{};
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
  double connect_timeout_ms = 10000;     // resolve + connect + TLS handshake. The default value is 10 s.
  // Longest silence once a request is being written: the write, the wait for the answer's head, and each
  // gap between its bytes. Ends the attempt with timeout even without a deadline. 0: none. Default 600 s.
  double read_timeout_ms = 600'000;
  // An idle keep-alive connection older than this is closed instead of reused. 0: no limit. Default 60 s.
  double idle_timeout_ms = 60'000;
  // PEM file of CA certificates trusted for https endpoints besides the system's store (a private CA, or
  // the throwaway one `squall serve --tls` prints). Empty: the system store only. Read by create().
  std::string ca_file;
  std::uint32_t response_bytes_max = 8U << 20;  // body limit of one answer. The default value is 8 MiB.
  bool honor_deadline = true;            // end attempts at call_scope.deadline. The default value is true.
  bool loopback_only = false;            // refuse endpoints whose addresses are not loopback
  std::string anthropic_version = "2023-06-01";
  // The User-Agent header of every request. No line breaks. The default value is "squall".
  std::string user_agent = "squall";
  // An HTTP proxy ("http://host:port") every endpoint is reached through, by HTTP CONNECT: a tunnel to
  // the endpoint's host:port, then TLS inside it for https endpoints. Plain http endpoints are tunnelled
  // too (one path for both; the proxy sees no request). Empty: none. The default value is "".
  std::string proxy;
  // Hosts reached directly despite a proxy: a comma-separated list of host suffixes ("example.com" and
  // ".example.com" both match api.example.com and example.com) and exact IP literals (no CIDR ranges);
  // "*" means every host, so no proxy is used. The default value is "".
  std::string no_proxy;
  // When true, create() reads the environment for whichever of proxy and no_proxy are empty: https
  // endpoints use HTTPS_PROXY (or https_proxy), http endpoints HTTP_PROXY (or http_proxy), and NO_PROXY
  // (or no_proxy) exempts hosts. Read once; later changes need a new transport. The default value is
  // false: a library does not follow the environment unasked.
  bool proxy_from_environment = false;
  // Send x-squall-request-id, x-squall-attempt and x-squall-input-tokens with every attempt, so that
  // squall's fake providers key their draws like the simulation (the load generator turns this on). A
  // production client leaves it off: real providers have no use for them. The default value is false.
  bool squall_headers = false;
  // Read the text of every ok answer of a call without a payload (the load generator's) and state its
  // evident flaw (policies/core/content_flaw.hpp: empty, cut by length, JSON that does not parse) on the
  // outcome, as the simulation's providers state theirs: so that a live run counts the bad content of a
  // brownout like the simulation of it (the load generator turns this on). Costs the text's bytes per
  // answer. The default value is false.
  bool read_content_flaws = false;
};

struct http_transport_stats {
  std::uint64_t attempts = 0;
  std::uint64_t connections_opened = 0;  // TCP connects started
  std::uint64_t connections_reused = 0;  // attempts served on an idle keep-alive connection
  std::uint64_t stale_reconnects = 0;    // idle connections found closed by the server and replaced
  std::uint64_t not_resent = 0;          // reused connections that broke after the request was written
  std::uint64_t resolves = 0;            // host name lookups for new connections
  std::uint64_t tls_handshakes = 0;      // completed
  std::uint64_t tls_failures = 0;        // handshakes that failed (certificate, protocol, a plain server)
  std::uint64_t read_timeouts = 0;       // attempts ended by read_timeout_ms
  std::uint64_t idle_expired = 0;        // idle connections closed after idle_timeout_ms
  std::uint64_t waited = 0;              // attempts that waited for a free connection
  std::uint64_t rejected = 0;            // attempts refused because the wait queue was full
  std::uint64_t cancelled = 0;
  std::uint64_t unroutable = 0;          // requests naming no endpoint
};

class http_transport final : public handler {
 public:
  // Validates the options (URLs, names, limits, ca_file) and resolves every endpoint's host once, so that
  // a name that does not resolve (or, with loopback_only, resolves off the machine) is refused here.
  // Errors name the offending endpoint ("endpoints[1] (openai): ...").
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
  // The sentence of the latest failure the transport decided by itself ("cannot connect to
  // 127.0.0.1:8080: Connection refused"); empty before the first one.
  const std::string& last_error() const noexcept;

  struct impl;

 private:
  explicit http_transport(std::unique_ptr<impl> state);
  std::unique_ptr<impl> impl_;
};

}  // namespace squall
