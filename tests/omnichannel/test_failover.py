"""Three daemon processes on one PostgreSQL database, one SIGKILLed and restarted twice while a client
posts a stream of complaints (with resends and incidents) to them in turn: every accepted complaint is
stored once, the cases and duplicate links are those of one process given the same stream, every
delivery reaches the agency's webhook, and the killed replica's router lease moves within lease_ttl."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import aiohttp
import pytest
from sqlalchemy import func, select

from omnichannel.models import Complaint, OutboxRow
from omnichannel.store import Store
from tests.conftest import create_pg_database, drop_pg_database, free_port
from tests.ready import ready_body, wait_ready
from tests.router.delivery.forwarders.webhook_sink import WebhookSink

pytestmark = [pytest.mark.slow, pytest.mark.postgres]
LEASE_TTL = 2.0
SECRET = "failover-test-secret"
PLACES = ["Jl. Pemuda", "Jl. Pandanaran", "Jl. Gajahmada", "Jl. Kartini", "Jl. Majapahit", "Jl. Setiabudi"]
PROBLEMS = [("Lampu jalan di {p} mati semua sejak {d} hari, gelap dan rawan", "lampu penerangan {p} padam {d} hari, gelap banget"),
            ("Sampah menumpuk di depan pasar {p}, sudah {d} hari tidak diangkut", "sampah di pasar {p} numpuk {d} hari ga diangkut, bau"),
            ("Jalan {p} berlubang besar di dekat lampu merah, sudah {d} kali motor jatuh", "lubang besar di {p} dekat lampu merah, {d} motor jatuh")]


def stream() -> list[tuple[str, str, str]]:
    """(key, text, phone) in order: first reports, resends by the same citizen, reports by others."""
    out = []
    n = 0
    for i, place in enumerate(PLACES):
        for j, (first, other) in enumerate(PROBLEMS):
            n += 1
            base = f"08123{n:06d}"
            text = first.format(p=place, d=3 + j)
            out.append((f"m{n}a", text, base))
            if (i + j) % 2 == 0:
                out.append((f"m{n}r", text, base))                                   # a resend
            if (i + j) % 3 == 0:
                out.append((f"m{n}i", other.format(p=place, d=3 + j), f"08571{n:06d}"))  # an incident report
    return out


def config_text(tmp: Path, url: str, port: int, name: str, hook: str) -> str:
    return f"""
data_dir: {tmp}/data-{name}
store: {{url: "{url}", migrate_on_start: true}}
http: {{host: 127.0.0.1, port: {port}, rate_limits: {{enabled: false}}}}
logging: {{level: INFO}}
daemon: {{replica_id: {name}, lease_ttl: {LEASE_TTL}, router_interval: 0.2, shutdown_deadline: 5}}
connectors:
  - {{name: web, kind: webform, acknowledge: false}}
forwarders:
  - {{name: hook, kind: webhook, url: "{hook}", secret: "${{TEST_HOOK_SECRET}}", agencies: ["*"]}}
"""


class Replica:
    def __init__(self, tmp: Path, url: str, name: str, hook: str) -> None:
        self.name, self.port = name, free_port()
        self.config = tmp / f"{name}.yaml"
        self.config.write_text(config_text(tmp, url, self.port, name, hook))
        self.log = tmp / f"{name}.log"
        self.proc: subprocess.Popen | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        env = {**os.environ, "PYTHONUNBUFFERED": "1", "TEST_HOOK_SECRET": SECRET}
        self.proc = subprocess.Popen([sys.executable, "-m", "omnichannel.cli", "-c", str(self.config), "run"],
                                     stdout=self.log.open("ab"), stderr=subprocess.STDOUT, env=env,
                                     cwd=self.config.parent)

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    async def wait_ready(self) -> None:
        assert self.proc is not None
        await wait_ready(self.base, self.proc, log=self.log, name=self.name)


async def post(http: aiohttp.ClientSession, replicas: list[Replica], start: int, key: str, text: str,
               phone: str) -> str:
    """POST to replicas[start], and on a connection failure to the next ones, with one Idempotency-Key."""
    for attempt in range(30):
        target = replicas[(start + attempt) % len(replicas)]
        try:
            async with http.post(f"{target.base}/api/v1/complaints", json={"text": text, "phone": phone},
                                 headers={"Idempotency-Key": key},
                                 timeout=aiohttp.ClientTimeout(total=10)) as resp:
                if resp.status in (200, 201):
                    return (await resp.json())["complaint"]
                assert resp.status >= 500, await resp.text()
        except (aiohttp.ClientError, TimeoutError):
            pass
        await asyncio.sleep(0.2)
    raise AssertionError(f"{key} was never accepted")


async def settled(url: str, refs: dict[str, str], hook_rows_expected: bool = True, timeout: float = 90) -> dict:
    """Wait until every complaint is routed and every outbox row is done; the decisions by message key."""
    store = Store(url)
    await store.open(migrate=False)
    try:
        deadline = time.monotonic() + timeout
        while True:
            async with store.session() as s:
                rows = (await s.exec(select(Complaint))).scalars().all()
                open_rows = (await s.exec(select(func.count()).select_from(OutboxRow)
                                          .where(OutboxRow.status != "done"))).scalar_one()
                hooks = (await s.exec(select(OutboxRow.idempotency_key)
                                      .where(OutboxRow.destination == "hook"))).scalars().all()
            if rows and all(c.status != "received" for c in rows) and open_rows == 0:
                break
            assert time.monotonic() < deadline, "the stream never settled"
            await asyncio.sleep(0.3)
    finally:
        await store.close()
    by_ref = {c.ref: c for c in rows}
    by_id = {c.id: c for c in rows}
    key_of = {ref: key for key, ref in refs.items()}
    cases: dict[int, set[str]] = {}
    for key, ref in refs.items():
        cases.setdefault(by_ref[ref].case_id, set()).add(key)
    links = {key: key_of.get(by_id[by_ref[ref].duplicate_of].ref) if by_ref[ref].duplicate_of else None
             for key, ref in refs.items()}
    return {"complaints": len(rows), "cases": sorted(sorted(g) for g in cases.values()), "links": links,
            "hooks": sorted(hooks)}


async def leader(http: aiohttp.ClientSession, replicas: list[Replica]) -> Replica | None:
    for r in replicas:
        body = await ready_body(http, r.base)
        if body and "@router" in body["replica"]["leases"]:
            return r
    return None


async def run_stream(tmp: Path, url: str, names: list[str], kills: list[int]) -> tuple[dict, list[float], WebhookSink]:
    sink = await WebhookSink(secret=SECRET.encode()).start()
    replicas = [Replica(tmp, url, name, sink.url) for name in names]
    takeovers: list[float] = []
    try:
        async with aiohttp.ClientSession() as http:
            for r in replicas:
                r.start()
                await r.wait_ready()  # one after another: the first runs the migrations
            refs: dict[str, str] = {}
            for i, (key, text, phone) in enumerate(stream()):
                if i in kills:
                    victim = await leader(http, replicas)
                    assert victim is not None
                    victim.kill()
                    killed_at = time.monotonic()
                    others = [r for r in replicas if r is not victim]
                    while await leader(http, others) is None:
                        assert time.monotonic() - killed_at < 4 * LEASE_TTL, "no replica took the router over"
                        await asyncio.sleep(0.1)
                    takeovers.append(time.monotonic() - killed_at)
                    victim.start()  # back while the stream goes on
                refs[key] = await post(http, replicas, i, key, text, phone)
            for r in replicas:
                if r.proc is not None and r.proc.poll() is not None:
                    r.start()
            decisions = await settled(url, refs)
    finally:
        for r in replicas:
            if r.proc is not None and r.proc.poll() is None:
                r.proc.send_signal(signal.SIGTERM)
        for r in replicas:
            if r.proc is not None:
                try:
                    r.proc.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    r.proc.kill()
        await sink.stop()
    return decisions, takeovers, sink


async def test_three_replicas_with_kills_decide_like_one_process(tmp_path):
    single_url, multi_url = await create_pg_database(), await create_pg_database()
    try:
        (tmp_path / "one").mkdir()
        (tmp_path / "three").mkdir()
        one, _, one_sink = await run_stream(tmp_path / "one", single_url, ["solo"], kills=[])
        three, takeovers, sink = await run_stream(tmp_path / "three", multi_url, ["alpha", "beta", "gamma"],
                                                  kills=[len(stream()) // 3, 2 * len(stream()) // 3])
    finally:
        await drop_pg_database(single_url)
        await drop_pg_database(multi_url)
    assert three["complaints"] == one["complaints"] == len(stream())   # every accepted complaint, once
    assert three["cases"] == one["cases"]
    assert three["links"] == one["links"]
    assert any(link for link in one["links"].values()), "the stream has no duplicates: the test shows nothing"
    assert len(takeovers) == 2 and max(takeovers) < 2 * LEASE_TTL + 1, takeovers
    # every delivery reached the agency's webhook; a resend after a kill carries the same key, kept once
    assert sorted(sink.accepted) == three["hooks"] and len(three["hooks"]) == len(one["hooks"])
