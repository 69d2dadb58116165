#include "fake_providers/tls_certificate.hpp"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <boost/asio/ip/address.hpp>
#include <memory>
#include <stdexcept>

namespace squall::fake {
namespace {

constexpr long valid_from_s = -3600;            // an hour ago: a client clock a little behind still accepts it
constexpr long valid_for_s = 30L * 24 * 3600;   // 30 days

template <class T, void (*Free)(T*)>
struct freer {
  void operator()(T* p) const noexcept { Free(p); }
};
using key_ptr = std::unique_ptr<EVP_PKEY, freer<EVP_PKEY, EVP_PKEY_free>>;
using cert_ptr = std::unique_ptr<X509, freer<X509, X509_free>>;
using name_ptr = std::unique_ptr<X509_NAME, freer<X509_NAME, X509_NAME_free>>;
using bio_ptr = std::unique_ptr<BIO, freer<BIO, BIO_free_all>>;
using bn_ptr = std::unique_ptr<BIGNUM, freer<BIGNUM, BN_free>>;
using ext_ptr = std::unique_ptr<X509_EXTENSION, freer<X509_EXTENSION, X509_EXTENSION_free>>;
using pkey_ctx_ptr = std::unique_ptr<EVP_PKEY_CTX, freer<EVP_PKEY_CTX, EVP_PKEY_CTX_free>>;

[[noreturn]] void openssl_failed(const char* what) {
  char text[256] = "no reason given";
  if (const unsigned long e = ERR_get_error(); e != 0) ERR_error_string_n(e, text, sizeof text);
  ERR_clear_error();
  throw std::runtime_error(std::string("cannot make a TLS certificate (") + what + "): " + text);
}

void check(int ok, const char* what) {
  if (ok != 1) openssl_failed(what);
}

key_ptr make_key() {
  pkey_ctx_ptr ctx(EVP_PKEY_CTX_new_id(EVP_PKEY_EC, nullptr));
  if (!ctx) openssl_failed("key context");
  check(EVP_PKEY_keygen_init(ctx.get()), "key generation");
  check(EVP_PKEY_CTX_set_ec_paramgen_curve_nid(ctx.get(), NID_X9_62_prime256v1), "P-256");
  EVP_PKEY* key = nullptr;
  check(EVP_PKEY_keygen(ctx.get(), &key), "key generation");
  return key_ptr(key);
}

name_ptr make_name(std::string_view common_name) {
  name_ptr name(X509_NAME_new());
  if (!name) openssl_failed("name");
  const std::string cn(common_name.substr(0, 64));  // the longest common name X.509 allows
  check(X509_NAME_add_entry_by_txt(name.get(), "O", MBSTRING_UTF8, reinterpret_cast<const unsigned char*>("squall"), -1, -1, 0),
        "organisation");
  check(X509_NAME_add_entry_by_txt(name.get(), "CN", MBSTRING_UTF8, reinterpret_cast<const unsigned char*>(cn.c_str()), -1,
                                   -1, 0),
        "common name");
  return name;
}

void add_extension(X509* cert, X509V3_CTX& ctx, int nid, const std::string& value) {
  ext_ptr ext(X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str()));
  if (!ext) openssl_failed(OBJ_nid2sn(nid));
  check(X509_add_ext(cert, ext.get(), -1), OBJ_nid2sn(nid));
}

// A certificate for `key` named `subject`, issued by `issuer` (null: self-signed) and signed with
// `issuer_key`, with `extensions` (nid, value in OpenSSL's configuration syntax) in order.
cert_ptr make_certificate(EVP_PKEY* key, const X509_NAME* subject, X509* issuer, EVP_PKEY* issuer_key,
                          const std::vector<std::pair<int, std::string>>& extensions) {
  cert_ptr cert(X509_new());
  if (!cert) openssl_failed("certificate");
  check(X509_set_version(cert.get(), 2), "version");  // 2 means v3
  bn_ptr serial(BN_new());
  if (!serial) openssl_failed("serial number");
  check(BN_rand(serial.get(), 127, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY), "serial number");  // positive, 16 bytes
  if (!BN_to_ASN1_INTEGER(serial.get(), X509_get_serialNumber(cert.get()))) openssl_failed("serial number");
  if (!X509_gmtime_adj(X509_getm_notBefore(cert.get()), valid_from_s)) openssl_failed("validity");
  if (!X509_gmtime_adj(X509_getm_notAfter(cert.get()), valid_for_s)) openssl_failed("validity");
  check(X509_set_subject_name(cert.get(), subject), "subject");
  check(X509_set_issuer_name(cert.get(), issuer ? X509_get_subject_name(issuer) : subject), "issuer");
  check(X509_set_pubkey(cert.get(), key), "public key");
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, issuer ? issuer : cert.get(), cert.get(), nullptr, nullptr, 0);
  for (const auto& [nid, value] : extensions) add_extension(cert.get(), ctx, nid, value);
  if (X509_sign(cert.get(), issuer_key, EVP_sha256()) <= 0) openssl_failed("signature");
  return cert;
}

std::string read_all(BIO* bio) {
  std::string out;
  char buf[4096];
  for (;;) {
    const int n = BIO_read(bio, buf, sizeof buf);
    if (n <= 0) break;
    out.append(buf, static_cast<std::size_t>(n));
  }
  return out;
}

bio_ptr memory_bio() {
  bio_ptr bio(BIO_new(BIO_s_mem()));
  if (!bio) openssl_failed("memory");
  return bio;
}

std::string cert_pem(X509* cert) {
  bio_ptr bio = memory_bio();
  check(PEM_write_bio_X509(bio.get(), cert), "PEM");
  return read_all(bio.get());
}

std::string key_pem(EVP_PKEY* key) {
  bio_ptr bio = memory_bio();
  check(PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr), "PEM");
  return read_all(bio.get());
}

// Keys are read without a password: OpenSSL's default would prompt on the terminal for an encrypted one.
int no_password(char*, int, int, void*) { return 0; }

bio_ptr reading(const std::string& pem) {
  bio_ptr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!bio) openssl_failed("memory");
  return bio;
}

}  // namespace

certificate_authority make_certificate_authority(std::string_view common_name) {
  key_ptr key = make_key();
  name_ptr name = make_name(common_name);
  cert_ptr cert = make_certificate(key.get(), name.get(), nullptr, key.get(),
                                   {{NID_basic_constraints, "critical,CA:TRUE,pathlen:0"},
                                    {NID_key_usage, "critical,keyCertSign,cRLSign"},
                                    {NID_subject_key_identifier, "hash"}});
  return {cert_pem(cert.get()), key_pem(key.get())};
}

tls_identity make_server_certificate(const certificate_authority& ca, const std::vector<std::string>& names) {
  if (names.empty()) throw std::invalid_argument("a server certificate needs at least one name");
  bio_ptr ca_cert_bio = reading(ca.certificate_pem);
  cert_ptr ca_cert(PEM_read_bio_X509(ca_cert_bio.get(), nullptr, nullptr, nullptr));
  if (!ca_cert) openssl_failed("the CA certificate");
  bio_ptr ca_key_bio = reading(ca.private_key_pem);
  key_ptr ca_key(PEM_read_bio_PrivateKey(ca_key_bio.get(), nullptr, no_password, nullptr));
  if (!ca_key) openssl_failed("the CA key");

  std::string alt_names;
  for (const std::string& n : names) {
    boost::system::error_code ec;
    const auto address = boost::asio::ip::make_address(n, ec);
    alt_names += (alt_names.empty() ? "" : ",") + (ec ? "DNS:" + n : "IP:" + address.to_string());
  }
  key_ptr key = make_key();
  name_ptr name = make_name(names.front());
  cert_ptr cert = make_certificate(key.get(), name.get(), ca_cert.get(), ca_key.get(),
                                   {{NID_basic_constraints, "critical,CA:FALSE"},
                                    {NID_key_usage, "critical,digitalSignature"},
                                    {NID_ext_key_usage, "serverAuth"},
                                    {NID_subject_alt_name, alt_names},
                                    {NID_subject_key_identifier, "hash"},
                                    {NID_authority_key_identifier, "keyid:always"}});
  // The leaf alone: a client must trust the CA itself, so sending it along would add nothing.
  return {cert_pem(cert.get()), key_pem(key.get())};
}

std::vector<std::string> loopback_names() { return {"127.0.0.1", "::1", "localhost"}; }

std::optional<std::string> check_tls_identity(const tls_identity& id) {
  using ctx_ptr = std::unique_ptr<SSL_CTX, freer<SSL_CTX, SSL_CTX_free>>;
  ctx_ptr ctx(SSL_CTX_new(TLS_server_method()));
  if (!ctx) return "cannot set up TLS";
  bio_ptr chain = reading(id.certificate_chain_pem);
  cert_ptr leaf(PEM_read_bio_X509(chain.get(), nullptr, nullptr, nullptr));
  ERR_clear_error();
  if (!leaf || SSL_CTX_use_certificate(ctx.get(), leaf.get()) != 1) {
    ERR_clear_error();
    return "not a PEM certificate (expected \"-----BEGIN CERTIFICATE-----\")";
  }
  bio_ptr key_bio = reading(id.private_key_pem);
  key_ptr key(PEM_read_bio_PrivateKey(key_bio.get(), nullptr, no_password, nullptr));
  if (!key) {
    ERR_clear_error();
    return "not an unencrypted PEM private key (expected \"-----BEGIN PRIVATE KEY-----\" or its RSA/EC forms)";
  }
  // SSL_CTX_use_PrivateKey compares the key with the certificate already.
  if (SSL_CTX_use_PrivateKey(ctx.get(), key.get()) != 1 || SSL_CTX_check_private_key(ctx.get()) != 1) {
    ERR_clear_error();
    return "the private key does not match the certificate";
  }
  return std::nullopt;
}

}  // namespace squall::fake
