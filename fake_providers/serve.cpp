#include "fake_providers/serve.hpp"

#include <pthread.h>
#include <signal.h>

#include <cerrno>
#include <cmath>
#include <ctime>
#include <ostream>

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
  // Signals are taken synchronously by this thread: block them before the I/O thread starts, so that
  // it inherits the mask and never runs a handler.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  sigset_t previous;
  pthread_sigmask(SIG_BLOCK, &stop_signals, &previous);

  const server_options opts = options_for(s, o);
  fake_server server(s.providers, opts);
  if (auto e = server.start()) {
    err << "squall: error: " << *e << "\n";
    pthread_sigmask(SIG_SETMASK, &previous, nullptr);
    return 3;
  }
  out << "squall serve: scenario \"" << s.name << "\", seed " << opts.seed << "; scenario time 0 is now\n";
  for (const endpoint_info& e : server.endpoints()) out << e.provider << " " << e.base_url << "\n";
  out.flush();

  for (;;) {
    int got = 0;
    if (o.for_s) {
      // sigtimedwait with the time left; a stray wake-up (EINTR) just waits again.
      timespec limit{};
      const double whole = std::floor(*o.for_s);
      limit.tv_sec = static_cast<time_t>(whole);
      limit.tv_nsec = static_cast<long>((*o.for_s - whole) * 1e9);
      got = sigtimedwait(&stop_signals, nullptr, &limit);
      if (got < 0 && errno == EAGAIN) break;
      if (got < 0) continue;
    } else if (sigwait(&stop_signals, &got) != 0) {
      continue;
    }
    break;
  }
  server.stop();
  pthread_sigmask(SIG_SETMASK, &previous, nullptr);
  out << "squall serve: stopped\n";
  return 0;
}

}  // namespace squall::fake
