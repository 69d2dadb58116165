#pragma once
// The load generator's last hop when a scenario has a service under test: each user request becomes one
// HTTP request to the service, built from the scenario's request template (sim/scenario/service_spec.hpp),
// and its answer becomes the request's outcome by the success rule. It takes the place of the policy
// pipeline and the provider transport of a live run: what happens between the service and the providers
// is the service's own code, which the fake providers watch (runs/upstream_view.hpp).
//
// Every request carries its id twice, so the fake providers can attribute the attempts it causes: the
// header x-squall-request-id (for services that forward it) and the marker "[squall:<id>]" at the start of
// ${prompt} (for those that forward only the text).
//
// Connections are kept alive and reused, at most connections_max of them; requests beyond wait in order.
// An answer larger than answer_bytes_max, a malformed answer or a broken connection is a failure of that
// request (counted by cause), never of the run. Runs on the io_context's one thread, as the live driver.

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>

#include <boost/asio/io_context.hpp>

#include "policies/core/call.hpp"
#include "runs/request_template.hpp"
#include "sim/scenario/service_spec.hpp"

namespace squall::runs {

struct service_target {
  std::string host = "127.0.0.1";
  std::uint16_t port = 0;
};

// What the service's users saw, beyond what run_metrics keeps: answers by HTTP status (or by cause when
// none came), and each request's verdict for joining with the providers' side.
struct service_side {
  std::map<std::string, std::uint64_t> answers;  // "200", "502", "timeout", "connection_error", "bad_answer"
  std::unordered_map<std::uint64_t, bool> succeeded_by_id;
};

class service_handler final : public handler {
 public:
  static constexpr std::size_t answer_bytes_max = 16 * 1024 * 1024;

  service_handler(boost::asio::io_context& io, service_target target, const sim::service_spec& spec,
                  std::string default_provider);
  ~service_handler() override;
  service_handler(const service_handler&) = delete;
  service_handler& operator=(const service_handler&) = delete;

  operation& start(const call_scope& scope, outcome_receiver& receiver) override;

  // Built from the counts kept during the run; call it once the run is over.
  service_side side() const;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace squall::runs
