#pragma once
// The service's request template (sim/scenario/service_spec.hpp), compiled once into literal text and
// placeholder slots, then written per user request straight into the bytes that go on the wire: no JSON
// tree is built or serialised per request (it was the largest cost of the black-box generator).
//
// Values are escaped for where they land: JSON string content in the body (quotes, backslashes and
// control characters), nothing in the path and headers (the values there are ids, token counts and the
// scenario's own names, checked when it was read). The answer's success rule is compiled too: its JSON
// path becomes steps walked on a simdjson document.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "policies/core/request.hpp"
#include "sim/scenario/service_spec.hpp"

namespace squall::runs {

class request_template {
 public:
  // `host` is the Host header's value ("127.0.0.1:8080"); `provider`: ${provider} for requests that name none.
  request_template(const sim::service_spec& spec, std::string host, std::string provider);

  // The whole HTTP/1.1 request for `req`: head (with x-squall-request-id and content-length) and body.
  void write(const request& req, std::string& out) const;

  // The prompt squall sends for `req`: "[squall:<id>] " and about input_tokens words.
  static std::string prompt(const request& req);

 private:
  enum class slot : std::uint8_t { none, request_id, prompt, model, provider, input_tokens, output_tokens };
  enum class escape : std::uint8_t { raw, json_string };
  struct segment {
    std::string literal;  // written first
    slot value = slot::none;
    escape how = escape::raw;
  };
  using segments = std::vector<segment>;

  static void compile_text(std::string_view text, escape how, segments& out);
  static void compile_json(const json& value, segments& out, int depth);
  void expand(const segments& parts, const request& req, std::string& out) const;

  segments head_;  // request line and headers, without the final CRLF
  segments body_;
  bool has_body_ = false;
  std::string provider_;
};

// The success rule's JSON path as steps: a key, or an index into an array.
struct json_path_step {
  bool index = false;
  std::string key;
  std::size_t position = 0;
};
std::vector<json_path_step> compile_json_path(std::string_view path);

}  // namespace squall::runs
