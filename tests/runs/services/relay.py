#!/usr/bin/env python3
"""A small service for squall's own tests of its system-under-test mode: the standard library only.

POST /ask {"prompt": "...", "max_tokens": N} sends the prompt to ${OPENAI_BASE_URL}/chat/completions and
answers {"answer": text} (200), or {"error": ...} (502) after RETRIES more attempts without delay. It does
not forward x-squall-request-id unless FORWARD_ID=1, so squall attributes its attempts by the prompt marker.

MODE makes it misbehave the ways squall must survive:
  relay        (default) as above
  exit         prints a line and exits with status 3 before listening
  never_ready  never listens; sleeps
  wrong_port   listens on a port of its own choosing, not PORT
  die_after    serves DIE_AFTER requests, then exits with status 9 mid-run
  garbage      answers /ask with bytes that are not HTTP
  ignore_term  relays, but ignores SIGTERM (squall must SIGKILL it after the grace period)
  slow         waits SLOW_S seconds (default 1) before answering /ask
PID_FILE, when set, receives its pid, so a test can check that nothing of it is left running.
"""
import http.server
import json
import os
import signal
import sys
import threading
import time
import urllib.error
import urllib.request

MODE = os.environ.get("MODE", "relay")
PORT = int(os.environ["PORT"])
BASE = os.environ.get("OPENAI_BASE_URL", "")
RETRIES = int(os.environ.get("RETRIES", "0"))
FORWARD_ID = os.environ.get("FORWARD_ID") == "1"
DIE_AFTER = int(os.environ.get("DIE_AFTER", "5"))
served = 0
lock = threading.Lock()

if os.environ.get("PID_FILE"):
    with open(os.environ["PID_FILE"], "w") as f:
        f.write(str(os.getpid()))

if MODE == "exit":
    print("relay: cannot start: no configuration (on purpose)", flush=True)
    sys.exit(3)
if MODE == "never_ready":
    print("relay: starting, slowly", flush=True)
    while True:
        time.sleep(1)
if MODE == "ignore_term":
    signal.signal(signal.SIGTERM, signal.SIG_IGN)


def call_provider(prompt, max_tokens, request_id):
    body = json.dumps({"model": "gpt-4o-mini", "messages": [{"role": "user", "content": prompt}],
                       "max_tokens": max_tokens}).encode()
    headers = {"content-type": "application/json", "authorization": "Bearer test"}
    if FORWARD_ID and request_id:
        headers["x-squall-request-id"] = request_id
    last = None
    for attempt in range(RETRIES + 1):
        req = urllib.request.Request(BASE + "/chat/completions", data=body, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(req, timeout=30) as res:
                answer = json.loads(res.read())
                print(json.dumps({"event": "upstream_attempt", "attempt": attempt + 1, "status": res.status}),
                      flush=True)
                return 200, {"answer": answer["choices"][0]["message"]["content"]}
        except urllib.error.HTTPError as e:
            e.read()
            last = e.code
            print(json.dumps({"event": "upstream_attempt", "attempt": attempt + 1, "status": e.code}), flush=True)
        except (urllib.error.URLError, OSError) as e:
            last = str(e)
            print(json.dumps({"event": "upstream_attempt", "attempt": attempt + 1, "status": None}), flush=True)
    return 502, {"error": f"provider failed: {last}"}


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def reply(self, status, doc):
        data = json.dumps(doc).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        if self.path == "/health":
            return self.reply(200, {"ok": True})
        self.reply(404, {"error": "not found"})

    def do_POST(self):
        global served
        length = int(self.headers.get("content-length", "0"))
        raw = self.rfile.read(length)
        if MODE == "slow":
            time.sleep(float(os.environ.get("SLOW_S", "1")))
        if MODE == "garbage":
            self.wfile.write(b"THIS IS NOT HTTP\r\n\r\n")
            self.close_connection = True
            return
        with lock:
            served += 1
            if MODE == "die_after" and served > DIE_AFTER:
                print("relay: dying mid-run (on purpose)", flush=True)
                os._exit(9)
        try:
            doc = json.loads(raw)
        except ValueError:
            return self.reply(400, {"error": "bad json"})
        status, answer = call_provider(doc.get("prompt", ""), doc.get("max_tokens", 16),
                                       self.headers.get("x-squall-request-id"))
        self.reply(status, answer)


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True


server = Server(("127.0.0.1", 0 if MODE == "wrong_port" else PORT), Handler)
print(json.dumps({"event": "listening", "port": server.server_address[1], "mode": MODE}), flush=True)
signal.signal(signal.SIGTERM, signal.SIG_IGN if MODE == "ignore_term" else (lambda *_: os._exit(0)))
server.serve_forever()
