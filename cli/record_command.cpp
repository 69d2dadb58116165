#include "cli/record_command.hpp"

#include <pthread.h>
#include <signal.h>

#include <cerrno>
#include <cmath>
#include <ctime>
#include <iostream>
#include <mutex>

#include "cli/exit_codes.hpp"
#include "traces/record/record_proxy.hpp"
#include "traces/trace.hpp"

namespace squall::cli {

CLI::App* add_record_command(CLI::App& app, record_args& args) {
  auto* record = app.add_subcommand(
      "record",
      "Record a trace: a reverse proxy in front of a provider that passes every request and answer (streams too) "
      "through and writes one line per attempt to the trace, until SIGINT/SIGTERM or --for-s. Authorization "
      "headers and API keys never enter the trace; prompts are kept as SHA-256 unless --keep-prompts");
  record->add_option("--upstream", args.upstream, "Provider base URL, http://host:port[/path] (loopback unless --allow-remote)")
      ->required();
  record->add_option("--listen", args.listen, "Address to listen on, host:port (default 127.0.0.1:0: a free port)");
  record->add_option("--out", args.out, "Trace file to write (JSON Lines, docs/trace-format.md)")->required();
  record->add_option("--provider", args.provider,
                     "Provider name in the trace (default: the API of each request's path, openai or anthropic)");
  record->add_flag("--keep-prompts", args.keep_prompts, "Keep prompt text in the trace (default: only its SHA-256)");
  record->add_option("--for-s", args.for_s, "Stop after this many seconds (default: until a signal)")
      ->check(CLI::Range(0.001, 31'536'000.0));
  record->add_flag("--allow-remote", args.allow_remote, "Allow an upstream or listen address that is not loopback");
  return record;
}

int record_command(const record_args& args) {
  traces::record::record_options options;
  options.upstream = args.upstream;
  options.listen = args.listen;
  options.provider = args.provider;
  options.keep_prompts = args.keep_prompts;
  options.allow_remote = args.allow_remote;
  auto proxy = traces::record::record_proxy::create(options);
  if (!proxy) {
    std::cerr << "squall: error: " << proxy.error().describe() << "\n";
    return exit_bad_input;
  }

  traces::trace_header header;
  header.source = "record";
  header.started_at = (*proxy)->started_at();
  header.prompts = args.keep_prompts ? traces::prompt_mode::text : traces::prompt_mode::hash;
  auto writer = traces::trace_writer::open(args.out, header);
  if (!writer) {
    std::cerr << "squall: error: " << writer.error().describe() << "\n";
    return exit_io_error;
  }

  // Signals are taken synchronously by this thread: block them before the I/O thread starts, so that it
  // inherits the mask and never runs a handler.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  sigset_t previous;
  pthread_sigmask(SIG_BLOCK, &stop_signals, &previous);

  // The sink runs on the proxy's one I/O thread, so the writer needs no lock.
  traces::trace_writer& w = **writer;
  if (auto e = (*proxy)->start([&w](traces::trace_attempt&& a) { w.append(std::move(a)); })) {
    std::cerr << "squall: error: " << *e << "\n";
    pthread_sigmask(SIG_SETMASK, &previous, nullptr);
    return exit_io_error;  // the writer, destroyed unfinished, removes its temporary file
  }
  std::cout << "squall record: listening on " << (*proxy)->listen_url() << " -> " << args.upstream << std::endl;

  for (;;) {
    int got = 0;
    if (args.for_s) {
      // sigtimedwait for the whole time; a stray wake-up (EINTR) waits again. The proxy's clock is the
      // only clock read, so this wait is counted by the kernel, not here.
      timespec limit{};
      const double whole = std::floor(*args.for_s);
      limit.tv_sec = static_cast<time_t>(whole);
      limit.tv_nsec = static_cast<long>((*args.for_s - whole) * 1e9);
      got = sigtimedwait(&stop_signals, nullptr, &limit);
      if (got < 0 && errno == EAGAIN) break;
      if (got < 0) continue;
    } else if (sigwait(&stop_signals, &got) != 0) {
      continue;
    }
    break;
  }
  (*proxy)->stop();  // exchanges in flight are recorded as cancelled
  pthread_sigmask(SIG_SETMASK, &previous, nullptr);
  const std::uint64_t written = w.written();
  if (auto e = w.finish()) {
    std::cerr << "squall: error: " << e->describe() << "\n";
    return exit_io_error;
  }
  std::cout << "squall record: " << written << " attempts written to " << args.out << std::endl;
  return exit_ok;
}

}  // namespace squall::cli
