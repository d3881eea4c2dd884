"""A webhook receiver that behaves as told and remembers which idempotency keys it accepted."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import random
from collections import Counter
from typing import Any

from aiohttp import web


class WebhookSink:
    """aiohttp server on 127.0.0.1; ``mode`` is ok | reject | throttle | fail | hang."""

    def __init__(self, secret: bytes | None = None, path: str = "/hook") -> None:
        self.secret = secret
        self.path = path
        self.mode = "ok"
        self.retry_after: str = "7"
        self.hang_for = 30.0
        self.delay = 0.0  # each answer waits up to this many seconds (random)
        self.fail_rate = 0.0  # this share of requests gets a 503
        self.accepted: dict[str, dict[str, Any]] = {}
        self.accepted_order: list[str] = []
        self.repeats: Counter[str] = Counter()
        self.requests = 0
        self.bad_signatures = 0
        self.runner: web.AppRunner | None = None
        self.port = 0

    @property
    def url(self) -> str:
        """Where to POST."""
        return f"http://127.0.0.1:{self.port}{self.path}"

    async def handle(self, request: web.Request) -> web.Response:
        """Check the signature, then answer as the mode says; the first 2xx per key is the one kept."""
        self.requests += 1
        body = await request.read()
        if self.secret is not None:
            want = "sha256=" + hmac.new(self.secret, body, hashlib.sha256).hexdigest()
            if not hmac.compare_digest(want, request.headers.get("X-Omnichannel-Signature", "")):
                self.bad_signatures += 1
                return web.json_response({"error": "bad signature"}, status=401)
        mode = self.mode
        if self.delay:
            await asyncio.sleep(random.uniform(0, self.delay))
        if self.fail_rate and random.random() < self.fail_rate:
            mode = "fail"
        if mode == "reject":
            return web.json_response({"error": "unknown agency"}, status=422)
        if mode == "throttle":
            return web.json_response({"error": "slow down"}, status=429, headers={"Retry-After": self.retry_after})
        if mode == "fail":
            return web.json_response({"error": "maintenance"}, status=503)
        if mode == "hang":
            await asyncio.sleep(self.hang_for)
        key = request.headers.get("Idempotency-Key", "")
        if key in self.accepted:
            self.repeats[key] += 1
            return web.json_response({"id": self.accepted[key]["id"], "duplicate": True}, status=200)
        doc = json.loads(body)
        self.accepted[key] = {"id": f"R{len(self.accepted) + 1}", "doc": doc}
        self.accepted_order.append(key)
        return web.json_response({"id": self.accepted[key]["id"]}, status=201)

    async def start(self, port: int = 0) -> WebhookSink:
        """Listen on 127.0.0.1 (port 0: any free port)."""
        app = web.Application()
        app.router.add_post(self.path, self.handle)
        self.runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", port)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return self

    async def stop(self) -> None:
        """Stop listening."""
        if self.runner is not None:
            await self.runner.cleanup()
            self.runner = None
