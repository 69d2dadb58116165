#pragma once
// Certificates for serving HTTPS on loopback: a throwaway certificate authority and server certificates
// it signs, made with OpenSSL at start (`squall serve --tls` without --cert), and for tests that need a
// trusted, a wrongly signed or a wrongly named certificate. Keys are EC P-256, signatures SHA-256,
// certificates X.509 v3 valid from an hour ago (clock skew) for 30 days. Nothing here is for production:
// the CA's key lives only in memory, and a new one is made every time.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace squall::fake {

// What a TLS server presents: its certificate chain (leaf first) and the leaf's private key, in PEM.
struct tls_identity {
  std::string certificate_chain_pem;
  std::string private_key_pem;
};

struct certificate_authority {
  std::string certificate_pem;  // what clients trust (`--ca-out`, the transport's ca_file)
  std::string private_key_pem;
};

// A self-signed CA certificate named `common_name`, allowed to sign server certificates only
// (basicConstraints CA:TRUE, pathlen 0; keyUsage keyCertSign, cRLSign). Throws std::runtime_error with
// OpenSSL's words if OpenSSL fails (out of memory: nothing else makes it fail).
certificate_authority make_certificate_authority(std::string_view common_name = "squall throwaway CA");

// A server certificate signed by `ca` for `names`: each an IP address (an iPAddress subjectAltName) or a
// DNS name (a dNSName); the first is also the subject's common name. extendedKeyUsage serverAuth. The
// chain is the leaf alone.
// Throws like make_certificate_authority.
tls_identity make_server_certificate(const certificate_authority& ca, const std::vector<std::string>& names);

// The names `squall serve --tls` certifies: 127.0.0.1, ::1 and localhost.
std::vector<std::string> loopback_names();

// Whether `id` can serve: the chain parses as PEM certificates, the key as a PEM private key, and the key
// belongs to the leaf. Nothing, or what is wrong ("the private key does not match the certificate").
std::optional<std::string> check_tls_identity(const tls_identity& id);

}  // namespace squall::fake
