"""Telegram and WhatsApp through the whole daemon: message in, complaint stored, acknowledgement back."""

from __future__ import annotations

import asyncio
from textwrap import dedent

from omnichannel.config import parse_config
from omnichannel.daemon import Daemon
from omnichannel.sandbox.telegram import TelegramSandbox
from omnichannel.sandbox.whatsapp import WhatsAppSandbox
from tests.conftest import free_port


async def test_both_chat_channels_are_acknowledged_on_the_same_chat(tmp_path):
    port = free_port()
    async with TelegramSandbox() as tg, \
            WhatsAppSandbox(webhook_url=f"http://127.0.0.1:{port}/webhooks/whatsapp/wa") as wa:
        config = parse_config(dedent(f"""
            data_dir: {tmp_path}/data
            http: {{host: 127.0.0.1, port: {port}}}
            daemon: {{router_interval: 0.2, shutdown_deadline: 5}}
            connectors:
              - {{name: tg, kind: telegram, token: "${{TG_TOKEN}}", base_url: "{tg.base_url}",
                  long_poll_timeout: 0, poll_interval: 0.3}}
              - {{name: wa, kind: whatsapp, verify_token: "${{WA_VERIFY}}", app_secret: "${{WA_SECRET}}",
                  access_token: "${{WA_TOKEN}}", phone_number_id: "{wa.phone_number_id}",
                  graph_base_url: "{wa.base_url}"}}
            """), env={"TG_TOKEN": tg.token, "WA_VERIFY": "verify", "WA_SECRET": wa.app_secret,
                       "WA_TOKEN": wa.access_token})
        daemon = Daemon(config)
        await daemon.start()
        try:
            tg.say(42, "Jalan berlubang besar di Jl. Merdeka dekat pasar, mohon diperbaiki")
            assert (await wa.say("6281234567890", "Lampu PJU mati di Jl. Melati sudah seminggu"))[1] == 200
            for _ in range(300):
                if tg.sent and wa.sent:
                    break
                await asyncio.sleep(0.05)
        finally:
            await asyncio.wait_for(daemon.stop(), 15)
    assert [m["chat"]["id"] for m in tg.sent] == [42] and "ADU-" in tg.sent[0]["text"]
    assert tg.sent[0]["reply_to_message"]["message_id"] == 1 and tg.pending == []
    assert [m["to"] for m in wa.sent] == ["6281234567890"] and "ADU-" in wa.sent[0]["text"]["body"]
