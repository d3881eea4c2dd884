"""Dispatcher throughput: time to drain N outbox rows to a loopback webhook sink, Redis Streams and RabbitMQ.

    python bench/dispatch.py [--rows 10000] [--in-flight 64] [--store sqlite|postgresql] [--only webhook,redis,rabbitmq]

The webhook sink runs in its own process (aiohttp, answers 201 and remembers keys); Redis and RabbitMQ are
the services on 127.0.0.1 (skipped when absent). Figures are printed, never asserted. "per CPU-second" is
the dispatcher process's own CPU time (store client included): the rate it could reach on a free core,
less sensitive to a busy machine than the wall-clock rate.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pydantic import SecretStr  # noqa: E402
from sqlalchemy import func, select  # noqa: E402

from omnichannel.config import Config  # noqa: E402
from omnichannel.models import OutboxRow  # noqa: E402
from omnichannel.outbox import enqueue_many  # noqa: E402
from omnichannel.store import Store  # noqa: E402
from router.delivery.dispatcher import Dispatcher  # noqa: E402


def _sink_process(port: int, ready: Any) -> None:
    from aiohttp import web

    seen: set[str] = set()

    async def handle(request: web.Request) -> web.Response:
        await request.read()
        seen.add(request.headers.get("Idempotency-Key", ""))
        return web.json_response({"id": len(seen)}, status=201)

    app = web.Application()
    app.router.add_post("/hook", handle)

    async def main() -> None:
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", port, backlog=1024).start()
        ready.set()
        await asyncio.Event().wait()

    asyncio.run(main())


def _port_open(port: int) -> bool:
    import socket

    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


async def _store(kind: str, tmp: Path) -> tuple[Store, Any]:
    if kind == "sqlite":
        store = Store(f"sqlite+aiosqlite:///{tmp}/bench-{uuid.uuid4().hex[:6]}.db")
        await store.open(migrate=True)
        return store, None
    from tests.conftest import create_pg_database, drop_pg_database

    url = await create_pg_database()
    store = Store(url)
    await store.open(migrate=True)
    return store, (drop_pg_database, url)


async def drain(name: str, cfg: Any, forwarder: Any, rows: int, store_kind: str, tmp: Path) -> dict[str, float]:
    """Enqueue ``rows`` rows and time one dispatcher draining them."""
    store, cleanup = await _store(store_kind, tmp)
    try:
        payload = {"ticket": "TIK-2026-000001", "agency": "dpupr", "text": "Jalan berlubang di depan pasar " * 4}
        t0 = time.perf_counter()
        async with store.session() as s:
            for start in range(0, rows, 2000):
                await enqueue_many(s, [("ticket", f"TIK-2026-{n:06d}", name, payload)
                                       for n in range(start, min(rows, start + 2000))])
            await s.commit()
        enqueue_s = time.perf_counter() - t0
        await forwarder.start(None)
        dispatcher = Dispatcher(store, Config(forwarders=[cfg]), {name: forwarder}, owner="bench",
                                poll_interval=0.02, batch_size=cfg.max_in_flight)
        stop = asyncio.Event()
        t0, cpu0 = time.perf_counter(), time.process_time()
        task = asyncio.create_task(dispatcher.run_forever(stop))
        while dispatcher.delivered[name] < rows and not task.done():
            await asyncio.sleep(0.01)
        stop.set()
        await task
        seconds, cpu = time.perf_counter() - t0, time.process_time() - cpu0
        await forwarder.stop()
        async with store.session() as s:
            done = (await s.exec(select(func.count()).where(OutboxRow.status == "done"))).scalar_one()
        return {"rows": rows, "done": done, "seconds": seconds, "per_second": rows / seconds, "cpu": cpu,
                "enqueue_per_second": rows / enqueue_s}
    finally:
        await store.close()
        if cleanup is not None:
            await cleanup[0](cleanup[1])


async def main(args: argparse.Namespace) -> None:
    from router.delivery.forwarders.rabbitmq import RabbitMQConfig, RabbitMQForwarder
    from router.delivery.forwarders.redis import RedisStreamConfig, RedisStreamForwarder
    from router.delivery.forwarders.webhook import WebhookConfig, WebhookForwarder

    only = set(args.only.split(","))
    tmp = Path(tempfile.mkdtemp(prefix="bench-dispatch-"))
    results: dict[str, Any] = {}
    if "webhook" in only:
        import socket

        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        ctx = multiprocessing.get_context("spawn")
        ready = ctx.Event()
        sink = ctx.Process(target=_sink_process, args=(port, ready), daemon=True)
        sink.start()
        ready.wait(30)
        try:
            cfg = WebhookConfig(name="hook", url=f"http://127.0.0.1:{port}/hook", secret=SecretStr("bench"),
                                max_in_flight=args.in_flight, timeout=10)
            results["webhook"] = await drain("hook", cfg, WebhookForwarder("hook", cfg), args.rows, args.store, tmp)
        finally:
            sink.terminate()
            sink.join()
    if "redis" in only:
        if _port_open(6379):
            stream = f"bench-{uuid.uuid4().hex[:6]}:{{agency}}"
            cfg = RedisStreamConfig(name="rs", stream=stream, max_in_flight=args.in_flight, dedupe_ttl=600)
            results["redis"] = await drain("rs", cfg, RedisStreamForwarder("rs", cfg), args.rows, args.store, tmp)
            import redis.asyncio as aioredis

            client = aioredis.from_url("redis://127.0.0.1:6379/0")
            keys = [k async for k in client.scan_iter(stream.replace("{agency}", "") + "*")]
            if keys:
                await client.delete(*keys)
            await client.aclose()
        else:
            results["redis"] = "skipped: Redis not on 127.0.0.1:6379"
    if "rabbitmq" in only:
        if _port_open(5672):
            tag = uuid.uuid4().hex[:6]
            cfg = RabbitMQConfig(name="mq", password=SecretStr("guest"), exchange=f"bench-{tag}",
                                 queue=f"bench-q-{tag}", max_in_flight=args.in_flight)
            results["rabbitmq"] = await drain("mq", cfg, RabbitMQForwarder("mq", cfg), args.rows, args.store, tmp)
            import aio_pika

            conn = await aio_pika.connect("amqp://guest:guest@127.0.0.1:5672/", timeout=5)
            ch = await conn.channel()
            await ch.queue_delete(f"bench-q-{tag}")
            await ch.exchange_delete(f"bench-{tag}")
            await conn.close()
        else:
            results["rabbitmq"] = "skipped: RabbitMQ not on 127.0.0.1:5672"
    print(f"dispatch bench: {args.rows} rows, max_in_flight {args.in_flight}, store {args.store}")
    for name, r in results.items():
        if isinstance(r, str):
            print(f"  {name:<9} {r}")
        else:
            print(f"  {name:<9} drained {r['done']}/{r['rows']} in {r['seconds']:.2f}s = {r['per_second']:,.0f} "
                  f"deliveries/s; dispatcher CPU {r['cpu']:.2f}s = {r['rows'] / r['cpu']:,.0f} per CPU-second "
                  f"(enqueue {r['enqueue_per_second']:,.0f} rows/s)")


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rows", type=int, default=10_000)
    p.add_argument("--in-flight", type=int, default=64)
    p.add_argument("--store", choices=["sqlite", "postgresql"], default="sqlite")
    p.add_argument("--only", default="webhook,redis,rabbitmq")
    asyncio.run(main(p.parse_args()))
