"""Catch-up after downtime: what arrived while the daemon was down is read through the Graph API, once."""

from __future__ import annotations

import pytest

from omnichannel.errors import RetryableError
from omnichannel.sandbox.meta import MetaSandbox
from tests.connectors.meta.helpers import NAME, PLATFORMS, open_connector, rows
from tests.contract.connector_contract import count_envelopes, drain


@pytest.fixture
async def sandbox():
    async with MetaSandbox() as sb:
        yield sb


@pytest.mark.parametrize("platform", PLATFORMS)
async def test_downtime_is_caught_up_without_gaps_or_doubles(sandbox, any_store, tmp_path, platform):
    budi, siti, rina = (sandbox.user(platform, n) for n in ("Budi", "Siti", "Rina"))
    conn, client = await open_connector(sandbox, any_store, tmp_path, platform)
    try:
        before = [await sandbox.dm(platform, budi, "Jalan rusak di Jl. Merdeka"),
                  await sandbox.comment(platform, siti, "Sampah menumpuk di pasar")]
        assert [status for _, status in before] == [200, 200]
        assert await drain(conn, any_store, platform) == 0  # catch-up finds nothing new: webhooks had it all
    finally:
        await client.close()  # the daemon goes down
        await conn.stop()
    missed = [await sandbox.dm(platform, rina, "Banjir setinggi lutut di RT 04"),
              await sandbox.photo(platform, rina, b"\xff\xd8\xffbanjir", text="Fotonya"),
              await sandbox.comment(platform, budi, "Lampu jalan mati sejak kemarin"),
              await sandbox.comment(platform, siti, "Masih menumpuk", parent=before[1][0])]
    assert [status for _, status in missed] == [0, 0, 0, 0] and len(sandbox.undelivered) == 4
    checkpoint = await any_store.load_checkpoint(NAME)
    assert checkpoint and checkpoint["since"]
    conn, client = await open_connector(sandbox, any_store, tmp_path, platform, checkpoint=checkpoint, batch_size=2)
    try:
        assert await drain(conn, any_store, platform) == 4
        assert await drain(conn, any_store, platform) == 0
        # Meta retries its failed deliveries once we are back: absorbed
        for p, body in list(sandbox.undelivered):
            assert await sandbox.deliver(p, body) == 200
    finally:
        await client.close()
        await conn.stop()
    assert await count_envelopes(any_store) == (6, 6)
    got = {r.external_id: r for r in await rows(any_store)}
    ids = [i for i, _ in before + missed]
    assert sorted(got) == sorted(ids)
    photo = got[missed[1][0]]
    assert photo.text == "Fotonya" and (tmp_path / "att" / photo.attachments[0]["path"]).read_bytes() == b"\xff\xd8\xffbanjir"
    reply = got[missed[3][0]]
    assert reply.outcome == "follow_up"  # a reply under the stored comment stays with its complaint
    assert got[missed[0][0]].meta["via"] == "catch-up" and got[missed[0][0]].sender_id == rina
    # our own answers (in the conversation, under the comments) are not citizens' messages: not read back
    assert all(r.sender_id not in (sandbox.page_id, sandbox.instagram_id) for r in got.values())


@pytest.mark.parametrize("platform", PLATFORMS)
async def test_our_own_replies_are_not_read_back(sandbox, store, tmp_path, platform):
    citizen = sandbox.user(platform, "Wati")
    conn, client = await open_connector(sandbox, store, tmp_path, platform)
    try:
        comment_id, _ = await sandbox.comment(platform, citizen, "Pasar becek, atap bocor")
        mid, _ = await sandbox.dm(platform, citizen, "Detail: di los sayur")
        origin = next(r.origin for r in await rows(store) if r.external_id == comment_id)
        from omnichannel.types import OutboxItem

        await conn.reply(OutboxItem(1, "reply", "ADU-2026-000001#ack", f"reply:{NAME}",
                                    {"origin": origin, "text": "Aduan ADU-2026-000001 diterima.",
                                     "complaint": "ADU-2026-000001", "purpose": "ack"}), "k")
        assert len(sandbox.public) == 1 and len(sandbox.sent) == 1
        assert await drain(conn, store, platform) == 0
    finally:
        await client.close()
        await conn.stop()
    assert [r.external_id for r in await rows(store)] == [comment_id, mid]


async def test_throttled_catch_up_retries_from_the_same_place(sandbox, store, tmp_path):
    citizen = sandbox.user("facebook")
    conn, client = await open_connector(sandbox, store, tmp_path, "facebook")
    try:
        for n in range(3):
            await sandbox.dm("facebook", citizen, f"Aduan nomor {n}: jalan rusak", deliver=False)
        sandbox.throttle(1, code=32, minutes=2)
        with pytest.raises(RetryableError) as err:
            await conn.poll()
        assert err.value.retry_after == 120
        assert await drain(conn, store, "facebook") == 3
    finally:
        await client.close()
        await conn.stop()


async def test_catch_up_off_reads_nothing(sandbox, store, tmp_path):
    citizen = sandbox.user("instagram")
    await sandbox.dm("instagram", citizen, "Air mati", deliver=False)
    conn, client = await open_connector(sandbox, store, tmp_path, "instagram", catch_up=False)
    try:
        calls = sandbox.calls
        batch = await conn.poll()
        assert batch.envelopes == [] and batch.checkpoint is None and sandbox.calls == calls
    finally:
        await client.close()
        await conn.stop()
