// The two request-body readers: wherever the plain (SAX) reader answers, its answer is the tree reader's;
// it answers the bodies clients really send; and it declines whatever the tree reads as an error or
// reads differently (a duplicate key keeps its last value in the tree).
#include "fake_providers/request_body.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "policies/core/rng.hpp"

namespace squall::fake {
namespace {

std::string describe(const parsed_request& r) {
  return "model=" + r.model + " in=" + std::to_string(r.input_tokens) +
         " max=" + (r.max_tokens ? std::to_string(*r.max_tokens) : std::string("none")) +
         " stream=" + std::to_string(r.stream) + " usage=" + std::to_string(r.include_usage);
}

// Reads `body` both ways; fails when the plain reader answers differently from the tree.
bool read_plainly_and_agree(api_style api, request_kind kind, const std::string& body, parsed_request* got = nullptr) {
  const request_limits limits;
  parsed_request plain;
  parsed_request tree;
  const bool answered = read_plain_request_body(api, kind, body, limits, plain);
  const auto error = read_request_body_tree(api, kind, body, limits, tree);
  if (answered) {
    EXPECT_FALSE(error) << "the plain reader took a body the tree reads as an error (" << error->message
                        << "): " << body;
    EXPECT_EQ(plain, tree) << "plain " << describe(plain) << " vs tree " << describe(tree) << ": " << body;
  }
  if (got) *got = plain;
  return answered;
}

TEST(RequestBody, ThePlainReaderAnswersTheBodiesClientsSend) {
  parsed_request r;
  // wrk's body in bench/live/run.sh.
  ASSERT_TRUE(read_plainly_and_agree(
      api_style::openai, request_kind::chat,
      R"({"model":"gpt-4o-mini","max_tokens":20,"messages":[{"role":"user","content":"w1 w2 w3 w4"}]})", &r));
  EXPECT_EQ(r.model, "gpt-4o-mini");
  EXPECT_EQ(r.input_tokens, 4U);
  EXPECT_EQ(r.max_tokens, 20U);

  // The openai SDK, streaming with usage, other fields and content parts.
  ASSERT_TRUE(read_plainly_and_agree(api_style::openai, request_kind::chat, R"({
      "messages": [{"role": "system", "content": "be brief"},
                   {"role": "user", "content": [{"type": "text", "text": "one two"},
                                                {"type": "image_url", "image_url": {"url": "data:x y z"}}]}],
      "model": "gpt-4o", "temperature": 0.2, "stream": true, "stream_options": {"include_usage": true},
      "max_completion_tokens": 64, "max_tokens": null, "n": 1, "tools": [{"type": "function"}], "user": "u 1"})",
                                     &r));
  EXPECT_EQ(r.input_tokens, 4U);
  EXPECT_EQ(r.max_tokens, 64U);
  EXPECT_TRUE(r.stream);
  EXPECT_TRUE(r.include_usage);

  // The anthropic SDK, with a system prompt as text blocks.
  ASSERT_TRUE(read_plainly_and_agree(api_style::anthropic, request_kind::messages, R"({
      "model": "claude-sonnet-4", "max_tokens": 300, "stream": false,
      "system": [{"type": "text", "text": "you are terse", "cache_control": {"type": "ephemeral"}}],
      "messages": [{"role": "user", "content": [{"type": "text", "text": "a b c"}]},
                   {"role": "assistant", "content": "d"}], "metadata": {"user_id": "x"}})",
                                     &r));
  EXPECT_EQ(r.input_tokens, 7U);
  EXPECT_EQ(r.max_tokens, 300U);
}

TEST(RequestBody, ThePlainReaderDeclinesErrorsDuplicatesAndOddTypes) {
  const std::vector<std::string> chat_bodies = {
      "",
      "not json",
      "1",
      "null",
      R"([{"model":"m"}])",
      R"({"messages":[{"role":"user","content":"a"}]})",                               // no model
      R"({"model":"","messages":[{"role":"user","content":"a"}]})",                    // empty model
      R"({"model":3,"messages":[{"role":"user","content":"a"}]})",                     // model not a string
      R"({"model":"m"})",                                                              // no messages
      R"({"model":"m","messages":[]})",                                                // empty messages
      R"({"model":"m","messages":{"role":"user"}})",                                   // messages not a list
      R"({"model":"m","messages":["hi"]})",                                            // a message not an object
      R"({"model":"m","messages":[{"content":"a"}]})",                                 // no role
      R"({"model":"m","messages":[{"role":7,"content":"a"}]})",                        // role not a string
      R"({"model":"m","messages":[{"role":"user","content":"a"}],"stream":"yes"})",    // stream not a boolean
      R"({"model":"m","messages":[{"role":"user","content":"a"}],"max_tokens":0})",    // below 1
      R"({"model":"m","messages":[{"role":"user","content":"a"}],"max_tokens":-4})",
      R"({"model":"m","messages":[{"role":"user","content":"a"}],"max_tokens":2.5})",
      R"({"model":"m","messages":[{"role":"user","content":"a"}],"max_tokens":128001})",  // over the limit
      R"({"model":"m","messages":[{"role":"user","content":"a"}],"n":2})",
      R"({"model":"m","messages":[{"role":"user","content":"a"}],"stream_options":{"include_usage":true}})",
      R"({"model":"m","messages":[{"role":"user","content":"a"}],"stream_options":[1]})",
      // Duplicates: the tree keeps the last one, so the plain reader leaves them to it.
      R"({"model":"a","model":"b","messages":[{"role":"user","content":"a"}]})",
      R"({"model":"m","messages":[{"role":"user","content":"a b","content":"c"}]})",
      R"({"model":"m","messages":[{"role":"user","text":"a b","text":["c"]}]})",
      R"({"model":"m","messages":[{"role":"user","role":"assistant","content":"a"}]})",
      R"({"model":"m","stream":true,"messages":[{"role":"user","content":"a"}],)"
      R"("stream_options":{"include_usage":true,"include_usage":1}})",
  };
  for (const std::string& body : chat_bodies) {
    EXPECT_FALSE(read_plainly_and_agree(api_style::openai, request_kind::chat, body)) << body;
  }
  // Anthropic requires max_tokens; embeddings always go to the tree.
  EXPECT_FALSE(read_plainly_and_agree(api_style::anthropic, request_kind::messages,
                                      R"({"model":"m","messages":[{"role":"user","content":"a"}]})"));
  EXPECT_FALSE(read_plainly_and_agree(api_style::openai, request_kind::embeddings,
                                      R"({"model":"text-embedding-3-small","input":"a b"})"));
}

// Random bodies: mostly request-shaped, with the keys the readers look at, values of every type, nesting
// and duplicate keys (written as text, since a JSON object in memory cannot hold a key twice).
class body_maker {
 public:
  explicit body_maker(std::uint64_t seed) : r_(seed) {}

  std::string request() {
    std::vector<std::string> members;
    if (chance(0.95)) members.push_back(R"("model":)" + (chance(0.9) ? std::string(R"("gpt-4o-mini")") : value(1)));
    if (chance(0.95)) members.push_back(R"("messages":)" + (chance(0.9) ? messages() : value(1)));
    const char* optional_keys[] = {"stream", "max_tokens", "max_completion_tokens", "n", "stream_options",
                                   "system", "temperature", "input", "metadata"};
    for (const char* k : optional_keys) {
      if (chance(0.3)) members.push_back(quoted(k) + ":" + (std::string(k) == "stream_options" && chance(0.6)
                                                                ? stream_options()
                                                                : typical(k)));
    }
    if (chance(0.1) && !members.empty()) members.push_back(members[r_.below(members.size())]);  // a duplicate
    shuffle(members);
    return "{" + join(members) + "}";
  }

 private:
  bool chance(double p) { return r_.uniform() < p; }
  static std::string quoted(const std::string& s) { return "\"" + s + "\""; }
  static std::string join(const std::vector<std::string>& parts) {
    std::string out;
    for (std::size_t i = 0; i < parts.size(); ++i) out += (i ? "," : "") + parts[i];
    return out;
  }
  void shuffle(std::vector<std::string>& v) {
    for (std::size_t i = v.size(); i > 1; --i) std::swap(v[i - 1], v[r_.below(i)]);
  }
  std::string words() {
    const char* pool[] = {"", "a", "b c", " d  e ", "f\\ng\\th", "x y z w", "\\u00e9t\\u00e9 ok"};
    return quoted(pool[r_.below(std::size(pool))]);
  }
  std::string typical(const std::string& key) {
    if (key == "stream") return chance(0.8) ? (chance(0.5) ? "true" : "false") : value(1);
    if (key == "max_tokens" || key == "max_completion_tokens" || key == "n") {
      const char* pool[] = {"1", "20", "128000", "null", "0", "-3", "2.0", "128001", "18446744073709551615"};
      return chance(0.8) ? pool[r_.below(4)] : pool[r_.below(std::size(pool))];
    }
    if (key == "system") return chance(0.5) ? words() : value(2);
    return value(2);
  }
  std::string stream_options() {
    std::vector<std::string> members;
    if (chance(0.8)) members.push_back(R"("include_usage":)" + (chance(0.8) ? std::string("true") : value(1)));
    if (chance(0.3)) members.push_back(R"("other":)" + value(1));
    if (chance(0.1) && !members.empty()) members.push_back(members[0]);
    return "{" + join(members) + "}";
  }
  std::string messages() {
    std::vector<std::string> items;
    const std::uint64_t n = chance(0.95) ? 1 + r_.below(3) : 0;
    for (std::uint64_t i = 0; i < n; ++i) items.push_back(chance(0.95) ? message() : value(1));
    return "[" + join(items) + "]";
  }
  std::string message() {
    std::vector<std::string> members;
    if (chance(0.9)) members.push_back(R"("role":)" + (chance(0.9) ? std::string(R"("user")") : value(1)));
    if (chance(0.9)) members.push_back(R"("content":)" + content(2));
    if (chance(0.2)) members.push_back(R"("text":)" + (chance(0.5) ? words() : value(1)));
    if (chance(0.2)) members.push_back(R"("name":)" + value(1));
    if (chance(0.08) && !members.empty()) members.push_back(members[r_.below(members.size())]);
    shuffle(members);
    return "{" + join(members) + "}";
  }
  std::string content(int depth) {
    if (depth == 0 || chance(0.5)) return chance(0.8) ? words() : value(0);
    std::vector<std::string> parts;
    const std::uint64_t n = r_.below(4);
    for (std::uint64_t i = 0; i < n; ++i) {
      if (chance(0.7)) {
        std::vector<std::string> members = {R"("type":"text")", R"("text":)" + (chance(0.85) ? words() : value(1))};
        if (chance(0.2)) members.push_back(R"("content":)" + content(depth - 1));
        if (chance(0.05)) members.push_back(members[1]);
        parts.push_back("{" + join(members) + "}");
      } else {
        parts.push_back(content(depth - 1));
      }
    }
    return "[" + join(parts) + "]";
  }
  // Any value: scalars of each type, or containers with the readers' keys.
  std::string value(int depth) {
    switch (r_.below(depth > 0 ? 9 : 7)) {
      case 0: return "null";
      case 1: return chance(0.5) ? "true" : "false";
      case 2: return "1";
      case 3: return "-7";
      case 4: return "0.5";
      case 5: return words();
      case 6: return "12345678901234567890";
      case 7: {
        std::vector<std::string> items;
        for (std::uint64_t i = r_.below(3); i > 0; --i) items.push_back(value(depth - 1));
        return "[" + join(items) + "]";
      }
      default: {
        const char* keys[] = {"content", "text", "role", "type", "model", "include_usage", "x"};
        std::vector<std::string> members;
        for (std::uint64_t i = r_.below(3); i > 0; --i) {
          members.push_back(quoted(keys[r_.below(std::size(keys))]) + ":" + value(depth - 1));
        }
        return "{" + join(members) + "}";
      }
    }
  }

  rng r_;
};

TEST(RequestBody, OnRandomBodiesThePlainReaderAgreesWithTheTreeWhereverItAnswers) {
  body_maker make(20261124);
  int answered = 0;
  int valid = 0;
  constexpr int bodies = 20'000;
  for (int i = 0; i < bodies; ++i) {
    const std::string body = make.request();
    for (const auto& [api, kind] : {std::pair{api_style::openai, request_kind::chat},
                                    std::pair{api_style::anthropic, request_kind::messages}}) {
      answered += read_plainly_and_agree(api, kind, body) ? 1 : 0;
      parsed_request ignored;
      valid += read_request_body_tree(api, kind, body, request_limits{}, ignored) ? 0 : 1;
    }
    if (HasFailure()) return;
  }
  // The comparison means something only if the plain reader answers a good share, and most valid bodies.
  EXPECT_GT(answered, bodies / 5) << answered << " answered of " << 2 * bodies;
  EXPECT_GT(answered, valid * 7 / 10) << answered << " answered, " << valid << " valid";
}

}  // namespace
}  // namespace squall::fake
