#include "policies/cache/provider_embedder.hpp"

#include <cmath>
#include <memory>
#include <utility>

#include <nlohmann/json.hpp>

#include "policies/core/json_parse.hpp"
#include "policies/core/payload.hpp"

namespace squall {
namespace {

constexpr std::size_t embedding_dimension_max = 65536;

// One embedding call: owns the call context the transport reads, frees itself when it delivers or is
// cancelled.
class provider_embedding final : public operation, public outcome_receiver {
 public:
  provider_embedding(request req, embedding_receiver& receiver) : receiver_(receiver) { context_.req = std::move(req); }

  void begin(handler& transport) { inner_ = &transport.start(call_scope{&context_, time_never}, *this); }

  void cancel() noexcept override {
    inner_->cancel();
    delete this;
  }

  void on_outcome(outcome&& result) override {
    std::vector<float> vector;
    std::string error;
    if (!result.ok()) {
      error = "the embeddings call failed: " + std::string(to_string(result.kind));
      if (result.http_status != 0) error += " (HTTP " + std::to_string(result.http_status) + ")";
      if (result.answer && !result.answer->error_message.empty()) error += ": " + result.answer->error_message;
    } else if (!result.answer) {
      error = "the embeddings call gave no answer body";
    } else {
      vector = read_embedding_answer(result.answer->body, embedding_dimension_max, error);
    }
    embedding_receiver& receiver = receiver_;
    delete this;
    receiver.on_embedding(std::move(vector), error);
  }

 private:
  call_context context_;
  embedding_receiver& receiver_;
  operation* inner_ = nullptr;
};

}  // namespace

provider_embedder::provider_embedder(handler& transport, provider_embedder_options options)
    : transport_(transport), options_(std::move(options)) {}

operation& provider_embedder::embed(std::string_view text, embedding_receiver& receiver) {
  if (text.size() > options_.text_bytes_max) text = text.substr(0, options_.text_bytes_max);
  nlohmann::json body = {{"model", options_.model}, {"input", text}, {"encoding_format", "float"}};
  request req;
  req.provider = options_.provider;
  req.model = options_.model;
  req.input_tokens = estimate_tokens(text);
  req.payload = make_raw_payload(dump_json(body), options_.path);
  auto* call = new provider_embedding(std::move(req), receiver);
  call->begin(transport_);
  return *call;
}

std::vector<float> read_embedding_answer(std::string_view body, std::size_t dimension_max, std::string& error) {
  auto parsed = parse_json_as<nlohmann::json>(body);
  if (!parsed) {
    error = "the embeddings answer is not JSON: " + parsed.error().message;
    return {};
  }
  const nlohmann::json& doc = parsed.value();
  const nlohmann::json* data = doc.is_object() && doc.contains("data") ? &doc["data"] : nullptr;
  if (data == nullptr || !data->is_array() || data->empty() || !(*data)[0].is_object() ||
      !(*data)[0].contains("embedding")) {
    error = "the embeddings answer has no data[0].embedding";
    return {};
  }
  const nlohmann::json& numbers = (*data)[0]["embedding"];
  if (!numbers.is_array() || numbers.empty()) {
    error = "data[0].embedding is not an array of numbers (was encoding_format \"float\" ignored?)";
    return {};
  }
  if (numbers.size() > dimension_max) {
    error = "data[0].embedding has " + std::to_string(numbers.size()) + " numbers, more than " +
            std::to_string(dimension_max);
    return {};
  }
  std::vector<float> vector;
  vector.reserve(numbers.size());
  for (const nlohmann::json& x : numbers) {
    if (!x.is_number() || !std::isfinite(x.get<double>())) {
      error = "data[0].embedding holds something that is not a finite number";
      return {};
    }
    vector.push_back(x.get<float>());
  }
  return vector;
}

}  // namespace squall
