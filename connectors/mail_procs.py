"""Waiting on a ``ProcessPoolExecutor`` without hanging when one of its processes is killed.

CPython's executor notices a dead worker through the process sentinel, but only while its manager
thread is waiting. A worker killed (SIGKILL, the OOM killer) in the middle of writing a result leaves
the manager thread blocked for ever in ``recv`` on the half-written message: the futures never
complete and no ``BrokenProcessPool`` is raised (seen in the kill-mid-batch test, about one run in
ten). ``gather`` waits for the futures and, when it sees a worker that died while they are pending,
completes the half message with zero bytes: the manager's ``recv`` then fails to unpickle, which is
the path on which the executor marks itself broken, fails the futures with ``BrokenProcessPool``,
terminates the other workers and closes its queues, exactly as for a death it had noticed itself.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from typing import Any

log = logging.getLogger(__name__)
CHECK_EVERY = 0.5  # seconds between looks at the workers while results are pending


def died(pool: ProcessPoolExecutor) -> bool:
    """True when a worker process of ``pool`` ended abnormally (killed or crashed; 0 is a normal stop)."""
    processes = getattr(pool, "_processes", None) or {}
    return any(p.exitcode not in (None, 0) for p in list(processes.values()))


def unstick(pool: ProcessPoolExecutor) -> threading.Thread | None:
    """Feed zero bytes into ``pool``'s result pipe until its manager thread has ended (in a thread)."""
    manager = getattr(pool, "_executor_manager_thread", None)
    queue = getattr(pool, "_result_queue", None)
    if manager is None or queue is None or not manager.is_alive():
        return None
    fd = queue._writer.fileno()

    def feed() -> None:
        os.set_blocking(fd, False)  # never block on a full pipe nobody reads any more
        chunk = b"\0" * 65536
        deadline = time.monotonic() + 30
        while manager.is_alive() and time.monotonic() < deadline:
            try:
                os.write(fd, chunk)
            except BlockingIOError:
                time.sleep(0.01)
            except OSError:
                return

    thread = threading.Thread(target=feed, name="pool-unstick", daemon=True)
    thread.start()
    return thread


async def gather(pool: ProcessPoolExecutor, calls: list[tuple[Callable[..., Any], tuple[Any, ...]]]) -> list[Any]:
    """Run ``fn(*args)`` for each call in ``pool``; results in order, or the first exception raised."""
    loop = asyncio.get_running_loop()
    futures = [loop.run_in_executor(pool, fn, *args) for fn, args in calls]
    unstuck = False
    try:
        while True:
            done, pending = await asyncio.wait(futures, timeout=CHECK_EVERY, return_when=asyncio.FIRST_EXCEPTION)
            if not pending or any(not f.cancelled() and f.exception() is not None for f in done):
                return [f.result() for f in futures]
            if not unstuck and died(pool):
                # give the executor a moment to notice by itself, then make sure it does
                await asyncio.wait(futures, timeout=CHECK_EVERY, return_when=asyncio.FIRST_EXCEPTION)
                if any(not f.done() for f in futures):
                    log.warning("a worker process died while its result was being written; "
                                "making the process pool report it")
                    unstick(pool)
                    unstuck = True
    finally:
        for f in futures:
            f.cancel()


class PoolOwner:
    """What owns a ``ProcessPoolExecutor`` that may be thrown away (a dead worker) or closed for good."""

    _pool: ProcessPoolExecutor | None = None
    _closed: bool = False

    def _discard(self) -> None:
        """Drop the pool without waiting; the next use starts fresh processes."""
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)

    def close(self) -> None:
        """Stop the processes (they finish the task at hand); later work is done without them."""
        self._closed = True
        self._discard()
