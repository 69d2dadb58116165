#include "policies/loadbalance/loadbalance_options.hpp"

#include <string>

namespace squall {
namespace {

constexpr std::size_t targets_max = 16;

// Reads a provider or model name: a non-empty string when present.
void read_target_name(json_reader& reader, std::string_view key, std::string& out) {
  reader.string(key, out);
  if (!reader.failed() && out.empty() && reader.child(key) != nullptr) {
    reader.fail_key(key, "expected a non-empty name; omit the key to keep the request's own " + std::string(key));
  }
}

}  // namespace

void read_loadbalance_options(json_reader& reader, loadbalance_options& options) {
  const json* list = reader.required("targets", "the {\"provider\", \"model\", \"weight\"} targets to draw from");
  if (list != nullptr && !reader.failed()) {
    const std::string list_path = json_path_key(reader.path(), "targets");
    if (!list->is_array() || list->empty() || list->size() > targets_max) {
      reader.fail(list_path, "expected an array of 1 to 16 {\"provider\", \"model\", \"weight\"} objects, got " +
                                 (list->is_array() ? std::to_string(list->size()) + " entries" : describe_json(*list)));
    } else {
      std::vector<loadbalance_target> targets;
      double total = 0.0;
      for (std::size_t i = 0; i < list->size() && !reader.failed(); ++i) {
        json_reader entry((*list)[i], json_path_index(list_path, i));
        loadbalance_target t;
        read_target_name(entry, "provider", t.provider);
        read_target_name(entry, "model", t.model);
        entry.number("weight", t.weight, 0.0, 1000000.0);
        if (auto error = entry.finish()) {
          reader.fail(error->path, error->message);
          break;
        }
        t.name = (t.provider.empty() ? std::string("*") : t.provider) + "/" + (t.model.empty() ? "*" : t.model);
        total += t.weight;
        targets.push_back(std::move(t));
      }
      if (!reader.failed() && total <= 0.0) {
        // Portkey accepts it and then fails every request ("No provider selected"); here it is a mistake.
        reader.fail(list_path, "expected at least one target with a weight above 0: no call could be sent");
      }
      if (!reader.failed()) options.targets = std::move(targets);
    }
  }
  read_target_breaker(reader, "breaker", options.breaker);
}

}  // namespace squall
