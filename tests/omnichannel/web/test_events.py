"""Live queue updates (``GET /api/v1/events``): what one officer does on one replica reaches every other
officer who may see the ticket, on another replica, through the database; nobody else hears of it; a reconnect
with ``Last-Event-ID`` gets what it missed; a logout ends the stream; SIGTERM does not wait for open streams."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from aiohttp import ClientSession, ClientTimeout, CookieJar, web
from aiohttp.test_utils import TestServer

from omnichannel.models import AuditEvent, Case, Ticket
from omnichannel.store import Store
from omnichannel.templates import Templates
from omnichannel.web import events
from omnichannel.web.desk import routes
from router.delivery.desk import AnswerDesk
from tests.conftest import REPO, free_port
from tests.omnichannel.web.test_desk_api import PASSWORD, seed_desk
from tests.omnichannel.web.test_officer_api import make_config
from tests.ready import wait_ready

HANG = 30.0  # a stream that says nothing for this long is a failure (not a speed figure)


@pytest.fixture(autouse=True)
def quick(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(events, "POLL_SECONDS", 0.1)
    monkeypatch.setattr(events, "HEARTBEAT_SECONDS", 0.5)


@pytest_asyncio.fixture
async def replicas(any_store: Store) -> AsyncIterator[tuple[TestServer, TestServer, Store]]:
    """Two desks ("replicas": their own app, store engine and event hub) on one database."""
    await seed_desk(any_store)
    other = Store(str(any_store.engine.url.render_as_string(hide_password=False)))
    await other.open(migrate=False)
    servers = []
    for store in (any_store, other):
        app = web.Application()
        desk = routes(store, make_config(), Templates(), AnswerDesk())
        app.router.add_routes(desk)
        for r in desk:
            if getattr(r.handler, "on_shutdown", None):
                app.on_shutdown.append(r.handler.on_shutdown)
        server = TestServer(app)
        await server.start_server()
        servers.append(server)
    try:
        yield servers[0], servers[1], any_store
    finally:
        for server in servers:
            await server.close()
        await other.close()


async def new_ticket(s: Any, n: int, agency: str) -> None:
    """A case and its ticket as the router makes them (the case first: the ticket refers to it)."""
    s.add(Case(id=n, ref=f"KAS-2026-{n:06d}", complaint_count=1, reporter_count=1))
    await s.flush()
    s.add(Ticket(id=n, ref=f"TIK-2026-{n:06d}", case_id=n, agency=agency, kind="pengaduan"))


class Listener:
    """A logged-in browser's event stream, read in the background."""

    def __init__(self, server: TestServer, who: str) -> None:
        self.server, self.who = server, who
        self.http = ClientSession(base_url=str(server.make_url("")), cookie_jar=CookieJar(unsafe=True),
                                  timeout=ClientTimeout(total=None))
        self.events: list[tuple[str, str, Any]] = []  # (event name, id, data)
        self.pings = 0
        self.ended = asyncio.Event()
        self.task: asyncio.Task[None] | None = None
        self.csrf = ""

    async def start(self, last: str | None = None) -> Listener:
        if not self.csrf:
            async with self.http.post("/api/v1/session", json={"login": self.who, "password": PASSWORD}) as r:
                assert r.status == 200
                self.csrf = (await r.json())["csrf"]
        ready = asyncio.Event()
        headers = {"Accept": "text/event-stream", **({"Last-Event-ID": last} if last else {})}

        async def read() -> None:
            try:
                async with self.http.get("/api/v1/events", headers=headers) as resp:
                    assert resp.status == 200 and resp.content_type == "text/event-stream"
                    name, ident, data = "message", "", ""
                    async for raw in resp.content:
                        line = raw.decode().rstrip("\n")
                        if line.startswith(": ping"):
                            self.pings += 1
                        elif line.startswith("event: "):
                            name = line[7:]
                        elif line.startswith("id: "):
                            ident = line[4:]
                        elif line.startswith("data: "):
                            data = line[6:]
                        elif line == "" and data:
                            self.events.append((name, ident, json.loads(data)))
                            if name == "siap":
                                ready.set()
                            name, ident, data = "message", "", ""
            finally:
                self.ended.set()
                ready.set()

        self.ended.clear()
        self.task = asyncio.create_task(read())
        await asyncio.wait_for(ready.wait(), HANG)
        return self

    def tickets(self) -> list[dict[str, Any]]:
        return [d for n, _, d in self.events if n == "tiket"]

    async def until(self, predicate: Any) -> None:
        async def wait() -> None:
            while not predicate():
                await asyncio.sleep(0.05)

        await asyncio.wait_for(wait(), HANG)

    async def close(self) -> None:
        if self.task is not None:
            self.task.cancel()
            await asyncio.gather(self.task, return_exceptions=True)
        await self.http.close()


async def test_one_officers_action_reaches_the_others_on_another_replica_and_nobody_else(replicas) -> None:
    a, b, store = replicas
    ani = await Listener(b, "ani").start()  # dpupr officer, streaming from replica B
    kora = await Listener(b, "kora").start()  # coordinator
    budi = await Listener(a, "budi").start()  # dinkes officer, replica A
    actor = Listener(a, "ani")  # Ani in another tab, on replica A, acts
    await actor.start()
    try:
        async with actor.http.post("/api/v1/tickets/TIK-2026-000001/assign", json={"user": "ani"},
                                   headers={"X-CSRF-Token": actor.csrf}) as r:
            assert r.status == 200
        async with actor.http.post("/api/v1/tickets/TIK-2026-000001/notes", json={"text": "cek lokasi besok"},
                                   headers={"X-CSRF-Token": actor.csrf}) as r:
            assert r.status == 201
        async with actor.http.post("/api/v1/tickets/TIK-2026-000001/status", json={"status": "diproses"},
                                   headers={"X-CSRF-Token": actor.csrf}) as r:
            assert r.status == 200
        async with store.session() as s:  # the router opens a ticket for each agency
            await new_ticket(s, 50, "dpupr")
            await new_ticket(s, 51, "dinkes")
            await s.commit()
        await ani.until(lambda: len(ani.tickets()) >= 4)
        await kora.until(lambda: len(kora.tickets()) >= 5)
        await budi.until(lambda: any(t["ref"] == "TIK-2026-000051" for t in budi.tickets()))
        await asyncio.sleep(0.5)  # a few more polls: nothing else may arrive
    finally:
        for x in (ani, kora, budi, actor):
            await x.close()
    seen = [(t["type"], t["ref"]) for t in ani.tickets()]
    assert [x for x in seen if x[0] != "ticket"][:3] == [("assign", "TIK-2026-000001"), ("note", "TIK-2026-000001"), ("status", "TIK-2026-000001")]
    assert ("ticket", "TIK-2026-000050") in seen and all(r != "TIK-2026-000051" for _, r in seen)
    changes = [t for t in ani.tickets() if t["type"] != "ticket"]
    assert changes[0]["assigned_to"] == "ani" and changes[0]["actor"] == "user:ani"
    assert changes[2]["status"] == "diproses"
    assert {t["ref"] for t in kora.tickets()} == {"TIK-2026-000001", "TIK-2026-000050", "TIK-2026-000051"}
    assert [t["ref"] for t in budi.tickets()] == ["TIK-2026-000051"]  # nothing of dpupr's
    note = next(t for t in ani.tickets() if t["type"] == "note")
    assert "cek lokasi" not in json.dumps(note)  # the stream says what happened, not the note's text
    ids = [i for n, i, _ in ani.events if n == "tiket"]
    assert ids == sorted(ids, key=lambda x: tuple(map(int, x.split(".")))) and all("." in i for i in ids)


async def test_a_reconnect_with_last_event_id_gets_what_it_missed_on_any_replica(replicas) -> None:
    a, b, store = replicas
    ani = await Listener(a, "ani").start()
    try:
        async with store.session() as s:
            s.add(AuditEvent(actor="user:kora", action="assign", subject_type="ticket", subject_ref="TIK-2026-000001",
                             detail={"to": "ani"}))
            await s.commit()
        await ani.until(lambda: len(ani.tickets()) == 1)
        last = ani.events[-1][1]
        await ani.close()
        async with store.session() as s:  # while the browser is away
            await new_ticket(s, 60, "dpupr")
            s.add(AuditEvent(actor="user:kora", action="status", subject_type="ticket", subject_ref="TIK-2026-000060",
                             detail={"to": "diterima"}))
            s.add(AuditEvent(actor="user:kora", action="note", subject_type="ticket", subject_ref="TIK-2026-000002",
                             detail={"text": "dinkes saja"}))
            await s.commit()
        again = await Listener(b, "ani").start(last=last)  # reconnects to the other replica
        await again.until(lambda: len(again.tickets()) >= 2)
        await asyncio.sleep(0.4)
        missed = [(t["type"], t["ref"]) for t in again.tickets()]
        await again.close()
    finally:
        await ani.close()
    assert missed == [("ticket", "TIK-2026-000060"), ("status", "TIK-2026-000060")]  # once each, not dinkes's note


async def test_too_much_missed_is_one_reset_and_a_logout_ends_the_stream(replicas, monkeypatch) -> None:
    a, _, store = replicas
    monkeypatch.setattr(events, "REPLAY_LIMIT", 3)
    async with store.session() as s:
        for _ in range(5):
            s.add(AuditEvent(actor="x", action="note", subject_type="ticket", subject_ref="TIK-2026-000001"))
        await s.commit()
    ani = await Listener(a, "ani").start(last="0.0")
    try:
        assert [n for n, _, _ in ani.events] == ["reset", "siap"]
        async with ani.http.post("/api/v1/session/logout", json={}, headers={"X-CSRF-Token": ani.csrf}) as r:
            assert r.status == 200
        await asyncio.wait_for(ani.ended.wait(), HANG)  # checked again at the next heartbeat
        assert ani.events[-1][0] == "keluar" and ani.pings >= 0
        async with ani.http.get("/api/v1/events") as r:
            assert r.status == 401
    finally:
        await ani.close()


async def test_heartbeats_and_a_client_that_does_not_read_is_reset(replicas, monkeypatch) -> None:
    a, _, store = replicas
    monkeypatch.setattr(events, "QUEUE_SIZE", 2)
    kora = await Listener(a, "kora").start()
    try:
        await kora.until(lambda: kora.pings >= 2)
        hub = next(r.handler.hub for r in a.app.router.routes() if hasattr(r.handler, "hub"))
        listener = next(iter(hub.listeners))
        async with store.session() as s:
            for _ in range(6):
                s.add(AuditEvent(actor="x", action="note", subject_type="ticket", subject_ref="TIK-2026-000001"))
            await s.commit()
        # fill the queue behind the reader's back, as a slow client would
        for _ in range(3):
            listener.offer(events.Event("a", 10**9, "note", "TIK-2026-000001", "dpupr", "pengaduan", "baru", None, "x"))
        await asyncio.wait_for(kora.ended.wait(), HANG)
    finally:
        await kora.close()
    assert kora.events[-1][0] == "reset" and not hub.listeners


def test_the_gap_cursor_waits_for_a_late_commit_and_passes_a_rollback(monkeypatch) -> None:
    monkeypatch.setattr(events, "GAP_SECONDS", 10.0)
    c = events.Cursor(10)
    assert c.take([11, 13], now=0.0) == {11, 13} and c.floor == 11  # 12 not committed yet
    assert c.take([11, 13], now=1.0) == set() and c.floor == 11
    assert c.take([12, 13, 14], now=2.0) == {12, 14} and c.floor == 14  # the late commit arrives once
    assert c.take([16], now=3.0) == {16} and c.floor == 14  # 15 may still commit
    assert c.take([16], now=14.0) == set() and c.floor == 16  # 15 was rolled back
    assert events._cursor("12.34") == (12, 34) and events._cursor("x.1") is None and events._cursor("1") is None


async def test_sigterm_ends_open_streams_instead_of_waiting_for_them(tmp_path: Path) -> None:
    """The daemon under ``omnichannel run`` with a 10-minute shutdown deadline stops promptly on SIGTERM while a
    browser holds an event stream open (it would otherwise wait half the deadline for the stream to end)."""
    port = free_port()
    config = tmp_path / "config.yaml"
    shipped = (REPO / "config.yaml").read_text()
    assert "shutdown_deadline: 20" in shipped
    config.write_text(shipped.replace("shutdown_deadline: 20", "shutdown_deadline: 600"))
    env = {**os.environ, "OMNICHANNEL_HTTP_PORT": str(port), "OMNICHANNEL_DATA_DIR": str(tmp_path / "data"),
           "PYTHONPATH": str(REPO)}
    subprocess.run([sys.executable, "-m", "omnichannel.cli", "users", "add", "kora", "--name", "Kora", "--role",
                    "koordinator", "--config", str(config)], input=PASSWORD, text=True,
                   env=env, check=True, capture_output=True)
    proc = subprocess.Popen([sys.executable, "-m", "omnichannel.cli", "run", "--config", str(config)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        base = f"http://127.0.0.1:{port}"
        async with ClientSession(cookie_jar=CookieJar(unsafe=True), timeout=ClientTimeout(total=None)) as http:
            for _ in range(300):
                try:
                    async with http.get(base + "/healthz") as r:
                        if r.status == 200:
                            break
                except OSError:
                    pass
                await asyncio.sleep(0.1)
            async with http.post(base + "/api/v1/session", json={"login": "kora", "password": PASSWORD}) as r:
                assert r.status == 200
            async with http.get(base + "/api/v1/events") as stream:
                assert stream.status == 200
                first = await stream.content.readuntil(b"\n\n")
                proc.send_signal(signal.SIGTERM)
                rest = await asyncio.wait_for(stream.content.read(), HANG)  # the server ends the stream
        code = await asyncio.to_thread(proc.wait, HANG)
    finally:
        if proc.poll() is None:
            proc.kill()
        out = proc.stdout.read() if proc.stdout else ""
    assert first.startswith(b"retry:") and b"event: siap" in rest or b"event: siap" in first + rest
    assert code == 0, out
    assert "stopped" in out and "cancelled" not in out


async def test_a_browser_that_leaves_frees_its_slot_without_waiting_for_a_heartbeat(replicas, monkeypatch) -> None:
    a, _, _ = replicas
    monkeypatch.setattr(events, "HEARTBEAT_SECONDS", 3600.0)  # no write would notice the closed connection
    hub = next(r.handler.hub for r in a.app.router.routes() if hasattr(r.handler, "hub"))
    ani = await Listener(a, "ani").start()
    assert len(hub.listeners) == 1
    await ani.close()  # the tab is closed

    async def gone() -> None:
        while hub.listeners:
            await asyncio.sleep(0.05)

    await asyncio.wait_for(gone(), HANG)
    assert ani.pings == 0


async def test_the_stream_passes_through_http_workers_and_ends_on_sigterm(tmp_path: Path) -> None:
    """With ``http.workers`` the worker passes the stream on as it comes (not buffered to its end), and a SIGTERM
    to the daemon ends it although the worker, which stops first, holds it open."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    config = tmp_path / "config.yaml"
    config.write_text(f"""
data_dir: {tmp_path}/data
http: {{host: 127.0.0.1, port: {port}, workers: 1, rate_limits: {{enabled: false}}}}
logging: {{level: INFO}}
daemon: {{router_interval: 0.3, shutdown_deadline: 600}}
connectors:
  - {{name: web, kind: webform, acknowledge: false}}
""")
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    subprocess.run([sys.executable, "-m", "omnichannel.cli", "users", "add", "kora", "--name", "Kora", "--role",
                    "koordinator", "--config", str(config)], input=PASSWORD, text=True, env=env, check=True,
                   capture_output=True)
    log = tmp_path / "daemon.log"
    proc = subprocess.Popen([sys.executable, "-m", "omnichannel.cli", "-c", str(config), "run"], env=env,
                            stdout=log.open("ab"), stderr=subprocess.STDOUT)
    try:
        await wait_ready(base, proc, log=log)
        async with ClientSession(cookie_jar=CookieJar(unsafe=True), timeout=ClientTimeout(total=None)) as http:
            async with http.post(base + "/api/v1/session", json={"login": "kora", "password": PASSWORD}) as r:
                assert r.status == 200

            async def follow() -> bytes:
                async with http.get(base + "/api/v1/events", headers={"Accept": "text/event-stream"}) as stream:
                    assert stream.status == 200 and stream.content_type == "text/event-stream"
                    hello = b""
                    while b"event: siap" not in hello:  # a worker buffering to the end would never show it
                        hello += await stream.content.readuntil(b"\n\n")
                    async with http.post(base + "/api/v1/complaints",
                                         json={"text": "Lampu jalan mati di Jl. Pemuda sejak kemarin malam"}) as r:
                        assert r.status == 201
                    news = b""
                    while b"event: tiket" not in news:  # passed on while the stream is still open
                        news += await stream.content.readuntil(b"\n\n")
                    proc.send_signal(signal.SIGTERM)
                    await stream.content.read()  # ended, not left hanging
                    return news

            news = await asyncio.wait_for(follow(), HANG)
        code = await asyncio.to_thread(proc.wait, HANG)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert b'"type": "ticket"' in news and b'"ref": "TIK-' in news
    assert code == 0, log.read_text()[-3000:]
