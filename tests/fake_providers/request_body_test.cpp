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
      "max_completion_tokens": 64, "max_tokens": null, "n": 1, "user": "u 1"})",
                                     &r));
  EXPECT_EQ(r.input_tokens, 4U);
  EXPECT_EQ(r.max_tokens, 64U);
  EXPECT_TRUE(r.stream);
  EXPECT_TRUE(r.include_usage);
  // What shapes the content (tools, tool_choice, response_format) is kept as a tree: the tree reader's.
  EXPECT_FALSE(read_plainly_and_agree(api_style::openai, request_kind::chat,
                                      R"({"model":"m","messages":[{"role":"user","content":"x"}],
                                          "tools":[{"type":"function","function":{"name":"f"}}]})"));
  EXPECT_TRUE(read_plainly_and_agree(api_style::openai, request_kind::chat,
                                     R"({"model":"m","messages":[{"role":"user","content":"x"}],"tools":null})"));
  // A conversation whose last turn is a tool's result: the content generator then answers in words.
  ASSERT_TRUE(read_plainly_and_agree(api_style::openai, request_kind::chat,
                                     R"({"model":"m","messages":[{"role":"user","content":"x"},
                                         {"role":"tool","tool_call_id":"c","content":"sunny"}]})",
                                     &r));
  EXPECT_TRUE(r.shape.last_turn_is_tool_result);
  ASSERT_TRUE(read_plainly_and_agree(api_style::openai, request_kind::chat,
                                     R"({"model":"m","messages":[{"role":"tool","content":"x"},
                                         {"role":"user","content":"y"}]})",
                                     &r));
  EXPECT_FALSE(r.shape.last_turn_is_tool_result);

  // The anthropic SDK, with a system prompt as text blocks.
  ASSERT_TRUE(read_plainly_and_agree(api_style::anthropic, request_kind::messages, R"({
      "model": "claude-sonnet-4", "max_tokens": 300, "stream": false,
      "system": [{"type": "text", "text": "you are terse", "cache_control": {"type": "ephemeral"}}],
      "messages": [{"role": "user", "content": [{"type": "text", "text": "a b c"}]},
                   {"role": "assistant", "content": "d"}], "metadata": {"user_id": "x"}})",
                                     &r));
  EXPECT_EQ(r.input_tokens, 7U);
  EXPECT_EQ(r.max_tokens, 300U);
  // Anthropic's tools and tool_choice are the tree reader's too; a tool-less body's last turn is never a
  // tool result (only a request offering tools reads it), whatever its role says.
  EXPECT_FALSE(read_plainly_and_agree(api_style::anthropic, request_kind::messages,
                                      R"({"model":"m","max_tokens":5,"messages":[{"role":"user","content":"x"}],
                                          "tools":[{"name":"f","input_schema":{"type":"object"}}]})"));
  ASSERT_TRUE(read_plainly_and_agree(api_style::anthropic, request_kind::messages,
                                     R"({"model":"m","max_tokens":5,"messages":[{"role":"tool","content":"x"}]})", &r));
  EXPECT_FALSE(r.shape.last_turn_is_tool_result);
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

// Issue 13: a chat message content nested 100,000 deep overflowed the stack (the tree was built and
// walked recursively). Both readers refuse it while parsing, and the answer is a 400 that says why.
std::string nested(std::size_t depth, const std::string& inside = "\"x\"") {
  return std::string(depth, '[') + inside + std::string(depth, ']');
}

TEST(RequestBody, JsonNestedTooDeepIsA400NotAStackOverflow) {
  const request_limits limits;
  for (const std::size_t depth : {std::size_t{65}, std::size_t{100'000}}) {
    SCOPED_TRACE(depth);
    const std::string chat_body = R"({"model":"gpt-4o-mini","messages":[{"role":"user","content":)" + nested(depth) + "}]}";
    parsed_request out;
    EXPECT_FALSE(read_plain_request_body(api_style::openai, request_kind::chat, chat_body, limits, out));
    const auto e = read_request_body(api_style::openai, request_kind::chat, chat_body, limits, out);
    ASSERT_TRUE(e);
    EXPECT_EQ(e->status, 400);
    EXPECT_EQ(default_error_type(api_style::openai, e->status), "invalid_request_error");
    EXPECT_NE(e->message.find("We could not parse the JSON body"), std::string::npos) << e->message;
    EXPECT_NE(e->message.find("nested more than 64 deep"), std::string::npos) << e->message;
    EXPECT_NE(e->message.find("$.messages[0].content"), std::string::npos) << e->message;

    const std::string message_body =
        R"({"model":"claude-sonnet-4","max_tokens":5,"system":)" + nested(depth) + R"(,"messages":[{"role":"user","content":"a"}]})";
    const auto a = read_request_body(api_style::anthropic, request_kind::messages, message_body, limits, out);
    ASSERT_TRUE(a);
    EXPECT_EQ(a->status, 400);
    EXPECT_NE(a->message.find("nested more than 64 deep"), std::string::npos) << a->message;

    const std::string embed_body = R"({"model":"text-embedding-3-small","input":)" + nested(depth) + "}";
    const auto m = read_request_body(api_style::openai, request_kind::embeddings, embed_body, limits, out);
    ASSERT_TRUE(m);
    EXPECT_EQ(m->status, 400);
  }
}

TEST(RequestBody, BothReadersTakeDepthUpToTheLimitAndNoMore) {
  // The plain reader's parser has the tree's depth, so it never answers a body the tree refuses, even
  // where the deep part is a field it skips.
  for (const std::size_t depth : {json_depth_max - 1, json_depth_max, json_depth_max + 1}) {
    SCOPED_TRACE(depth);
    // The top object is one level; "metadata" holds the other depth - 1.
    const std::string body = R"({"model":"gpt-4o-mini","metadata":)" + nested(depth - 1, "1") +
                             R"(,"messages":[{"role":"user","content":"a b"}],"max_tokens":3})";
    parsed_request out;
    const bool plain = read_plain_request_body(api_style::openai, request_kind::chat, body, request_limits{}, out);
    const auto tree = read_request_body_tree(api_style::openai, request_kind::chat, body, request_limits{}, out);
    if (depth <= json_depth_max) {
      EXPECT_TRUE(plain);
      EXPECT_FALSE(tree) << tree->message;
    } else {
      EXPECT_FALSE(plain);
      ASSERT_TRUE(tree);
      EXPECT_NE(tree->message.find("$.metadata"), std::string::npos) << tree->message;
    }
  }
}

TEST(RequestBody, RepeatedKeysAndInvalidUtf8AreA400NamingThePlace) {
  parsed_request out;
  const auto twice = read_request_body(
      api_style::anthropic, request_kind::messages,
      R"({"model":"claude-sonnet-4","max_tokens":5,"messages":[{"role":"user","content":"a","content":"b c"}]})",
      request_limits{}, out);
  ASSERT_TRUE(twice);
  EXPECT_EQ(twice->status, 400);
  EXPECT_NE(twice->message.find("$.messages[0].content"), std::string::npos) << twice->message;
  EXPECT_NE(twice->message.find("twice"), std::string::npos) << twice->message;

  const auto bad_utf8 = read_request_body(api_style::openai, request_kind::chat,
                                          "{\"model\":\"gpt-4o-mini\",\"messages\":[{\"role\":\"user\",\"content\":\"\xC3\"}]}",
                                          request_limits{}, out);
  ASSERT_TRUE(bad_utf8);
  EXPECT_EQ(bad_utf8->status, 400);
  EXPECT_NE(bad_utf8->message.find("line 1, column"), std::string::npos) << bad_utf8->message;
  // The message is safe to put in a JSON answer: it dumps without throwing.
  EXPECT_NO_THROW((void)error_body(api_style::openai, *bad_utf8, ""));
}

TEST(RequestBody, MoreEmbeddingInputsThanOpenAIsLimitGetItsWords) {
  std::string inputs;
  for (int i = 0; i < 2049; ++i) inputs += (i ? ",\"w\"" : "\"w\"");
  parsed_request out;
  const auto e = read_request_body(api_style::openai, request_kind::embeddings,
                                   R"({"model":"text-embedding-3-small","input":[)" + inputs + "]}", request_limits{}, out);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->status, 400);
  EXPECT_EQ(e->message,
            "Invalid 'input': array too long. Expected an array with maximum length 2048, but got an array with length "
            "2049 instead.");
  EXPECT_EQ(e->param, "input");
  EXPECT_EQ(e->code, "array_above_max_length");
  // 2,048 is fine.
  inputs.resize(inputs.size() - 4);
  EXPECT_FALSE(read_request_body(api_style::openai, request_kind::embeddings,
                                 R"({"model":"text-embedding-3-small","input":[)" + inputs + "]}", request_limits{}, out));
  EXPECT_EQ(out.embed_inputs, 2048U);
}

TEST(RequestBody, ABodyOfMoreJsonValuesThanTheLimitIsA400BeforeAnyTreeIsBuilt) {
  // Two million tokens in 4 MiB made a tree of about 100 MB; the limit is counted on the bytes.
  request_limits limits;
  limits.json_values_max = 1000;
  std::string body = R"({"model":"text-embedding-3-small","input":[1)";
  for (int i = 1; i < 990; ++i) body += ",1";
  parsed_request out;
  EXPECT_FALSE(read_request_body(api_style::openai, request_kind::embeddings, body + "]}", limits, out));
  EXPECT_EQ(out.input_tokens, 990U);
  for (int i = 0; i < 10; ++i) body += ",1";
  const auto e = read_request_body(api_style::openai, request_kind::embeddings, body + "]}", limits, out);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->status, 400);
  EXPECT_NE(e->message.find("reads at most 1000"), std::string::npos) << e->message;
  // Commas and brackets inside strings are text, not values.
  const std::string text = R"({"model":"gpt-4o-mini","max_tokens":1,"messages":[{"role":"user","content":")" +
                           std::string(3000, ',') + R"("}]})";
  EXPECT_FALSE(read_request_body(api_style::openai, request_kind::chat, text, limits, out));
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
