"""A whole daemon with every public HTTP endpoint mounted, for the hardening and fuzz tests."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from textwrap import dedent
from typing import Any

import aiohttp

from omnichannel.config import Config, parse_config
from omnichannel.daemon import Daemon
from omnichannel.sandbox.telegram import TelegramSandbox
from tests.conftest import free_port

APP_SECRET = "wa-app-secret-123456"
VERIFY = "wa-verify-token-123"
TG_SECRET = "tg-hook-secret_123"
PUPR, COORD = "officer-pupr-token-1", "coordinator-token-1"
ENV = {"WA_SECRET": APP_SECRET, "WA_VERIFY": VERIFY, "WA_ACCESS": "wa-access-token-123",
       "TG_SECRET": TG_SECRET, "PUPR": PUPR, "COORD": COORD}
WA_PATH, TG_PATH = "/webhooks/whatsapp/wa", "/webhooks/telegram/tg"


def config(tmp_path: Path, sandbox: TelegramSandbox, port: int, *, limits: bool = False, url: str = "",
           http_extra: str = "", env: dict[str, str] | None = None) -> Config:
    """Web form, WhatsApp and Telegram webhooks, the officer API; rate limits as asked (small ones)."""
    text = dedent(f"""
        data_dir: {tmp_path}/data
        store: {{url: "{url}"}}
        http:
          host: 127.0.0.1
          port: {port}
          coordinator_tokens: ["${{COORD}}"]
          trusted_proxies: ["127.0.0.1"]
          header_timeout: 1
          body_timeout: 1
          rate_limits:
            enabled: {str(limits).lower()}
            intake: {{per_client: 6, per_client_burst: 3, overall: 0.5, overall_burst: 8}}
            status: {{per_client: 6, per_client_burst: 3, overall: 100, overall_burst: 100}}
            login: {{per_client: 6, per_client_burst: 3, overall: 100, overall_burst: 100}}
          {http_extra}
        daemon: {{router_interval: 0.2, shutdown_deadline: 5}}
        connectors:
          - {{name: web, kind: webform, acknowledge: false, max_body_bytes: 8192}}
          - {{name: wa, kind: whatsapp, path: {WA_PATH}, verify_token: "${{WA_VERIFY}}",
             app_secret: "${{WA_SECRET}}", access_token: "${{WA_ACCESS}}", phone_number_id: "106540352242922",
             graph_base_url: "http://127.0.0.1:9", download_media: false, max_body_bytes: 65536}}
          - {{name: tg, kind: telegram, token: "${{TG_TOKEN}}", base_url: "{sandbox.base_url}", mode: webhook,
             webhook_path: {TG_PATH}, webhook_url: "http://127.0.0.1:{port}{TG_PATH}",
             webhook_secret: "${{TG_SECRET}}"}}
          - {{name: fb, kind: facebook, verify_token: "${{WA_VERIFY}}", app_secret: "${{WA_SECRET}}",
             access_token: "${{WA_ACCESS}}", page_id: "1234567890", graph_base_url: "http://127.0.0.1:9",
             catch_up: false, download_media: false}}
          - {{name: ig, kind: instagram, verify_token: "${{WA_VERIFY}}", app_secret: "${{WA_SECRET}}",
             access_token: "${{WA_ACCESS}}", page_id: "1234567890", instagram_account_id: "9876543210",
             graph_base_url: "http://127.0.0.1:9", catch_up: false, download_media: false}}
        agencies:
          - {{code: pupr, name: Dinas PUPR, officer_tokens: ["${{PUPR}}"]}}
        """)
    return parse_config(text, env={**ENV, "TG_TOKEN": sandbox.token, **(env or {})})


@asynccontextmanager
async def running(tmp_path: Path, **kw: Any) -> AsyncIterator[tuple[Daemon, str, TelegramSandbox]]:
    """A started daemon (and its Telegram sandbox); stopped afterwards."""
    async with TelegramSandbox() as sandbox:
        port = free_port()
        daemon = Daemon(config(tmp_path, sandbox, port, **kw))
        await daemon.start()
        try:
            for _ in range(200):  # the Telegram webhook answers once its runner has started it
                if daemon.connector_health()["tg"]["state"] == "running":
                    break
                await asyncio.sleep(0.05)
            yield daemon, f"http://127.0.0.1:{daemon.http_port}", sandbox
        finally:
            await asyncio.wait_for(daemon.stop(), 15)


def wa_headers(body: bytes) -> dict[str, str]:
    """Headers of a correctly signed WhatsApp delivery."""
    return {"Content-Type": "application/json",
            "X-Hub-Signature-256": "sha256=" + hmac.new(APP_SECRET.encode(), body, hashlib.sha256).hexdigest()}


def wa_body(text: str = "sampah menumpuk di pasar", wamid: str = "wamid.1") -> bytes:
    """A Cloud API delivery of one text message."""
    return json.dumps({"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": [{
        "field": "messages", "value": {
            "messaging_product": "whatsapp", "metadata": {"phone_number_id": "106540352242922"},
            "contacts": [{"wa_id": "6281234567890", "profile": {"name": "Sari"}}],
            "messages": [{"from": "6281234567890", "id": wamid, "timestamp": "1733000000", "type": "text",
                          "text": {"body": text}}]}}]}]}).encode()


def tg_body(text: str = "jalan rusak parah", update_id: int = 1) -> bytes:
    """A Bot API update with one private text message."""
    return json.dumps({"update_id": update_id, "message": {
        "message_id": update_id, "date": 1733000000, "text": text,
        "chat": {"id": 42, "type": "private"}, "from": {"id": 42, "is_bot": False, "first_name": "Budi"}}}).encode()


async def raw_request(port: int, head: bytes, parts: list[bytes], pause: float = 0.01,
                      read_timeout: float = 10.0) -> tuple[int, bytes]:
    """Send ``head`` then each of ``parts`` as its own TCP write ``pause`` apart; (status, body)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(head)
        await writer.drain()
        for part in parts:
            await asyncio.sleep(pause)
            writer.write(part)
            await writer.drain()
        data = await asyncio.wait_for(reader.read(1_000_000), read_timeout)
        while b"\r\n\r\n" in data and not data.endswith(b"}") and len(data) < 1_000_000:
            more = await asyncio.wait_for(reader.read(1_000_000), read_timeout)
            if not more:
                break
            data += more
    finally:
        writer.close()
        try:
            await writer.wait_closed()
        except ConnectionError:
            pass
    if not data:
        return 0, b""
    status = int(data.split(b" ", 2)[1])
    return status, data.split(b"\r\n\r\n", 1)[1] if b"\r\n\r\n" in data else b""


def post_head(path: str, length: int, headers: dict[str, str] | None = None) -> bytes:
    """The request line and headers of a POST with a body of ``length`` bytes."""
    lines = [f"POST {path} HTTP/1.1", "Host: 127.0.0.1", f"Content-Length: {length}", "Connection: close",
             *(f"{k}: {v}" for k, v in (headers or {"Content-Type": "application/json"}).items())]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


class Live:
    """A daemon running on an event loop in a thread, so that synchronous Hypothesis tests can call it."""

    def __init__(self, tmp_path: Any, **kw: Any) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="fuzz-daemon", daemon=True)
        self.thread.start()
        self._cm = running(tmp_path, **kw)
        self.daemon, self.base, _ = self.run(self._cm.__aenter__())
        self.http = self.run(self._session())
        self.run(self._seed())
        app = self.daemon.http_runner.app
        self.routes = sorted({(r.method, r.resource.canonical) for r in app.router.routes()
                              if r.method != "HEAD" and r.resource is not None})

    async def _seed(self) -> None:
        """A ticket of agency pupr, so that the officer routes get past "not found" too."""
        from omnichannel.models import Case, Ticket

        async with self.daemon.store.session() as s:
            s.add(Case(id=900, ref="KAS-2026-000900", title="Jalan rusak"))
            await s.flush()
            s.add(Ticket(ref="TIK-2026-000001", case_id=900, agency="pupr", kind="pengaduan"))
            await s.commit()

    async def _session(self) -> aiohttp.ClientSession:
        return aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30))

    def run(self, coro: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(120)

    def close(self) -> None:
        self.run(self.http.close())
        self.run(self._cm.__aexit__(None, None, None))
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()

    async def _send(self, method: str, path: str, headers: dict[str, str], body: bytes) -> tuple[int, str]:
        async with self.http.request(method, self.base + path, headers=headers, data=body or None,
                                     allow_redirects=False) as resp:
            return resp.status, (await resp.text(errors="replace"))[:300]

    def send(self, method: str, path: str, headers: dict[str, str], body: bytes) -> tuple[int, str]:
        return self.run(self._send(method, path, headers, body))
