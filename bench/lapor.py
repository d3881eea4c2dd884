"""LAPOR! submissions per second to the local sandbox, per wire format.

Two figures per wire: ``send`` (the forwarder alone, with its store markers, ``--concurrency`` at a
time) and ``drain`` (N ticket rows through the real Dispatcher, ``max_in_flight`` = concurrency).
Run: ``.venv/bin/python bench/lapor.py [--n 1000] [--concurrency 8] [--failure-rate 0.0]``.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import tempfile
import time
from pathlib import Path

from pydantic import SecretStr

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from omnichannel.config import Config  # noqa: E402
from omnichannel.outbox import enqueue_many  # noqa: E402
from omnichannel.protocols import PluginContext  # noqa: E402
from omnichannel.sandbox.lapor import LaporSandbox  # noqa: E402
from omnichannel.store import Store  # noqa: E402
from omnichannel.types import OutboxItem  # noqa: E402
from router.delivery.dispatcher import Dispatcher  # noqa: E402
from router.delivery.forwarders.lapor import LaporConfig, LaporForwarder  # noqa: E402


def payload(n: int) -> dict:
    return {"ticket": f"TIK-2026-{n:06d}", "kind": "pengaduan", "agency": "dpupr", "reporters": 1,
            "subject": "Jalan berlubang", "text": f"Jalan berlubang di Jl. Pemuda no {n}, mohon segera diperbaiki.",
            "text_masked": f"Jalan berlubang di Jl. Pemuda no {n}, mohon segera diperbaiki.",
            "reporter": {"name": "Warga Kota", "email": "warga@example.id", "phone": "+628123456789"},
            "anonymous": n % 3 == 0, "confidential": False, "location": {"kelurahan": "Pekunden"}}


async def one_wire(wire: str, n: int, concurrency: int, failure_rate: float, workdir: Path) -> None:
    async with LaporSandbox() as sandbox:
        store = Store(f"sqlite+aiosqlite:///{workdir}/{wire}.db")
        await store.open(migrate=True)
        cfg = LaporConfig(name="lapor", base_url=sandbox.base_url, token=SecretStr("sandbox-token"), wire=wire,
                          max_in_flight=concurrency, timeout=10)
        fwd = LaporForwarder("lapor", cfg)
        ctx = PluginContext(name="lapor", data_dir=workdir, attachments_dir=workdir)
        ctx.extra.update(store=store, config=Config(data_dir=workdir, forwarders=[cfg]))
        await fwd.start(ctx)
        try:
            gate = asyncio.Semaphore(concurrency)

            async def send(i: int) -> None:
                async with gate:
                    await fwd.send(OutboxItem(i, "ticket", f"TIK-2026-{i:06d}", "lapor", payload(i)), f"k{i}")

            t0 = time.perf_counter()
            await asyncio.gather(*(send(i) for i in range(1, n + 1)))
            send_rate = n / (time.perf_counter() - t0)

            async with store.session() as s:
                await enqueue_many(s, [("ticket", f"TIK-2026-{i:06d}", "lapor", payload(i))
                                       for i in range(n + 1, 2 * n + 1)])
                await s.commit()
            sandbox.failure_rate = failure_rate
            dispatcher = Dispatcher(store, Config(data_dir=workdir, forwarders=[cfg]), {"lapor": fwd},
                                    owner="bench", backoff_base=0.01, backoff_max=0.05, rng=random.Random(1))
            stop = asyncio.Event()
            t0 = time.perf_counter()
            task = asyncio.create_task(dispatcher.run_forever(stop))
            while dispatcher.delivered["lapor"] < n:
                await asyncio.sleep(0.05)
            elapsed = time.perf_counter() - t0
            stop.set()
            await task
            reports = len(sandbox.reports)
            print(f"{wire:10s} send: {send_rate:7.1f} submissions/s   dispatcher drain of {n}: {elapsed:6.2f} s "
                  f"= {n / elapsed:7.1f}/s (failure rate {failure_rate:.0%}, {sandbox.calls} calls, "
                  f"{reports} reports for {2 * n} tickets)")
        finally:
            await fwd.stop()
            await store.close()


async def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=1000)
    p.add_argument("--concurrency", type=int, default=8)
    p.add_argument("--failure-rate", type=float, default=0.0)
    args = p.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        for wire in ("json", "legacy-xml"):
            await one_wire(wire, args.n, args.concurrency, args.failure_rate, Path(tmp))


if __name__ == "__main__":
    asyncio.run(main())
