#!/usr/bin/python3
"""A question-answering service with the resilience patterns production guides teach for AI calls: a
circuit breaker per model, exponential backoff with jitter that honours Retry-After, and a fallback to a
cheaper model. aiohttp serves HTTP and calls the OpenAI-style provider.

squall runs it as a system under test. It forwards the incoming x-squall-request-id header to the provider,
so squall attributes upstream attempts by that header; it logs every attempt, breaker transition and answer
as JSON lines on stdout, so squall's counts can be checked against the service's own.

This file is the real-time adapter: the only place that reads the clock, sleeps, draws random numbers and
does I/O. The patterns (breaker.py, backoff.py, resilience.py) get those injected.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import re
import signal
import socket
import sys
import time
from dataclasses import dataclass

import aiohttp
from aiohttp import web

from backoff import Backoff, BackoffOptions, retry_after_s
from breaker import BreakerOptions
from resilience import Attempt, Breakers, FallbackAnswerer

MARKER = re.compile(r"\[squall:(\d+)\]")
REQUEST_ID_HEADER = "x-squall-request-id"
# Connections to the provider at once; requests beyond it wait for one (their timeout runs meanwhile).
UPSTREAM_CONNECTIONS_MAX = 256
# Requests in flight are given this long to finish after SIGTERM.
SHUTDOWN_S = 30.0


def log(event: dict) -> None:
    print(json.dumps(event, separators=(",", ":")), flush=True)


def now_ms() -> int:
    return int(time.time() * 1000)


@dataclass(frozen=True)
class Config:
    host: str
    port: int
    base_url: str
    fallback_base_url: str  # where the fallback model is asked: FALLBACK_BASE_URL, else base_url
    api_key: str
    model: str
    fallback_model: str
    request_timeout_s: float
    breaker: BreakerOptions | None  # None: BREAKER=off
    backoff: BackoffOptions


class ConfigError(Exception):
    pass


# The environment variable behind each option, so a validation error names what the user set.
ENV_OF_OPTION = {"failures_max": "BREAKER_FAILURES", "recovery_s": "BREAKER_RECOVERY_S",
                 "half_open_successes": "BREAKER_HALF_OPEN_SUCCESSES", "attempts_max": "RETRY_ATTEMPTS",
                 "base_s": "RETRY_BASE_S", "max_s": "RETRY_MAX_S", "jitter": "RETRY_JITTER"}


def _option_error(error: str) -> ConfigError:
    option, _, rest = error.partition(" ")
    return ConfigError(f"{ENV_OF_OPTION.get(option, option)}={rest}")


def _env_number(name: str, default: float | None, kind=float):
    text = os.environ.get(name, "")
    if text == "":
        if default is None:
            raise ConfigError(f"{name} is required")
        return default
    try:
        return kind(text)
    except ValueError:
        raise ConfigError(f"{name}={text!r}: expected {'a whole number' if kind is int else 'a number'}")


def config_from_env() -> Config:
    port = _env_number("PORT", None, int)
    if not 0 <= port <= 65535:
        raise ConfigError(f"PORT={port}: expected 0 to 65535 (0 picks a free port)")
    breaker_switch = os.environ.get("BREAKER", "on") or "on"
    if breaker_switch not in ("on", "off"):
        raise ConfigError(f"BREAKER={breaker_switch!r}: expected on or off")
    breaker = None
    if breaker_switch == "on":
        breaker = BreakerOptions(failures_max=_env_number("BREAKER_FAILURES", 5, int),
                                 recovery_s=_env_number("BREAKER_RECOVERY_S", 10.0),
                                 half_open_successes=_env_number("BREAKER_HALF_OPEN_SUCCESSES", 2, int))
        if (error := breaker.validate()) is not None:
            raise _option_error(error)
    backoff = BackoffOptions(attempts_max=_env_number("RETRY_ATTEMPTS", 3, int),
                             base_s=_env_number("RETRY_BASE_S", 0.5),
                             max_s=_env_number("RETRY_MAX_S", 8.0),
                             jitter=os.environ.get("RETRY_JITTER", "") or "full")
    if (error := backoff.validate()) is not None:
        raise _option_error(error)
    timeout_s = _env_number("REQUEST_TIMEOUT_S", 30.0)
    if not 0 < timeout_s <= 3600:
        raise ConfigError(f"REQUEST_TIMEOUT_S={timeout_s}: expected more than 0 and at most 3600")
    base_url = (os.environ.get("OPENAI_BASE_URL", "") or "https://api.openai.com/v1").rstrip("/")
    return Config(host=os.environ.get("HOST", "") or "127.0.0.1",
                  port=port,
                  base_url=base_url,
                  fallback_base_url=(os.environ.get("FALLBACK_BASE_URL", "") or base_url).rstrip("/"),
                  api_key=os.environ.get("OPENAI_API_KEY", "") or "squall-test",
                  model=os.environ.get("MODEL", "") or "gpt-4o",
                  fallback_model=os.environ.get("FALLBACK_MODEL", "") or "gpt-4o-mini",
                  request_timeout_s=timeout_s, breaker=breaker, backoff=backoff)


class Provider:
    """One chat completion attempt against the OpenAI-style API, its outcome returned as a value."""

    def __init__(self, session: aiohttp.ClientSession, config: Config):
        self._session = session
        self._url = config.base_url + "/chat/completions"
        self._fallback_url = config.fallback_base_url + "/chat/completions"
        self._fallback_model = config.fallback_model
        self._api_key = config.api_key
        self._timeout = aiohttp.ClientTimeout(total=config.request_timeout_s)

    async def complete(self, model: str, prompt: str, max_tokens: int | None,
                       request_id: str | None) -> Attempt:
        body = {"model": model, "messages": [{"role": "user", "content": prompt}]}
        if max_tokens is not None:
            body["max_tokens"] = max_tokens
        headers = {"authorization": f"Bearer {self._api_key}"}
        if request_id is not None:
            headers[REQUEST_ID_HEADER] = request_id
        try:
            url = self._fallback_url if model == self._fallback_model else self._url
            async with self._session.post(url, json=body, headers=headers,
                                          timeout=self._timeout) as response:
                text = await response.text()
                if response.status != 200:
                    return Attempt(status=response.status, error=_error_message(text, response.status),
                                   retry_after_s=retry_after_s(response.headers, time.time()))
                try:
                    answer = json.loads(text)
                    return Attempt(status=200, answer=answer["choices"][0]["message"]["content"],
                                   model=answer.get("model"))
                except (ValueError, KeyError, IndexError, TypeError) as error:
                    return Attempt(status=200, error=f"unreadable answer: {error!r}")
        except asyncio.TimeoutError:
            return Attempt(status=None, error=f"timed out after {self._timeout.total} s")
        except aiohttp.ClientError as error:
            return Attempt(status=None, error=f"{type(error).__name__}: {error}")


def _error_message(text: str, status: int) -> str:
    try:
        return str(json.loads(text)["error"]["message"])
    except (ValueError, KeyError, TypeError):
        return f"status {status}"


class AskHandler:
    def __init__(self, config: Config, provider: Provider, answerer: FallbackAnswerer):
        self._config = config
        self._provider = provider
        self._answerer = answerer

    async def health(self, request: web.Request) -> web.Response:
        return web.json_response({"ok": True})

    async def ask(self, request: web.Request) -> web.Response:
        started_s = time.monotonic()
        request_id = request.headers.get(REQUEST_ID_HEADER)
        done = {"event": "request_done", "marker": None, "request_id": request_id, "attempts": 0}
        try:
            question = _parse_question(await request.read())
        except web.HTTPRequestEntityTooLarge:
            log({**done, "status": 413, "model": None, "fallback": False})
            raise
        if isinstance(question, str):
            log({**done, "status": 400, "model": None, "fallback": False})
            return web.json_response({"error": question}, status=400)
        prompt, model, max_tokens = question
        marker_match = MARKER.search(prompt)
        marker = marker_match.group(1) if marker_match else None
        attempts = 0

        async def send(attempt_model: str) -> Attempt:
            nonlocal attempts
            attempts += 1
            t_ms = now_ms()
            sent_s = time.monotonic()
            outcome = await self._provider.complete(attempt_model, prompt, max_tokens, request_id)
            entry = {"event": "upstream_attempt", "marker": marker, "request_id": request_id,
                     "attempt": attempts, "model": attempt_model, "t_ms": t_ms, "status": outcome.status,
                     "duration_ms": round((time.monotonic() - sent_s) * 1000)}
            if outcome.error is not None:
                entry["error"] = outcome.error
            if outcome.retry_after_s is not None:
                entry["retry_after_s"] = outcome.retry_after_s
            log(entry)
            return outcome

        reply = await self._answerer.ask(model or self._config.model, send)
        log({**done, "marker": marker, "attempts": attempts, "status": reply.http_status,
             "model": reply.body.get("model"), "fallback": reply.body.get("fallback", False),
             "duration_ms": round((time.monotonic() - started_s) * 1000)})
        return web.json_response(reply.body, status=reply.http_status)


def _parse_question(raw: bytes):
    """(prompt, model or None, max_tokens or None), or a string saying what is wrong with the body."""
    try:
        body = json.loads(raw)
    except ValueError:
        return "the body is not JSON"
    if not isinstance(body, dict):
        return "the body must be a JSON object"
    prompt, model, max_tokens = body.get("prompt"), body.get("model"), body.get("max_tokens")
    if not isinstance(prompt, str):
        return '"prompt" must be a string'
    if model is not None and not isinstance(model, str):
        return '"model" must be a string'
    if max_tokens is not None and (isinstance(max_tokens, bool) or not isinstance(max_tokens, int)
                                   or max_tokens <= 0):
        return '"max_tokens" must be a positive whole number'
    return prompt, model or None, max_tokens


async def serve(config: Config) -> None:
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, lambda signum=signum: (
            log({"event": "stopping", "signal": signal.Signals(signum).name}), stop.set()))

    breakers = Breakers(config.breaker, time.monotonic, lambda model, state: log(
        {"event": "breaker", "model": model, "state": state, "t_ms": now_ms()}))
    backoff = Backoff(config.backoff, random.Random().random)
    answerer = FallbackAnswerer(config.fallback_model, breakers, backoff, asyncio.sleep)

    async with aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=UPSTREAM_CONNECTIONS_MAX)) as session:
        handler = AskHandler(config, Provider(session, config), answerer)
        app = web.Application()
        app.router.add_get("/health", handler.health)
        app.router.add_post("/ask", handler.ask)
        runner = web.AppRunner(app, handle_signals=False, access_log=None)
        await runner.setup()
        sock = socket.create_server((config.host, config.port))
        site = web.SockSite(runner, sock, shutdown_timeout=SHUTDOWN_S)
        await site.start()
        log({"event": "listening", "host": config.host, "port": sock.getsockname()[1],
             "model": config.model, "fallback_model": config.fallback_model,
             "breaker": "on" if config.breaker else "off",
             "breaker_failures": config.breaker.failures_max if config.breaker else None,
             "breaker_recovery_s": config.breaker.recovery_s if config.breaker else None,
             "breaker_half_open_successes": config.breaker.half_open_successes if config.breaker else None,
             "retry_attempts": config.backoff.attempts_max, "retry_base_s": config.backoff.base_s,
             "retry_max_s": config.backoff.max_s, "retry_jitter": config.backoff.jitter,
             "request_timeout_s": config.request_timeout_s, "base_url": config.base_url, "fallback_base_url": config.fallback_base_url})
        await stop.wait()
        # Stops listening, lets the requests in flight finish (up to SHUTDOWN_S), then closes.
        await runner.cleanup()
    log({"event": "stopped", "t_ms": now_ms()})


def main() -> int:
    try:
        config = config_from_env()
    except ConfigError as error:
        print(f"python_service: {error}", file=sys.stderr)
        return 2
    asyncio.run(serve(config))
    return 0


if __name__ == "__main__":
    sys.exit(main())
