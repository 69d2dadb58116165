#include "policies/http/tls_client.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <boost/asio/ip/address.hpp>
#include <boost/asio/ssl/error.hpp>

namespace squall::http_detail {

namespace ssl = boost::asio::ssl;

config_result<std::shared_ptr<ssl::context>> make_client_tls_context(const std::string& ca_file) {
  auto context = std::make_shared<ssl::context>(ssl::context::tls_client);
  boost::system::error_code ec;
  context->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                           ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1,
                       ec);
  if (!ec) context->set_verify_mode(ssl::verify_peer, ec);
  // A machine without a system store still verifies: against the CA file alone, or against nothing.
  if (!ec) context->set_default_verify_paths(ec);
  if (ec) return config_error{"", "", "cannot set up TLS: " + ec.message()};
  if (!ca_file.empty()) {
    context->load_verify_file(ca_file, ec);
    if (ec) {
      return config_error{"", "", "cannot use the CA file \"" + ca_file + "\": " + ec.message() +
                                      " (expected PEM certificates)"};
    }
  }
  return context;
}

bool prepare_tls_client(tls_stream& stream, const std::string& host, std::string& error) {
  SSL* ssl_handle = stream.native_handle();
  boost::system::error_code ec;
  const auto address = boost::asio::ip::make_address(host, ec);
  bool done = false;
  if (!ec) {
    // An IP literal: no SNI; the certificate must list the address as an iPAddress subjectAltName.
    done = X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl_handle), address.to_string().c_str()) == 1;
  } else {
    // SSL_set_tlsext_host_name is a macro casting away const; SSL_ctrl is what it calls.
    done = SSL_ctrl(ssl_handle, SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
                    const_cast<char*>(host.c_str())) == 1 &&  // NOLINT: OpenSSL's signature
           SSL_set1_host(ssl_handle, host.c_str()) == 1;
  }
  if (!done) {
    const char* why = ERR_reason_error_string(ERR_get_error());
    error = "cannot set up TLS for \"" + host + "\": " + (why ? why : "OpenSSL refused the name");
    ERR_clear_error();
  }
  return done;
}

std::string describe_tls_failure(tls_stream& stream, const boost::system::error_code& ec) {
  const long verify = SSL_get_verify_result(stream.native_handle());
  if (verify != X509_V_OK) {
    return std::string("certificate verify failed: ") + X509_verify_cert_error_string(verify);
  }
  if (ec == ssl::error::stream_truncated || ec == boost::asio::error::eof) {
    return "the server closed the connection during the TLS handshake";
  }
  return ec.message();
}

}  // namespace squall::http_detail
