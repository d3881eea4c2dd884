"""Run a daemon-like object until SIGTERM/SIGINT asks it to stop, then stop it gracefully.

The daemon, the router process and each HTTP worker process share this block. It lives in a module that
imports nothing of the project, so any of them can use it without an import cycle.
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Awaitable, Callable
from typing import Protocol


class Stoppable(Protocol):
    def request_stop(self) -> None: ...

    async def start(self) -> None: ...

    async def wait(self) -> None: ...

    async def stop(self) -> None: ...


async def serve_until_signalled(daemon: Stoppable, on_started: Callable[[], object] | None = None) -> None:
    """Start ``daemon``, call ``on_started`` once it runs, wait until a signal (or the daemon itself) asks it to
    stop, and stop it — also when starting or running fails."""
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, daemon.request_stop)
    try:
        await daemon.start()
        if on_started is not None:
            result = on_started()
            if isinstance(result, Awaitable):
                await result
        await daemon.wait()
    finally:
        await daemon.stop()
