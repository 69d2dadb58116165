#include "fake_providers/fake_server.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <exception>
#include <future>
#include <thread>

#include "fake_providers/apis/routes.hpp"
#include "fake_providers/endpoint.hpp"

namespace squall::fake {
namespace detail {
namespace {

constexpr duration reopen_retry = std::chrono::milliseconds{50};

}  // namespace

// ---------------------------------------------------------------------------------------------------
// provider_endpoint: listening and the fault timeline

provider_endpoint::provider_endpoint(asio::io_context& io_context, const real_clock& clock, attempt_log& log,
                                     const server_options& opts, const sim::provider_config& config)
    : options(opts),
      io(io_context),
      clock_(clock),
      log_(log),
      config_(config),
      model_(std::make_unique<sim::provider_model>(config, time_point{})),
      api_(api_of(config.api)),
      seed_(stream_seed(opts.seed, "provider/" + config.name)),
      acceptor_(io_context),
      accept_timer_(io_context),
      timeline_timer_(io_context),
      control_(config.faults, opts.armed_faults_max) {}

std::optional<std::string> provider_endpoint::listen(const tcp::endpoint& at) {
  error_code ec;
  acceptor_.open(at.protocol(), ec);
  if (!ec) acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor_.bind(at, ec);
  if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (!ec) bound_ = acceptor_.local_endpoint(ec);
  if (ec) {
    error_code ignored;
    acceptor_.close(ignored);
    return "cannot listen on " + at.address().to_string() + ":" + std::to_string(at.port()) + " for provider \"" +
           model_->config().name + "\": " + ec.message();
  }
  accepting_ = true;
  return std::nullopt;
}

void provider_endpoint::begin() {
  accept();
  follow_timeline();
}

void provider_endpoint::accept() {
  acceptor_.async_accept([self = shared_from_this()](error_code ec, tcp::socket socket) {
    try {
      self->on_accept(ec, std::move(socket));
    } catch (...) {
      // A session that could not be built (out of memory): that connection closes, the loop goes on.
      self->internal_error(nullptr, "accept", exception_text());
      if (!self->stopping && self->accepting_) self->accept_later();
    }
  });
}

void provider_endpoint::on_accept(error_code ec, tcp::socket socket) {
  if (stopping || !accepting_) return;
  if (ec == asio::error::operation_aborted) return;
  if (ec && ec.category() == boost::system::system_category()) {
    const int e = ec.value();
    if (e == EMFILE || e == ENFILE || e == ENOBUFS || e == ENOMEM) {
      // Accepting again at once fails again at once: the loop spun at 100% CPU until a descriptor came
      // free. The connection waits in the listen backlog meanwhile, as it would on a busy server.
      ++accept_backoffs_;
      accept_later();
      return;
    }
  }
  if (!ec) {
    if (sessions.size() >= options.connections_max) {
      ++connections_rejected_;
      error_code ignored;
      socket.set_option(asio::socket_base::linger(true, 0), ignored);
      socket.close(ignored);
    } else {
      ++connections_accepted_;
      std::make_shared<session>(shared_from_this(), std::move(socket), tls_)->start();
    }
  }
  accept();
}

void provider_endpoint::accept_later() {
  accept_backing_off_ = true;
  accept_timer_.expires_after(
      std::chrono::duration_cast<asio::steady_timer::duration>(std::chrono::duration<double>(options.accept_backoff_s)));
  accept_timer_.async_wait([self = shared_from_this()](error_code ec) {
    self->accept_backing_off_ = false;
    // A refuse window may have closed the listener meanwhile; reopen() accepts again when it ends.
    if (ec || self->stopping || !self->accepting_) return;
    self->accept();
  });
}

// An outage "refuse" closes the listening socket for its duration, so that connecting fails the way it
// does against a dead server (ECONNREFUSED); the listener reopens on the same port when it ends.
void provider_endpoint::follow_timeline() {
  if (stopping) return;
  const time_point now = clock_.now();
  const sim::fault_window* w = model_->window_at(now);
  const bool refuse = w && w->outage == sim::outage_kind::refuse;
  if (refuse && accepting_) {
    accepting_ = false;
    error_code ignored;
    acceptor_.close(ignored);
  } else if (!refuse && !accepting_) {
    reopen();
  }
  const std::optional<time_point> next = control_.next_boundary_after(model_->config().faults, now);
  timeline_timer_.cancel();
  if (!next) return;
  timeline_timer_.expires_at(clock_.steady_at(*next));
  timeline_timer_.async_wait([self = shared_from_this()](error_code ec) {
    if (!ec) self->follow_timeline_guarded();
  });
}

bool provider_endpoint::handshake_outage_now() {
  const sim::fault_window* w = model_->window_at(clock_.now());
  if (!w || w->outage != sim::outage_kind::handshake) return false;
  count_fault("handshake");
  return true;
}

void provider_endpoint::reopen() {
  if (listen(bound_)) {
    // The port is briefly unavailable (a connection racing the close): try again shortly.
    timeline_timer_.expires_after(std::chrono::duration_cast<asio::steady_timer::duration>(reopen_retry));
    timeline_timer_.async_wait([self = shared_from_this()](error_code ec) {
      if (!ec) self->follow_timeline_guarded();
    });
    return;
  }
  if (!accept_backing_off_) accept();  // else the back-off timer accepts when it fires
}

void provider_endpoint::shutdown() {
  stopping = true;
  accepting_ = false;
  error_code ignored;
  acceptor_.close(ignored);
  accept_timer_.cancel();
  timeline_timer_.cancel();
  queue_.clear();
  const std::vector<session*> open(sessions.begin(), sessions.end());
  for (session* s : open) s->close_now(false);
  for (job* j = jobs.front(); j != nullptr; j = j->next) j->timer.cancel();  // handlers run later: no unlink now
}

void provider_endpoint::restart_timeline(duration shift) {
  if (stopping) return;
  // Built before anything changes: if it throws (out of memory), the provider keeps its old timeline.
  fault_control control(config_.faults, options.armed_faults_max);
  auto model = std::make_unique<sim::provider_model>(config_, time_point{});
  model_ = std::move(model);
  control_ = std::move(control);
  next_sequence_ = 0;
  // Their timers are set in steady time already; what moves is the scenario time their ticks compare.
  for (job* j = jobs.front(); j != nullptr; j = j->next) {
    j->arrival -= shift;
    j->started -= shift;
  }
  for (session* s : sessions) s->rebase(shift);
  follow_timeline();  // a refuse window at time 0 closes the listener now, as at start
}

// ---------------------------------------------------------------------------------------------------
// provider_endpoint: routing

void provider_endpoint::handle(const std::shared_ptr<session>& s, http::request<http::string_body>&& req) {
  test_hook("request");
  const std::string_view target(req.target().data(), req.target().size());
  const std::size_t q = target.find('?');
  const std::string_view path = target.substr(0, q);
  const std::string_view query = q == std::string_view::npos ? std::string_view{} : target.substr(q + 1);
  const bool keep_alive = req.keep_alive();
  const http::verb method = req.method();

  auto wrong_method = [&](std::string_view allowed) {
    error_spec e{405, "Method " + std::string(req.method_string()) + " not allowed on " + std::string(path) + "; use " +
                          std::string(allowed), "", std::nullopt, std::nullopt};
    send_error(s, keep_alive, e);
  };

  if (path == "/healthz") {
    if (method != http::verb::get) return wrong_method("GET");
    return send_json(s, 200, R"({"status":"ok"})", keep_alive, {}, false);
  }
  if (path == "/metrics") {
    if (method != http::verb::get) return wrong_method("GET");
    return metrics(s, req);
  }
  if (path == "/squall/faults") return faults(s, req, query);
  if (path.rfind("/squall/faults/", 0) == 0) return fault_by_id(s, req, path.substr(15));

  if (api_ == api_style::gemini) {
    if (const auto listed = route_gemini_models(path)) {
      if (method != http::verb::get) return wrong_method("GET");
      return models(s, keep_alive, listed->value_or(std::string_view{}));
    }
  }
  if (api_ != api_style::gemini && (path == "/v1/models" || path.rfind("/v1/models/", 0) == 0)) {
    if (method != http::verb::get) return wrong_method("GET");
    return models(s, keep_alive, path.size() > 11 ? path.substr(11) : std::string_view{});
  }
  const bool openai = api_ == api_style::openai;
  if (const std::optional<ai_route> route = route_ai_request(api_, path, query)) {
    if (route->api_version_missing) {
      return send_json(s, 404, std::string(azure_resource_not_found_body), keep_alive);
    }
    if (method != http::verb::post) return wrong_method("POST");
    if (route->kind == request_kind::count_tokens) {
      return api_ == api_style::gemini ? gemini_count_tokens(s, req, *route) : count_tokens(s, req);
    }
    return api_request(s, req, *route, query);
  }
  error_spec e{404, openai ? "Invalid URL (" + std::string(req.method_string()) + " " + std::string(path) + ")" : "Not Found", "",
               std::nullopt, std::nullopt};
  if (api_ == api_style::gemini) e.message = "Requested entity was not found.";
  send_error(s, keep_alive, e);
}

void provider_endpoint::internal_error(const std::shared_ptr<session>& s, const char* where,
                                      std::string_view what) noexcept {
  try {
    const std::uint64_t n = ++internal_errors_[where];
    // The first few go to standard error (squall serve's log) with what they said; the rest are counted
    // in /metrics only, so that a failure repeated per request cannot flood the log.
    constexpr std::uint64_t logged_max = 10;
    if (n <= logged_max) {
      std::fprintf(stderr, "squall serve: provider \"%s\": a handler failed at %s: %.*s%s\n", model_->config().name.c_str(),
                   where, static_cast<int>(what.size()), what.data(), n == logged_max ? " (further ones only counted)" : "");
    }
  } catch (...) {
  }
  if (!s || s->closed()) return;
  try {
    if (std::shared_ptr<job> j = s->take_current()) {
      // It answers on this connection no more: the client gets the reset or the 500 below.
      if (s->answer_started()) {
        record_end(*j, j->head_sent ? 200 : 0, "reset");
      } else {
        record_end(*j, 500, "error");
      }
      client_gone(*j);
    }
    if (s->answer_started()) {
      s->close_now(true);
      return;
    }
    send_error(s, false, error_spec{500, "", "", std::nullopt, std::nullopt});
  } catch (...) {
    s->close_now(true);
  }
}

void provider_endpoint::job_error(const std::shared_ptr<job>& j, const std::shared_ptr<session>& s, const char* where,
                                  std::string_view what) noexcept {
  j->s.reset();
  j->timer.cancel();
  internal_error(s, where, what);
  try {
    if (j->ph == job::phase::in_service) finish_service(j);  // its client is gone: the slot is freed
  } catch (...) {
    internal_error(nullptr, where, exception_text());
  }
}

void provider_endpoint::follow_timeline_guarded() noexcept {
  try {
    follow_timeline();
  } catch (...) {
    internal_error(nullptr, "timeline", exception_text());
  }
}

std::string_view exception_text() noexcept {
  try {
    throw;
  } catch (const std::exception& e) {
    return e.what();
  } catch (...) {
    return "an exception that is not a std::exception";
  }
}

void provider_endpoint::bad_http(const std::shared_ptr<session>& s, int status, std::string message) {
  ++bad_requests_;
  error_spec e{status, std::move(message), "", std::nullopt, std::nullopt};
  send_error(s, false, e);
}

std::string provider_endpoint::next_request_id() {
  const std::uint64_t n = ++request_counter_;
  // "req_", 16 hex digits of a hash, the low 8 of the counter; written once (this was five strings).
  char id[4 + 16 + 8 + 1];
  std::snprintf(id, sizeof id, "req_%016llx%08llx", static_cast<unsigned long long>(mix_seed(seed_, n)),
                static_cast<unsigned long long>(n & 0xffffffffULL));
  return std::string(id, sizeof id - 1);
}

header_list provider_endpoint::api_headers(std::string_view request_id, bool rate_headers) {
  header_list h;
  // Gemini's answers carry their id in the body (responseId) and no rate-limit headers.
  if (api_ == api_style::gemini) return h;
  const bool openai = api_ == api_style::openai;
  h.emplace_back(openai ? "x-request-id" : "request-id", std::string(request_id));
  if (!rate_headers) return h;
  const sim::provider_config& c = model_->config();
  const time_point now = clock_.now();
  auto add = [&](const std::optional<double>& limit, double remaining, std::string_view what) {
    if (!limit) return;
    const double left = std::max(0.0, std::floor(remaining));
    const double reset_s = (*limit - remaining) / (*limit / 60.0);
    const auto limit_text = std::to_string(static_cast<long long>(*limit));
    const auto left_text = std::to_string(static_cast<long long>(left));
    if (openai) {
      h.emplace_back("x-ratelimit-limit-" + std::string(what), limit_text);
      h.emplace_back("x-ratelimit-remaining-" + std::string(what), left_text);
      h.emplace_back("x-ratelimit-reset-" + std::string(what), go_duration(reset_s));
    } else {
      h.emplace_back("anthropic-ratelimit-" + std::string(what) + "-limit", limit_text);
      h.emplace_back("anthropic-ratelimit-" + std::string(what) + "-remaining", left_text);
      h.emplace_back("anthropic-ratelimit-" + std::string(what) + "-reset", real_clock::rfc3339_after(reset_s));
    }
  };
  add(c.rpm, c.rpm ? model_->requests_remaining(now) : 0.0, "requests");
  add(c.tpm, c.tpm ? model_->tokens_remaining(now) : 0.0, "tokens");
  return h;
}

void provider_endpoint::send_json(const std::shared_ptr<session>& s, int status, std::string body,
                                  bool keep_alive, const header_list& headers, bool counted) {
  if (counted) ++responses_[status];
  std::string out;
  // Head and body in one string is one write for the small answers that make up the traffic; a large
  // body goes out as it is, since copying it behind the head doubled the memory of a 17 MB answer.
  constexpr std::size_t copied_body_bytes_max = 64 * 1024;
  const bool apart = body.size() > copied_body_bytes_max;
  out.reserve(256 + (apart ? 0 : body.size()));
  append_response_head(out, status, "application/json", headers, body.size(), keep_alive);
  if (apart) {
    s->send(std::move(out));
    s->send(std::move(body));
  } else {
    out += body;
    s->send(std::move(out));
  }
  s->complete_exchange(keep_alive);
}

void provider_endpoint::send_error(const std::shared_ptr<session>& s, bool keep_alive, const error_spec& e,
                                   std::optional<duration> retry_after) {
  const std::string id = next_request_id();
  header_list h = api_headers(id, e.status == 429);
  const bool gemini = api_ == api_style::gemini;
  if (retry_after && !gemini) {  // Gemini says it in the body, as a RetryInfo detail
    const double seconds = to_s(*retry_after);
    h.emplace_back("retry-after", std::to_string(static_cast<long long>(std::ceil(seconds))));
    h.emplace_back("retry-after-ms", std::to_string(static_cast<long long>(std::ceil(seconds * 1000))));
  }
  if (e.status == 405) h.emplace_back("Allow", "GET, POST");
  if (api_ == api_style::anthropic && e.status == 529) h.emplace_back("x-should-retry", "true");
  std::optional<double> retry_delay_s;
  if (retry_after && gemini) retry_delay_s = to_s(*retry_after);
  send_json(s, e.status, error_body(api_, e, api_ == api_style::anthropic ? id : "", retry_delay_s), keep_alive,
            std::move(h));
}


}  // namespace detail

using namespace detail;  // NOLINT: this file is the fake server's own

// ---------------------------------------------------------------------------------------------------
// fake_server

struct fake_server::impl {
  impl(std::vector<sim::provider_config> scenario_providers, server_options opts)
      : options(std::move(opts)),
        configs(std::move(scenario_providers)),
        log(options.record_attempts, options.recorded_attempts_max, options.attempt_counted_ids_max) {}

  // Runs `f` on the I/O thread and waits for it (directly when there is no I/O thread, or on it).
  template <class F>
  void on_io_thread(F&& f);

  // The io_context outlives every socket and timer: the endpoints go first (declared after it).
  asio::io_context io{1};
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work;
  real_clock clock;
  server_options options;
  std::vector<sim::provider_config> configs;
  attempt_log log;  // the I/O thread's, shared by the providers
  std::optional<asio::ssl::context> tls;  // with options.tls: shared by every provider's sessions
  std::vector<std::shared_ptr<provider_endpoint>> providers;
  std::vector<endpoint_info> info;
  std::thread thread;
  bool started = false;
  bool stopped = false;
};

template <class F>
void fake_server::impl::on_io_thread(F&& f) {
  if (!thread.joinable() || stopped || std::this_thread::get_id() == thread.get_id()) {
    f();
    return;
  }
  std::promise<void> done;
  asio::post(io, [&] {
    try {
      f();
      done.set_value();
    } catch (...) {
      done.set_exception(std::current_exception());
    }
  });
  done.get_future().get();
}

fake_server::fake_server(std::vector<sim::provider_config> providers, server_options options)
    : impl_(std::make_unique<impl>(std::move(providers), std::move(options))) {}

fake_server::~fake_server() { stop(); }

std::optional<std::string> fake_server::start() {
  impl& m = *impl_;
  if (m.started) return "the server was started already";
  m.started = true;
  error_code ec;
  const asio::ip::address address = asio::ip::make_address(m.options.host, ec);
  if (ec) return "cannot listen on \"" + m.options.host + "\": not an IP address";
  if (m.options.tls) {
    if (auto e = check_tls_identity(*m.options.tls)) return "cannot serve TLS: " + *e;
    m.tls.emplace(asio::ssl::context::tls_server);
    asio::ssl::context& c = *m.tls;
    c.set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                      asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 | asio::ssl::context::no_tlsv1_1,
                  ec);
    // An encrypted key fails here instead of prompting on the terminal (check_tls_identity refused it already).
    if (!ec) c.set_password_callback([](std::size_t, asio::ssl::context::password_purpose) { return std::string(); }, ec);
    if (!ec) c.use_certificate_chain(asio::buffer(m.options.tls->certificate_chain_pem), ec);
    if (!ec) c.use_private_key(asio::buffer(m.options.tls->private_key_pem), asio::ssl::context::pem, ec);
    if (ec) {
      m.tls.reset();
      return "cannot serve TLS: " + ec.message();
    }
  }
  m.clock = real_clock{};
  for (std::size_t i = 0; i < m.configs.size(); ++i) {
    const sim::provider_config& c = m.configs[i];
    auto p = std::make_shared<provider_endpoint>(m.io, m.clock, m.log, m.options, c);
    if (m.tls) p->use_tls(&*m.tls);
    const auto port = m.options.port == 0 ? std::uint16_t{0} : static_cast<std::uint16_t>(m.options.port + i);
    if (auto e = p->listen(tcp::endpoint(address, port))) {
      m.providers.clear();
      return e;
    }
    const std::string host = address.is_v6() ? "[" + m.options.host + "]" : m.options.host;
    endpoint_info e;
    e.provider = c.name;
    e.api = c.api;
    e.port = p->port();
    e.origin = std::string(m.tls ? "https://" : "http://") + host + ":" + std::to_string(e.port);
    // The SDKs add the API's version themselves, except OpenAI's.
    e.base_url = c.api == "anthropic" || c.api == "gemini" ? e.origin : e.origin + "/v1";
    e.transport_base_url = c.api == "gemini" ? e.origin : e.origin + "/v1";
    m.info.push_back(std::move(e));
    m.providers.push_back(std::move(p));
  }
  m.clock = real_clock{};  // scenario time 0: everything is listening
  m.work.emplace(m.io.get_executor());
  // The I/O thread is not running yet: apply the timeline's state at time 0 (a refuse window closes the
  // listener) before start() returns, so that a caller never sees a moment the scenario does not have.
  for (auto& p : m.providers) p->begin();
  m.thread = std::thread([&io = m.io] {
    // Handlers catch what they throw (session::guarded, internal_error); this is the last net, so that
    // nothing ends the thread and the process with it: the handler that threw is over, the rest run on.
    for (;;) {
      try {
        io.run();
        return;
      } catch (...) {
        std::fprintf(stderr, "squall serve: a handler failed outside any connection: %.*s\n",
                     static_cast<int>(exception_text().size()), exception_text().data());
      }
    }
  });
  return std::nullopt;
}

void fake_server::stop() noexcept {
  impl& m = *impl_;
  if (!m.started || m.stopped) return;
  m.stopped = true;
  if (m.thread.joinable()) {
    asio::post(m.io, [&m] {
      for (auto& p : m.providers) p->shutdown();
      m.work.reset();
    });
    m.thread.join();
  }
  m.providers.clear();
}

void fake_server::restart_timeline() {
  impl& m = *impl_;
  if (!m.thread.joinable() || m.stopped) return;
  m.on_io_thread([&m] {
    const duration shift = m.clock.restart();
    m.log.restart();
    for (auto& p : m.providers) p->restart_timeline(shift);
  });
}

std::vector<upstream_attempt> fake_server::take_attempts() {
  std::vector<upstream_attempt> out;
  impl_->on_io_thread([&] { out = impl_->log.take(); });
  return out;
}

upstream_log_counts fake_server::attempt_counts() const {
  upstream_log_counts out;
  impl_->on_io_thread([&] { out = impl_->log.counts(); });
  return out;
}

const std::vector<endpoint_info>& fake_server::endpoints() const noexcept { return impl_->info; }

const endpoint_info* fake_server::find(std::string_view provider) const noexcept {
  for (const endpoint_info& e : impl_->info) {
    if (e.provider == provider) return &e;
  }
  return nullptr;
}

}  // namespace squall::fake
