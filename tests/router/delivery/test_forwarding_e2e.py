"""End to end in one daemon: web intake → router → ticket outbox row → dispatcher → signed webhook;
the officer API lists the ticket, and a status change reaches the webhook as a ticket_update."""

from __future__ import annotations

import asyncio
from pathlib import Path

import aiohttp

from omnichannel.config import parse_config
from omnichannel.daemon import Daemon
from tests.router.delivery.forwarders.webhook_sink import WebhookSink


async def wait_for(predicate, limit: float = 30.0) -> None:
    for _ in range(int(limit / 0.05)):
        if predicate():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("condition not reached")


async def test_complaint_reaches_the_agency_webhook_and_officer_api(tmp_path: Path) -> None:
    sink = await WebhookSink(secret=b"e2e-secret").start()
    config = parse_config(f"""
data_dir: {tmp_path}/data
http: {{host: 127.0.0.1, port: 0}}
daemon: {{router_interval: 0.1, shutdown_deadline: 5}}
connectors:
  - {{name: web, kind: webform, acknowledge: false, default_agency: dpupr}}
forwarders:
  - {{name: pupr-hook, kind: webhook, url: "{sink.url}", secret: "${{HOOK_SECRET}}", agencies: [dpupr],
     item_types: [ticket, ticket_update], timeout: 5}}
  - {{name: queue, kind: db}}
agencies:
  - {{code: dpupr, name: Dinas PUPR, officer_tokens: ["${{PUPR_TOKEN}}"]}}
""", env={"HOOK_SECRET": "e2e-secret", "PUPR_TOKEN": "tok-pupr"})
    daemon = Daemon(config)
    await daemon.start()
    try:
        base = f"http://127.0.0.1:{daemon.http_port}"
        auth = {"Authorization": "Bearer tok-pupr"}
        async with aiohttp.ClientSession() as http:
            async with http.post(f"{base}/api/v1/complaints", json={
                    "text": "Jalan berlubang besar di Jl. Merdeka depan pasar, sudah dua minggu tidak diperbaiki",
                    "name": "Siti"}) as resp:
                assert resp.status == 201, await resp.text()
            await wait_for(lambda: any(k.startswith("ticket:") for k in sink.accepted))
            [key] = [k for k in sink.accepted if k.startswith("ticket:")]
            ticket = key.split(":")[1]
            assert sink.accepted[key]["doc"]["payload"]["agency"] == "dpupr" and sink.bad_signatures == 0
            async with http.get(f"{base}/api/v1/agencies/dpupr/tickets", headers=auth) as resp:
                listed = await resp.json()
            assert [t["ref"] for t in listed["tickets"]] == [ticket]
            async with http.post(f"{base}/api/v1/tickets/{ticket}/status", headers=auth,
                                 json={"status": "diterima", "note": "Tim survei dijadwalkan"}) as resp:
                assert resp.status == 200, await resp.text()
            await wait_for(lambda: f"ticket_update:{ticket}#status-1:pupr-hook" in sink.accepted)
            assert sink.accepted[f"ticket_update:{ticket}#status-1:pupr-hook"]["doc"]["payload"]["status"] == "diterima"
        assert daemon.dispatcher.delivered["pupr-hook"] == 2
        await wait_for(lambda: daemon.dispatcher.delivered["queue"] == 2)  # ticket and ticket_update
    finally:
        await asyncio.wait_for(daemon.stop(), 15)
        await sink.stop()
