"""Several replicas on one store: one routes (the lease holder), the others stand by and take over;
periodic jobs run once per period across them. SQLite (one file, two daemons) and PostgreSQL."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import aiohttp
import pytest
from sqlalchemy import select

from omnichannel import leadership, sla
from omnichannel.daemon import Daemon
from omnichannel.models import Complaint
from omnichannel.store import Store
from tests.conftest import create_pg_database, drop_pg_database
from tests.omnichannel.helpers import minimal_config
from tests.ready import readyz

TTL = 1.5
INCIDENT = ("Pohon besar tumbang menutup Jalan Pemuda depan SDN 2 Tembalang, mobil tidak bisa lewat",
            "Ada pohon tumbang nutup jalan Pemuda depan SDN 2 Tembalang, mobil gak bisa lewat sama sekali")


@pytest.fixture(params=["sqlite", "postgresql"])
async def store_url(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path}/data/omnichannel.db"
        return
    url = await create_pg_database()
    try:
        yield url
    finally:
        await drop_pg_database(url)


def replica(tmp_path: Path, url: str, name: str) -> Daemon:
    config = minimal_config(tmp_path, url=url)
    config.daemon.lease_ttl = TTL
    config.daemon.replica_id = name
    return Daemon(config)


async def post(http: aiohttp.ClientSession, daemon: Daemon, text: str, phone: str) -> str:
    async with http.post(f"http://127.0.0.1:{daemon.http_port}/api/v1/complaints",
                         json={"text": text, "phone": phone}) as resp:
        assert resp.status == 201, await resp.text()
        return (await resp.json())["complaint"]


async def ready(http: aiohttp.ClientSession, daemon: Daemon) -> dict:
    return await readyz(f"http://127.0.0.1:{daemon.http_port}", http)


async def routed(url: str, refs: list[str], timeout: float = 20) -> dict[str, Complaint]:
    store = Store(url)
    await store.open(migrate=False)
    try:
        deadline = time.monotonic() + timeout
        while True:
            async with store.session() as s:
                rows = (await s.exec(select(Complaint).where(Complaint.ref.in_(refs)))).scalars().all()
            if len(rows) == len(refs) and all(c.status != "received" for c in rows):
                return {c.ref: c for c in rows}
            assert time.monotonic() < deadline, f"not routed in {timeout}s: {[(c.ref, c.status) for c in rows]}"
            await asyncio.sleep(0.1)
    finally:
        await store.close()


async def test_one_replica_routes_and_another_takes_over_when_it_stops(tmp_path, store_url):
    first, second = replica(tmp_path, store_url, "alpha"), replica(tmp_path, store_url, "beta")
    await first.start()
    await second.start()
    stopped = False
    try:
        async with aiohttp.ClientSession() as http:
            assert (await ready(http, first))["replica"]["leases"] == ["@router"]
            assert (await ready(http, second))["router"] == "standby"
            ref = await post(http, second, "Lampu jalan di Jl. Pemuda mati sudah seminggu", "081234567801")
            await routed(store_url, [ref])                      # the leader routed what the standby took in
            await first.stop()
            stopped = True
            deadline = time.monotonic() + 3 * TTL
            while (await ready(http, second))["router"] != "running":
                assert time.monotonic() < deadline, "the standby never took over"
                await asyncio.sleep(0.1)
            view = (await ready(http, second))["replica"]
            assert view["id"] == "beta" and "@router" in view["leases"] and "route" in view["roles"]
            ref2 = await post(http, second, "Sampah menumpuk di Pasar Johar belum diangkut", "081234567802")
            await routed(store_url, [ref2])
    finally:
        if not stopped:
            await first.stop()
        await second.stop()


async def test_duplicates_at_two_replicas_in_the_same_instant_make_one_case(tmp_path, store_url):
    first, second = replica(tmp_path, store_url, "alpha"), replica(tmp_path, store_url, "beta")
    await first.start()
    await second.start()
    try:
        async with aiohttp.ClientSession() as http:
            refs = await asyncio.gather(post(http, first, INCIDENT[0], "081234560001"),
                                        post(http, second, INCIDENT[1], "085712340002"))
        done = await routed(store_url, list(refs))
    finally:
        await first.stop()
        await second.stop()
    a, b = (done[r] for r in refs)
    assert a.case_id is not None and a.case_id == b.case_id, (a.status, a.case_id, b.status, b.case_id)


async def test_a_fenced_write_from_a_replica_that_lost_the_lease_is_rolled_back(tmp_path, store_url):
    store = Store(store_url)
    await store.open()
    try:
        old = leadership.Lease(store, leadership.ROUTER, "alpha", 0.2)
        new = leadership.Lease(store, leadership.ROUTER, "beta", 30)
        assert await old.hold()
        await asyncio.sleep(0.3)                                  # alpha stalls past its lease
        assert await new.hold()                                   # beta takes over
        with pytest.raises(leadership.LeaseLost):
            await store.run_write(old.fence)
        await store.run_write(new.fence)                          # the holder writes
    finally:
        await store.close()


async def test_periodic_jobs_run_once_per_period_across_three_replicas(tmp_path, store_url, monkeypatch):
    period = 0.5
    claimed: list[int] = []  # the period each successful claim was for (from the clock the claim reads)
    ran: list[str] = []
    real_claim = leadership.claim_period

    async def recording_claim(store, key, owner, seconds):
        number = int(time.time() // seconds)
        got = await real_claim(store, key, owner, seconds)
        if got and key == "@job:sla":
            claimed.append(number)
        return got

    async def fake_mark_overdue(store, config, *args, **kwargs):
        ran.append("sla")

    monkeypatch.setattr(leadership, "claim_period", recording_claim)
    monkeypatch.setattr(sla, "mark_overdue", fake_mark_overdue)
    monkeypatch.setattr("omnichannel.daemon.SLA_INTERVAL", period)
    daemons = [replica(tmp_path, store_url, name) for name in ("alpha", "beta", "gamma")]
    for d in daemons:
        await d.start()
    try:
        await asyncio.sleep(period * 10)
    finally:
        for d in daemons:
            await d.stop()
    assert len(claimed) >= 3, "the job hardly ran: the test shows nothing"
    assert len(claimed) == len(set(claimed)), f"a period ran twice: {sorted(claimed)}"
    assert len(ran) == len(claimed) == sum(d.job_runs["sla"] for d in daemons)
