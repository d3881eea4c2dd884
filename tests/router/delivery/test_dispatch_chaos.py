"""Chaos: a dispatcher subprocess is SIGKILLed 50 times while 1,000 items go to every destination.

Afterwards every item has reached every destination, and each destination holds each idempotency key
once. Destinations are pluggable: add a ``ChaosDestination`` to ``destinations()`` (e.g. the LAPOR!
sandbox) with its forwarder config, its server, and its own check.
"""

from __future__ import annotations

import asyncio
import json
import multiprocessing
import os
import random
import signal
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import func, select

from omnichannel import registry
from omnichannel.models import OutboxRow
from omnichannel.outbox import enqueue_many
from omnichannel.store import Store
from tests.contract.forwarder_contract import ticket_payload
from tests.router.delivery.forwarders.webhook_sink import WebhookSink

ITEMS = 1000
KILLS = 50
SECRET = "chaos-secret"


class ChaosDestination:
    """One destination under chaos: a forwarder config entry, the server behind it, and a final check."""

    name = "base"

    def forwarder(self) -> dict[str, Any]:
        raise NotImplementedError

    def env(self) -> dict[str, str]:
        return {}

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    def activity(self) -> int:
        """Requests seen so far (the kill waits for the first one after a restart)."""
        return 0

    async def check(self, keys: list[str]) -> dict[str, Any]:
        """Assert every key arrived exactly once; return figures for the report."""
        raise NotImplementedError


class WebhookDestination(ChaosDestination):
    """The signed-webhook sink; 5 % of answers are 503 and answers take up to 10 ms."""

    name = "sink"

    def __init__(self) -> None:
        self.sink = WebhookSink(secret=SECRET.encode())
        self.sink.delay = 0.01
        self.sink.fail_rate = 0.05

    def forwarder(self) -> dict[str, Any]:
        return {"name": self.name, "kind": "webhook", "url": self.sink.url, "secret": "${CHAOS_SECRET}",
                "timeout": 2, "max_in_flight": 8, "max_attempts": 1000}

    def env(self) -> dict[str, str]:
        return {"CHAOS_SECRET": SECRET}

    async def start(self) -> None:
        await self.sink.start()

    async def stop(self) -> None:
        await self.sink.stop()

    def activity(self) -> int:
        return self.sink.requests

    async def check(self, keys: list[str]) -> dict[str, Any]:
        assert self.sink.bad_signatures == 0
        assert len(self.sink.accepted_order) == len(set(self.sink.accepted_order)), "a key was stored twice"
        missing = set(keys) - set(self.sink.accepted)
        assert not missing, f"{len(missing)} items never reached the sink, e.g. {sorted(missing)[:3]}"
        assert set(self.sink.accepted) == set(keys)
        return {"accepted": len(self.sink.accepted), "repeats_absorbed": sum(self.sink.repeats.values()),
                "requests": self.sink.requests}


def destinations() -> list[ChaosDestination]:
    """Every destination the chaos run feeds."""
    from tests.router.delivery.chaos_lapor import LaporDestination

    return [WebhookDestination(), LaporDestination()]


def _child(argv: list[str], env: dict[str, str]) -> None:
    """The dispatcher process: exactly ``python -m router.delivery.dispatcher ARGV``, forked from a warm forkserver."""
    os.environ.update(env)
    from router.delivery.dispatcher import main

    sys.exit(main(argv))


class Dispatcher:
    """One dispatcher process. Forked from a forkserver that imported everything once, so 50 restarts
    cost milliseconds instead of a cold interpreter start each (the kills land mid-delivery)."""

    context: Any = None

    def __init__(self, proc: Any) -> None:
        self.proc = proc

    @classmethod
    def spawn(cls, config: Path, owner: str, env: dict[str, str], modules: list[str]) -> Dispatcher:
        if cls.context is None:
            cls.context = multiprocessing.get_context("forkserver")
            cls.context.set_forkserver_preload(["router.delivery.dispatcher", "omnichannel.store", *modules])
        argv = ["--config", str(config), "--owner", owner, "--poll-interval", "0.05", "--claim-grace", "1",
                "--housekeeping-interval", "0.3", "--backoff-base", "0.05", "--backoff-max", "0.5",
                "--log-level", "ERROR"]
        proc = cls.context.Process(target=_child, args=(argv, env), daemon=True)
        proc.start()
        return cls(proc)

    @property
    def alive(self) -> bool:
        return self.proc.exitcode is None

    async def finish(self, sig: int, timeout: float = 20.0) -> None:
        os.kill(self.proc.pid, sig)
        for _ in range(int(timeout / 0.02)):
            if self.proc.exitcode is not None:
                break
            await asyncio.sleep(0.02)
        else:
            self.proc.kill()
        await asyncio.to_thread(self.proc.join)


def stop_forkserver() -> None:
    """Leave no helper process behind (the forkserver would otherwise live until pytest exits)."""
    from multiprocessing import forkserver

    stop = getattr(forkserver._forkserver, "_stop", None)
    if stop is not None:
        stop()
    Dispatcher.context = None


async def not_done(store: Store) -> int:
    async with store.session() as s:
        return (await s.exec(select(func.count()).where(OutboxRow.status != "done"))).scalar_one()


@pytest.mark.slow
async def test_sigkill_fifty_times_every_item_arrives_once(tmp_path: Path) -> None:
    rng = random.Random(int(os.environ.get("CHAOS_SEED", "20260301")))
    dests = destinations()
    for d in dests:
        await d.start()
    url = f"sqlite+aiosqlite:///{tmp_path}/chaos.db"
    store = Store(url)
    await store.open(migrate=True)
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump({"data_dir": str(tmp_path), "store": {"url": url, "migrate_on_start": False},
                                      "forwarders": [d.forwarder() for d in dests]}), encoding="utf-8")
    env: dict[str, str] = {}
    for d in dests:
        env.update(d.env())
    keys: dict[str, list[str]] = {d.name: [] for d in dests}
    per_round = ITEMS // KILLS
    modules = sorted({registry.FORWARDERS[d.forwarder()["kind"]][i].split(":")[0] for d in dests for i in (0, 1)})
    counter = iter(range(KILLS))

    async def feed(i: int) -> None:
        async with store.session() as s:
            batch = [("ticket", f"TIK-2026-{n:06d}", d.name, ticket_payload(n))
                     for n in range(i * per_round + 1, (i + 1) * per_round + 1) for d in dests]
            await enqueue_many(s, batch)
            await s.commit()
        for t, ref, dest, _ in batch:
            keys[dest].append(f"{t}:{ref}:{dest}")

    async def slot(number: int) -> None:
        """Spawn, let it work a random moment, SIGKILL; until the 50 kills are used up."""
        for i in counter:
            await feed(i)
            seen = sum(d.activity() for d in dests)
            proc = Dispatcher.spawn(config, f"chaos-{number}-{i % 2}", env, modules)
            if rng.random() < 0.2:  # anywhere, startup included
                await asyncio.sleep(rng.uniform(0.0, 0.8))
            else:  # mostly while it is delivering
                for _ in range(100):
                    if sum(d.activity() for d in dests) > seen or not proc.alive:
                        break
                    await asyncio.sleep(0.02)
                await asyncio.sleep(rng.uniform(0.0, 0.5))
            assert proc.alive, f"dispatcher exited by itself with {proc.proc.exitcode} (its log is above)"
            await proc.finish(signal.SIGKILL)

    try:
        # two dispatchers at a time: kills land while the other one holds claims too
        began = time.monotonic()
        await asyncio.gather(slot(1), slot(2))
        kill_phase = time.monotonic() - began
        left_after_kills = await not_done(store)
        final = Dispatcher.spawn(config, "final", env, modules)
        for _ in range(1200):
            if await not_done(store) == 0 or not final.alive:
                break
            await asyncio.sleep(0.05)
        drain = time.monotonic() - began - kill_phase
        await final.finish(signal.SIGTERM)
        assert await not_done(store) == 0, "rows left undelivered (the dispatcher's log is above)"
        async with store.session() as s:
            attempts = (await s.exec(select(func.sum(OutboxRow.attempts)))).scalar_one()
        figures = {d.name: await d.check(keys[d.name]) for d in dests}
        figures["_run"] = {"kills": KILLS, "left_after_kills": left_after_kills, "attempts": int(attempts),
                           "kill_phase_s": round(kill_phase, 1), "final_drain_s": round(drain, 1)}
        print("chaos figures:", json.dumps(figures))
    finally:
        await store.close()
        for d in dests:
            await d.stop()
        stop_forkserver()
