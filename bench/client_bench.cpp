// squall::client's request rate against squall's fake provider on loopback, beside a bare Boost.Beast
// keep-alive client doing the same exchanges in the same run (bench/README.md has the figures).
//
// Both keep `concurrency` calls outstanding in a closed loop over keep-alive connections, each call a
// small OpenAI chat completion (max_tokens 4) that the provider answers at once (no injected latency).
// The provider runs in this process on its own I/O thread, as `squall serve` does in its own. The TLS
// variant runs the same client against the same provider over HTTPS (keep-alive: one handshake per
// connection, then TLS records).

#include <benchmark/benchmark.h>

#include <atomic>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <condition_variable>
#include <fstream>
#include <memory>
#include <mutex>

#include "client/client.hpp"
#include "fake_providers/fake_server.hpp"

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

constexpr int concurrency = 32;
constexpr int calls_per_iteration = 20000;
const char* const body = R"({"model":"gpt-4o-mini","messages":[{"role":"user","content":"Capital of France?"}],"max_tokens":4,"stream":false})";

squall::sim::provider_config instant_provider() {
  squall::sim::provider_config cfg;
  cfg.name = "openai";
  cfg.models = {{"gpt-4o-mini", squall::sim::model_price{0.15, 0.60}}};
  cfg.ttft_ms = squall::sim::distribution::constant(0);
  cfg.ms_per_output_token = squall::sim::distribution::constant(0);
  cfg.slots = 100000;
  cfg.queue = 0;
  return cfg;
}

squall::fake::fake_server& server() {
  static squall::fake::fake_server* s = [] {
    auto* made = new squall::fake::fake_server({instant_provider()});
    if (auto error = made->start()) throw std::runtime_error(*error);
    return made;
  }();
  return *s;
}

// The same provider over HTTPS, with a throwaway CA whose certificate the client trusts.
const squall::fake::certificate_authority& bench_ca() {
  static const squall::fake::certificate_authority ca = squall::fake::make_certificate_authority("squall bench CA");
  return ca;
}

squall::fake::fake_server& tls_server() {
  static squall::fake::fake_server* s = [] {
    squall::fake::server_options o;
    o.tls = squall::fake::make_server_certificate(bench_ca(), squall::fake::loopback_names());
    auto* made = new squall::fake::fake_server({instant_provider()}, o);
    if (auto error = made->start()) throw std::runtime_error(*error);
    return made;
  }();
  return *s;
}

// One keep-alive connection issuing calls back to back until the shared count runs out.
struct bare_connection : std::enable_shared_from_this<bare_connection> {
  bare_connection(asio::io_context& io, std::atomic<int>& left, std::atomic<int>& ok) : stream(io), left_(left), ok_(ok) {}
  void start(std::uint16_t port) {
    req = {http::verb::post, "/v1/chat/completions", 11};
    req.set(http::field::host, "127.0.0.1");
    req.set(http::field::content_type, "application/json");
    req.body() = body;
    req.prepare_payload();
    stream.async_connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port),
                         [self = shared_from_this()](beast::error_code ec) {
                           if (!ec) self->next();
                         });
  }
  void next() {
    if (left_.fetch_sub(1) <= 0) return;
    res = {};
    http::async_write(stream, req, [self = shared_from_this()](beast::error_code ec, std::size_t) {
      if (ec) return;
      http::async_read(self->stream, self->buffer, self->res, [self](beast::error_code rec, std::size_t) {
        if (rec) return;
        if (self->res.result_int() == 200) ++self->ok_;
        self->next();
      });
    });
  }
  beast::tcp_stream stream;
  std::atomic<int>& left_;
  std::atomic<int>& ok_;
  beast::flat_buffer buffer;
  http::request<http::string_body> req;
  http::response<http::string_body> res;
};

void BM_BareBeastKeepAlive(benchmark::State& state) {
  const std::uint16_t port = server().endpoints()[0].port;
  std::int64_t done = 0;
  for (auto _ : state) {
    asio::io_context io;
    std::atomic<int> left{calls_per_iteration}, ok{0};
    for (int i = 0; i < concurrency; ++i) std::make_shared<bare_connection>(io, left, ok)->start(port);
    io.run();
    if (ok.load() != calls_per_iteration) state.SkipWithError("a call failed");
    done += ok.load();
  }
  state.SetItemsProcessed(done);
}

void run_client(benchmark::State& state, bool tls) {
  squall::client_options o;
  o.policy = squall::json::parse(R"({"policies":[{"type":"timeout","timeout_ms":20000},
    {"type":"retry","attempts_max":3},{"type":"circuit_breaker"},{"type":"timeout","timeout_ms":5000}]})");
  o.transport.endpoints.push_back(
      {"openai", squall::api_kind::openai, (tls ? tls_server() : server()).endpoints()[0].base_url, "sk", false});
  if (tls) {
    o.transport.ca_file = "/tmp/squall-client-bench-ca.pem";
    std::ofstream(o.transport.ca_file) << bench_ca().certificate_pem;
  }
  o.transport.connections_max = concurrency;
  auto made = squall::client::create(o);
  if (!made) {
    state.SkipWithError(made.error().describe().c_str());
    return;
  }
  squall::client& c = *made.value();
  std::int64_t done = 0;
  for (auto _ : state) {
    std::mutex m;
    std::condition_variable finished;
    std::atomic<int> left{calls_per_iteration}, ok{0}, answered{0};
    // Each answer starts the next call from the I/O thread, as a service's handler chain would.
    std::function<void()> issue = [&] {
      if (left.fetch_sub(1) <= 0) return;
      squall::chat_call q;
      q.model = "gpt-4o-mini";
      q.messages = {{"user", "Capital of France?"}};
      q.max_tokens = 4;
      q.cacheable = false;
      c.call(std::move(q), [&](squall::client_result r) {
        if (r.ok()) ++ok;
        issue();
        if (++answered == calls_per_iteration) {
          std::lock_guard lock(m);
          finished.notify_one();
        }
      });
    };
    for (int i = 0; i < concurrency; ++i) issue();
    std::unique_lock lock(m);
    finished.wait(lock, [&] { return answered.load() == calls_per_iteration; });
    if (ok.load() != calls_per_iteration) state.SkipWithError("a call failed");
    done += ok.load();
  }
  state.SetItemsProcessed(done);
}

void BM_ClientRetryTimeoutBreaker(benchmark::State& state) { run_client(state, false); }
void BM_ClientRetryTimeoutBreakerTls(benchmark::State& state) { run_client(state, true); }

BENCHMARK(BM_BareBeastKeepAlive)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_ClientRetryTimeoutBreaker)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_ClientRetryTimeoutBreakerTls)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
