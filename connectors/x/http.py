"""HTTP plumbing of the X connector: the host-rewriting session tweepy uses, per-endpoint rate limits, errors.

tweepy 4.17 hard-codes ``https://api.twitter.com`` in ``AsyncBaseClient.request``; the only seam is
``client.session``, which tweepy uses for every call and never closes (see LIBNOTES §2). We give it
one long-lived session with a timeout that sends those URLs to the configured base URL instead.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Mapping
from typing import Any

import aiohttp
import tweepy
import yarl

from omnichannel.errors import AuthError, ConfigError, OmnichannelError, RetryableError

REAL_HOST = "https://api.twitter.com"
_SECRET_IN_LOG = re.compile(r"(Authorization'?:\s*'?)(Bearer|OAuth)\s[^'\n]*")


class _RedactTweepyHeaders(logging.Filter):
    """tweepy logs request headers (the bearer token, OAuth signatures) at DEBUG; keep secrets out of logs."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if "Authorization" in message:
            record.msg, record.args = _SECRET_IN_LOG.sub(r"\1\2 [redacted]", message), None
        return True


_tweepy_log = logging.getLogger("tweepy.asynchronous.client")
if not any(isinstance(f, _RedactTweepyHeaders) for f in _tweepy_log.filters):
    _tweepy_log.addFilter(_RedactTweepyHeaders())


class RedirectingSession:
    """The aiohttp session handed to tweepy: rewrites ``https://api.twitter.com`` to ``base_url``."""

    def __init__(self, base_url: str, timeout: float) -> None:
        self.base_url = base_url.rstrip("/")
        self._session = aiohttp.ClientSession(
            timeout=aiohttp.ClientTimeout(total=timeout, connect=min(10.0, timeout)))

    def request(self, method: str, url: Any, **kwargs: Any) -> Any:
        """What tweepy calls (``async with session.request(...)``)."""
        text = str(url)
        if self.base_url != REAL_HOST and text.startswith(REAL_HOST):
            # encoded=True: with OAuth 1.0a tweepy has already percent-encoded the signed query
            url = yarl.URL(self.base_url + text[len(REAL_HOST):], encoded=True)
        return self._session.request(method, url, **kwargs)

    @property
    def closed(self) -> bool:
        """True once closed."""
        return self._session.closed

    async def close(self) -> None:
        """Close the underlying session."""
        await self._session.close()


class EndpointLimits:
    """When each API endpoint may be called again: 429s and exhausted windows block only their endpoint.

    A 429 with ``x-rate-limit-reset`` waits until that epoch; a 429 without it (and 5xx or network
    failures) backs off exponentially per endpoint: ``initial * 2**(n-1)`` capped at ``maximum``.
    """

    def __init__(self, initial: float, maximum: float, clock: Callable[[], float]) -> None:
        self.initial, self.maximum, self.clock = initial, maximum, clock
        self._until: dict[str, float] = {}
        self._failures: dict[str, int] = {}

    def wait(self, endpoint: str) -> float:
        """Seconds until ``endpoint`` may be called (0 when it may be called now)."""
        return max(0.0, self._until.get(endpoint, 0.0) - self.clock())

    def blocked(self) -> dict[str, float]:
        """Endpoints blocked right now → seconds left."""
        return {e: w for e in self._until if (w := self.wait(e)) > 0}

    def observe(self, endpoint: str, headers: Mapping[str, str]) -> None:
        """After a success: an exhausted window (remaining 0) blocks until its reset."""
        self._failures.pop(endpoint, None)
        reset = _int(headers.get("x-rate-limit-reset"))
        if _int(headers.get("x-rate-limit-remaining")) == 0 and reset is not None:
            self._until[endpoint] = max(self.clock(), float(reset)) + 1

    def rate_limited(self, endpoint: str, headers: Mapping[str, str]) -> float:
        """After a 429: block until the reset, or back off when the answer had no reset; returns the wait."""
        reset = _int(headers.get("x-rate-limit-reset"))
        now = self.clock()
        if reset is not None and reset + 1 > now:
            self._until[endpoint] = reset + 1.0
            return self._until[endpoint] - now
        return self.failed(endpoint)

    def failed(self, endpoint: str) -> float:
        """After a failure without a reset time: exponential backoff; returns the wait."""
        count = self._failures.get(endpoint, 0) + 1
        self._failures[endpoint] = count
        delay = min(self.maximum, self.initial * 2 ** (count - 1))
        self._until[endpoint] = self.clock() + delay
        return delay


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def api_detail(exc: tweepy.HTTPException) -> str:
    """The problem text X gave (``detail``/``errors[].message``), for logs and error messages."""
    parts = list(exc.api_messages) or [str(exc)]
    return "; ".join(dict.fromkeys(p.strip() for p in parts if p))[:500]


def translate(exc: Exception, what: str, config_path: str = "") -> OmnichannelError:
    """Map a tweepy/aiohttp failure of ``what`` onto the daemon's error tree."""
    if isinstance(exc, OmnichannelError):
        return exc
    if isinstance(exc, tweepy.Unauthorized):
        return AuthError(f"{what}: X refused the credentials (401: {api_detail(exc)})")
    if isinstance(exc, tweepy.Forbidden):
        return AuthError(f"{what}: the credentials lack access (403: {api_detail(exc)})")
    if isinstance(exc, tweepy.TooManyRequests):
        wait = None if exc.reset_time is None else max(1.0, exc.reset_time + 1 - time.time())
        return RetryableError(f"{what}: rate limited (429)", retry_after=wait)
    if isinstance(exc, (tweepy.BadRequest, tweepy.NotFound)):
        return ConfigError(config_path, f"{what}: X rejected the request ({exc.response.status}: {api_detail(exc)})")
    if isinstance(exc, tweepy.HTTPException):
        return RetryableError(f"{what}: X answered {exc.response.status}: {api_detail(exc)}")
    if isinstance(exc, (aiohttp.ClientError, TimeoutError)):
        return RetryableError(f"{what}: {type(exc).__name__}: {exc}")
    return RetryableError(f"{what}: {type(exc).__name__}: {exc}")
