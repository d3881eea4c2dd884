"""End to end through the daemon: a 3 MB photo filed on the citizen form is routed with its complaint and reaches
the agency's mailbox attached to the ticket mail (email forwarder, aiosmtpd sink)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import aiohttp

from omnichannel.daemon import Daemon
from router.delivery.forwarders.email import EmailForwarderConfig
from tests.browser import shipped_config
from tests.images import png
from tests.router.delivery.forwarders.test_email import SmtpSink


async def test_a_form_photo_is_attached_to_the_agency_mail(tmp_path: Path) -> None:
    sink = await SmtpSink().start()
    config = shipped_config(tmp_path, OMNICHANNEL_RATE_LIMITS="false")
    config.daemon.router_interval = 0.2
    config.forwarders.append(EmailForwarderConfig(name="mail", port=sink.port, to=["pupr@pemkot.example.id"],
                                                  agencies=["pupr"]))
    daemon = Daemon(config)
    await daemon.start()
    photo = png(120, 90) + b"\x00" * 3_000_000  # larger than http.max_body_bytes (1 MB): the upload streams
    try:
        form = aiohttp.FormData()
        form.add_field("text", "Jalan berlubang besar di Jl. Setiabudi depan pasar, sudah dua motor jatuh")
        form.add_field("files", photo, filename="lubang.png", content_type="image/png")
        async with aiohttp.ClientSession() as http:
            async with http.post(f"http://127.0.0.1:{daemon.http_port}/api/v1/complaints", data=form) as resp:
                assert resp.status == 201, await resp.text()
        for _ in range(300):
            if sink.messages:
                break
            await asyncio.sleep(0.1)
    finally:
        await daemon.stop()
        await sink.stop()
    (msg,) = sink.messages
    assert msg["Subject"].startswith("[TIK-")
    (part,) = msg.iter_attachments()
    assert (part.get_filename(), part.get_content_type(), part.get_content()) == ("lubang.png", "image/png", photo)
