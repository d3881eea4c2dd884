"""The outbox dispatcher: claims due rows, hands them to forwarders and repliers, retries, dead-letters.

Every row ends ``done`` or ``dead`` (with its last error); a crashed dispatcher's claims expire and
go back to pending; the idempotency key ``item_type:item_ref:destination`` goes with every send so a
destination that can tell absorbs the resend after a crash.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import random
import signal
import socket
import sys
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from omnichannel.config import Config, ForwarderConfig
from omnichannel.errors import AuthError, PermanentDeliveryError, RetryableError
from omnichannel.types import OutboxItem, utcnow
from router.delivery import outbox as outbox_ops
from router.delivery.outbox import Claimed, Outcome

log = logging.getLogger(__name__)

_DEFAULTS = ForwarderConfig(name="defaults", kind="defaults")


@dataclass(frozen=True, slots=True)
class Policy:
    """Delivery limits of one destination (from its forwarder config; defaults for repliers)."""

    max_in_flight: int
    max_attempts: int
    max_age: float
    timeout: float


def backoff_delay(attempt: int, base: float, cap: float, rng: random.Random,
                  retry_after: float | None = None) -> float:
    """Seconds before the next attempt: full jitter over ``min(cap, base·2^(attempt-1))``, never
    sooner than the ``retry_after`` the destination asked for."""
    ceiling = min(cap, base * (2 ** max(0, attempt - 1)))
    delay = rng.uniform(0.0, ceiling)
    if retry_after is not None and retry_after > delay:
        delay = float(retry_after)
    return delay


class Dispatcher:
    """Drains the outbox into ``targets`` (destination name → started Forwarder or Replier)."""

    def __init__(self, store: Any, config: Config, targets: dict[str, Any], *, owner: str | None = None,
                 poll_interval: float = 0.5, batch_size: int = 100, backoff_base: float = 2.0, backoff_max: float = 3600.0,
                 claim_grace: float = 30.0, coalesce: float = 0.005, housekeeping_interval: float = 5.0, stuck_after: float = 3600.0,
                 summary_interval: float = 3600.0, rng: random.Random | None = None, templates: Any = None) -> None:
        self.store = store
        self.config = config
        self.targets = targets
        self.owner = owner or config.daemon.replica_id or f"{socket.gethostname()}:{os.getpid()}"
        self.poll_interval = poll_interval
        self.batch_size = batch_size
        self.backoff_base = backoff_base
        self.backoff_max = backoff_max
        self.claim_grace = claim_grace
        self.coalesce = coalesce
        self.housekeeping_interval = housekeeping_interval
        self.stuck_after = stuck_after
        self.summary_interval = summary_interval
        self.rng = rng or random.Random()
        if templates is None:
            from omnichannel.templates import Templates

            templates = Templates(config.templates, config.templates_dir)
        self.templates = templates
        self.metrics: Any = None  # the daemon's prometheus Metrics, when it sets one
        # plain counters by destination, for export
        self.delivered: Counter[str] = Counter()
        self.failed: Counter[str] = Counter()
        self.dead_lettered: Counter[str] = Counter()
        self.last_summary: dict[str, Any] | None = None
        self._configs = {f.name: f for f in config.forwarders if getattr(f, "enabled", True)}
        self._running: dict[str, set[asyncio.Task[Outcome]]] = {d: set() for d in targets}
        self._outcomes: list[Outcome] = []
        self._wake: asyncio.Event | None = None
        self._recovered = False
        self._failing: set[str] = set()
        self._last_housekeeping = 0.0
        self._last_summary_window: float | None = None

    def policy(self, destination: str) -> Policy:
        """The limits that apply to ``destination``."""
        cfg = self._configs.get(destination, _DEFAULTS)
        return Policy(cfg.max_in_flight, cfg.max_attempts, cfg.max_age, cfg.timeout)

    def wake(self) -> None:
        """Look for due rows now (e.g. right after the router wrote some)."""
        if self._wake is not None:
            self._wake.set()

    # -- one pass -------------------------------------------------------------------------------
    async def _housekeeping(self, force: bool = False) -> None:
        now = time.monotonic()
        if not self._recovered:
            await outbox_ops.release(self.store, owner=self.owner)
            self._recovered = True
        if not force and now - self._last_housekeeping < self.housekeeping_interval:
            return
        self._last_housekeeping = now
        await outbox_ops.release(self.store)
        max_age = {d: self.policy(d).max_age for d in set(self._configs) | set(self.targets)}
        for o in await outbox_ops.expire_old(self.store, max_age, _DEFAULTS.max_age):
            self._count_dead(o)

    async def _claim(self) -> list[Claimed]:
        wanted = {}
        for destination in self.targets:
            p = self.policy(destination)
            free = min(self.batch_size, p.max_in_flight - len(self._running.get(destination, ())))
            if free > 0:
                wanted[destination] = (p.max_in_flight, free, p.timeout + self.claim_grace)
        if not wanted:
            return []
        return await outbox_ops.claim(self.store, self.owner, wanted)

    async def _deliver(self, row: Claimed) -> Outcome:
        target = self.targets[row.destination]
        p = self.policy(row.destination)
        item = OutboxItem(row.id, row.item_type, row.item_ref, row.destination, row.payload, attempt=row.attempts)
        retry_after: float | None = None
        try:
            call = target.reply if row.destination.startswith("reply:") else target.send
            receipt = await asyncio.wait_for(call(item, row.idempotency_key), p.timeout + 5)
        except PermanentDeliveryError as exc:
            return self._dead(row, f"permanent: {exc}")
        except (RetryableError, AuthError) as exc:
            retry_after = getattr(exc, "retry_after", None)
            error = f"{type(exc).__name__}: {exc}"
        except TimeoutError:
            error = f"timed out after {p.timeout + 5:.0f}s"
        except Exception as exc:  # a bug in a forwarder must not kill the dispatcher
            log.exception("forwarder %s raised unexpectedly on %s", row.destination, row.idempotency_key)
            error = f"unexpected {type(exc).__name__}: {exc}"
        else:
            self.delivered[row.destination] += 1
            if self.metrics is not None:
                self.metrics.deliveries.labels(row.destination).inc()
            if row.destination in self._failing:
                self._failing.discard(row.destination)
                log.info("deliveries to %s recovered", row.destination)
            return Outcome(row.id, row.destination, "done", row.attempts,
                           remote_ref=getattr(receipt, "remote_ref", None))
        self.failed[row.destination] += 1
        if self.metrics is not None:
            self.metrics.delivery_failures.labels(row.destination, "retryable").inc()
        if row.destination not in self._failing:
            self._failing.add(row.destination)
            log.warning("deliveries to %s failing: %s (item %s)", row.destination, error, row.idempotency_key)
        if row.attempts >= p.max_attempts:
            return self._dead(row, f"gave up after {row.attempts} attempts; last error: {error}")
        delay = backoff_delay(row.attempts, self.backoff_base, self.backoff_max, self.rng, retry_after)
        retry_at = utcnow() + timedelta(seconds=delay)
        if retry_at > row.created_at + timedelta(seconds=p.max_age):
            return self._dead(row, f"max_age {p.max_age:.0f}s would pass before the next attempt; "
                                   f"last error: {error}")
        log.debug("delivery %s failed (attempt %d), retry in %.1fs: %s", row.idempotency_key, row.attempts,
                  delay, error)
        return Outcome(row.id, row.destination, "retry", row.attempts, error=error, retry_at=retry_at)

    def _dead(self, row: Claimed, reason: str) -> Outcome:
        log.warning("dead letter: %s after %d attempts: %s", row.idempotency_key, row.attempts, reason)
        if self.metrics is not None:
            self.metrics.delivery_failures.labels(row.destination, "permanent").inc()
        outcome = Outcome(row.id, row.destination, "dead", row.attempts, error=reason)
        self._count_dead(outcome)
        return outcome

    def _count_dead(self, outcome: Outcome) -> None:
        self.dead_lettered[outcome.destination] += 1
        if self.metrics is not None:
            self.metrics.dead_letters.labels(outcome.destination).inc()

    async def run_once(self) -> int:
        """Claim what is due (within ``max_in_flight``), deliver it, record the outcomes; returns rows tried."""
        await self._housekeeping(force=True)
        rows = await self._claim()
        if not rows:
            return 0
        outcomes = await asyncio.gather(*(self._deliver(r) for r in rows))
        await outbox_ops.record(self.store, self.owner, list(outcomes))
        return len(rows)

    # -- the loop -------------------------------------------------------------------------------
    def _start(self, row: Claimed) -> None:
        task = asyncio.create_task(self._deliver(row), name=f"deliver:{row.idempotency_key}")
        running = self._running.setdefault(row.destination, set())
        running.add(task)

        def finished(t: asyncio.Task[Outcome]) -> None:
            running.discard(t)
            if not t.cancelled():
                self._outcomes.append(t.result())
            if self._wake is not None:
                self._wake.set()

        task.add_done_callback(finished)

    async def _flush(self) -> None:
        outcomes, self._outcomes = self._outcomes, []
        try:
            await outbox_ops.record(self.store, self.owner, outcomes)
        except BaseException:
            self._outcomes[:0] = outcomes  # keep them for the next try
            raise

    async def _sleep_for(self) -> float:
        if any(self._running.values()):
            return self.poll_interval
        due = await outbox_ops.next_due(self.store)
        if due is None:
            return self.poll_interval
        return max(0.0, min(self.poll_interval, (due - utcnow()).total_seconds()))

    async def run_forever(self, stop_event: asyncio.Event) -> None:
        """Deliver until ``stop_event`` is set; then let running sends finish and record them."""
        self._wake = asyncio.Event()
        stop_wait = asyncio.create_task(stop_event.wait())
        healthy = True
        log.info("dispatcher %s started for %d destinations", self.owner, len(self.targets))
        try:
            while not stop_event.is_set():
                self._wake.clear()
                try:
                    await self._flush()
                    await self._housekeeping()
                    await self._maybe_summarize()
                    for row in await self._claim():
                        self._start(row)
                    timeout = await self._sleep_for()
                    if not healthy:
                        log.info("dispatcher %s recovered", self.owner)
                        healthy = True
                except Exception as exc:
                    if healthy:
                        log.exception("dispatcher %s: store error: %s", self.owner, exc)
                        healthy = False
                    timeout = min(30.0, self.poll_interval * 10)
                wake = asyncio.create_task(self._wake.wait())
                await asyncio.wait({wake, stop_wait}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
                wake.cancel()
                if self.coalesce and any(self._running.values()) and not stop_event.is_set():
                    # let a few more sends finish: one flush and one claim then cover them all
                    await asyncio.sleep(self.coalesce)
        finally:
            stop_wait.cancel()
            running = [t for ts in self._running.values() for t in ts]
            if running:
                await asyncio.wait(running)
            try:
                await self._flush()
            except Exception as exc:
                log.error("dispatcher %s could not record %d outcomes at stop: %s (the claims expire and "
                          "the rows are resent with the same idempotency key)", self.owner, len(self._outcomes), exc)
            log.info("dispatcher %s stopped", self.owner)

    # -- the stuck-delivery summary ----------------------------------------------------------------
    async def _maybe_summarize(self) -> None:
        window = int(time.time() // self.summary_interval) * self.summary_interval
        if self._last_summary_window is None:
            self._last_summary_window = window  # the first summary comes one interval after start
            return
        if window != self._last_summary_window:
            self._last_summary_window = window
            await self.summarize()

    async def summarize(self, now: datetime | None = None) -> dict[str, Any] | None:
        """Count stuck rows and the dead letters of the last interval; log them and enqueue a ``notification``
        for every forwarder whose ``item_types`` has ``notification``. Returns the summary (None if quiet)."""
        from omnichannel.outbox import enqueue

        now = now or utcnow()
        window_start = datetime.fromtimestamp(int(now.timestamp() // self.summary_interval)
                                              * self.summary_interval, UTC)
        waiting, dead = await outbox_ops.stuck(self.store, now - timedelta(seconds=self.stuck_after),
                                               now - timedelta(seconds=self.summary_interval), now)
        total = sum(sum(v.values()) for v in waiting.values()) + sum(dead.values())
        if total == 0:
            return None
        lines = [self.templates("stuck_summary", count=total)]
        for destination in sorted(set(waiting) | set(dead)):
            w = waiting.get(destination, {})
            lines.append(f"- {destination}: {w.get('pending', 0)} menunggu, {w.get('in_flight', 0)} sedang dikirim, "
                         f"{w.get('held', 0)} ditahan, {dead.get(destination, 0)} gagal (dead letter)")
        text = "\n".join(lines)
        ref = f"stuck-{window_start:%Y%m%dT%H%M}"
        recipients = [name for name, cfg in self._configs.items() if "notification" in cfg.item_types]
        if recipients:
            async with self.store.session() as session:
                for name in recipients:
                    await enqueue(session, "notification", ref, name,
                                  {"subject": "Pengiriman tertunda atau gagal", "text": text})
                await session.commit()
        log.warning("stuck deliveries: %d (waiting %s, dead letters %s); notified %s", total, waiting, dead,
                    recipients or "nobody (no forwarder takes notification)")
        self.last_summary = {"ref": ref, "total": total, "waiting": waiting, "dead": dead,
                             "recipients": recipients, "text": text}
        return self.last_summary


# -- standalone entry point: ``python -m router.delivery.dispatcher --config FILE`` -------------------------
async def _main(args: argparse.Namespace) -> int:
    from omnichannel import registry
    from omnichannel.config import load_config
    from omnichannel.protocols import PluginContext
    from omnichannel.store import Store

    config = load_config(args.config)
    store = Store(config.store.url)
    await store.open(migrate=config.store.migrate_on_start)
    targets: dict[str, Any] = {}
    for cfg in config.forwarders:
        if cfg.enabled:
            forwarder = registry.load(registry.FORWARDERS[cfg.kind][0])(cfg.name, cfg)
            ctx = PluginContext(name=cfg.name, data_dir=config.data_dir, attachments_dir=config.data_dir / "attachments",
                                logger=logging.getLogger(f"omnichannel.plugin.{cfg.name}"))
            ctx.extra.update(config=config, store=store)
            await forwarder.start(ctx)
            targets[cfg.name] = forwarder
    dispatcher = Dispatcher(store, config, targets, owner=args.owner, poll_interval=args.poll_interval,
                            backoff_base=args.backoff_base, backoff_max=args.backoff_max,
                            claim_grace=args.claim_grace, housekeeping_interval=args.housekeeping_interval)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        await dispatcher.run_forever(stop)
    finally:
        for forwarder in targets.values():
            await forwarder.stop()
        await store.close()
    return 0


def main(argv: list[str] | None = None) -> int:
    """Run one dispatcher over the configured forwarders until SIGTERM."""
    p = argparse.ArgumentParser(prog="python -m router.delivery.dispatcher", description=main.__doc__)
    p.add_argument("--config", required=True)
    p.add_argument("--owner", default=None, help="stable id: a restart takes back its own claims at once")
    p.add_argument("--poll-interval", type=float, default=0.5)
    p.add_argument("--backoff-base", type=float, default=2.0)
    p.add_argument("--backoff-max", type=float, default=3600.0)
    p.add_argument("--claim-grace", type=float, default=30.0)
    p.add_argument("--housekeeping-interval", type=float, default=5.0)
    p.add_argument("--log-level", default="WARNING")
    args = p.parse_args(argv)
    logging.basicConfig(level=args.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    return asyncio.run(_main(args))


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
