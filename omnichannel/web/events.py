"""Live queue updates for the officers' desk: ``GET /api/v1/events``, a stream of server-sent events.

The source is the database, so every replica's stream carries what any replica (or the router, or a
forwarder) did: a new ticket is a new row of ``tickets``, and a status change, answer, assignment, note,
reassignment, merge or split is a new ``audit_events`` row about a ticket. One poller per process (the
``Hub``) reads both tables by id every ``POLL_SECONDS`` while somebody listens (two indexed range reads,
whatever the number of connections) and hands each event to the connections whose caller may see the ticket
(``Caller.sees``: an officer their agencies, a ppid information requests, a coordinator everything).

Ids come from sequences, and on PostgreSQL a transaction can commit a lower id after a higher one is
visible: the poller keeps a floor below every id it has not seen yet and reads from there, so a late commit
still arrives (a gap older than ``GAP_SECONDS`` is a rolled-back insert and is passed).

Each message's ``id`` is ``<ticket id>.<audit id>``, the highest of each the connection has seen; a browser
reconnecting sends it back as ``Last-Event-ID`` and gets what it missed from the database (on any replica),
or one ``reset`` event when more than ``REPLAY_LIMIT`` rows passed (the page then reloads its queue).
A connection costs one bounded queue; a client that does not read is sent ``reset`` and closed. A comment
line every ``HEARTBEAT_SECONDS`` keeps proxies from closing an idle stream, and a login session is checked
again at each heartbeat (a logout or an expired session ends the stream). On shutdown every stream ends at
once, so SIGTERM does not wait for open connections.

Events carry no personal data: the ticket ref, its agency, kind, status, assignee and what happened.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from sqlalchemy import and_, func, select

from omnichannel import users
from omnichannel.models import AuditEvent, Ticket
from omnichannel.web.officer_api import Caller, _error, _Reply

log = logging.getLogger(__name__)

POLL_SECONDS = 1.0
HEARTBEAT_SECONDS = 15.0
GAP_SECONDS = 15.0
BATCH = 500
REPLAY_LIMIT = 200
QUEUE_SIZE = 256
MAX_CONNECTIONS = 500
MAX_PER_PERSON = 8
COOKIE = "omni_sesi"  # omnichannel.web.accounts.COOKIE (not imported: accounts imports the officer API too)


@dataclass(slots=True)
class Event:
    """One change of one ticket (``source``: ``t`` a new ticket row, ``a`` an audit row; ``id`` its row id)."""

    source: str
    id: int
    type: str
    ref: str
    agency: str
    kind: str
    status: str
    assigned_to: str | None
    actor: str | None

    def data(self) -> str:
        return json.dumps({"type": self.type, "ref": self.ref, "agency": self.agency, "kind": self.kind,
                           "status": self.status, "assigned_to": self.assigned_to, "actor": self.actor})


class Cursor:
    """The lowest id below which every row has been seen (or given up as rolled back), and what was seen above."""

    def __init__(self, floor: int) -> None:
        self.floor = floor
        self.seen: set[int] = set()
        self.gaps: dict[int, float] = {}

    def take(self, ids: list[int], now: float) -> set[int]:
        """The ids not seen before; advance the floor past contiguous seen ids and expired gaps."""
        new = {i for i in ids if i > self.floor and i not in self.seen}
        self.seen |= new
        top = max(self.seen, default=self.floor)
        if top - self.floor > 100_000:  # a sequence jumped (restored backup, cache): do not walk the hole
            self.floor, self.seen, self.gaps = top, set(), {}
            return new
        for i in range(self.floor + 1, top):
            if i not in self.seen:
                self.gaps.setdefault(i, now)
        while self.floor < top:
            nxt = self.floor + 1
            if nxt in self.seen:
                self.seen.discard(nxt)
            elif now - self.gaps.get(nxt, now) < GAP_SECONDS:
                break
            self.gaps.pop(nxt, None)
            self.floor = nxt
        return new


@dataclass(eq=False)
class Listener:
    """One open stream: who listens and what is waiting to be written."""

    caller: Caller
    queue: asyncio.Queue[Event | None] = field(default_factory=lambda: asyncio.Queue(QUEUE_SIZE))
    overflowed: bool = False

    def offer(self, event: Event | None) -> None:
        if event is not None and not self.caller.sees(event.agency, event.kind):
            return
        try:
            self.queue.put_nowait(event)
        except asyncio.QueueFull:
            self.overflowed = True


async def _tickets(session: Any, above: int, limit: int) -> list[Event]:
    rows = (await session.exec(select(Ticket.id, Ticket.ref, Ticket.agency, Ticket.kind, Ticket.status,
                                      Ticket.assigned_to).where(Ticket.id > above).order_by(Ticket.id)
                               .limit(limit))).all()
    return [Event("t", i, "ticket", ref, agency, kind, status, assigned, None)
            for i, ref, agency, kind, status, assigned in rows]


async def _audit(session: Any, above: int, limit: int) -> tuple[list[int], list[Event]]:
    """Every audit id above ``above`` (for the cursor) and the events of those about a ticket."""
    q = (select(AuditEvent.id, AuditEvent.action, AuditEvent.actor, AuditEvent.subject_ref, Ticket.agency,
                Ticket.kind, Ticket.status, Ticket.assigned_to)
         .outerjoin(Ticket, and_(AuditEvent.subject_type == "ticket", Ticket.ref == AuditEvent.subject_ref))
         .where(AuditEvent.id > above).order_by(AuditEvent.id).limit(limit))
    ids, events = [], []
    for i, action, actor, ref, agency, kind, status, assigned in (await session.exec(q)).all():
        ids.append(i)
        if agency is not None:
            events.append(Event("a", i, action, ref, agency, kind, status, assigned, actor))
    return ids, events


class Hub:
    """The process's poller and its listeners."""

    def __init__(self, store: Any) -> None:
        self.store = store
        self.listeners: set[Listener] = set()
        self.tickets: Cursor | None = None
        self.audit: Cursor | None = None
        self.closing = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()
        self.polls = 0

    async def heads(self) -> tuple[int, int]:
        """The highest ticket and audit ids now in the database."""
        async with self.store.session() as session:
            t = (await session.exec(select(func.max(Ticket.id)))).scalar_one() or 0
            a = (await session.exec(select(func.max(AuditEvent.id)))).scalar_one() or 0
        return int(t), int(a)

    async def join(self, caller: Caller) -> Listener:
        if self.closing.is_set():
            raise _Reply(_error(503, "unavailable", "the server is stopping"))
        if len(self.listeners) >= MAX_CONNECTIONS:
            raise _Reply(_error(503, "unavailable", "too many open event streams on this server"))
        if caller.login and sum(1 for x in self.listeners if x.caller.login == caller.login) >= MAX_PER_PERSON:
            raise _Reply(_error(429, "too_many", f"at most {MAX_PER_PERSON} event streams per person"))
        if self.tickets is None or self.audit is None:
            t, a = await self.heads()
            self.tickets, self.audit = Cursor(t), Cursor(a)
        listener = Listener(caller)
        self.listeners.add(listener)
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run(), name="desk-events")
        return listener

    def leave(self, listener: Listener) -> None:
        self.listeners.discard(listener)

    async def _run(self) -> None:
        while self.listeners and not self.closing.is_set():
            try:
                await self.poll()
            except Exception as exc:  # noqa: BLE001 (a database hiccup: try again at the next tick)
                log.warning("desk events: polling the store failed: %s", exc)
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self.closing.wait(), POLL_SECONDS)
        # nobody listens: the next listener starts from the database's head again
        if not self.listeners:
            self.tickets = self.audit = None

    async def poll(self) -> int:
        """Read what changed since the floors and hand it out; the number of events."""
        assert self.tickets is not None and self.audit is not None
        self.polls += 1
        async with self.store.session() as session:
            new_tickets = await _tickets(session, self.tickets.floor, BATCH)
            audit_ids, audit_events = await _audit(session, self.audit.floor, BATCH)
        now = time.monotonic()
        fresh_t = self.tickets.take([e.id for e in new_tickets], now)
        fresh_a = self.audit.take(audit_ids, now)
        out = [e for e in new_tickets if e.id in fresh_t] + [e for e in audit_events if e.id in fresh_a]
        for event in out:
            for listener in list(self.listeners):
                listener.offer(event)
        return len(out)

    async def close(self, _app: Any = None) -> None:
        """End every stream now (the app's shutdown: SIGTERM must not wait for open connections)."""
        self.closing.set()
        for listener in list(self.listeners):
            with contextlib.suppress(asyncio.QueueFull):
                listener.queue.put_nowait(None)
            listener.overflowed = listener.overflowed or listener.queue.full()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task


def _cursor(value: str | None) -> tuple[int, int] | None:
    """``"<ticket id>.<audit id>"`` as sent back in ``Last-Event-ID``, or None."""
    if not value:
        return None
    left, _, right = value.strip().partition(".")
    if not (left.isdigit() and right.isdigit()) or len(left) > 18 or len(right) > 18:
        return None
    return int(left), int(right)


class Stream:
    """The handler of ``GET /api/v1/events``."""

    def __init__(self, api: Any, hub: Hub) -> None:
        self.api = api
        self.hub = hub

    async def events(self, request: web.Request) -> web.StreamResponse:
        caller = self.api._auth(request)
        listener = await self.hub.join(caller)
        try:
            return await self._serve(request, caller, listener)
        finally:
            self.hub.leave(listener)

    async def _serve(self, request: web.Request, caller: Caller, listener: Listener) -> web.StreamResponse:
        assert self.hub.tickets is not None and self.hub.audit is not None
        head_t, head_a = self.hub.tickets.floor, self.hub.audit.floor
        since = _cursor(request.headers.get("Last-Event-ID") or request.query.get("last"))
        resp = web.StreamResponse(headers={"Content-Type": "text/event-stream; charset=utf-8",
                                           "Cache-Control": "no-store", "X-Accel-Buffering": "no"})
        await resp.prepare(request)
        pos_t, pos_a = since if since is not None else (head_t, head_a)
        replayed: set[tuple[str, int]] = set()
        try:
            await resp.write(b"retry: 3000\n\n")
            if since is not None:  # what this browser missed, from the database (it may have been on another replica)
                async with self.api.store.session() as session:
                    missed = await _tickets(session, since[0], REPLAY_LIMIT + 1)
                    ids, audit = await _audit(session, since[1], REPLAY_LIMIT + 1)
                if len(missed) > REPLAY_LIMIT or len(ids) > REPLAY_LIMIT:
                    pos_t, pos_a = max(pos_t, head_t), max(pos_a, head_a)
                    await self._send(resp, "reset", "{}", pos_t, pos_a)
                else:
                    for event in [*missed, *audit]:
                        replayed.add((event.source, event.id))
                        pos_t, pos_a = _advance(event, pos_t, pos_a)
                        if caller.sees(event.agency, event.kind):
                            await self._send(resp, "tiket", event.data(), pos_t, pos_a)
            await self._send(resp, "siap", json.dumps({"heartbeat": HEARTBEAT_SECONDS}), pos_t, pos_a)
            session_cookie = request.cookies.get(COOKIE) if caller.login else None
            quiet_since = time.monotonic()
            while True:
                try:
                    event = await asyncio.wait_for(listener.queue.get(), min(HEARTBEAT_SECONDS, 2.0))
                except TimeoutError:
                    transport = request.transport
                    if transport is None or transport.is_closing():  # the browser left: free the slot now
                        break
                    if time.monotonic() - quiet_since < HEARTBEAT_SECONDS:
                        continue
                    if session_cookie and not await self._still_logged_in(session_cookie):
                        await self._send(resp, "keluar", "{}", pos_t, pos_a)
                        break
                    await resp.write(b": ping\n\n")
                    quiet_since = time.monotonic()
                    continue
                if event is None or self.hub.closing.is_set():
                    break
                if listener.overflowed:  # this client does not keep up: it reloads its queue
                    await self._send(resp, "reset", "{}", *_advance(event, pos_t, pos_a))
                    break
                if (event.source, event.id) in replayed:
                    continue
                pos_t, pos_a = _advance(event, pos_t, pos_a)
                await self._send(resp, "tiket", event.data(), pos_t, pos_a)
        except (ConnectionResetError, asyncio.CancelledError):
            pass  # the browser went away, or the server stops
        with contextlib.suppress(ConnectionResetError, RuntimeError):
            await resp.write_eof()
        return resp

    @staticmethod
    async def _send(resp: web.StreamResponse, name: str, data: str, pos_t: int, pos_a: int) -> None:
        await resp.write(f"id: {pos_t}.{pos_a}\nevent: {name}\ndata: {data}\n\n".encode())

    async def _still_logged_in(self, cookie: str) -> bool:
        try:
            async with self.api.store.session() as session:
                return await users.resolve_session(session, cookie) is not None
        except Exception:  # noqa: BLE001 (the store is briefly away: keep the stream, check next time)
            return True


def _advance(event: Event, pos_t: int, pos_a: int) -> tuple[int, int]:
    return (max(pos_t, event.id), pos_a) if event.source == "t" else (pos_t, max(pos_a, event.id))


OPENAPI_PATH: dict[str, Any] = {"get": {
    "summary": "live queue updates as server-sent events (never ends by itself; not for property-based fuzzing)",
    "tags": ["tickets"], "x-streaming": True,
    "parameters": [
        {"name": "Last-Event-ID", "in": "header", "required": False, "schema": {"type": "string",
         "pattern": "^[0-9]+\\.[0-9]+$"}, "description": "the id of the last event received: what was missed is sent"},
        {"name": "last", "in": "query", "required": False, "schema": {"type": "string"},
         "description": "the same as Last-Event-ID, for a client that cannot set headers"}],
    "responses": {
        "200": {"description": "text/event-stream: `siap` (connected), `tiket` (JSON: type, ref, agency, kind, status, "
                               "assigned_to, actor), `reset` (reload the queue), `keluar` (the session ended); "
                               "a `: ping` comment every heartbeat",
                # each event as schemathesis and other SSE-aware tools read it: its fields, data as text
                "content": {"text/event-stream": {"schema": {
                    "type": "object", "properties": {"id": {"type": "string"}, "event": {"type": "string"},
                                                     "data": {"type": "string"}, "retry": {"type": "integer"}}}}}},
        "401": {"description": "no valid token or session",
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
        "429": {"description": "too many streams for this person (Error), or too many requests from this address "
                               "(the rate limiter's Problem)",
                "content": {"application/json": {"schema": {"anyOf": [{"$ref": "#/components/schemas/Error"},
                                                                      {"$ref": "#/components/schemas/Problem"}]}}}},
        "503": {"description": "the server is stopping or holds too many streams",
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}}}}


def routes(api: Any, accounts: Any, wrap: Any) -> list[web.RouteDef]:
    """The event stream's route; its handler carries ``on_shutdown`` (the hub's close) for the app."""
    hub = Hub(api.store)
    handler = wrap(Stream(api, hub).events, accounts)
    handler.on_shutdown = hub.close
    handler.hub = hub
    return [web.get("/api/v1/events", handler)]
