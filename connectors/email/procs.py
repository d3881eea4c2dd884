"""Running work in a ``ProcessPoolExecutor`` that survives its workers' deaths and our cancellations.

CPython 3.11's executor has two ways to hang the process when a worker dies, both seen in our tests:

- A worker killed (SIGKILL, the OOM killer) in the middle of writing a result leaves the executor's
  manager thread blocked for ever in ``recv`` on the half-written message: the futures never complete
  and no ``BrokenProcessPool`` is raised. ``gather`` watches for a dead worker while results are
  pending and then completes the half message with zero bytes (``unstick``): ``recv`` fails to
  unpickle, which is the path on which the executor marks itself broken, fails the futures with
  ``BrokenProcessPool``, terminates the other workers and closes its queues.
- When the pool breaks, the manager thread's ``terminate_broken`` calls ``set_exception`` on every
  pending future. A future somebody cancelled meanwhile (``Future.cancel``, or ``shutdown(cancel_futures=
  True)``, both racing the manager) raises ``InvalidStateError`` there, the manager thread dies before it
  closes the call queue, the queue's feeder thread stays blocked on a pipe no worker reads, and the
  interpreter waits for that thread at exit for ever. So **nothing here ever cancels a future of the
  pool**: ``gather`` hands results to asyncio through futures of its own (cancelling those is harmless),
  and ``retire`` shuts a pool down without ``cancel_futures``; unwanted pending work is stopped by
  terminating the workers instead, which fails those futures through the executor's own path. As a
  last guard ``retire`` also tells the call queue not to be waited for at exit (``cancel_join_thread``):
  a retired pool's queued calls are never needed.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
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


def _feed_zeros(manager: threading.Thread, result_queue: Any) -> threading.Thread | None:
    """Feed zero bytes into a result pipe until ``manager`` has ended (in a daemon thread)."""
    if manager is None or result_queue is None or not manager.is_alive():
        return None
    try:
        fd = result_queue._writer.fileno()
    except (OSError, ValueError):  # already closed: the manager is past reading it
        return None

    def feed() -> None:
        try:
            os.set_blocking(fd, False)  # never block on a full pipe nobody reads any more
        except OSError:
            return
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


def unstick(pool: ProcessPoolExecutor) -> threading.Thread | None:
    """Make ``pool``'s manager thread give up a half-written result (see the module's docstring)."""
    return _feed_zeros(getattr(pool, "_executor_manager_thread", None), getattr(pool, "_result_queue", None))


def _bridge(loop: asyncio.AbstractEventLoop, source: concurrent.futures.Future) -> asyncio.Future:
    """An asyncio future that takes ``source``'s outcome; cancelling it leaves ``source`` alone."""
    target = loop.create_future()

    def settle() -> None:
        if target.done():  # the waiter gave up (cancelled): nobody wants the outcome
            return
        exc = source.exception()
        if exc is not None:
            target.set_exception(exc)
        else:
            target.set_result(source.result())

    def copy(_: concurrent.futures.Future) -> None:
        try:
            loop.call_soon_threadsafe(target.cancel if source.cancelled() else settle)
        except RuntimeError:  # the loop is closed: nobody waits any more
            pass

    source.add_done_callback(copy)
    return target


async def gather(pool: ProcessPoolExecutor, calls: list[tuple[Callable[..., Any], tuple[Any, ...]]]) -> list[Any]:
    """Run ``fn(*args)`` for each call in ``pool``; results in order, or the first exception raised.

    If the caller is cancelled (a connector stopping), the pool's calls are left to finish or to fail
    with the pool: their outcomes are dropped, never cancelled (see the module's docstring)."""
    loop = asyncio.get_running_loop()
    futures = [_bridge(loop, pool.submit(fn, *args)) for fn, args in calls]
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
            if not f.done():
                f.cancel()  # ours only: the pool's future goes on and its outcome is dropped
            elif not f.cancelled():
                f.exception()  # retrieved: asyncio would log the ones we did not raise


def retire(pool: ProcessPoolExecutor, *, stop_work: bool) -> None:
    """Let go of ``pool`` without waiting for it and without cancelling any of its futures.

    With ``stop_work`` and calls still queued or running, the workers are terminated: the executor then
    fails those calls itself (``BrokenProcessPool``, to nobody) and ends its manager thread; a worker
    terminated while writing its result is dealt with like a killed one. Otherwise the workers finish
    what they hold and exit on their own."""
    processes = list((getattr(pool, "_processes", None) or {}).values())
    pending = bool(getattr(pool, "_pending_work_items", None))
    call_queue = getattr(pool, "_call_queue", None)
    manager = getattr(pool, "_executor_manager_thread", None)
    result_queue = getattr(pool, "_result_queue", None)
    pool.shutdown(wait=False)
    if call_queue is not None:
        call_queue.cancel_join_thread()  # exit never waits on its feeder thread
    if stop_work and pending:
        for process in processes:
            if process.is_alive():
                process.terminate()
        _watch_retired(manager, result_queue, processes)


def _watch_retired(manager: threading.Thread | None, result_queue: Any, processes: list) -> None:
    """Once the terminated workers are gone, make sure the manager is not stuck on a half result."""
    if manager is None or not manager.is_alive():
        return

    def watch() -> None:
        deadline = time.monotonic() + 10
        while any(p.exitcode is None for p in processes) and time.monotonic() < deadline:
            time.sleep(0.05)
        manager.join(CHECK_EVERY)
        if manager.is_alive():
            _feed_zeros(manager, result_queue)

    threading.Thread(target=watch, name="pool-retire", daemon=True).start()


class PoolOwner:
    """What owns a ``ProcessPoolExecutor`` that may be thrown away (a dead worker) or closed for good."""

    _pool: ProcessPoolExecutor | None = None
    _closed: bool = False

    def _discard(self, stop_work: bool = False) -> None:
        """Drop the pool without waiting; the next use starts fresh processes."""
        pool, self._pool = self._pool, None
        if pool is not None:
            retire(pool, stop_work=stop_work)

    def close(self) -> None:
        """Stop the processes now, with whatever they hold (nobody waits for it any more): a connector
        stops within its deadline even while a worker is busy or blocked. Later work is done without them."""
        self._closed = True
        self._discard(stop_work=True)
