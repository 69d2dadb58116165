#pragma once
// One http_transport on its own io_context and asio_runtime, and a blocking call() that runs the
// io_context until the attempt is answered, for the transport's safety and TLS tests.
// (http_transport_test.cpp keeps its own copy of the same harness.)

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <functional>
#include <memory>
#include <string>

#include "policies/http/http_transport.hpp"
#include "tests/support/fake_transport.hpp"

namespace squall::testing {

inline const std::string openai_ok_body = R"({"id":"chatcmpl-1","object":"chat.completion","model":"gpt-4o-mini",
  "choices":[{"index":0,"message":{"role":"assistant","content":"Hello there"},"finish_reason":"stop"}],
  "usage":{"prompt_tokens":11,"completion_tokens":7,"total_tokens":18}})";

struct transport_harness {
  boost::asio::io_context io;
  asio_runtime rt{io};
  std::unique_ptr<http_transport> transport;

  explicit transport_harness(const std::string& base_url, std::function<void(http_transport_options&)> tweak = {},
                             api_kind api = api_kind::openai, bool stream = false) {
    http_transport_options o;
    o.endpoints.push_back({"openai", api, base_url, "sk-test", stream});
    if (tweak) tweak(o);
    auto made = http_transport::create(rt, std::move(o));
    EXPECT_TRUE(made) << (made ? "" : made.error().describe());
    if (made) transport = std::move(made.value());
  }

  // One attempt with no deadline unless given; runs the io_context until it is answered.
  outcome call(time_point deadline = time_never) {
    call_context c;
    c.req.model = "gpt-4o-mini";
    c.req.input_tokens = 20;
    c.req.output_tokens = 7;
    recording_receiver rec;
    transport->start(call_scope{&c, deadline}, rec);
    io.restart();
    while (rec.calls == 0 && io.run_one() > 0) {
    }
    EXPECT_EQ(rec.calls, 1);
    return rec.last;
  }
};

}  // namespace squall::testing
