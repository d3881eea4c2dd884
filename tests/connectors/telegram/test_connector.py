"""Telegram connector against the Bot API sandbox and the real ingest path."""

from __future__ import annotations

import asyncio
import json
from functools import partial
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from sqlalchemy import select

from connectors.telegram.config import TelegramConfig
from connectors.telegram.connector import TelegramConnector
from omnichannel.config import Config
from omnichannel.errors import AuthError, PermanentDeliveryError, RetryableError
from omnichannel.ingest import ingest_batch
from omnichannel.models import Complaint, EnvelopeRow, Identity, OutboxRow
from omnichannel.outbox import enqueue
from omnichannel.protocols import PluginContext
from omnichannel.sandbox.telegram import TelegramSandbox
from omnichannel.status import complaint_status
from omnichannel.templates import Templates
from omnichannel.types import OutboxItem
from tests.conftest import free_port
from tests.contract.connector_contract import NAME, PullConnectorContract, drain

SECRET = "hook-secret_123"


@pytest.fixture
async def sandbox():
    async with TelegramSandbox() as sb:
        yield sb


def make_config(sandbox: TelegramSandbox, **kw) -> TelegramConfig:
    values = {"name": NAME, "kind": "telegram", "token": sandbox.token, "base_url": sandbox.base_url,
              "long_poll_timeout": 0, "request_timeout": 5, **kw}
    return TelegramConfig(**values)


def context(store, tmp_path: Path) -> PluginContext:
    async def submit(batch):
        return await ingest_batch(store, NAME, "telegram", batch)

    return PluginContext(name=NAME, data_dir=tmp_path, attachments_dir=tmp_path / "att", submit=submit,
                         status_lookup=partial(complaint_status, store, Config(), channel="telegram"),
                         templates=Templates())


@pytest.fixture
async def connector(sandbox, store, tmp_path):
    conn = TelegramConnector(NAME, make_config(sandbox, max_file_bytes=1000))
    await conn.start(context(store, tmp_path), await store.load_checkpoint(NAME))
    yield conn
    await conn.stop()


async def rows(store) -> list[EnvelopeRow]:
    async with store.session() as s:
        return list((await s.exec(select(EnvelopeRow).order_by(EnvelopeRow.id))).scalars())


class TestTelegramContract(PullConnectorContract):
    @pytest.fixture
    def contract_channel(self):
        return "telegram"

    @pytest.fixture
    def contract_secrets(self, sandbox):
        return [sandbox.token]

    @pytest.fixture
    def contract_make_connector(self, sandbox):
        async def make():
            return TelegramConnector(NAME, make_config(sandbox, batch_size=2))
        return make

    @pytest.fixture
    def contract_feed(self, sandbox):
        counter = iter(range(10_000))

        async def feed(n):
            for _ in range(n):
                sandbox.say(42, f"Jalan rusak di RT {next(counter)} Kelurahan Sukamaju")
        return feed


async def test_kill_between_commit_and_confirmation_loses_nothing_and_stores_nothing_twice(sandbox, store, tmp_path):
    for i in range(3):
        sandbox.say(42, f"drainase mampet nomor {i}")
    first = TelegramConnector(NAME, make_config(sandbox))
    await first.start(context(store, tmp_path), None)
    batch = await first.poll()
    await ingest_batch(store, NAME, "telegram", batch)  # committed ...
    await first.bot.shutdown()                          # ... then killed: no ack, no stop
    assert len(sandbox.pending) == 3                    # Telegram still holds all three
    sandbox.say(42, "lampu jalan mati")
    second = TelegramConnector(NAME, make_config(sandbox))
    await second.start(context(store, tmp_path), await store.load_checkpoint(NAME))
    try:
        assert await drain(second, store, "telegram") == 1
    finally:
        await second.stop()
    stored = await rows(store)
    assert [r.text for r in stored] == [f"drainase mampet nomor {i}" for i in range(3)] + ["lampu jalan mati"]
    assert sandbox.pending == []
    offsets = [int(p["offset"]) for m, p in sandbox.calls if m == "getupdates" and "offset" in p]
    assert offsets[0] == batch.checkpoint["offset"]  # the restart confirmed with the stored offset


async def test_kill_before_commit_redelivers_everything(sandbox, store, tmp_path):
    sandbox.say(42, "pohon tumbang")
    first = TelegramConnector(NAME, make_config(sandbox))
    await first.start(context(store, tmp_path), None)
    assert len((await first.poll()).envelopes) == 1
    await first.bot.shutdown()  # killed before the commit
    second = TelegramConnector(NAME, make_config(sandbox))
    await second.start(context(store, tmp_path), await store.load_checkpoint(NAME))
    try:
        assert await drain(second, store, "telegram") == 1
    finally:
        await second.stop()
    assert [r.text for r in await rows(store)] == ["pohon tumbang"]


async def test_ack_confirms_only_on_the_next_call(sandbox, store, connector):
    sandbox.say(42, "banjir di kolong jembatan")
    batch = await connector.poll()
    result = await ingest_batch(store, NAME, "telegram", batch)
    await connector.ack(batch, result)
    assert len(sandbox.pending) == 1  # not yet told
    assert (await connector.poll()).envelopes == []
    assert sandbox.pending == []


async def test_429_storm_is_honoured_with_next_poll_in(sandbox, store, connector):
    sandbox.say(42, "parkir liar di pasar")
    sandbox.storm(4, retry_after=2, methods=["getUpdates"])
    hints = [(await connector.poll()).next_poll_in for _ in range(4)]
    assert hints == [2.0, 2.0, 2.0, 2.0]
    batch = await connector.poll()
    assert [e.text for e in batch.envelopes] == ["parkir liar di pasar"] and batch.next_poll_in is None
    sandbox.storm(1, retry_after=7, methods=["sendMessage"])
    item = OutboxItem(1, "reply", "ADU-2026-000001#ack", f"reply:{NAME}",
                      {"origin": {"chat_id": 42, "message_id": 1}, "text": "Terima kasih"})
    with pytest.raises(RetryableError) as caught:
        await connector.reply(item, "k")
    assert caught.value.retry_after == 7


async def test_edits_and_replies_become_follow_ups(sandbox, store, connector):
    first = sandbox.say(42, "Lampu PJU mati di Jl. Melati")
    await drain(connector, store, "telegram")
    sandbox.edit(42, first["message_id"], "Lampu PJU mati di Jl. Melati no. 5")
    sandbox.say(42, "sudah 3 hari", reply_to=first["message_id"])
    await drain(connector, store, "telegram")
    # the citizen answers our acknowledgement: found through the reply's remote_ref
    ack = OutboxItem(1, "reply", "ADU-X#ack", f"reply:{NAME}", {"origin": {"chat_id": 42, "message_id": 1},
                                                               "text": "Terima kasih, aduan Anda ..."})
    receipt = await connector.reply(ack, "k1")
    async with store.session() as s:
        ref = (await s.exec(select(Complaint.ref))).scalars().one()
        await enqueue(s, "reply", f"{ref}#ack", f"reply:{NAME}", {})
        row = (await s.exec(select(OutboxRow))).scalars().one()
        row.remote_ref = receipt.remote_ref
        await s.commit()
    bot_message = int(receipt.remote_ref.split(":")[1])
    sandbox.say(42, "ini fotonya menyusul", reply_to=bot_message)
    await drain(connector, store, "telegram")
    outcomes = [(r.outcome, r.reason) for r in await rows(store)]
    assert outcomes == [("complaint", None), ("follow_up", "edit"), ("follow_up", "reply"), ("follow_up", "reply")]
    assert sandbox.sent[-1]["reply_to_message"]["message_id"] == 1 and receipt.remote_ref.startswith("42:")


async def test_commands_answer_in_bahasa_and_status_only_for_the_own_complaint(sandbox, store, connector):
    sandbox.say(42, "Sampah menumpuk di TPS Cempaka")
    sandbox.say(43, "Air PDAM keruh")
    await drain(connector, store, "telegram")
    async with store.session() as s:
        refs = dict((await s.exec(select(EnvelopeRow.sender_id, Complaint.ref).join(
            Complaint, Complaint.envelope_id == EnvelopeRow.id))).all())
    sandbox.say(42, "/start")
    sandbox.say(42, f"/status {refs['42']}")
    sandbox.say(42, f"/status {refs['43']}")   # someone else's complaint
    sandbox.say(42, "/status")
    await drain(connector, store, "telegram")
    answers = [m["text"] for m in sandbox.sent]
    templates = Templates()
    assert answers[0] == templates("start_help", pemda="Pemerintah Daerah")
    assert answers[1].startswith(f"Status aduan {refs['42']}: diterima, sedang diverifikasi")
    assert answers[2] == templates("status_unknown", ref=refs["43"])
    assert answers[3] == templates("status_usage")
    assert all(m["chat"]["id"] == 42 for m in sandbox.sent)
    skipped = [r.reason for r in await rows(store) if r.outcome == "skipped"]
    assert skipped == ["command /start", "command /status", "command /status", "command /status"]
    count = len(sandbox.sent)
    sandbox.inject({"message": sandbox.message(42, 2)})  # the /start again: a redelivery, not answered twice
    await drain(connector, store, "telegram")
    assert len(sandbox.sent) == count


async def test_files_are_downloaded_within_the_size_limit(sandbox, store, connector, tmp_path):
    small, big = b"\xff\xd8\xff\xe0" + b"s" * 396, b"\xff\xd8\xff\xe0" + b"B" * 4996
    sandbox.say(42, caption="Foto jalan berlubang", photo=[small, big])
    sandbox.say(42, caption="Surat pengantar", document=b"D" * 5000, filename="surat.pdf")
    sandbox.say(42, caption="Dokumen", document=b"MZ\x90\x00 program", filename="foto.jpg")
    await drain(connector, store, "telegram")
    photo_row, doc_row, exe_row = await rows(store)
    photo = photo_row.attachments[0]
    assert photo["size"] == 400 and photo["skipped_reason"] is None and photo["content_type"] == "image/jpeg"
    assert photo["path"] == f"{photo['sha256'][:2]}/{photo['sha256']}.jpg"  # relative: replicas share the dir
    assert (tmp_path / "att" / photo["path"]).read_bytes() == small
    assert doc_row.attachments[0]["skipped_reason"] == "larger than 1000 bytes (5000)"
    assert doc_row.attachments[0]["path"] is None and doc_row.text == "Surat pengantar"
    exe = exe_row.attachments[0]  # a program named foto.jpg: metadata and the reason, no file
    assert exe["path"] is None and exe["skipped_reason"] == "type application/x-msdownload not accepted"
    assert exe["filename"] == "foto.jpg" and exe["sha256"]
    assert photo_row.outcome == doc_row.outcome == "complaint"


async def test_contact_links_the_phone_and_odd_updates_are_skipped_with_a_reason(sandbox, store, connector):
    connector.config = make_config(sandbox, allowed_updates=["message", "edited_message", "my_chat_member"])
    sandbox.say(42, contact={"phone_number": "6281234567890", "first_name": "Siti", "user_id": 42})
    sandbox.say(-100500, "halo grup", chat_type="supergroup")
    sandbox.say(42, location=(-6.9147, 107.6098))
    sandbox.inject({"my_chat_member": {"chat": {"id": 42, "type": "private"}, "date": 1}})
    sandbox.say(42, extra={"sticker": {"file_id": "S", "file_unique_id": "S", "type": "regular", "width": 1,
                                       "height": 1, "is_animated": False, "is_video": False}})
    await drain(connector, store, "telegram")
    got = [(r.outcome, r.reason) for r in await rows(store)]
    assert got == [("skipped", "contact shared: phone number linked to the sender"),
                   ("skipped", "message from a supergroup chat"), ("complaint", None),
                   ("skipped", "unsupported update type: my_chat_member"),
                   ("skipped", "unsupported message content: sticker")]
    async with store.session() as s:
        idents = {(i.channel, i.address): i.reporter_id for i in (await s.exec(select(Identity))).scalars()}
    assert idents[("phone", "+6281234567890")] == idents[("telegram", "42")]
    assert (await rows(store))[2].meta["location"] == {"lat": -6.9147, "lon": 107.6098}


async def test_replies_go_to_the_same_chat_and_blocked_chats_are_permanent(sandbox, connector):
    item = OutboxItem(5, "reply", "ADU-2026-000009#answer-1", f"reply:{NAME}",
                      {"origin": {"chat_id": 77, "message_id": 3}, "text": "Tanggapan: jalan sudah diperbaiki"})
    receipt = await connector.reply(item, "reply:x")
    assert [(m["chat"]["id"], m["text"]) for m in sandbox.sent] == [(77, "Tanggapan: jalan sudah diperbaiki")]
    assert receipt.remote_ref == f"77:{sandbox.sent[0]['message_id']}"
    sandbox.blocked.add(77)
    with pytest.raises(PermanentDeliveryError, match="tidak dapat dihubungi melalui Telegram"):
        await connector.reply(item, "reply:x")


async def test_bad_token_is_an_auth_error(sandbox, store, tmp_path):
    conn = TelegramConnector(NAME, make_config(sandbox, token="1:not-the-token"))
    with pytest.raises(AuthError):
        await conn.start(context(store, tmp_path), None)
    await conn.stop()


async def test_webhook_mode_verifies_the_secret_and_stores_once(sandbox, store, tmp_path):
    port = free_port()
    path = "/webhooks/telegram/test"
    conn = TelegramConnector(NAME, make_config(sandbox, mode="webhook", webhook_secret=SECRET, webhook_path=path,
                                               webhook_url=f"http://127.0.0.1:{port}{path}"))
    app = web.Application()
    app.router.add_routes(conn.routes())
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        await conn.start(context(store, tmp_path), None)
        assert sandbox.webhook["secret_token"] == SECRET
        sandbox.say(42, "Jembatan retak di Desa Sukamaju")
        sandbox.say(42, "/start")
        for _ in range(200):
            if sandbox.webhook_deliveries == 2:
                break
            await asyncio.sleep(0.02)
        assert (await conn.poll()).envelopes == []  # nothing to poll in webhook mode
        update = {"update_id": 1, "message": sandbox.message(42, 1)}
        async with aiohttp.ClientSession() as s:
            url = f"http://127.0.0.1:{port}{path}"
            for headers, expected in [({}, 401), ({"X-Telegram-Bot-Api-Secret-Token": "wrong"}, 401),
                                      ({"X-Telegram-Bot-Api-Secret-Token": SECRET}, 200)]:
                async with s.post(url, data=json.dumps(update), headers=headers) as resp:
                    assert resp.status == expected
        stored = await rows(store)
        assert [(r.text, r.outcome) for r in stored] == [("Jembatan retak di Desa Sukamaju", "complaint"),
                                                        ("/start", "skipped")]
        assert sandbox.sent[0]["text"].startswith("Selamat datang")
    finally:
        await conn.stop()
        await runner.cleanup()


async def test_reparse_rebuilds_the_envelope_from_raw(sandbox, store, connector):
    sandbox.say(42, "Trotoar rusak", reply_to=9)
    await drain(connector, store, "telegram")
    row = (await rows(store))[0]
    env = TelegramConnector.reparse(row.raw, row.external_id)
    assert (env.external_id, env.text, env.reply_to) == (row.external_id, "Trotoar rusak", ["42:9"])


MALFORMED_UPDATES = [
    {"message": "not an object"},
    {"message": {"chat": {"id": 42, "type": "private"}, "message_id": 7, "date": "kemarin", "text": "x"}},
    {"message": {"chat": {"id": 42, "type": "private"}, "message_id": 8, "date": 1, "from": "someone",
                 "text": "halo"}},
    {"message": {"chat": {"id": 42, "type": "private"}, "message_id": 9, "date": 1, "photo": [{"width": 1}]}},
    {"message": {"chat": {"id": 42, "type": "private"}, "message_id": 10, "date": 1, "text": 12345}},
    {"message": {"chat": {"id": 42, "type": "private"}, "message_id": 11, "date": 1, "text": "balas",
                 "reply_to_message": 3}},
    {"message": {"chat": {"id": 42, "type": "private"}, "message_id": 12, "date": 1,
                 "document": {"file_id": "f", "file_size": "besar"}}},
]


async def test_a_malformed_update_is_quarantined_and_the_rest_of_the_batch_goes_on(sandbox, store, connector):
    sandbox.say(42, "Jalan berlubang di Jl. Merdeka")
    for update in MALFORMED_UPDATES:
        sandbox.inject(update)
    sandbox.say(42, "Lampu jalan mati di Gang Mawar")
    assert await drain(connector, store, "telegram") == 2 + len(MALFORMED_UPDATES)
    stored = await rows(store)
    assert [r.outcome for r in stored] == ["complaint"] + ["quarantined"] * len(MALFORMED_UPDATES) + ["complaint"]
    assert all(r.reason and "unparseable update" in r.reason for r in stored[1:-1])
    assert sandbox.pending == []  # Telegram was told to forget all of them
    assert TelegramConnector.reparse(stored[2].raw, stored[2].external_id).error  # still bad, still quarantined


async def test_webhook_quarantines_a_malformed_update_with_200(sandbox, store, tmp_path):
    port = free_port()
    path = "/webhooks/telegram/test"
    conn = TelegramConnector(NAME, make_config(sandbox, mode="webhook", webhook_secret=SECRET, webhook_path=path,
                                               webhook_url=f"http://127.0.0.1:{port}{path}"))
    app = web.Application()
    app.router.add_routes(conn.routes())
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        await conn.start(context(store, tmp_path), None)
        async with aiohttp.ClientSession() as s:
            for update in MALFORMED_UPDATES[:3]:
                async with s.post(f"http://127.0.0.1:{port}{path}", data=json.dumps({"update_id": 5, **update}),
                                  headers={"X-Telegram-Bot-Api-Secret-Token": SECRET}) as resp:
                    assert resp.status == 200
        assert [r.outcome for r in await rows(store)] == ["quarantined"] * 3
    finally:
        await conn.stop()
        await runner.cleanup()
