#include "traces/trace.hpp"

#include "policies/core/json_text.hpp"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>

#include <openssl/evp.h>

#include "policies/core/json_parse.hpp"
#include "policies/core/json_reader.hpp"
#include "policies/core/outcome.hpp"

namespace squall::traces {
namespace {

constexpr std::string_view exact_kept_headers[] = {
    "retry-after", "retry-after-ms", "x-should-retry", "request-id", "x-request-id", "openai-processing-ms",
};
constexpr std::string_view kept_header_prefixes[] = {"x-ratelimit-", "anthropic-ratelimit-"};

// The largest time or duration a trace may hold: about 31 years in ms. Bounds what a reader accepts so
// that later arithmetic (ns conversions) cannot overflow.
constexpr double ms_max = 1e12;

bool usable_ms(double v) noexcept { return std::isfinite(v) && v >= 0 && v <= ms_max; }

std::string dump(const json& j) { return dump_json(j); }

std::string to_lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c); });
  return out;
}

bool is_lower_hex_sha256(std::string_view s) noexcept {
  return s.size() == 64 &&
         std::all_of(s.begin(), s.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

// Applies the header's prompt mode and the header allow-list; the one place where secrets are dropped.
void scrub(trace_attempt& a, prompt_mode mode) {
  if (mode == prompt_mode::none) {
    a.prompt.clear();
    a.prompt_sha256.clear();
  } else {
    if (a.prompt_sha256.empty() && !a.prompt.empty()) a.prompt_sha256 = prompt_sha256_hex(a.prompt);
    if (mode == prompt_mode::hash) a.prompt.clear();
  }
  std::vector<std::pair<std::string, std::string>> kept;
  kept.reserve(a.headers.size());
  for (auto& [name, value] : a.headers) {
    std::string lower = to_lower(name);
    if (is_kept_header(lower)) kept.emplace_back(std::move(lower), std::move(value));
  }
  a.headers = std::move(kept);
}

// Reads the lines of one trace; shared by read_trace (streaming from a file) and parse_trace.
class trace_parser {
 public:
  trace_parser(const std::string& name, const trace_read_options& options) : name_(name), options_(options) {}

  // `line` without its newline; `complete` is false for a last line the file ends in the middle of.
  // Returns false once an error is kept.
  bool feed(std::string_view line, bool complete) {
    ++line_number_;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.find_first_not_of(" \t") == std::string_view::npos) {
      // Blank lines carry nothing; allowing them keeps hand-edited traces readable.
      return true;
    }
    auto parsed = parse_json_line(line);
    if (!parsed) {
      if (!complete && parsed.error().path.empty()) {
        return fail("$", "truncated last line: the file ends in the middle of a line (was its writer "
                         "interrupted?)");
      }
      const config_error& e = parsed.error();
      if (!e.path.empty()) return fail(e.path, e.message);
      return fail("$", "not a JSON object: " + e.message);
    }
    json value = std::move(*parsed);
    if (!seen_header_) return read_header(value);
    if (trace_.attempts.size() >= options_.attempts_max) {
      return fail("$", "more than " + std::to_string(options_.attempts_max) +
                           " attempts (attempts_max); split the trace or raise the limit");
    }
    return read_attempt(value);
  }

  config_result<trace> finish() {
    if (error_) return std::move(*error_);
    if (!seen_header_) {
      return config_error{name_, "", "empty trace: expected a first line like {\"squall_trace\": " +
                                         std::to_string(trace_version) + ", \"source\": \"record\"}"};
    }
    return std::move(trace_);
  }

  bool failed() const noexcept { return error_.has_value(); }

 private:
  bool fail(const std::string& path, std::string message) {
    if (!error_) error_ = config_error{name_, "line " + std::to_string(line_number_) + ": " + path, std::move(message)};
    return false;
  }
  bool fail_with(std::optional<config_error> e) {
    if (!e) return true;
    return fail(e->path, std::move(e->message));
  }

  bool read_header(const json& value) {
    if (!value.is_object() || !value.contains("squall_trace")) {
      return fail("$", "not a squall trace: expected a first line like {\"squall_trace\": " +
                           std::to_string(trace_version) + ", \"source\": \"record\"}, got " +
                           (value.is_object() ? std::string("an object without \"squall_trace\"")
                                              : describe_json(value)));
    }
    json_reader r(value, "$");
    std::int64_t version = 0;
    r.integer("squall_trace", version, 1, std::numeric_limits<std::int32_t>::max());
    if (r.failed()) return fail_with(r.finish());
    if (version > trace_version) {
      return fail("$.squall_trace", "trace format version " + std::to_string(version) +
                                        " is newer than this squall reads (" + std::to_string(trace_version) +
                                        "); expected a version from 1 to " + std::to_string(trace_version) + ", or a newer squall");
    }
    trace_.header.version = static_cast<int>(version);
    std::string prompts = "hash";
    r.choice("source", trace_.header.source, {"record", "live", "sim", "import"})
        .string("started_at", trace_.header.started_at)
        .choice("prompts", prompts, {"none", "hash", "text"});
    if (!value.contains("source")) r.fail("$", "missing key \"source\"; expected \"record\", \"live\", \"sim\" or \"import\"");
    if (!fail_with(r.finish())) return false;
    trace_.header.prompts = prompts == "none" ? prompt_mode::none
                            : prompts == "text" ? prompt_mode::text
                                                : prompt_mode::hash;
    seen_header_ = true;
    return true;
  }

  bool read_attempt(const json& value) {
    json_reader r(value, "$");
    trace_attempt a;
    if (!value.is_object() || !value.contains("t_ms")) {
      if (value.is_object()) r.fail("$", "missing key \"t_ms\"; expected the send time in ms after the start");
      return fail_with(r.finish());
    }
    std::int64_t status = 0;
    std::optional<double> latency_ms;
    std::optional<double> ttft_ms;
    r.number("t_ms", a.t_ms, 0, ms_max)
        .string("request_id", a.request_id)
        .count("attempt", a.attempt, 0, 1'000'000)
        .string("provider", a.provider)
        .choice("api", a.api, {"openai", "anthropic", "gemini"})
        .string("endpoint", a.endpoint)
        .string("model", a.model)
        .boolean("stream", a.stream);
    read_tokens(r, "input_tokens", a.input_tokens);
    read_tokens(r, "output_tokens", a.output_tokens);
    r.integer("status", status, 0, 999).string("error_type", a.error_type);
    read_outcome(r, a.outcome);
    r.number("latency_ms", latency_ms, 0, ms_max).number("ttft_ms", ttft_ms, 0, ms_max);
    a.status = static_cast<int>(status);
    a.latency_ms = latency_ms;
    a.ttft_ms = ttft_ms;
    if (const json* h = r.child("headers"); h && !r.failed()) read_headers(r, *h, a.headers);
    if (const json* sha = r.child("prompt_sha256"); sha && !r.failed()) {
      if (!sha->is_string() || !is_lower_hex_sha256(sha->get_ref<const std::string&>())) {
        r.fail_key("prompt_sha256", "expected 64 lowercase hex digits, got " + describe_json(*sha));
      } else if (trace_.header.prompts == prompt_mode::none) {
        r.fail_key("prompt_sha256", "the trace's header says \"prompts\": \"none\", so no line may carry a hash");
      } else {
        a.prompt_sha256 = sha->get<std::string>();
      }
    }
    if (const json* p = r.child("prompt"); p && !r.failed()) {
      if (!p->is_string()) {
        r.fail_key("prompt", "expected a string, got " + describe_json(*p));
      } else if (trace_.header.prompts != prompt_mode::text) {
        r.fail_key("prompt", "the trace's header says \"prompts\": \"" +
                                 std::string(to_string(trace_.header.prompts)) + "\", so no line may carry a prompt");
      } else {
        a.prompt = p->get<std::string>();
      }
    }
    if (!fail_with(r.finish())) return false;
    trace_.attempts.push_back(std::move(a));
    return true;
  }

  static void read_tokens(json_reader& r, std::string_view key, std::optional<std::uint32_t>& out) {
    std::int64_t v = -1;
    r.integer(key, v, 0, std::numeric_limits<std::uint32_t>::max());
    if (v >= 0 && !r.failed()) out = static_cast<std::uint32_t>(v);
  }

  static void read_outcome(json_reader& r, std::string& out) {
    const json* v = r.child("outcome");
    if (!v || r.failed()) return;
    if (v->is_string() && outcome_class_from_string(v->get_ref<const std::string&>())) {
      out = v->get<std::string>();
      return;
    }
    std::string list;
    for (auto n : outcome_class_names) {
      if (!list.empty()) list += ", ";
      list += n;
    }
    r.fail_key("outcome", "expected an outcome class (" + list + "), got " + describe_json(*v));
  }

  static void read_headers(json_reader& r, const json& h, std::vector<std::pair<std::string, std::string>>& out) {
    const std::string path = json_path_key(r.path(), "headers");
    if (!h.is_object()) {
      r.fail(path, "expected an object of header names to strings, got " + describe_json(h));
      return;
    }
    for (auto it = h.begin(); it != h.end(); ++it) {
      const std::string& name = it.key();
      const std::string at = json_path_key(path, name);
      if (name != to_lower(name)) {
        r.fail(at, "header names are lowercase in a trace, got \"" + name + "\"");
        return;
      }
      if (!is_kept_header(name)) {
        r.fail(at, "header \"" + name + "\" is not one a trace keeps (retry-after, retry-after-ms, "
                   "x-should-retry, x-ratelimit-*, anthropic-ratelimit-*, request-id, x-request-id, "
                   "openai-processing-ms)");
        return;
      }
      if (!it->is_string()) {
        r.fail(at, "expected a string, got " + describe_json(*it));
        return;
      }
      out.emplace_back(name, it->get<std::string>());
    }
  }

  const std::string& name_;
  const trace_read_options& options_;
  trace trace_;
  std::optional<config_error> error_;
  std::uint64_t line_number_ = 0;
  bool seen_header_ = false;
};

}  // namespace

bool is_kept_header(std::string_view lowercase_name) noexcept {
  for (auto h : exact_kept_headers) {
    if (lowercase_name == h) return true;
  }
  for (auto p : kept_header_prefixes) {
    if (lowercase_name.size() > p.size() && lowercase_name.substr(0, p.size()) == p) {
      // The rest must look like a header name too: a prefix must not let odd text into a trace.
      return std::all_of(lowercase_name.begin() + static_cast<std::ptrdiff_t>(p.size()), lowercase_name.end(),
                         [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_'; });
    }
  }
  return false;
}

std::string prompt_sha256_hex(std::string_view prompt) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  if (EVP_Digest(prompt.data(), prompt.size(), digest, &size, EVP_sha256(), nullptr) != 1) return {};
  static constexpr char hex[] = "0123456789abcdef";
  std::string out;
  out.reserve(size * 2U);
  for (unsigned int i = 0; i < size; ++i) {
    out += hex[digest[i] >> 4U];
    out += hex[digest[i] & 0xFU];
  }
  return out;
}

std::string_view to_string(prompt_mode mode) noexcept {
  switch (mode) {
    case prompt_mode::none: return "none";
    case prompt_mode::hash: return "hash";
    case prompt_mode::text: return "text";
  }
  return "hash";
}

std::string encode_line(const trace_header& header) {
  json j;
  j["squall_trace"] = header.version;
  j["source"] = header.source;
  if (!header.started_at.empty()) j["started_at"] = header.started_at;
  j["prompts"] = std::string(to_string(header.prompts));
  return dump(j);
}

namespace {

// A line is built by hand rather than through a json value: a run trace writes one line per attempt, and
// this is several times faster. The output is the JSON nlohmann would write, key for key.
class line_builder {
 public:
  line_builder() { out_.reserve(256); }
  void key(std::string_view k) {
    out_ += first_ ? '{' : ',';
    first_ = false;
    string(k);
    out_ += ':';
  }
  void text(std::string_view k, std::string_view v) {
    key(k);
    string(v);
  }
  void integer(std::string_view k, std::int64_t v) {
    key(k);
    char buffer[24];
    auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, v);
    out_.append(buffer, end);
  }
  // Integral values as integers ("812"), others in the shortest form that parses back to the same
  // double (std::to_chars): exact and deterministic.
  void number(std::string_view k, double v) {
    if (v == std::floor(v) && std::fabs(v) < 9.0e15) return integer(k, static_cast<std::int64_t>(v));
    key(k);
    char buffer[32];
    auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, v);
    out_.append(buffer, end);
  }
  void boolean(std::string_view k, bool v) {
    key(k);
    out_ += v ? "true" : "false";
  }
  void open_object(std::string_view k) {
    key(k);
    first_ = true;
  }
  void close() {
    out_ += first_ ? "{}" : "}";
    first_ = false;
  }
  std::string take() {
    close();
    return std::move(out_);
  }

 private:
  // Bytes that are not valid UTF-8 become U+FFFD (policies/core/json_text.hpp), so a line is always valid
  // JSON whatever a log or a server sent.
  void string(std::string_view v) { append_json_string(out_, v); }

  std::string out_;
  bool first_ = true;
};

}  // namespace

std::string encode_line(const trace_attempt& a) {
  line_builder j;
  // A time the reader would reject is clamped rather than written: t_ms is required, so it cannot be
  // left out like the optional numbers below.
  j.number("t_ms", usable_ms(a.t_ms) ? a.t_ms : (a.t_ms > 0 ? ms_max : 0.0));
  if (!a.request_id.empty()) j.text("request_id", a.request_id);
  if (a.attempt != 0) j.integer("attempt", a.attempt);
  if (!a.provider.empty()) j.text("provider", a.provider);
  if (!a.api.empty()) j.text("api", a.api);
  if (!a.endpoint.empty()) j.text("endpoint", a.endpoint);
  if (!a.model.empty()) j.text("model", a.model);
  if (a.stream) j.boolean("stream", true);
  if (a.input_tokens) j.integer("input_tokens", *a.input_tokens);
  if (a.output_tokens) j.integer("output_tokens", *a.output_tokens);
  j.integer("status", a.status);
  if (!a.error_type.empty()) j.text("error_type", a.error_type);
  if (!a.outcome.empty()) j.text("outcome", a.outcome);
  if (a.latency_ms && usable_ms(*a.latency_ms)) j.number("latency_ms", *a.latency_ms);
  if (a.ttft_ms && usable_ms(*a.ttft_ms)) j.number("ttft_ms", *a.ttft_ms);
  if (!a.headers.empty()) {
    j.open_object("headers");
    for (std::size_t i = 0; i < a.headers.size(); ++i) {
      // A name given twice keeps its first value: one key per name, as JSON objects want.
      const std::string& name = a.headers[i].first;
      bool seen = false;
      for (std::size_t k = 0; k < i && !seen; ++k) seen = a.headers[k].first == name;
      if (!seen) j.text(name, a.headers[i].second);
    }
    j.close();
  }
  if (!a.prompt_sha256.empty()) j.text("prompt_sha256", a.prompt_sha256);
  if (!a.prompt.empty()) j.text("prompt", a.prompt);
  return j.take();
}

// --- trace_writer ---------------------------------------------------------------------------------

namespace {
constexpr std::size_t writer_buffer_bytes = 1U << 16U;
}

config_result<std::unique_ptr<trace_writer>> trace_writer::open(const std::string& path, const trace_header& header) {
  const std::string temp = path + ".tmp";
  std::FILE* file = std::fopen(temp.c_str(), "wb");
  if (!file) return config_error{path, "", "cannot write the trace (" + temp + "): " + std::strerror(errno)};
  // The stdio buffer is the bound on what a writer holds: lines go to the disk in 64 KiB blocks.
  std::setvbuf(file, nullptr, _IOFBF, writer_buffer_bytes);
  std::unique_ptr<trace_writer> writer(new trace_writer(path, file, header.prompts));
  const std::string line = encode_line(header) + '\n';
  if (std::fwrite(line.data(), 1, line.size(), file) != line.size()) writer->failed_ = true;
  return writer;
}

trace_writer::trace_writer(std::string path, std::FILE* file, prompt_mode prompts)
    : path_(std::move(path)), file_(file), prompts_(prompts) {}

trace_writer::~trace_writer() {
  if (file_) {
    std::fclose(file_);
    std::error_code ec;
    std::filesystem::remove(path_ + ".tmp", ec);
  }
}

void trace_writer::append(trace_attempt attempt) {
  if (!file_) return;
  scrub(attempt, prompts_);
  std::string line = encode_line(attempt);
  line += '\n';
  if (std::fwrite(line.data(), 1, line.size(), file_) != line.size()) failed_ = true;
  ++written_;
}

std::optional<config_error> trace_writer::finish() {
  if (!file_) return config_error{path_, "", "the trace was already finished"};
  const std::string temp = path_ + ".tmp";
  const bool flushed = std::fflush(file_) == 0 && std::ferror(file_) == 0 && !failed_;
  const int flush_errno = errno;
  const bool closed = std::fclose(file_) == 0;
  file_ = nullptr;
  std::error_code ec;
  if (!flushed || !closed) {
    std::filesystem::remove(temp, ec);
    return config_error{path_, "", std::string("cannot write the trace: ") + std::strerror(flush_errno ? flush_errno : EIO)};
  }
  std::filesystem::rename(temp, path_, ec);
  if (ec) {
    std::error_code ignored;
    std::filesystem::remove(temp, ignored);
    return config_error{path_, "", "cannot rename " + temp + " to " + path_ + ": " + ec.message()};
  }
  return std::nullopt;
}

// --- reading --------------------------------------------------------------------------------------

config_result<trace> parse_trace(std::string_view text, const std::string& name, const trace_read_options& options) {
  trace_parser parser(name, options);
  std::size_t start = 0;
  while (start < text.size()) {
    const std::size_t end = text.find('\n', start);
    const bool complete = end != std::string_view::npos;
    const std::size_t stop = complete ? end : text.size();
    if (!parser.feed(text.substr(start, stop - start), complete)) break;
    start = stop + 1;
  }
  return parser.finish();
}

config_result<trace> read_trace(const std::string& path, const trace_read_options& options) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) return config_error{path, "", "is a directory, not a trace"};
  std::ifstream in(path, std::ios::binary);
  if (!in) return config_error{path, "", std::string("cannot read the trace: ") + std::strerror(errno)};
  trace_parser parser(path, options);
  std::string line;
  // Streaming line by line: memory holds the parsed attempts, never the whole text as well.
  while (std::getline(in, line)) {
    const bool complete = !in.eof();  // getline hit the end of the file before a newline
    if (!parser.feed(line, complete)) break;
  }
  if (in.bad()) return config_error{path, "", "cannot read the trace: read error"};
  return parser.finish();
}

}  // namespace squall::traces
