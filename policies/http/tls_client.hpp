#pragma once
// The client side of TLS for the HTTP transport (private to policies/http): the context an https endpoint
// connects with, what a stream is told before its handshake, and a failed handshake in words.
//
// Verification is always on: the system's CA store (OpenSSL's default paths, which honour SSL_CERT_FILE
// and SSL_CERT_DIR) plus an optional CA file, a chain to one of them, and the URL's host in the
// certificate: a DNS name against its subjectAltName DNS entries, an IP literal against its IP entries.
// SNI carries the host name (never an IP literal, RFC 6066). TLS 1.2 is the oldest version offered.

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <memory>
#include <string>

#include "policies/core/config_error.hpp"

namespace squall::http_detail {

using tls_stream = boost::asio::ssl::stream<boost::asio::ip::tcp::socket>;

// A client context trusting the system store and, when `ca_file` is not empty, the PEM certificates in
// it. The error names the file and says what is wrong with it.
config_result<std::shared_ptr<boost::asio::ssl::context>> make_client_tls_context(const std::string& ca_file);

// Before the handshake: SNI and the name or address the server's certificate must carry. False (with
// `error` set) only when OpenSSL cannot take them (out of memory).
bool prepare_tls_client(tls_stream& stream, const std::string& host, std::string& error);

// Why a handshake failed: the certificate verification error when verification is what failed
// ("certificate verify failed: unable to get local issuer certificate"), else the error's own words.
std::string describe_tls_failure(tls_stream& stream, const boost::system::error_code& ec);

}  // namespace squall::http_detail
