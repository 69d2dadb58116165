#pragma once
// The trace format: what happened to each attempt sent to a provider, one JSON object per line (JSON
// Lines), versioned. Traces are written by `squall record` (a recording proxy), by live runs
// (`squall run --mode live --trace FILE`) and by the importer of users' own logs (`squall import`); they
// are read by `squall replay` and `squall trace2scenario`. docs/trace-format.md is the reference.
//
//   line 1   {"squall_trace": 1, "source": "record", "started_at": "2026-11-23T10:00:00.000Z", "prompts": "hash"}
//   line 2+  {"t_ms": 12.5, "request_id": "r17", "attempt": 1, "provider": "openai", "api": "openai",
//             "endpoint": "/v1/chat/completions", "model": "gpt-4o-mini", "stream": true,
//             "input_tokens": 512, "output_tokens": 180, "status": 200, "outcome": "ok",
//             "latency_ms": 812.25, "ttft_ms": 401.5,
//             "headers": {"x-ratelimit-remaining-requests": "4999"}, "prompt_sha256": "9f86d0..."}
//
// Secrets never enter a trace: only headers on an allow-list are kept (is_kept_header), so authorization,
// api keys and cookies are dropped by construction; prompts are kept only as a SHA-256 unless the trace
// was written with prompts kept. Keys with unknown or absent values are left out of the line.

#include <cstdint>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "policies/core/config_error.hpp"

namespace squall::traces {

inline constexpr int trace_version = 1;

// What the trace keeps of each prompt.
enum class prompt_mode : std::uint8_t { none, hash, text };

struct trace_header {
  int version = trace_version;
  std::string source;      // "record", "live", "sim", "import"
  std::string started_at;  // UTC wall-clock time of t_ms = 0 (ISO 8601), "" when unknown
  prompt_mode prompts = prompt_mode::hash;
};

// One attempt: one HTTP exchange with a provider (a retry is another attempt of the same request).
struct trace_attempt {
  double t_ms = 0;                 // when the attempt was sent, ms after the trace's start (>= 0)
  std::string request_id;          // groups the attempts of one logical request; "" when unknown
  std::uint32_t attempt = 0;       // 1 for the first attempt of a request; 0 when unknown
  std::string provider;            // a name for the upstream ("openai"); "" when unknown
  std::string api;                 // "openai", "anthropic" or "" when unknown
  std::string endpoint;            // request path ("/v1/chat/completions")
  std::string model;
  bool stream = false;
  std::optional<std::uint32_t> input_tokens;
  std::optional<std::uint32_t> output_tokens;
  int status = 0;                  // HTTP status; 0 when no answer arrived (refused, reset, hang, timeout)
  std::string error_type;          // the provider's error type ("rate_limit_error", "overloaded_error"), else ""
  std::string outcome;             // squall's outcome class name (policies/core/outcome.hpp): "ok",
                                   // "rate_limited", "overloaded", "server_error", "timeout",
                                   // "connection_error", ...; "" when unknown
  std::optional<double> latency_ms;  // send to the end of the answer (or the error); absent if it never ended
  std::optional<double> ttft_ms;     // send to the first content token of a stream
  std::vector<std::pair<std::string, std::string>> headers;  // kept headers only, names lowercase
  std::string prompt_sha256;       // lowercase hex, "" when unknown
  std::string prompt;              // only when the header says prompts are kept as text

  bool first_attempt() const noexcept { return attempt <= 1; }  // unknown counts as a first attempt
};

// Headers a trace may keep (by lowercase name): retry-after, retry-after-ms, x-should-retry,
// x-ratelimit-*, anthropic-ratelimit-*, request-id, x-request-id, openai-processing-ms. Everything else
// (authorization, x-api-key, cookie, ...) is dropped.
bool is_kept_header(std::string_view lowercase_name) noexcept;

// SHA-256 of the prompt text, lowercase hex.
std::string prompt_sha256_hex(std::string_view prompt);

std::string_view to_string(prompt_mode mode) noexcept;

// One line of the trace, without the newline.
std::string encode_line(const trace_header& header);
std::string encode_line(const trace_attempt& attempt);

// Writes a trace atomically: to "<path>.tmp", renamed to <path> by finish(). A writer destroyed without
// finish() removes its temporary file. Lines are buffered and flushed in blocks, so memory does not grow
// with the trace. Not thread-safe: one writer per thread (or a lock around it).
class trace_writer {
 public:
  static config_result<std::unique_ptr<trace_writer>> open(const std::string& path, const trace_header& header);
  ~trace_writer();
  trace_writer(const trace_writer&) = delete;
  trace_writer& operator=(const trace_writer&) = delete;

  // Drops what the header's prompt mode does not keep (text, or text and hash), then writes the line.
  void append(trace_attempt attempt);
  std::uint64_t written() const noexcept { return written_; }
  // Flushes, closes and renames. Returns an error naming the file when the disk refused.
  std::optional<config_error> finish();

 private:
  trace_writer(std::string path, std::FILE* file, prompt_mode prompts);
  std::string path_;
  std::FILE* file_ = nullptr;
  prompt_mode prompts_;
  std::uint64_t written_ = 0;
  bool failed_ = false;
};

struct trace {
  trace_header header;
  std::vector<trace_attempt> attempts;  // in file order
};

struct trace_read_options {
  std::uint64_t attempts_max = 10'000'000;  // a longer trace is an error, not an out-of-memory
};

// Reads a whole trace. Errors name the file and line and what was wrong ("t.jsonl: line 17: $.status:
// expected an integer from 0 to 999, got \"abc\""): a missing or unknown version, a line that is not a
// JSON object, a value of the wrong type, a truncated last line. Unknown keys are an error too (a typo
// must not silently lose a field); lines may appear in any time order.
config_result<trace> read_trace(const std::string& path, const trace_read_options& options = {});
// The same from text already in memory (`name` is used in errors).
config_result<trace> parse_trace(std::string_view text, const std::string& name,
                                 const trace_read_options& options = {});

}  // namespace squall::traces
