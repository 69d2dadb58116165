// AI requests (chat, messages, embeddings): reading the body, attribution, admission by the provider
// model, the slot and the queue, the injected errors and wire faults, and the timing of the answer. The
// answer's bytes are the job's answer_format's (fake_providers/apis/), one per API endpoint.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

#include "fake_providers/apis/answer_format.hpp"
#include "fake_providers/apis/anthropic_tools_request.hpp"
#include "fake_providers/apis/openai_tools_request.hpp"
#include "fake_providers/endpoint.hpp"
#include "policies/core/json_parse.hpp"
#include "policies/core/json_text.hpp"

namespace squall::fake::detail {
namespace {

// Stream chunks go out at most this often: a 2,000-token answer at 1 ms per token becomes 200 writes.
constexpr duration stream_tick_min = std::chrono::milliseconds{10};

std::string hex64(std::uint64_t v) {
  char buf[20];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
  return buf;
}

bool parse_u64(std::string_view text, std::uint64_t& out) {
  if (text.empty() || text.size() > 20) return false;
  std::uint64_t v = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
    const auto digit = static_cast<std::uint64_t>(c - '0');
    if (v > (std::numeric_limits<std::uint64_t>::max() - digit) / 10) return false;
    v = v * 10 + digit;
  }
  out = v;
  return true;
}

const char* kind_name(request_kind k) noexcept {
  switch (k) {
    case request_kind::chat: return "chat";
    case request_kind::embeddings: return "embeddings";
    case request_kind::messages: return "messages";
    case request_kind::generate_content: return "generate_content";
    case request_kind::count_tokens: return "count_tokens";
    case request_kind::responses: return "responses";
  }
  return "chat";
}

// The first `bytes` of `text`, or fewer so as not to split a UTF-8 sequence.
std::size_t utf8_floor(std::string_view text, std::size_t bytes) noexcept {
  bytes = std::min(bytes, text.size());
  while (bytes > 0 && bytes < text.size() && (static_cast<unsigned char>(text[bytes]) & 0xC0U) == 0x80U) --bytes;
  return bytes;
}

// The content of an answer whose request shapes it (OpenAI's tools, tool_choice and output formats,
// Anthropic's tools and tool_choice), drawn from the job's text rng; the words of a plain answer are
// drawn later, as they are written. The answer's text is spread over its tokens; when max_tokens cut it
// at `out` of `natural` tokens, the same share of the text is kept. nullopt, or the 400 of a schema the generator cannot satisfy.
std::optional<error_spec> shape_content(job& j, std::uint32_t natural) {
  if (j.k != request_kind::chat && j.k != request_kind::responses && j.k != request_kind::messages) return std::nullopt;
  if (j.shape.tools.is_null() && j.shape.output_format.is_null()) return std::nullopt;
  const content::answer_request ask =
      j.k == request_kind::messages ? messages_content_request_of(j.shape)
                                    : content_request_of(j.shape, j.k == request_kind::chat ? tool_shape::chat : tool_shape::responses);
  content::answer_result made = content::answer(ask, j.text_rng);
  if (!made) return invalid_request(made.error().describe());
  j.content = std::move(made).value();
  if (j.content.kind == content::answer_kind::json) {
    j.content_text = std::move(j.content.json_text);
  } else if (j.content.kind == content::answer_kind::tool_calls && !j.content.tool_calls.empty()) {
    j.content_text = j.content.tool_calls.front().arguments_json;
  }
  if (j.req.output_tokens == 0) {
    // A call or a JSON value takes a token at least: a shaped answer is never empty.
    j.req.output_tokens = 1;
    natural = std::max<std::uint32_t>(natural, 1);
  }
  if (j.cut && natural > 0) {
    const auto kept = static_cast<std::size_t>(static_cast<double>(j.content_text.size()) * j.req.output_tokens / natural);
    j.content_text.resize(utf8_floor(j.content_text, kept));
  }
  return std::nullopt;
}

// Whether a query string ("alt=sse&key=K") holds `name`=`value`.
bool query_has(std::string_view query, std::string_view name, std::string_view value) noexcept {
  while (!query.empty()) {
    const std::size_t amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    if (pair.size() == name.size() + 1 + value.size() && pair.starts_with(name) && pair[name.size()] == '=' &&
        pair.ends_with(value)) {
      return true;
    }
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return false;
}

// The endpoint a fault window's "endpoints" names for a request kind.
sim::endpoint_kind endpoint_of(request_kind k) noexcept {
  switch (k) {
    case request_kind::chat: return sim::endpoint_kind::chat;
    case request_kind::embeddings: return sim::endpoint_kind::embeddings;
    case request_kind::responses: return sim::endpoint_kind::responses;
    case request_kind::messages:
    case request_kind::count_tokens: return sim::endpoint_kind::messages;  // count_tokens: never admitted
    case request_kind::generate_content: return sim::endpoint_kind::chat;  // Gemini's chat call
  }
  return sim::endpoint_kind::chat;
}

}  // namespace

// The part of a shaped answer's text that its tokens [from, upto) carry: an even share of its bytes each.
std::string content_piece(const job& j, std::uint32_t from, std::uint32_t upto) {
  const std::string_view text = j.content_text;
  const std::uint32_t n = j.req.output_tokens;
  if (n == 0) return {};
  const std::size_t begin = utf8_floor(text, text.size() * from / n);
  const std::size_t end = upto >= n ? text.size() : utf8_floor(text, text.size() * upto / n);
  return std::string(text.substr(begin, end - begin));
}

void provider_endpoint::api_request(const std::shared_ptr<session>& s, http::request<http::string_body>& req,
                                    const ai_route& route, std::string_view query) {
  const job::kind k = route.kind;
  const bool keep_alive = req.keep_alive();
  ++api_requests_;
  const time_point now = clock_.now();
  const time_point arrival = s->arrived_at() ? std::min(*s->arrived_at(), now) : now;

  // Which user request and which of its attempts this is (fake_server.hpp): common random numbers with
  // the simulation, and the attempt log's attribution.
  std::uint64_t id = 0;
  std::uint64_t attempt = 1;
  attribution by = attribution::none;
  const auto id_header = req.find("x-squall-request-id");
  const auto attempt_header = req.find("x-squall-attempt");
  const bool id_ok =
      id_header == req.end() || parse_u64(std::string_view(id_header->value().data(), id_header->value().size()), id);
  const bool attempt_ok =
      attempt_header == req.end() ||
      (parse_u64(std::string_view(attempt_header->value().data(), attempt_header->value().size()), attempt) &&
       attempt >= 1 && attempt <= std::numeric_limits<std::uint32_t>::max());
  if (id_header != req.end() && id_ok) {
    by = attribution::header;
  } else if (const std::optional<std::uint64_t> marked = find_prompt_marker(req.body())) {
    id = *marked;
    by = attribution::prompt_marker;
  }
  if (by != attribution::none && (attempt_header == req.end() || !attempt_ok)) attempt = log_.count_attempt(id);

  std::uint64_t record = attempt_log::no_record;
  if (log_.recording()) {
    upstream_attempt a;
    a.provider = config_.name;
    a.kind = kind_name(k);
    a.attributed_by = by;
    a.request_id = by == attribution::none ? 0 : id;
    a.attempt = by == attribution::none ? 1 : static_cast<std::uint32_t>(attempt);
    a.arrived_ms = to_ms(arrival.time_since_epoch());
    record = log_.open(std::move(a));
  }
  // A 400 before any job exists.
  auto reject = [&](const error_spec& e) {
    if (upstream_attempt* a = log_.find(record)) {
      a->ended_ms = to_ms(clock_.now().time_since_epoch());
      a->status = e.status;
      a->end = "error";
    }
    send_error(s, keep_alive, e);
  };

  parsed_request pr;
  const request_limits limits{options.output_tokens_max, options.embedding_dims_default, options.embedding_inputs_max};
  std::shared_ptr<gemini_request> gemini;
  if (k == job::kind::generate_content) {
    gemini = std::make_shared<gemini_request>();
    if (auto e = read_gemini_request_body(req.body(), route.model, route.stream, false, limits, pr, *gemini)) {
      return reject(*e);
    }
  } else if (auto e = read_request_body(api_, k, req.body(), limits, pr, route.model)) {
    return reject(*e);
  }
  if (upstream_attempt* a = log_.find(record)) {
    a->model = pr.model;
    a->input_tokens = pr.input_tokens;
  }
  if (k == job::kind::embeddings) {
    // Refused before anything is built: an answer too large for memory or for the client to wait on.
    const std::size_t bound = embeddings_answer_bytes_bound(pr.embed_inputs, pr.embed_dims, pr.embed_base64);
    if (bound > options.answer_bytes_max) {
      return reject(invalid_request("This embeddings answer would take up to " + std::to_string(bound) + " bytes (" +
                                        std::to_string(pr.embed_inputs) + " inputs of " +
                                        std::to_string(pr.embed_dims) + " dimensions as " +
                                        (pr.embed_base64 ? "base64" : "float") +
                                        "); squall's fake provider answers at most " +
                                        std::to_string(options.answer_bytes_max) +
                                        " bytes. Send fewer inputs, ask for fewer 'dimensions', or use "
                                        "'encoding_format': 'base64'.",
                                    "input"));
    }
  }
  if (!id_ok) return reject(invalid_request("x-squall-request-id must be an unsigned integer"));
  if (!attempt_ok) return reject(invalid_request("x-squall-attempt must be an integer from 1"));
  std::uint64_t planned = 0;
  const auto planned_header = req.find("x-squall-output-tokens");
  const bool planned_ok =
      planned_header == req.end() ||
      parse_u64(std::string_view(planned_header->value().data(), planned_header->value().size()), planned);
  if (!planned_ok) return reject(invalid_request("x-squall-output-tokens must be an unsigned integer"));
  if (by == attribution::none) id = ++next_sequence_;
  std::shared_ptr<const content::answer_content> answer_content;
  if (gemini) {
    // Drawn from a stream of its own, so that the provider model's draws and the words stay as they are.
    rng content_rng(mix_seed(mix_seed(seed_ ^ 0xc047e47ULL, id), attempt));
    content::answer_result made = content::answer(to_answer_request(*gemini), content_rng);
    if (!made) return reject(invalid_request(made.error().describe(), "generation_config.response_schema"));
    answer_content = std::make_shared<const content::answer_content>(std::move(made).value());
  }

  auto j = std::make_shared<job>(shared_from_this(), s, io);
  j->record = record;
  j->k = k;
  j->stream = pr.stream;
  j->include_usage = pr.include_usage;
  j->keep_alive = keep_alive;
  j->embed_inputs = pr.embed_inputs;
  j->embed_dims = pr.embed_dims;
  j->embed_base64 = pr.embed_base64;
  j->embed_texts = std::move(pr.embed_texts);
  j->shape = std::move(pr.shape);
  j->echo = std::move(pr.echo);
  j->stream_array = pr.stream && gemini && !query_has(query, "alt", "sse");
  j->gemini = std::move(gemini);
  j->gemini_content = std::move(answer_content);
  j->req.id = id;
  j->req.provider = model_->config().name;
  j->req.model = pr.model;
  j->req.input_tokens = pr.input_tokens;

  j->attempt = static_cast<std::uint32_t>(attempt);
  rng r(mix_seed(mix_seed(seed_, id), attempt));
  j->draws = model_->draw(r);
  // The answer's natural length: what squall's load generator planned (x-squall-output-tokens), else a
  // draw from the scenario's output tokens. The request's max_tokens cuts a longer one short, and the
  // answer then says so (finish reason "length", stop reason "max_tokens"), as a real model's does.
  std::uint32_t natural_tokens = 0;  // for shape_content
  if (k == job::kind::embeddings) {
    j->req.output_tokens = 0;
  } else {
    std::uint64_t natural = 0;
    if (!planned_ok || planned_header == req.end()) {
      natural = static_cast<std::uint64_t>(std::clamp(std::round(options.output_tokens.sample(r)), 0.0,
                                                      static_cast<double>(options.output_tokens_max)));
    } else {
      natural = std::min<std::uint64_t>(planned, options.output_tokens_max);
    }
    j->cut = pr.max_tokens && natural > *pr.max_tokens;
    j->req.output_tokens = j->cut ? *pr.max_tokens : static_cast<std::uint32_t>(natural);
    natural_tokens = static_cast<std::uint32_t>(natural);
  }
  j->text_rng = r;
  if (auto e = shape_content(*j, natural_tokens)) return reject(*e);
  j->request_id = next_request_id();
  j->format = &answer_format_for(k);
  j->object_id = j->format->id_prefix + hex64(mix_seed(seed_ ^ 0x5eedULL, request_counter_));
  j->created_unix_s = real_clock::unix_s();
  s->set_current(j);
  admit(j, arrival);
}

void provider_endpoint::record_end(job& j, int status, const char* end) {
  observe_exchange(j, status);  // /metrics, with the attempt log on or off
  if (j.record == attempt_log::no_record || stopping) return;
  upstream_attempt* a = log_.find(j.record);
  if (a == nullptr || a->ended_ms >= 0) return;  // the first end is the one the client saw
  a->ended_ms = to_ms(clock_.now().time_since_epoch());
  a->status = status;
  a->end = end;
}

void provider_endpoint::record_billed(const job& j, double cost_usd) {
  if (j.record == attempt_log::no_record) return;
  if (upstream_attempt* a = log_.find(j.record)) {
    a->output_tokens = j.req.output_tokens;
    a->cost_usd = cost_usd;
  }
}

void provider_endpoint::admit(const std::shared_ptr<job>& j, time_point now) {
  j->arrival = now;
  j->adm = model_->admit(now, j->req, j->draws, j->attempt, endpoint_of(j->k));
  switch (j->adm.kind) {
    case sim::admission_kind::refuse: {
      // A request on a connection opened before the outage: the dead server resets it.
      count_fault(j->adm.outage == sim::outage_kind::handshake ? "handshake" : "refuse");
      j->ph = job::phase::done;
      record_end(*j, 0, "reset");
      std::shared_ptr<session> s = std::move(j->s);
      if (s) s->close_now(true);
      return;
    }
    case sim::admission_kind::reset:
      count_fault("reset");
      return answer_after(j, model_->error_latency(j->draws));
    case sim::admission_kind::hang:
      count_fault("hang");
      j->ph = job::phase::hung;
      ++hung_;
      return;
    case sim::admission_kind::unknown_model:
      return answer_after(j, model_->error_latency(j->draws));
    case sim::admission_kind::injected:
      if (const sim::error_kind_info* named = sim::info(j->adm.error)) {
        count_fault(std::string(named->name));
      } else {
        count_fault(std::to_string(j->adm.http_status));
      }
      return answer_after(j, model_->error_latency(j->draws));
    case sim::admission_kind::rate_limited:
      count_fault("rate_limited");
      return answer_after(j, model_->error_latency(j->draws));
    case sim::admission_kind::serve:
      if (j->adm.content != sim::content_fault::none) {
        count_fault(j->adm.content == sim::content_fault::empty       ? "content_empty"
                    : j->adm.content == sim::content_fault::truncated ? "content_truncated"
                                                                      : "content_invalid_json");
      }
      if (j->adm.content == sim::content_fault::truncated) {
        // The answer stops halfway through its tokens and says it was cut, as the simulation has it.
        j->req.output_tokens /= 2;
        j->cut = true;
      }
      switch (model_->place(busy_, queue_.size())) {
        case sim::capacity_decision::start:
          return start_service(j, now);
        case sim::capacity_decision::enqueue:
          j->ph = job::phase::queued;
          queue_.push_back(j);
          return;
        case sim::capacity_decision::shed:
          count_fault("shed");
          j->adm.http_status = model_->shed_status();
          j->adm.cls = outcome_class::overloaded;
          j->adm.kind = sim::admission_kind::injected;
          return answer_after(j, model_->error_latency(j->draws));
      }
  }
}

void provider_endpoint::answer_after(const std::shared_ptr<job>& j, duration delay) {
  j->ph = job::phase::answering;
  ++answering_;
  j->timer.expires_at(clock_.steady_at(j->arrival + delay));
  j->timer.async_wait([j](error_code ec) {
    if (ec || j->ph != job::phase::answering || j->p->stopping) return;
    j->p->run_job_step(j, "answer", [&] { j->p->deliver_error(j); });
  });
}

void provider_endpoint::deliver_error(const std::shared_ptr<job>& j) {
  j->ph = job::phase::done;
  --answering_;
  std::shared_ptr<session> s = std::move(j->s);
  if (!s) return;
  const bool openai = api_ == api_style::openai;
  const bool gemini = api_ == api_style::gemini;
  const sim::admission& a = j->adm;
  if (a.kind == sim::admission_kind::reset) {
    record_end(*j, 0, "reset");
    s->close_now(true);
    return;
  }
  record_end(*j, a.http_status, "error");
  error_spec e{a.http_status, "", "", std::nullopt, std::nullopt};
  if (const sim::error_kind_info* named = sim::info(a.error); named && a.kind == sim::admission_kind::injected) {
    e = error_for_kind(api_, a.error);
  } else if (a.kind == sim::admission_kind::unknown_model) {
    e.message = openai ? "The model `" + j->req.model + "` does not exist or you do not have access to it."
                       : "model: " + j->req.model;
    if (openai) e.code = "model_not_found";
    if (gemini) {
      e.message = "models/" + j->req.model +
                  " is not found for API version v1beta, or is not supported for generateContent. Call ListModels "
                  "to see the list of available models and their supported methods.";
    }
  } else if (a.kind == sim::admission_kind::rate_limited && gemini) {
    e.message = "You exceeded your current quota, please check your plan and billing details. For more information "
                "on this error, head to: https://ai.google.dev/gemini-api/docs/rate-limits." +
                (a.retry_after ? " Please retry in " + protobuf_duration(to_s(*a.retry_after)) + "." : std::string());
  } else if (a.kind == sim::admission_kind::rate_limited) {
    const std::string wait = a.retry_after ? go_duration(to_s(*a.retry_after)) : std::string("a minute");
    e.message = openai ? "Rate limit reached for " + j->req.model + " on requests per min (RPM). Please try again in " +
                             wait + "."
                       : "This request would exceed your organization's rate limit. Please try again in " + wait + ".";
  }
  send_error(s, j->keep_alive, e, a.retry_after);
}

void provider_endpoint::client_gone(job& j) {
  record_end(j, j.head_sent ? 200 : 0, j.ph == job::phase::hung ? "hang" : "client_gone");
  switch (j.ph) {
    case job::phase::answering:
      j.ph = job::phase::done;
      --answering_;
      j.timer.cancel();
      break;
    case job::phase::hung:
      j.ph = job::phase::done;
      --hung_;
      break;
    case job::phase::queued:
    case job::phase::in_service:
    case job::phase::done:
      break;  // the server never learns the client left: the work goes on
  }
  j.s.reset();
}

void provider_endpoint::start_service(const std::shared_ptr<job>& j, time_point start) {
  ++busy_;
  j->ph = job::phase::in_service;
  j->started = start;
  const sim::service_factors f = model_->factors_at(start, j->adm.timeline);
  j->plan = model_->plan_service(j->draws, j->req.output_tokens, f.latency_x, busy_, f.ttft_x, f.token_x);
  if (j->stream && j->s) send_stream_open(*j);
  schedule_tick(j, clock_.now());
}

std::uint32_t provider_endpoint::tokens_due(const job& j, duration elapsed) const noexcept {
  const std::uint32_t n = j.req.output_tokens;
  if (n == 0 || elapsed < j.plan.ttft) return 0;
  if (elapsed >= j.plan.total) return n;
  const duration gap = (j.plan.total - j.plan.ttft) / n;
  if (gap.count() <= 0) return n;
  const auto k = 1 + static_cast<std::uint64_t>((elapsed - j.plan.ttft) / gap);
  return static_cast<std::uint32_t>(std::min<std::uint64_t>(k, n));
}

void provider_endpoint::schedule_tick(const std::shared_ptr<job>& j, time_point now) {
  const duration elapsed = now - j->started;
  duration next = j->plan.total;
  const bool strikes = j->adm.wire == sim::wire_fault::stream_cut || j->adm.wire == sim::wire_fault::error_event;
  if (strikes && !j->wire_struck && j->s) next = std::min(next, j->plan.wire_fault_at());
  if (j->stream && j->s && j->tokens_sent < j->req.output_tokens) {
    const duration gap = (j->plan.total - j->plan.ttft) / j->req.output_tokens;
    duration due = j->plan.ttft + gap * j->tokens_sent;
    if (j->tokens_sent > 0) due = std::max(due, elapsed + stream_tick_min);
    next = std::min(next, due);
  }
  if (j->started + next <= now) {
    // Due already (no latency): a posted handler, not a timer. Arming a timer that is the earliest one
    // re-arms the reactor's timerfd, a system call per answer that showed up in the profile.
    asio::post(io, [j] {
      if (!j->p->stopping) j->p->run_job_step(j, "answer", [&] { j->p->tick(j); });
    });
    return;
  }
  j->timer.expires_at(clock_.steady_at(j->started + next));
  j->timer.async_wait([j](error_code ec) {
    if (ec || j->p->stopping) return;
    j->p->run_job_step(j, "answer", [&] { j->p->tick(j); });
  });
}

void provider_endpoint::tick(const std::shared_ptr<job>& j) {
  if (j->ph != job::phase::in_service) return;  // ended by job_error while this tick was posted
  const time_point now = clock_.now();
  const duration elapsed = now - j->started;
  const bool strikes = j->adm.wire == sim::wire_fault::stream_cut || j->adm.wire == sim::wire_fault::error_event;
  const bool strike_now = strikes && !j->wire_struck && j->s && elapsed >= j->plan.wire_fault_at();
  if (j->stream && j->s && elapsed < j->plan.total) {
    send_stream_tokens(*j, tokens_due(*j, strike_now ? j->plan.wire_fault_at() : elapsed));
  }
  if (strike_now) {
    j->wire_struck = true;
    std::shared_ptr<session> s = j->s;
    if (j->adm.wire == sim::wire_fault::stream_cut) {
      count_fault("stream_cut");
      record_end(*j, 200, "stream_cut");
      if (!j->stream) {
        // The head promises the whole body; half of it arrives, then the connection closes.
        ++responses_[200];
        const std::string body = j->format->body(*j);
        header_list h = api_headers(j->request_id, true);
        h.emplace(h.begin(), "Content-Type", "application/json");
        s->send(response_head(200, h, body.size(), true) + body.substr(0, body.size() / 2));
      }
      end_exchange(*j, false);
    } else {
      count_fault("error_event");
      record_end(*j, j->stream ? 200 : model_->shed_status(), j->stream ? "error_event" : "error");
      if (j->stream) {
        s->send(chunk(j->format->stream_error(*j)) + chunk(""));
        end_exchange(*j, j->keep_alive);
      } else {
        j->s.reset();
        send_error(s, j->keep_alive, error_spec{model_->shed_status(), "", "", std::nullopt, std::nullopt});
      }
    }
  }
  if (elapsed >= j->plan.total) {
    finish_service(j);
  } else {
    schedule_tick(j, now);
  }
}

void provider_endpoint::end_exchange(job& j, bool keep_alive) {
  std::shared_ptr<session> s = std::move(j.s);
  if (s) s->complete_exchange(keep_alive);
}

void provider_endpoint::finish_service(const std::shared_ptr<job>& j) {
  --busy_;
  j->ph = job::phase::done;
  const double cost = model_->cost_usd(j->adm.model_index, j->req.input_tokens, j->req.output_tokens);
  input_tokens_ += j->req.input_tokens;
  output_tokens_ += j->req.output_tokens;
  cost_usd_ += cost;
  record_billed(*j, cost);
  // The freed slot goes to the head of the queue first, as in the simulation.
  if (!stopping && !queue_.empty()) {
    std::shared_ptr<job> next = std::move(queue_.front());
    queue_.pop_front();
    start_service(next, clock_.now());
  }
  if (!j->s || j->wire_struck) return;
  test_hook("answer");
  const bool malformed = j->adm.wire == sim::wire_fault::malformed;
  if (malformed) count_fault("malformed");
  record_end(*j, 200, malformed ? "malformed" : "ok");
  if (j->stream) {
    if (malformed) j->s->send(chunk(j->format->stream_malformed(*j)));  // the last content event does not parse
    send_stream_tokens(*j, j->req.output_tokens);
    send_stream_close(*j);
    end_exchange(*j, j->keep_alive);
    return;
  }
  std::string body = j->format->body(*j);
  if (malformed) body.resize(body.size() / 2);
  header_list h = api_headers(j->request_id, true);
  if (api_ == api_style::openai) {
    h.emplace_back("openai-processing-ms",
                   std::to_string(static_cast<long long>(to_ms(clock_.now() - j->started))));
  }
  std::shared_ptr<session> s = std::move(j->s);
  send_json(s, 200, std::move(body), j->keep_alive, std::move(h));
}

void provider_endpoint::send_stream_open(job& j) {
  ++responses_[200];
  j.head_sent = true;
  header_list h = api_headers(j.request_id, true);
  h.emplace(h.begin(), "Cache-Control", "no-cache");
  h.emplace(h.begin(), "Content-Type", j.stream_array ? "application/json; charset=UTF-8" : "text/event-stream; charset=utf-8");
  std::string bytes = response_head(200, h, std::nullopt, j.keep_alive);
  if (std::string events = j.format->stream_open(j); !events.empty()) bytes += chunk(events);
  j.s->send(std::move(bytes));
}

void provider_endpoint::send_stream_tokens(job& j, std::uint32_t upto) {
  if (upto <= j.tokens_sent || !j.s) return;
  const bool shaped = j.content.kind != content::answer_kind::text;
  const std::string text = shaped ? content_piece(j, j.tokens_sent, upto) : answer_piece(j, upto - j.tokens_sent);
  if (text.empty()) {
    j.tokens_sent = upto;  // an empty answer: the tokens are billed, no text is sent
    return;
  }
  std::string event = j.format->stream_text(j, text);
  j.tokens_sent = upto;
  j.s->send(chunk(event));
}

void provider_endpoint::send_stream_close(job& j) { j.s->send(chunk(j.format->stream_close(j)) + chunk("")); }

}  // namespace squall::fake::detail
