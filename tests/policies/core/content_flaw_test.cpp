#include "policies/core/content_flaw.hpp"

#include <gtest/gtest.h>

namespace squall {
namespace {

TEST(ContentFlaw, EachApisLengthLimitIsACut) {
  EXPECT_TRUE(cut_by_length("length"));      // OpenAI
  EXPECT_TRUE(cut_by_length("max_tokens"));  // Anthropic
  EXPECT_TRUE(cut_by_length("MAX_TOKENS"));  // Gemini
  EXPECT_FALSE(cut_by_length("stop"));
  EXPECT_FALSE(cut_by_length("end_turn"));
  EXPECT_FALSE(cut_by_length(""));
}

TEST(ContentFlaw, WhatAnAnswerShowsByItself) {
  EXPECT_EQ(evident_flaw("", "stop"), content_flaw::empty);
  EXPECT_EQ(evident_flaw(" \n\t", "end_turn"), content_flaw::empty);
  EXPECT_EQ(evident_flaw("the answer was cut", "length"), content_flaw::truncated);
  EXPECT_EQ(evident_flaw("", "length"), content_flaw::empty);  // nothing at all says more than a cut
  EXPECT_EQ(evident_flaw(R"({"answer": "unterminated)", "stop"), content_flaw::invalid_json);
  EXPECT_EQ(evident_flaw("  [1, 2,", "STOP"), content_flaw::invalid_json);
  EXPECT_EQ(evident_flaw(R"( {"answer": "whole"})", "stop"), content_flaw::none);
  EXPECT_EQ(evident_flaw("[1, 2]", "stop"), content_flaw::none);
  // Prose is no flaw, even prose that mentions braces: only the caller knows whether it wanted JSON.
  EXPECT_EQ(evident_flaw("Paris is the capital {of France", "stop"), content_flaw::none);
}

}  // namespace
}  // namespace squall
