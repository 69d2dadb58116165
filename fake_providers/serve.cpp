#include "fake_providers/serve.hpp"

#include <ostream>

#include "policies/asio/stop_signals.hpp"

namespace squall::fake {

server_options options_for(const sim::scenario& s, const serve_options& o) {
  server_options opts;
  opts.host = o.host;
  opts.port = o.port;
  opts.seed = o.seed ? *o.seed : s.seed.value_or(1);
  opts.output_tokens = s.workload.output_tokens;
  return opts;
}

int serve(const sim::scenario& s, const serve_options& o, std::ostream& out, std::ostream& err) {
  // Before the I/O thread starts, so that it inherits the mask (policies/asio/stop_signals.hpp).
  const stop_signals signals;

  const server_options opts = options_for(s, o);
  fake_server server(s.providers, opts);
  if (auto e = server.start()) {
    err << "squall: error: " << *e << "\n";
    return 3;
  }
  out << "squall serve: scenario \"" << s.name << "\", seed " << opts.seed << "; scenario time 0 is now\n";
  for (const endpoint_info& e : server.endpoints()) out << e.provider << " " << e.base_url << "\n";
  out.flush();

  signals.wait(o.for_s);
  server.stop();
  out << "squall serve: stopped\n";
  return 0;
}

}  // namespace squall::fake
