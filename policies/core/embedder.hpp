#pragma once
// What the semantic cache compares prompts by: an embedding of their text, from whoever makes one. By
// default the provider's embeddings endpoint (policies/cache/provider_embedder.hpp, through the
// transport); a service may plug in its own (a local model, another vendor) through this interface.
//
// The rules are a handler's (policies/core/call.hpp): the receiver is called exactly once, never from
// inside embed(); after operation::cancel() returns it is never called; the operation frees itself.

#include <string_view>
#include <vector>

#include "policies/core/call.hpp"

namespace squall {

class embedding_receiver {
 public:
  // `vector` is the text's embedding (any length, not necessarily normalised), or empty when embedding
  // failed, with `error` saying why in words.
  virtual void on_embedding(std::vector<float>&& vector, std::string_view error) = 0;

 protected:
  ~embedding_receiver() = default;
};

class embedder {
 public:
  virtual ~embedder() = default;
  // Starts embedding `text`; the embedder copies what it keeps of it.
  virtual operation& embed(std::string_view text, embedding_receiver& receiver) = 0;
};

}  // namespace squall
