#!/usr/bin/env bash
# Builds the libFuzzer targets (the fuzz preset: clang, ASan + UBSan, tests/fuzz) and runs each for
# SECONDS_PER_TARGET seconds (default 20), seeded from the tree's test data (tests/fuzz/make_seeds.py).
# Fails when any target crashes, leaks, times out or runs out of memory; the input is then saved under
# <build dir>/crashes/<target>/ and the command that replays it is printed. Prints per target: executions,
# executions per second, coverage (cov: edges, ft: features) and the corpus units it added.
#
#   bash scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]
#
# The corpus each target grows is kept in build/fuzz/corpus/<target>, so later runs start where earlier
# ones stopped; delete it for a run from the seeds alone. docs/fuzzing.md has the figures of a long run.
# FUZZ_BUILD_DIR picks another build directory, FUZZ_KEEP_GOING=1 goes on after a crash (see below).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-20}"
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(scenario policy trace results request_body control schema_instance gateway_config sweep_shard)
bash scripts/install-deps.sh
started=$SECONDS

# FUZZ_BUILD_DIR: another build directory than the preset's (a second run beside a long one).
build="${FUZZ_BUILD_DIR:-build/fuzz}"
echo "=== fuzz: build in $build ($((SECONDS - started)) s)"
cmake --preset fuzz -B "$build" >/dev/null
cmake --build "$build" --target squall_fuzz -j "$(nproc)"
bin="$build/tests/fuzz"

echo "=== fuzz: seeds ($((SECONDS - started)) s)"
rm -rf "$build/seeds" "$build/dict"
python3 tests/fuzz/make_seeds.py "$PWD" "$build"
# The tree holds no results.json: a few short simulations write them.
# and a small sweep the shard files that seed sweep_shard.
"$bin/fuzz_seed_results" "$build/seeds/results" "$build/seeds/sweep_shard" scenarios/quickstart.json scenarios/openai-503-storm.json \
  scenarios/regional-outage-failover.json >/dev/null

# Inputs longer than the largest seed of each kind teach little and slow every execution.
declare -A max_len=([scenario]=32768 [policy]=4096 [trace]=16384 [results]=65536 [request_body]=4096 [control]=1024 [schema_instance]=4096 [gateway_config]=4096 [sweep_shard]=65536)
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:symbolize=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"

# A figure of libFuzzer's final stats (stat::NAME), summed over the logs of one target.
sum_stat() {
  local name="$1"
  shift
  cat "$@" | sed -nE "s/^stat::$name: *([0-9]+)/\1/p" | awk '{s += $1} END {print s + 0}'
}

failed=()
summary=()
for t in "${targets[@]}"; do
  corpus="$build/corpus/$t"
  crashes="$build/crashes/$t"
  logs="$build/logs/$t"
  rm -rf "$logs"
  mkdir -p "$corpus" "$crashes" "$logs"
  echo "=== fuzz: $t for $seconds s ($((SECONDS - started)) s)"
  # With FUZZ_KEEP_GOING=1 (long runs) a crash is saved and the target restarts on its corpus until its
  # time is spent, so that one known bug does not end the search for others; the run still fails.
  target_started=$SECONDS
  runs=0
  crashed=0
  while :; do
    left=$((seconds - (SECONDS - target_started)))
    [ "$left" -gt 0 ] || break
    runs=$((runs + 1))
    log="$logs/$runs.log"
    rc=0
    "$bin/fuzz_$t" "$corpus" "$build/seeds/$t" -dict="$build/dict/$t.dict" -max_len="${max_len[$t]}" \
      -max_total_time="$left" -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 \
      -artifact_prefix="$crashes/" </dev/null >"$log" 2>&1 || rc=$?
    [ "$rc" -eq 0 ] && break
    crashed=$((crashed + 1))
    artifact="$(sed -nE 's/.*Test unit written to (.*)$/\1/p' "$log" | tail -n 1)"
    echo "--- $t failed (exit $rc); the end of $log:"
    tail -n 40 "$log"
    [ -n "$artifact" ] && echo "--- reproduce: $bin/fuzz_$t $artifact"
    [ "${FUZZ_KEEP_GOING:-0}" = 1 ] || break
  done
  spent=$((SECONDS - target_started))
  # The last status line ("#N DONE cov: C ft: F corp: ...") of the last run, and the summed final stats.
  status_line="$(cat "$logs"/*.log | grep -E '^#[0-9]+' | tail -n 1 || true)"
  cov="$(sed -nE 's/.* cov: ([0-9]+).*/\1/p' <<<"$status_line")"
  ft="$(sed -nE 's/.* ft: ([0-9]+).*/\1/p' <<<"$status_line")"
  corp="$(sed -nE 's/.* corp: ([0-9]+\/[0-9]+[a-zA-Z]*).*/\1/p' <<<"$status_line")"
  execs="$(sum_stat number_of_executed_units "$logs"/*.log)"
  added="$(sum_stat new_units_added "$logs"/*.log)"
  line="$(printf '%-13s %6s s %11s execs %7s exec/s  cov: %-6s ft: %-6s corpus: %-12s new units: %-6s' "$t" \
    "$spent" "$execs" "$((execs / (spent > 0 ? spent : 1)))" "${cov:-?}" "${ft:-?}" "${corp:-?}" "$added")"
  if [ "$crashed" -gt 0 ]; then
    line+="  FAILED: $crashed crash(es)"
    failed+=("$t")
  fi
  echo "$line"
  summary+=("$line")
done

echo "=== fuzz: $seconds s per target, done ($((SECONDS - started)) s)"
printf '%s\n' "${summary[@]}"
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz: ${failed[*]} failed; inputs under $build/crashes/, logs under $build/logs/"
  exit 1
fi
