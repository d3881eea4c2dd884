"""serve_until_signalled: the one start/wait/stop block of the daemon, the router process and the HTTP workers."""

from __future__ import annotations

import asyncio
import os
import signal

import pytest

from omnichannel.lifecycle import serve_until_signalled


class Fake:
    def __init__(self, fail_start: bool = False) -> None:
        self.calls: list[str] = []
        self.fail_start = fail_start
        self._stop = asyncio.Event()

    def request_stop(self) -> None:
        self.calls.append("request_stop")
        self._stop.set()

    async def start(self) -> None:
        self.calls.append("start")
        if self.fail_start:
            raise RuntimeError("port taken")

    async def wait(self) -> None:
        await self._stop.wait()

    async def stop(self) -> None:
        self.calls.append("stop")


async def test_sigterm_stops_gracefully_after_the_started_callback() -> None:
    fake = Fake()
    started: list[bool] = []

    def on_started() -> None:
        started.append(True)
        asyncio.get_running_loop().call_soon(os.kill, os.getpid(), signal.SIGTERM)

    await asyncio.wait_for(serve_until_signalled(fake, on_started=on_started), 5)
    assert started == [True]
    assert fake.calls == ["start", "request_stop", "stop"]


async def test_a_failed_start_is_still_stopped_and_the_error_surfaces() -> None:
    fake = Fake(fail_start=True)
    with pytest.raises(RuntimeError, match="port taken"):
        await serve_until_signalled(fake)
    assert fake.calls == ["start", "stop"]


async def test_an_async_started_callback_is_awaited() -> None:
    fake = Fake()
    seen: list[str] = []

    async def on_started() -> None:
        seen.append("awaited")
        fake.request_stop()

    await asyncio.wait_for(serve_until_signalled(fake, on_started=on_started), 5)
    assert seen == ["awaited"]
    assert fake.calls == ["start", "request_stop", "stop"]
