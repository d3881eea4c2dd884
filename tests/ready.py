"""A daemon's /readyz, read and waited for: shared by the tests that start a daemon and by bench/."""

from __future__ import annotations

import asyncio
import subprocess
import time
from pathlib import Path

import aiohttp

# a daemon still starting may take a moment to answer: a slow answer is one more try, not a failure
ANSWER_TIMEOUT = aiohttp.ClientTimeout(total=2)


async def readyz(base: str, http: aiohttp.ClientSession | None = None) -> dict:
    """/readyz's body whatever its status (it answers 503 with the same body while a connector is not ready)."""
    if http is None:
        async with aiohttp.ClientSession() as own:
            return await readyz(base, own)
    async with http.get(f"{base}/readyz") as resp:
        return await resp.json()


async def ready_body(http: aiohttp.ClientSession, base: str) -> dict | None:
    """/readyz's body once it answers 200; None while it answers otherwise or not at all."""
    try:
        async with http.get(f"{base}/readyz", timeout=ANSWER_TIMEOUT) as resp:
            return await resp.json() if resp.status == 200 else None
    except (aiohttp.ClientError, TimeoutError):
        return None


async def wait_ready(base: str, proc: subprocess.Popen | None = None, *, timeout: float = 60,
                     log: Path | None = None, name: str = "the daemon") -> dict:
    """Poll /readyz until it answers 200 and return its body.

    Fails at once if ``proc`` exits, and after ``timeout`` seconds; either message ends with the tail of ``log``.
    """
    deadline = time.monotonic() + timeout
    async with aiohttp.ClientSession() as http:
        while True:
            if proc is not None and proc.poll() is not None:
                raise AssertionError(f"{name} exited with {proc.returncode} during start-up{_tail(log)}")
            body = await ready_body(http, base)
            if body is not None:
                return body
            if time.monotonic() >= deadline:
                raise AssertionError(f"{name} ({base}) not ready after {timeout:g}s{_tail(log)}")
            await asyncio.sleep(0.1)


def _tail(log: Path | None) -> str:
    return f":\n{log.read_text(errors='replace')[-3000:]}" if log is not None and log.exists() else ""
