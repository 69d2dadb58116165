// OpenAI's embeddings answer: POST /v1/embeddings, a list of embedding objects (floats or base64), never
// streamed.
#include "fake_providers/apis/answer_format.hpp"
#include "fake_providers/endpoint.hpp"
#include "policies/core/json_text.hpp"

namespace squall::fake::detail {
namespace {

// Written as text, in the real API's key order: a tree of 2,048 x 1,536 floats took 108 MB on top of its
// 64 MB dump (each float written through a double, in 17 digits); this takes the answer alone, which
// api_request has already checked against server_options::answer_bytes_max.
std::string body(job& j) {
  std::string b;
  b.reserve(embeddings_answer_bytes_bound(j.embed_inputs, j.embed_dims, j.embed_base64) + j.req.model.size());
  b += R"({"object":"list","data":[)";
  for (std::size_t i = 0; i < j.embed_inputs; ++i) {
    const std::vector<float> v = i < j.embed_texts.size() ? text_embedding_vector(j.embed_texts[i], j.embed_dims)
                                                           : embedding_vector(j.text_rng, j.embed_dims);
    b += i == 0 ? R"({"object":"embedding","index":)" : R"(,{"object":"embedding","index":)";
    b += std::to_string(i);
    b += R"(,"embedding":)";
    if (j.embed_base64) {
      b += '"';
      b += base64_floats(v);
      b += '"';
    } else {
      append_float_array(b, v);
    }
    b += '}';
  }
  b += R"(],"model":)";
  append_json_string(b, j.req.model);
  b += R"(,"usage":{"prompt_tokens":)";
  b += std::to_string(j.req.input_tokens);
  b += R"(,"total_tokens":)";
  b += std::to_string(j.req.input_tokens);
  b += "}}";
  return b;
}

// Embeddings are never streamed (the request reader ignores "stream" for them): these are not reached.
std::string no_event(const job&) { return {}; }
std::string no_text(const job&, std::string_view) { return {}; }

}  // namespace

const answer_format openai_embeddings_format{"embd-", body, no_event, no_text, no_event, no_event, no_event};

}  // namespace squall::fake::detail
