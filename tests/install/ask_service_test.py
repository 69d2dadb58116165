#!/usr/bin/env python3
"""examples/ask_service, built against the installed package, in front of `squall serve --tls`.

Run by tests/install/install_test.cmake after it built the example:
  ask_service_test.py SQUALL_BINARY ASK_SERVICE SOURCE_DIR WORK_DIR

Checks, each a real process on loopback:
  - the service answers a question over HTTPS through squall::client, and its answer is exactly the text
    in the body the fake provider sent (choices[0].message.content of the raw body it passes on);
  - /metrics serves the client's Prometheus text with that call counted;
  - SIGHUP reloads the policy file; SIGTERM drains and exits 0;
  - trusting the wrong CA, the question fails with a certificate error that says so.
"""
import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request

squall, ask_service, source_dir, work_dir = sys.argv[1:5]
os.makedirs(work_dir, exist_ok=True)
children = []


def fail(message):
    for child in children:
        if child.poll() is None:
            child.kill()
    sys.exit("ask_service_test: " + message)


def start(args, expect, timeout_s=30):
    """Starts a child process and reads its stdout until every pattern in `expect` matched a line."""
    child = subprocess.Popen(args, cwd=source_dir, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    children.append(child)
    found, seen = {}, []
    deadline = time.time() + timeout_s
    while len(found) < len(expect) and time.time() < deadline:
        line = child.stdout.readline()
        if not line:
            fail("%s exited early (%s):\n%s" % (args[0], child.poll(), "".join(seen)))
        seen.append(line)
        for name, pattern in expect.items():
            m = re.search(pattern, line)
            if m and name not in found:
                found[name] = m.group(1)
    if len(found) < len(expect):
        fail("%s did not print %s:\n%s" % (args[0], list(expect), "".join(seen)))
    return child, found


def http(method, url, body=None):
    request = urllib.request.Request(url, method=method, data=None if body is None else json.dumps(body).encode())
    try:
        with urllib.request.urlopen(request, timeout=60) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


scenario = "examples/ask_service/scenario.json"
policy = "scenarios/policies/retry-breaker.json"
# The provider: the scenario's fake provider over HTTPS (its fault window starts at 40 s; we are done by then).
serve, got = start([squall, "serve", scenario, "--tls", "--ca-out", os.path.join(work_dir, "ca.pem")],
                   {"ca": r"^CA certificate: (\S+)", "url": r"^openai (https://\S+)"})
ca, provider_url = got["ca"], got["url"]
# Another throwaway CA, which did not sign the provider's certificate.
other, other_got = start([squall, "serve", scenario, "--tls", "--ca-out", os.path.join(work_dir, "wrong-ca.pem")],
                         {"ca": r"^CA certificate: (\S+)"})
wrong_ca = other_got["ca"]
other.send_signal(signal.SIGTERM)
other.wait(timeout=30)

service, s = start([ask_service, "--policy", policy, "--provider-url", provider_url, "--ca-file", ca],
                   {"url": r"listening on (http://\S+)", "policy": r'policy "([^"]+)"'})
if s["policy"] != "retry-breaker":
    fail("the service loaded policy %r" % s["policy"])
status, text = http("POST", s["url"] + "/ask", {"question": "What is the capital of France?"})
if status != 200:
    fail("POST /ask answered %d: %s" % (status, text))
answer = json.loads(text)
sent = json.loads(answer["provider_body"])["choices"][0]["message"]["content"]
if not answer["ok"] or not answer["answer"] or answer["answer"] != sent:
    fail("the answer %r is not the provider's text %r" % (answer["answer"], sent))
print("answer over TLS, exactly the provider's text: %r (%d attempts)" % (answer["answer"], answer["attempts"]))

status, metrics = http("GET", s["url"] + "/metrics")
if status != 200 or 'squall_client_calls_total{provider="openai",model="gpt-4o-mini",outcome="ok"} 1' not in metrics:
    fail("/metrics does not count the call:\n" + metrics[:2000])

service.send_signal(signal.SIGHUP)
line = service.stdout.readline()
if "reloaded" not in line:
    fail("SIGHUP did not reload: " + line)
service.send_signal(signal.SIGTERM)
rest, _ = service.communicate(timeout=30)
if service.returncode != 0 or "drained" not in rest:
    fail("SIGTERM: exit %s, %r" % (service.returncode, rest))

# Trusting the wrong CA: a certificate failure, said in words.
service, s = start([ask_service, "--policy", policy, "--provider-url", provider_url, "--ca-file", wrong_ca],
                   {"url": r"listening on (http://\S+)"})
status, text = http("POST", s["url"] + "/ask", {"question": "Will this work?"})
error = json.loads(text).get("error", "")
if status != 502 or "certificate verify failed" not in error:
    fail("with the wrong CA: %d %r" % (status, text))
print("wrong CA: %s" % error)
service.send_signal(signal.SIGTERM)
service.communicate(timeout=30)
serve.send_signal(signal.SIGTERM)
serve.communicate(timeout=30)
if serve.returncode != 0:
    fail("squall serve exited %s" % serve.returncode)
