#pragma once
// `squall serve`: the scenario's providers as HTTP fake providers, following its fault timeline from
// the moment they start, until SIGINT or SIGTERM (or a time limit).

#include <cstdint>
#include <iosfwd>
#include <optional>

#include "fake_providers/fake_server.hpp"
#include "sim/scenario/scenario.hpp"

namespace squall::fake {

struct serve_options {
  std::string host = "127.0.0.1";
  std::uint16_t port = 0;              // first provider's port; the next count up; 0: ephemeral
  std::optional<std::uint64_t> seed;   // default: the scenario's seed, else 1
  std::optional<double> for_s;         // stop after this long; default: until a signal
};

// The server options a scenario implies: its seed and its workload's output-token distribution.
server_options options_for(const sim::scenario& s, const serve_options& o);

// Starts every provider, prints one line per provider ("openai http://127.0.0.1:PORT/v1") to `out`,
// and serves until SIGINT/SIGTERM or `for_s`. Returns 0, or 3 (with a message on `err`) when a
// listener cannot bind.
int serve(const sim::scenario& s, const serve_options& o, std::ostream& out, std::ostream& err);

}  // namespace squall::fake
