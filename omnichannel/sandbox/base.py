"""What every sandbox shares: listen on a loopback port, an optional client session, stop in reverse;
and what the Meta sandboxes (WhatsApp, Facebook and Instagram) share: a webhook delivery signed as Meta signs it.

A sandbox subclasses ``SandboxServer``, adds its routes in ``routes(app)``, and may release its own
resources (a webhook sender task) in ``before_stop``. A restart after ``stop()`` keeps the port, so a
client configured with ``base_url`` reconnects to the same place.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import signal
from collections.abc import Callable, Sequence
from typing import Any, Self

import aiohttp
from aiohttp import web


class SandboxServer:
    """An in-process aiohttp server with ``start()``/``stop()``, ``base_url`` and ``async with``."""

    client_max_size = 1024 * 1024
    shutdown_timeout = 60.0
    # seconds for the sandbox's own outgoing calls (webhook deliveries); None: the sandbox makes none
    client_timeout: float | None = None

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.host, self.port = host, port
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None

    def routes(self, app: web.Application) -> None:
        """Add the sandbox's API and control routes to ``app``."""
        raise NotImplementedError

    async def before_stop(self) -> None:
        """Release what the sandbox started besides the server (called first by ``stop``)."""

    async def start(self) -> Self:
        """Listen on ``host:port`` (port 0 picks a free one, kept for a later restart)."""
        app = web.Application(client_max_size=self.client_max_size)
        self.routes(app)
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=self.shutdown_timeout)
        await runner.setup()
        site = web.TCPSite(runner, self.host, self.port)
        try:
            await site.start()
        except BaseException:
            await runner.cleanup()
            raise
        self._runner = runner
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        if self.client_timeout is not None:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self.client_timeout))
        return self

    async def stop(self) -> None:
        """Stop the sandbox's own work, close its client session, then the server; safe to call twice."""
        await self.before_stop()
        if self._session is not None:
            await self._session.close()
            self._session = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Self:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def base_url(self) -> str:
        """``http://host:port`` — where a client configured for this sandbox points."""
        return f"http://{self.host}:{self.port}"


async def serve_until_signal(sandboxes: Sequence[SandboxServer], started: Callable[[], None] | None = None) -> None:
    """Start ``sandboxes`` in order, call ``started``, wait for SIGINT/SIGTERM, stop them in reverse."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    running: list[SandboxServer] = []
    try:
        for sandbox in sandboxes:
            await sandbox.start()
            running.append(sandbox)
        if started is not None:
            started()
        await stop.wait()
    finally:
        for sandbox in reversed(running):
            await sandbox.stop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)


def sign(body: bytes, app_secret: str) -> str:
    """The ``X-Hub-Signature-256`` header value for ``body``: how Meta signs every webhook delivery."""
    return "sha256=" + hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()


class MetaWebhookSender:
    """The body and headers of a delivery as Meta posts them, signed with ``app_secret`` (every Meta sandbox)."""

    app_secret: str
    # WhatsApp still sends the older SHA-1 ``X-Hub-Signature`` beside the SHA-256 one
    legacy_sha1_signature = False

    def body(self, payload: dict[str, Any] | bytes) -> bytes:
        """The raw body Meta would post (compact JSON)."""
        return payload if isinstance(payload, bytes) else json.dumps(payload, separators=(",", ":")).encode()

    def headers(self, body: bytes, signature: str | None = "auto") -> dict[str, str]:
        """Headers of a delivery; ``signature=None`` omits it, any other string replaces it."""
        headers = {"Content-Type": "application/json", "User-Agent": "facebookexternalua"}
        if signature == "auto":
            headers["X-Hub-Signature-256"] = sign(body, self.app_secret)
            if self.legacy_sha1_signature:
                headers["X-Hub-Signature"] = "sha1=" + hmac.new(self.app_secret.encode(), body, hashlib.sha1).hexdigest()
        elif signature is not None:
            headers["X-Hub-Signature-256"] = signature
        return headers
