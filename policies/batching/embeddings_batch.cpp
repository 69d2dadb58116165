#include "policies/batching/embeddings_batch.hpp"

#include <nlohmann/json.hpp>

#include "policies/core/json_parse.hpp"

namespace squall {
namespace {

using njson = nlohmann::json;          // sorted keys: equal bodies dump equal
using ojson = nlohmann::ordered_json;  // the provider's key order, for answers

bool ends_with(std::string_view s, std::string_view tail) {
  return s.size() >= tail.size() && s.substr(s.size() - tail.size()) == tail;
}

}  // namespace

std::optional<embeddings_member> read_embeddings_member(const call_payload& payload) {
  if (payload.raw_body.empty() || !ends_with(payload.path, "/embeddings")) return std::nullopt;
  auto parsed = parse_json_as<njson>(payload.raw_body);
  if (!parsed || !parsed->is_object()) return std::nullopt;
  njson body = std::move(parsed.value());
  const auto input = body.find("input");
  if (input == body.end() || !input->is_string()) return std::nullopt;
  embeddings_member m;
  m.text = input->get<std::string>();
  body.erase("input");
  // The path leads: two endpoints' bodies may be alike. nlohmann's object keeps keys sorted, so equal
  // bodies dump equal whatever their key order.
  m.group = payload.path + '\n' + dump_json(body);
  return m;
}

std::string batch_embeddings_body(std::string_view group, const std::vector<std::string_view>& texts) {
  const std::size_t cut = group.find('\n');
  njson body = njson::parse(group.substr(cut + 1));  // written by read_embeddings_member: valid
  njson input = njson::array();
  for (std::string_view t : texts) input.push_back(std::string(t));
  body["input"] = std::move(input);
  return dump_json(body);
}

std::vector<std::string> split_embeddings_answer(std::string_view batch_body,
                                                 const std::vector<std::uint32_t>& prompt_tokens) {
  std::vector<std::string> out(prompt_tokens.size());
  auto parsed = parse_json_as<ojson>(batch_body);
  if (!parsed || !parsed->is_object() || !parsed->contains("data") || !(*parsed)["data"].is_array()) return out;
  ojson& doc = parsed.value();
  ojson& data = doc["data"];
  // By "index"; items without one are in input order.
  std::vector<ojson*> items(out.size(), nullptr);
  for (std::size_t k = 0; k < data.size(); ++k) {
    ojson& x = data[k];
    if (!x.is_object() || !x.contains("embedding")) continue;
    std::size_t i = k;
    if (x.contains("index")) {
      if (!x["index"].is_number_unsigned()) continue;
      i = x["index"].get<std::size_t>();
    }
    if (i < items.size() && items[i] == nullptr) items[i] = &x;
  }
  for (std::size_t i = 0; i < out.size(); ++i) {
    if (items[i] == nullptr) continue;
    ojson one = std::move(*items[i]);
    one["index"] = 0;
    ojson answer = {{"object", "list"}, {"data", ojson::array({std::move(one)})}};
    if (doc.contains("model")) answer["model"] = doc["model"];
    answer["usage"] = {{"prompt_tokens", prompt_tokens[i]}, {"total_tokens", prompt_tokens[i]}};
    out[i] = dump_json(answer);
  }
  return out;
}

}  // namespace squall
