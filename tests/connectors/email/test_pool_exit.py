"""A process pool whose worker dies while its caller gives up must never keep the process from exiting.

CPython's executor dies in its manager thread when a future it is about to fail was cancelled
(``InvalidStateError`` in ``terminate_broken``), and the interpreter then waits for ever on the call
queue's feeder thread at exit. Each scenario runs in a subprocess that must end within seconds.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.conftest import REPO

ROOT = REPO

PRELUDE = """
import asyncio, multiprocessing, os, signal, sys, time
from concurrent.futures import ProcessPoolExecutor
from connectors.email import procs as mail_procs

BIG = b"x" * 1_000_000  # a call larger than a pipe holds: its feeder thread blocks until a worker reads

def nap(seconds, payload=b""):
    time.sleep(seconds)
    return seconds

def new_pool():
    return ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"))

def kill_workers(pool):
    for pid in list(pool._processes):
        os.kill(pid, signal.SIGKILL)
"""

# The caller gives up (its task is cancelled) while calls wait in the pool, then the worker is killed:
# with the pool's own futures cancelled, the manager thread would die on the first of them.
CALLER_CANCELLED_THEN_WORKER_KILLED = PRELUDE + """
async def main():
    pool = new_pool()
    await mail_procs.gather(pool, [(nap, (0,))])                  # the worker is up
    task = asyncio.create_task(mail_procs.gather(pool, [(nap, (0.5, BIG))] + [(nap, (0, BIG))] * 20))
    await asyncio.sleep(0.2)                                      # the first call runs, the rest wait
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    kill_workers(pool)                                            # as the OOM killer would
    await asyncio.sleep(1.5)
    mail_procs.PoolOwner._discard(type("O", (mail_procs.PoolOwner,), {"_pool": pool})())
    print("done", flush=True)

if __name__ == "__main__":
    asyncio.run(main())
"""

# The same race the naive way (``run_in_executor`` + cancel, as the code did before): the test's control.
NAIVE = PRELUDE + """
async def main():
    pool = new_pool()
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(pool, nap, 0)
    futures = [loop.run_in_executor(pool, nap, 0.5, BIG)] + [loop.run_in_executor(pool, nap, 0, BIG) for _ in range(20)]
    await asyncio.sleep(0.2)
    for f in futures:
        f.cancel()
    kill_workers(pool)
    await asyncio.sleep(1.5)
    pool.shutdown(wait=False)
    print("done", flush=True)

if __name__ == "__main__":
    asyncio.run(main())
"""

# A worker killed in the middle of a batch while the caller is cancelled at the same moment, many times
# over with the pool discarded as the connectors do, and the owner closed with calls still queued.
KILLED_MID_BATCH_WHILE_CANCELLED = PRELUDE + """
class Owner(mail_procs.PoolOwner):
    def pool(self):
        if self._pool is None:
            self._pool = new_pool()
        return self._pool

async def main():
    owner = Owner()
    for round in range(int(sys.argv[1])):
        pool = owner.pool()
        await mail_procs.gather(pool, [(nap, (0,))])
        task = asyncio.create_task(mail_procs.gather(pool, [(nap, (0.01, BIG))] * 60))
        await asyncio.sleep(0.05 + (round % 5) * 0.01)
        kill_workers(pool)
        if round % 2:
            task.cancel()
        try:
            await task
        except BaseException:
            pass
        owner._discard()
    pool = owner.pool()                                            # closing with work still queued
    task = asyncio.create_task(mail_procs.gather(pool, [(nap, (0.2, BIG))] * 30))
    await asyncio.sleep(0.5)
    task.cancel()
    owner.close()
    await asyncio.gather(task, return_exceptions=True)
    print("done", flush=True)

if __name__ == "__main__":
    asyncio.run(main())
"""


def run(tmp_path: Path, script: str, *args: str, timeout: float) -> subprocess.CompletedProcess:
    """``script`` as a file (spawned workers import their functions from it), in its own interpreter."""
    path = tmp_path / "scenario.py"
    path.write_text(textwrap.dedent(script))
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONFAULTHANDLER": "1"}
    return subprocess.run([sys.executable, str(path), *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=timeout)


def assert_clean_exit(proc: subprocess.CompletedProcess) -> None:
    assert proc.returncode == 0, proc.stderr
    assert "done" in proc.stdout
    assert "Exception in thread" not in proc.stderr, proc.stderr
    assert "InvalidStateError" not in proc.stderr, proc.stderr


def test_a_caller_cancelled_before_its_worker_dies_leaves_a_process_that_exits(tmp_path):
    assert_clean_exit(run(tmp_path, CALLER_CANCELLED_THEN_WORKER_KILLED, timeout=30))


def test_the_naive_way_hangs_at_exit(tmp_path):
    """The failure itself, so the test above cannot pass for a wrong reason."""
    with pytest.raises(subprocess.TimeoutExpired) as hung:
        run(tmp_path, NAIVE, timeout=15)
    out = hung.value.stderr or b""
    assert b"InvalidStateError" in (out if isinstance(out, bytes) else out.encode())


def test_workers_killed_mid_batch_with_callers_cancelled_never_hang_exit(tmp_path):
    assert_clean_exit(run(tmp_path, KILLED_MID_BATCH_WHILE_CANCELLED, "12", timeout=120))
