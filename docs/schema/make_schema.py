#!/usr/bin/env python3
"""Writes docs/schema/scenario.schema.json and docs/schema/policy.schema.json.

The schemas are written here, key by key, from the parsers (sim/scenario/scenario.cpp, service_spec.cpp,
sim/workload/workload_config.cpp, sim/provider/provider_config.cpp, sim/distributions/distribution.cpp,
policies/pipeline/pipeline.cpp and every policies/<type>/<type>_options.cpp), so that a range or a default is
stated once in this file and both bundles carry it. Each schema is one self-contained file (draft-07, whose
"definitions" and "$ref" every editor extension and python3-jsonschema resolve without fetching anything):
the scenario schema carries the policy definitions too, for inline policies.

Run it after changing a parser:   /usr/bin/python3 docs/schema/make_schema.py
tests/schema/schema_test.py fails when the committed files differ from what this script writes.
"""
import json
import pathlib
import sys

DRAFT = "http://json-schema.org/draft-07/schema#"
INT64_MAX = 9223372036854775807


# ---- small builders -------------------------------------------------------------------------------------------

def num(desc, lo=None, hi=None, default=None, exclusive_lo=None):
    s = {"type": "number", "description": desc}
    if lo is not None:
        s["minimum"] = lo
    if exclusive_lo is not None:
        s["exclusiveMinimum"] = exclusive_lo
    if hi is not None:
        s["maximum"] = hi
    if default is not None:
        s["default"] = default
    return s


def integer(desc, lo, hi, default=None):
    s = {"type": "integer", "description": desc, "minimum": lo, "maximum": hi}
    if default is not None:
        s["default"] = default
    return s


def string(desc, default=None, **extra):
    s = {"type": "string", "description": desc}
    s.update(extra)
    if default is not None:
        s["default"] = default
    return s


def boolean(desc, default=None):
    s = {"type": "boolean", "description": desc}
    if default is not None:
        s["default"] = default
    return s


def choice(desc, values, default=None):
    s = {"type": "string", "enum": list(values), "description": desc}
    if default is not None:
        s["default"] = default
    return s


def obj(desc, props, required=(), closed=True, **extra):
    s = {"type": "object", "description": desc, "properties": props}
    if required:
        s["required"] = list(required)
    if closed:
        s["additionalProperties"] = False
    s.update(extra)
    return s


def ref(name, desc=None):
    # draft-07 ignores keywords beside $ref; the description is for editors only.
    s = {"$ref": "#/definitions/" + name}
    if desc:
        s["description"] = desc
    return s


def names(desc, lo=1, hi=64):
    return {"type": "array", "description": desc, "minItems": lo, "maxItems": hi,
            "items": {"type": "string", "minLength": 1}}


def distribution(desc, lo, hi):
    """sim/distributions/distribution.cpp: a bare number (a constant) or a {"dist": ...} object."""
    cap = num("Upper bound on draws (lognormal tails are long).", lo, hi)
    positive = max(lo, 1e-9)
    return {
        "description": desc + " A number (a constant) or {\"dist\": \"constant\" | \"uniform\" | \"exponential\" | "
                              "\"lognormal\", ...}.",
        "oneOf": [
            num("A constant.", lo, hi),
            obj("{\"dist\": \"constant\", \"value\": v}", {
                "dist": {"const": "constant", "description": "Always the same value."},
                "value": num("The value.", lo, hi), "cap": cap}, required=["dist", "value"]),
            obj("{\"dist\": \"uniform\", \"min\": a, \"max\": b}", {
                "dist": {"const": "uniform", "description": "Uniform between min and max."},
                "min": num("Lowest draw.", lo, hi), "max": num("Highest draw (at least min).", lo, hi), "cap": cap},
                required=["dist", "min", "max"]),
            obj("{\"dist\": \"exponential\", \"mean\": m}", {
                "dist": {"const": "exponential", "description": "Exponential with the given mean."},
                "mean": num("The mean.", positive, hi), "cap": cap}, required=["dist", "mean"]),
            obj("{\"dist\": \"lognormal\", \"median\": m, \"sigma\": s}", {
                "dist": {"const": "lognormal", "description": "Lognormal: median and the sigma of the log."},
                "median": num("The median.", positive, hi), "sigma": num("The sigma of ln(x).", 0, 5), "cap": cap},
                required=["dist", "median", "sigma"]),
        ],
    }


OUTCOME_CLASSES = ["ok", "rate_limited", "overloaded", "server_error", "timeout", "connection_error",
                   "invalid_request", "auth", "quota", "circuit_open", "rejected", "cancelled", "bad_answer"]
PERMANENT = ["invalid_request", "auth", "quota"]


def class_set(desc, refused, default=None):
    """policies/core/outcome_class_set.hpp: an array of outcome class names; `refused` are names the policy refuses."""
    allowed = [c for c in OUTCOME_CLASSES if c not in refused]
    s = {"type": "array", "description": desc, "items": {"type": "string", "enum": allowed}}
    if default is not None:
        s["default"] = default
    return s


def status_set(desc):
    """policies/core/http_status_set.hpp: HTTP statuses (429) or classes ("5xx")."""
    return {"type": "array", "description": desc, "items": {
        "oneOf": [{"type": "integer", "minimum": 100, "maximum": 599},
                  {"type": "string", "enum": ["1xx", "2xx", "3xx", "4xx", "5xx"]}]}}


def retry_budget():
    """policies/retry/retry_budget.cpp."""
    return {
        "description": "A retry budget: {\"kind\": \"token_bucket\", ...} (gRPC) or {\"kind\": \"percent\", ...} (Finagle).",
        "oneOf": [
            obj("Token bucket: each failed attempt takes a token, each success gives token_ratio back; retries stop "
                "below half.", {
                    "kind": {"const": "token_bucket", "description": "gRPC-style retry throttling."},
                    "tokens_max": num("Bucket size.", 1, 1000, 100),
                    "token_ratio": num("Tokens a success gives back.", 0.001, 1000, 0.1)}, required=["kind"]),
            obj("Percent: retries may add this percent of the calls in the window, plus a floor.", {
                "kind": {"const": "percent", "description": "Finagle-style retry budget."},
                "percent": num("Retries allowed as a percent of calls.", 0, 1000, 10),
                "window_s": integer("Window over which calls are counted, in seconds.", 1, 60, 10),
                "retries_min_per_s": num("Retries always allowed per second.", 0, 10000, 1)}, required=["kind"]),
        ],
    }


def target_breaker():
    """policies/core/target_breaker.cpp (Portkey's cb_config)."""
    return obj("A per-target circuit breaker (Portkey's cb_config); needs failures_to_open or "
               "failure_percent_to_open above 0.", {
                   "failures_to_open": integer("Failures that open a target (0 = not used).", 0, 100000, 0),
                   "failure_percent_to_open": num("Failure percent that opens a target (0 = not used).", 0, 100, 0),
                   "requests_min": integer("Requests before the percent applies.", 1, 100000, 5),
                   "cooldown_ms": num("How long an open target stays out, in ms.", 1, 86400000, 30000),
                   "failure_on_status": status_set("HTTP statuses that count as failures.")})


def endpoint(desc, weight=False, rpm=False):
    props = {"provider": string("Provider name; omitted = the request's own provider.", minLength=1),
             "model": string("Model name; omitted = the request's own model.", minLength=1)}
    if weight:
        props["weight"] = num("Relative weight.", 0, 1000000, 1)
    if rpm:
        props["weight"] = num("Relative weight (above 0).", 0, 1000000, 1, exclusive_lo=None)
        props["weight"]["exclusiveMinimum"] = 0
        del props["weight"]["minimum"]
        props["rpm"] = integer("The deployment's requests per minute limit.", 0, 1000000000000)
        props["tpm"] = integer("The deployment's tokens per minute limit.", 0, 1000000000000)
    return obj(desc, props)


# ---- policies: one entry per type in policy_registry() (policies/pipeline/registry.cpp) -----------------------

def policy_types():
    t = {}
    t["retry"] = ("Retries failed calls with backoff (policies/retry).", {
        "attempts_max": integer("Attempts in all, the first included.", 1, 100, 3),
        "backoff": choice("How the delay grows.", ["constant", "linear", "exponential"], "exponential"),
        "delay_ms_base": num("First delay, in ms.", 0, 3600000, 200),
        "multiplier": num("Growth factor of exponential backoff.", 1, 10, 2),
        "delay_ms_max": num("Largest delay, in ms (at least delay_ms_base).", 0, 3600000, 30000),
        "jitter": choice("Randomisation of each delay.", ["none", "full", "equal", "decorrelated", "shrink"], "full"),
        "jitter_fraction": num("Fraction of the delay a \"shrink\" jitter may take off.", 0, 1, 0.25),
        "retry_on": class_set("Outcome classes that are retried.", PERMANENT + ["ok"],
                              ["rate_limited", "overloaded", "server_error", "timeout", "connection_error", "bad_answer"]),
        "retry_on_status": status_set("HTTP statuses that are retried (replaces retry_on for answers with a status)."),
        "retry_after": choice("Whether a Retry-After hint sets the delay.", ["honor", "ignore"], "honor"),
        "retry_after_ms_max": num("Longest Retry-After honoured, in ms.", 0, 2147483647, 60000),
        "retry_after_over_max": choice("What a longer hint does.", ["cap", "give_up", "backoff"], "cap"),
        "retry_after_on_status": status_set("Statuses whose Retry-After is read."),
        "backoff_after_hint": choice("Whether backoff keeps growing after a hinted delay.", ["keep", "none"], "keep"),
        "retry_after_zero": choice("What a zero Retry-After does.", ["at_once", "backoff"], "at_once"),
        "should_retry_header": choice("Whether x-should-retry is obeyed.", ["honor", "ignore"], "honor"),
        "ratelimit_reset": choice("Whether rate-limit reset headers set the delay.", ["honor", "ignore"], "honor"),
        "per_class": {"type": "object", "description": "Per outcome class overrides (the class must be in retry_on).",
                      "propertyNames": {"enum": [c for c in OUTCOME_CLASSES if c not in PERMANENT + ["ok"]]},
                      "additionalProperties": obj("Overrides for one outcome class.", {
                          "attempts_max": integer("Attempts in all for this class.", 1, 100),
                          "backoff": choice("How the delay grows.", ["constant", "linear", "exponential"]),
                          "delay_ms_base": num("First delay, in ms.", 0, 3600000),
                          "multiplier": num("Growth factor.", 1, 10),
                          "delay_ms_max": num("Largest delay, in ms.", 0, 3600000),
                          "jitter": choice("Randomisation of each delay.",
                                           ["none", "full", "equal", "decorrelated", "shrink"])})},
        "budget": retry_budget(),
    })
    t["timeout"] = ("Cancels a call that takes too long (policies/timeout).", {
        "timeout_ms": num("Time allowed per call, in ms.", 1, 86400000, 30000)})
    t["circuit_breaker"] = ("Stops calling a failing provider for a while (policies/circuit_breaker).", {
        "window": choice("Sliding window kind: the last N calls or the last N seconds.", ["count", "time"], "count"),
        "window_size": integer("Calls (count) or seconds (time, at most 3600) in the window.", 1, 100000, 100),
        "failure_rate_threshold": num("Failure rate that opens the breaker, above 0.", 0, 1, 0.5, ),
        "slow_call_rate_threshold": num("Slow call rate that opens the breaker, above 0.", 0, 1, 1.0),
        "slow_call_ms": num("A call slower than this is slow, in ms.", 1, 86400000, 60000),
        "calls_min": integer("Calls in the window before the rates count.", 1, 100000, 100),
        "open_ms": num("How long the breaker stays open, in ms.", 1, 86400000, 60000),
        "half_open_calls": integer("Trial calls while half open.", 1, 1000, 10),
        "failure_on": class_set("Outcome classes that count as failures.", ["ok"],
                                ["overloaded", "server_error", "timeout", "connection_error"]),
    })
    for k in ("failure_rate_threshold", "slow_call_rate_threshold"):
        del t["circuit_breaker"][1][k]["minimum"]
        t["circuit_breaker"][1][k]["exclusiveMinimum"] = 0
    t["hedging"] = ("Sends a second attempt when the first is slow (policies/hedging).", {
        "delay_ms": num("Wait before a hedge, in ms.", 0, 3600000, 1000),
        "delay_percentile": num("Wait for this latency percentile instead (between 0 and 1, exclusive).", 0, 1),
        "latency_window": integer("Latencies kept for the percentile.", 1, 100000, 1000),
        "latency_samples_min": integer("Samples before the percentile is used (at most latency_window).", 1, 100000, 20),
        "hedges_max": integer("Hedges per call.", 1, 5, 1),
        "hedge_on": class_set("Failures that start a hedge at once.", PERMANENT + ["ok"],
                              ["overloaded", "server_error", "connection_error"]),
        "budget": retry_budget(),
    })
    t["hedging"][1]["delay_percentile"].pop("minimum")
    t["hedging"][1]["delay_percentile"].pop("maximum")
    t["hedging"][1]["delay_percentile"].update({"exclusiveMinimum": 0, "exclusiveMaximum": 1})
    t["cache"] = ("Answers repeated requests from a cache (policies/cache).", {
        "entries_max": integer("Cached answers kept.", 1, 10000000, 10000),
        "ttl_ms": num("How long an answer stays fresh, in ms.", 1, 2592000000, 3600000),
        "match": choice("Exact cache key or semantic similarity.", ["exact", "semantic"], "exact"),
        "similarity_hit_ratio": num("Semantic: share of similar prompts that hit (simulation).", 0, 1, 0.9),
        "similarity_min": num("Semantic: cosine similarity for a hit.", 0, 1, 0.92),
        "embeddings_max": integer("Semantic: embeddings kept.", 1, 65536, 1024),
        "embedder": choice("Semantic: where embeddings come from.", ["provider", "lexical"], "provider"),
        "embedding_model": string("Semantic: the provider's embedding model.", "text-embedding-3-small", minLength=1),
        "embedding_provider": string("Semantic: provider asked for embeddings; empty = the request's."),
        "embedding_timeout_ms": num("Semantic: time allowed for an embedding, in ms.", 1, 60000, 2000),
        "hit_latency_ms": num("Latency of a cache hit, in ms.", 0, 60000, 5),
        "serve_stale_on": class_set("Failures answered from an expired entry.", ["ok"], []),
        "stale_ms_max": num("Oldest stale answer served, in ms past expiry.", 0, 2592000000, 86400000),
    })
    t["coalesce"] = ("Joins identical requests in flight into one call (policies/coalesce).", {
        "waiters_max": integer("Callers waiting on one call.", 1, 1000000, 1000),
        "in_flight_max": integer("Distinct calls in flight.", 1, 10000000, 10000),
    })
    t["idempotency"] = ("Answers a repeated idempotency key with the first answer (policies/idempotency).", {
        "ttl_ms": num("How long a key is remembered, in ms.", 1, 604800000, 600000),
        "entries_max": integer("Keys remembered.", 1, 10000000, 100000),
    })
    t["batching"] = ("Groups requests into batched calls (policies/batching).", {
        "batch_size_max": integer("Requests per batch.", 1, 4096, 16),
        "window_ms": num("Longest wait to fill a batch, in ms.", 0, 60000, 50),
        "groups_max": integer("Open batches (by model) at once.", 1, 100000, 64),
    })
    t["fallback"] = ("Moves a failed call to the next endpoint of a chain (policies/fallback).", {
        "endpoints": {"type": "array", "minItems": 1, "maxItems": 16,
                      "description": "The chain of {\"provider\", \"model\"} endpoints, tried in order.",
                      "items": endpoint("One endpoint of the chain.")},
        "fallback_on": class_set("Failures that move the call on.", ["ok", "cancelled"],
                                 ["rate_limited", "overloaded", "server_error", "timeout", "connection_error",
                                  "circuit_open"]),
        "breaker": target_breaker(),
        "failures_to_cooldown": integer("Consecutive failures that cool an endpoint down (not with breaker).", 1, 1000, 3),
        "cooldown_ms": num("How long an endpoint cools down, in ms (not with breaker).", 1, 86400000, 30000),
        "probe_calls": integer("Trial calls after a cooldown (not with breaker).", 1, 1000, 1),
        "when_all_cooling": choice("What happens when every endpoint cools down (not with breaker).",
                                   ["try_first", "fail"], "try_first"),
    }, ["endpoints"])
    t["litellm_router"] = ("LiteLLM's Router, simulated (policies/litellm_router).", {
        "model_group": string("The model group's name (LiteLLM's model_name)."),
        "deployments": {"type": "array", "minItems": 1, "maxItems": 16,
                        "description": "The model group's {\"provider\", \"model\", \"weight\"} deployments.",
                        "items": endpoint("One deployment.", rpm=True)},
        "routing_strategy": choice("LiteLLM's routing strategy.", ["simple-shuffle", "least-busy", "latency-based-routing",
                                                                  "usage-based-routing", "usage-based-routing-v2"],
                                   "simple-shuffle"),
        "routing_strategy_args": obj("LiteLLM's routing_strategy_args.", {
            "ttl_s": num("How long latencies are remembered, in s (above 0).", None, 604800, 3600, exclusive_lo=0),
            "lowest_latency_buffer": num("Latency-based routing's buffer.", 0, 1000, 0)}),
        "num_retries": integer("Retries per call.", 0, 20, 0),
        "retry_policy": obj("Retries per exception type (LiteLLM's RetryPolicy).", {
            k: integer(d, 0, 20) for k, d in [
                ("bad_request", "BadRequestErrorRetries (400)."), ("authentication", "AuthenticationErrorRetries (401)."),
                ("timeout", "TimeoutErrorRetries."), ("rate_limit", "RateLimitErrorRetries (429)."),
                ("content_policy_violation", "ContentPolicyViolationErrorRetries."),
                ("internal_server_error", "InternalServerErrorRetries (5xx).")]}),
        "retry_after_s": num("LiteLLM's retry_after: least wait before a retry, in s.", 0, 3600, 0),
        "cooldown_time_s": num("How long a deployment cools down, in s (above 0).", None, 86400, 5, exclusive_lo=0),
        "allowed_fails": integer("Failures in a minute before a cooldown.", 0, 1000000, 3),
        "failure_share_requests_min": integer("Requests before the failure share cools a deployment down.", 0, 1000000, 5),
        "disable_cooldowns": boolean("Turns cooldowns off.", False),
        "fallbacks": {"type": "array", "maxItems": 8, "description": "Fallback model groups, tried in order.",
                      "items": obj("One fallback model group.", {
                          "model_group": string("The fallback group's name.", minLength=1),
                          "deployments": {"type": "array", "minItems": 1, "maxItems": 16,
                                          "description": "The group's deployments.",
                                          "items": endpoint("One deployment.", rpm=True)}},
                          required=["model_group", "deployments"])},
        "max_fallbacks": integer("Fallback groups tried per call.", 0, 100, 5),
    }, ["deployments"])
    t["loadbalance"] = ("Spreads calls over weighted targets (policies/loadbalance, Portkey's loadbalance).", {
        "targets": {"type": "array", "minItems": 1, "maxItems": 16,
                    "description": "The {\"provider\", \"model\", \"weight\"} targets to draw from.",
                    "items": endpoint("One target.", weight=True)},
        "breaker": target_breaker(),
    }, ["targets"])
    t["degrade"] = ("Serves a degraded answer instead of a failure (policies/degrade).", {
        "degrade_on": class_set("Failures that are degraded.", ["ok", "cancelled"],
                                ["rate_limited", "overloaded", "server_error", "timeout", "connection_error", "quota",
                                 "circuit_open", "rejected", "bad_answer"]),
        "answer": choice("What is served: a static text, the last good answer, or the failure itself.",
                         ["static", "last_good", "pass"], "static"),
        "text": string("The static answer's text (at most 65536 bytes).", maxLength=65536),
        "output_tokens": integer("Output tokens of a degraded answer.", 0, 1000000, 50),
        "latency_ms": num("Latency of a degraded answer, in ms.", 0, 60000, 1),
        "entries_max": integer("Last good answers kept (only with last_good).", 1, 10000000, 10000),
        "rules": {"type": "array", "minItems": 1, "maxItems": 32, "description": "Rules tried in order; the first "
                  "that matches decides.", "items": obj("One rule.", {
                      "name": string("The rule's name (unique, not \"default\").", minLength=1),
                      "when": obj("What the rule matches (all given conditions).", {
                          "request_class": {"type": "array", "minItems": 1, "description": "Request classes.",
                                            "items": {"enum": ["simple", "moderate", "complex", "critical"]}},
                          "priority_min": integer("Lowest priority.", 0, 255, 0),
                          "priority_max": integer("Highest priority.", 0, 255, 255),
                          "model": names("Models."), "provider": names("Providers."),
                          "failure": class_set("Failures (each in degrade_on).", ["ok", "cancelled"])}),
                      "answer": choice("What this rule serves.", ["static", "last_good", "pass"]),
                      "output_tokens": integer("Output tokens of this rule's answer.", 0, 1000000),
                      "text": string("This rule's static text.", maxLength=65536)}, required=["answer"])},
    })
    t["degrade"][1]["rules"]["items"]["properties"]["when"]["properties"]["failure"]["minItems"] = 1
    t["router"] = ("Routes each request to a model by class or by priority (policies/router).", {
        "routes": obj("A target per request class.", {
            c: obj("Where " + c + " requests go.", {
                "provider": string("Provider; omitted = the request's own.", minLength=1),
                "model": string("The model to route to.", minLength=1)}, required=["model"])
            for c in ["simple", "moderate", "complex", "critical"]}, minProperties=1),
        "candidates": {"type": "array", "minItems": 1, "maxItems": 16, "description": "Models to pick from by priority.",
                       "items": obj("One candidate.", {
                           "provider": string("Provider; omitted = the request's own.", minLength=1),
                           "model": string("The model.", minLength=1),
                           "usd_per_mtok_out": num("Output price, USD per million tokens.", 0, 1000000, 0),
                           "quality": num("Quality score.", 0, 1, 0.5),
                           "speed": num("Speed score.", 0, 1000000, 1)}, required=["model"])},
        "priority": choice("What candidates are ranked by (candidates only).", ["cost", "speed", "quality", "balanced"],
                           "balanced"),
        "quality_min": obj("Least quality per request class (candidates only).", {
            c: num("Least quality for " + c + " requests.", 0, 1, d)
            for c, d in [("simple", 0), ("moderate", 0.4), ("complex", 0.7), ("critical", 0.9)]}),
        "failure_on": class_set("Failures that count against a target's health.", ["ok", "cancelled"],
                                ["rate_limited", "overloaded", "server_error", "timeout", "connection_error",
                                 "circuit_open"]),
        "health_window": integer("Answers kept per target for its health.", 1, 10000, 50),
        "health_answers_min": integer("Answers before health counts (at most health_window).", 1, 10000, 10),
        "unhealthy_failure_rate": num("Failure rate that makes a target unhealthy.", 0, 1, 0.5),
        "recheck_ms": num("When an unhealthy target is tried again, in ms.", 1, 86400000, 30000),
    }, [], [{"oneOf": [{"required": ["routes"]}, {"required": ["candidates"]}]},
            {"if": {"required": ["routes"]},
             "then": {"not": {"anyOf": [{"required": ["priority"]}, {"required": ["quality_min"]}]}}}])
    t["rate_limiter"] = ("Limits the request and token rate (policies/rate_limiter).", {
        "rpm": num("Requests per minute.", 0.01, 100000000),
        "tpm": num("Tokens per minute.", 1, 1e12),
        "mode": choice("Wait for a slot or reject at once.", ["wait", "reject"], "wait"),
        "wait_ms_max": num("Longest wait, in ms.", 0, 3600000, 10000),
        "queue_max": integer("Calls waiting.", 0, 1000000, 1000),
        "burst_s": num("Seconds of rate that may be spent at once.", 0.001, 60, 1),
        "adaptive": obj("AIMD adaptation of rpm (needs rpm).", {
            "kind": choice("The adaptation.", ["aimd"], "aimd"),
            "decrease_factor": num("Multiplier on a rate-limit answer.", 0.01, 0.99, 0.5),
            "increase_per_s": num("Requests per minute added each second.", 0, 1000000, 60),
            "rpm_min": num("Lowest rate (at most rpm).", 0.01, 100000000, 1),
            "rpm_max": num("Highest rate (at least rpm).", 0.01, 100000000),
            "cooldown_ms": num("Least time between decreases, in ms.", 0, 3600000, 1000)}),
    }, [], [{"anyOf": [{"required": ["rpm"]}, {"required": ["tpm"]}]}])
    t["adaptive_throttle"] = ("Client-side throttling from the accept rate (policies/adaptive_throttle, Google SRE).", {
        "window_s": integer("Window of requests and accepts, in s.", 1, 3600, 120),
        "k": num("The SRE book's K: requests allowed per accept.", 1, 10, 2),
        "reject_on": class_set("Outcome classes that count as refusals.", ["ok"], ["rate_limited", "overloaded"]),
    })
    t["bulkhead"] = ("Limits concurrent calls (policies/bulkhead).", {
        "concurrency_max": integer("Calls at once.", 1, 100000, 10),
        "queue_max": integer("Calls waiting for a slot.", 0, 1000000, 0),
        "queue_wait_ms_max": num("Longest wait for a slot, in ms.", 0, 3600000, 1000),
    })
    t["token_budget"] = ("Caps tokens or spend per period (policies/token_budget).", {
        "period_s": num("The budget's period, in s.", 1, 31622400, 3600),
        "tokens_max": num("Tokens per period.", 1, 1e15),
        "usd_max": num("USD per period.", 0.000001, 1e9),
        "on_exceeded": choice("Reject calls or downgrade them to a cheaper model.", ["reject", "downgrade"], "reject"),
        "downgrade_model": string("The cheaper model (only with downgrade).", minLength=1),
    }, [], [{"anyOf": [{"required": ["tokens_max"]}, {"required": ["usd_max"]}]},
            {"if": {"properties": {"on_exceeded": {"const": "downgrade"}}, "required": ["on_exceeded"]},
             "then": {"required": ["downgrade_model"]}, "else": {"not": {"required": ["downgrade_model"]}}}])
    t["prompt_trim"] = ("Keeps inputs under a token limit (policies/prompt_trim).", {
        "input_tokens_max": integer("Longest input, in tokens.", 1, 2000000),
        "on_exceeded": choice("Trim the oldest messages or reject.", ["trim", "reject"], "trim"),
    }, ["input_tokens_max"])
    t["validate"] = ("Turns bad answers (empty, truncated, not JSON) into failures (policies/validate).", {
        "non_empty": boolean("An empty answer is a failure.", True),
        "not_truncated": boolean("An answer cut by the token limit is a failure.", False),
        "json": {"description": "The answer must be JSON: always, never, or when the request asked for JSON.",
                 "default": False, "oneOf": [{"type": "boolean"}, {"const": "when_asked"}]},
    })
    return t


def policy_definitions():
    defs = {}
    types = policy_types()
    branches = []
    for name, spec in types.items():
        desc, props = spec[0], spec[1]
        required = spec[2] if len(spec) > 2 else []
        extra = spec[3] if len(spec) > 3 else []
        all_props = {"type": {"const": name, "description": desc},
                     "name": string("The policy's name in reports; default: its type.")}
        all_props.update(props)
        d = obj(desc, all_props, required=["type"] + list(required))
        if extra:
            d["allOf"] = extra
        defs["policy_" + name] = d
        branches.append({"if": {"properties": {"type": {"const": name}}, "required": ["type"]},
                         "then": ref("policy_" + name)})
    defs["policy"] = {
        "type": "object",
        "description": "One policy: \"type\" names it, the other keys are its options.",
        "required": ["type"],
        "properties": {"type": choice("The policy type.", list(types)),
                       "name": string("The policy's name in reports; default: its type.")},
        "allOf": branches,
    }
    defs["pipeline"] = obj("A policy configuration: an ordered list of policies, outermost first.", {
        "$schema": string("The schema editors check this file against."),
        "name": string("The configuration's name; default: the file name."),
        "description": string("What this configuration is for."),
        "policies": {"type": "array", "maxItems": 32, "description": "The policies, outermost first.",
                     "items": ref("policy")}}, required=["policies"])
    return defs


# ---- the scenario -----------------------------------------------------------------------------------------------

SUMMARY_METRICS = [
    "requests", "completed", "succeeded", "degraded", "shed", "unfinished", "success_rate", "degraded_rate",
    "error_rate", "latency_mean_ms", "latency_p50_ms", "latency_p90_ms", "latency_p95_ms", "latency_p99_ms",
    "latency_p999_ms", "latency_max_ms", "latency_ok_p50_ms", "latency_ok_p95_ms", "latency_ok_p99_ms",
    "ttft_p50_ms", "ttft_p95_ms", "ttft_p99_ms", "attempts", "attempts_per_request", "retries", "timeouts",
    "breaker_openings", "breaker_rejections", "breaker_open_s", "breakers_open_max", "cost_usd",
    "cost_per_success_usd", "cost_wasted_usd", "cache_hit_rate", "cache_hits", "hedges", "fallbacks",
    "client_rejections", "retry_budget_refusals", "bad_content", "bad_content_rate",
    "upstream_attempts", "upstream_attempts_per_request", "upstream_attempts_request_peak", "upstream_retries",
    "upstream_unattributed", "upstream_cost_usd", "upstream_cost_wasted_usd"]

WINDOW_METRICS = [
    "requests", "completed", "succeeded", "degraded", "shed", "success_rate", "degraded_rate", "error_rate",
    "attempts", "retries", "timeouts", "breaker_openings", "breaker_rejections", "cost_usd", "hedges",
    "fallbacks", "client_rejections"]

INJECTABLE_STATUSES = [400, 401, 403, 404, 408, 409, 413, 422, 429, 500, 502, 503, 504, 529]
ERROR_KINDS = ["overloaded_529", "overloaded_500", "rate_limit_account", "rate_limit_temporary", "insufficient_quota"]


def error_mix(desc):
    return {"type": "object", "description": desc + " HTTP status (or named error kind) -> probability; the "
                                                     "probabilities sum to at most 1.",
            "propertyNames": {"enum": [str(s) for s in INJECTABLE_STATUSES] + ERROR_KINDS},
            "additionalProperties": num("Probability.", 0, 1)}


def scenario_definitions():
    defs = {}
    probability = lambda d: num(d, 0, 1)
    defs["fault"] = obj("A fault window: from at_s for for_s seconds the provider misbehaves.", {
        "name": string("The window's name, unique in the scenario, for assertions during/after it; default "
                       "\"<provider>.faults[<i>]\".", minLength=1, maxLength=64),
        "at_s": num("Start of the window, seconds from the start of the run.", 0, 31536000),
        "for_s": num("Length of the window in seconds (above 0).", None, 31536000, exclusive_lo=0),
        "errors": error_mix("Errors injected in the window."),
        "latency_x": num("Latency multiplier.", 0.001, 1000, 1),
        "ttft_x": num("Time-to-first-token multiplier.", 0.001, 1000, 1),
        "token_x": num("Per-output-token time multiplier.", 0.001, 1000, 1),
        "wire": obj("Faults on the wire of a successful answer (probabilities, sum at most 1).", {
            "malformed": probability("The body or a stream event is not valid JSON."),
            "stream_cut": probability("The stream stops before its end."),
            "error_event": probability("An error event inside a 200 stream.")}),
        "content": obj("Faults in the answer's content (with wire, sum at most 1).", {
            "empty": probability("Empty text."), "truncated": probability("Cut by the token limit."),
            "invalid_json": probability("Text that is not the JSON asked for.")}),
        "outage": choice("The provider is out: refuses connections, hangs, resets, or fails the TLS handshake.",
                         ["refuse", "hang", "reset", "handshake"]),
        "retry_after_s": num("Retry-After hint sent with injected 429, 503 and 529 answers, in s.", 0, 86400),
        "models": {"type": "array", "minItems": 1, "maxItems": 64, "uniqueItems": True,
                   "description": "Only these models (of the provider's) are affected.",
                   "items": {"type": "string", "minLength": 1}},
        "endpoints": {"type": "array", "minItems": 1, "maxItems": 64, "uniqueItems": True,
                      "description": "Only these endpoints are affected.",
                      "items": {"enum": ["chat", "embeddings", "responses", "messages"]}},
        "first_n": integer("Only the window's first N attempts are affected.", 1, 1000000000000),
        "attempts": integer("Only each request's first N attempts are affected.", 1, 100),
    }, required=["at_s", "for_s"], **{"not": {"required": ["first_n", "attempts"]}})
    defs["provider"] = obj("A simulated provider: models and prices, latency, capacity, rate limits, faults.", {
        "api": choice("The wire format and error shapes.", ["openai", "anthropic", "gemini"], "openai"),
        "models": {"type": "object", "minProperties": 1, "description": "Model name -> prices.",
                   "propertyNames": {"minLength": 1},
                   "additionalProperties": obj("A model's prices.", {
                       "usd_per_mtok_in": num("USD per million input tokens.", 0, 100000),
                       "usd_per_mtok_out": num("USD per million output tokens.", 0, 100000),
                       "batch_discount": num("Fraction off both prices for a batched request.", 0, 1, 0)},
                       required=["usd_per_mtok_in", "usd_per_mtok_out"])},
        "latency": obj("How long answers take.", {
            "ttft_ms": distribution("Time to first token, in ms (default lognormal, median 400, sigma 0.5).", 0, 3600000),
            "ms_per_output_token": distribution("Time per output token, in ms (default 8).", 0, 60000)}),
        "error_latency_ms": distribution("How long an error answer takes, in ms (default 30).", 0, 3600000),
        "capacity": obj("Concurrent slots and the queue in front of them.", {
            "slots": integer("Requests served at once.", 1, 1000000, 64),
            "queue": integer("Requests waiting for a slot; beyond it the provider sheds load.", 0, 10000000, 256),
            "slowdown": num("Service time x (1 + slowdown * busy/slots).", 0, 1000, 0)}),
        "network": obj("The round trip between client and provider.", {
            "rtt_ms": distribution("Round trip in ms.", 0, 60000)}, required=["rtt_ms"]),
        "rate_limits": obj("Server-side rate limits.", {
            "rpm": num("Requests per minute.", 1, 1e9), "tpm": num("Tokens per minute.", 1, 1e12)}),
        "errors": error_mix("Baseline errors outside fault windows."),
        "faults": {"type": "array", "description": "Fault windows, in time order.", "items": ref("fault")},
    }, required=["models"])
    classes = ["simple", "moderate", "complex", "critical"]
    defs["workload"] = obj("The arrivals (open loop) or users (closed loop) and the request mix.", {
        "arrivals": obj("Open-loop arrivals.", {
            "process": choice("Arrival process.", ["poisson", "constant", "recorded"], "poisson"),
            "rate_per_s": num("A constant rate, requests per second.", 0, 1e7),
            "profile": {"type": "array", "minItems": 1, "maxItems": 10000,
                        "description": "Rate points {at_s, rate_per_s}, in increasing time order.",
                        "items": obj("One rate point.", {"at_s": num("Time, s.", 0, 1e7),
                                                         "rate_per_s": num("Rate from then on.", 0, 1e7)},
                                     required=["at_s", "rate_per_s"])},
            "shape": choice("Between profile points: steps or linear ramps.", ["step", "ramp"], "step"),
            "times_s": {"type": "array", "minItems": 1, "maxItems": 10000000,
                        "description": "A recorded process's send times, in s, non-decreasing.",
                        "items": num("A send time.", 0, 1e7)}},
            # A "recorded" process lists its times; the others take a rate or a profile, not both.
            **{"if": {"properties": {"process": {"const": "recorded"}}, "required": ["process"]},
               "then": {"required": ["times_s"], "not": {"anyOf": [{"required": ["rate_per_s"]},
                                                                   {"required": ["profile"]}]}},
               "else": {"oneOf": [{"required": ["rate_per_s"]}, {"required": ["profile"]}],
                        "not": {"required": ["times_s"]}}}),
        "users": obj("Closed-loop users.", {
            "count": integer("Number of users.", 1, 1000000),
            "think_ms": distribution("Think time between a user's requests, in ms (default 1000).", 0, 3.6e6)},
            required=["count"]),
        "bursts": {"type": "array", "maxItems": 1000, "description": "Extra requests on top of the arrivals.",
                   "items": obj("One burst.", {"at_s": num("When, s.", 0, 1e7),
                                               "requests": integer("Requests in the burst.", 1, 10000000),
                                               "over_s": num("Spread over this long, s (0 = at once).", 0, 1e5, 0)},
                                required=["at_s", "requests"])},
        "provider": string("The provider requests go to; needed when there are several."),
        "model": string("The model of every request; default: the provider's first."),
        "models": {"type": "object", "minProperties": 1, "description": "Model name -> weight (above 0).",
                   "additionalProperties": {"type": "number", "exclusiveMinimum": 0}},
        "input_tokens": distribution("Input tokens per request (default 500).", 0, 2e6),
        "output_tokens": distribution("Output tokens per request (default 200).", 0, 2e6),
        "cache_keys": obj("Requests carry cache keys drawn from a Zipf law.", {
            "count": integer("Distinct keys.", 1, 1000000), "zipf_s": num("Zipf exponent.", 0, 10, 1)}),
        "deadline_ms": num("Each request's deadline, in ms.", 1, 8.64e7),
        "in_flight_max": integer("The load generator's own limit; arrivals beyond it are shed.", 1, 1000000, 10000),
        "classes": obj("Request class weights.", {c: num("Weight of " + c + " requests.", 0, 1e9) for c in classes}),
    }, **{"oneOf": [{"required": ["arrivals"]}, {"required": ["users"]}],
          # "model": "" is as good as absent to the parser.
          "not": {"required": ["model", "models"], "properties": {"model": {"minLength": 1}}}})
    env = {"type": "object", "maxProperties": 256, "description": "Environment variables.",
           "propertyNames": {"pattern": "^[A-Za-z_][A-Za-z0-9_]*$", "maxLength": 256},
           "additionalProperties": {"type": "string", "maxLength": 65536}}
    argv = {"type": "array", "minItems": 1, "maxItems": 256,
            "description": "The program and its arguments (no shell), e.g. [\"node\", \"server.mjs\"].",
            "items": {"type": "string", "maxLength": 65536}}
    defs["service"] = obj("A system under test: squall starts or reaches it and serves its upstream calls.", {
        "command": argv, "base_url": string("A service already running, e.g. \"http://127.0.0.1:8080\"."),
        "cwd": string("The service's folder, relative to the scenario."), "env": env,
        "ready": obj("How squall knows the service is ready: exactly one of http or output.", {
            "http": string("A path squall GETs until it answers 2xx.", pattern="^/"),
            "output": string("Text the service prints when ready.")},
            **{"oneOf": [{"required": ["http"]}, {"required": ["output"]}]}),
        "ready_timeout_ms": num("Time allowed to become ready, in ms.", 1, 600000, 30000),
        "stop": obj("How the service is stopped.", {
            "signal": choice("The signal.", ["SIGTERM", "SIGINT", "SIGHUP", "SIGQUIT", "SIGUSR1", "SIGUSR2"], "SIGTERM"),
            "grace_ms": num("Wait before SIGKILL, in ms.", 0, 600000, 5000)}),
        "providers_port": integer("First port of the fake providers (0 = any free).", 0, 65471, 0),
        "connections_max": integer("squall's connections to the service.", 1, 10000, 256),
        "request": obj("The request squall sends the service for each user request.", {
            "method": choice("HTTP method.", ["POST", "GET", "PUT", "PATCH", "DELETE"], "POST"),
            "path": string("Path starting with '/', placeholders allowed.", "/", pattern="^/[^ \r\n]*$"),
            "headers": {"type": "object", "maxProperties": 64, "description": "Headers.",
                        "propertyNames": {"pattern": "^[A-Za-z0-9_-]+$", "maxLength": 256},
                        "additionalProperties": {"type": "string", "maxLength": 65536}},
            "body": {"type": ["object", "array"], "description": "JSON body with ${...} placeholders."},
            "timeout_ms": num("Time allowed per user request, in ms.", 1, 3600000, 60000)}),
        "success": obj("What counts as a successful answer.", {
            "statuses": {"type": "array", "minItems": 1, "maxItems": 64, "description": "Successful statuses.",
                         "items": {"type": "integer", "minimum": 100, "maximum": 599}},
            "json_path": string("A JSON path that must be present in the answer, e.g. \"$.answer\".")}),
        "configurations": {"type": "object", "minProperties": 1, "maxProperties": 16,
                           "description": "Versions of the service to compare: name -> {command, env}.",
                           "additionalProperties": obj("One version.", {"command": argv, "env": env})},
    }, required=["request"], **{"oneOf": [{"required": ["command"]}, {"required": ["base_url"]}]})
    defs["configuration"] = {
        "description": "A policy file path (relative to the scenario), an inline policy configuration, or "
                       "{\"policy\", \"fleet\", \"reference\"}.",
        "anyOf": [
            string("A policy file path, relative to the scenario."),
            ref("pipeline"),
            obj("A configuration with a fleet or a reference mark.", {
                "policy": {"description": "A policy file path or an inline policy configuration.",
                           "anyOf": [{"type": "string"}, ref("pipeline")]},
                "fleet": obj("Run the same policies as a fleet of instances.", {
                    "instances": integer("Instances.", 1, 1000, 1),
                    "spread": choice("How requests are spread over instances.", ["round_robin", "random", "sticky"],
                                     "round_robin")}),
                "reference": string("Why this configuration is kept as a reference (never shown as the answer).",
                                    minLength=1, maxLength=200)}, required=["policy"])]}
    bounds = {}
    for m in SUMMARY_METRICS:
        bounds[m + "_min"] = num("Fails the run when " + m + " is below this.")
        bounds[m + "_max"] = num("Fails the run when " + m + " is above this.")
    bounds["recovery_s_max"] = num("Fails the run when the slowest recovery after a fault window (s) is above this.")
    window_bounds = {}
    for m in WINDOW_METRICS:
        window_bounds[m + "_min"] = num("Fails the run when " + m + " in the window is below this.")
        window_bounds[m + "_max"] = num("Fails the run when " + m + " in the window is above this.")
    defs["window_assertions"] = obj("Bounds on what happened in a fault window (counts and rates).", window_bounds)
    after_bounds = dict(window_bounds)
    after_bounds["recovery_s_max"] = num("Fails the run when the recovery after this window (s) is above this.")
    defs["after_assertions"] = obj("Bounds on what happened after a fault window, until the next one or the end.",
                                   after_bounds)
    bounds["during"] = {"type": "object", "minProperties": 1,
                        "description": "Fault window name -> bounds on what happened during that window.",
                        "additionalProperties": ref("window_assertions")}
    bounds["after"] = {"type": "object", "minProperties": 1,
                       "description": "Fault window name -> bounds on what happened after that window.",
                       "additionalProperties": ref("after_assertions")}
    defs["assertions"] = obj("Bounds on summary metrics: \"<metric>_min\" or \"<metric>_max\"; \"during\" and "
                             "\"after\" a named fault window.", bounds)
    return defs


def scenario_schema():
    defs = scenario_definitions()
    defs.update(policy_definitions())
    return {
        "$schema": DRAFT,
        "title": "squall scenario",
        "description": "A squall scenario: providers with faults, a workload, policy configurations, assertions.",
        "type": "object",
        "additionalProperties": False,
        "required": ["duration_s", "providers", "workload"],
        "oneOf": [{"required": ["policies"]}, {"required": ["service"]}],
        "properties": {
            "$schema": string("The schema editors check this file against."),
            "name": string("The scenario's name; default: the file name."),
            "description": string("What the scenario shows."),
            "seed": integer("The default root seed (--seed overrides it).", 0, 18446744073709551615),
            "duration_s": num("Seconds of arrivals.", 0.001, 2592000),
            "drain_s": num("Then in-flight requests get at most this long to finish, s.", 0, 86400, 60),
            "interval_s": num("Time-series resolution, s; default: chosen from the duration.", 0.01, 86400),
            "providers": {"type": "object", "minProperties": 1, "maxProperties": 64,
                          "description": "Provider name -> provider model.", "additionalProperties": ref("provider")},
            "workload": ref("workload"),
            "policies": {"type": "object", "minProperties": 1, "maxProperties": 16,
                         "description": "Configuration name -> policy file, inline policies or {\"policy\", ...}.",
                         "additionalProperties": ref("configuration")},
            "service": ref("service"),
            "assert": {"type": "object", "description": "Configuration name -> bounds on its summary metrics.",
                       "additionalProperties": ref("assertions")},
            "recovery": obj("When a configuration counts as recovered after a fault window.", {
                "tolerance_pp": num("Recovered when the success rate is at most this many points below the calm "
                                    "baseline.", 0, 100, 2),
                "hold_intervals": integer("... for this many intervals in a row.", 1, 1000, 3)}),
        },
        "definitions": defs,
    }


def policy_schema():
    defs = policy_definitions()
    top = {"$schema": DRAFT, "title": "squall policy configuration"}
    top.update(defs["pipeline"])
    top["definitions"] = defs
    return top


def render(schema):
    return json.dumps(schema, indent=2, ensure_ascii=False) + "\n"


def main():
    here = pathlib.Path(__file__).resolve().parent
    outputs = {here / "scenario.schema.json": render(scenario_schema()),
               here / "policy.schema.json": render(policy_schema())}
    if "--check" in sys.argv:
        stale = [p.name for p, text in outputs.items() if not p.exists() or p.read_text() != text]
        if stale:
            print("out of date (run docs/schema/make_schema.py): " + ", ".join(stale))
            return 1
        return 0
    for path, text in outputs.items():
        path.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
