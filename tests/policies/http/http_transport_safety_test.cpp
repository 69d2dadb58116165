// The transport's safety against servers that go quiet or away (issue 14): a request once written is
// never sent again behind the caller's back, a closed idle connection is noticed before the write, a
// silent server ends the attempt without any deadline, idle connections expire, and host names are
// resolved again for every new connection. Real servers on loopback port 0; no assertion on speed.

#include <gtest/gtest.h>

#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <thread>

#include "tests/policies/http/transport_harness.hpp"
#include "tests/support/canned_http_server.hpp"

namespace squall {
namespace {

using testing::canned_http_server;
using testing::canned_reply;
using testing::http_chunk;
using testing::http_last_chunk;
using testing::http_response;
using testing::http_stream_head;
using testing::openai_ok_body;
using testing::received_request;
using testing::transport_harness;

using testing::contains;

TEST(http_transport_safety, a_reused_connection_that_breaks_after_the_write_is_reported_once_and_not_sent_again) {
  // The first request is answered on a keep-alive connection; the server reads the second one whole,
  // then closes without answering. Before, the transport sent it again on a fresh connection: the
  // server saw the POST twice.
  std::atomic<int> n{0};
  canned_http_server server([&n](const received_request&) {
    if (n++ == 0) return canned_reply{}.write(http_response(200, "OK", openai_ok_body));
    return canned_reply{}.close();
  });
  transport_harness h(server.base_url());
  EXPECT_EQ(h.call().kind, outcome_class::ok);
  const outcome o = h.call();
  EXPECT_EQ(o.kind, outcome_class::connection_error);
  EXPECT_EQ(server.requests().size(), 2U) << "the second request reached the server exactly once";
  EXPECT_EQ(server.connections(), 1) << "no second connection carried it again";
  EXPECT_EQ(h.transport->stats().not_resent, 1U);
  EXPECT_EQ(h.transport->stats().stale_reconnects, 0U);
  EXPECT_TRUE(contains(h.transport->last_error(), "not sent again")) << h.transport->last_error();
  EXPECT_EQ(h.transport->open_connections(), 0U);
}

TEST(http_transport_safety, a_fresh_connection_closed_after_the_request_is_one_connection_error) {
  canned_http_server server([](const received_request&) { return canned_reply{}.close(); });
  transport_harness h(server.base_url());
  EXPECT_EQ(h.call().kind, outcome_class::connection_error);
  EXPECT_EQ(server.requests().size(), 1U);
  EXPECT_EQ(server.connections(), 1);
  EXPECT_EQ(h.transport->stats().not_resent, 0U) << "counted for reused connections only";
}

TEST(http_transport_safety, an_idle_connection_closed_by_the_server_is_replaced_before_anything_is_written) {
  canned_http_server server([](const received_request&) {
    canned_reply r;
    r.write(http_response(200, "OK", openai_ok_body));
    r.keep_open = false;  // says keep-alive, then closes while the client holds it idle
    return r;
  });
  transport_harness h(server.base_url());
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(h.call().kind, outcome_class::ok);
    while (server.server_closes() < i + 1) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    std::this_thread::sleep_for(std::chrono::milliseconds(2));  // idle for 1 ms or more: peeked before reuse
  }
  EXPECT_EQ(h.transport->stats().stale_reconnects, 2U);
  EXPECT_EQ(h.transport->stats().not_resent, 0U);
  EXPECT_EQ(server.requests().size(), 3U) << "each request once";
  EXPECT_EQ(server.connections(), 3);
}

TEST(http_transport_safety, read_timeout_ends_a_hung_answer_without_any_deadline) {
  canned_http_server server([](const received_request&) { return canned_reply{}.hang(); });
  transport_harness h(server.base_url(), [](http_transport_options& o) { o.read_timeout_ms = 100; });
  const outcome o = h.call();  // no deadline: before, this waited for ever
  EXPECT_EQ(o.kind, outcome_class::timeout);
  EXPECT_EQ(h.transport->stats().read_timeouts, 1U);
  EXPECT_EQ(h.transport->open_connections(), 0U) << "the hung connection is closed, not pooled";
  EXPECT_TRUE(contains(h.transport->last_error(), "read_timeout_ms")) << h.transport->last_error();
  EXPECT_EQ(server.requests().size(), 1U);
}

TEST(http_transport_safety, read_timeout_also_ends_a_stream_that_stops_midway) {
  canned_http_server server([](const received_request&) {
    canned_reply r;
    r.write(http_stream_head() + http_chunk("data: {\"choices\":[{\"delta\":{\"content\":\"Hel\"}}]}\n\n"));
    r.hang();
    return r;
  });
  transport_harness h(server.base_url(), [](http_transport_options& o) { o.read_timeout_ms = 100; }, api_kind::openai,
                      true);
  EXPECT_EQ(h.call().kind, outcome_class::timeout);
  EXPECT_EQ(h.transport->stats().read_timeouts, 1U);
}

TEST(http_transport_safety, read_timeout_is_about_silence_not_the_length_of_the_answer) {
  // Five pieces a quarter of a second apart: the answer takes longer than the read timeout, no gap does.
  canned_http_server server([](const received_request&) {
    canned_reply r;
    r.write(http_stream_head() + http_chunk("data: {\"choices\":[{\"delta\":{\"content\":\"a\"}}]}\n\n"));
    for (int i = 0; i < 4; ++i) r.write(http_chunk("data: {\"choices\":[{\"delta\":{\"content\":\" b\"}}]}\n\n"), 250);
    r.write(http_chunk("data: [DONE]\n\n") + http_last_chunk);
    return r;
  });
  transport_harness h(server.base_url(), [](http_transport_options& o) { o.read_timeout_ms = 900; }, api_kind::openai,
                      true);
  EXPECT_EQ(h.call().kind, outcome_class::ok);
  EXPECT_EQ(h.transport->stats().read_timeouts, 0U);
}

TEST(http_transport_safety, an_idle_connection_past_idle_timeout_is_closed_instead_of_reused) {
  canned_http_server server([](const received_request&) { return canned_reply{}.write(http_response(200, "OK", openai_ok_body)); });
  transport_harness h(server.base_url(), [](http_transport_options& o) { o.idle_timeout_ms = 30; });
  EXPECT_EQ(h.call().kind, outcome_class::ok);
  EXPECT_EQ(h.transport->idle_connections(), 1U);
  std::this_thread::sleep_for(std::chrono::milliseconds(60));
  EXPECT_EQ(h.call().kind, outcome_class::ok);
  EXPECT_EQ(h.transport->stats().idle_expired, 1U);
  EXPECT_EQ(h.transport->stats().connections_reused, 0U);
  EXPECT_EQ(server.connections(), 2);
  EXPECT_EQ(h.transport->open_connections(), 1U) << "the expired one is closed, its slot free";
}

TEST(http_transport_safety, a_host_name_is_resolved_again_for_each_new_connection) {
  canned_http_server server([](const received_request&) { return canned_reply{}.write(http_response(200, "OK", openai_ok_body)); });
  // No idle connections kept: every attempt opens a new one.
  transport_harness h("http://localhost:" + std::to_string(server.port()) + "/v1",
                      [](http_transport_options& o) { o.idle_max = 0; });
  EXPECT_EQ(h.call().kind, outcome_class::ok);
  EXPECT_EQ(h.call().kind, outcome_class::ok);
  EXPECT_EQ(h.transport->stats().resolves, 2U);
  EXPECT_EQ(h.transport->stats().connections_opened, 2U);

  // An address literal is never looked up.
  transport_harness literal(server.base_url(), [](http_transport_options& o) { o.idle_max = 0; });
  EXPECT_EQ(literal.call().kind, outcome_class::ok);
  EXPECT_EQ(literal.transport->stats().resolves, 0U);
}

TEST(http_transport_safety, failures_the_transport_decides_say_why) {
  unsigned short port;
  {
    boost::asio::io_context io;
    boost::asio::ip::tcp::acceptor a(io, {boost::asio::ip::make_address("127.0.0.1"), 0});
    port = a.local_endpoint().port();
  }  // closed: nothing listens there now
  transport_harness h("http://127.0.0.1:" + std::to_string(port) + "/v1");
  EXPECT_TRUE(h.transport->last_error().empty());
  EXPECT_EQ(h.call().kind, outcome_class::connection_error);
  EXPECT_TRUE(contains(h.transport->last_error(), "cannot connect to 127.0.0.1:" + std::to_string(port)))
      << h.transport->last_error();
}

TEST(http_transport_safety, create_checks_the_new_options) {
  boost::asio::io_context io;
  asio_runtime rt(io);
  auto with = [&](std::function<void(http_transport_options&)> tweak) {
    http_transport_options o;
    o.endpoints.push_back({"openai", api_kind::openai, "https://127.0.0.1:8443/v1", "", false});
    tweak(o);
    return http_transport::create(rt, std::move(o));
  };
  auto read = with([](http_transport_options& o) { o.read_timeout_ms = -1; });
  ASSERT_FALSE(read);
  EXPECT_EQ(read.error().path, "read_timeout_ms");
  auto idle = with([](http_transport_options& o) { o.idle_timeout_ms = std::numeric_limits<double>::quiet_NaN(); });
  ASSERT_FALSE(idle);
  EXPECT_EQ(idle.error().path, "idle_timeout_ms");
  auto ca = with([](http_transport_options& o) { o.ca_file = "/nonexistent/ca.pem"; });
  ASSERT_FALSE(ca);
  EXPECT_EQ(ca.error().path, "ca_file");
  EXPECT_TRUE(contains(ca.error().message, "/nonexistent/ca.pem")) << ca.error().message;
  EXPECT_TRUE(with([](http_transport_options&) {})) << "https with the system store alone";
}

}  // namespace
}  // namespace squall
