// What `squall serve` prints when its providers listen (issue 16): per provider the SDK's base URL on the
// line scripts look for, its control API and metrics URLs, and one curl command that arms a window.
#include "fake_providers/serve.hpp"

#include <gtest/gtest.h>

#include <sstream>

#include "tests/fake_providers/test_providers.hpp"
#include "tests/support/http_test_client.hpp"

namespace squall::fake {
namespace {

std::vector<endpoint_info> two_providers() {
  return {{"openai", "openai", 40113, "http://127.0.0.1:40113", "http://127.0.0.1:40113/v1", "http://127.0.0.1:40113/v1"},
          {"anthropic", "anthropic", 40114, "http://127.0.0.1:40114", "http://127.0.0.1:40114", "http://127.0.0.1:40114/v1"}};
}

TEST(ServeBanner, NamesEachProvidersBaseUrlControlApiAndMetrics) {
  std::ostringstream out;
  print_endpoints(out, two_providers(), "");
  EXPECT_EQ(out.str(),
            "openai http://127.0.0.1:40113/v1\n"
            "  faults  http://127.0.0.1:40113/squall/faults\n"
            "  metrics http://127.0.0.1:40113/metrics\n"
            "anthropic http://127.0.0.1:40114\n"
            "  faults  http://127.0.0.1:40114/squall/faults\n"
            "  metrics http://127.0.0.1:40114/metrics\n"
            "arm a fault window: curl -d '{\"for_s\": 30, \"errors\": {\"503\": 0.5}}' "
            "http://127.0.0.1:40113/squall/faults   (docs/fake-providers.md)\n");
}

TEST(ServeBanner, TheCurlExampleTrustsTheThrowawayCa) {
  std::vector<endpoint_info> e = two_providers();
  e[0].origin = "https://127.0.0.1:40113";
  std::ostringstream out;
  print_endpoints(out, e, "/tmp/squall-tls-x/ca.pem");
  EXPECT_NE(out.str().find("curl --cacert /tmp/squall-tls-x/ca.pem -d '"), std::string::npos) << out.str();
}

TEST(ServeBanner, ItsCurlExampleArmsAWindowOnARealServer) {
  // The printed command's body, sent where it says, is a window the control API takes.
  testing::running r({testing::openai_config()});
  std::ostringstream out;
  print_endpoints(out, r.server.endpoints(), "");
  const std::string text = out.str();
  const std::size_t open = text.find("-d '") + 4;
  const std::string body = text.substr(open, text.find('\'', open) - open);
  const std::size_t url = text.find("http://", open);
  const std::string target = text.substr(url, text.find(' ', url) - url);
  EXPECT_EQ(target, r.server.endpoints()[0].origin + "/squall/faults");
  testing::client c(r.port());
  const testing::reply armed = c.post("/squall/faults", body);
  EXPECT_EQ(armed.status, 201) << armed.body;
  EXPECT_EQ(armed.json()["errors"]["503"], 0.5);
}

}  // namespace
}  // namespace squall::fake
