"""One citizen's bad message never costs another's: unstorable text is cleaned, refused rows isolated."""

from __future__ import annotations

import asyncio
import json
import math
from datetime import UTC, datetime

from sqlalchemy import select, text

from omnichannel.committer import GroupCommitter
from omnichannel.models import Complaint, EnvelopeRow, Identity, Quarantine
from omnichannel.types import Batch, Envelope, Sender

POISON_MARK = "TOLAK-DB"


async def refuse_rows_containing(store, mark: str = POISON_MARK) -> None:
    """Make the database itself refuse any envelope row whose text holds ``mark`` (a real refusal)."""
    async with store.session() as s:
        if store.dialect == "sqlite":
            await s.exec(text(
                "CREATE TRIGGER refuse_poison BEFORE INSERT ON envelopes "
                f"WHEN NEW.text LIKE '%{mark}%' BEGIN SELECT RAISE(ABORT, 'refused by policy'); END"))
        else:
            await s.exec(text(f"ALTER TABLE envelopes ADD CONSTRAINT refuse_poison CHECK (text NOT LIKE '%{mark}%')"))
        await s.commit()


def good(n: int) -> Envelope:
    return Envelope(external_id=f"good-{n}", raw=json.dumps({"n": n}), text=f"lampu jalan mati nomor {n}",
                    sender=Sender(id=f"u{n}", name="Sari"))


async def test_nul_surrogates_and_nan_are_stored_with_the_raw_bytes_exact(any_store):
    raw_dict = {"text": "jalan \ud800 rusak", "n": 1}
    raw_str = '{"text":"air mati \udfff"}'
    poison = [
        Envelope(external_id="nul", raw=b"{\"text\":\"a\\u0000b\"}\x00", text="sampah\x00 menumpuk",
                 subject="subjek\x00", sender=Sender(id="n1", name="Bu\x00di"),
                 meta={"location": {"lat": math.nan, "lon": math.inf, "note": "x\x00"}, "k\x00": 1}),
        Envelope(external_id="surrogate-dict", raw=raw_dict, text="jalan \ud800 rusak",
                 sender=Sender(id="s\ud800", name="Ani \udc00")),
        Envelope(external_id="surrogate-str", raw=raw_str, text="air mati \udfff", origin={"chat": "\ud801"}),
    ]
    committer = GroupCommitter(any_store, "tg", "telegram")
    results = await asyncio.gather(*(committer.submit(Batch([e])) for e in [good(1), *poison, good(2)]))
    assert [r.items[0].outcome for r in results] == ["complaint"] * 5
    async with any_store.session() as s:
        rows = {r.external_id: r for r in (await s.exec(select(EnvelopeRow))).scalars()}
        texts = dict((await s.exec(select(Complaint.ref, Complaint.text))).all())
        names = [n for (n,) in (await s.exec(select(Identity.name))).all()]
    assert len(rows) == 5 and len(texts) == 5
    assert rows["nul"].raw == b"{\"text\":\"a\\u0000b\"}\x00"
    assert rows["nul"].text == "sampah\ufffd menumpuk"
    assert rows["nul"].meta["location"] == {"lat": None, "lon": None, "note": "x\ufffd"}
    assert json.loads(rows["surrogate-dict"].raw) == raw_dict  # the same payload, escaped as on the wire
    assert rows["surrogate-str"].raw.decode("utf-8", "surrogatepass") == raw_str
    assert rows["surrogate-dict"].text == "jalan \ufffd rusak"
    assert "Ani \ufffd" in names and "Bu\ufffddi" in names


async def test_a_row_the_database_refuses_fails_only_its_own_submission(any_store):
    await refuse_rows_containing(any_store)
    committer = GroupCommitter(any_store, "web", "webform")
    batches = [Batch([good(n)]) for n in range(40)]
    batches[17] = Batch([Envelope(external_id="poison", raw=b'{"text": "TOLAK-DB"}', text=f"isi {POISON_MARK}")])
    results = await asyncio.gather(*(committer.submit(b) for b in batches))
    outcomes = [r.items[0].outcome for r in results]
    assert outcomes.count("complaint") == 39
    assert outcomes[17] == "quarantined"
    async with any_store.session() as s:
        kept = (await s.exec(select(Quarantine))).scalars().all()
        complaints = (await s.exec(select(Complaint.id))).all()
    assert len(complaints) == 39
    assert [q.external_id for q in kept] == ["poison"] and kept[0].raw == b'{"text": "TOLAK-DB"}'
    assert kept[0].reason.startswith("the store refused this message")
    assert POISON_MARK not in kept[0].reason or "INSERT" not in kept[0].reason  # no SQL, no parameters


async def test_a_pull_batch_with_a_refused_message_keeps_the_rest_and_its_checkpoint(any_store):
    await refuse_rows_containing(any_store)
    committer = GroupCommitter(any_store, "imap", "email")
    envelopes = [good(n) for n in range(7)]
    envelopes[3] = Envelope(external_id="poison", raw=b"From: x\r\n\r\nTOLAK-DB", text=POISON_MARK)
    result = await committer.submit(Batch(envelopes, checkpoint={"uid": 7}))
    assert [i.outcome for i in result.items] == ["complaint"] * 3 + ["quarantined"] + ["complaint"] * 3
    assert [i.external_id for i in result.items] == [e.external_id for e in envelopes]
    assert await any_store.load_checkpoint("imap") == {"uid": 7}
    # the next poll goes on from the checkpoint; the redelivered poison stays where it is
    again = await committer.submit(Batch(envelopes[3:], checkpoint={"uid": 9}))
    assert again.new == 0 and again.items[0].outcome == "quarantined"
    assert await any_store.load_checkpoint("imap") == {"uid": 9}


async def test_an_unreachable_store_fails_every_submission_without_quarantining(tmp_path):
    from omnichannel.store import Store

    store = Store(f"sqlite+aiosqlite:///{tmp_path}/s.db")
    await store.open(migrate=True)
    async with store.session() as s:
        await s.exec(text("DROP TABLE quarantine"))  # any statement now fails as a schema fault, not a row's
        await s.exec(text("ALTER TABLE envelopes RENAME TO envelopes_gone"))
        await s.commit()
    committer = GroupCommitter(store, "web", "webform")
    results = await asyncio.gather(*(committer.submit(Batch([good(n)])) for n in range(3)), return_exceptions=True)
    await store.close()
    assert all(isinstance(r, Exception) for r in results)


async def test_ref_year_comes_from_receipt_not_from_the_channel_clock(any_store):
    committer = GroupCommitter(any_store, "tg", "telegram")
    old = Envelope(external_id="epoch", raw="{}", text="jalan berlubang besar",
                   received_at=datetime.fromtimestamp(1, UTC))
    result = await committer.submit(Batch([old]))
    year = datetime.now(UTC).year
    assert result.items[0].complaint_ref.split("-")[1] in (str(year), str(year + 1))
