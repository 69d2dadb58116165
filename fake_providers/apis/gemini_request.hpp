#pragma once
// What the fake providers read from the body of a Gemini request (POST /v1beta/models/{model}:
// generateContent, :streamGenerateContent, :countTokens), or the 400 INVALID_ARGUMENT Google gives.
//
//   contents[]              {role: "user" | "model" | "function", parts: [{text} | {functionCall} |
//                           {functionResponse} | {inlineData} ...]}: at least one, each with parts
//   systemInstruction       {parts: [{text}]} (a bare string is taken too)
//   generationConfig        maxOutputTokens, responseMimeType (text/plain, application/json, text/x.enum),
//                           responseSchema / responseJsonSchema, candidateCount (1 only), temperature ...
//   tools[]                 functionDeclarations[]: {name, description, parameters / parametersJsonSchema}
//   toolConfig              functionCallingConfig: {mode: AUTO | ANY | NONE | VALIDATED, allowedFunctionNames}
//
// Field names are taken in lowerCamelCase or snake_case, as Google's JSON mapping of protobuf does.
// Unknown fields are ignored (Google refuses them; squall stays lenient so that newer clients work).
// Tokens: the words of every text part of the contents and the system instruction.
//
// A tree reader (nlohmann) only: the OpenAI and Anthropic readers' simdjson fast path was for the load
// of many thousands of connections, which Gemini traffic can have too once it matters.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "fake_providers/content/answer_content.hpp"
#include "fake_providers/request_body.hpp"
#include "fake_providers/wire_format.hpp"

namespace squall::fake {

// What a Gemini answer may depend on besides parsed_request: what the model is asked to produce (a
// function call, JSON text). Handed to the answer's content generator (fake_providers/apis/gemini_generate.cpp).
struct gemini_function {
  std::string name;
  json parameters;  // its schema (parameters or parametersJsonSchema); null when it declares none
};

struct gemini_request {
  std::vector<gemini_function> functions;      // tools[].functionDeclarations[], in order
  std::string calling_mode = "AUTO";           // toolConfig.functionCallingConfig.mode
  std::vector<std::string> allowed_functions;  // ...allowedFunctionNames
  bool last_turn_is_function_response = false; // the last content holds a functionResponse part
  std::string response_mime_type = "text/plain";
  json response_schema;                        // responseSchema or responseJsonSchema; null when none
};

// What the content generator (fake_providers/content/answer_content.hpp) is asked for: the functions
// offered (only the allowed ones when allowedFunctionNames narrows them), ANY as `required`, NONE as `none`,
// and the JSON schema of application/json (a JSON object without one; text/x.enum answers text).
content::answer_request to_answer_request(const gemini_request& g);

// Reads `body` for the model named in the path. `stream`: the method was streamGenerateContent.
// `count_tokens`: a countTokens body ({"contents"} or {"generateContentRequest": {...}}), whose
// contents may be empty. nullopt: `out` and `extra` hold the request.
std::optional<error_spec> read_gemini_request_body(std::string_view body, std::string_view model, bool stream,
                                                   bool count_tokens, const request_limits& limits,
                                                   parsed_request& out, gemini_request& extra);

}  // namespace squall::fake
