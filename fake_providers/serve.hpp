#pragma once
// `squall serve`: the scenario's providers as HTTP fake providers, following its fault timeline from
// the moment they start, until SIGINT or SIGTERM (or a time limit); with TLS, as HTTPS servers.

#include <cstdint>
#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

#include "fake_providers/fake_server.hpp"
#include "sim/scenario/scenario.hpp"

namespace squall::fake {

struct serve_options {
  std::string host = "127.0.0.1";
  std::uint16_t port = 0;              // first provider's port; the next count up; 0: ephemeral
  std::optional<std::uint64_t> seed;   // default: the scenario's seed, else 1
  std::optional<double> for_s;         // stop after this long; default: until a signal
  bool tls = false;                    // serve HTTPS
  // With tls: the PEM certificate chain and unencrypted private key to serve. Both empty: a throwaway CA
  // is made at start, and a certificate it signs for 127.0.0.1, ::1, localhost and `host`.
  std::string cert_file;
  std::string key_file;
  // With tls and no cert_file: where the throwaway CA's certificate is written. Empty: ca.pem in a new
  // directory under the temporary directory ($TMPDIR, else /tmp), removed when serve() returns.
  std::string ca_out;
};

// The server options a scenario implies: its seed and its workload's output-token distribution.
server_options options_for(const sim::scenario& s, const serve_options& o);

// What `squall serve` prints once its providers listen: per provider the base URL an SDK takes
// ("openai http://127.0.0.1:PORT/v1", the one line scripts look for), then, indented, its control API
// and metrics URLs; last, a curl command that arms a fault window on the first provider (with
// --cacert `ca_file` when not empty).
void print_endpoints(std::ostream& out, const std::vector<endpoint_info>& endpoints, const std::string& ca_file);

// Starts every provider, prints its endpoints to `out` (print_endpoints; https:// with tls, after a
// "CA certificate: PATH" line when the CA was made here), and serves until
// SIGINT/SIGTERM or `for_s`. Returns 0; 2 (with a message on `err` naming the file) when cert_file or
// key_file cannot be read or do not make a usable certificate and key; 3 when a listener cannot bind or
// the CA certificate cannot be written.
int serve(const sim::scenario& s, const serve_options& o, std::ostream& out, std::ostream& err);

}  // namespace squall::fake
