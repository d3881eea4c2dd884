"""HTTP worker processes: the intake on cores of its own.

One Python process answers HTTP on one core at most (the GIL), and in the daemon that core is
shared with the router. With ``http.workers: N`` the daemon (the *primary*) starts N worker
processes that listen on ``http.host:http.port`` with ``SO_REUSEPORT`` (the kernel spreads new
connections across them); the primary only holds the port (bound, never listening), so its core is
left to the router, the dispatcher, the pull connectors and the scheduler.

A worker runs the push connectors (web form, webhook channels) itself: it validates, stores
through its own group committer and answers after the commit, exactly as the primary would. Every
other request (``/metrics``, ``/readyz``, the officer API and pages, pull connectors' and
forwarders' webhooks) is passed to the primary over a loopback port that only the primary listens
on, so health and metrics describe the whole daemon. After each commit the worker tells the
primary what it stored (metrics, and the router's wake-up). A worker stops with the primary
(SIGTERM drains its requests), and also when the primary dies (PR_SET_PDEATHSIG); the primary
restarts a worker that died.

On SQLite, write transactions of all processes take turns through an ``flock`` on a file next to
the database and begin with ``BEGIN IMMEDIATE`` (see ``Store``), so no transaction fails on a
snapshot another process moved.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import signal
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import TYPE_CHECKING, Any, Protocol

from aiohttp import ClientError, ClientSession, ClientTimeout, TCPConnector, web

from omnichannel.lifecycle import serve_until_signalled
from omnichannel.types import EnvelopeResult, IngestResult
from omnichannel.web.limits import limiter

if TYPE_CHECKING:  # pragma: no cover
    from omnichannel.config import Config


class Primary(Protocol):
    """What the pool needs of the daemon that owns it (``omnichannel.daemon.Daemon``; a protocol, so
    this module does not import the daemon that imports it)."""

    config: Config

    def _stored(self, connector: str, result: IngestResult, here: bool = True) -> None: ...

log = logging.getLogger(__name__)

# request and response headers a proxy must not pass on (RFC 9110 section 7.6.1, plus the recomputed ones)
_HOP = {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailer",
        "transfer-encoding", "upgrade", "host", "content-length"}


@dataclass
class WorkerHandle:
    """The primary's view of one worker process."""

    index: int
    process: Any
    pipe: Connection
    state: str = "starting"
    restarts: int = 0
    started: float = 0.0  # loop time of the spawn
    retry_at: float = 0.0  # a worker that keeps dying at start is restarted with backoff, not in a loop
    delay: float = 0.0  # the backoff waited before the latest restart


@dataclass
class WorkerPool:
    """Starts, watches and stops the worker processes of a primary daemon."""

    daemon: Primary
    internal_url: str
    port: int
    handles: dict[int, WorkerHandle] = field(default_factory=dict)
    _stopping: bool = False
    _ready: dict[int, asyncio.Event] = field(default_factory=dict)
    _watch: asyncio.Task[None] | None = None
    watch_interval: float = 1.0
    young: float = 30.0  # a worker that dies within this many seconds of its start is restarted with backoff
    backoff: float = 2.0  # first delay; doubles per young death, up to max_backoff
    max_backoff: float = 60.0

    async def start(self, count: int, ready_timeout: float = 60.0) -> None:
        """Start ``count`` workers and wait (up to ``ready_timeout``) until each listens."""
        for index in range(1, count + 1):
            self._spawn(index)
        waits = [asyncio.wait_for(event.wait(), ready_timeout) for event in self._ready.values()]
        for index, outcome in zip(list(self._ready), await asyncio.gather(*waits, return_exceptions=True),
                                  strict=True):
            if isinstance(outcome, BaseException):
                log.error("http worker %d did not become ready within %.0fs", index, ready_timeout)
        self._watch = asyncio.create_task(self._watch_loop(), name="http-workers")

    def _spawn(self, index: int) -> None:
        ctx = multiprocessing.get_context("spawn")
        ours, theirs = ctx.Pipe(duplex=False)
        config = worker_config(self.daemon.config, self.port)
        # the worker runs a daemon of the primary's own class (passed by reference, not imported here)
        process = ctx.Process(target=worker_main, args=(type(self.daemon), config, index, self.internal_url, theirs),
                              name=f"omnichannel-http-{index}", daemon=False)
        process.start()
        theirs.close()
        old = self.handles.get(index)
        self.handles[index] = WorkerHandle(index, process, ours, restarts=old.restarts + 1 if old else 0,
                                           started=asyncio.get_running_loop().time(),
                                           delay=old.delay if old else 0.0)
        self._ready[index] = asyncio.Event()
        asyncio.get_running_loop().add_reader(ours.fileno(), self._on_message, index)

    def _on_message(self, index: int) -> None:
        handle = self.handles[index]
        try:
            message = handle.pipe.recv()
        except (EOFError, OSError):
            asyncio.get_running_loop().remove_reader(handle.pipe.fileno())
            return
        kind = message[0]
        if kind == "ready":
            handle.state = "running"
            self._ready[index].set()
        elif kind == "stored":
            _, connector, counts = message
            result = IngestResult([EnvelopeResult("", new, outcome) for (new, outcome), n in counts for _ in range(n)])
            self.daemon._stored(connector, result, here=False)

    async def _watch_loop(self) -> None:
        loop = asyncio.get_running_loop()
        failures: dict[int, int] = {}
        while not self._stopping:
            await asyncio.sleep(self.watch_interval)
            for index, handle in list(self.handles.items()):
                if self._stopping or handle.process.is_alive():
                    continue
                now = loop.time()
                if handle.state != "exited":
                    young = now - handle.started < self.young  # died young: probably dies again at once
                    failures[index] = failures.get(index, 0) + 1 if young else 0
                    delay = min(self.max_backoff, self.backoff * 2 ** (failures[index] - 1)) if young else 0.0
                    log.error("http worker %d exited with status %s; starting it again%s", index,
                              handle.process.exitcode, f" in {delay:.0f}s" if delay else "")
                    self._close_pipe(handle)
                    handle.state, handle.retry_at, handle.delay = "exited", now + delay, delay
                if now >= handle.retry_at:
                    self._spawn(index)

    def _close_pipe(self, handle: WorkerHandle) -> None:
        try:
            asyncio.get_running_loop().remove_reader(handle.pipe.fileno())
        except (ValueError, OSError):
            pass
        handle.pipe.close()

    def health(self) -> dict[str, Any]:
        """``/readyz``'s view: each worker's state, pid and restarts."""
        return {str(i): {"state": h.state if h.process.is_alive() else "exited", "pid": h.process.pid,
                         "restarts": h.restarts, "restart_delay": h.delay} for i, h in self.handles.items()}

    async def stop(self, deadline: float) -> None:
        """SIGTERM every worker (they drain their requests), wait up to ``deadline``, then kill."""
        self._stopping = True
        if self._watch is not None:
            self._watch.cancel()
        for handle in self.handles.values():
            if handle.process.is_alive():
                os.kill(handle.process.pid, signal.SIGTERM)
        loop = asyncio.get_running_loop()
        end = loop.time() + deadline
        for handle in self.handles.values():
            await asyncio.to_thread(handle.process.join, max(0.0, end - loop.time()))
            if handle.process.is_alive():
                log.warning("http worker %d did not stop within the deadline; killing it", handle.index)
                handle.process.kill()
            handle.process.join(timeout=5)
            self._close_pipe(handle)


def worker_config(config: Config, port: int) -> Config:
    """The primary's config as a worker runs it: intake only, the primary's real port, no migrations."""
    return config.model_copy(update={
        "http": config.http.model_copy(update={"port": port}),
        "daemon": config.daemon.model_copy(update={"route": False, "dispatch": False}),
        "store": config.store.model_copy(update={"migrate_on_start": False}),
    })


class Proxy:
    """Passes a request on to the primary and its answer back (bodies here are small and bounded)."""

    def __init__(self, primary: str) -> None:
        self.primary = primary
        self._session: ClientSession | None = None
        self._streams: set[Any] = set()

    async def forward(self, request: web.Request) -> web.StreamResponse:
        """The catch-all route of a worker."""
        if self._session is None:
            self._session = ClientSession(connector=TCPConnector(limit=64), auto_decompress=False,
                                          timeout=ClientTimeout(total=120))
        headers = {k: v for k, v in request.headers.items() if k.lower() not in _HOP}
        rate = limiter(request)  # the client as this worker sees it (a trusted proxy's X-Forwarded-For too)
        headers["X-Forwarded-For"] = rate.client(request) if rate is not None else (request.remote or "")
        headers["X-Forwarded-Host"] = request.host
        body = await request.read()
        streams = request.headers.get("Accept", "").startswith("text/event-stream")
        timeout = ClientTimeout(total=None, sock_read=None) if streams else None
        async with self._session.request(request.method, self.primary + str(request.rel_url), headers=headers,
                                         data=body or None, allow_redirects=False,
                                         **({"timeout": timeout} if timeout else {})) as answer:
            out = {k: v for k, v in answer.headers.items() if k.lower() not in _HOP}
            if answer.content_type == "text/event-stream":  # the desk's live updates: passed on as they come
                return await self._stream(request, answer, out)
            payload = await answer.read()
            return web.Response(status=answer.status, body=payload, headers=out)

    async def _stream(self, request: web.Request, answer: Any, headers: dict[str, str]) -> web.StreamResponse:
        resp = web.StreamResponse(status=answer.status, headers=headers)
        await resp.prepare(request)
        self._streams.add(answer)
        try:
            while chunk := await answer.content.readany():
                await resp.write(chunk)
        except (ConnectionResetError, ClientError):
            pass  # the browser or the primary went away; the browser reconnects (Last-Event-ID)
        finally:
            self._streams.discard(answer)
        return resp

    async def end_streams(self, _app: web.Application | None = None) -> None:
        """End every passed-on event stream (the app's shutdown: a worker's SIGTERM must not wait for them)."""
        for answer in list(self._streams):
            answer.close()

    async def close(self, _app: web.Application | None = None) -> None:
        """Close the connection pool to the primary (the app's cleanup)."""
        if self._session is not None:
            await self._session.close()


def _stop_with_parent() -> None:
    """Ask Linux for a SIGTERM when the primary dies (prctl PR_SET_PDEATHSIG); elsewhere a no-op."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGTERM, 0, 0, 0)  # 1 = PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        return
    if os.getppid() == 1:  # the primary died before prctl: stop now
        os.kill(os.getpid(), signal.SIGTERM)


def worker_main(daemon_cls: type, config: Config, index: int, primary: str, pipe: Connection) -> None:
    """Entry point of a worker process (``multiprocessing`` spawn)."""
    from omnichannel.logs import setup_logging

    setup_logging(config.logging.level, config.logging.format)
    try:
        import uvloop
    except ImportError:
        asyncio.run(_serve(daemon_cls, config, index, primary, pipe))
    else:
        uvloop.run(_serve(daemon_cls, config, index, primary, pipe))


async def _serve(daemon_cls: type, config: Config, index: int, primary: str, pipe: Connection) -> None:
    _stop_with_parent()
    daemon = daemon_cls(config, replica_id=f"{config.daemon.replica_id or 'http'}-worker{index}",
                    worker=(index, primary, pipe))
    try:
        await serve_until_signalled(daemon, on_started=lambda: pipe.send(("ready", index)))
    finally:
        pipe.close()
