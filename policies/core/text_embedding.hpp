#pragma once
// A deterministic text embedding for the semantic cache: feature hashing of words and character
// trigrams into a fixed number of buckets, compared by cosine similarity. No model, no data files, no
// randomness: the same text gives the same embedding on every run, compiler and platform.
//
// The text is first normalised: ASCII letters are lower-cased, every run of other ASCII characters
// (whitespace, punctuation, symbols, control characters) becomes one space, and the result is framed by
// one space on each side. Bytes from 0x80 up (UTF-8 sequences) are kept as letters. So prompts that differ
// only in case, spacing or punctuation normalise to the same text and have similarity exactly 1.
//
// Features of the normalised text " w1 w2 ... wn ":
//  - every word wi (weight 1), and
//  - every window of three consecutive bytes, spaces included (weight 1): " w1", "w1 ", ...
// Each feature is hashed with 64-bit FNV-1a (with a prefix byte that keeps words and trigrams apart) and a
// fixed finaliser; the low bits pick one of text_embedding_dimension buckets, the top bit a sign (+1 or
// -1), so that colliding features cancel on average instead of adding up (the signed hashing trick).
//
// The vector is kept as integer counts with its squared L2 norm, and cosine_similarity() divides the
// integer dot product by the two norms: the same number as the dot product of the L2-normalised vectors,
// but computed without any floating-point sum whose order or fused multiply-adds could differ between
// builds. Only the final square root and division are floating point (both correctly rounded).
//
// Counts are clamped to +-text_embedding_count_max (reached only by a feature repeated thousands of times
// in a long text), so that one embedding takes 1 KiB and a whole dot product fits in 32 bits: comparing a
// prompt with a thousand stored ones is then a few vector instructions per pair. Only the first
// text_embedding_bytes_max bytes are read, which bounds the time an embedding takes.

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace squall {

inline constexpr std::size_t text_embedding_dimension = 512;
inline constexpr std::size_t text_embedding_bytes_max = std::size_t{1} << 20;
inline constexpr std::int32_t text_embedding_count_max = 2047;
static_assert(text_embedding_dimension * text_embedding_count_max * text_embedding_count_max < (1ULL << 31),
              "a dot product must fit in 32 bits");

struct text_embedding {
  std::array<std::int16_t, text_embedding_dimension> counts{};  // signed feature counts per bucket, clamped
  std::int64_t norm_sq = 0;                                     // sum of counts squared

  // A text without a single letter or digit has no features: similar to nothing.
  bool empty() const noexcept { return norm_sq == 0; }
};

// The normalised text the features are taken from, without the framing spaces ("Hello,  World!" ->
// "hello world"). The embedding does not build it (it normalises on the fly); it is here to document and
// test what counts as the same text.
std::string normalise_text(std::string_view text);

// Embeds `text` into `out`, overwriting it. Allocates nothing.
void embed_text(std::string_view text, text_embedding& out) noexcept;
text_embedding embed_text(std::string_view text) noexcept;

// The cosine of the angle between `a` and `b`, from -1 to 1; 0 when either is empty.
double cosine_similarity(const text_embedding& a, const text_embedding& b) noexcept;

}  // namespace squall
