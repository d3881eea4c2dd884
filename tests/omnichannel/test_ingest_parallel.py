"""Concurrent ingest transactions (PostgreSQL runs several per connector; replicas run their own):
ids stay unique, nothing is lost or doubled, and one citizen stays one reporter."""

from __future__ import annotations

import asyncio

from sqlalchemy import func, select

from omnichannel.committer import GroupCommitter
from omnichannel.ingest import ingest_batch
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


async def test_a_reservation_rolled_back_is_not_handed_out(pg_store):
    """A deadlock while reserving rolls the counters back: the ids of that attempt must not be used."""
    from sqlalchemy.exc import DBAPIError

    class Deadlock(Exception):
        sqlstate = "40P01"

    real, calls = pg_store._bump_sync, []

    def flaky(conn, name, count):
        calls.append(name)
        first = real(conn, name, count)
        if len(calls) == 2:  # the second counter of the first attempt: deadlock, the transaction rolls back
            raise DBAPIError("UPDATE counters", {}, Deadlock())
        return first

    pg_store._bump_sync = flaky
    await pg_store.reserve({"envelope": 1, "complaint": 1, "reporter": 1})
    pg_store._bump_sync = real
    assert calls[:3] == ["reporter", "envelope", "reporter"]  # one lock order; the attempt was redone
    async with pg_store.engine.begin() as conn:
        taken = {name: await conn.run_sync(lambda c, n=name: real(c, n, 1)) for name in ("reporter", "envelope")}
    for name, first in taken.items():  # the counter is past every id this process holds
        assert first >= pg_store._reserved[name][1], (name, first, pg_store._reserved[name])


async def test_a_connection_the_server_dropped_costs_no_submission(pg_store):
    """The pool does not ping before each transaction (a round trip per batch): when the server has
    dropped the pooled connections (a restart, an idle timeout), the next ingest fails once on the dead
    connection, the pool is replaced and the batch is retried, so the citizen still gets a ref."""
    from tests.conftest import _pg_admin

    first = await ingest_batch(pg_store, "web", "webform", Batch([env("before", "+6281200000001")]))
    assert first.items[0].complaint_ref
    database = pg_store.url.rsplit("/", 1)[1]
    await _pg_admin(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{database}'")
    after = await ingest_batch(pg_store, "web", "webform", Batch([env("after", "+6281200000002")]))
    assert after.items[0].new and after.items[0].complaint_ref
    assert (await counts(pg_store))[:2] == (2, 2)


async def test_a_submission_while_the_last_writer_finishes_is_committed(store):
    """A writer's task is done as soon as it found the queue empty, but its done-callback (which takes it off
    the writers) runs later: a submission in between must not wait for it. It did, for good, when nothing else
    was submitted after it (the last requests of a burst hung until the daemon stopped)."""
    committer = GroupCommitter(store, "web", "webform")
    finished = asyncio.get_running_loop().create_future()
    finished.set_result(None)  # a writer that has returned, its done-callback not yet run
    committer._writers.add(finished)  # type: ignore[arg-type]
    result = await asyncio.wait_for(committer.submit(Batch([env("late", "081200000001")])), 20)
    assert [item.outcome for item in result.items] == ["complaint"]
    assert (await counts(store))[0] == 1
