// Serves a scenario's providers for the Node SDK tests (tests/fake_providers/sdk), as `squall serve`
// does, for at most two minutes.
#include <iostream>

#include "fake_providers/serve.hpp"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: serve_for_sdk_tests SCENARIO\n";
    return 2;
  }
  auto loaded = squall::sim::load_scenario(argv[1]);
  if (!loaded) {
    std::cerr << loaded.error().describe() << "\n";
    return 2;
  }
  squall::fake::serve_options o;
  o.for_s = 120;
  return squall::fake::serve(*loaded, o, std::cout, std::cerr);
}
