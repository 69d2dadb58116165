#include "fake_providers/apis/answer_format.hpp"

namespace squall::fake::detail {

const answer_format& answer_format_for(request_kind k) noexcept {
  switch (k) {
    case request_kind::chat: return openai_chat_format;
    case request_kind::embeddings: return openai_embeddings_format;
    case request_kind::messages:
    case request_kind::count_tokens:  // answered at once, never a job (anthropic_count_tokens.cpp)
      return anthropic_messages_format;
  }
  return openai_chat_format;
}

}  // namespace squall::fake::detail
