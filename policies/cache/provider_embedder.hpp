#pragma once
// The semantic cache's default embedder: the provider's own embeddings endpoint, called through the
// transport. An OpenAI-style request {"model", "input", "encoding_format": "float"} goes to `path` under
// the endpoint's base URL; the answer's data[0].embedding is the vector.
//
// The call goes straight to the transport, past the other policies: embedding a prompt is the cache's
// own lookup, not the caller's call, so it is neither retried nor counted as one of the caller's calls
// (the transport's connection metrics see it). A failure is reported in words and the cache goes on as
// on a miss; it never fails the caller's call.

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "policies/core/call.hpp"
#include "policies/core/embedder.hpp"

namespace squall {

struct provider_embedder_options {
  std::string model = "text-embedding-3-small";
  std::string provider;             // the transport's endpoint name; empty: its default endpoint
  std::string path = "/embeddings";  // under the endpoint's base URL
  // A longer prompt is embedded by its first text_bytes_max bytes (OpenAI's embedding models take 8,192
  // tokens, about 32 KiB of English).
  std::size_t text_bytes_max = 32768;
};

class provider_embedder final : public embedder {
 public:
  // `transport` outlives the embedder.
  provider_embedder(handler& transport, provider_embedder_options options);
  operation& embed(std::string_view text, embedding_receiver& receiver) override;

  const provider_embedder_options& options() const noexcept { return options_; }

 private:
  handler& transport_;
  const provider_embedder_options options_;
};

// The first vector of an OpenAI-style embeddings answer ({"data": [{"embedding": [numbers]}]}), or an
// error in words. At most `dimension_max` numbers are accepted.
std::vector<float> read_embedding_answer(std::string_view body, std::size_t dimension_max, std::string& error);

}  // namespace squall
