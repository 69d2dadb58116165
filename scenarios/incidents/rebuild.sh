#!/usr/bin/env bash
# How the incident scenarios scenarios/incident-*.json were made, and how to make them again:
#  1. each ground-truth scenario in sources/ (a scripted incident) runs in simulation with `--trace`,
#     which records every attempt its policy sent into traces/<name>.jsonl (small: a few hundred kB);
#  2. `squall trace2scenario` reconstructs a scenario from the trace alone (arrivals, request mix, the
#     provider's behaviour per window; docs/replay.md) with two policy configurations;
#  3. the assertions are added to the reconstruction (the only hand edit), from the measured results.
# Usage: scenarios/incidents/rebuild.sh [path/to/squall]   (from anywhere; default build/release/cli/squall)
set -euo pipefail
cd "$(dirname "$0")/../.."
squall="${1:-build/release/cli/squall}"
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT

rebuild() {  # name, assertions (JSON), policy files...
  local name="$1" assertions="$2"
  shift 2
  "$squall" run "scenarios/incidents/sources/$name.json" -q --trace "scenarios/incidents/traces/$name.jsonl" \
    --out "$out/$name"
  "$squall" trace2scenario "scenarios/incidents/traces/$name.jsonl" --name "incident-$name" \
    --out "scenarios/incident-$name.json" --policies "$@"
  python3 - "scenarios/incident-$name.json" "$assertions" <<'PY'
import json, sys
path, assertions = sys.argv[1], json.loads(sys.argv[2])
text = open(path).read()
# The file keeps trace2scenario's layout; the assertions go at the end.
doc = json.loads(text)
assert "assert" not in doc
body = text.rstrip().rstrip("}").rstrip()
open(path, "w").write(body + ',\n  "assert": ' + json.dumps(assertions) + "\n}\n")
json.loads(open(path).read())
PY
}

rebuild long-outage \
  '{"retry-only": {"success_rate_max": 0.6, "attempts_per_request_min": 1.5}, "retry-breaker": {"attempts_per_request_max": 1.0}}' \
  scenarios/policies/retry-only.json scenarios/policies/retry-breaker.json
rebuild overload-wave \
  '{"retry-only": {"success_rate_max": 0.9}, "retry-honor-hints": {"success_rate_min": 0.9}}' \
  scenarios/policies/retry-only.json scenarios/policies/retry-honor-hints.json
rebuild rate-limit-squeeze \
  '{"retry-naive": {"attempts_per_request_min": 1.8, "success_rate_max": 0.85}, "retry-paced": {"success_rate_min": 0.9, "attempts_per_request_max": 1.0}}' \
  scenarios/policies/retry-naive.json scenarios/policies/retry-paced.json

for f in scenarios/incident-*.json; do "$squall" validate "$f"; done
