"""The daemon in-process: intake, status, health, metrics, graceful stop."""

from __future__ import annotations

import asyncio

import aiohttp

from omnichannel.daemon import Daemon
from tests.omnichannel.helpers import minimal_config


async def test_intake_status_health_metrics(tmp_path):
    daemon = Daemon(minimal_config(tmp_path))
    await daemon.start()
    try:
        base = f"http://127.0.0.1:{daemon.http_port}"
        async with aiohttp.ClientSession() as http:
            async with http.get(f"{base}/metrics") as resp:  # before anything arrived: the series exist at 0
                text = await resp.text()
                assert 'omnichannel_envelopes_total{connector="web",outcome="complaint"} 0.0' in text
                assert 'omnichannel_connector_up{connector="web"} 1.0' in text  # a push channel: listening
            async with http.post(f"{base}/api/v1/complaints", json={
                    "text": "Lampu jalan di Jl. Pemuda mati sudah seminggu", "name": "Siti",
                    "phone": "0812-3456-7890"}) as resp:
                assert resp.status == 201, await resp.text()
                body = await resp.json()
            ref = body["complaint"]
            assert ref.startswith("ADU-") and ref in body["message"]
            async with http.get(base + body["status_url"]) as resp:
                status = await resp.json()
                assert resp.status == 200 and status["complaint"] == ref
                assert "Siti" not in str(status) and "812" not in str(status)
            async with http.get(f"{base}/readyz") as resp:
                assert resp.status == 200 and (await resp.json())["store"] == "ok"
            async with http.get(f"{base}/healthz") as resp:
                assert resp.status == 200
            async with http.get(f"{base}/metrics") as resp:
                text = await resp.text()
                assert 'omnichannel_envelopes_total{connector="web",outcome="complaint"} 1.0' in text
    finally:
        await asyncio.wait_for(daemon.stop(), 10)


async def test_intake_only_replica_does_not_route(tmp_path):
    config = minimal_config(tmp_path)
    config.daemon.route = False
    config.daemon.dispatch = False
    daemon = Daemon(config)
    await daemon.start()
    try:
        base = f"http://127.0.0.1:{daemon.http_port}"
        async with aiohttp.ClientSession() as http:
            async with http.post(f"{base}/api/v1/complaints", json={"text": "Sampah menumpuk di pasar"}) as resp:
                status_url = (await resp.json())["status_url"]
            await asyncio.sleep(0.5)
            async with http.get(base + status_url) as resp:
                assert (await resp.json())["status"] == "received"
            async with http.get(f"{base}/readyz") as resp:
                body = await resp.json()
                assert body["router"] == "disabled" and body["dispatcher"] == "disabled"
    finally:
        await daemon.stop()


async def test_readyz_counts_envelopes_as_the_store_holds_them(tmp_path):
    """Push connectors (web, WhatsApp) and a pull connector (Telegram) alike, and after a restart."""
    from sqlalchemy import func, select

    from omnichannel.config import parse_config
    from omnichannel.models import EnvelopeRow
    from omnichannel.sandbox.telegram import TelegramSandbox
    from omnichannel.sandbox.whatsapp import WhatsAppSandbox
    from tests.conftest import free_port

    port = free_port()
    telegram = await TelegramSandbox().start()
    whatsapp = await WhatsAppSandbox(webhook_url=f"http://127.0.0.1:{port}/webhooks/whatsapp/wa").start()
    env = {"TG": telegram.token, "WA_TOKEN": whatsapp.access_token, "WA_SECRET": whatsapp.app_secret}
    config_text = f"""
        data_dir: {tmp_path}/data
        http: {{host: 127.0.0.1, port: {port}}}
        daemon: {{router_interval: 0.2, shutdown_deadline: 5}}
        connectors:
          - {{name: web, kind: webform, acknowledge: false}}
          - {{name: wa, kind: whatsapp, acknowledge: false, access_token: "${{WA_TOKEN}}", app_secret: "${{WA_SECRET}}",
              verify_token: "${{WA_SECRET}}", phone_number_id: "{whatsapp.phone_number_id}",
              graph_base_url: "{whatsapp.base_url}"}}
          - {{name: tg, kind: telegram, acknowledge: false, token: "${{TG}}", base_url: "{telegram.base_url}",
              long_poll_timeout: 1, poll_interval: 0.2}}
        """

    async def readyz() -> dict:
        async with aiohttp.ClientSession() as http, http.get(f"http://127.0.0.1:{port}/readyz") as resp:
            return {name: c["envelopes"] for name, c in (await resp.json())["connectors"].items()}

    async def stored() -> dict:
        async with daemon.store.session() as session:
            q = select(EnvelopeRow.connector, func.count()).group_by(EnvelopeRow.connector)
            return dict((await session.exec(q)).all())

    daemon = Daemon(parse_config(config_text, env=env))
    await daemon.start()
    try:
        assert await readyz() == {"web": 0, "wa": 0, "tg": 0}
        async with aiohttp.ClientSession() as http:
            for text in ("Sampah menumpuk di Pasar Johar", "Lampu PJU mati di Jl. Pemuda"):
                async with http.post(f"http://127.0.0.1:{port}/api/v1/complaints", json={"text": text}) as resp:
                    assert resp.status == 201
        for n in range(3):
            assert (await whatsapp.say(f"62812290010{n:02d}", f"jalan berlubang di Tembalang no {n}"))[1] == 200
        telegram.say(5010001, "pohon tumbang di Sampangan")
        telegram.say(5010002, "banjir di Kaligawe")
        want = {"web": 2, "wa": 3, "tg": 2}
        for _ in range(100):
            if await stored() == want:
                break
            await asyncio.sleep(0.1)
        assert await stored() == want
        assert await readyz() == want  # was web 0 and wa 0: push connectors had no count at all
    finally:
        await asyncio.wait_for(daemon.stop(), 10)
    daemon = Daemon(parse_config(config_text, env=env))
    await daemon.start()
    try:
        assert await readyz() == want  # the store's count, not what this process saw since it started
    finally:
        await asyncio.wait_for(daemon.stop(), 10)
        await whatsapp.stop()
        await telegram.stop()
