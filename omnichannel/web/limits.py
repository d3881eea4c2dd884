"""Rate limits for the public side: per client and overall token buckets, answered with 429 + Retry-After.

A client is its IP address; ``X-Forwarded-For`` is believed only when the connection comes from a
configured proxy (``http.trusted_proxies``), and then the right-most address that is not itself a
trusted proxy is the client (RFC 7239 §5.2: earlier entries are whatever the client wrote).
Groups: ``intake`` (filing a complaint), ``status`` (citizen status lookups), ``login`` (failed
officer sign-ins; a client that used up its budget gets 429 before its token is even checked).
Buckets live in this process: with ``http.workers`` each worker keeps its own.
"""

from __future__ import annotations

import ipaddress
import logging
import math
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from aiohttp import web

if TYPE_CHECKING:  # pragma: no cover
    from omnichannel.config import HttpConfig, RateLimit

log = logging.getLogger(__name__)
MAX_CLIENTS = 100_000  # buckets kept per group; full ones are dropped first when there are more


@dataclass(slots=True)
class _Bucket:
    tokens: float
    at: float


class TokenBucket:
    """``rate`` tokens a second up to ``burst``."""

    def __init__(self, rate: float, burst: float) -> None:
        self.rate, self.burst = rate, max(1.0, burst)
        self._buckets: dict[str, _Bucket] = {}

    def _refill(self, key: str, now: float) -> _Bucket:
        bucket = self._buckets.get(key)
        if bucket is None:
            if len(self._buckets) >= MAX_CLIENTS:
                self._prune(now)
            bucket = self._buckets[key] = _Bucket(self.burst, now)
        else:
            bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.at) * self.rate)
            bucket.at = now
        return bucket

    def _prune(self, now: float) -> None:
        full = [k for k, b in self._buckets.items() if b.tokens + (now - b.at) * self.rate >= self.burst]
        for k in full or list(self._buckets)[: len(self._buckets) // 2]:
            del self._buckets[k]

    def wait(self, key: str, now: float) -> float:
        """Seconds until ``key`` has a token (0: it has one now); takes nothing."""
        bucket = self._refill(key, now)
        return 0.0 if bucket.tokens >= 1 else (1 - bucket.tokens) / self.rate

    def take(self, key: str, now: float) -> None:
        """Use one token of ``key`` (may go below zero: a client that keeps trying waits longer)."""
        self._refill(key, now).tokens -= 1


class _Group:
    def __init__(self, limit: RateLimit) -> None:
        self.client = TokenBucket(limit.per_client / 60.0, limit.per_client_burst)
        self.overall = TokenBucket(limit.overall, limit.overall_burst)


class RateLimiter:
    """The daemon's rate limits (``http.rate_limits``) and how it tells clients apart."""

    def __init__(self, http: HttpConfig, clock: Any = time.monotonic) -> None:
        self.enabled = http.rate_limits.enabled
        self.clock = clock
        self.proxies = [ipaddress.ip_network(p, strict=False) for p in http.trusted_proxies]
        self.groups = {name: _Group(getattr(http.rate_limits, name)) for name in ("intake", "status", "login")}
        self._warned: dict[tuple[str, str], float] = {}

    def _trusted(self, address: str) -> bool:
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in net for net in self.proxies)

    def client(self, request: web.Request) -> str:
        """The client's address: the peer, or from ``X-Forwarded-For`` when the peer is a trusted proxy."""
        peer = request.remote or "unknown"
        if not self.proxies or not self._trusted(peer):
            return peer
        hops = [h.strip() for h in ",".join(request.headers.getall("X-Forwarded-For", [])).split(",") if h.strip()]
        for hop in reversed(hops):
            if not self._trusted(hop):
                try:
                    return str(ipaddress.ip_address(hop))
                except ValueError:
                    return peer  # a garbled header from a trusted proxy: the proxy is what we know
        return peer

    def _wait(self, group: str, client: str) -> float:
        g, now = self.groups[group], self.clock()
        return max(g.client.wait(client, now), g.overall.wait("*", now))

    def _refuse(self, group: str, client: str, wait: float) -> web.Response:
        seconds = max(1, math.ceil(wait))
        now = self.clock()
        if now - self._warned.get((group, client), -math.inf) > 60:  # one line a minute per client
            self._warned[(group, client)] = now
            if len(self._warned) > MAX_CLIENTS:
                self._warned.clear()
            log.warning("rate limit %s: client %s refused for %ds", group, client, seconds)
        return web.json_response({"error": "too many requests; try again later", "retry_after": seconds},
                                 status=429, headers={"Retry-After": str(seconds)})

    def check(self, group: str, request: web.Request) -> web.Response | None:
        """Take one request of ``group`` for this client: None when allowed, else the 429 answer."""
        if not self.enabled:
            return None
        client = self.client(request)
        wait = self._wait(group, client)
        if wait > 0:
            return self._refuse(group, client, wait)
        g, now = self.groups[group], self.clock()
        g.client.take(client, now)
        g.overall.take("*", now)
        return None

    def blocked(self, group: str, request: web.Request) -> web.Response | None:
        """The 429 answer when this client has used up ``group`` (nothing taken), else None."""
        if not self.enabled:
            return None
        client = self.client(request)
        wait = self._wait(group, client)
        return self._refuse(group, client, wait) if wait > 0 else None

    def charge(self, group: str, request: web.Request) -> None:
        """Count one (failed) attempt of ``group`` against this client."""
        if self.enabled:
            g, now = self.groups[group], self.clock()
            g.client.take(self.client(request), now)
            g.overall.take("*", now)


RATE_LIMITER = web.AppKey("rate_limiter", RateLimiter)


def limiter(request: web.Request) -> RateLimiter | None:
    """The app's rate limiter, if it has one."""
    return request.app.get(RATE_LIMITER) if request.app is not None else None
