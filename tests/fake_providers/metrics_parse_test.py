"""/metrics of `squall serve` through real parsers (issue 16): prometheus_client's Prometheus-text parser
and its OpenMetrics parser, which is strict about family names that clash, canonical bucket bounds and
histograms whose +Inf bucket is not their count. Starts the binary on port 0, reads its banner, sends a
few AI requests (one of them through an armed fault window, removed again by its id), then scrapes.

Usage: /usr/bin/python3 metrics_parse_test.py SQUALL_BINARY SCENARIO
Needs Debian's python3-prometheus-client (scripts/install-deps.sh installs it)."""
import json
import re
import subprocess
import sys
import urllib.error
import urllib.request

try:
    from prometheus_client.openmetrics.parser import text_string_to_metric_families as parse_openmetrics
    from prometheus_client.parser import text_string_to_metric_families as parse_prometheus
    from prometheus_client.utils import floatToGoString
except ImportError:
    sys.exit("prometheus_client missing: apt-get install python3-prometheus-client (scripts/install-deps.sh does it); "
             "run this with /usr/bin/python3")

failures = []


def check(condition, what):
    if not condition:
        failures.append(what)
        print("FAILED: " + what, file=sys.stderr)


def http(method, url, body=None, headers=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, dict(r.headers), r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read().decode()


def start(binary, scenario):
    """`squall serve` and what its banner says: provider -> base, faults and metrics URLs, and the curl line."""
    child = subprocess.Popen([binary, "serve", scenario, "--for-s", "120"], stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, text=True)
    providers, current, curl = {}, None, None
    for line in child.stdout:
        line = line.rstrip("\n")
        m = re.match(r"^(\S+) (http://\S+)$", line)
        if m:
            current = providers.setdefault(m.group(1), {"base": m.group(2)})
        m = re.match(r"^  (faults|metrics) +(http://\S+)$", line)
        if m and current is not None:
            current[m.group(1)] = m.group(2)
        if line.startswith("arm a fault window: curl "):
            curl = line
            break
    return child, providers, curl


def openmetrics_of(url):
    status, headers, text = http("GET", url, headers={"Accept": "application/openmetrics-text; version=1.0.0"})
    check(status == 200, "OpenMetrics scrape: 200, got %s" % status)
    check(headers.get("Content-Type", "").startswith("application/openmetrics-text; version=1.0.0"),
          "OpenMetrics content type, got %r" % headers.get("Content-Type"))
    return text


def prometheus_of(url):
    status, headers, text = http("GET", url)
    check(status == 200, "Prometheus scrape: 200, got %s" % status)
    check(headers.get("Content-Type", "").startswith("text/plain; version=0.0.4"),
          "Prometheus text content type, got %r" % headers.get("Content-Type"))
    return text


def samples(families, name):
    return [s for f in families for s in f.samples if s.name == name]


def check_families(families, fmt):
    names = [f.name for f in families]
    # The lenient Prometheus parser yields two families of one name where OpenMetrics would clash.
    check(len(names) == len(set(names)), "%s: family names unique, got %s" % (fmt, sorted(names)))
    # A sample its TYPE does not cover becomes an untyped (unknown) family of its own.
    check(not [f.name for f in families if f.type in ("untyped", "unknown")],
          "%s: every sample belongs to a typed family, untyped: %s" %
          (fmt, [f.name for f in families if f.type in ("untyped", "unknown")]))
    for s in samples(families, "squall_fake_request_duration_seconds_bucket"):
        check(s.labels["le"] == floatToGoString(float(s.labels["le"])), "%s: canonical le %r" % (fmt, s.labels["le"]))


def main():
    binary, scenario = sys.argv[1], sys.argv[2]
    child, providers, curl = start(binary, scenario)
    try:
        check({"openai", "anthropic"} <= set(providers), "banner names the providers: %s" % providers)
        check(curl is not None, "banner has the curl line")
        openai, anthropic = providers["openai"], providers["anthropic"]
        for p in (openai, anthropic):
            check("faults" in p and "metrics" in p, "banner names the faults and metrics URLs: %s" % p)
        chat = {"model": "gpt-4o-mini", "max_tokens": 3, "messages": [{"role": "user", "content": "one two"}]}
        check(http("POST", openai["base"] + "/chat/completions", chat)[0] == 200, "chat 200")
        check(http("POST", openai["base"] + "/chat/completions", dict(chat, stream=True))[0] == 200, "stream 200")
        check(http("POST", openai["base"] + "/chat/completions", dict(chat, model="gpt-9"))[0] == 404, "unknown 404")
        status, _, armed = http("POST", openai["faults"], {"for_s": 600, "errors": {"503": 1.0}, "latency_x": 2})
        check(status == 201, "armed: %s %s" % (status, armed))
        window = json.loads(armed)["id"]
        check(http("POST", openai["base"] + "/chat/completions", chat)[0] == 503, "503 in the armed window")
        during = openmetrics_of(openai["metrics"])
        check(http("DELETE", "%s/%d" % (openai["faults"], window))[0] == 200, "DELETE /squall/faults/{id}")
        check(http("DELETE", "%s/%d" % (openai["faults"], window))[0] == 404, "DELETE again: 404")
        check(http("DELETE", openai["faults"] + "/abc")[0] == 400, "DELETE a non-number: 400")
        check(http("POST", openai["base"] + "/chat/completions", chat)[0] == 200, "200 once the window is gone")
        messages = {"model": "claude-sonnet-4", "max_tokens": 2, "messages": [{"role": "user", "content": "hi"}]}
        check(http("POST", anthropic["base"] + "/v1/messages", messages)[0] == 200, "messages 200")

        for provider, p in providers.items():
            om_text = openmetrics_of(p["metrics"])
            prom_text = prometheus_of(p["metrics"])
            om = list(parse_openmetrics(om_text))  # raises on a clash, a bad histogram or a missing # EOF
            prom = list(parse_prometheus(prom_text))
            check_families(om, "OpenMetrics " + provider)
            check_families(prom, "Prometheus " + provider)
            # The build info is an info family in OpenMetrics, a gauge named with its _info in Prometheus text.
            as_openmetrics = {("squall_fake_build", "info") if f.name == "squall_fake_build_info" else (f.name, f.type)
                              for f in prom}
            check({(f.name, f.type) for f in om} == as_openmetrics,
                  "both formats carry the same families and types: %s" %
                  ({(f.name, f.type) for f in om} ^ as_openmetrics))
            counts = samples(om, "squall_fake_request_duration_seconds_count")
            requests = samples(om, "squall_fake_requests_total")[0].value
            check(sum(s.value for s in counts) == requests,
                  "%s: every AI request observed once: %s vs %s" % (provider, counts, requests))
            info = samples(om, "squall_fake_build_info")
            check(len(info) == 1 and info[0].labels.get("version") and info[0].value == 1, "build info: %s" % info)
            active = {s.labels["kind"]: s.value for s in samples(om, "squall_fake_fault_windows_active")}
            check(active == {"errors": 0, "latency": 0, "outage": 0, "wire": 0}, "no window now: %s" % active)

        openai_counts = {(s.labels["model"], s.labels["status"]): s.value
                         for s in samples(list(parse_openmetrics(openmetrics_of(openai["metrics"]))),
                                          "squall_fake_request_duration_seconds_count")}
        check(openai_counts == {("gpt-4o-mini", "200"): 3, ("gpt-4o-mini", "503"): 1, ("(unknown)", "404"): 1},
              "durations by model and status: %s" % openai_counts)
        active = {s.labels["kind"]: s.value
                  for s in samples(list(parse_openmetrics(during)), "squall_fake_fault_windows_active")}
        check(active == {"errors": 1, "latency": 1, "outage": 0, "wire": 0}, "the armed window was active: %s" % active)

        # The strict parser is the one that sees the old clash: a gauge squall_fake_connections beside the
        # counter squall_fake_connections_total.
        old = ("# TYPE squall_fake_connections gauge\nsquall_fake_connections 1\n"
               "# TYPE squall_fake_connections counter\nsquall_fake_connections_total 2\n# EOF\n")
        try:
            list(parse_openmetrics(old))
            check(False, "the OpenMetrics parser refuses clashing families")
        except ValueError:
            pass
    finally:
        child.terminate()
        output = child.communicate(timeout=30)[0]
    check(child.returncode == 0, "squall serve stopped cleanly: %s\n%s" % (child.returncode, output))
    if failures:
        sys.exit("%d check(s) failed" % len(failures))
    print("metrics parse test: all checks passed")


main()
