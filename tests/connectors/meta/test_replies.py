"""Replies on Facebook and Instagram: the 24-hour window, HUMAN_AGENT, comments (public + private), errors, parking."""

from __future__ import annotations

import json

import pytest

from omnichannel.errors import AuthError, PermanentDeliveryError, RetryableError
from omnichannel.sandbox.meta import MetaSandbox
from omnichannel.supervisor import ConnectorRunner
from omnichannel.templates import Templates
from omnichannel.types import OutboxItem
from tests.connectors.meta.helpers import NAME, PLATFORMS, context, open_connector, rows

HOUR, DAY = 3600, 86400
REF = "ADU-2026-000042"
DETAIL = "Tanggapan Dinas PUPR untuk Bapak Budi (0812-3456-7890): perbaikan dijadwalkan Senin."


@pytest.fixture
async def sandbox():
    async with MetaSandbox() as sb:
        yield sb


async def wire(sandbox, store, tmp_path, platform, **kw):
    conn, client = await open_connector(sandbox, store, tmp_path, platform, **kw)
    return conn, client


@pytest.fixture(params=PLATFORMS)
async def wired(request, sandbox, store, tmp_path):
    conn, client = await wire(sandbox, store, tmp_path, request.param)
    yield request.param, conn
    await client.close()
    await conn.stop()


def item(origin, text=DETAIL, purpose="answer", n=1):
    return OutboxItem(n, "reply", f"{REF}#{purpose}", f"reply:{NAME}",
                      {"origin": origin, "text": text, "complaint": REF, "purpose": purpose, "public": False})


async def stored_origin(store, external_id):
    return next(r.origin for r in await rows(store) if r.external_id == external_id)


async def test_direct_message_inside_the_window(sandbox, wired, store):
    platform, conn = wired
    citizen, other = sandbox.user(platform, "Budi"), sandbox.user(platform, "Ani")
    mid, _ = await sandbox.dm(platform, citizen, "Jalan berlubang di depan SDN 3")
    await sandbox.dm(platform, other, "Jalan berlubang juga")
    receipt = await conn.reply(item(await stored_origin(store, mid)), "k")
    (sent,) = sandbox.sent
    assert sent["to"] == citizen and sent["messaging_type"] == "RESPONSE" and sent["message"]["text"] == DETAIL
    assert receipt.remote_ref == sent["message_id"]
    assert other not in json.dumps(sent)


async def test_outside_24_hours_without_the_tag_the_reply_is_undeliverable_with_a_reason(sandbox, wired, store):
    platform, conn = wired
    citizen = sandbox.user(platform)
    mid, _ = await sandbox.dm(platform, citizen, "Banjir di Kelurahan Tugu", at=sandbox.now() - 30 * HOUR)
    with pytest.raises(PermanentDeliveryError) as err:
        await conn.reply(item(await stored_origin(store, mid)), "k")
    assert "lebih dari 24 jam sejak pesan terakhir warga" in str(err.value)
    assert sandbox.sent == [] and sandbox.rejected == []  # nothing was even tried


async def test_human_agent_tag_up_to_seven_days(sandbox, any_store, tmp_path):
    conn, client = await wire(sandbox, any_store, tmp_path, "instagram", human_agent_tag=True)
    try:
        recent, old = sandbox.user("instagram", "sari"), sandbox.user("instagram", "tono")
        mid, _ = await sandbox.dm("instagram", recent, "Sampah di sungai", at=sandbox.now() - 3 * DAY)
        old_mid, _ = await sandbox.dm("instagram", old, "Sampah di sungai juga", at=sandbox.now() - 8 * DAY)
        await conn.reply(item(await stored_origin(any_store, mid)), "k")
        (sent,) = sandbox.sent
        assert sent["messaging_type"] == "MESSAGE_TAG" and sent["tag"] == "HUMAN_AGENT" and sent["to"] == recent
        with pytest.raises(PermanentDeliveryError, match="lebih dari 7 hari"):
            await conn.reply(item(await stored_origin(any_store, old_mid)), "k")
        sandbox.human_agent = False  # Meta says no (the app lost the permission): a clear permanent error
        with pytest.raises(PermanentDeliveryError, match="menolak pesan di luar jendela"):
            await conn.reply(item(await stored_origin(any_store, mid)), "k")
        assert sandbox.rejected[-1]["error_subcode"] == 2534022
    finally:
        await client.close()
        await conn.stop()


async def test_long_answers_are_split_into_messages(sandbox, wired, store):
    platform, conn = wired
    citizen = sandbox.user(platform)
    mid, _ = await sandbox.dm(platform, citizen, "Pohon tumbang")
    await conn.reply(item(await stored_origin(store, mid), text="kata " * 900), "k")
    limit = 2000 if platform == "facebook" else 1000
    assert len(sandbox.sent) >= 2
    assert all(len(s["message"]["text"]) <= limit for s in sandbox.sent)
    assert " ".join(s["message"]["text"] for s in sandbox.sent) == ("kata " * 900).strip()


async def test_comment_gets_a_public_reply_without_personal_data_and_a_private_one_with_details(
        sandbox, wired, store):
    platform, conn = wired
    citizen = sandbox.user(platform, "Budi Santoso")
    comment_id, _ = await sandbox.comment(platform, citizen, "Saya Budi 0812-3456-7890, jalan rusak di RT 05")
    origin = await stored_origin(store, comment_id)
    ack = Templates()("ack", ref=REF) + " Nama: Budi Santoso, telp 0812-3456-7890."
    receipt = await conn.reply(item(origin, text=ack, purpose="ack"), "k")
    (public,) = sandbox.public
    assert public["object_id"] == comment_id
    assert public["message"] == f"Terima kasih, laporan Anda kami terima dengan nomor {REF}, detail kami kirim lewat pesan."
    assert "Budi" not in public["message"] and "0812" not in public["message"]
    (private,) = sandbox.sent
    assert private["recipient"] == {"comment_id": comment_id} and private["message"]["text"] == ack
    assert private["to"] == citizen and receipt.detail == {"public": public["id"], "private": "private_reply"}
    # the dispatcher retries a row whose answer was lost: nothing is posted twice
    again = await conn.reply(item(origin, text=ack, purpose="ack"), "k")
    assert len(sandbox.public) == 1 and len(sandbox.sent) == 1 and again.detail["public"] == public["id"]


async def test_later_answer_to_a_comment_goes_by_direct_message_when_the_window_allows(sandbox, wired, store):
    platform, conn = wired
    citizen = sandbox.user(platform, "Dewi")
    comment_id, _ = await sandbox.comment(platform, citizen, "Lampu taman mati")
    origin = await stored_origin(store, comment_id)
    await conn.reply(item(origin, text="Aduan diterima, detail ...", purpose="ack"), "k")
    with pytest.raises(PermanentDeliveryError) as err:  # the one private reply is used, no DM from the citizen yet
        await conn.reply(item(origin, purpose="answer"), "k")
    assert "posted; the details were not sent" in str(err.value) and "belum pernah mengirim pesan" in str(err.value)
    assert sandbox.public[-1]["message"] == f"Aduan {REF} sudah ditanggapi, detail kami kirim lewat pesan."
    await sandbox.dm(platform, citizen, "Baik, saya tunggu kabarnya")  # the citizen answers the private reply
    receipt = await conn.reply(item(origin, purpose="answer"), "k")
    assert sandbox.sent[-1]["recipient"] == {"id": citizen} and sandbox.sent[-1]["message"]["text"] == DETAIL
    assert receipt.detail["private"] == "RESPONSE"
    assert len([p for p in sandbox.public if "ditanggapi" in p["message"]]) == 1  # not posted twice


async def test_private_reply_to_an_old_comment_is_refused_with_a_reason(sandbox, wired, store):
    platform, conn = wired
    citizen = sandbox.user(platform)
    comment_id, _ = await sandbox.comment(platform, citizen, "Trotoar rusak", at=sandbox.now() - 8 * DAY)
    origin = await stored_origin(store, comment_id)
    origin.pop("created_time")  # as if the age were unknown: Meta's own refusal (10903) decides
    with pytest.raises(PermanentDeliveryError, match="not sent"):
        await conn.reply(item(origin, purpose="ack"), "k")
    assert sandbox.rejected[-1]["error"] == 10903 and len(sandbox.public) == 1


async def test_a_purpose_without_public_wording_goes_privately_only(sandbox, wired, store):
    platform, conn = wired
    citizen = sandbox.user(platform)
    comment_id, _ = await sandbox.comment(platform, citizen, "Selokan mampet")
    await conn.reply(item(await stored_origin(store, comment_id), text="Aduan Anda dibuka kembali.",
                          purpose="reopened"), "k")
    assert sandbox.public == [] and sandbox.sent[0]["recipient"] == {"comment_id": comment_id}


async def test_private_only_and_none_modes(sandbox, store, tmp_path):
    conn, client = await wire(sandbox, store, tmp_path, "facebook", comment_replies="private")
    try:
        citizen = sandbox.user("facebook")
        comment_id, _ = await sandbox.comment("facebook", citizen, "Parkir liar")
        await conn.reply(item(await stored_origin(store, comment_id), purpose="ack"), "k")
        assert sandbox.public == [] and len(sandbox.sent) == 1
        conn.config.comment_replies = "none"
        with pytest.raises(PermanentDeliveryError, match="comment replies are off"):
            await conn.reply(item(await stored_origin(store, comment_id), purpose="ack"), "k")
    finally:
        await client.close()
        await conn.stop()


async def test_a_public_template_with_personal_data_is_never_posted(sandbox, wired, store):
    platform, conn = wired
    conn.ctx.templates = Templates({"ack_comment_public": "Aduan {ref} diterima. Info: 0812-3456-7890"})
    citizen = sandbox.user(platform)
    comment_id, _ = await sandbox.comment(platform, citizen, "Got mampet")
    with pytest.raises(PermanentDeliveryError, match="personal data"):
        await conn.reply(item(await stored_origin(store, comment_id), purpose="ack"), "k")
    assert sandbox.public == [] and sandbox.sent == []


async def test_mentions_get_a_public_reply_with_the_ref_only(sandbox, wired, store):
    platform, conn = wired
    citizen = sandbox.user(platform, "Joko")
    comment_id, _ = await sandbox.mention(platform, citizen, "@pemkot_contoh PJU mati, saya Joko 081234567890")
    await conn.reply(item(await stored_origin(store, comment_id), purpose="ack"), "k")
    (public,) = sandbox.public
    assert public["message"] == Templates()("ack_public", ref=REF) and public["object_id"] == comment_id
    assert sandbox.sent == []


@pytest.mark.parametrize("code", [4, 17, 32, 613, 80001, 80006])
async def test_rate_limits_are_retryable_with_metas_wait(sandbox, store, tmp_path, code):
    conn, client = await wire(sandbox, store, tmp_path, "facebook")
    try:
        citizen = sandbox.user("facebook")
        mid, _ = await sandbox.dm("facebook", citizen, "Macet parah di simpang lima")
        sandbox.throttle(1, code=code, minutes=3)
        with pytest.raises(RetryableError) as err:
            await conn.reply(item(await stored_origin(store, mid)), "k")
        assert err.value.retry_after == 180 and f"Graph error {code}" in str(err.value)
        await conn.reply(item(await stored_origin(store, mid)), "k")  # the next try goes through
        assert len(sandbox.sent) == 1
    finally:
        await client.close()
        await conn.stop()


async def test_expired_token_parks_the_connector_and_nothing_is_lost(sandbox, wired, store, tmp_path):
    platform, conn = wired
    citizen = sandbox.user(platform)
    mid, _ = await sandbox.dm(platform, citizen, "Pungli di kantor kelurahan")
    sandbox.expire_token()
    with pytest.raises(RetryableError, match="waits") as err:  # the reply stays in the outbox
        await conn.reply(item(await stored_origin(store, mid)), "k")
    assert err.value.retry_after >= 600 and conn.parked and "190" in conn.parked
    with pytest.raises(AuthError):
        await conn.poll()
    # the supervisor parks it (no hot loop) and says so
    runner = ConnectorRunner(conn, NAME, platform, context(store, tmp_path, platform), store,
                             context(store, tmp_path, platform).submit, poll_timeout=10, backoff_initial=1,
                             backoff_max=5, owner="test", lease_ttl=30)
    await runner.tick()
    assert runner.health.state == "parked" and "190" in runner.health.last_error
    # signed deliveries are still stored: the app secret, not the token, signs them
    second, status = await sandbox.dm(platform, citizen, "Dan satu lagi: lampu mati")
    assert status == 200 and (await rows(store))[-1].external_id == second
    with pytest.raises(RetryableError):
        await conn.reply(item(await stored_origin(store, second)), "k")
    assert sandbox.sent == []


async def test_a_visitor_post_on_the_page_is_answered_under_it_and_privately(sandbox, store, tmp_path):
    conn, client = await wire(sandbox, store, tmp_path, "facebook")
    try:
        citizen = sandbox.user("facebook", "Sri")
        post_id, status = await sandbox.visitor_post(citizen, "Pak, pasar Johar becek dan atapnya bocor, mohon dicek")
        assert status == 200
        (row,) = await rows(store)
        assert row.outcome == "complaint" and row.origin["type"] == "post" and row.origin["object_id"] == post_id
        await conn.reply(item(row.origin, text="Aduan ADU-2026-000042 diterima.", purpose="ack"), "k")
        assert [p["object_id"] for p in sandbox.public] == [post_id]
        assert sandbox.sent[0]["recipient"] == {"post_id": post_id} and sandbox.sent[0]["to"] == citizen
    finally:
        await client.close()
        await conn.stop()
