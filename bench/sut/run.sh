#!/usr/bin/env bash
# Black-box mode's load generator against wrk, through the same trivial pass-through service (issue 15):
# nginx with one worker, proxying POST /ask to the fake provider's /v1/chat/completions over keep-alive
# connections. Both tools keep 64 requests outstanding (wrk -t1 -c64; squall: 64 users, no think time,
# at most 64 connections to the service), and the provider answers at once (bench/live/fake-plain.json).
# The target: squall reaches at least 70% of wrk's rate.
#
#   wrk phase:    squall serve (the provider, its own process) <- nginx <- wrk
#   squall phase: squall run (the provider in-process, "providers_port") <- nginx <- squall's generator
# wrk runs before and after the squall phase; squall is compared with their mean, since the machine's
# speed drifts over minutes.
#
# Needs a release build (bash scripts/demo.sh) and Debian's wrk and nginx-light (installed if missing).
# Usage: bash bench/sut/run.sh [seconds per measurement, default 10]
set -euo pipefail
cd "$(dirname "$0")/../.."
secs="${1:-10}"
source bench/common.sh wrk nginx-light curl

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
provider_port=$(free_port)
service_port=$(free_port)

mkdir -p "$work/nginx"
cat > "$work/nginx/nginx.conf" <<NGINX
worker_processes 1;
pid $work/nginx/nginx.pid;
error_log $work/nginx/error.log;
events { worker_connections 4096; }
http {
  access_log off;
  keepalive_requests 10000000;
  client_body_temp_path $work/nginx/body;
  proxy_temp_path $work/nginx/proxy;
  upstream provider { server 127.0.0.1:$provider_port; keepalive 128; keepalive_requests 10000000; }
  server {
    listen 127.0.0.1:$service_port;
    location = /ask {
      proxy_pass http://provider/v1/chat/completions;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
    }
  }
}
NGINX
nginx -c "$work/nginx/nginx.conf" -g 'daemon off;' &
pids+=($!)
sleep 0.5

words="$(printf 'w%d ' $(seq 1 20))"
body="{\"model\":\"gpt-4o-mini\",\"max_tokens\":20,\"messages\":[{\"role\":\"user\",\"content\":\"[squall:1] ${words% }\"}]}"
cat > "$work/post.lua" <<LUA
wrk.method = "POST"
wrk.body = '$body'
wrk.headers["Content-Type"] = "application/json"
LUA

rps_of() { awk '/Requests\/sec/ {print $2}' "$1"; }
wrk_phase() {  # label
  "$squall" serve bench/live/fake-plain.json --port "$provider_port" --for-s 600 > "$work/serve.out" 2>&1 &
  local serve_pid=$!
  pids+=("$serve_pid")
  for _ in $(seq 1 100); do grep -q "^openai http" "$work/serve.out" && break; sleep 0.1; done
  curl -sf -X POST -H 'Content-Type: application/json' -d "$body" "http://127.0.0.1:$service_port/ask" > /dev/null ||
    { echo "the pass-through service does not answer:" >&2; cat "$work/nginx/error.log" >&2; exit 1; }
  wrk -t1 -c64 -d"${secs}s" -s "$work/post.lua" "http://127.0.0.1:$service_port/ask" > "$work/wrk-$1.txt"
  kill "$serve_pid"; wait "$serve_pid" 2>/dev/null || true
  echo "  wrk -t1 -c64 ($1): $(rps_of "$work/wrk-$1.txt") req/s"
}

python3 - bench/live/fake-plain.json "$work/sut.json" "$secs" "$provider_port" "$service_port" <<'PY'
import json, sys
src, out, secs, provider_port, service_port = sys.argv[1], sys.argv[2], float(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
d = json.load(open(src))
d["name"] = "bench-sut-passthrough"
d["duration_s"] = secs
d.pop("policies", None)
d.pop("assert", None)
d["workload"].pop("arrivals", None)
d["workload"]["users"] = {"count": 64, "think_ms": {"dist": "constant", "value": 0}}
d["workload"]["input_tokens"] = {"dist": "constant", "value": 20}
d["workload"]["output_tokens"] = {"dist": "constant", "value": 20}
d["service"] = {
    "base_url": f"http://127.0.0.1:{service_port}",
    "providers_port": provider_port,
    "connections_max": 64,
    "request": {"path": "/ask", "body": {"model": "${model}", "max_tokens": "${output_tokens}",
                                         "messages": [{"role": "user", "content": "${prompt}"}]}},
    "success": {"statuses": [200], "json_path": "$.choices[0].message.content"},
}
json.dump(d, open(out, "w"), indent=1)
PY

echo "== squall's load generator vs wrk through nginx passing /ask to the fake provider (${secs} s each)"
wrk_phase before
/usr/bin/time -f "%e s, max RSS %M KB" -o "$work/gen.time" "$squall" run "$work/sut.json" \
  --live-max-requests 100000000 -q --out "$work/gen" || true
wrk_phase after
python3 - "$work/gen" "$(rps_of "$work/wrk-before.txt")" "$(rps_of "$work/wrk-after.txt")" "$secs" <<'PY'
import csv, json, sys
out, before, after, secs = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4])
c = json.load(open(out + "/results.json"))["configurations"][0]
s, up = c["summary"], c["upstream"]
rows = [r for r in csv.DictReader(open(out + "/timeseries.csv")) if 1 < float(r["end_s"]) <= secs]
step = float(rows[1]["end_s"]) - float(rows[0]["end_s"])
span = float(rows[-1]["end_s"]) - float(rows[0]["end_s"]) + step
achieved = sum(float(r["completed"]) for r in rows) / span
wrk = (before + after) / 2
print(f"  squall (64 users, no think time): {s['requests']:.0f} requests, success {100*s['success_rate']:.2f}%, "
      f"steady {achieved:.0f} req/s (completions per second after the first second); provider attempts "
      f"{up['attempts']}, unattributed {up['unattributed']}")
print(f"  squall / wrk (mean of before and after, {wrk:.0f} req/s): {achieved / wrk:.2f}  (target >= 0.70)")
PY
echo "  squall process: $(cat "$work/gen.time")"
