// ask_service: a small production-shaped service that answers questions through squall::client.
//
//   ask_service --policy scenarios/policies/retry-breaker.json --provider-url https://api.openai.com/v1
//               [--ca-file FILE] [--listen 127.0.0.1:0] [--model gpt-4o-mini]
//
//   POST /ask      {"question": "..."}  ->  {"answer", "degraded", "from_cache", "attempts", "error"}
//   GET  /metrics  the client's Prometheus text (policies, calls, latency, cost, connections)
//   GET  /healthz  "ok"
//   SIGHUP         reloads the policy file (a bad file is refused and the old policies stay)
//   SIGTERM/INT    stops accepting, drains the calls in flight, exits 0
//
// The API key comes from OPENAI_API_KEY. The policy file is the one CI simulates
// (examples/ask_service/scenario.json names the same file): what CI gates is what this service runs.
// One thread per connection keeps the example short; the client itself is shared by all of them.

#include <squall/client/client.hpp>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <nlohmann/json.hpp>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <set>
#include <sys/socket.h>
#include <csignal>
#include <cstdlib>
#include <iostream>
#include <string>
#include <thread>

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

struct settings {
  std::string policy_file, provider_url, ca_file, model = "gpt-4o-mini", listen = "127.0.0.1:0";
};

int usage(const std::string& why) {
  std::cerr << "ask_service: " << why
            << "\nusage: ask_service --policy FILE --provider-url URL [--ca-file FILE] [--listen HOST:PORT] [--model M]\n";
  return 2;
}

http::response<http::string_body> answer(squall::client& client, const settings& s,
                                         const http::request<http::string_body>& req) {
  http::response<http::string_body> res{http::status::ok, req.version()};
  res.set(http::field::content_type, "application/json");
  if (req.method() == http::verb::get && req.target() == "/healthz") {
    res.body() = "ok\n";
  } else if (req.method() == http::verb::get && req.target() == "/metrics") {
    res.set(http::field::content_type, "text/plain; version=0.0.4");
    res.body() = client.metrics_text();
  } else if (req.method() == http::verb::post && req.target() == "/ask") {
    const auto in = nlohmann::json::parse(req.body(), nullptr, false);
    if (!in.is_object() || !in.contains("question") || !in["question"].is_string()) {
      res.result(http::status::bad_request);
      res.body() = R"({"error":"expected {\"question\": \"...\"}"})";
    } else {
      squall::chat_call call;
      call.model = s.model;
      call.messages = {{"system", "Answer in one short paragraph."}, {"user", in["question"].get<std::string>()}};
      call.max_tokens = 200;
      const squall::client_result r = client.call(std::move(call)).get();
      nlohmann::json out = {{"answer", std::string(r.text())},
                            {"ok", r.ok()},
                            {"degraded", r.degraded},
                            {"from_cache", r.from_cache},
                            {"attempts", r.attempts},
                            {"error", r.error()},
                            {"provider_body", r.answer ? r.answer->body : std::string()}};
      if (!r.ok() && !r.degraded) res.result(http::status::bad_gateway);
      res.body() = out.dump();
    }
  } else {
    res.result(http::status::not_found);
    res.body() = R"({"error":"not found"})";
  }
  res.prepare_payload();
  return res;
}

// Connections being served, so that a shutdown can end their blocking reads and wait for them.
struct connections {
  std::mutex mutex;
  std::condition_variable none_left;
  std::set<tcp::socket*> open;
  void close_all() {
    std::lock_guard lock(mutex);
    // The system call, not the Asio object: its thread may be inside a read on it right now.
    for (tcp::socket* s : open) ::shutdown(s->native_handle(), SHUT_RDWR);
  }
  void wait_until_none() {
    std::unique_lock lock(mutex);
    none_left.wait(lock, [&] { return open.empty(); });
  }
};

void serve_connection(tcp::socket socket, squall::client& client, const settings& s, connections& live) {
  {
    std::lock_guard lock(live.mutex);
    live.open.insert(&socket);
  }
  struct leave {
    connections& live;
    tcp::socket* socket;
    ~leave() {
      std::lock_guard lock(live.mutex);
      live.open.erase(socket);
      live.none_left.notify_all();
    }
  } on_exit{live, &socket};
  beast::error_code ec;
  beast::flat_buffer buffer;
  for (;;) {
    http::request<http::string_body> req;
    http::read(socket, buffer, req, ec);
    if (ec) return;
    auto res = answer(client, s, req);
    res.keep_alive(req.keep_alive());
    http::write(socket, res, ec);
    if (ec || !req.keep_alive()) return;
  }
}

}  // namespace

int main(int argc, char** argv) {
  settings s;
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    if (i + 1 >= argc) return usage(flag + " needs a value");
    const std::string value = argv[++i];
    if (flag == "--policy") s.policy_file = value;
    else if (flag == "--provider-url") s.provider_url = value;
    else if (flag == "--ca-file") s.ca_file = value;
    else if (flag == "--listen") s.listen = value;
    else if (flag == "--model") s.model = value;
    else return usage("unknown flag " + flag);
  }
  if (s.policy_file.empty() || s.provider_url.empty()) return usage("--policy and --provider-url are required");

  squall::client_options options;
  options.policy_file = s.policy_file;
  const char* key = std::getenv("OPENAI_API_KEY");
  options.transport.endpoints.push_back({"openai", squall::api_kind::openai, s.provider_url, key ? key : "", false});
  options.transport.ca_file = s.ca_file;
  auto made = squall::client::create(options);
  if (!made) {
    std::cerr << "ask_service: " << made.error().describe() << "\n";
    return 2;
  }
  squall::client& client = *made.value();

  asio::io_context io;
  const auto colon = s.listen.rfind(':');
  tcp::acceptor acceptor(io, {asio::ip::make_address(s.listen.substr(0, colon)),
                              static_cast<unsigned short>(std::stoi(s.listen.substr(colon + 1)))});
  std::cout << "ask_service: policy \"" << client.policy_name() << "\" from " << s.policy_file
            << ", listening on http://127.0.0.1:" << acceptor.local_endpoint().port() << std::endl;

  connections live;
  asio::signal_set signals(io, SIGHUP, SIGTERM, SIGINT);
  std::function<void(const beast::error_code&, int)> on_signal = [&](const beast::error_code& ec, int sig) {
    if (ec) return;
    if (sig == SIGHUP) {
      if (auto error = client.reload_file(s.policy_file)) {
        std::cerr << "ask_service: reload refused: " << error->describe() << "\n";
      } else {
        std::cout << "ask_service: reloaded \"" << client.policy_name() << "\"" << std::endl;
      }
      signals.async_wait(on_signal);
      return;
    }
    acceptor.close();
  };
  signals.async_wait(on_signal);

  std::function<void()> accept = [&] {
    acceptor.async_accept([&](const beast::error_code& ec, tcp::socket socket) {
      if (ec) return;  // closed by a signal
      std::thread(serve_connection, std::move(socket), std::ref(client), std::cref(s), std::ref(live)).detach();
      accept();
    });
  };
  accept();
  io.run();  // until SIGTERM or SIGINT closes the acceptor
  // Calls in flight finish (or are cancelled after 5 s); then the connections' reads are ended and their
  // threads waited for, so that none outlives the client.
  const std::size_t cancelled = client.drain(std::chrono::milliseconds(5000));
  live.close_all();
  live.wait_until_none();
  std::cout << "ask_service: drained, " << cancelled << " calls cancelled" << std::endl;
  return 0;
}
