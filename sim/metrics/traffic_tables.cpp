#include "sim/metrics/traffic_tables.hpp"

#include <algorithm>
#include <chrono>
#include <tuple>

#include "policies/core/json_parse.hpp"

namespace squall::sim {
namespace {

void see(error_row& row, bool request, double at_s) {
  const bool first = row.requests == 0 && row.attempts == 0;
  (request ? row.requests : row.attempts) += 1;
  if (first || at_s < row.first_s) row.first_s = at_s;
  if (first || at_s > row.last_s) row.last_s = at_s;
}

// The provider's own words, when the outcome carries them (production calls and traced payloads): the
// error type and the message, cut on a character boundary so that one long body cannot grow the table.
std::string message_of(const outcome& o) {
  if (!o.answer) return {};
  const answer_payload& a = *o.answer;
  std::string text = a.error_type;
  if (!a.error_type.empty() && !a.error_message.empty()) text += ": ";
  text += a.error_message;
  if (text.size() <= error_table::message_bytes_max) return text;
  return cut_utf8(text, error_table::message_bytes_max);
}

}  // namespace

void error_table::record_request(const outcome& o, double at_s) { record(o, o.provider, o.model, true, at_s); }

void error_table::record_attempt(const outcome& o, std::string_view provider, std::string_view model, double at_s) {
  record(o, provider, model, false, at_s);
}

void error_table::record(const outcome& o, std::string_view provider, std::string_view model, bool request,
                         double at_s) {
  const std::string message = message_of(o);
  // A linear scan over at most rows_max rows: failures come in runs of the same kind, and the table is
  // small; nothing is allocated unless a new row is made.
  for (error_row& row : rows_) {
    if (row.kind == o.kind && row.http_status == o.http_status && row.provider == provider && row.model == model &&
        row.policy == o.decided_by && row.message == message) {
      see(row, request, at_s);
      return;
    }
  }
  if (rows_.size() >= rows_max) {
    other_.other = true;
    see(other_, request, at_s);
    return;
  }
  error_row row;
  row.kind = o.kind;
  row.http_status = o.http_status;
  row.provider = provider;
  row.model = model;
  row.policy = o.decided_by;
  row.message = message;
  see(row, request, at_s);
  rows_.push_back(std::move(row));
}

std::vector<error_row> error_table::rows() const {
  std::vector<error_row> out = rows_;
  auto key = [](const error_row& r) {
    return std::tie(r.kind, r.http_status, r.provider, r.model, r.policy, r.message);
  };
  std::sort(out.begin(), out.end(), [&](const error_row& a, const error_row& b) {
    if (a.requests != b.requests) return a.requests > b.requests;
    if (a.attempts != b.attempts) return a.attempts > b.attempts;
    return key(a) < key(b);
  });
  if (other_.other) out.push_back(other_);
  return out;
}

traffic_row& traffic_table::row(std::string_view provider, std::string_view model) {
  for (traffic_row& r : rows_) {
    if (!r.other && r.provider == provider && r.model == model) return r;
  }
  if (rows_.size() - (other_ ? 1 : 0) >= rows_max) {
    if (!other_) {
      other_ = &rows_.emplace_back();
      other_->other = true;
    }
    return *other_;
  }
  traffic_row& r = rows_.emplace_back();
  r.provider = provider;
  r.model = model;
  return r;
}

void traffic_table::record(traffic_row& row, const outcome* o, duration latency) noexcept {
  ++row.attempts;
  if (!o) {
    ++row.cancelled;
    return;
  }
  ++(o->kind == outcome_class::ok ? row.successes : row.failures);
  row.cost_usd += o->cost_usd;
  const auto us = std::chrono::duration_cast<std::chrono::microseconds>(latency).count();
  row.latency.record(us < 0 ? 0 : static_cast<std::uint64_t>(us));
}

std::vector<const traffic_row*> traffic_table::rows() const {
  std::vector<const traffic_row*> out;
  for (const traffic_row& r : rows_) {
    if (!r.other) out.push_back(&r);
  }
  if (other_) out.push_back(other_);
  return out;
}

}  // namespace squall::sim
