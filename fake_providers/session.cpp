#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <limits>

#include "fake_providers/endpoint.hpp"

namespace squall::fake::detail {
namespace {

constexpr std::size_t read_chunk_bytes = 16 * 1024;
// A client that lets more than the largest answer (and this much besides) pile up unread is dropped.
constexpr std::size_t outbox_slack_bytes = 1024 * 1024;

}  // namespace

// ---------------------------------------------------------------------------------------------------
// job

job::job(std::shared_ptr<provider_endpoint> owner, std::shared_ptr<session> client, asio::io_context& io)
    : p(std::move(owner)), s(std::move(client)), timer(io) {
  p->jobs.push_back(*this);
}

job::~job() { p->jobs.unlink(*this); }

// ---------------------------------------------------------------------------------------------------
// session

namespace {

std::variant<tcp::socket, tls_stream> make_stream(tcp::socket socket, asio::ssl::context* tls) {
  if (tls) return std::variant<tcp::socket, tls_stream>(std::in_place_index<1>, std::move(socket), *tls);
  return std::variant<tcp::socket, tls_stream>(std::in_place_index<0>, std::move(socket));
}

}  // namespace

session::session(std::shared_ptr<provider_endpoint> owner, tcp::socket socket, asio::ssl::context* tls)
    : p_(std::move(owner)), stream_(make_stream(std::move(socket), tls)), idle_timer_(p_->io) {}

tcp::socket& session::socket() noexcept {
  if (auto* plain = std::get_if<0>(&stream_)) return *plain;
  return std::get<1>(stream_).next_layer();
}

void session::start() {
  p_->sessions.insert(this);
  error_code ec;
  socket().set_option(tcp::no_delay(true), ec);
  arm_idle();
  if (p_->handshake_outage_now()) {
    fail_handshake();
    return;
  }
  if (stream_.index() == 1) {
    handshake();
    return;
  }
  // The kernel stamps each read with the time its bytes arrived, so that injected latency counts from
  // the request's arrival, not from when this one I/O thread got to it: under a burst of thousands of
  // requests the difference is the server's own backlog, which a provider with cores to spare would
  // not add (bench/README.md). Without the option every request counts from when it is parsed.
  const int on = 1;
  ::setsockopt(socket().native_handle(), SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof on);
  read();
}

void session::handshake() {
  // Bounded by the idle timer, which closes a connection that has not sent a whole request in time.
  std::get<1>(stream_).async_handshake(asio::ssl::stream_base::server, [self = shared_from_this()](error_code ec) {
    if (self->closed_) return;
    self->guarded("read", [&] {
      if (ec) {
        self->p_->tls_handshake_failed();
        self->close_now(false);
        return;
      }
      self->read();
    });
  });
}

// An outage "handshake": the connection opened, but what the client says first (a TLS ClientHello, an
// HTTP request) gets an answer it cannot use, then the connection closes. Under TLS a fatal
// handshake_failure alert; on plain HTTP an HTTP/2 SETTINGS frame, the bytes of a server that speaks
// another protocol (a load balancer that negotiated h2 with nobody). Read first, so that the bytes
// reach the client before the close rather than a reset for unread data.
void session::fail_handshake() {
  auto first = std::make_shared<std::array<char, 512>>();
  socket().async_read_some(asio::buffer(*first), [self = shared_from_this(), first](error_code ec, std::size_t) {
    if (self->closed_) return;
    self->guarded("handshake", [&] {
      if (ec) {
        self->close_now(false);
        return;
      }
      static constexpr std::array<unsigned char, 7> tls_alert = {0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x28};
      static constexpr std::array<unsigned char, 9> h2_settings = {0, 0, 0, 0x04, 0, 0, 0, 0, 0};
      const bool tls = self->stream_.index() == 1;
      const asio::const_buffer bytes = tls ? asio::buffer(tls_alert) : asio::buffer(h2_settings);
      asio::async_write(self->socket(), bytes, [self](error_code, std::size_t) {
        if (self->closed_) return;
        error_code ignored;
        self->socket().shutdown(tcp::socket::shutdown_send, ignored);
        self->close_now(false);
      });
    });
  });
}

void session::arm_idle() {
  idle_since_ = p_->clock().now();
  if (!idle_waiting_) wait_idle();
}

void session::wait_idle() {
  idle_waiting_ = true;
  const duration timeout = std::chrono::duration_cast<duration>(std::chrono::duration<double>(p_->options.idle_timeout_s));
  idle_timer_.expires_at(p_->clock().steady_at(idle_since_ + timeout));
  idle_timer_.async_wait([self = shared_from_this(), timeout](error_code ec) {
    self->idle_waiting_ = false;
    // Busy: the exchange's end calls arm_idle, which waits again from then.
    if (ec || self->closed_ || self->busy_) return;
    self->guarded("idle", [&] {
      if (self->p_->clock().now() - self->idle_since_ >= timeout) {
        self->close_now(false);
      } else {
        self->wait_idle();  // traffic since the wait began: wait out the rest
      }
    });
  });
}

void session::read() {
  if (closed_ || reading_) return;
  // While a request is being answered, keep reading only to notice the client leaving; a client that
  // pipelines more than a header's worth waits until the answer is out.
  if (busy_ && buffer_.size() >= p_->options.header_bytes_max) return;
  reading_ = true;
  if (auto* tls = std::get_if<1>(&stream_)) {
    tls->async_read_some(buffer_.prepare(read_chunk_bytes), [self = shared_from_this()](error_code ec, std::size_t n) {
      self->guarded("read", [&] { self->on_tls_read(ec, n); });
    });
    return;
  }
  // Wait for bytes, then read them with recvmsg, which also hands over their receive time.
  socket().async_wait(tcp::socket::wait_read, [self = shared_from_this()](error_code ec) {
    self->guarded("read", [&] { self->on_readable(ec); });
  });
}

void session::on_tls_read(error_code ec, std::size_t n) {
  reading_ = false;
  if (closed_) return;
  if (ec) {  // the client closed (with or without close_notify) or broke the TLS stream
    close_now(false);
    return;
  }
  buffer_.commit(n);
  arrived_at_.reset();  // no kernel receive time through OpenSSL: the request counts from when it is parsed
  parse();
  read();
}

void session::on_readable(error_code ec) {
  reading_ = false;
  if (closed_) return;
  if (ec) {
    close_now(false);
    return;
  }
  const auto space = buffer_.prepare(read_chunk_bytes);
  iovec iov{space.data(), space.size()};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(timespec)) * 2];
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  const ssize_t n = ::recvmsg(socket().native_handle(), &msg, MSG_DONTWAIT);
  if (n < 0) {
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
      read();  // woken for nothing: wait again
    } else {
      close_now(false);
    }
    return;
  }
  if (n == 0) {  // the client closed its side
    close_now(false);
    return;
  }
  arrived_at_.reset();
  for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS) {
      timespec at{};
      std::memcpy(&at, CMSG_DATA(c), sizeof at);
      arrived_at_ = p_->clock().from_wall(at);
    }
  }
  buffer_.commit(static_cast<std::size_t>(n));
  parse();
  arrived_at_.reset();  // a request still in the buffer is handled later, from when it is parsed
  read();
}

void session::parse() {
  while (!busy_ && !closed_ && buffer_.size() > 0) {
    if (!parser_) {
      parser_.emplace();
      parser_->header_limit(static_cast<std::uint32_t>(std::min<std::size_t>(p_->options.header_bytes_max,
                                                                             std::numeric_limits<std::uint32_t>::max())));
      parser_->body_limit(p_->options.body_bytes_max);
      parser_->eager(true);
    }
    error_code ec;
    const std::size_t used = parser_->put(buffer_.data(), ec);
    buffer_.consume(used);
    if (ec == http::error::need_more) {
      if (used == 0) break;
      continue;
    }
    if (ec) {
      bad_request(ec);
      return;
    }
    if (parser_->is_done()) {
      http::request<http::string_body> req = parser_->release();
      parser_.reset();
      busy_ = true;  // the idle timer no longer applies
      answer_started_ = false;
      p_->handle(shared_from_this(), std::move(req));
    }
  }
  // A whole header that is still incomplete at the limit is too large; the parser reports it, but a
  // buffer that only grows (a header with no end) must stop somewhere too.
  if (!busy_ && !closed_ && buffer_.size() > p_->options.header_bytes_max + p_->options.body_bytes_max) {
    p_->bad_http(shared_from_this(), 431, "Request header fields too large");
  }
}

void session::bad_request(error_code ec) {
  parser_.reset();
  buffer_.consume(buffer_.size());
  busy_ = true;
  if (ec == http::error::header_limit) {
    p_->bad_http(shared_from_this(), 431, "Request header fields too large");
  } else if (ec == http::error::body_limit) {
    p_->bad_http(shared_from_this(), 413, "Request body too large: at most " +
                                              std::to_string(p_->options.body_bytes_max) + " bytes");
  } else {
    p_->bad_http(shared_from_this(), 400, "Malformed HTTP request: " + ec.message());
  }
}

void session::send(std::string bytes) {
  if (closed_ || bytes.empty()) return;
  answer_started_ = true;
  outbox_bytes_ += bytes.size();
  outbox_.push_back(std::move(bytes));
  if (outbox_bytes_ > p_->options.answer_bytes_max + outbox_slack_bytes) {
    close_now(true);
    return;
  }
  if (!writing_) do_write();
}

void session::do_write() {
  writing_ = true;
  auto done = [self = shared_from_this()](error_code ec, std::size_t) {
    self->writing_ = false;
    if (self->closed_) return;
    if (ec) {
      self->close_now(false);
      return;
    }
    self->guarded("write", [&] {
      self->outbox_bytes_ -= self->outbox_.front().size();
      self->outbox_.pop_front();
      if (!self->outbox_.empty()) {
        self->do_write();
      } else if (self->close_after_drain_) {
        // No TLS close_notify: the answer carried its length (or its last chunk), so the client has all
        // of it; an SSL_shutdown would have to wait for the client's own alert to be clean.
        error_code ignored;
        self->socket().shutdown(tcp::socket::shutdown_send, ignored);
        self->close_now(false);
      }
    });
  };
  if (auto* tls = std::get_if<1>(&stream_)) {
    asio::async_write(*tls, asio::buffer(outbox_.front()), std::move(done));
  } else {
    asio::async_write(std::get<0>(stream_), asio::buffer(outbox_.front()), std::move(done));
  }
}

void session::complete_exchange(bool keep_alive) {
  current_.reset();
  busy_ = false;
  if (closed_) return;
  if (!keep_alive) {
    close_after_drain_ = true;
    if (!writing_ && outbox_.empty()) close_now(false);
    return;
  }
  // Not from inside the job's own call chain: the next request may be waiting in the buffer already.
  asio::post(p_->io, [self = shared_from_this()] { self->guarded("read", [&] { self->resume(); }); });
}

void session::resume() {
  if (closed_ || busy_) return;
  arm_idle();
  parse();
  read();
}

void session::close_now(bool reset) {
  if (closed_) return;
  closed_ = true;
  error_code ec;
  if (reset) socket().set_option(asio::socket_base::linger(true, 0), ec);
  socket().close(ec);
  idle_timer_.cancel();
  p_->sessions.erase(this);
  if (std::shared_ptr<job> j = std::move(current_)) p_->client_gone(*j);
}

}  // namespace squall::fake::detail
