#include "fake_providers/request_body.hpp"

#include <limits>
#include <utility>
#include <vector>

namespace squall::fake {

error_spec invalid_request(std::string message, std::optional<std::string> param, std::optional<std::string> code) {
  return error_spec{400, std::move(message), "", std::move(param), std::move(code)};
}

namespace {

// Validates a request body the way the real APIs do, with their messages where they are well known.
std::optional<error_spec> read_tree(api_style api, request_kind kind, const json& body, const request_limits& options,
                                   parsed_request& out) {
  const bool openai = api == api_style::openai;
  if (body.is_discarded()) {
    return invalid_request(openai ? "We could not parse the JSON body of your request. (HINT: This likely means you aren't "
                            "using your HTTP library correctly. The OpenAI API expects a JSON payload, but what was "
                            "sent was not valid JSON.)"
                          : "There was an error parsing the body of the request: it is not valid JSON");
  }
  if (!body.is_object()) {
    return invalid_request(openai ? "Invalid type for request body: expected an object." : "body: Input should be an object");
  }
  const auto model = body.find("model");
  if (model == body.end()) {
    return invalid_request(openai ? "you must provide a model parameter" : "model: Field required", "model");
  }
  if (!model->is_string() || model->get_ref<const std::string&>().empty()) {
    return invalid_request(openai ? "Invalid type for 'model': expected a non-empty string." : "model: Input should be a valid string",
                   "model", openai ? std::optional<std::string>("invalid_type") : std::nullopt);
  }
  out.model = model->get<std::string>();

  auto read_bool = [&](const char* key, bool& flag) -> std::optional<error_spec> {
    const auto it = body.find(key);
    if (it == body.end() || it->is_null()) return std::nullopt;
    if (!it->is_boolean()) {
      return invalid_request(openai ? std::string("Invalid type for '") + key + "': expected a boolean."
                            : std::string(key) + ": Input should be a valid boolean",
                     key, openai ? std::optional<std::string>("invalid_type") : std::nullopt);
    }
    flag = it->get<bool>();
    return std::nullopt;
  };
  auto read_max = [&](const char* key) -> std::optional<error_spec> {
    const auto it = body.find(key);
    if (it == body.end() || it->is_null()) return std::nullopt;
    if (!it->is_number_integer()) {
      return invalid_request(openai ? std::string("Invalid type for '") + key + "': expected an integer."
                            : std::string(key) + ": Input should be a valid integer",
                     key, openai ? std::optional<std::string>("invalid_type") : std::nullopt);
    }
    const std::int64_t v = it->get<std::int64_t>();
    if (v < 1) {
      return invalid_request(openai ? std::string("Invalid '") + key + "': integer below minimum value. Expected a value >= 1, "
                                                               "but got " + std::to_string(v) + " instead."
                            : std::string(key) + ": Input should be greater than or equal to 1",
                     key, openai ? std::optional<std::string>("integer_below_min_value") : std::nullopt);
    }
    if (v > options.output_tokens_max) {
      return invalid_request(std::string(key) + " is too large: " + std::to_string(v) + ". This model supports at most " +
                         std::to_string(options.output_tokens_max) + " completion tokens.",
                     key, openai ? std::optional<std::string>("invalid_value") : std::nullopt);
    }
    out.max_tokens = static_cast<std::uint32_t>(v);
    return std::nullopt;
  };

  if (kind == request_kind::embeddings) {
    const auto input = body.find("input");
    if (input == body.end()) return invalid_request("Missing required parameter: 'input'.", "input", "missing_required_parameter");
    auto bad_input = []() -> std::optional<error_spec> { return invalid_request("'input' must be a string, an array of strings or an array of token arrays.", "input"); };
    if (input->is_string()) {
      if (input->get_ref<const std::string&>().empty()) return invalid_request("'input' cannot be an empty string.", "input");
      out.input_tokens = count_words(input->get_ref<const std::string&>());
    } else if (input->is_array() && !input->empty()) {
      out.embed_inputs = input->size();
      bool tokens = true;
      for (const json& x : *input) tokens = tokens && x.is_number_integer();
      if (tokens) {
        out.embed_inputs = 1;
        out.input_tokens = static_cast<std::uint32_t>(input->size());
      } else {
        for (const json& x : *input) {
          if (x.is_string()) {
            out.input_tokens += count_words(x.get_ref<const std::string&>());
          } else if (x.is_array()) {
            out.input_tokens += static_cast<std::uint32_t>(x.size());
          } else {
            return bad_input();
          }
        }
      }
      if (out.embed_inputs > 2048) return invalid_request("'input' must have at most 2048 items.", "input");
    } else {
      return bad_input();
    }
    if (const auto f = body.find("encoding_format"); f != body.end() && !f->is_null()) {
      if (*f == "base64") {
        out.embed_base64 = true;
      } else if (*f != "float") {
        return invalid_request("Invalid value for 'encoding_format': expected 'float' or 'base64'.", "encoding_format");
      }
    }
    out.embed_dims = options.embedding_dims_default;
    if (const auto d = body.find("dimensions"); d != body.end() && !d->is_null()) {
      if (!d->is_number_integer() || d->get<std::int64_t>() < 1 || d->get<std::int64_t>() > 3072) {
        return invalid_request("Invalid 'dimensions': expected an integer from 1 to 3072.", "dimensions");
      }
      out.embed_dims = static_cast<std::uint32_t>(d->get<std::int64_t>());
    }
    out.max_tokens = 0;
    return std::nullopt;
  }

  const auto messages = body.find("messages");
  if (messages == body.end()) {
    return invalid_request(openai ? "Missing required parameter: 'messages'." : "messages: Field required", "messages",
                   openai ? std::optional<std::string>("missing_required_parameter") : std::nullopt);
  }
  if (!messages->is_array()) {
    return invalid_request(openai ? "Invalid type for 'messages': expected an array." : "messages: Input should be a valid list",
                   "messages", openai ? std::optional<std::string>("invalid_type") : std::nullopt);
  }
  if (messages->empty()) {
    return invalid_request(openai ? "[] is too short - 'messages'" : "messages: at least one message is required", "messages");
  }
  for (std::size_t i = 0; i < messages->size(); ++i) {
    const json& m = (*messages)[i];
    if (!m.is_object() || !m.contains("role") || !m["role"].is_string()) {
      const std::string where = "messages[" + std::to_string(i) + "]";
      return invalid_request(openai ? "Invalid value for '" + where + "': expected an object with a 'role'."
                            : where + ".role: Field required",
                     where);
    }
  }
  out.input_tokens = count_prompt_tokens(*messages);
  if (auto e = read_bool("stream", out.stream)) return e;

  if (openai) {
    if (auto e = read_max("max_tokens")) return e;
    if (auto e = read_max("max_completion_tokens")) return e;
    if (const auto n = body.find("n"); n != body.end() && !n->is_null() && *n != 1) {
      return invalid_request("squall's fake provider answers n = 1 only.", "n");
    }
    if (const auto so = body.find("stream_options"); so != body.end() && !so->is_null()) {
      if (!so->is_object()) return invalid_request("Invalid type for 'stream_options': expected an object.", "stream_options");
      if (!out.stream) {
        return invalid_request("The 'stream_options' parameter is only allowed when 'stream' is enabled.", "stream_options");
      }
      if (const auto u = so->find("include_usage"); u != so->end() && u->is_boolean()) out.include_usage = u->get<bool>();
    }
  } else {
    if (!body.contains("max_tokens")) return invalid_request("max_tokens: Field required", "max_tokens");
    if (auto e = read_max("max_tokens")) return e;
    if (const auto sys = body.find("system"); sys != body.end()) out.input_tokens += count_prompt_tokens(*sys);
  }
  return std::nullopt;
}

// The plain reader: SAX events from nlohmann's lexer, which hands each string over in a buffer it reuses.
// It follows count_prompt_tokens's rules (a string counts; an array counts its items; an object counts
// its "content" and a string "text") and returns false, declining, at anything the tree reader would
// answer with an error or read differently: duplicate keys (the tree keeps the last), odd types, a
// missing field.
class plain_reader final : public nlohmann::json_sax<json> {
 public:
  plain_reader(bool openai, const request_limits& limits, parsed_request& out)
      : openai_(openai), limits_(limits), out_(out) {}

  // After a parse that succeeded: the rules that span the whole body.
  bool finish() {
    if (!has(top_model) || !has(top_messages)) return false;
    if (stream_options_set_ && !out_.stream) return false;
    if (!openai_ && !has(top_max_tokens)) return false;
    out_.max_tokens = max_tokens_;
    if (max_completion_tokens_) out_.max_tokens = max_completion_tokens_;
    out_.input_tokens = tokens_;
    return true;
  }

  bool null() override {
    switch (take()) {
      case slot::bad:
      case slot::role:
      case slot::message:
      case slot::model:
      case slot::messages:
        return false;
      default:
        return true;  // no value: the tree reader reads a null as an absent field, or counts nothing
    }
  }
  bool boolean(bool value) override {
    switch (take()) {
      case slot::stream:
        out_.stream = value;
        return true;
      case slot::include_usage:
        out_.include_usage = value;
        return true;
      case slot::skip:
      case slot::count:
      case slot::text:
      case slot::system:
        return true;
      default:
        return false;
    }
  }
  bool number_integer(number_integer_t value) override {
    return value >= 0 ? number_unsigned(static_cast<number_unsigned_t>(value)) : number(false, 0);
  }
  bool number_unsigned(number_unsigned_t value) override { return number(true, value); }
  bool number_float(number_float_t, const string_t&) override { return number(false, 0); }
  bool binary(binary_t&) override { return false; }
  bool string(string_t& value) override {
    switch (take()) {
      case slot::count:
      case slot::text:
      case slot::system:
        tokens_ += count_words(value);
        return true;
      case slot::role:
        frames_.back().role_ok = true;
        return true;
      case slot::model:
        if (value.empty()) return false;
        out_.model = value;
        return true;
      case slot::skip:
      case slot::include_usage:
        return true;
      default:
        return false;
    }
  }
  bool start_object(std::size_t) override {
    if (frames_.empty()) {
      frames_.push_back(frame{frame_kind::top});
      return true;
    }
    switch (take()) {
      case slot::count:
      case slot::system:
        frames_.push_back(frame{frame_kind::counted_object});
        return true;
      case slot::message:
        frames_.push_back(frame{frame_kind::message});
        return true;
      case slot::stream_options:
        stream_options_set_ = true;
        frames_.push_back(frame{frame_kind::stream_options});
        return true;
      case slot::skip:
      case slot::text:
      case slot::include_usage:
        frames_.push_back(frame{frame_kind::skipped});
        return true;
      default:
        return false;
    }
  }
  bool start_array(std::size_t) override {
    if (frames_.empty()) return false;
    switch (take()) {
      case slot::count:
      case slot::system:
        frames_.push_back(frame{frame_kind::counted_array});
        return true;
      case slot::messages:
        frames_.push_back(frame{frame_kind::messages});
        return true;
      case slot::skip:
      case slot::text:
      case slot::include_usage:
        frames_.push_back(frame{frame_kind::skipped});
        return true;
      default:
        return false;
    }
  }
  bool end_object() override {
    const frame f = frames_.back();
    frames_.pop_back();
    return f.kind != frame_kind::message || f.role_ok;
  }
  bool end_array() override {
    const frame f = frames_.back();
    frames_.pop_back();
    return f.kind != frame_kind::messages || f.items > 0;
  }
  bool key(string_t& name) override {
    frame& f = frames_.back();
    switch (f.kind) {
      case frame_kind::top:
        return top_key(f, name);
      case frame_kind::stream_options:
        if (name == "include_usage") return once(f, seen_include_usage, slot::include_usage);
        f.next = slot::skip;
        return true;
      case frame_kind::message:
        if (name == "role") return once(f, seen_role, slot::role);
        [[fallthrough]];
      case frame_kind::counted_object:
        if (name == "content") return once(f, seen_content, slot::count);
        if (name == "text") return once(f, seen_text, slot::text);
        f.next = slot::skip;
        return true;
      default:
        f.next = slot::skip;
        return true;
    }
  }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) override { return false; }

 private:
  // What the next value is to the reader.
  enum class slot : std::uint8_t {
    bad,  // a scalar body
    skip, count, text, role, message, model, messages, stream, max_tokens, max_completion_tokens, n,
    stream_options, include_usage, system
  };
  enum class frame_kind : std::uint8_t { top, messages, message, counted_object, counted_array, stream_options, skipped };
  struct frame {
    frame_kind kind;
    slot next = slot::skip;  // objects: set by the key
    std::uint8_t seen = 0;   // keys seen that may not repeat
    bool role_ok = false;
    std::uint32_t items = 0;
  };
  static constexpr std::uint8_t seen_role = 1, seen_content = 2, seen_text = 4, seen_include_usage = 8;
  static constexpr std::uint32_t top_model = 1, top_messages = 2, top_stream = 4, top_max_tokens = 8,
                                 top_max_completion_tokens = 16, top_n = 32, top_stream_options = 64,
                                 top_system = 128;

  bool has(std::uint32_t key) const noexcept { return (top_seen_ & key) != 0; }

  static bool once(frame& f, std::uint8_t bit, slot next) {
    if ((f.seen & bit) != 0) return false;
    f.seen = static_cast<std::uint8_t>(f.seen | bit);
    f.next = next;
    return true;
  }

  bool top_key(frame& f, const string_t& name) {
    struct known {
      std::string_view name;
      std::uint32_t bit;
      slot next;
      bool openai_only;
      bool anthropic_only;
    };
    static constexpr known keys[] = {
        {"model", top_model, slot::model, false, false},
        {"messages", top_messages, slot::messages, false, false},
        {"stream", top_stream, slot::stream, false, false},
        {"max_tokens", top_max_tokens, slot::max_tokens, false, false},
        {"max_completion_tokens", top_max_completion_tokens, slot::max_completion_tokens, true, false},
        {"n", top_n, slot::n, true, false},
        {"stream_options", top_stream_options, slot::stream_options, true, false},
        {"system", top_system, slot::system, false, true},
    };
    f.next = slot::skip;
    for (const known& k : keys) {
      if (name != k.name || (k.openai_only && !openai_) || (k.anthropic_only && openai_)) continue;
      if (has(k.bit)) return false;
      top_seen_ |= k.bit;
      f.next = k.next;
      return true;
    }
    return true;
  }

  // The slot of the value that comes now, from the innermost container.
  slot take() {
    if (frames_.empty()) return slot::bad;
    frame& f = frames_.back();
    switch (f.kind) {
      case frame_kind::messages:
        ++f.items;
        return slot::message;
      case frame_kind::counted_array:
        return slot::count;
      case frame_kind::skipped:
        return slot::skip;
      default:
        return f.next;
    }
  }

  // `whole`: a non-negative integer `value`; otherwise a negative or fractional number.
  bool number(bool whole, number_unsigned_t value) {
    const slot s = take();
    switch (s) {
      case slot::skip:
      case slot::count:
      case slot::text:
      case slot::system:
      case slot::include_usage:
        return true;
      case slot::n:
        return whole && value == 1;
      case slot::max_tokens:
      case slot::max_completion_tokens:
        if (!whole || value < 1 || value > limits_.output_tokens_max) return false;
        (s == slot::max_tokens ? max_tokens_ : max_completion_tokens_) = static_cast<std::uint32_t>(value);
        return true;
      default:
        return false;
    }
  }

  bool openai_;
  const request_limits& limits_;
  parsed_request& out_;
  std::vector<frame> frames_;
  std::uint32_t top_seen_ = 0;
  std::uint32_t tokens_ = 0;
  std::optional<std::uint32_t> max_tokens_;
  std::optional<std::uint32_t> max_completion_tokens_;
  bool stream_options_set_ = false;
};

}  // namespace

bool read_plain_request_body(api_style api, request_kind kind, std::string_view body, const request_limits& limits,
                             parsed_request& out) {
  if (kind == request_kind::embeddings) return false;
  out = parsed_request{};
  plain_reader reader(api == api_style::openai, limits, out);
  return json::sax_parse(body, &reader) && reader.finish();
}

std::optional<error_spec> read_request_body_tree(api_style api, request_kind kind, std::string_view body,
                                                 const request_limits& limits, parsed_request& out) {
  out = parsed_request{};
  return read_tree(api, kind, json::parse(body, nullptr, false), limits, out);
}

std::optional<error_spec> read_request_body(api_style api, request_kind kind, std::string_view body,
                                            const request_limits& limits, parsed_request& out) {
  if (read_plain_request_body(api, kind, body, limits, out)) return std::nullopt;
  return read_request_body_tree(api, kind, body, limits, out);
}

}  // namespace squall::fake
