#include "runs/request_template.hpp"

#include <charconv>

#include "policies/core/json_text.hpp"
#include "policies/http/wire.hpp"
#include "sim/scenario/placeholders.hpp"

namespace squall::runs {
namespace {

void append_number(std::uint64_t v, std::string& out) {
  char buffer[24];
  const auto end = std::to_chars(buffer, buffer + sizeof buffer, v).ptr;
  out.append(buffer, end);
}

}  // namespace

request_template::request_template(const sim::service_spec& spec, std::string host, std::string provider)
    : provider_(std::move(provider)) {
  compile_text(spec.request.method + " ", escape::raw, head_);
  compile_text(spec.request.path, escape::raw, head_);
  compile_text(" HTTP/1.1\r\nHost: " + host + "\r\n", escape::raw, head_);
  bool content_type = false;
  for (const auto& [name, value] : spec.request.headers) {
    compile_text(name + ": ", escape::raw, head_);
    compile_text(value, escape::raw, head_);
    compile_text("\r\n", escape::raw, head_);
    std::string lower = name;
    for (char& c : lower) c = (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
    if (lower == "content-type") content_type = true;
  }
  has_body_ = !spec.request.body.is_null();
  if (has_body_ && !content_type) compile_text("Content-Type: application/json\r\n", escape::raw, head_);
  if (has_body_) compile_json(spec.request.body, body_, 0);
}

void request_template::compile_text(std::string_view text, escape how, segments& out) {
  if (out.empty()) out.emplace_back();
  std::string_view rest = text;
  // Literal pieces are escaped here, once; placeholders are marked and filled per request.
  const auto literal = [&](std::string_view piece) {
    if (how == escape::json_string) {
      append_json_string_content(out.back().literal, piece);
    } else {
      out.back().literal.append(piece);
    }
  };
  std::string scratch;
  while (!rest.empty()) {
    const std::size_t open = rest.find("${");
    if (open == std::string_view::npos) {
      literal(rest);
      break;
    }
    if (open > 0 && rest[open - 1] == '$') {  // "$${": a literal "${"
      literal(rest.substr(0, open - 1));
      literal("${");
      rest = rest.substr(open + 2);
      continue;
    }
    literal(rest.substr(0, open));
    const std::size_t close = rest.find('}', open);
    const std::string_view name = rest.substr(open + 2, close - open - 2);
    slot s = slot::none;
    if (name == "request_id") s = slot::request_id;
    else if (name == "prompt") s = slot::prompt;
    else if (name == "model") s = slot::model;
    else if (name == "provider") s = slot::provider;
    else if (name == "input_tokens") s = slot::input_tokens;
    else if (name == "output_tokens") s = slot::output_tokens;
    out.back().value = s;
    out.back().how = how;
    out.emplace_back();
    rest = rest.substr(close + 1);
  }
}

void request_template::compile_json(const json& value, segments& out, int depth) {
  if (out.empty()) out.emplace_back();
  if (value.is_object()) {
    out.back().literal += '{';
    bool first = true;
    for (auto it = value.begin(); it != value.end(); ++it) {
      if (!first) out.back().literal += ',';
      first = false;
      out.back().literal += json(it.key()).dump();
      out.back().literal += ':';
      compile_json(*it, out, depth + 1);
    }
    out.back().literal += '}';
  } else if (value.is_array()) {
    out.back().literal += '[';
    for (std::size_t i = 0; i < value.size(); ++i) {
      if (i > 0) out.back().literal += ',';
      compile_json(value[i], out, depth + 1);
    }
    out.back().literal += ']';
  } else if (value.is_string()) {
    const std::string& text = value.get_ref<const std::string&>();
    const std::string_view sole = sim::sole_placeholder(text);
    if (sole == "input_tokens" || sole == "output_tokens") {  // a JSON number, not a string
      compile_text(text, escape::raw, out);
    } else {
      out.back().literal += '"';
      compile_text(text, escape::json_string, out);
      out.back().literal += '"';
    }
  } else {
    out.back().literal += value.dump();
  }
}

std::string request_template::prompt(const request& req) {
  std::string out = "[squall:";
  append_number(req.id, out);
  out += "] ";
  out += prompt_text(req.input_tokens, req.id);
  return out;
}

void request_template::expand(const segments& parts, const request& req, std::string& out) const {
  for (const segment& s : parts) {
    out += s.literal;
    std::string_view text;
    std::string owned;
    switch (s.value) {
      case slot::none: continue;
      case slot::request_id: append_number(req.id, out); continue;
      case slot::input_tokens: append_number(req.input_tokens, out); continue;
      case slot::output_tokens: append_number(req.output_tokens, out); continue;
      case slot::prompt: owned = prompt(req); text = owned; break;
      case slot::model: text = req.model; break;
      case slot::provider: text = req.provider.empty() ? std::string_view(provider_) : std::string_view(req.provider); break;
    }
    if (s.how == escape::json_string) {
      append_json_string_content(out, text);
    } else {
      out += text;
    }
  }
}

void request_template::write(const request& req, std::string& out) const {
  out.clear();
  expand(head_, req, out);
  out += "x-squall-request-id: ";
  append_number(req.id, out);
  out += "\r\n";
  if (!has_body_) {
    out += "\r\n";
    return;
  }
  // The body is written after a head of unknown length: written in place, then its length inserted.
  out += "Content-Length: ";
  const std::size_t length_at = out.size();
  out += "\r\n\r\n";
  const std::size_t body_at = out.size();
  expand(body_, req, out);
  std::string length;
  append_number(out.size() - body_at, length);
  out.insert(length_at, length);
}

std::vector<json_path_step> compile_json_path(std::string_view path) {
  std::vector<json_path_step> steps;  // the path passed sim::check_json_path when the scenario was read
  std::size_t i = 1;
  while (i < path.size()) {
    json_path_step step;
    if (path[i] == '.') {
      std::size_t j = i + 1;
      while (j < path.size() && path[j] != '.' && path[j] != '[') ++j;
      step.key = std::string(path.substr(i + 1, j - i - 1));
      i = j;
    } else {
      const std::size_t close = path.find(']', i);
      const std::string_view inside = path.substr(i + 1, close - i - 1);
      if (inside.front() == '"') {
        step.key = std::string(inside.substr(1, inside.size() - 2));
      } else {
        step.index = true;
        std::from_chars(inside.data(), inside.data() + inside.size(), step.position);
      }
      i = close + 1;
    }
    steps.push_back(std::move(step));
  }
  return steps;
}

}  // namespace squall::runs
