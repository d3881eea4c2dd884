"""A private acknowledgement on a chat channel carries the reporter's own status link when the status page is
public (``http.public_url``); the link opens that complaint's status with the agency's answer and nobody else's;
without a public URL the acknowledgement has no link."""

from __future__ import annotations

import re
from textwrap import dedent

import aiohttp

from omnichannel.config import parse_config
from omnichannel.status import status_link
from tests.connectors.chat import both_write, chat_daemon

LINK = re.compile(r"(http://\S+/status/(ADU-\d{4}-\d{6})\?akses=[\w-]+)")


async def test_chat_acknowledgements_carry_a_working_status_link(tmp_path):
    async with chat_daemon(tmp_path, public=True) as (tg, wa):
        await both_write(tg, wa)
        tg_text, wa_text = tg.sent[0]["text"], wa.sent[0]["text"]["body"]
        tg_link, wa_link = LINK.search(tg_text), LINK.search(wa_text)
        async with aiohttp.ClientSession() as http:
            async with http.get(tg_link.group(1).replace("/status/", "/api/v1/complaints/")) as r:
                own = (r.status, await r.json())
            # the Telegram reporter's key does not open the WhatsApp reporter's complaint
            other = tg_link.group(1).replace(tg_link.group(2), wa_link.group(2)).replace("/status/",
                                                                                      "/api/v1/complaints/")
            async with http.get(other) as r:
                crossed = r.status
            async with http.get(tg_link.group(1)) as r:
                page = (r.status, r.content_type)
    assert "Pantau status dan tanggapan instansi" in tg_text and tg_link.group(2) in tg_text.split("\n")[0]
    assert wa_link is not None and wa_link.group(2) != tg_link.group(2)
    assert own[0] == 200 and own[1]["complaint"] == tg_link.group(2) and "answer" in own[1]
    assert crossed == 404 and page == (200, "text/html")


def test_no_link_without_a_public_url_or_a_status_page(tmp_path):
    plain = parse_config(dedent("""
        connectors:
          - {name: web, kind: webform}
        """))
    assert status_link(plain, "ADU-2026-000001", "k") is None
    public = plain.model_copy(update={"http": plain.http.model_copy(update={"public_url": "https://lapor.kota.id/"})})
    assert status_link(public, "ADU-2026-000001", "k") == "https://lapor.kota.id/status/ADU-2026-000001?akses=k"
    assert status_link(public, "ADU-2026-000001", None) is None
    closed = parse_config(dedent("""
        http: {public_url: "https://lapor.kota.id"}
        connectors:
          - {name: web, kind: webform, auth: bearer, token: "${T}"}
        """), env={"T": "rahasia"})
    assert status_link(closed, "ADU-2026-000001", "k") is None  # no open form: no page to link to
