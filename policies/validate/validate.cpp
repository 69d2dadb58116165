#include "policies/validate/validate.hpp"

#include <utility>

#include <nlohmann/json.hpp>

#include "policies/core/content_flaw.hpp"
#include "policies/core/json_parse.hpp"

namespace squall {
namespace {

bool json_type_asked(const nlohmann::json& doc, const char* key) {
  const auto it = doc.find(key);
  if (it == doc.end() || !it->is_object()) return false;
  const auto type = it->find("type");
  return type != it->end() && type->is_string() && (*type == "json_object" || *type == "json_schema");
}

// Whether the caller asked for JSON: OpenAI's "response_format" (chat) or Anthropic's "output_format"
// with type json_object or json_schema, in a raw body. Chat payloads built from messages ask for nothing.
bool asked_for_json(const request& req) {
  if (!req.payload || req.payload->raw_body.empty()) return false;
  auto doc = parse_json_as<nlohmann::json>(req.payload->raw_body);
  if (!doc || !doc->is_object()) return false;
  return json_type_asked(*doc, "response_format") || json_type_asked(*doc, "output_format");
}

// One call through the policy. Frees itself when it delivers or is cancelled.
class validate_call final : public operation, public outcome_receiver {
 public:
  validate_call(validate_handler& owner, const call_scope& scope, outcome_receiver& receiver)
      : owner_(owner), scope_(scope), receiver_(receiver) {}

  void begin() { inner_ = &owner_.next().start(scope_, *this); }

  void cancel() noexcept override {
    if (inner_ != nullptr) inner_->cancel();
    delete this;
  }

  void on_outcome(outcome&& result) override {
    inner_ = nullptr;
    if (result.ok() && scope_.call != nullptr) {
      if (const content_flaw flaw = find_flaw(owner_.options(), scope_.call->req, result); flaw != content_flaw::none) {
        result.kind = outcome_class::bad_answer;
        result.flaw = flaw;
        result.decided_by = owner_.name();
      }
    }
    outcome_receiver& receiver = receiver_;
    delete this;
    receiver.on_outcome(std::move(result));
  }

 private:
  validate_handler& owner_;
  const call_scope scope_;
  outcome_receiver& receiver_;
  operation* inner_ = nullptr;
};

}  // namespace

content_flaw find_flaw(const validate_options& options, const request& req, const outcome& o) {
  if (!o.ok()) return content_flaw::none;
  // A flaw the outcome states is judged by the same options as one read from the text.
  const bool json_checked = options.json == validate_json::always ||
                            (options.json == validate_json::when_asked && asked_for_json(req));
  switch (o.flaw) {
    case content_flaw::empty: return options.non_empty ? content_flaw::empty : content_flaw::none;
    case content_flaw::truncated: return options.not_truncated ? content_flaw::truncated : content_flaw::none;
    case content_flaw::invalid_json: return json_checked ? content_flaw::invalid_json : content_flaw::none;
    case content_flaw::none: break;
  }
  if (!o.answer) return content_flaw::none;  // nothing to read: nothing to refuse
  const answer_payload& a = *o.answer;
  if (options.non_empty && blank_text(a.text)) return content_flaw::empty;
  if (options.not_truncated && cut_by_length(a.finish_reason)) return content_flaw::truncated;
  if (json_checked && !parse_json_as<nlohmann::json>(a.text)) return content_flaw::invalid_json;
  return content_flaw::none;
}

validate_handler::validate_handler(const validate_options& options, std::string name, handler& next)
    : options_(options), name_(std::move(name)), next_(next) {}

operation& validate_handler::start(const call_scope& scope, outcome_receiver& receiver) {
  auto* call = new validate_call(*this, scope, receiver);
  call->begin();
  return *call;
}

std::unique_ptr<handler> validate_spec::build(const policy_environment&, handler& next) const {
  return std::make_unique<validate_handler>(options, name.empty() ? std::string(type()) : name, next);
}

namespace {

std::unique_ptr<policy_spec> parse_validate(json_reader& reader) {
  validate_options options;
  read_validate_options(reader, options);
  return std::make_unique<validate_spec>(options);
}

}  // namespace

policy_registration validate_registration() {
  return policy_registration{"validate", &parse_validate,
                             "turns an ok answer that is empty, cut by length or not valid JSON into a bad_answer failure"};
}

}  // namespace squall
