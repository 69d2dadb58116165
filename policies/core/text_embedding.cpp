#include "policies/core/text_embedding.hpp"

#include <algorithm>
#include <cmath>

namespace squall {
namespace {

constexpr std::uint64_t fnv_basis = 0xcbf29ce484222325ULL;
constexpr std::uint64_t fnv_prime = 0x100000001b3ULL;

constexpr std::uint64_t fnv_step(std::uint64_t h, unsigned char byte) noexcept { return (h ^ byte) * fnv_prime; }

// FNV-1a spreads its low bits poorly (they depend only on the input's low bits), and the bucket is taken
// from the low bits: a fixed finaliser (MurmurHash3's fmix64) mixes every bit into every other first.
constexpr std::uint64_t finalise(std::uint64_t h) noexcept {
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdULL;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ULL;
  h ^= h >> 33;
  return h;
}

// Prefix bytes that keep the word "abc" and the trigram "abc" in different features.
constexpr unsigned char word_prefix = 'w';
constexpr unsigned char trigram_prefix = '3';

// The normalised form of one byte: a lower-case letter or digit, a byte >= 0x80 as it is, or 0 for a
// separator.
constexpr unsigned char normalise_byte(unsigned char c) noexcept {
  if (c >= 'A' && c <= 'Z') return static_cast<unsigned char>(c - 'A' + 'a');
  if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c >= 0x80) return c;
  return 0;
}

class feature_sink {
 public:
  explicit feature_sink(text_embedding& out) noexcept : out_(out) {}

  void add(std::uint64_t fnv_hash) noexcept {
    const std::uint64_t h = finalise(fnv_hash);
    const std::size_t bucket = static_cast<std::size_t>(h & (text_embedding_dimension - 1));
    counts_[bucket] += (h >> 63) != 0 ? -1 : 1;
  }

  // Appends one byte of the normalised stream and adds the trigram it closes.
  void push(unsigned char c) noexcept {
    window_[0] = window_[1];
    window_[1] = window_[2];
    window_[2] = c;
    if (++pushed_ < 3) return;
    std::uint64_t h = fnv_step(fnv_basis, trigram_prefix);
    for (unsigned char b : window_) h = fnv_step(h, b);
    add(h);
  }

  void finish() noexcept {
    std::int64_t sum = 0;
    for (std::size_t i = 0; i < text_embedding_dimension; ++i) {
      const std::int32_t v = std::clamp(counts_[i], -text_embedding_count_max, text_embedding_count_max);
      out_.counts[i] = static_cast<std::int16_t>(v);
      sum += std::int64_t{v} * v;
    }
    out_.norm_sq = sum;
  }

 private:
  static_assert((text_embedding_dimension & (text_embedding_dimension - 1)) == 0, "a power of two: buckets by mask");
  text_embedding& out_;
  std::array<std::int32_t, text_embedding_dimension> counts_{};  // exact while the text is read
  std::array<unsigned char, 3> window_{};
  std::size_t pushed_ = 0;
};

}  // namespace

std::string normalise_text(std::string_view text) {
  std::string out;
  bool pending_space = false;
  for (const char raw : text.substr(0, std::min(text.size(), text_embedding_bytes_max))) {
    const unsigned char c = normalise_byte(static_cast<unsigned char>(raw));
    if (c == 0) {
      pending_space = !out.empty();
      continue;
    }
    if (pending_space) out += ' ';
    pending_space = false;
    out += static_cast<char>(c);
  }
  return out;
}

void embed_text(std::string_view text, text_embedding& out) noexcept {
  feature_sink sink(out);
  text = text.substr(0, std::min(text.size(), text_embedding_bytes_max));
  bool in_word = false;
  std::uint64_t word = 0;
  sink.push(' ');
  for (const char raw : text) {
    const unsigned char c = normalise_byte(static_cast<unsigned char>(raw));
    if (c == 0) {
      if (in_word) {
        sink.add(word);
        sink.push(' ');
        in_word = false;
      }
      continue;
    }
    if (!in_word) {
      word = fnv_step(fnv_basis, word_prefix);
      in_word = true;
    }
    word = fnv_step(word, c);
    sink.push(c);
  }
  if (in_word) {
    sink.add(word);
    sink.push(' ');
  }
  sink.finish();
}

text_embedding embed_text(std::string_view text) noexcept {
  text_embedding e;
  embed_text(text, e);
  return e;
}

double cosine_similarity(const text_embedding& a, const text_embedding& b) noexcept {
  if (a.empty() || b.empty()) return 0.0;
  // Counts are at most text_embedding_count_max in magnitude, so the whole dot product fits in 32 bits
  // (512 x 2047^2 < 2^31), a sum compilers turn into a few vector multiply-adds.
  std::int32_t dot = 0;
  for (std::size_t i = 0; i < text_embedding_dimension; ++i) dot += std::int32_t{a.counts[i]} * b.counts[i];
  // Equal vectors (Cauchy-Schwarz holds with equality only then): exactly 1, whatever the rounding below.
  if (dot == a.norm_sq && dot == b.norm_sq) return 1.0;
  const double similarity =
      static_cast<double>(dot) / std::sqrt(static_cast<double>(a.norm_sq) * static_cast<double>(b.norm_sq));
  return std::clamp(similarity, -1.0, 1.0);
}

}  // namespace squall
