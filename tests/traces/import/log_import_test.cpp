// The importer on real files: each test writes a log, imports it from the file, and checks the trace.
#include "traces/import/log_import.hpp"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace squall::traces {
namespace {

namespace fs = std::filesystem;

class LogImport : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("squall-import-" + std::to_string(::getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string write(const std::string& name, const std::string& text) {
    const std::string p = (dir_ / name).string();
    std::ofstream(p, std::ios::binary) << text;
    return p;
  }
  // Imports a file written with `text`, with the mapping as written after --map.
  config_result<import_result> import(const std::string& name, const std::string& text, const std::string& map,
                                      log_format format = log_format::csv,
                                      time_format times = time_format::auto_detect, std::uint32_t errors_max = 100) {
    const std::string p = write(name, text);
    auto mapping = parse_column_mapping(map);
    EXPECT_TRUE(mapping.ok()) << mapping.error().describe();
    import_options options;
    options.format = format;
    options.mapping = *mapping;
    options.times = times;
    options.errors_max = errors_max;
    std::ifstream in(p, std::ios::binary);
    return import_log(in, name, options, &last_errors_);
  }
  int run_cli(const std::string& args) {
    const std::string command = "cd '" + dir_.string() + "' && '" + std::string(SQUALL_BINARY) + "' " + args +
                                " >out.txt 2>err.txt </dev/null";
    const int status = std::system(command.c_str());
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }
  std::string slurp(const std::string& name) {
    std::ifstream in(dir_ / name, std::ios::binary);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }

  fs::path dir_;
  std::vector<std::string> last_errors_;
};

const std::string full_map =
    "timestamp=ts,status=code,latency_ms=latency,ttft_ms=ttft,model=model,provider=vendor,input_tokens=in,"
    "output_tokens=out,error_type=err,request_id=id,attempt=try,retry_after=retry";

TEST_F(LogImport, GoodCsvIsSortedByTimeRelativeToTheFirstRowWithOutcomesInferred) {
  auto r = import("app.csv",
                  "ts,code,latency,ttft,model,vendor,in,out,err,id,try,retry,ignored\n"
                  "1700000001.5,429,31,,gpt-4o-mini,openai,240,,rate_limit_error,r2,1,2,x\n"
                  "1700000000,200,812.25,401.5,gpt-4o-mini,openai,512,180,,r1,1,,y\n"
                  "1700000003,529,40,,claude,anthropic,100,,overloaded_error,r2,2,,z\n"
                  "1700000004,429,10,,gpt-4o-mini,openai,100,,insufficient_quota,r3,1,,z\n",
                  full_map);
  ASSERT_TRUE(r.ok()) << r.error().describe();
  EXPECT_EQ(r->rows_read, 4U);
  EXPECT_EQ(r->rows_skipped, 0U);
  const trace& t = r->imported;
  EXPECT_EQ(t.header.source, "import");
  EXPECT_EQ(t.header.prompts, prompt_mode::none);
  EXPECT_EQ(t.header.started_at, "2023-11-14T22:13:20.000Z");
  ASSERT_EQ(t.attempts.size(), 4U);
  const trace_attempt& first = t.attempts[0];
  EXPECT_EQ(first.t_ms, 0);
  EXPECT_EQ(first.request_id, "r1");
  EXPECT_EQ(first.status, 200);
  EXPECT_EQ(first.outcome, "ok");
  EXPECT_EQ(first.latency_ms, 812.25);
  EXPECT_EQ(first.ttft_ms, 401.5);
  EXPECT_EQ(first.input_tokens, 512U);
  EXPECT_EQ(first.output_tokens, 180U);
  EXPECT_EQ(first.provider, "openai");
  const trace_attempt& second = t.attempts[1];
  EXPECT_EQ(second.t_ms, 1500);
  EXPECT_EQ(second.outcome, "rate_limited");
  EXPECT_EQ(second.error_type, "rate_limit_error");
  EXPECT_FALSE(second.ttft_ms.has_value());  // an empty cell is unknown, not an error
  EXPECT_FALSE(second.output_tokens.has_value());
  using header_list = std::vector<std::pair<std::string, std::string>>;
  EXPECT_EQ(second.headers, (header_list{{"retry-after", "2"}}));
  EXPECT_EQ(t.attempts[2].attempt, 2U);
  EXPECT_EQ(t.attempts[2].outcome, "overloaded");
  EXPECT_EQ(t.attempts[3].outcome, "quota");  // the classifier reads the error type too
}

TEST_F(LogImport, QuotedFieldsFollowRfc4180) {
  auto r = import("q.csv",
                  "\"time\",\"model name\",status\r\n"
                  "1700000000,\"gpt, with comma\",200\r\n"
                  "1700000001,\"say \"\"hi\"\"\",500\r\n"
                  "1700000002,\"two\nlines\",502\r\n"
                  "1700000003,plain,503",
                  "timestamp=time,model=model name,status=status");
  ASSERT_TRUE(r.ok()) << r.error().describe();
  ASSERT_EQ(r->imported.attempts.size(), 4U);
  EXPECT_EQ(r->imported.attempts[0].model, "gpt, with comma");
  EXPECT_EQ(r->imported.attempts[1].model, "say \"hi\"");
  EXPECT_EQ(r->imported.attempts[1].outcome, "server_error");
  EXPECT_EQ(r->imported.attempts[2].model, "two\nlines");
  EXPECT_EQ(r->imported.attempts[3].model, "plain");
  EXPECT_EQ(r->imported.attempts[3].outcome, "overloaded");
}

TEST_F(LogImport, BadRowsAreSkippedWithLineColumnAndValueAndCounted) {
  auto r = import("bad.csv",
                  "ts,code,latency\n"
                  "1700000000,200,10\n"
                  "1700000001,abc,10\n"
                  "1700000002,200,-4\n"
                  "yesterday,200,10\n"
                  "1700000003,200\n"
                  "1700000004,\"200\"x,5\n"
                  ",200,5\n"
                  "1700000005,200,11\n",
                  "timestamp=ts,status=code,latency_ms=latency");
  ASSERT_TRUE(r.ok()) << r.error().describe();
  EXPECT_EQ(r->rows_read, 2U);
  EXPECT_EQ(r->rows_skipped, 6U);
  ASSERT_EQ(r->errors.size(), 6U);
  EXPECT_EQ(r->errors[0], "bad.csv: line 3: column \"code\": expected an HTTP status from 0 to 999, got \"abc\"");
  EXPECT_EQ(r->errors[1], "bad.csv: line 4: column \"latency\": expected a number of milliseconds from 0 to 10^12, got \"-4\"");
  EXPECT_EQ(r->errors[2].rfind("bad.csv: line 5: column \"ts\": expected a time", 0), 0U) << r->errors[2];
  EXPECT_NE(r->errors[2].find("got \"yesterday\""), std::string::npos) << r->errors[2];
  EXPECT_EQ(r->errors[3], "bad.csv: line 6: expected 3 columns as in the header, got 2");
  EXPECT_EQ(r->errors[4], "bad.csv: line 7: text after the closing quote of a field");
  EXPECT_EQ(r->errors[5], "bad.csv: line 8: column \"ts\": the timestamp is empty");

  // Past --max-errors the import stops; with nothing readable it fails too.
  auto stopped = import("bad2.csv", "ts,code\nx,1\ny,2\nz,3\n1700000000,200\n", "timestamp=ts,status=code",
                        log_format::csv, time_format::auto_detect, 2);
  ASSERT_FALSE(stopped.ok());
  EXPECT_EQ(stopped.error().describe(), "bad2.csv: stopped after 3 rows that could not be read (--max-errors 2)");
  EXPECT_EQ(last_errors_.size(), 3U);
  auto nothing = import("bad3.csv", "ts,code\nx,1\n", "timestamp=ts,status=code");
  ASSERT_FALSE(nothing.ok());
  EXPECT_EQ(nothing.error().describe(), "bad3.csv: no row could be read (1 skipped)");
}

TEST_F(LogImport, AMissingMappedColumnIsNamedWithTheColumnsThereAre) {
  auto r = import("m.csv", "when,code\n1700000000,200\n", "timestamp=when,status=status_code");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().describe(),
            "m.csv: line 1: no column \"status_code\" (mapped to status) in the header; the columns are: \"when\", \"code\"");
  auto unknown = parse_column_mapping("timestamp=ts,latency=lat");
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error().describe().rfind("--map: unknown trace key \"latency\"; expected one of: timestamp", 0), 0U)
      << unknown.error().describe();
  auto no_time = parse_column_mapping("status=code");
  ASSERT_FALSE(no_time.ok());
  EXPECT_NE(no_time.error().describe().find("timestamp=COLUMN"), std::string::npos);
  EXPECT_FALSE(parse_column_mapping("timestamp").ok());
  EXPECT_FALSE(parse_column_mapping("timestamp=a,timestamp=b").ok());
}

TEST_F(LogImport, JsonLinesWithNestedKeysAndBadLines) {
  auto r = import("app.jsonl",
                  "{\"time\": \"2026-11-23T10:00:01.250Z\", \"status\": 200, \"usage\": {\"prompt_tokens\": 12}, \"ms\": 800.5}\n"
                  "\n"
                  "{\"time\": \"2026-11-23T10:00:00Z\", \"status\": \"503\", \"ms\": null}\n"
                  "{\"time\": \"2026-11-23T10:00:02Z\", \"status\": {\"code\": 1}}\n"
                  "not json\n"
                  "[1]\n",
                  "timestamp=time,status=status,input_tokens=usage.prompt_tokens,latency_ms=ms", log_format::jsonl);
  ASSERT_TRUE(r.ok()) << r.error().describe();
  EXPECT_EQ(r->rows_read, 2U);
  EXPECT_EQ(r->rows_skipped, 3U);
  ASSERT_EQ(r->imported.attempts.size(), 2U);
  EXPECT_EQ(r->imported.header.started_at, "2026-11-23T10:00:00.000Z");
  EXPECT_EQ(r->imported.attempts[0].status, 503);
  EXPECT_FALSE(r->imported.attempts[0].latency_ms.has_value());
  EXPECT_EQ(r->imported.attempts[1].t_ms, 1250);
  EXPECT_EQ(r->imported.attempts[1].input_tokens, 12U);
  EXPECT_EQ(r->imported.attempts[1].latency_ms, 800.5);
  ASSERT_EQ(r->errors.size(), 3U);
  EXPECT_EQ(r->errors[0], "app.jsonl: line 4: column \"status\": expected a string or a number, got an object");
  EXPECT_EQ(r->errors[1].rfind("app.jsonl: line 5: not a JSON object: invalid JSON at column", 0), 0U) << r->errors[1];
  EXPECT_EQ(r->errors[2], "app.jsonl: line 6: expected a JSON object, got an array");
}

TEST_F(LogImport, TimesInIso8601EpochSecondsAndMilliseconds) {
  double ms = 0;
  ASSERT_TRUE(parse_iso8601_ms("2026-11-23T10:00:00Z", ms));
  EXPECT_EQ(ms, 1795428000000.0);
  ASSERT_TRUE(parse_iso8601_ms("2026-11-23 11:00:00.5+01:00", ms));
  EXPECT_EQ(ms, 1795428000500.0);
  ASSERT_TRUE(parse_iso8601_ms("2026-11-23T05:30:00.25-0430", ms));
  EXPECT_EQ(ms, 1795428000250.0);
  ASSERT_TRUE(parse_iso8601_ms("1970-01-01T00:00:00", ms));  // no zone: UTC
  EXPECT_EQ(ms, 0.0);
  EXPECT_FALSE(parse_iso8601_ms("2026-13-01T00:00:00Z", ms));
  EXPECT_FALSE(parse_iso8601_ms("2026-11-23", ms));
  EXPECT_FALSE(parse_iso8601_ms("2026-11-23T10:00:00Zjunk", ms));
  EXPECT_EQ(iso8601_utc_ms(1795428000250.0), "2026-11-23T10:00:00.250Z");

  const std::string csv = "ts,code\n1795428000,200\n1795428000.5,200\n";
  auto seconds = import("s.csv", csv, "timestamp=ts,status=code", log_format::csv, time_format::epoch_s);
  ASSERT_TRUE(seconds.ok()) << seconds.error().describe();
  EXPECT_EQ(seconds->imported.attempts[1].t_ms, 500);
  auto auto_seconds = import("a.csv", csv, "timestamp=ts,status=code");
  ASSERT_TRUE(auto_seconds.ok());
  EXPECT_EQ(auto_seconds->imported.header.started_at, "2026-11-23T10:00:00.000Z");
  // The same numbers read as milliseconds: 0.5 ms apart, in January 1970.
  auto millis = import("m.csv", csv, "timestamp=ts,status=code", log_format::csv, time_format::epoch_ms);
  ASSERT_TRUE(millis.ok());
  EXPECT_EQ(millis->imported.attempts[1].t_ms, 0.5);
  EXPECT_EQ(millis->imported.header.started_at, "1970-01-21T18:43:48.000Z");
  auto auto_millis = import("am.csv", "ts,code\n1795428000000,200\n1795428000250,200\n", "timestamp=ts,status=code");
  ASSERT_TRUE(auto_millis.ok());
  EXPECT_EQ(auto_millis->imported.attempts[1].t_ms, 250);
  auto iso_only = import("i.csv", csv, "timestamp=ts,status=code", log_format::csv, time_format::iso8601);
  ASSERT_FALSE(iso_only.ok());
  EXPECT_EQ(last_errors_.at(0),
            "i.csv: line 2: column \"ts\": expected an ISO 8601 time like 2026-11-23T10:00:00.000Z, got \"1795428000\"");
}

TEST_F(LogImport, CommandWritesATraceAndExitsTwoOrThreeOnBadInputOrOutput) {
  write("log.csv", "ts,code,lat,auth\n1795428000,200,10,Bearer sk-secret\n1795428001,oops,10,x\n1795428002,503,20,y\n");
  EXPECT_EQ(run_cli("import log.csv --format csv --map timestamp=ts,status=code,latency_ms=lat"), 0) << slurp("err.txt");
  EXPECT_NE(slurp("out.txt").find("imported 2 rows, skipped 1"), std::string::npos) << slurp("out.txt");
  EXPECT_NE(slurp("err.txt").find("log.csv: line 3: column \"code\": expected an HTTP status from 0 to 999, got \"oops\""),
            std::string::npos)
      << slurp("err.txt");
  auto t = read_trace((dir_ / "log.trace.jsonl").string());
  ASSERT_TRUE(t.ok()) << t.error().describe();
  EXPECT_EQ(t->attempts.size(), 2U);
  EXPECT_EQ(t->attempts[1].outcome, "overloaded");
  EXPECT_EQ(slurp("log.trace.jsonl").find("secret"), std::string::npos);

  EXPECT_EQ(run_cli("import log.csv --format csv --map timestamp=nope --out t.jsonl"), 2);
  EXPECT_NE(slurp("err.txt").find("no column \"nope\""), std::string::npos) << slurp("err.txt");
  EXPECT_FALSE(fs::exists(dir_ / "t.jsonl"));
  EXPECT_EQ(run_cli("import log.csv --format csv --map timestamp=ts --max-errors 0 --out t.jsonl"), 0);
  EXPECT_EQ(run_cli("import log.csv --format csv --map timestamp=ts,status=code --max-errors 0 --out t.jsonl"), 2);
  EXPECT_EQ(run_cli("import missing.csv --format csv --map timestamp=ts"), 2);
  EXPECT_EQ(run_cli("import log.csv --format xml --map timestamp=ts"), 2);
  EXPECT_EQ(run_cli("import log.csv --format csv --map timestamp=ts --out no/such/dir/t.jsonl"), 3);
}

}  // namespace
}  // namespace squall::traces
