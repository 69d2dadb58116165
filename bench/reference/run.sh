#!/usr/bin/env bash
# Issue 19: squall's simulation speed as ratios to reference models of the same load, all measured in
# one run on the same machine (bench/README.md, "Against a reference model"):
#   - squall: bench/sim_throughput_bench.cpp's BM_RetryTimeoutBreaker (1,000 requests/s offered, 60
#     simulated seconds an iteration) and BM_RetryTimeoutBreaker100k (100,000/s, 10 s, capacity x100);
#   - the same model written directly in C++ (bench/reference/reference_sim.cpp), at the same loads and
#     simulated durations, in its two engines: every timer in one binary heap with lazy cancellation, and
#     the same with the two fixed-duration timeouts in FIFO queues beside the heap;
#   - the same model in SimPy 3 (bench/reference/simpy_model.py, Debian's python3-simpy3) at 1,000/s for
#     a shorter simulated duration (it is slow), its rate per wall second;
#   - squall's whole process for one simulated hour at 1,000/s (`squall run
#     bench/scenarios/sim-1h-1000rps.json`, timed with /usr/bin/time -v).
# Each round runs all of them in turn (interleaved, so that drift in the machine's speed falls on all);
# the tables show medians of the rounds, per wall second and per CPU second of each process (on a shared
# machine wall time also counts the time other work had the core, so the targets are judged on CPU
# time), and the results (success rate, attempts per request) that show the models compute the same thing.
# Usage: bash bench/reference/run.sh [rounds, default 3] [SimPy's simulated seconds, default 20]
set -euo pipefail
cd "$(dirname "$0")/../.."
rounds="${1:-3}"
simpy_s="${2:-20}"

cmake --preset release > /dev/null
cmake --build --preset release -j2 --target squall_sim_bench squall_reference_sim squall > /dev/null
source bench/common.sh python3-simpy3 time
python=/usr/bin/python3
bench=build/release/bench/squall_sim_bench
reference=build/release/bench/squall_reference_sim

echo "commit $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- . 2>/dev/null || echo ' (with local changes)'),"\
     "$(date -u '+%Y-%m-%d %H:%M UTC'), load average $(cut -d' ' -f1-3 /proc/loadavg) at the start,"\
     "$(nproc) cores, $rounds rounds"
for r in $(seq 1 "$rounds"); do
  echo "round $r: squall's benchmark"
  "$bench" --benchmark_filter='^BM_RetryTimeoutBreaker(100k)?/' --benchmark_min_time=1 \
    --benchmark_format=json --benchmark_out="$work/squall-$r.json" > /dev/null
  echo "round $r: the C++ reference, heap"
  # 1,000/s: 20 runs of the 60 s (about 1.2 million requests), as long in wall time as the benchmark's.
  "$reference" --rate 1000 --duration-s 60 --seed 1 --iterations 20 > "$work/ref-heap-1k-$r.json"
  "$reference" --rate 100000 --duration-s 10 --seed 1 --slots 200000 --queue 200000 --breaker-calls-min 5000 \
    > "$work/ref-heap-100k-$r.json"
  echo "round $r: the C++ reference, heap + timeout queues"
  "$reference" --rate 1000 --duration-s 60 --seed 1 --iterations 20 --timeout-queues 1 > "$work/ref-fifo-1k-$r.json"
  "$reference" --rate 100000 --duration-s 10 --seed 1 --slots 200000 --queue 200000 --breaker-calls-min 5000 \
    --timeout-queues 1 > "$work/ref-fifo-100k-$r.json"
  echo "round $r: SimPy"
  "$python" bench/reference/simpy_model.py --rate 1000 --duration-s "$simpy_s" --seed 1 > "$work/simpy-$r.json"
  echo "round $r: squall, one simulated hour"
  /usr/bin/time -v "$squall" run bench/scenarios/sim-1h-1000rps.json --out "$work/hour-$r" -q 2> "$work/hour-$r.time"
done

"$python" - "$work" "$rounds" "$simpy_s" <<'PY'
import json, re, statistics, sys
work, rounds, simpy_s = sys.argv[1], int(sys.argv[2]), sys.argv[3]
med = statistics.median

def load(name):
    return [json.load(open(f"{work}/{name}-{r}.json")) for r in range(1, rounds + 1)]

squall = {"1k": [], "100k": []}
for doc in load("squall"):
    for b in doc["benchmarks"]:
        # requests_per_s is per wall second (UseRealTime); per CPU second scales it by real/CPU time.
        b["requests_per_cpu_s"] = b["requests_per_s"] * b["real_time"] / b["cpu_time"]
        squall["100k" if b["name"].startswith("BM_RetryTimeoutBreaker100k") else "1k"].append(b)
ref = {(e, l): load(f"ref-{e}-{l}") for e in ("heap", "fifo") for l in ("1k", "100k")}
simpy = load("simpy")
hour = []
for r in range(1, rounds + 1):
    text = open(f"{work}/hour-{r}.time").read()
    h, m, s = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (?:(\d+):)?(\d+):([\d.]+)", text).groups()
    wall = int(h or 0) * 3600 + int(m) * 60 + float(s)
    cpu = sum(float(re.search(rf"{k} time \(seconds\): ([\d.]+)", text).group(1)) for k in ("User", "System"))
    rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", text).group(1))
    summary = json.load(open(f"{work}/hour-{r}/results.json"))["configurations"][0]["summary"]
    hour.append({"wall": wall, "cpu": cpu, "rss": rss, "requests": summary["requests"]})

def fmt(v):
    return f"{v / 1e6:.2f} M/s" if v >= 1e5 else f"{v / 1e3:.1f} k/s"

def rates(runs, clock):
    return [x["requests_per_cpu_s" if clock == "cpu" else "requests_per_s"] for x in runs]

models = [("squall", squall["1k"], squall["100k"]), ("heap", ref["heap", "1k"], ref["heap", "100k"]),
          ("fifo", ref["fifo", "1k"], ref["fifo", "100k"]), ("simpy", simpy, None)]
print()
print(f"Requests per second, medians of {rounds} rounds, per wall second and per CPU second of the process.")
print()
print("| load | per | squall | C++ reference, heap | C++ reference, heap + timeout queues | SimPy 3 |")
print("|---|---|---|---|---|---|")
for label, i in (("1,000 req/s offered", 1), ("100,000 req/s offered", 2)):
    for clock in ("wall", "cpu"):
        cells = [fmt(med(rates(m[i], clock))) if m[i] else "" for m in models]
        print(f"| {label} | {'wall s' if clock == 'wall' else 'CPU s'} | " + " | ".join(cells) + " |")

def ratio(a, b, clock):
    rs = [x / y for x, y in zip(rates(a, clock), rates(b, clock))]
    return med(rs), ", ".join(f"{x:.2f}" if x < 10 else f"{x:.0f}" for x in rs)

ok = lambda c: "**met**" if c else "**missed**"
print()
print("Targets: the median of the rounds' ratios (each round's ratio in brackets), judged per CPU second;")
print("per wall second beside it.")
print()
print("| target | reference | per CPU second | met? | per wall second |")
print("|---|---|---|---|---|")
for label, i, key, floor in (("1,000 req/s: squall ≥ 0.7 × reference", 1, "1k", 0.7),
                             ("100,000 req/s: squall ≥ 0.5 × reference", 2, "100k", 0.5)):
    for engine, name in (("heap", "heap"), ("fifo", "heap + timeout queues")):
        c, cr = ratio(squall[key], ref[engine, key], "cpu")
        w, wr = ratio(squall[key], ref[engine, key], "wall")
        print(f"| {label} | {name} | {c:.2f} ({cr}) | {ok(c >= floor)} | {w:.2f} ({wr}) |")
c, cr = ratio(squall["1k"], simpy, "cpu")
w, wr = ratio(squall["1k"], simpy, "wall")
print(f"| 1,000 req/s: squall ≥ 100 × SimPy | SimPy, {simpy_s} simulated s | {c:.0f} ({cr}) | {ok(c >= 100)} | {w:.0f} ({wr}) |")
walls = [x["wall"] for x in hour]
cpus = [x["cpu"] for x in hour]
print(f"| one simulated hour at 1,000 req/s in < 1 s: `squall run bench/scenarios/sim-1h-1000rps.json` "
      f"({hour[0]['requests']:,.0f} requests, peak RSS {max(x['rss'] for x in hour):,} KB) | | "
      f"{med(cpus):.2f} s user + system ({', '.join(f'{x:.2f}' for x in cpus)}) | {ok(med(cpus) < 1.0)} | "
      f"{med(walls):.2f} s ({', '.join(f'{x:.2f}' for x in walls)}) |")
print()
print("Results (same model, so they should agree; the reference draws its own random numbers, so they")
print("agree statistically, not request for request):")
print()
print("| model | load | requests (one simulation) | success rate | attempts per request | its distance from 1.0101 |")
print("|---|---|---|---|---|---|")
# With 1% 503s and neither shedding nor timeouts, a request makes 1 + 0.01 + 0.01^2 = 1.0101 attempts on
# average, the extra attempts a count with variance about 0.0101 per request: the distance is given in
# standard errors of the mean, sqrt(0.0101 / n) (n as in the third column; squall's benchmark repeats one
# seed, so its n is one iteration's, about rate x duration).
def row(name, load_, runs, n):
    a = runs[0]["attempts_per_request"]
    print(f"| {name} | {load_} | {n:,} | {runs[0]['success_rate']:.6f} | {a:.6f} | {(a - 1.0101) / (0.0101 / n) ** 0.5:+.1f} σ |")
row("squall", "1,000/s, 60 s", squall["1k"], 60000)
row("C++ reference", "1,000/s, 60 s", ref["heap", "1k"], ref["heap", "1k"][0]["requests"] // ref["heap", "1k"][0]["iterations"])
row("SimPy", f"1,000/s, {simpy_s} s", simpy, simpy[0]["requests"])
row("squall", "100,000/s, 10 s", squall["100k"], 1000000)
row("C++ reference", "100,000/s, 10 s", ref["heap", "100k"], ref["heap", "100k"][0]["requests"])
same = all(ref["heap", l][0][k] == ref["fifo", l][0][k] for l in ("1k", "100k") for k in ("requests", "succeeded", "attempts"))
print()
print(f"The reference's two engines give {'the same' if same else 'DIFFERENT'} results (requests, successes, attempts).")
PY
