// Thousands of requests held open under injected latency wait side by side: timers, not threads.
#include <gtest/gtest.h>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <memory>

#include "fake_providers/fake_server.hpp"

namespace squall::fake {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

struct call : std::enable_shared_from_this<call> {
  call(asio::io_context& io, std::uint16_t to, int& ok_count, int& failed_count)
      : stream(io), port(to), ok(ok_count), failed(failed_count) {}
  void start() {
    req = {http::verb::post, "/v1/chat/completions", 11};
    req.set(http::field::host, "127.0.0.1");
    req.set(http::field::content_type, "application/json");
    req.body() = R"({"model":"m","messages":[{"role":"user","content":"hi"}],"max_tokens":1})";
    req.prepare_payload();
    stream.expires_after(std::chrono::seconds(60));
    stream.async_connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port),
                         [self = shared_from_this()](beast::error_code ec) {
                           if (ec) return self->done(false);
                           http::async_write(self->stream, self->req, [self](beast::error_code wec, std::size_t) {
                             if (wec) return self->done(false);
                             http::async_read(self->stream, self->buffer, self->res,
                                              [self](beast::error_code rec, std::size_t) {
                                                self->done(!rec && self->res.result_int() == 200);
                                              });
                           });
                         });
  }
  void done(bool good) { ++(good ? ok : failed); }

  beast::tcp_stream stream;
  std::uint16_t port;
  int& ok;
  int& failed;
  beast::flat_buffer buffer;
  http::request<http::string_body> req;
  http::response<http::string_body> res;
};

TEST(FakeServerConcurrency, TwoThousandRequestsUnderOneSecondOfLatencyFinishTogether) {
  sim::provider_config cfg;
  cfg.name = "p";
  cfg.models = {{"m", sim::model_price{1, 1}}};
  cfg.ttft_ms = sim::distribution::constant(1000);
  cfg.ms_per_output_token = sim::distribution::constant(0);
  cfg.slots = 5000;
  cfg.queue = 0;
  fake_server server({cfg});
  ASSERT_FALSE(server.start());
  const std::uint16_t port = server.endpoints()[0].port;

  constexpr int requests = 2000;
  asio::io_context io;
  int ok = 0, failed = 0;
  const auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < requests; ++i) std::make_shared<call>(io, port, ok, failed)->start();
  io.run();
  const double elapsed_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_EQ(ok, requests);
  EXPECT_EQ(failed, 0);
  // Had they queued behind each other this would take 2,000 s; a loose bound that any machine meets.
  EXPECT_GE(elapsed_s, 0.9);
  EXPECT_LT(elapsed_s, 30.0);
  std::printf("2000 concurrent requests under 1 s injected latency: %.2f s\n", elapsed_s);
}

}  // namespace
}  // namespace squall::fake
