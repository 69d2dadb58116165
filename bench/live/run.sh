#!/usr/bin/env bash
# Live-mode benchmarks (issue 4), all on loopback, each compared with a reference tool in the same run:
#   1. wrk against the fake provider (no faults, no latency) vs wrk against nginx returning a same-sized
#      JSON body from memory; both with one worker thread.
#   2. 10,000 concurrent requests under a 2 s injected latency: wrk's p99 and errors, the server's peak RSS;
#      the same against nginx answering the same body after `echo_sleep 2` (the echo module).
#   3. squall's own live load generator against the fake provider, at the rate wrk reached in 1.
# Needs a release build (bash scripts/demo.sh) and Debian's wrk, nginx-light and libnginx-mod-http-echo
# (installed here if missing).
# Usage: bash bench/live/run.sh [seconds per measurement, default 10]
set -euo pipefail
cd "$(dirname "$0")/../.."
secs="${1:-10}"
squall=build/release/cli/squall
for p in wrk nginx-light libnginx-mod-http-echo curl; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
    { sudo_cmd=(); [ "$(id -u)" -ne 0 ] && sudo_cmd=(sudo); "${sudo_cmd[@]}" apt-get install -y -qq "$p" >/dev/null; }
done
[ -x "$squall" ] || { echo "build first: bash scripts/demo.sh" >&2; exit 2; }
work="$(mktemp -d)"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT
ulimit -n "$(ulimit -Hn)"  # 10,000 connections need more descriptors than the default soft limit

words="$(printf 'w%d ' $(seq 1 20))"
body="{\"model\":\"gpt-4o-mini\",\"max_tokens\":20,\"messages\":[{\"role\":\"user\",\"content\":\"${words% }\"}]}"
cat > "$work/post.lua" <<LUA
wrk.method = "POST"
wrk.body = '$body'
wrk.headers["Content-Type"] = "application/json"
-- The exact p99 (wrk's own table rounds seconds to two decimals, too coarse for a 50 ms target).
done = function(summary, latency, requests)
  io.write(string.format("p99 exact: %.1f ms, max %.1f ms\n", latency:percentile(99) / 1000, latency.max / 1000))
end
LUA

start_serve() {  # scenario: starts squall serve; sets url and serve_pid
  "$squall" serve "$1" --for-s 600 > "$work/serve.out" 2>&1 &
  serve_pid=$!
  pids+=("$serve_pid")
  for _ in $(seq 1 100); do grep -q "^openai http" "$work/serve.out" && break; sleep 0.1; done
  url="$(grep "^openai http" "$work/serve.out" | awk '{print $2}')"
}
rps_of() { awk '/Requests\/sec/ {print $2}' "$1"; }
start_nginx() {  # port, what the one location does: starts nginx with one worker; sets nginx_pid
  cat > "$work/nginx/nginx-$1.conf" <<NGINX
load_module /usr/lib/nginx/modules/ngx_http_echo_module.so;
worker_processes 1;
pid $work/nginx/nginx-$1.pid;
error_log $work/nginx/error-$1.log;
events { worker_connections 16384; }
http {
  access_log off;
  keepalive_requests 10000000;
  client_body_temp_path $work/nginx/body;
  server {
    listen 127.0.0.1:$1;
    location / { default_type application/json; $2 }
  }
}
NGINX
  nginx -c "$work/nginx/nginx-$1.conf" -g 'daemon off;' &
  nginx_pid=$!
  pids+=("$nginx_pid")
  sleep 0.5
}

echo "== 1. wrk: fake provider vs nginx (1 thread, 64 connections, ${secs} s each)"
start_serve bench/live/fake-plain.json
curl -s -X POST -H 'Content-Type: application/json' -d "$body" "$url/chat/completions" > "$work/answer.json"
size=$(wc -c < "$work/answer.json")
wrk -t1 -c64 -d"${secs}s" -s "$work/post.lua" "$url/chat/completions" > "$work/wrk-squall.txt"
kill "$serve_pid"; wait "$serve_pid" 2>/dev/null || true

mkdir -p "$work/nginx"
escaped="$(sed "s/'/\\\\'/g" "$work/answer.json")"
start_nginx 18391 "return 200 '$escaped';"
nsize=$(curl -s -X POST -d "$body" http://127.0.0.1:18391/v1/chat/completions | wc -c)
wrk -t1 -c64 -d"${secs}s" -s "$work/post.lua" http://127.0.0.1:18391/v1/chat/completions > "$work/wrk-nginx.txt"
kill "$nginx_pid"; wait "$nginx_pid" 2>/dev/null || true
squall_rps=$(rps_of "$work/wrk-squall.txt"); nginx_rps=$(rps_of "$work/wrk-nginx.txt")
echo "fake provider: ${squall_rps} req/s (body ${size} bytes); nginx: ${nginx_rps} req/s (body ${nsize} bytes);" \
     "ratio $(awk -v a="$squall_rps" -v b="$nginx_rps" 'BEGIN{printf "%.2f", a/b}')"

echo "== 2. 10,000 concurrent requests under 2 s of injected latency"
start_serve bench/live/fake-2s.json
wrk -t2 -c10000 -d"$((secs + 5))s" --timeout 10s --latency -s "$work/post.lua" "$url/chat/completions" > "$work/wrk-2s.txt" || true
hwm=$(awk '/VmHWM/ {print $2}' "/proc/$serve_pid/status")
echo "  squall serve:"
grep -E "Latency|99%|p99 exact|requests in|Socket errors|Non-2xx" "$work/wrk-2s.txt" | sed 's/^/    /'
echo "    server peak RSS: $((hwm / 1024)) MB"
kill "$serve_pid"; wait "$serve_pid" 2>/dev/null || true
# The reference: nginx (one worker) holding each request 2 s with the echo module, then the same body.
start_nginx 18392 "echo_read_request_body; echo_sleep 2; echo '$escaped';"
wrk -t2 -c10000 -d"$((secs + 5))s" --timeout 10s --latency -s "$work/post.lua" http://127.0.0.1:18392/v1/chat/completions > "$work/wrk-2s-nginx.txt" || true
echo "  nginx + echo_sleep 2:"
grep -E "Latency|99%|p99 exact|requests in|Socket errors|Non-2xx" "$work/wrk-2s-nginx.txt" | sed 's/^/    /'
kill "$nginx_pid"; wait "$nginx_pid" 2>/dev/null || true

echo "== 3. squall's live load generator vs wrk against the same fake provider"
start_serve bench/live/fake-plain.json
rate=$(awk -v r="$squall_rps" 'BEGIN{printf "%d", r}')
sed "s/\"rate_per_s\": 12000/\"rate_per_s\": $rate/; s/\"duration_s\": 10/\"duration_s\": $secs/" \
  bench/live/fake-plain.json > "$work/gen.json"
sed -i "s#\"../../scenarios/policies/no-retry.json\"#\"$PWD/scenarios/policies/no-retry.json\"#" "$work/gen.json"
# No request cap below the offered load (the default cap, 200,000, would end the run early), and the
# rate is the steady one: completions per second over the arrival period after its first second, from
# timeseries.csv. A generator that cannot keep up completes fewer and shows the backlog as latency.
/usr/bin/time -f "%e s, max RSS %M KB" -o "$work/gen.time" "$squall" run "$work/gen.json" --mode live --no-stream \
  --target "openai=$url" --live-max-requests 100000000 -q --out "$work/gen" || true
kill "$serve_pid"; wait "$serve_pid" 2>/dev/null || true
python3 - "$work/gen" "$rate" "$squall_rps" "$secs" <<'PY'
import csv, json, sys
out, rate, wrk_rps, secs = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4])
d = json.load(open(out + "/results.json")); s = d["configurations"][0]["summary"]
rows = [r for r in csv.DictReader(open(out + "/timeseries.csv")) if 1 < float(r["end_s"]) <= secs]
span = float(rows[-1]["end_s"]) - (float(rows[0]["end_s"]) - (float(rows[1]["end_s"]) - float(rows[0]["end_s"])))
achieved = sum(float(r["completed"]) for r in rows) / span
print(f"  offered {s['requests']:.0f} at {rate:.0f}/s: {s['completed']:.0f} completed, steady {achieved:.0f} req/s, "
      f"success {100*s['success_rate']:.2f}%, p50 {s['latency_p50_ms']:.2f} ms, p99 {s['latency_p99_ms']:.2f} ms")
print(f"  live generator / wrk: {achieved / wrk_rps:.2f}")
PY
echo "  generator process: $(cat "$work/gen.time")"
