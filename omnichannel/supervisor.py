"""One loop per pull connector: schedule, timeout, backoff with jitter, parking, health, lease.

Logs on transitions only: "failing" once when a connector starts failing, "recovered" once when
it works again; repeated failures in between are DEBUG.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import or_, update

from omnichannel.errors import AuthError, ConfigError, RetryableError
from omnichannel.logs import log_context
from omnichannel.models import ConnectorState
from omnichannel.types import Batch, IngestResult, utcnow

if TYPE_CHECKING:  # pragma: no cover
    from collections.abc import Awaitable, Callable

    from omnichannel.metrics import Metrics
    from omnichannel.protocols import PluginContext, PullConnector
    from omnichannel.store import Store

log = logging.getLogger(__name__)


def backoff_delay(failures: int, initial: float, maximum: float, rng: random.Random | None = None) -> float:
    """Exponential backoff with full jitter: uniform in [initial/2, min(max, initial * 2**(failures-1))]."""
    rng = rng or random
    cap = min(maximum, initial * (2 ** max(0, failures - 1)))
    return rng.uniform(min(initial / 2, cap), cap)


@dataclass
class Health:
    """What ``/readyz`` shows of one connector."""

    state: str = "starting"  # starting, running, failing, parked, standby, stopped
    last_success: float | None = None
    last_error: str | None = None
    failures: int = 0
    retry_at: float | None = None
    envelopes: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """JSON-friendly view."""
        return {"state": self.state, "failures": self.failures, "last_error": self.last_error,
                "last_success_age": None if self.last_success is None else round(time.time() - self.last_success, 1),
                "retry_in": None if self.retry_at is None else max(0.0, round(self.retry_at - time.monotonic(), 1)),
                "envelopes": self.envelopes}


async def ensure_state_row(store: Store, session: Any, key: str, now: Any) -> None:
    """Make sure the ``connector_state`` row that holds ``key``'s checkpoint and lease exists."""
    await session.exec(store.insert(ConnectorState).values(connector=key, checkpoint=None, updated_at=now)
                       .on_conflict_do_nothing(index_elements=["connector"]))


async def acquire_lease(store: Store, connector: str, owner: str, ttl: float) -> bool:
    """Take or renew ``connector``'s lease for ``owner``; False when another live replica holds it."""
    now = utcnow()
    async with store.session() as session:
        await ensure_state_row(store, session, connector, now)
        stmt = (update(ConnectorState)
                .where(ConnectorState.connector == connector,
                       or_(ConnectorState.lease_owner.is_(None), ConnectorState.lease_owner == owner,
                           ConnectorState.lease_until < now))
                .values(lease_owner=owner, lease_until=now + timedelta(seconds=ttl))
                .returning(ConnectorState.connector))
        got = (await session.exec(stmt)).first() is not None
        await session.commit()
    return got


async def release_lease(store: Store, connector: str, owner: str) -> None:
    """Give the lease up at shutdown so another replica can take over at once."""
    async with store.session() as session:
        await session.exec(update(ConnectorState)
                           .where(ConnectorState.connector == connector, ConnectorState.lease_owner == owner)
                           .values(lease_owner=None, lease_until=None))
        await session.commit()


class ConnectorRunner:
    """Drives one pull connector through start → poll → store → ack, surviving every failure."""

    def __init__(self, connector: PullConnector, name: str, kind: str, ctx: PluginContext, store: Store,
                 submit: Callable[[Batch], Awaitable[IngestResult]], *, poll_timeout: float,
                 backoff_initial: float, backoff_max: float, owner: str, lease_ttl: float,
                 metrics: Metrics | None = None, drain_budget: float = 2.0) -> None:
        self.connector, self.name, self.kind, self.ctx, self.store = connector, name, kind, ctx, store
        self.submit = submit
        self.poll_timeout, self.backoff_initial, self.backoff_max = poll_timeout, backoff_initial, backoff_max
        self.owner, self.lease_ttl, self.metrics, self.drain_budget = owner, lease_ttl, metrics, drain_budget
        self.health = Health()
        self.started = False
        self._lease_checked = 0.0
        self._has_lease = False
        self._stopping = False
        self._next_at = 0.0
        self._busy = False
        self._again = False

    async def tick(self) -> None:
        """One scheduled (or woken) run: poll until drained (within a budget), or note the failure.

        Runs never overlap: a tick asked for while one runs (the schedule, or a connector's wake-up that
        new data is waiting) makes the running one poll once more instead.
        """
        if self._busy:
            self._again = True
            return
        self._busy = True
        try:
            while True:
                self._again = False
                await self._tick_once()
                if not self._again or self._stopping:
                    break
        finally:
            self._busy = False

    def interrupt(self) -> None:
        """Shutdown has begun: no new polls, and the connector ends any wait (IDLE) now if it can."""
        self._stopping = True
        interrupt = getattr(self.connector, "interrupt", None)
        if interrupt is not None and self.started:
            interrupt()

    async def _tick_once(self) -> None:
        if self._stopping or self.health.state == "parked" or time.monotonic() < self._next_at:
            return
        with log_context(connector=self.name):
            try:
                if not await self._lease():
                    return
                if not self.started:
                    checkpoint = await self.store.load_checkpoint(self.name)
                    await asyncio.wait_for(self.connector.start(self.ctx, checkpoint), self.poll_timeout)
                    self.started = True
                deadline = time.monotonic() + self.drain_budget
                while not self._stopping:
                    more = await self._poll_once()
                    if not more or time.monotonic() > deadline:
                        break
                self._succeeded()
            except asyncio.CancelledError:
                raise
            except AuthError as exc:
                self._park(exc)
            except ConfigError as exc:
                self._park(exc)
            except Exception as exc:  # every other failure backs off; the connector restarts from its checkpoint
                await self._failed(exc)

    async def _lease(self) -> bool:
        now = time.monotonic()
        if now - self._lease_checked > self.lease_ttl / 3:
            had = self._has_lease
            self._has_lease = await acquire_lease(self.store, self.name, self.owner, self.lease_ttl)
            self._lease_checked = now
            if had != self._has_lease:
                log.info("%s lease %s", self.name, "taken" if self._has_lease else "held by another replica")
            if not self._has_lease:
                self.health.state = "standby"
                if self.started:
                    await self._restart()
        return self._has_lease

    async def _poll_once(self) -> bool:
        started = time.monotonic()
        batch = await asyncio.wait_for(self.connector.poll(), self.poll_timeout)
        if self.metrics:
            self.metrics.poll_duration.labels(self.name).observe(time.monotonic() - started)
        if not batch.envelopes and batch.checkpoint is None:
            self._hint(batch)
            return False
        result = await self.submit(batch)
        self.health.envelopes += result.new
        await self.connector.ack(batch, result)
        self._hint(batch)
        return bool(batch.envelopes) and (batch.next_poll_in is None or batch.next_poll_in <= 0)

    def _hint(self, batch: Batch) -> None:
        if batch.next_poll_in is not None and batch.next_poll_in > 0:
            self._next_at = time.monotonic() + batch.next_poll_in

    def _succeeded(self) -> None:
        if self.health.state == "failing":
            log.info("%s recovered after %d failed attempts", self.name, self.health.failures)
        self.health.state = "running"
        self.health.failures = 0
        self.health.last_error = None
        self.health.retry_at = None
        self.health.last_success = time.time()
        if self.metrics:
            self.metrics.connector_up.labels(self.name).set(1)

    def _park(self, exc: Exception) -> None:
        self.health.state = "parked"
        self.health.last_error = f"{type(exc).__name__}: {exc}"
        log.error("%s parked: %s (fix the configuration or credentials, then restart or `omnichannel check`)",
                  self.name, self.health.last_error)
        if self.metrics:
            self.metrics.connector_up.labels(self.name).set(0)
            self.metrics.poll_failures.labels(self.name, type(exc).__name__).inc()

    async def _failed(self, exc: Exception) -> None:
        self.health.failures += 1
        message = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        delay = backoff_delay(self.health.failures, self.backoff_initial, self.backoff_max)
        if isinstance(exc, RetryableError) and exc.retry_after:
            delay = max(delay, exc.retry_after)
        self._next_at = time.monotonic() + delay
        self.health.retry_at = self._next_at
        if self.health.state != "failing":
            log.warning("%s failing: %s (retrying with backoff)", self.name, message)
        else:
            log.debug("%s still failing (%d): %s; next try in %.1fs", self.name, self.health.failures, message, delay)
        self.health.state = "failing"
        self.health.last_error = message
        if self.metrics:
            self.metrics.connector_up.labels(self.name).set(0)
            self.metrics.poll_failures.labels(self.name, type(exc).__name__).inc()
        if not isinstance(exc, RetryableError) or exc.retry_after is None:
            await self._restart()

    async def _restart(self) -> None:
        """Close the connector; the next tick starts it again from the stored checkpoint."""
        if self.started:
            self.started = False
            try:
                await asyncio.wait_for(self.connector.stop(), 10)
            except Exception as exc:  # a broken connector must not block its own restart
                log.debug("%s stop after failure raised %r", self.name, exc)

    async def stop(self) -> None:
        """Stop for good (the scheduler no longer calls ``tick``)."""
        self._stopping = True
        await self._restart()
        if self._has_lease:
            try:
                await release_lease(self.store, self.name, self.owner)
            except Exception as exc:
                log.debug("%s lease release failed: %r", self.name, exc)
        self.health.state = "stopped"
