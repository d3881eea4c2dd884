"""Ingest: one transaction for envelopes and checkpoint; every envelope accounted for."""

from __future__ import annotations

from sqlalchemy import func, select

from omnichannel.ingest import ingest_batch
from omnichannel.models import Complaint, EnvelopeRow, FollowUp, Identity, Quarantine
from omnichannel.types import Batch, Envelope, Sender


def env(ext: str, text: str = "jalan rusak di depan pasar", **kw) -> Envelope:
    kw.setdefault("sender", Sender(id=f"u{ext}", name="Budi"))
    return Envelope(external_id=ext, raw=f'{{"id": "{ext}"}}', text=text, **kw)


async def test_batch_and_checkpoint_commit_together(any_store):
    batch = Batch([env("1"), env("2")], checkpoint={"offset": 3})
    result = await ingest_batch(any_store, "tg", "telegram", batch)
    assert [i.outcome for i in result.items] == ["complaint", "complaint"]
    assert all(i.complaint_ref and i.complaint_ref.startswith("ADU-") for i in result.items)
    assert await any_store.load_checkpoint("tg") == {"offset": 3}
    async with any_store.session() as s:
        assert (await s.exec(select(func.count()).select_from(Complaint))).scalar_one() == 2


async def test_redelivery_is_absorbed_and_reports_the_same_ref(any_store):
    first = await ingest_batch(any_store, "tg", "telegram", Batch([env("1")], checkpoint={"offset": 2}))
    again = await ingest_batch(any_store, "tg", "telegram", Batch([env("1"), env("1")], checkpoint={"offset": 2}))
    assert again.new == 0 and again.duplicates == 2
    assert again.items[0].complaint_ref == first.items[0].complaint_ref
    async with any_store.session() as s:
        assert (await s.exec(select(func.count()).select_from(EnvelopeRow))).scalar_one() == 1


async def test_every_envelope_is_accounted_for(any_store):
    batch = Batch([
        env("a"),
        env("b", skip_reason="auto-reply"),
        env("c", error="undecodable MIME"),
        env("d", text="   "),
        env("e", text="tambahan: sudah seminggu", reply_to=["msg-a"]),
    ])
    batch.envelopes[0].message_id = "msg-a"
    # the reply's parent must already be stored: ingest it first
    await ingest_batch(any_store, "mail", "email", Batch([batch.envelopes[0]]))
    result = await ingest_batch(any_store, "mail", "email", Batch(batch.envelopes[1:]))
    assert [i.outcome for i in result.items] == ["skipped", "quarantined", "skipped", "follow_up"]
    assert result.items[3].complaint_ref is not None
    async with any_store.session() as s:
        q = await s.exec(select(Quarantine))
        rows = q.scalars().all()
        assert len(rows) == 1 and rows[0].reason == "undecodable MIME" and rows[0].raw == b'{"id": "c"}'
        assert (await s.exec(select(func.count()).select_from(FollowUp))).scalar_one() == 1
        outcomes = (await s.exec(select(EnvelopeRow.outcome, func.count()).group_by(EnvelopeRow.outcome))).all()
        assert dict(outcomes) == {"complaint": 1, "skipped": 2, "quarantined": 1, "follow_up": 1}


async def test_identities_link_by_phone_across_channels(any_store):
    await ingest_batch(any_store, "wa", "whatsapp", Batch([env("w1", sender=Sender(id="6281234567890",
                                                                                      phone="+6281234567890"))]))
    await ingest_batch(any_store, "tg", "telegram", Batch([env("t1", sender=Sender(id="42", phone="+6281234567890"))]))
    async with any_store.session() as s:
        reporters = (await s.exec(select(Identity.reporter_id).distinct())).all()
        assert len(reporters) == 1


async def test_ticket_ref_in_subject_makes_a_follow_up(any_store):
    r = await ingest_batch(any_store, "web", "webform", Batch([env("1")]))
    ref = r.items[0].complaint_ref
    r2 = await ingest_batch(any_store, "mail", "email", Batch([env("m1", ticket_ref=ref.lower())]))
    assert r2.items[0].outcome == "follow_up" and r2.items[0].complaint_ref == ref
