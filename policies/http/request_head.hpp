#pragma once
// Request heads of the HTTP transport (private to policies/http): the lines every attempt of an endpoint
// shares, built once by create() and checked there (header names and values, the User-Agent), and the
// whole request of one attempt (its key, when read per attempt, and its body).

#include <optional>
#include <string>

#include "policies/core/call.hpp"
#include "policies/http/http_transport.hpp"

namespace squall::http_detail {

struct endpoint_state;

// Fills e.head, e.key_header and e.key_per_attempt from e.config, e.url and the transport's options.
// Returns why not, naming the offending field relative to the endpoint ("headers[1]: ..."), or nothing.
std::optional<std::string> build_endpoint_head(endpoint_state& e, const http_transport_options& options);

// The whole request of one attempt: head, the key when it is read per attempt, squall's own headers
// when asked for, and `body`. False with `error` (a sentence naming the endpoint) when the key read for
// this attempt is missing or unusable.
bool build_request(const endpoint_state& e, const http_transport_options& options, const request& r,
                   std::uint32_t attempt_number, const std::string& body, std::string& wire, std::string& error);

}  // namespace squall::http_detail
