#pragma once
// What the fake providers saw: one record per AI request (chat, messages, embeddings) they received,
// attributed to the user request that caused it, for a run against a system under test. fake_server
// keeps them when server_options::record_attempts is set (fake_server::take_attempts).

#include <cstdint>
#include <string>

namespace squall::fake {

// How a request was tied to the user request behind it.
enum class attribution : std::uint8_t {
  none,           // neither header nor marker: numbered in arrival order, as before attribution existed
  header,         // x-squall-request-id
  prompt_marker,  // "[squall:<id>]" in the raw request body (the first well-formed one)
};

struct upstream_attempt {
  std::string provider;  // the scenario provider's name
  std::string model;     // as the request named it (empty when its body could not be read)
  std::string kind;      // "chat", "messages", "embeddings", "responses"
  attribution attributed_by = attribution::none;
  std::uint64_t request_id = 0;  // the user request (when attributed_by != none)
  // This attempt's number for that request id: x-squall-attempt when sent, else counted by the server
  // (1, 2, ...; see fake_server.hpp). 1 for a request that is not attributed.
  std::uint32_t attempt = 1;
  double arrived_ms = 0;  // scenario time (ms since the timeline's start) the request arrived
  // When its exchange with the client ended (the answer or error handed to the connection in full, the
  // reset, the client gone); -1 when it had not ended when the log was taken.
  double ended_ms = -1;
  // The HTTP status sent; 0 when none was (reset, a request the refuse outage reset, a hang the client
  // gave up on, a client gone before any answer). A stream cut or error event after a 200 keeps 200.
  int status = 0;
  // How it ended: "ok", "malformed" (a 200 whose body does not parse), "error" (an HTTP error status),
  // "reset", "hang" (the client gave up on a hung request), "stream_cut", "error_event" (an error event in a
  // stream that began with 200; without a stream the same fault is an "error" 503 or 529), "client_gone"
  // (the client left first), "open" (not ended when the log was taken).
  std::string end = "open";
  std::uint32_t input_tokens = 0;   // the request's, as the provider counts them
  std::uint32_t output_tokens = 0;  // billed: 0 until the service is over, and for every error
  // Billed at the scenario's prices when the service is over, like squall_fake_cost_usd_total: a request
  // served in full is billed even when its client left or its stream was cut.
  double cost_usd = 0;
};

// The attempt log's counts, since the server started or the timeline last restarted (except
// discarded_by_restart, which counts over the server's life).
struct upstream_log_counts {
  std::uint64_t recorded = 0;              // records made (taken or still held)
  std::uint64_t not_recorded = 0;          // attempts served but not recorded: the log was full
  std::uint64_t discarded_by_restart = 0;  // records restart_timeline threw away
  std::uint64_t ids_over_cap = 0;          // attempts of a new request id counted as attempt 1: the id table was full
};

}  // namespace squall::fake
