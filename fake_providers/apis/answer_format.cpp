#include "fake_providers/apis/answer_format.hpp"

#include "fake_providers/endpoint.hpp"

namespace squall::fake::detail {

namespace {
// What a model asked for JSON starts with when its answer breaks off.
constexpr std::string_view invalid_json_head = R"({"answer": ")";
}  // namespace

std::string answer_text(job& j) {
  switch (j.adm.content) {
    case sim::content_fault::empty: return {};
    case sim::content_fault::invalid_json: return std::string(invalid_json_head) + generate_words(j.text_rng, j.req.output_tokens);
    case sim::content_fault::truncated:
    case sim::content_fault::none: break;
  }
  return generate_words(j.text_rng, j.req.output_tokens);
}

std::string answer_piece(job& j, std::uint32_t tokens) {
  if (j.adm.content == sim::content_fault::empty) return {};
  std::string words = generate_words(j.text_rng, tokens);
  if (j.adm.content == sim::content_fault::invalid_json && j.tokens_sent == 0) words.insert(0, invalid_json_head);
  return words;
}

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
