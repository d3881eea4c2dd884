"""Concurrent ingest transactions (PostgreSQL runs several per connector; replicas run their own):
ids stay unique, nothing is lost or doubled, and one citizen stays one reporter."""

from __future__ import annotations

import asyncio

from sqlalchemy import func, select

from omnichannel.committer import GroupCommitter
from omnichannel.models import Complaint, EnvelopeRow, Identity, Reporter
from omnichannel.store import Store
from omnichannel.types import Batch, Envelope, Sender


def env(ext: str, phone: str) -> Envelope:
    return Envelope(external_id=ext, raw=f'{{"id": "{ext}"}}', text=f"Jalan rusak di gang {ext}, mohon diperbaiki",
                    sender=Sender(id=phone, phone=phone, name="Warga"))


async def counts(store: Store) -> tuple[int, int, int, int]:
    async with store.session() as s:
        out = []
        for model in (EnvelopeRow, Complaint, Reporter, Identity):
            out.append((await s.exec(select(func.count()).select_from(model))).scalar_one())
    return tuple(out)


async def test_parallel_commits_keep_ids_unique_and_one_citizen_one_reporter(any_store):
    # small transactions, so several of them (four per committer on PostgreSQL) overlap
    committers = [GroupCommitter(any_store, "web", "webform", max_envelopes=3) for _ in range(2)]
    phones = [f"+62812000{n:04d}" for n in range(41)]
    # 400 submissions from 41 citizens, each arriving at either of two committers (two replicas), with
    # every 10th one a redelivery of the message before it
    work = []
    for i in range(400):
        n = i - 1 if i % 10 == 9 else i
        work.append(committers[i % 2].submit(Batch([env(f"m{n}", phones[n % 41])])))
    results = await asyncio.gather(*work)
    refs = {r.items[0].external_id: r.items[0].complaint_ref for r in results}
    assert len(refs) == 360 and len(set(refs.values())) == 360
    assert sum(r.items[0].new for r in results) == 360
    envelopes, complaints, reporters, identities = await counts(any_store)
    assert (envelopes, complaints) == (360, 360)
    assert reporters == 41, "one citizen split into several reporters"
    async with any_store.session() as s:
        per_phone = (await s.exec(select(Identity.address, func.count(func.distinct(Complaint.reporter_id)))
                                  .join(Complaint, Complaint.reporter_id == Identity.reporter_id)
                                  .where(Identity.channel == "phone").group_by(Identity.address))).all()
    assert len(per_phone) == 41 and all(n == 1 for _, n in per_phone)
