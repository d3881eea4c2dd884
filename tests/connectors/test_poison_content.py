"""Text no database takes as it is (NUL, a lone surrogate) arrives on every channel: the message is
stored (cleaned, raw kept exactly), its neighbours too, and a pull connector moves on."""

from __future__ import annotations

import json

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select

from connectors.telegram.config import TelegramConfig
from connectors.telegram.connector import TelegramConnector
from connectors.webform.connector import WebformConfig, WebformConnector
from connectors.whatsapp.config import WhatsAppConfig
from connectors.whatsapp.connector import WhatsAppConnector
from omnichannel.models import Complaint, EnvelopeRow
from omnichannel.sandbox.telegram import TelegramSandbox
from omnichannel.sandbox.whatsapp import DEFAULT_ACCESS_TOKEN, DEFAULT_APP_SECRET, WhatsAppSandbox
from tests.contract.connector_contract import NAME, committer_context

POISONS = ["jalan \ud800 rusak parah", "lampu\x00 mati sejak kemarin", "air \udfff\x00 keruh sekali"]


async def complaint_texts(store) -> list[str]:
    async with store.session() as s:
        return sorted((await s.exec(select(Complaint.text))).scalars())


async def test_telegram_polling_stores_poison_and_moves_on(any_store, tmp_path):
    store = any_store
    async with TelegramSandbox() as sandbox:
        for text in [*POISONS, "sampah menumpuk di pasar"]:
            sandbox.say(42, text)
        conn = TelegramConnector(NAME, TelegramConfig(name=NAME, kind="telegram", token=sandbox.token,
                                                      base_url=sandbox.base_url, long_poll_timeout=0,
                                                      request_timeout=5, batch_size=2))
        ctx = committer_context(store, tmp_path, "telegram")
        await conn.start(ctx, None)
        try:
            for _ in range(10):
                batch = await conn.poll()
                if not batch.envelopes:
                    break
                await conn.ack(batch, await ctx.submit(batch))
        finally:
            await conn.stop()
    texts = await complaint_texts(store)
    assert len(texts) == 4 and "jalan \ufffd rusak parah" in texts
    async with store.session() as s:
        raws = [r for (r,) in (await s.exec(select(EnvelopeRow.raw))).all()]
    # the stored update reads back as the very update Telegram sent, surrogate included
    assert any(json.loads(r.decode("utf-8", "surrogatepass"))["message"]["text"] == POISONS[0] for r in raws)
    retried = TelegramConnector.reparse(raws[0], "x")
    assert retried.error is None


async def test_whatsapp_webhook_stores_poison_with_200(any_store, tmp_path):
    store = any_store
    path = "/webhooks/whatsapp/test"
    conn = WhatsAppConnector(NAME, WhatsAppConfig(name=NAME, kind="whatsapp", path=path, verify_token="v-123",
                                                  app_secret=DEFAULT_APP_SECRET, access_token=DEFAULT_ACCESS_TOKEN,
                                                  phone_number_id="106540352242922", download_media=False))
    await conn.start(committer_context(store, tmp_path, "whatsapp"), None)
    app = web.Application()
    app.router.add_routes(conn.routes())
    builder = WhatsAppSandbox()
    async with TestClient(TestServer(app)) as client:
        for n, text in enumerate([*POISONS, "sampah menumpuk di pasar"]):
            body = builder.body(builder.text_payload("6281234567890", text, wamid=f"wamid.p{n}"))
            resp = await client.post(path, data=body, headers=builder.headers(body))
            assert resp.status == 200, await resp.text()
    await conn.stop()
    assert len(await complaint_texts(store)) == 4


async def test_webform_stores_poison_text_and_refuses_non_finite_numbers(any_store, tmp_path):
    store = any_store
    conn = WebformConnector(NAME, WebformConfig(name=NAME, kind="webform"))
    await conn.start(committer_context(store, tmp_path, "webform"), None)
    app = web.Application()
    app.router.add_routes(conn.routes())
    async with TestClient(TestServer(app)) as client:
        for text in POISONS:
            resp = await client.post("/api/v1/complaints", data=json.dumps({"text": text}),
                                     headers={"Content-Type": "application/json"})
            assert resp.status == 201, await resp.text()
        for bad in ('{"text": "jalan rusak parah", "location": {"lat": NaN}}',
                    '{"text": "jalan rusak parah", "location": {"lat": Infinity}}',
                    '{"text": "jalan rusak parah", "location": {"lat": -Infinity}}'):
            resp = await client.post("/api/v1/complaints", data=bad, headers={"Content-Type": "application/json"})
            assert resp.status == 422, await resp.text()
            assert "error" in await resp.json()
    await conn.stop()
    assert len(await complaint_texts(store)) == 3
