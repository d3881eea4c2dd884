"""The router in a process of its own (``daemon.route_process: true``): a core for routing beside the intake.

Routing is CPU work in Python: in the daemon's own process it shares one core (the GIL) with the pull
connectors' parsing and storing, so on a machine with two or more cores a mail-heavy daemon ingests
and routes at the *sum* of both costs per message. With ``daemon.route_process`` the daemon starts one
child process that only routes (the same ``RouterPipeline``, the same ``@router`` lease, fenced as in
any replica, under the daemon's replica name), and the daemon's process keeps the intake, the
dispatcher, the scheduler and HTTP. Decisions are those of the in-process router: one router routes
the stored complaints in arrival order either way; only where it runs differs.

The two talk over one pipe. After every commit of new envelopes the daemon sends ``wake`` (at most one
in flight: the router answers ``woken`` when it reads it, so a busy router never fills the pipe); the
router sends ``routed`` after each batch (the daemon counts it and wakes its dispatcher for the new
outbox rows) and its state (``running``, ``standby``, ``failing: …``) when it changes. The router stops
with the daemon (SIGTERM; PR_SET_PDEATHSIG if the daemon dies), and the daemon starts it again when it
dies. On SQLite the two processes' writes take turns as HTTP workers' do (``Store``'s ``flock``).
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import signal
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Any

from omnichannel.lifecycle import serve_until_signalled

log = logging.getLogger(__name__)


def router_config(config: Any) -> Any:
    """The daemon's config as its router process runs it: routing only, no migrations, no listening."""
    return config.model_copy(update={
        "daemon": config.daemon.model_copy(update={"route_process": False, "dispatch": False}),
        "store": config.store.model_copy(update={"migrate_on_start": False}),
        "http": config.http.model_copy(update={"enabled": False, "workers": 0}),
    })


class RouterProcess:
    """The daemon's side of its router process: start, wake, watch (restart when it dies), stop."""

    def __init__(self, daemon_cls: type, config: Any, replica_id: str,
                 on_routed: Callable[[int], None] | None = None,
                 on_state: Callable[[str, bool], None] | None = None) -> None:
        self.daemon_cls = daemon_cls
        self.config = router_config(config)
        self.replica_id = replica_id
        self.on_routed = on_routed
        self.on_state = on_state
        self.process: Any = None
        self.pipe: Connection | None = None
        self.state = "starting"
        self.held = False
        self.restarts = 0
        self.routed = 0
        self._wake_pending = False
        self._stopping = False
        self._watch: asyncio.Task[None] | None = None
        self.watch_interval = 1.0
        self._delay = 0.0

    async def start(self) -> None:
        """Start the router process (it rebuilds its dedup index from the store, then routes)."""
        self._spawn()
        self._watch = asyncio.create_task(self._watch_loop(), name="router-process")

    def _spawn(self) -> None:
        ctx = multiprocessing.get_context("spawn")
        ours, theirs = ctx.Pipe(duplex=True)
        self.process = ctx.Process(target=router_main, args=(self.daemon_cls, self.config, self.replica_id, theirs),
                                   name="omnichannel-router", daemon=False)
        self.process.start()
        theirs.close()
        self.pipe = ours
        self._wake_pending = False
        self._started = asyncio.get_running_loop().time()
        asyncio.get_running_loop().add_reader(ours.fileno(), self._on_message)
        self.wake()  # complaints stored while no router ran

    def wake(self) -> None:
        """New envelopes were committed: the router should look now (one wake in flight at most)."""
        if self._wake_pending or self.pipe is None or self._stopping:
            return
        try:
            self.pipe.send(("wake",))
            self._wake_pending = True
        except (OSError, ValueError):
            pass  # the router process is gone: the watch restarts it, and it looks at start

    def _on_message(self) -> None:
        assert self.pipe is not None
        try:
            message = self.pipe.recv()
        except (EOFError, OSError):
            self._close_pipe()
            return
        kind = message[0]
        if kind == "woken":
            self._wake_pending = False
        elif kind == "routed":
            self.routed += message[1]
            if self.on_routed is not None:
                self.on_routed(message[1])
        elif kind == "state":
            self.state, self.held = message[1], message[2]
            if self.on_state is not None:
                self.on_state(self.state, self.held)

    def _close_pipe(self) -> None:
        if self.pipe is None:
            return
        try:
            asyncio.get_running_loop().remove_reader(self.pipe.fileno())
        except (ValueError, OSError):
            pass
        self.pipe.close()
        self.pipe = None

    async def _watch_loop(self) -> None:
        loop = asyncio.get_running_loop()
        while not self._stopping:
            await asyncio.sleep(self.watch_interval)
            if self._stopping or self.process.is_alive():
                continue
            young = loop.time() - self._started < 30
            self._delay = min(60.0, max(2.0, self._delay * 2)) if young else 0.0
            log.error("router process exited with status %s; starting it again%s", self.process.exitcode,
                      f" in {self._delay:.0f}s" if self._delay else "")
            self._close_pipe()
            self.state, self.held = "exited", False
            if self.on_state is not None:
                self.on_state(self.state, self.held)
            await asyncio.sleep(self._delay)
            if not self._stopping:
                self.restarts += 1
                self._spawn()

    def health(self) -> dict[str, Any]:
        """``/readyz``'s view of the router process."""
        alive = self.process is not None and self.process.is_alive()
        return {"state": self.state if alive else "exited", "pid": self.process.pid if self.process else None,
                "restarts": self.restarts}

    async def stop(self, deadline: float) -> None:
        """SIGTERM the router (it finishes its batch and releases the lease), wait up to ``deadline``, then kill."""
        self._stopping = True
        if self._watch is not None:
            self._watch.cancel()
        if self.process is None:
            return
        if self.process.is_alive():
            os.kill(self.process.pid, signal.SIGTERM)
        await asyncio.to_thread(self.process.join, deadline)
        if self.process.is_alive():
            log.warning("router process did not stop within the deadline; killing it")
            self.process.kill()
            self.process.join(timeout=5)
        # what it said before it ended (its last batches) still counts
        while self.pipe is not None and self.pipe.poll():
            self._on_message()
        self._close_pipe()


def router_main(daemon_cls: type, config: Any, replica_id: str, pipe: Connection) -> None:
    """Entry point of the router process (``multiprocessing`` spawn)."""
    from omnichannel.logs import setup_logging

    setup_logging(config.logging.level, config.logging.format)
    asyncio.run(_route(daemon_cls, config, replica_id, pipe))


async def _route(daemon_cls: type, config: Any, replica_id: str, pipe: Connection) -> None:
    from omnichannel.web.workers import _stop_with_parent

    _stop_with_parent()
    try:
        await serve_until_signalled(daemon_cls(config, replica_id=replica_id, router_pipe=pipe))
    finally:
        pipe.close()
