// A production-style use of the installed squall package, outside squall's tree: load a policy file,
// build its pipeline in front of the HTTP transport on the real clock, and make one chat call to a
// loopback server that answers the first attempt with a 503 (and a retry-after-ms hint) and the second
// with an OpenAI-style completion. It passes when the call succeeds on the second attempt, the server
// saw the caller's message, and the caller gets the provider's answer back.
//
//   squall_consumer POLICY_FILE     (exit 0: passed; 1: failed; 2: bad policy file)

#include <boost/asio/buffer.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/write.hpp>
#include <cctype>
#include <cstddef>
#include <iostream>
#include <memory>
#include <optional>
#include <string>

#include "policies/asio/asio_runtime.hpp"
#include "policies/http/http_transport.hpp"
#include "policies/pipeline/pipeline.hpp"

namespace {

namespace asio = boost::asio;
using asio::ip::tcp;

std::string http_reply(int status, const std::string& reason, const std::string& extra_headers,
                       const std::string& body) {
  return "HTTP/1.1 " + std::to_string(status) + " " + reason + "\r\nContent-Type: application/json\r\n" +
         extra_headers + "Content-Length: " + std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" +
         body;
}

// One request per connection; the first request of the run gets a 503, every later one a completion.
class loopback_server {
 public:
  explicit loopback_server(asio::io_context& io) : acceptor_(io, {asio::ip::make_address("127.0.0.1"), 0}) {
    accept();
  }
  unsigned short port() const { return acceptor_.local_endpoint().port(); }
  int requests() const { return requests_; }
  const std::string& last_body() const { return last_body_; }
  void close() { acceptor_.close(); }

 private:
  struct connection {
    explicit connection(tcp::socket s) : socket(std::move(s)) {}
    tcp::socket socket;
    std::string buffer;
    std::size_t head_size = 0;
    std::string reply;
  };

  void accept() {
    acceptor_.async_accept([this](boost::system::error_code ec, tcp::socket socket) {
      if (ec) return;
      serve(std::make_shared<connection>(std::move(socket)));
      accept();
    });
  }

  void serve(const std::shared_ptr<connection>& c) {
    asio::async_read_until(c->socket, asio::dynamic_buffer(c->buffer), "\r\n\r\n",
                           [this, c](boost::system::error_code ec, std::size_t head_size) {
      if (ec) return;
      std::string head = c->buffer.substr(0, head_size);
      for (char& ch : head) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
      std::size_t length = 0;
      if (const auto at = head.find("\r\ncontent-length:"); at != std::string::npos) {
        length = std::stoul(head.substr(at + 17));
      }
      c->head_size = head_size;
      const std::size_t have = c->buffer.size() - head_size;
      asio::async_read(c->socket, asio::dynamic_buffer(c->buffer),
                       asio::transfer_exactly(length > have ? length - have : 0),
                       [this, c](boost::system::error_code read_ec, std::size_t) {
        if (read_ec) return;
        ++requests_;
        last_body_ = c->buffer.substr(c->head_size);
        c->reply = requests_ == 1
            ? http_reply(503, "Service Unavailable", "retry-after-ms: 10\r\n",
                         R"({"error":{"message":"overloaded","type":"server_error"}})")
            : http_reply(200, "OK", "",
                         R"({"id":"chatcmpl-1","object":"chat.completion","model":"gpt-4o-mini",)"
                         R"("choices":[{"index":0,"message":{"role":"assistant","content":"Hello"},)"
                         R"("finish_reason":"stop"}],"usage":{"prompt_tokens":11,"completion_tokens":7,)"
                         R"("total_tokens":18}})");
        asio::async_write(c->socket, asio::buffer(c->reply), [c](boost::system::error_code, std::size_t) {
          boost::system::error_code ignored;
          c->socket.shutdown(tcp::socket::shutdown_both, ignored);
        });
      });
    });
  }

  tcp::acceptor acceptor_;
  int requests_ = 0;
  std::string last_body_;
};

class retry_counter final : public squall::event_sink {
 public:
  void on_policy_event(const squall::policy_event& event) override {
    if (event.kind == squall::policy_event_kind::retry_scheduled) ++retries;
  }
  int retries = 0;
};

// Keeps the outcome and ends the run: the server's pending accept would keep io_context::run going.
class stop_on_outcome final : public squall::outcome_receiver {
 public:
  stop_on_outcome(asio::io_context& io, loopback_server& server) : io_(io), server_(server) {}
  void on_outcome(squall::outcome&& result) override {
    last = std::move(result);
    server_.close();
    io_.stop();
  }
  std::optional<squall::outcome> last;

 private:
  asio::io_context& io_;
  loopback_server& server_;
};

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: squall_consumer POLICY_FILE\n";
    return 2;
  }
  auto spec = squall::load_pipeline_file(argv[1]);
  if (!spec) {
    std::cerr << spec.error().describe() << "\n";
    return 2;
  }

  asio::io_context io;
  squall::asio_runtime runtime(io);
  loopback_server server(io);

  squall::http_transport_options options;
  options.endpoints.push_back({"openai", squall::api_kind::openai,
                               "http://127.0.0.1:" + std::to_string(server.port()) + "/v1", "sk-test", false});
  options.prices.push_back({"openai", "gpt-4o-mini", 0.15, 0.60, 0.0});
  options.loopback_only = true;
  auto transport = squall::http_transport::create(runtime, std::move(options));
  if (!transport) {
    std::cerr << "http_transport: " << transport.error().describe() << "\n";
    return 1;
  }

  retry_counter events;
  squall::pipeline pipeline(*spec, runtime, events, 42, *transport.value());

  squall::call_context call;
  call.req.id = 1;
  call.req.model = "gpt-4o-mini";
  call.req.input_tokens = 20;
  call.req.output_tokens = 7;
  call.req.payload = squall::make_chat_payload({{"user", "Say hello to the installed package."}}, 16);
  call.started_at = runtime.now();
  stop_on_outcome receiver(io, server);
  pipeline.start(squall::call_scope{&call, squall::time_never}, receiver);
  io.run();

  if (!receiver.last) {
    std::cerr << "FAIL: the call ended without an outcome\n";
    return 1;
  }
  const squall::outcome& o = *receiver.last;
  const std::string text = o.answer ? o.answer->text : std::string("(no answer)");
  std::cout << "pipeline " << spec->name << ": " << squall::to_string(o.kind) << ", HTTP " << o.http_status
            << ", attempts " << call.attempts << ", retries " << events.retries << ", server requests "
            << server.requests() << ", output tokens " << o.output_tokens << ", answer \"" << text << "\"\n";
  if (!o.ok() || o.http_status != 200 || call.attempts != 2 || events.retries != 1 || server.requests() != 2 ||
      o.output_tokens != 7 || text != "Hello") {
    std::cerr << "FAIL: expected the answer \"Hello\" on the second attempt after one retry\n";
    return 1;
  }
  if (server.last_body().find("Say hello to the installed package.") == std::string::npos) {
    std::cerr << "FAIL: the server did not get the caller's message: " << server.last_body() << "\n";
    return 1;
  }
  return 0;
}
