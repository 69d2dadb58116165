#include "cli/serve_command.hpp"

#include <iostream>

#include "cli/flag_checks.hpp"

#include "fake_providers/serve.hpp"
#include "sim/scenario/scenario.hpp"

namespace squall::cli {

CLI::App* add_serve_command(CLI::App& app, serve_args& args) {
  auto* serve = app.add_subcommand(
      "serve", "Serve the scenario's providers as HTTP fake providers (OpenAI/Anthropic wire formats) following its "
               "fault timeline, until SIGINT/SIGTERM; prints one \"<provider> <base URL>\" line per provider");
  serve->add_option("scenario", args.scenario, "Scenario file (JSON)")->required();
  serve->add_option("--host", args.host, "Address to listen on (default 127.0.0.1)");
  serve->add_option("--port", args.port, "Port of the first provider, the next count up (default 0: ephemeral)")
      ->check(unsigned_integer);
  serve->add_option("--seed", args.seed, "Root seed (default: the scenario's \"seed\", else 1)")
      ->check(unsigned_integer);
  serve->add_option("--for-s", args.for_s, "Stop after this many seconds (default: until a signal)")
      ->check(CLI::PositiveNumber);
  serve->add_flag("--allow-remote", args.allow_remote, "Allow a --host other than loopback");
  auto* tls = serve->add_flag("--tls", args.tls,
                              "Serve HTTPS: with --cert and --key, else with a throwaway CA made at start and a "
                              "certificate for 127.0.0.1, ::1 and localhost; prints \"CA certificate: PATH\"");
  auto* cert = serve->add_option("--cert", args.cert_file, "PEM certificate chain to serve with --tls (leaf first)")
                   ->needs(tls);
  auto* key = serve->add_option("--key", args.key_file, "The unencrypted PEM private key of --cert")->needs(tls);
  cert->needs(key);
  key->needs(cert);
  serve->add_option("--ca-out", args.ca_out,
                    "Write the throwaway CA's certificate here (default: ca.pem in a new temporary directory, "
                    "removed when serve stops)")
      ->needs(tls)
      ->excludes(cert);
  return serve;
}

int serve_command(const serve_args& args) {
  const bool loopback = args.host == "127.0.0.1" || args.host == "::1" || args.host == "localhost";
  if (!loopback && !args.allow_remote) {
    std::cerr << "squall: error: --host " << args.host
              << " is not loopback; fake providers listen on loopback unless --allow-remote is given\n";
    return 2;
  }
  auto loaded = sim::load_scenario(args.scenario);
  if (!loaded) {
    std::cerr << "squall: error: " << loaded.error().describe() << "\n";
    return 2;
  }
  fake::serve_options o;
  o.host = args.host == "localhost" ? "127.0.0.1" : args.host;
  o.port = args.port;
  o.seed = args.seed;
  o.for_s = args.for_s;
  o.tls = args.tls;
  o.cert_file = args.cert_file;
  o.key_file = args.key_file;
  o.ca_out = args.ca_out;
  return fake::serve(*loaded, o, std::cout, std::cerr);
}

}  // namespace squall::cli
