#include "fake_providers/serve.hpp"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <ostream>
#include <sstream>

#include <boost/asio/ip/address.hpp>

#include "fake_providers/tls_certificate.hpp"
#include "policies/asio/stop_signals.hpp"

namespace squall::fake {
namespace {

// The whole file, or nothing with `why` set to the system's reason.
std::optional<std::string> read_file(const std::string& path, std::string& why) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    why = std::strerror(errno);
    return std::nullopt;
  }
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) {
    why = "read error";
    return std::nullopt;
  }
  return text.str();
}

// The throwaway CA's directory, removed when serving ends.
struct temporary_directory {
  std::filesystem::path path;
  ~temporary_directory() {
    std::error_code ignored;
    if (!path.empty()) std::filesystem::remove_all(path, ignored);
  }
};

}  // namespace

server_options options_for(const sim::scenario& s, const serve_options& o) {
  server_options opts;
  opts.host = o.host;
  opts.port = o.port;
  opts.seed = o.seed ? *o.seed : s.seed.value_or(1);
  opts.output_tokens = s.workload.output_tokens;
  return opts;
}

void print_endpoints(std::ostream& out, const std::vector<endpoint_info>& endpoints, const std::string& ca_file) {
  for (const endpoint_info& e : endpoints) {
    out << e.provider << " " << e.base_url << "\n";
    out << "  faults  " << e.origin << "/squall/faults\n";
    out << "  metrics " << e.origin << "/metrics\n";
  }
  if (endpoints.empty()) return;
  out << "arm a fault window: curl " << (ca_file.empty() ? "" : "--cacert " + ca_file + " ")
      << "-d '{\"for_s\": 30, \"errors\": {\"503\": 0.5}}' " << endpoints.front().origin
      << "/squall/faults   (docs/fake-providers.md)\n";
}

int serve(const sim::scenario& s, const serve_options& o, std::ostream& out, std::ostream& err) {
  // Before the I/O thread starts, so that it inherits the mask (policies/asio/stop_signals.hpp).
  const stop_signals signals;

  server_options opts = options_for(s, o);
  temporary_directory ca_dir;
  std::string ca_path;
  if (o.tls && !o.cert_file.empty()) {
    tls_identity id;
    std::string why;
    auto cert = read_file(o.cert_file, why);
    if (!cert) {
      err << "squall: error: cannot read the certificate --cert " << o.cert_file << ": " << why << "\n";
      return 2;
    }
    auto key = read_file(o.key_file, why);
    if (!key) {
      err << "squall: error: cannot read the private key --key " << o.key_file << ": " << why << "\n";
      return 2;
    }
    id.certificate_chain_pem = std::move(*cert);
    id.private_key_pem = std::move(*key);
    if (auto problem = check_tls_identity(id)) {
      err << "squall: error: --cert " << o.cert_file << " with --key " << o.key_file << ": " << *problem << "\n";
      return 2;
    }
    opts.tls = std::move(id);
  } else if (o.tls) {
    std::vector<std::string> names = loopback_names();
    boost::system::error_code ec;
    const auto address = boost::asio::ip::make_address(o.host, ec);
    if (!ec && !address.is_unspecified() && !address.is_loopback()) names.push_back(address.to_string());
    const certificate_authority ca = make_certificate_authority();
    opts.tls = make_server_certificate(ca, names);
    if (o.ca_out.empty()) {
      std::error_code no_tmpdir;
      std::filesystem::path tmp = std::filesystem::temp_directory_path(no_tmpdir);
      if (no_tmpdir) tmp = "/tmp";
      std::string pattern = (tmp / "squall-tls-XXXXXX").string();
      if (::mkdtemp(pattern.data()) == nullptr) {
        err << "squall: error: cannot make a directory for the CA certificate (" << pattern << "): "
            << std::strerror(errno) << "\n";
        return 3;
      }
      ca_dir.path = pattern;
      ca_path = (ca_dir.path / "ca.pem").string();
    } else {
      ca_path = o.ca_out;
    }
    std::ofstream file(ca_path, std::ios::binary | std::ios::trunc);
    file << ca.certificate_pem;
    file.close();
    if (!file) {
      err << "squall: error: cannot write the CA certificate to " << ca_path << ": " << std::strerror(errno) << "\n";
      return 3;
    }
  }

  fake_server server(s.providers, opts);
  if (auto e = server.start()) {
    err << "squall: error: " << *e << "\n";
    return 3;
  }
  out << "squall serve: scenario \"" << s.name << "\", seed " << opts.seed << "; scenario time 0 is now\n";
  if (!ca_path.empty()) out << "CA certificate: " << ca_path << "\n";
  print_endpoints(out, server.endpoints(), ca_path);
  out.flush();

  signals.wait(o.for_s);
  server.stop();
  out << "squall serve: stopped\n";
  return 0;
}

}  // namespace squall::fake
