// The deterministic text embedding: what normalisation forgives, how similar near-duplicates and unrelated
// prompts come out, and that the numbers are pinned (the same on every run and platform).

#include "policies/core/text_embedding.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <string>

#include <gtest/gtest.h>

namespace squall {
namespace {

constexpr const char* ticket =
    "Summarise the following customer support ticket in three short bullet points and suggest a polite reply "
    "to the customer about their delayed refund.";

double similarity(std::string_view a, std::string_view b) { return cosine_similarity(embed_text(a), embed_text(b)); }

// A checksum of the counts, to pin the whole vector in one number.
std::uint64_t checksum(const text_embedding& e) {
  std::uint64_t h = 0xcbf29ce484222325ULL;
  for (const std::int32_t v : e.counts) {
    h ^= static_cast<std::uint32_t>(v);
    h *= 0x100000001b3ULL;
  }
  return h;
}

TEST(text_embedding, normalisation_lowercases_and_collapses_separators) {
  EXPECT_EQ(normalise_text("  Hello,\tWORLD!!  How are\nyou? "), "hello world how are you");
  EXPECT_EQ(normalise_text("gpt-4o_mini"), "gpt 4o mini");
  EXPECT_EQ(normalise_text("caf\xc3\xa9 au lait"), "caf\xc3\xa9 au lait") << "UTF-8 bytes are kept as letters";
  EXPECT_EQ(normalise_text("?!... --"), "");
  EXPECT_EQ(normalise_text(""), "");
}

TEST(text_embedding, case_whitespace_and_punctuation_changes_are_the_same_text) {
  const std::string variants[] = {
      "summarise the following customer support ticket in three short bullet points and suggest a polite reply "
      "to the customer about their delayed refund",
      "SUMMARISE the following customer-support ticket, in three short bullet points; and suggest a polite "
      "reply to the customer about their delayed refund!!!",
      "  Summarise   the following customer support ticket in three short bullet points\n\nand suggest a "
      "polite reply to the customer about their delayed refund.  ",
  };
  for (const auto& v : variants) EXPECT_EQ(similarity(ticket, v), 1.0) << v;
}

TEST(text_embedding, one_changed_word_stays_above_0_9_and_unrelated_prompts_fall_far_below) {
  const double refund_to_order = similarity(
      ticket, "Summarise the following customer support ticket in three short bullet points and suggest a polite "
              "reply to the customer about their delayed order.");
  const double three_to_five = similarity(
      ticket, "Summarise the following customer support ticket in five short bullet points and suggest a polite "
              "reply to the customer about their delayed refund.");
  EXPECT_GT(refund_to_order, 0.9);
  EXPECT_LT(refund_to_order, 1.0);
  EXPECT_GT(three_to_five, 0.9);
  EXPECT_LT(three_to_five, 1.0);
  EXPECT_LT(similarity(ticket, "Write a haiku about autumn leaves falling on a quiet mountain lake at dawn."), 0.3);
  EXPECT_LT(similarity(ticket, "Translate the attached quarterly financial report from German into English, "
                               "keeping all tables intact."),
            0.3);
  // Short prompts carry fewer features, so one word weighs more: "France" and "Spain" differ in meaning.
  EXPECT_LT(similarity("What is the capital of France?", "What is the capital of Spain?"), 0.9);
}

TEST(text_embedding, similarity_is_symmetric_and_bounded) {
  const char* texts[] = {ticket, "hello world", "world hello", "a", "zzz zzz zzz", "capital of France"};
  for (const char* a : texts) {
    for (const char* b : texts) {
      const double ab = similarity(a, b);
      EXPECT_EQ(ab, similarity(b, a)) << a << " | " << b;
      EXPECT_GE(ab, -1.0);
      EXPECT_LE(ab, 1.0);
    }
    EXPECT_EQ(similarity(a, a), 1.0) << a;
  }
  EXPECT_LT(similarity("hello world", "world hello"), 1.0) << "word order shows in the trigrams across words";
  EXPECT_GT(similarity("hello world", "world hello"), 0.5);
}

TEST(text_embedding, text_without_letters_or_digits_is_similar_to_nothing) {
  const text_embedding none = embed_text("?? -- !!");
  EXPECT_TRUE(none.empty());
  EXPECT_TRUE(embed_text("").empty());
  EXPECT_EQ(cosine_similarity(none, none), 0.0);
  EXPECT_EQ(cosine_similarity(none, embed_text(ticket)), 0.0);
  EXPECT_FALSE(embed_text("a").empty());
}

TEST(text_embedding, only_the_first_bytes_max_bytes_are_read) {
  std::string long_text;
  while (long_text.size() < text_embedding_bytes_max) long_text += "lorem ipsum dolor sit amet ";
  long_text.resize(text_embedding_bytes_max);
  const text_embedding head = embed_text(long_text);
  EXPECT_EQ(checksum(embed_text(long_text + " and a different tail entirely")), checksum(head));
  EXPECT_GT(head.norm_sq, 0);
}

TEST(text_embedding, counts_saturate_instead_of_overflowing) {
  std::string ten_thousand;
  std::string twenty_thousand;
  for (int i = 0; i < 10000; ++i) ten_thousand += "aaa ";
  for (int i = 0; i < 20000; ++i) twenty_thousand += "aaa ";
  const text_embedding a = embed_text(ten_thousand);
  const text_embedding b = embed_text(twenty_thousand);
  int largest = 0;
  for (const std::int16_t v : a.counts) largest = std::max(largest, std::abs(int{v}));
  EXPECT_EQ(largest, text_embedding_count_max);
  EXPECT_EQ(a.counts, b.counts) << "both saturated";
  EXPECT_EQ(cosine_similarity(a, b), 1.0);
  EXPECT_LT(cosine_similarity(a, embed_text("aaa")), 1.0);
}

// Pinned numbers: a change of hash, normalisation, features or bucket count changes them, and so would a
// platform or build that computed them differently. Update them only with a deliberate format change,
// since stored embeddings and thresholds in users' policy files depend on them.
TEST(text_embedding, the_numbers_are_pinned) {
  const text_embedding e = embed_text(ticket);
  EXPECT_EQ(e.norm_sq, 229);
  EXPECT_EQ(checksum(e), 2357869855903947772ULL);
  EXPECT_EQ(similarity(ticket, "Summarise the following customer support ticket in three short bullet points and "
                               "suggest a polite reply to the customer about their delayed order."),
            0.96717955839078984);
}

TEST(text_embedding, embedding_twice_gives_the_same_bytes) {
  text_embedding a = embed_text("first some other text");
  embed_text(ticket, a);  // overwrites everything
  const text_embedding b = embed_text(ticket);
  EXPECT_EQ(a.counts, b.counts);
  EXPECT_EQ(a.norm_sq, b.norm_sq);
}

}  // namespace
}  // namespace squall
