// The fake provider under abuse (issue 13): descriptors running out, then the real `squall serve` binary
// as a child process taking garbage, deep JSON, oversized answers, descriptor exhaustion and 10,000 idle
// connections while /healthz keeps answering and its peak memory (VmHWM) stays under 200 MB.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "fake_providers/fake_server.hpp"
#include "policies/core/rng.hpp"
#include "tests/fake_providers/test_providers.hpp"
#include "tests/support/http_test_client.hpp"

namespace squall::fake {
namespace {

using nlohmann::json;
using testing::client;
using testing::openai_config;
using testing::reply;
using testing::running;

// ---------------------------------------------------------------------------------------------------
// Helpers on plain sockets: thousands of connections, raw bytes, no client library in the way.

// A blocking loopback connection to `port`, or -1. Reads time out after `timeout_s`.
int connect_to(std::uint16_t port, int timeout_s = 10) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  timeval tv{timeout_s, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  sockaddr_in at{};
  at.sin_family = AF_INET;
  at.sin_port = htons(port);
  at.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&at), sizeof at) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

// Sends `bytes` and reads until the server closes or the read times out.
std::string send_and_read(int fd, const std::string& bytes) {
  std::size_t sent = 0;
  while (sent < bytes.size()) {
    const ssize_t n = ::send(fd, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) break;
    sent += static_cast<std::size_t>(n);
  }
  std::string out;
  char buf[4096];
  for (;;) {
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    out.append(buf, static_cast<std::size_t>(n));
  }
  return out;
}

std::size_t open_descriptors() {
  std::size_t n = 0;
  for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator("/proc/self/fd")) ++n;
  return n;
}

// The value of one sample in a /metrics text, or -1 when absent.
double sample(const std::string& metrics, const std::string& name) {
  const std::size_t at = metrics.find(name + " ");
  return at == std::string::npos ? -1 : std::stod(metrics.substr(at + name.size() + 1));
}

// ---------------------------------------------------------------------------------------------------
// Descriptors running out, in this process: the accept loop must wait, not spin.

TEST(FakeServerAbuse, AcceptBacksOffWhileDescriptorsRunOutAndAcceptsWhenOneIsFree) {
  running r({openai_config()});
  const std::uint16_t port = r.port();

  rlimit saved{};
  ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &saved), 0);
  // A low soft limit keeps the exhaustion to a few dozen descriptors; it is restored below.
  rlimit low = saved;
  low.rlim_cur = std::min<rlim_t>(saved.rlim_cur, open_descriptors() + 64);
  ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &low), 0);

  std::vector<int> fillers;
  const int null_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  ASSERT_GE(null_fd, 0);
  fillers.push_back(null_fd);
  for (int fd; (fd = ::fcntl(null_fd, F_DUPFD_CLOEXEC, 0)) >= 0;) fillers.push_back(fd);
  const int exhausted_errno = errno;
  // One descriptor back for the client; when it connects, the server's accept finds none left.
  ::close(fillers.back());
  fillers.pop_back();
  const int fd = connect_to(port);

  rusage cpu_before{};
  ::getrusage(RUSAGE_SELF, &cpu_before);
  const auto t0 = std::chrono::steady_clock::now();
  std::this_thread::sleep_for(std::chrono::milliseconds(600));
  rusage cpu_after{};
  ::getrusage(RUSAGE_SELF, &cpu_after);
  const double elapsed_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

  for (const int f : fillers) ::close(f);
  ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &saved), 0);
  ASSERT_EQ(exhausted_errno, EMFILE);
  ASSERT_GE(fd, 0) << "the client could not connect";

  // Descriptors are free again: the waiting connection is accepted after a back-off and answered.
  const std::string answer = send_and_read(fd, "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  ::close(fd);
  EXPECT_EQ(answer.rfind("HTTP/1.1 200", 0), 0U) << answer;

  client c(port);
  const std::string metrics = c.get("/metrics").body;
  const double backoffs = sample(metrics, "squall_fake_accept_backoffs_total{provider=\"openai\"}");
  EXPECT_GE(backoffs, 1) << metrics;
  // One try per 50 ms back-off, give or take; spinning made millions.
  EXPECT_LE(backoffs, elapsed_s / 0.05 + 5) << "in " << elapsed_s << " s";
  // The process (the test thread slept) used a small share of one core while accepts failed; the spin
  // used all of it.
  const auto seconds = [](const timeval& t) { return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6; };
  const double cpu_s = seconds(cpu_after.ru_utime) - seconds(cpu_before.ru_utime) + seconds(cpu_after.ru_stime) -
                       seconds(cpu_before.ru_stime);
  EXPECT_LT(cpu_s, 0.5 * elapsed_s) << "the accept loop spun: " << cpu_s << " s of CPU in " << elapsed_s << " s";
}

// ---------------------------------------------------------------------------------------------------
// `squall serve` as a child process.

class serve_process {
 public:
  // Starts `squall serve` on the SDK tests' scenario (an OpenAI and an Anthropic provider) with at
  // most `descriptors_max` descriptors, and waits for it to print its endpoints.
  explicit serve_process(rlim_t descriptors_max) {
    log_ = std::filesystem::temp_directory_path() / ("squall-abuse-" + std::to_string(::getpid()) + ".log");
    const std::string scenario = std::string(SQUALL_SOURCE_DIR) + "/tests/fake_providers/sdk/sdk_scenario.json";
    // ASan keeps freed memory in quarantine (256 MB by default) to catch use after free; that is the
    // sanitizer's memory, not the server's. A small quarantine keeps VmHWM about the server. Everything
    // the child needs is made before fork: after it, only system calls.
    std::vector<std::string> env;
    std::string asan = "ASAN_OPTIONS=quarantine_size_mb=8";
    for (char** e = environ; *e != nullptr; ++e) {
      const std::string entry = *e;
      if (entry.rfind("ASAN_OPTIONS=", 0) == 0) {
        asan = entry + ":quarantine_size_mb=8";
      } else {
        env.push_back(entry);
      }
    }
    env.push_back(asan);
    std::vector<char*> envp;
    for (std::string& e : env) envp.push_back(e.data());
    envp.push_back(nullptr);
    const std::string binary = SQUALL_BINARY;
    const std::string log_path = log_.string();
    const int log_fd = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    pid_ = ::fork();
    if (pid_ == 0) {
      if (log_fd < 0 || ::dup2(log_fd, 1) < 0 || ::dup2(log_fd, 2) < 0) ::_exit(121);
      ::close_range(3, ~0U, 0);
      const rlimit limit{descriptors_max, descriptors_max};
      if (::setrlimit(RLIMIT_NOFILE, &limit) != 0) ::_exit(120);
      // --for-s: the child ends by itself even if this test dies before it can stop it.
      ::execle(binary.c_str(), binary.c_str(), "serve", scenario.c_str(), "--for-s", "300", static_cast<char*>(nullptr),
               envp.data());
      ::_exit(122);
    }
    if (log_fd >= 0) ::close(log_fd);
    for (int i = 0; i < 600 && (openai_ == 0 || anthropic_ == 0); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      std::istringstream lines(log());
      for (std::string line; std::getline(lines, line);) {
        if (line.rfind("openai http://127.0.0.1:", 0) == 0) openai_ = static_cast<std::uint16_t>(std::stoi(line.substr(24)));
        if (line.rfind("anthropic http://127.0.0.1:", 0) == 0) {
          anthropic_ = static_cast<std::uint16_t>(std::stoi(line.substr(27)));
        }
      }
    }
  }
  ~serve_process() {
    if (pid_ > 0 && !waited_) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    std::filesystem::remove(log_);
  }
  serve_process(const serve_process&) = delete;
  serve_process& operator=(const serve_process&) = delete;

  std::uint16_t openai() const { return openai_; }
  std::uint16_t anthropic() const { return anthropic_; }
  std::string log() const {
    std::ifstream in(log_);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }
  // A line of /proc/<pid>/status ("VmHWM:  123456 kB") as a number of kB, or -1.
  double status_kb(const std::string& key) const {
    std::ifstream in("/proc/" + std::to_string(pid_) + "/status");
    for (std::string line; std::getline(in, line);) {
      if (line.rfind(key + ":", 0) == 0) return std::stod(line.substr(key.size() + 1));
    }
    return -1;
  }
  // User and system CPU seconds so far.
  double cpu_s() const {
    std::ifstream in("/proc/" + std::to_string(pid_) + "/stat");
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::istringstream fields(text.substr(text.rfind(')') + 2));
    std::string skip;
    for (int i = 3; i < 14; ++i) fields >> skip;  // state ... cmajflt: fields 3 to 13
    double utime = 0, stime = 0;
    fields >> utime >> stime;
    return (utime + stime) / static_cast<double>(::sysconf(_SC_CLK_TCK));
  }
  bool alive() const { return ::kill(pid_, 0) == 0 && !waited_; }
  // SIGTERM, then the exit status (or -1 when it did not exit by itself).
  int stop() {
    ::kill(pid_, SIGTERM);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    waited_ = true;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }

 private:
  std::filesystem::path log_;
  pid_t pid_ = -1;
  bool waited_ = false;
  std::uint16_t openai_ = 0;
  std::uint16_t anthropic_ = 0;
};

void expect_healthy(std::uint16_t port, const char* when) {
  client c(port, 20'000);
  const reply r = c.get("/healthz");
  EXPECT_EQ(r.status, 200) << when << ": " << r.error.message();
}

TEST(FakeServerAbuse, ServeAnswersHealthzThroughGarbageDeepJsonHugeAnswersExhaustionAndTenThousandIdleConnections) {
  constexpr int idle_connections = 10'000;
  // The test holds the idle connections and a few hundred more: raise its own soft limit to the hard one.
  rlimit mine{};
  ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &mine), 0);
  ASSERT_GE(mine.rlim_max, static_cast<rlim_t>(idle_connections + 1000))
      << "the hard limit on descriptors is too low for 10,000 connections";
  const rlimit saved = mine;
  mine.rlim_cur = mine.rlim_max;
  ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &mine), 0);

  // The server may hold the idle connections and a few hundred more, then runs out.
  constexpr rlim_t server_descriptors = idle_connections + 300;
  serve_process serve(server_descriptors);
  ASSERT_NE(serve.openai(), 0) << serve.log();
  ASSERT_NE(serve.anthropic(), 0) << serve.log();
  const std::uint16_t port = serve.openai();
  expect_healthy(port, "at start");
  const double start_mb = serve.status_kb("VmRSS") / 1024;

  // Garbage: random bytes, a request line with no end, a bad chunked body. Each gets a 400 or a close.
  rng r(13);
  for (int i = 0; i < 50; ++i) {
    std::string bytes(64 + r.below(4000), '\0');
    for (char& c : bytes) c = static_cast<char>(r.below(256));
    if (i % 2 == 1) bytes = "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n" + bytes;
    const int fd = connect_to(port);
    ASSERT_GE(fd, 0);
    const std::string answer = send_and_read(fd, bytes);
    ::close(fd);
    EXPECT_TRUE(answer.empty() || answer.rfind("HTTP/1.1 4", 0) == 0) << answer.substr(0, 200);
  }
  {
    const int fd = connect_to(port);
    const std::string answer = send_and_read(
        fd, "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n");
    ::close(fd);
    EXPECT_EQ(answer.rfind("HTTP/1.1 400", 0), 0U) << answer;
  }
  expect_healthy(port, "after garbage");

  // Deep JSON, in a chat message, an Anthropic system prompt and the control API.
  const std::string deep = std::string(100'000, '[') + std::string(100'000, ']');
  {
    client c(port);
    EXPECT_EQ(c.post("/v1/chat/completions",
                     R"({"model":"gpt-4o-mini","messages":[{"role":"user","content":)" + deep + "}]}").status, 400);
    EXPECT_EQ(c.post("/squall/faults", R"({"for_s":30,"errors":)" + deep + "}").status, 400);
    client a(serve.anthropic());
    EXPECT_EQ(a.post("/v1/messages", R"({"model":"claude-sonnet-4","max_tokens":1,"system":)" + deep +
                                         R"(,"messages":[{"role":"user","content":"a"}]})").status, 400);
    std::string accents;
    for (int i = 0; i < 30; ++i) accents += "\xC3\xA9";
    EXPECT_EQ(c.post("/squall/faults", json{{"for_s", 30}, {"outage", accents}}).status, 400);
  }
  expect_healthy(port, "after deep JSON");

  // Oversized work: too many inputs, an answer over the limit, the largest bodies, and the largest
  // common answer.
  {
    client c(port, 60'000);
    EXPECT_EQ(c.post("/v1/embeddings", json{{"model", "text-embedding-3-small"}, {"input", json::array_t(5000, "w")}})
                  .status, 400);
    EXPECT_EQ(c.post("/v1/embeddings", json{{"model", "text-embedding-3-small"}, {"input", json::array_t(2048, "w w")},
                                            {"dimensions", 3072}})
                  .status, 400);
    // Just under the 4 MiB body limit: two million tokens in one input made a tree of 100 MB; refused
    // before parsing now. The most values a body may hold, and the largest body, are answered.
    const auto tokens = [](std::size_t n) {
      std::string body = R"({"model":"text-embedding-3-small","dimensions":8,"input":[1)";
      for (std::size_t i = 1; i < n; ++i) body += ",1";
      return body + "]}";
    };
    EXPECT_EQ(c.post("/v1/embeddings", tokens(2 * 1024 * 1024 - 40)).status, 400);
    EXPECT_EQ(c.post("/v1/embeddings", tokens(499'000)).status, 200);
    std::string words = R"({"model":"text-embedding-3-small","dimensions":8,"input":")";
    while (words.size() < 4 * 1024 * 1024 - 16) words += "w ";
    EXPECT_EQ(c.post("/v1/embeddings", words + "\"}").status, 200);
    expect_healthy(port, "after the largest bodies");
    // OpenAI's largest common request: 2,048 inputs of 1,536 floats, about 36 MB of JSON.
    const reply big = c.post("/v1/embeddings", json{{"model", "text-embedding-3-small"},
                                                    {"input", json::array_t(2048, "w")}, {"dimensions", 1536}});
    EXPECT_EQ(big.status, 200) << big.error.message();
    EXPECT_GT(big.body.size(), std::size_t{32} << 20);
  }
  expect_healthy(port, "after oversized work");

  // 10,000 idle connections, then more until the server runs out of descriptors.
  std::vector<int> idle;
  idle.reserve(idle_connections);
  for (int i = 0; i < idle_connections; ++i) {
    const int fd = connect_to(port);
    ASSERT_GE(fd, 0) << "connection " << i << ": " << std::strerror(errno);
    idle.push_back(fd);
  }
  expect_healthy(port, "with 10,000 idle connections");
  {
    client c(port);
    EXPECT_GE(sample(c.get("/metrics").body, "squall_fake_open_connections{provider=\"openai\"}"), idle_connections);
  }
  std::vector<int> beyond;
  for (int i = 0; i < 500; ++i) {
    const int fd = connect_to(port);
    if (fd >= 0) beyond.push_back(fd);
  }
  // The server is out of descriptors now, with connections waiting in its backlog: it must wait for one
  // to come free, not spin.
  const double cpu_before = serve.cpu_s();
  const auto t0 = std::chrono::steady_clock::now();
  std::this_thread::sleep_for(std::chrono::seconds(1));
  const double cpu_used_s = serve.cpu_s() - cpu_before;
  const double elapsed_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_LT(cpu_used_s, 0.5 * elapsed_s) << "the server spun while out of descriptors";
  EXPECT_TRUE(serve.alive()) << serve.log();

  for (const int fd : beyond) ::close(fd);
  for (std::size_t i = 0; i < 1000; ++i) ::close(idle[i]);
  idle.erase(idle.begin(), idle.begin() + 1000);
  expect_healthy(port, "once descriptors came free");
  {
    client c(port);
    const std::string metrics = c.get("/metrics").body;
    EXPECT_GE(sample(metrics, "squall_fake_accept_backoffs_total{provider=\"openai\"}"), 1) << metrics;
  }
  for (const int fd : idle) ::close(fd);
  expect_healthy(port, "at the end");

  const double peak_mb = serve.status_kb("VmHWM") / 1024;
  std::printf("squall serve under abuse: peak memory (VmHWM) %.1f MB, %.1f MB at start\n", peak_mb, start_mb);
  EXPECT_GT(peak_mb, 0);
#if defined(__SANITIZE_THREAD__)
  // ThreadSanitizer shadows each byte the program touches with several of its own, so the RSS of its
  // build is mostly the sanitizer's: the bound is checked in the other builds.
  std::printf("ThreadSanitizer build: the peak is not compared with 200 MB\n");
#elif defined(__SANITIZE_ADDRESS__)
  // AddressSanitizer starts squall serve at about 144 MB of its own (shadow and allocator; the plain
  // build starts at 10 MB and peaks at 51 MB here), which left the peak a hair either side of 200 MB from
  // run to run. What the server itself takes is the growth from its start (about 60 MB), held to 120 MB.
  EXPECT_LT(peak_mb - start_mb, 120) << "memory squall serve took under abuse";
#else
  EXPECT_LT(peak_mb, 200) << "peak memory of squall serve";
#endif
  EXPECT_EQ(serve.stop(), 0) << serve.log();
  EXPECT_EQ(serve.log().find("handler failed"), std::string::npos) << serve.log();
  ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &saved), 0);
}

}  // namespace
}  // namespace squall::fake
