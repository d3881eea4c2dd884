"""What the webhook intake benches share (bench/meta_webhook.py, bench/whatsapp_webhook.py).

A connector's routes served by a real aiohttp server on 127.0.0.1, prepared signed deliveries posted by
concurrent senders, and the figures printed in one shape.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

from omnichannel.committer import GroupCommitter
from omnichannel.ingest import ingest_batch
from omnichannel.protocols import PluginContext
from omnichannel.store import Store

# one delivery: where it goes, its raw body, its signed headers
Delivery = tuple[str, bytes, dict[str, str]]


def arguments(doc: str | None) -> argparse.ArgumentParser:
    """The options every webhook bench takes; a bench adds its own."""
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--deliveries", type=int, default=3000)
    parser.add_argument("--senders", type=int, default=50)
    parser.add_argument("--direct", action="store_true", help="no group commit: one transaction per delivery")
    parser.add_argument("--pg", help="PostgreSQL URL instead of a temporary SQLite file")
    return parser


def intake_context(store: Store, name: str, channel: str, tmp: Path, direct: bool,
                   extra: dict[str, Any] | None = None) -> PluginContext:
    """A connector's context: it submits through the daemon's GroupCommitter, or one ``ingest_batch`` per delivery."""
    async def one_by_one(batch):
        return await ingest_batch(store, name, channel, batch)

    submit = one_by_one if direct else GroupCommitter(store, name, channel, 500).submit
    return PluginContext(name=name, data_dir=tmp, attachments_dir=tmp / "att", submit=submit,
                         extra=extra if extra is not None else {})


async def serve(routes: Iterable[web.RouteDef]) -> tuple[web.AppRunner, str]:
    """Serve ``routes`` on a free loopback port; the runner (clean it up when done) and the base URL."""
    app = web.Application()
    app.router.add_routes(routes)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    return runner, f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}"  # type: ignore[union-attr]


@dataclass
class Load:
    """What posting the deliveries took."""

    count: int
    elapsed: float
    latencies: list[float]  # sorted
    failures: int  # answers other than 200

    def figures(self) -> str:
        """``<elapsed>s = <rate>/s; latency p50 …, p95 …; non-200: <n>``."""
        p95 = self.latencies[int(len(self.latencies) * 0.95)]
        return (f"{self.elapsed:.2f}s = {self.count / self.elapsed:,.0f}/s; latency p50 "
                f"{statistics.median(self.latencies) * 1000:.1f} ms, p95 {p95 * 1000:.1f} ms; non-200: {self.failures}")


async def post_all(deliveries: list[Delivery], senders: int) -> Load:
    """Post every delivery from ``senders`` concurrent clients, each taking the next one not yet sent."""
    latencies: list[float] = []
    failures = 0
    queue = iter(deliveries)

    async def sender(session: aiohttp.ClientSession) -> None:
        nonlocal failures
        for target, body, headers in queue:
            begun = time.perf_counter()
            async with session.post(target, data=body, headers=headers) as resp:
                await resp.read()
                failures += resp.status != 200
            latencies.append(time.perf_counter() - begun)

    connections = aiohttp.TCPConnector(limit=senders)
    async with aiohttp.ClientSession(connector=connections, timeout=aiohttp.ClientTimeout(total=60)) as session:
        begun = time.perf_counter()
        await asyncio.gather(*(sender(session) for _ in range(senders)))
        elapsed = time.perf_counter() - begun
    return Load(len(deliveries), elapsed, sorted(latencies), failures)


def setting(url: str, direct: bool) -> tuple[str, str]:
    """The store backend and the commit mode, as the figures name them."""
    backend = "postgresql" if url.startswith("postgresql") else "sqlite"
    return backend, "one transaction per delivery" if direct else "group commit"
