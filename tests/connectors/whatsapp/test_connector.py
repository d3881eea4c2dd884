"""WhatsApp connector against the Graph API sandbox and the real ingest path."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select

from connectors.whatsapp.config import WhatsAppConfig
from connectors.whatsapp.connector import WhatsAppConnector
from omnichannel.errors import AuthError, PermanentDeliveryError, RetryableError
from omnichannel.ingest import ingest_batch
from omnichannel.models import EnvelopeRow, Identity
from omnichannel.protocols import PluginContext
from omnichannel.sandbox.whatsapp import DEFAULT_ACCESS_TOKEN, DEFAULT_APP_SECRET, WhatsAppSandbox
from omnichannel.templates import Templates
from omnichannel.types import OutboxItem
from tests.contract.connector_contract import NAME, PushConnectorContract

VERIFY = "verify-me-123"
PATH = "/webhooks/whatsapp/test"
CITIZEN, OTHER = "6281234567890", "6285711112222"


def make_config(base_url: str = "http://127.0.0.1:9", **kw) -> WhatsAppConfig:
    values = {"name": NAME, "kind": "whatsapp", "path": PATH, "verify_token": VERIFY, "app_secret": DEFAULT_APP_SECRET,
              "access_token": DEFAULT_ACCESS_TOKEN, "phone_number_id": "106540352242922",
              "graph_base_url": base_url, "max_media_bytes": 1000, **kw}
    return WhatsAppConfig(**values)


class TestWhatsAppContract(PushConnectorContract):
    @pytest.fixture
    def contract_channel(self):
        return "whatsapp"

    @pytest.fixture
    def contract_secrets(self):
        return [VERIFY, DEFAULT_APP_SECRET, DEFAULT_ACCESS_TOKEN]

    @pytest.fixture
    def contract_make_connector(self):
        async def make():
            return WhatsAppConnector(NAME, make_config())
        return make

    @pytest.fixture
    def contract_request(self):
        builder = WhatsAppSandbox()

        def request(n, signed=True):
            payload = builder.text_payload(CITIZEN, f"Sampah menumpuk di pasar nomor {n}", wamid=f"wamid.contract-{n}")
            body = builder.body(payload)
            return "POST", PATH, builder.headers(body, "auto" if signed else None), body
        return request


@pytest.fixture
async def sandbox():
    async with WhatsAppSandbox() as sb:
        yield sb


async def open_connector(sandbox, store, tmp_path: Path, **kw):
    conn = WhatsAppConnector(NAME, make_config(sandbox.base_url, **kw))

    async def submit(batch):
        return await ingest_batch(store, NAME, "whatsapp", batch)

    ctx = PluginContext(name=NAME, data_dir=tmp_path, attachments_dir=tmp_path / "att", submit=submit,
                        templates=Templates(), extra={"store": store})
    await conn.start(ctx, None)
    app = web.Application()
    app.router.add_routes(conn.routes())
    client = TestClient(TestServer(app))
    await client.start_server()
    sandbox.webhook_url = str(client.make_url(PATH))
    return conn, client


@pytest.fixture
async def wired(sandbox, store, tmp_path):
    conn, client = await open_connector(sandbox, store, tmp_path)
    yield conn
    await client.close()
    await conn.stop()


async def rows(store) -> list[EnvelopeRow]:
    async with store.session() as s:
        return list((await s.exec(select(EnvelopeRow).order_by(EnvelopeRow.id))).scalars())


async def test_verification_handshake(sandbox, wired):
    assert await sandbox.verify(sandbox.webhook_url, VERIFY, "1158201444") == (200, "1158201444")
    assert (await sandbox.verify(sandbox.webhook_url, "wrong"))[0] == 403
    async with sandbox._session.get(sandbox.webhook_url, params={"hub.mode": "unsubscribe",
                                                                 "hub.verify_token": VERIFY}) as resp:
        assert resp.status == 403


async def test_tampered_missing_and_foreign_signatures_get_401_and_store_nothing(sandbox, wired, store):
    payload = sandbox.text_payload(CITIZEN, "Jalan rusak parah di Jl. Merdeka")
    body = sandbox.body(payload)
    good = sandbox.headers(body)["X-Hub-Signature-256"]
    tampered = body.replace(b"parah", b"PARAH")
    assert await sandbox.deliver(tampered, signature=good) == 401
    assert await sandbox.deliver(body, signature=None) == 401
    assert await sandbox.deliver(body, signature="sha256=" + "0" * 64) == 401
    assert await sandbox.deliver(body, signature=good.replace("sha256=", "sha1=")) == 401
    assert await rows(store) == []
    assert await sandbox.deliver(body) == 200
    assert await sandbox.deliver(body) == 200  # a replayed, correctly signed delivery is absorbed
    assert [(r.external_id, r.outcome) for r in await rows(store)] == [
        (payload["entry"][0]["changes"][0]["value"]["messages"][0]["id"], "complaint")]


async def test_the_same_wamid_delivered_five_times_is_stored_once(sandbox, wired, store):
    wamid = sandbox.new_wamid()
    for _ in range(5):
        assert await sandbox.deliver(sandbox.text_payload(CITIZEN, "Lampu jalan mati", wamid=wamid)) == 200
    stored = await rows(store)
    assert len(stored) == 1 and stored[0].external_id == wamid and stored[0].sender_id == CITIZEN
    async with store.session() as s:
        phones = [i.address for i in (await s.exec(select(Identity))).scalars() if i.channel == "phone"]
    assert phones == [f"+{CITIZEN}"]


async def test_every_message_type_and_statuses(sandbox, wired, store, tmp_path):
    await sandbox.deliver(sandbox.text_payload(CITIZEN, "Saluran air tersumbat", name="Siti"))
    await sandbox.deliver(sandbox.media_payload(CITIZEN, "image", b"\xff\xd8\xffjpeg" * 10, "image/jpeg",
                                                caption="Foto saluran"))
    await sandbox.deliver(sandbox.media_payload(CITIZEN, "document", b"%PDF-1.4", "application/pdf",
                                                filename="surat.pdf", caption="Surat RT"))
    await sandbox.deliver(sandbox.media_payload(CITIZEN, "audio", b"OggS voice", "audio/ogg; codecs=opus",
                                                voice=True))
    await sandbox.deliver(sandbox.location_payload(CITIZEN, -6.9147, 107.6098, name="Pasar Baru"))
    await sandbox.deliver(sandbox.interactive_payload(CITIZEN, "kategori-jalan", "Jalan rusak", list_reply=True))
    await sandbox.deliver(sandbox.status_payload("wamid.OURS", "delivered", CITIZEN))
    await sandbox.deliver(sandbox.status_payload("wamid.OURS", "read", CITIZEN))
    stored = await rows(store)
    assert [(r.outcome, r.text) for r in stored] == [
        ("complaint", "Saluran air tersumbat"), ("complaint", "Foto saluran"), ("complaint", "Surat RT"),
        ("complaint", None), ("complaint", "Lokasi: -6.9147, 107.6098 (Pasar Baru)"),
        ("complaint", "Jalan rusak"), ("skipped", None), ("skipped", None)]
    assert [r.reason for r in stored[-2:]] == ["status callback: delivered", "status callback: read"]
    image, doc, audio = (r.attachments[0] for r in stored[1:4])
    assert (tmp_path / "att" / image["path"]).read_bytes() == b"\xff\xd8\xffjpeg" * 10 and image["filename"] == "foto.jpg"
    assert doc["filename"] == "surat.pdf" and (tmp_path / "att" / doc["path"]).read_bytes() == b"%PDF-1.4"
    assert audio["content_type"].startswith("audio/ogg") and stored[3].meta["voice"] is True
    assert stored[4].meta["location"] == {"lat": -6.9147, "lon": 107.6098, "name": "Pasar Baru"}
    assert stored[5].meta["interactive"]["id"] == "kategori-jalan"


async def test_oversize_media_is_rejected_with_a_reason_and_the_message_kept(sandbox, wired, store):
    await sandbox.deliver(sandbox.media_payload(CITIZEN, "image", b"x" * 5000, "image/jpeg", caption="Banjir"))
    (row,) = await rows(store)
    assert row.outcome == "complaint" and row.text == "Banjir"
    assert row.attachments[0]["skipped_reason"] == "larger than 1000 bytes (5000)" and row.attachments[0]["path"] is None


async def test_unknown_types_and_fields_are_skipped_with_a_reason(sandbox, wired, store):
    await sandbox.deliver(sandbox.unsupported_payload(CITIZEN))
    await sandbox.deliver(sandbox.message_payload(CITIZEN, "sticker", {"id": "1", "mime_type": "image/webp"}))
    await sandbox.deliver({"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": [
        {"field": "account_update", "value": {"event": "VERIFIED_ACCOUNT"}}]}]})
    await sandbox.deliver({"object": "page", "entry": []})
    assert await sandbox.deliver(b"{not json") == 200  # signed by Meta but unreadable: quarantined, kept whole
    got = [(r.outcome, r.reason) for r in await rows(store)]
    assert got == [("skipped", "unsupported message type: unsupported (error 131051)"),
                   ("skipped", "unsupported message type: sticker"),
                   ("skipped", "webhook field 'account_update' not handled"),
                   ("skipped", "webhook object 'page' not handled"),
                   ("quarantined", got[4][1])]
    assert got[4][1].startswith("malformed webhook body")


async def test_replies_reach_the_right_citizen_only(sandbox, wired, store):
    await sandbox.say(CITIZEN, "Jalan berlubang di depan SDN 3, saya Budi 081234567890", name="Budi")
    await sandbox.say(OTHER, "Jalan berlubang di depan SDN 3 juga", name="Ani")
    first = (await rows(store))[0]
    item = OutboxItem(1, "reply", "ADU-2026-000001#answer-1", f"reply:{NAME}",
                      {"origin": first.origin, "text": "Tanggapan Dinas PUPR: perbaikan dijadwalkan pekan depan.",
                       "complaint": "ADU-2026-000001"})
    receipt = await wired.reply(item, "k")
    (sent,) = sandbox.sent
    assert sent["to"] == CITIZEN and sent["text"]["body"] == item.payload["text"]
    assert sent["context"] == {"message_id": first.external_id} and receipt.remote_ref == sent["wamid"]
    dumped = json.dumps(sent)
    assert OTHER not in dumped and "Ani" not in dumped and "Budi" not in dumped
    # a message quoting the first one (WhatsApp "context") is a follow-up of it
    await sandbox.deliver(sandbox.text_payload(OTHER, "Terima kasih", context=first.external_id))
    assert (await rows(store))[-1].outcome == "follow_up"


async def test_outside_the_window_a_template_or_a_permanent_error(sandbox, store, tmp_path):
    item = OutboxItem(1, "reply", "ADU-2026-000007#answer-1", f"reply:{NAME}",
                      {"origin": {"wa_id": CITIZEN, "message_id": "wamid.old"}, "text": "Tanggapan ...",
                       "complaint": "ADU-2026-000007"})
    plain, client = await open_connector(sandbox, store, tmp_path)
    try:
        with pytest.raises(PermanentDeliveryError, match="tidak dapat dihubungi melalui WhatsApp"):
            await plain.reply(item, "k")
        await sandbox.say(CITIZEN, "Halo")           # the window opens ...
        sandbox.last_inbound[CITIZEN] -= 25 * 3600  # ... but WhatsApp says it closed (131047)
        with pytest.raises(PermanentDeliveryError):
            await plain.reply(item, "k")
        assert [r["error"] for r in sandbox.rejected] == [131047]
    finally:
        await client.close()
        await plain.stop()
    templated, client = await open_connector(sandbox, store, tmp_path, reply_template="tanggapan_aduan")
    try:
        receipt = await templated.reply(item, "k")
    finally:
        await client.close()
        await templated.stop()
    (sent,) = sandbox.sent
    assert sent["type"] == "template" and sent["to"] == CITIZEN and receipt.remote_ref == sent["wamid"]
    assert sent["template"] == {"name": "tanggapan_aduan", "language": {"code": "id"}, "components": [
        {"type": "body", "parameters": [{"type": "text", "text": "ADU-2026-000007"}]}]}


async def test_throughput_and_token_errors_are_retryable(sandbox, wired):
    await sandbox.say(CITIZEN, "Halo")
    item = OutboxItem(1, "reply", "ADU-2026-000002#ack", f"reply:{NAME}",
                      {"origin": {"wa_id": CITIZEN}, "text": "Aduan diterima"})
    sandbox.storm(1)
    with pytest.raises(RetryableError) as caught:
        await wired.reply(item, "k")
    assert caught.value.retry_after == 60
    sandbox.access_token = "rotated"
    with pytest.raises(RetryableError) as caught:
        await wired.reply(item, "k")
    assert caught.value.retry_after == 300
    with pytest.raises(AuthError):
        await wired.probe()
    sandbox.access_token = DEFAULT_ACCESS_TOKEN
    assert "15550783881" in await wired.probe()


async def test_reparse_finds_the_message_again(sandbox, wired, store):
    wamid, _ = await sandbox.say(CITIZEN, "Parkir liar", context="wamid.ack")
    row = (await rows(store))[0]
    env = WhatsAppConnector.reparse(row.raw, row.external_id)
    assert (env.external_id, env.text, env.reply_to, env.sender.id) == (wamid, "Parkir liar", ["wamid.ack"], CITIZEN)


async def test_signed_but_oddly_shaped_deliveries_are_quarantined_and_good_messages_kept(sandbox, wired, store):
    good = sandbox.text_payload(CITIZEN, "Got mampet di RT 03")
    good["entry"][0]["changes"][0]["value"]["statuses"] = ["not an object"]
    assert await sandbox.deliver(good) == 200
    assert await sandbox.deliver({"object": "whatsapp_business_account", "entry": [1]}) == 200
    assert await sandbox.deliver({"object": "whatsapp_business_account", "entry": {"id": "1"}}) == 200
    assert await sandbox.deliver({"object": "whatsapp_business_account",
                                  "entry": [{"id": "1", "changes": [{"field": "messages", "value": []}]}]}) == 200
    assert await sandbox.deliver({"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": [
        {"field": "messages", "value": {"errors": [7], "messages": [{"from": CITIZEN}]}}]}]}) == 200
    assert await sandbox.deliver(b"[1, 2]") == 200
    got = [(r.outcome, r.text) for r in await rows(store)]
    assert got[0] == ("complaint", "Got mampet di RT 03")
    assert [o for o, _ in got[1:]] == ["quarantined"] * (len(got) - 1) and len(got) == 8


async def test_reparse_of_quarantined_bodies_quarantines_again(sandbox, wired, store):
    assert await sandbox.deliver(b"{not json") == 200
    assert await sandbox.deliver({"object": "whatsapp_business_account", "entry": [1]}) == 200
    assert await sandbox.deliver({"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": [
        {"field": "account_update", "value": None}]}]}) == 200
    stored = await rows(store)
    assert [r.outcome for r in stored] == ["quarantined", "quarantined", "skipped"]
    for row in stored[:2]:
        again = WhatsAppConnector.reparse(row.raw, row.external_id)
        assert again.external_id == row.external_id and again.error


async def test_a_failed_media_download_logs_no_access_token(sandbox, store, tmp_path, caplog):
    """A redirect loop on the media URL raises TooManyRedirects, whose repr carries the request headers."""
    async def lookup(request):
        return web.json_response({"url": f"http://{request.host}/loop", "mime_type": "image/jpeg", "file_size": 10,
                                  "id": request.match_info["media_id"]})

    async def loop(request):
        raise web.HTTPFound("/loop")

    graph = web.Application()
    graph.router.add_get("/{version}/{media_id}", lookup)
    graph.router.add_get("/loop", loop)
    server = TestServer(graph)
    await server.start_server()
    conn, client = await open_connector(sandbox, store, tmp_path)
    conn.config = make_config(str(server.make_url("")).rstrip("/"))
    try:
        with caplog.at_level("DEBUG"):
            payload = sandbox.media_payload(CITIZEN, "image", b"\xff\xd8" * 5, "image/jpeg", caption="Got mampet")
            assert await sandbox.deliver(payload) == 200
        (row,) = await rows(store)
        assert row.attachments[0]["skipped_reason"] == "media download failed: TooManyRedirects"
        assert "media" in caplog.text and DEFAULT_ACCESS_TOKEN not in caplog.text
    finally:
        await client.close()
        await conn.stop()
        await server.close()


async def test_an_accepted_send_without_a_wamid_is_delivered_not_retried(sandbox, store, tmp_path):
    posts = []

    async def messages(request):
        posts.append(await request.json())
        return web.json_response({"messaging_product": "whatsapp"})  # 200, but no messages[0].id

    graph = web.Application()
    graph.router.add_post("/{version}/{phone_id}/messages", messages)
    server = TestServer(graph)
    await server.start_server()
    conn = WhatsAppConnector(NAME, make_config(str(server.make_url("")).rstrip("/"), window_hours=24))
    await conn.start(PluginContext(name=NAME, data_dir=tmp_path, attachments_dir=tmp_path, templates=Templates()),
                     None)
    conn._last_inbound[CITIZEN] = datetime.now(UTC)
    try:
        item = OutboxItem(1, "reply", "ADU-2026-000001#ack", f"reply:{NAME}",
                          {"origin": {"wa_id": CITIZEN}, "text": "Aduan Anda kami terima.", "complaint": "ADU-2026-000001"})
        receipt = await conn.reply(item, "k")
        assert receipt.remote_ref is None and len(posts) == 1
    finally:
        await conn.stop()
        await server.close()
