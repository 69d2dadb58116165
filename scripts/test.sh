#!/usr/bin/env bash
# Builds and runs every test under AddressSanitizer and UndefinedBehaviorSanitizer (the whole suite), then
# the threaded parts (real-clock runtime, HTTP transport, production client, live load generator, fake providers,
# the service supervisor, the sweep runner) under
# ThreadSanitizer, then fuzzes every reader of outside input for a short while (scripts/fuzz.sh). The
# second command of the README, and what CI runs. The sanitizer builds are the
# stricter check; a plain release run of the suite (`cmake --preset release && cmake --build --preset
# release && ctest --preset release`) is left out: on two cores a fresh clone takes 30 minutes
# (2026-12-07, libraries as unity sources: ASan build 732 s, tests 420 s; TSan build 289 s, tests 74 s; fuzz
# 272 s; file by file it was 1,065, 468, 543, 99 and 498 s, 45 minutes).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
jobs="$(nproc)"
started=$SECONDS

for preset in asan; do
  echo "=== $preset: build ($((SECONDS - started)) s)"
  cmake --preset "$preset" >/dev/null
  cmake --build --preset "$preset" -j "$jobs"
  echo "=== $preset: test ($((SECONDS - started)) s)"
  ctest --preset "$preset" -j "$jobs"
done

threaded_targets=(squall_asio_tests squall_http_tests squall_live_tests squall_fake_providers_tests squall_traces_record_tests squall_client_tests squall_sut_tests squall_sweeps_runner_tests)
echo "=== tsan: build the threaded parts ($((SECONDS - started)) s)"
cmake --preset tsan >/dev/null
cmake --build --preset tsan -j "$jobs" --target "${threaded_targets[@]}"
echo "=== tsan: test ($((SECONDS - started)) s)"
ctest --preset tsan -j "$jobs" -R '^(asio|http|live|client|sut|sweeps)\.|^(FakeServer[A-Za-z]*|WireFormat|FaultControl|RecordProxy|RecordExchange)\.'
# Every reader of outside input under libFuzzer (clang, ASan + UBSan) for a short while: 10 s per target
# keeps this stage at about 4.5 minutes on two cores, 3 of them the clang build; docs/fuzzing.md has the
# long runs. A crash fails the run and prints the command that replays it.
echo "=== fuzz ($((SECONDS - started)) s)"
bash scripts/fuzz.sh 10
echo "=== all tests passed ($((SECONDS - started)) s)"
