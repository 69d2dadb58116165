#include "fake_providers/request_body.hpp"

#include <algorithm>
#include <array>
#include <limits>
#include <simdjson.h>
#include <utility>
#include <vector>

#include "policies/core/json_parse.hpp"

namespace squall::fake {

error_spec invalid_request(std::string message, std::optional<std::string> param, std::optional<std::string> code) {
  return error_spec{400, std::move(message), "", std::move(param), std::move(code)};
}

namespace {

// Validates a request body the way the real APIs do, with their messages where they are well known.
std::optional<error_spec> read_tree(api_style api, request_kind kind, const json& body, const request_limits& options,
                                   parsed_request& out) {
  const bool openai = api == api_style::openai;
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
      out.embed_texts.push_back(input->get_ref<const std::string&>());
    } else if (input->is_array() && !input->empty()) {
      out.embed_inputs = input->size();
      bool tokens = true;
      for (const json& x : *input) tokens = tokens && x.is_number_integer();
      if (tokens) {
        out.embed_inputs = 1;
        out.input_tokens = static_cast<std::uint32_t>(input->size());
      } else {
        bool all_text = true;
        for (const json& x : *input) all_text = all_text && x.is_string();
        for (const json& x : *input) {
          if (x.is_string()) {
            out.input_tokens += count_words(x.get_ref<const std::string&>());
            if (all_text) out.embed_texts.push_back(x.get_ref<const std::string&>());
          } else if (x.is_array()) {
            out.input_tokens += static_cast<std::uint32_t>(x.size());
          } else {
            return bad_input();
          }
        }
      }
      if (out.embed_inputs > options.embedding_inputs_max) {
        // OpenAI's own words for an array over its limit.
        return invalid_request("Invalid 'input': array too long. Expected an array with maximum length " +
                                   std::to_string(options.embedding_inputs_max) + ", but got an array with length " +
                                   std::to_string(out.embed_inputs) + " instead.",
                               "input", "array_above_max_length");
      }
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
    if (kind == request_kind::messages && !body.contains("max_tokens")) {
      return invalid_request("max_tokens: Field required", "max_tokens");
    }
    if (auto e = read_max("max_tokens")) return e;
    if (const auto sys = body.find("system"); sys != body.end()) out.input_tokens += count_prompt_tokens(*sys);
  }
  return std::nullopt;
}

// The plain reader walks simdjson's tape of the body (a parser this thread reuses; simdjson validates the
// whole text, UTF-8 included). It follows count_prompt_tokens's rules (a string counts; an array counts
// its items; an object counts its "content" and a string "text") and returns false, declining, at
// anything the tree reader would answer with an error or read differently: duplicate keys (the tree
// keeps the last), odd types, a missing field.
class plain_reader {
 public:
  plain_reader(bool openai, const request_limits& limits, parsed_request& out)
      : openai_(openai), limits_(limits), out_(out) {}

  bool read(simdjson::dom::element body) {
    depth_ = 1;
    simdjson::dom::object top;
    if (body.get_object().get(top) != simdjson::SUCCESS) return false;
    bool model = false, messages = false, stream = false, max_tokens = false, max_completion_tokens = false,
         n = false, stream_options = false, system = false;
    std::optional<std::uint32_t> max, max_completion;
    for (const simdjson::dom::key_value_pair field : top) {
      const std::string_view key = field.key;
      const simdjson::dom::element value = field.value;
      if (key == "model") {
        std::string_view name;
        if (!once(model) || value.get_string().get(name) != simdjson::SUCCESS || name.empty()) return false;
        out_.model = name;
      } else if (key == "messages") {
        if (!once(messages) || !read_messages(value)) return false;
      } else if (key == "stream") {
        if (!once(stream)) return false;
        if (value.is_null()) continue;
        bool flag = false;
        if (value.get_bool().get(flag) != simdjson::SUCCESS) return false;
        out_.stream = flag;
      } else if (key == "max_tokens") {
        if (!once(max_tokens) || !read_max(value, max)) return false;
      } else if (openai_ && key == "max_completion_tokens") {
        if (!once(max_completion_tokens) || !read_max(value, max_completion)) return false;
      } else if (openai_ && key == "n") {
        std::int64_t count = 0;
        if (!once(n) || (!value.is_null() && (value.get_int64().get(count) != simdjson::SUCCESS || count != 1))) {
          return false;
        }
      } else if (openai_ && key == "stream_options") {
        if (!once(stream_options) || !read_stream_options(value)) return false;
      } else if (!openai_ && key == "system") {
        if (!once(system) || !count(value)) return false;
      }
    }
    if (!model || !messages) return false;
    if (stream_options_set_ && !out_.stream) return false;
    if (!openai_ && !max_tokens) return false;
    out_.max_tokens = max;
    if (max_completion) out_.max_tokens = max_completion;
    out_.input_tokens = tokens_;
    return true;
  }

 private:
  // Marks a key seen; false the second time.
  static bool once(bool& seen) {
    if (seen) return false;
    seen = true;
    return true;
  }

  // null, or an integer from 1 to the limit.
  bool read_max(simdjson::dom::element value, std::optional<std::uint32_t>& out) const {
    if (value.is_null()) return true;
    std::int64_t v = 0;
    if (value.get_int64().get(v) != simdjson::SUCCESS || v < 1 || v > limits_.output_tokens_max) return false;
    out = static_cast<std::uint32_t>(v);
    return true;
  }

  bool read_stream_options(simdjson::dom::element value) {
    if (value.is_null()) return true;
    simdjson::dom::object options;
    if (value.get_object().get(options) != simdjson::SUCCESS) return false;
    stream_options_set_ = true;
    bool include_usage = false;
    for (const simdjson::dom::key_value_pair field : options) {
      if (field.key != "include_usage") continue;
      if (!once(include_usage)) return false;
      bool flag = false;
      if (field.value.get_bool().get(flag) == simdjson::SUCCESS) out_.include_usage = flag;
    }
    return true;
  }

  // A list of at least one message, each an object with a string role.
  bool read_messages(simdjson::dom::element value) {
    simdjson::dom::array list;
    if (value.get_array().get(list) != simdjson::SUCCESS || list.size() == 0) return false;
    for (const simdjson::dom::element item : list) {
      simdjson::dom::object message;
      if (item.get_object().get(message) != simdjson::SUCCESS || !count_object(message, true)) return false;
    }
    return true;
  }

  // count_prompt_tokens's rules; false where a repeated key would make the tree count otherwise. The
  // parser refuses documents deeper than the tree reader takes (json_depth_max), so this recursion is
  // bounded by that; the guard keeps it bounded should the parser ever be set up otherwise.
  bool count(simdjson::dom::element value) {
    if (depth_ > json_depth_max) return false;
    const depth_step step(depth_);
    std::string_view text;
    if (value.get_string().get(text) == simdjson::SUCCESS) {
      tokens_ += count_words(text);
      return true;
    }
    simdjson::dom::array list;
    if (value.get_array().get(list) == simdjson::SUCCESS) {
      for (const simdjson::dom::element item : list) {
        if (!count(item)) return false;
      }
      return true;
    }
    simdjson::dom::object object;
    if (value.get_object().get(object) == simdjson::SUCCESS) return count_object(object, false);
    return true;  // a number, a boolean or null counts nothing
  }

  // An object's "content" and string "text"; a message (`message`) must also have a string role.
  bool count_object(simdjson::dom::object object, bool message) {
    bool content = false, text = false, role = false;
    for (const simdjson::dom::key_value_pair field : object) {
      if (field.key == "content") {
        if (!once(content) || !count(field.value)) return false;
      } else if (field.key == "text") {
        if (!once(text)) return false;
        std::string_view words;
        if (field.value.get_string().get(words) == simdjson::SUCCESS) tokens_ += count_words(words);
      } else if (message && field.key == "role") {
        if (!once(role) || !field.value.is_string()) return false;
      }
    }
    return !message || role;
  }

  // Counts one level of nesting for as long as it lives.
  struct depth_step {
    explicit depth_step(std::size_t& depth) : depth_(depth) { ++depth_; }
    ~depth_step() { --depth_; }
    depth_step(const depth_step&) = delete;
    depth_step& operator=(const depth_step&) = delete;
    std::size_t& depth_;
  };

  bool openai_;
  const request_limits& limits_;
  parsed_request& out_;
  std::size_t depth_ = 0;
  std::uint32_t tokens_ = 0;
  bool stream_options_set_ = false;
};

}  // namespace

namespace {

// Whether an object anywhere in `value` repeats a key, which the tree reader refuses; the plain reader
// then declines. The recursion is bounded by the parser's depth (json_depth_max).
bool repeats_a_key(simdjson::dom::element value) {
  simdjson::dom::array list;
  if (value.get_array().get(list) == simdjson::SUCCESS) {
    for (const simdjson::dom::element item : list) {
      if (repeats_a_key(item)) return true;
    }
    return false;
  }
  simdjson::dom::object object;
  if (value.get_object().get(object) != simdjson::SUCCESS) return false;
  // Small objects, nearly all of them, are compared pairwise without allocating.
  std::array<std::string_view, 16> small;
  std::size_t n = 0;
  std::vector<std::string_view> many;
  for (const simdjson::dom::key_value_pair field : object) {
    if (repeats_a_key(field.value)) return true;
    if (n < small.size()) {
      for (std::size_t i = 0; i < n; ++i) {
        if (small[i] == field.key) return true;
      }
      small[n++] = field.key;
    } else {
      if (many.empty()) many.assign(small.begin(), small.end());
      many.push_back(field.key);
    }
  }
  if (many.empty()) return false;
  std::sort(many.begin(), many.end());
  return std::adjacent_find(many.begin(), many.end()) != many.end();
}

// simdjson's default depth is 1024; the tree reader takes at most json_depth_max. With the same limit
// the plain reader never answers a body the tree would refuse, and the walk above stays shallow. The
// depth survives the parser's growing: it reallocates with the depth it has. (Should this first
// allocation fail, the parser's depth is not ours and read_plain_request_body declines every body.)
// simdjson counts the root as well: a document of json_depth_max nested containers needs one more.
constexpr std::size_t simdjson_depth = json_depth_max + 1;

simdjson::dom::parser depth_limited_parser() {
  simdjson::dom::parser parser;
  if (parser.allocate(simdjson::dom::MINIMAL_DOCUMENT_CAPACITY, simdjson_depth) != simdjson::SUCCESS) {
    return parser;  // checked by the caller through max_depth()
  }
  return parser;
}

}  // namespace

bool read_plain_request_body(api_style api, request_kind kind, std::string_view body, const request_limits& limits,
                             parsed_request& out) {
  if (kind == request_kind::embeddings || kind == request_kind::count_tokens) return false;  // rare: the tree reads them
  out = parsed_request{};
  thread_local simdjson::dom::parser parser = depth_limited_parser();
  if (parser.max_depth() != simdjson_depth) return false;
  simdjson::dom::element doc;
  if (parser.parse(body.data(), body.size(), true).get(doc) != simdjson::SUCCESS) return false;
  if (repeats_a_key(doc)) return false;
  plain_reader reader(api == api_style::openai, limits, out);
  return reader.read(doc);
}

namespace {

// At least the number of JSON values in `body`: one more than its commas and openings of objects and
// arrays outside strings. A pass over the bytes, without parsing.
std::size_t json_values_bound(std::string_view body) noexcept {
  std::size_t n = 1;
  bool in_string = false;
  bool escaped = false;
  for (const char c : body) {
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == ',' || c == '[' || c == '{') {
      ++n;
    }
  }
  return n;
}

// A 400 when `body` holds more values than the limit. Each value takes a byte at least: a body no longer
// than the limit cannot pass it, and is not scanned.
std::optional<error_spec> too_many_values(std::string_view body, const request_limits& limits) {
  if (body.size() <= limits.json_values_max) return std::nullopt;
  const std::size_t values = json_values_bound(body);
  if (values <= limits.json_values_max) return std::nullopt;
  return invalid_request("The request body holds about " + std::to_string(values) +
                         " JSON values; squall's fake provider reads at most " + std::to_string(limits.json_values_max) +
                         " in one request (OpenAI takes at most 300000 tokens per embeddings request).");
}

}  // namespace

std::optional<error_spec> read_request_body_tree(api_style api, request_kind kind, std::string_view body,
                                                 const request_limits& limits, parsed_request& out) {
  out = parsed_request{};
  if (auto e = too_many_values(body, limits)) return e;
  json_parse_limits parse_limits;
  parse_limits.depth_max = json_depth_max;
  auto parsed = parse_json_as<json>(body, parse_limits);
  if (!parsed) {
    // The provider's words, then the reader's: where in the body and what was expected.
    const bool openai = api == api_style::openai;
    const std::string detail = parsed.error().describe();
    return invalid_request(openai ? "We could not parse the JSON body of your request. (HINT: This likely means you aren't "
                                    "using your HTTP library correctly. The OpenAI API expects a JSON payload, but what was "
                                    "sent was not valid JSON.) " + detail
                                  : "There was an error parsing the body of the request: " + detail);
  }
  return read_tree(api, kind, *parsed, limits, out);
}

std::optional<error_spec> read_request_body(api_style api, request_kind kind, std::string_view body,
                                            const request_limits& limits, parsed_request& out) {
  // The plain reader's parser keeps the largest buffers it ever needed (about ten bytes per byte of body)
  // for as long as the thread lives; large bodies are rare, and the tree frees its memory when done.
  constexpr std::size_t plain_body_bytes_max = 1024 * 1024;
  if (auto e = too_many_values(body, limits)) return e;
  if (body.size() <= plain_body_bytes_max && read_plain_request_body(api, kind, body, limits, out)) return std::nullopt;
  return read_request_body_tree(api, kind, body, limits, out);
}

}  // namespace squall::fake
