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
