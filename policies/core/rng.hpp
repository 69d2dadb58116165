#pragma once
// Randomness as the policies and the simulation see it: a small, fast, seedable generator
// (xoshiro256**, seeded through splitmix64). Nobody constructs one from a global or from the
// machine: seeds come from the run's root seed (simulation) or from the real-clock adapter.

#include <bit>
#include <cmath>
#include <cstdint>
#include <string_view>

namespace squall {

__extension__ using uint128_t = unsigned __int128;

constexpr std::uint64_t splitmix64(std::uint64_t& state) noexcept {
  std::uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

// Mixes several words into one well-spread word; used to derive per-stream and per-event seeds.
constexpr std::uint64_t mix_seed(std::uint64_t a, std::uint64_t b) noexcept {
  std::uint64_t s = a ^ (b * 0xd1342543de82ef95ULL);
  splitmix64(s);
  return splitmix64(s);
}

// FNV-1a: a stable hash of a stream name, the same on every platform and build.
constexpr std::uint64_t hash_name(std::string_view name) noexcept {
  std::uint64_t h = 0xcbf29ce484222325ULL;
  for (char c : name) {
    h ^= static_cast<unsigned char>(c);
    h *= 0x100000001b3ULL;
  }
  return h;
}

// Seed of the stream called `name` under `root`: adding a stream never changes another stream's draws.
constexpr std::uint64_t stream_seed(std::uint64_t root, std::string_view name) noexcept {
  return mix_seed(root, hash_name(name));
}

class rng {
 public:
  explicit rng(std::uint64_t seed = 0) noexcept { reseed(seed); }

  void reseed(std::uint64_t seed) noexcept {
    std::uint64_t s = seed;
    for (auto& word : state_) word = splitmix64(s);
  }

  std::uint64_t next() noexcept {
    const std::uint64_t result = std::rotl(state_[1] * 5, 7) * 9;
    const std::uint64_t t = state_[1] << 17;
    state_[2] ^= state_[0];
    state_[3] ^= state_[1];
    state_[1] ^= state_[2];
    state_[0] ^= state_[3];
    state_[2] ^= t;
    state_[3] = std::rotl(state_[3], 45);
    return result;
  }

  // Uniform in [0, 1) with 53 random bits.
  double uniform() noexcept { return static_cast<double>(next() >> 11) * 0x1.0p-53; }
  double uniform(double lo, double hi) noexcept { return lo + (hi - lo) * uniform(); }
  // Uniform in (0, 1]: safe to take the logarithm of.
  double uniform_open0() noexcept { return 1.0 - uniform(); }
  double exponential(double mean) noexcept { return -mean * std::log(uniform_open0()); }
  // Standard normal by Box-Muller; one draw per call keeps streams simple to reason about.
  double normal() noexcept {
    const double u1 = uniform_open0();
    const double u2 = uniform();
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
  }
  // Uniform integer in [0, n), n > 0 (Lemire's multiply-shift; negligible bias for n << 2^64).
  std::uint64_t below(std::uint64_t n) noexcept {
    return static_cast<std::uint64_t>((static_cast<uint128_t>(next()) * n) >> 64);
  }

 private:
  std::uint64_t state_[4]{};
};

}  // namespace squall
