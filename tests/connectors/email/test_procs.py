"""A worker killed while it writes its result must not hang the process pool (CPython leaves it stuck)."""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import signal
import struct
import sys
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

import pytest

from connectors.email import procs as mail_procs


def half_written_then_killed() -> None:
    """In the worker: the start of a 1 MB result on the result pipe, then SIGKILL (the OOM killer's timing)."""
    frame = sys._getframe()
    while frame is not None and "result_queue" not in frame.f_locals:
        frame = frame.f_back
    writer = frame.f_locals["result_queue"]._writer
    os.write(writer.fileno(), struct.pack("!i", 1_000_000) + b"x" * 100)
    os.kill(os.getpid(), signal.SIGKILL)


def square(n: int) -> int:
    return n * n


async def test_a_worker_killed_mid_result_gives_broken_pool_not_a_hang():
    pool = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"))
    try:
        assert await mail_procs.gather(pool, [(square, (3,)), (square, (4,))]) == [9, 16]
        manager = pool._executor_manager_thread
        with pytest.raises(BrokenProcessPool):
            await asyncio.wait_for(mail_procs.gather(pool, [(half_written_then_killed, ())]), 60)
        await asyncio.to_thread(manager.join, 30)
        assert not manager.is_alive(), "the executor's manager thread is still stuck (it would hang exit)"
    finally:
        mail_procs.retire(pool, stop_work=True)


async def test_without_the_watch_the_pool_hangs(monkeypatch):
    """The failure mode itself, so the test above cannot pass for a wrong reason."""
    monkeypatch.setattr(mail_procs, "unstick", lambda pool: None)
    pool = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"))
    try:
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(mail_procs.gather(pool, [(half_written_then_killed, ())]), 3)
    finally:
        monkeypatch.undo()
        mail_procs.unstick(pool)  # let the stuck thread go, or the test process would hang at exit
        mail_procs.retire(pool, stop_work=True)
