#include "fake_providers/apis/answer_format.hpp"

namespace squall::fake::detail {

const answer_format& answer_format_for(request_kind k) noexcept {
  switch (k) {
    case request_kind::chat: return openai_chat_format;
    case request_kind::embeddings: return openai_embeddings_format;
    case request_kind::messages:
    case request_kind::count_tokens:  // answered at once, never a job (anthropic_count_tokens.cpp, control_api.cpp)
      return anthropic_messages_format;
    case request_kind::responses: return openai_responses_format;
    case request_kind::generate_content: return gemini_generate_format;
  }
  return openai_chat_format;
}

}  // namespace squall::fake::detail
