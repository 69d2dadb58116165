#!/usr/bin/env python3
"""Builds the seed corpus of each fuzz target from the tree's own test data, at run time, into OUT_DIR:

  scenario      scenarios/*.json, tests/**/ scenario files (broken ones included: they reach the error paths)
  policy        scenarios/policies/*.json, tests/sim/scenario/broken/policies/*.json, docs' JSON examples
  trace         slices of the incident traces (header + a run of lines), the traces quoted in the trace tests
  request_body  the bodies quoted in the fake providers' tests, each behind all ten (API, endpoint) bytes
  control       every fault window of every scenario, at two arming times
  schema_instance  the schemas of tests/fake_providers/content/schema_corpus.json, behind two seed bytes
  gateway_config   tests/config_import/samples/*.json and *.yaml behind the gateway byte, the configs quoted
                   in the importers' tests
  results       written by fuzz_seed_results (scripts/fuzz.sh runs it), not here
  sweep_shard   the same: shard files of a small sweep

and, per target, the dictionary: tests/fuzz/dict/json.dict + <target>.dict + the key names of its seeds.
Nothing is copied into the tree.  Usage: make_seeds.py SOURCE_DIR OUT_DIR
"""
import glob
import hashlib
import json
import os
import re
import sys

src, out = sys.argv[1], sys.argv[2]
RAW = re.compile(r'R"\((.*?)\)"', re.S)


def tree(pattern):
    return sorted(glob.glob(os.path.join(src, pattern), recursive=True))


def put(target, data):
    if isinstance(data, str):
        data = data.encode()
    d = os.path.join(out, "seeds", target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, hashlib.sha1(data).hexdigest()), "wb") as f:
        f.write(data)


def raw_strings(pattern):
    for f in tree(pattern):
        with open(f, encoding="utf-8", errors="replace") as h:
            yield from RAW.findall(h.read())


def load(f):
    try:
        with open(f, encoding="utf-8") as h:
            return json.load(h)
    except (ValueError, UnicodeDecodeError):
        return None


# scenario: every JSON file that looks like a scenario, valid or broken (as bytes, broken syntax too).
for f in tree("scenarios/*.json") + tree("tests/**/*.json"):
    if "node_modules" in f or os.path.basename(f).startswith("package"):
        continue
    doc = load(f)
    if "/policies/" in f:
        continue
    if doc is None or isinstance(doc, dict) and ("providers" in doc or "workload" in doc) or "broken" in f:
        with open(f, "rb") as h:
            put("scenario", h.read())

# scenario, through the other readers (tests/fuzz/scenario.cpp's first byte): a few scenarios as YAML
# ('Y': JSON is YAML's flow style) and with a --set line ('S'), ${NAME}s included.
for name in ("quickstart", "openai-503-storm", "fleet-retry-budget"):
    with open(os.path.join(src, "scenarios", name + ".json"), "rb") as h:
        text = h.read()
    put("scenario", b"Y" + text)
    put("scenario", b"S" + b"workload.arrivals.rate_per_s=${RATE}\n" + text)
    put("scenario", b"S" + b'policies.retry-backoff.retry.attempts_max=2\n' + text.replace(b'"seed": 42', b'"seed": "${SEED:-42}"'))

# policy: policy files, valid and broken, and the JSON examples of the docs that are policy documents.
for f in tree("scenarios/policies/**/*.json") + tree("tests/**/policies/*.json"):
    with open(f, "rb") as h:
        put("policy", h.read())
for f in tree("docs/**/*.md"):
    with open(f, encoding="utf-8") as h:
        for block in re.findall(r"```json\n(.*?)```", h.read(), re.S):
            try:
                doc = json.loads(block)
            except ValueError:
                continue
            if isinstance(doc, dict) and "policies" in doc and "providers" not in doc:
                put("policy", block)

# gateway_config: byte 0 picks the gateway (0 Portkey's JSON, 1 LiteLLM's YAML); the sample gateway configs
# and the configs quoted in the importers' tests.
for f in tree("tests/config_import/samples/*.json"):
    with open(f, "rb") as h:
        put("gateway_config", b"\x00" + h.read())
for f in tree("tests/config_import/samples/*.yaml"):
    with open(f, "rb") as h:
        put("gateway_config", b"\x01" + h.read())
for s in raw_strings("tests/config_import/portkey_config_test.cpp"):
    put("gateway_config", b"\x00" + s.encode())
for s in raw_strings("tests/config_import/yaml_document_test.cpp"):
    put("gateway_config", b"\x01" + s.encode())

# trace: the header and a run of lines, from a few places in each incident trace (the calm start, the
# incident), small enough for -max_len; and the trace lines quoted in the trace tests.
for f in tree("scenarios/incidents/traces/*.jsonl"):
    with open(f, encoding="utf-8") as h:
        lines = h.read().splitlines(keepends=True)
    header, body = lines[0], lines[1:]
    for start in range(0, len(body), max(1, len(body) // 8)):
        for count in (3, 30):
            put("trace", header + "".join(body[start:start + count]))
quoted = [s for s in raw_strings("tests/traces/**/*.cpp") if s.lstrip().startswith("{")]
headers = [s for s in quoted if "squall_trace" in s]
attempts = [s for s in quoted if "squall_trace" not in s and "t_ms" in s]
for h in headers or ['{"squall_trace":1,"source":"record","prompts":"hash"}']:
    put("trace", h.strip() + "\n" + "".join(a.strip() + "\n" for a in attempts))
    put("trace", h.strip() + "\n")

# request_body: byte 0 picks (API, endpoint): bit 0 anthropic, (byte >> 1) % 5 chat, embeddings, messages,
# count_tokens, responses.
for s in raw_strings("tests/fake_providers/*.cpp"):
    if not any(k in s for k in ('"model"', '"messages"', '"input"')):
        continue
    for selector in range(10):
        put("request_body", bytes([selector]) + s.encode())

# control: every fault window of every scenario; the first two bytes are the arming time in seconds.
for f in tree("scenarios/*.json") + tree("tests/**/*.json"):
    doc = load(f)
    if not isinstance(doc, dict) or not isinstance(doc.get("providers"), dict):
        continue
    for p in doc["providers"].values():
        for w in p.get("faults", []) if isinstance(p, dict) else []:
            for seconds in (0, 150):
                put("control", seconds.to_bytes(2, "little") + json.dumps(w).encode())

# schema_instance: byte 0 seeds the rng, its bit 0 picks an instance (0) or a tool's arguments (1).
with open(os.path.join(src, "tests/fake_providers/content/schema_corpus.json"), encoding="utf-8") as h:
    for i, entry in enumerate(json.load(h)):
        for selector in (2 * i % 256, (2 * i + 1) % 256):
            put("schema_instance", bytes([selector]) + json.dumps(entry["schema"]).encode())

# Dictionaries: the shared JSON tokens, the target's own file, and every key name of its seeds.
def keys(value, acc):
    if isinstance(value, dict):
        for k, v in value.items():
            acc.add(k)
            keys(v, acc)
    elif isinstance(value, list):
        for v in value:
            keys(v, acc)


for target in ("scenario", "policy", "trace", "results", "request_body", "control", "schema_instance",
               "gateway_config", "sweep_shard"):
    acc = set()
    for f in glob.glob(os.path.join(out, "seeds", target, "*")):
        with open(f, "rb") as h:
            data = h.read()
        for chunk in data.split(b"\n"):
            for start in range(0, 3):  # request_body, control and schema_instance seeds start with selector bytes
                try:
                    keys(json.loads(chunk[start:]), acc)
                    break
                except (ValueError, UnicodeDecodeError):
                    continue
    parts = []
    for name in ("json", target):
        path = os.path.join(src, "tests/fuzz/dict", name + ".dict")
        with open(path, encoding="utf-8") as h:
            parts.append(h.read())
    escaped = (k.replace("\\", "\\\\").replace('"', '\\"') for k in sorted(acc) if k.isprintable() and len(k) < 40)
    parts.append("# key names found in the seeds\n" + "".join(f'"\\"{k}\\""\n' for k in escaped))
    os.makedirs(os.path.join(out, "dict"), exist_ok=True)
    with open(os.path.join(out, "dict", target + ".dict"), "w", encoding="utf-8") as h:
        h.write("\n".join(parts))

for target in sorted(os.listdir(os.path.join(out, "seeds"))):
    print(f"  seeds {target}: {len(os.listdir(os.path.join(out, 'seeds', target)))}")
