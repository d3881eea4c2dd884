"""A daemon reading Telegram and WhatsApp from their sandboxes, and two citizens writing to it: for the tests of
what a chat channel answers (tests/connectors/test_chat_daemon.py, tests/omnichannel/web/test_status_link.py)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from omnichannel.config import parse_config
from omnichannel.daemon import Daemon
from omnichannel.sandbox.telegram import TelegramSandbox
from omnichannel.sandbox.whatsapp import WhatsAppSandbox
from tests.conftest import free_port


@asynccontextmanager
async def chat_daemon(tmp_path: Path, *, public: bool = False) -> AsyncIterator[tuple[TelegramSandbox, WhatsAppSandbox]]:
    """The two sandboxes, and the daemon with connectors ``tg`` and ``wa`` on them, started; stopped after the block.

    ``public``: the status page is public too (``http.public_url`` is the daemon's own address, the web form
    ``web`` is open) and rate limits are off, so a test may read the page as often as it likes.
    """
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    async with TelegramSandbox() as tg, WhatsAppSandbox(webhook_url=f"{base}/webhooks/whatsapp/wa") as wa:
        http = f'public_url: "{base}", rate_limits: {{enabled: false}}, ' if public else ""
        lines = [f"data_dir: {tmp_path}/data",
                 f"http: {{{http}host: 127.0.0.1, port: {port}}}",
                 "daemon: {router_interval: 0.2, shutdown_deadline: 5}",
                 "connectors:",
                 *(["  - {name: web, kind: webform}"] if public else []),
                 f'  - {{name: tg, kind: telegram, token: "${{TG_TOKEN}}", base_url: "{tg.base_url}",'
                 "      long_poll_timeout: 0, poll_interval: 0.3}",
                 '  - {name: wa, kind: whatsapp, verify_token: "${WA_VERIFY}", app_secret: "${WA_SECRET}",'
                 f'      access_token: "${{WA_TOKEN}}", phone_number_id: "{wa.phone_number_id}",'
                 f'      graph_base_url: "{wa.base_url}"}}']
        config = parse_config("\n".join(lines) + "\n", env={"TG_TOKEN": tg.token, "WA_VERIFY": "verify",
                                                           "WA_SECRET": wa.app_secret, "WA_TOKEN": wa.access_token})
        daemon = Daemon(config)
        await daemon.start()
        try:
            yield tg, wa
        finally:
            await asyncio.wait_for(daemon.stop(), 15)


async def both_write(tg: TelegramSandbox, wa: WhatsAppSandbox) -> None:
    """A citizen writes on Telegram (chat 42), another on WhatsApp; waits up to 15 s until both are answered."""
    tg.say(42, "Jalan berlubang besar di Jl. Merdeka dekat pasar, mohon diperbaiki")
    assert (await wa.say("6281234567890", "Lampu PJU mati di Jl. Melati sudah seminggu"))[1] == 200
    for _ in range(300):
        if tg.sent and wa.sent:
            break
        await asyncio.sleep(0.05)
