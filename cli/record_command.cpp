#include "cli/record_command.hpp"


#include <iostream>
#include <mutex>

#include "cli/exit_codes.hpp"
#include "policies/asio/stop_signals.hpp"
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

  // Before the I/O thread starts, so that it inherits the mask (policies/asio/stop_signals.hpp).
  const stop_signals signals;

  // The sink runs on the proxy's one I/O thread, so the writer needs no lock.
  traces::trace_writer& w = **writer;
  if (auto e = (*proxy)->start([&w](traces::trace_attempt&& a) { w.append(std::move(a)); })) {
    std::cerr << "squall: error: " << *e << "\n";
    return exit_io_error;  // the writer, destroyed unfinished, removes its temporary file
  }
  std::cout << "squall record: listening on " << (*proxy)->listen_url() << " -> " << args.upstream << std::endl;

  signals.wait(args.for_s);
  (*proxy)->stop();  // exchanges in flight are recorded as cancelled
  const std::uint64_t written = w.written();
  if (auto e = w.finish()) {
    std::cerr << "squall: error: " << e->describe() << "\n";
    return exit_io_error;
  }
  std::cout << "squall record: " << written << " attempts written to " << args.out << std::endl;
  return exit_ok;
}

}  // namespace squall::cli
