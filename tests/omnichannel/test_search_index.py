"""The officers' full-text index is filled after the commits that store complaints, not inside them, and stays
exact: stored complaints wait in a queue, the indexer (background task or ``flush``) indexes them in batches,
edits and deletes of indexed and of still-queued complaints leave no stale or corrupt entry."""

from __future__ import annotations

import asyncio

from sqlalchemy import text

from omnichannel import search
from omnichannel.ingest import ingest_batch
from omnichannel.types import Batch, Envelope, Sender


def env(ext: str, words: str) -> Envelope:
    return Envelope(external_id=ext, raw=f'{{"id": "{ext}"}}', text=words, sender=Sender(id=f"u{ext}"))


async def found(store, word: str) -> set[int]:
    """Complaint ids whose indexed words include ``word`` (the dialect's index, as the desk's search reads it)."""
    if store.dialect == "sqlite":
        sql, params = "SELECT rowid FROM complaints_search WHERE complaints_search MATCH :w", {"w": f'"{word}"'}
    else:
        sql = "SELECT complaint_id FROM complaints_search WHERE doc @@ to_tsquery('simple', :w)"
        params = {"w": word}
    async with store.engine.connect() as conn:
        return {r[0] for r in (await conn.execute(text(sql), params)).all()}


async def execute(store, sql: str) -> None:
    async with store.engine.begin() as conn:
        await conn.execute(text(sql))


async def integrity(store) -> None:
    """SQLite: FTS5 checks its index (raises when it is corrupt); with nothing queued, also against every complaint."""
    if store.dialect == "sqlite":
        against_content = await search.pending(store) == 0
        await execute(store, "INSERT INTO complaints_search(complaints_search, rank) VALUES ('integrity-check', "
                      f"{1 if against_content else 0})")


async def test_ingest_queues_and_the_indexer_indexes_after_the_commit(any_store):
    result = await ingest_batch(any_store, "tg", "telegram", Batch([env("1", "lampu jalan padam"),
                                                                  env("2", "sampah menumpuk di pasar")]))
    assert [i.outcome for i in result.items] == ["complaint", "complaint"]
    assert await search.pending(any_store) == 2
    assert await found(any_store, "sampah") == set()  # the ingest transaction did no indexing
    assert await search.flush(any_store) == 2
    assert await search.pending(any_store) == 0
    assert len(await found(any_store, "sampah")) == 1 and len(await found(any_store, "lampu")) == 1
    assert await search.flush(any_store) == 0  # nothing twice
    await integrity(any_store)


async def test_batches_are_bounded_and_leave_the_rest_queued(any_store):
    await ingest_batch(any_store, "tg", "telegram", Batch([env(str(i), f"banjir rob nomor{i}") for i in range(7)]))
    assert await search.index_pending(any_store, limit=3) == 3
    assert await search.pending(any_store) == 4
    assert len(await found(any_store, "banjir")) == 3
    assert await search.flush(any_store) == 4
    assert len(await found(any_store, "banjir")) == 7
    await integrity(any_store)


async def test_edits_and_deletes_of_indexed_and_queued_complaints_keep_the_index_exact(any_store):
    await ingest_batch(any_store, "tg", "telegram", Batch([env("1", "jembatan retak"), env("2", "pohon tumbang")]))
    await search.flush(any_store)
    await ingest_batch(any_store, "tg", "telegram", Batch([env("3", "got mampet"), env("4", "parkir liar")]))
    ids = {w: next(iter(await found(any_store, w))) for w in ("jembatan", "pohon")}
    # an indexed complaint edited: its old words leave at once, its new ones come with the next indexing
    await execute(any_store, f"UPDATE complaints SET text = 'jembatan ambrol' WHERE id = {ids['jembatan']}")
    assert await found(any_store, "retak") == set()
    await search.flush(any_store)
    assert await found(any_store, "ambrol") == {ids["jembatan"]} and await found(any_store, "retak") == set()
    await ingest_batch(any_store, "tg", "telegram", Batch([env("5", "kabel menjuntai"), env("6", "pungli sekolah")]))
    async with any_store.engine.connect() as conn:
        queued = dict((await conn.execute(text(
            "SELECT text, id FROM complaints WHERE id IN (SELECT complaint_id FROM complaints_search_pending)"))).all())
    # a queued complaint edited before it was indexed: indexed once, with its new words
    await execute(any_store, f"UPDATE complaints SET text = 'kabel putus' WHERE id = {queued['kabel menjuntai']}")
    # deleted: one indexed, one still queued (neither may leave a stale entry nor corrupt the index)
    await execute(any_store, "DELETE FROM envelopes WHERE complaint_id IN "
                  f"({ids['pohon']}, {queued['pungli sekolah']})")
    await execute(any_store, f"DELETE FROM complaints WHERE id IN ({ids['pohon']}, {queued['pungli sekolah']})")
    await integrity(any_store)
    await search.flush(any_store)
    assert await found(any_store, "pohon") == set() and await found(any_store, "pungli") == set()
    assert await found(any_store, "putus") == {queued["kabel menjuntai"]}
    assert await found(any_store, "menjuntai") == set()
    assert len(await found(any_store, "mampet")) == 1 and len(await found(any_store, "parkir")) == 1
    assert await search.pending(any_store) == 0
    await integrity(any_store)


async def test_the_background_indexer_catches_up_and_stops_when_asked(any_store):
    stop = asyncio.Event()
    indexer = search.SearchIndexer(any_store, interval=0.05, batch=2)
    task = asyncio.create_task(indexer.run_forever(stop))
    await ingest_batch(any_store, "tg", "telegram", Batch([env(str(i), f"trotoar rusak blok{i}") for i in range(5)]))
    indexer.wake()
    for _ in range(400):  # bounded: the loop ends as soon as the queue is empty
        if await search.pending(any_store) == 0:
            break
        await asyncio.sleep(0.02)
    assert await search.pending(any_store) == 0 and indexer.indexed == 5
    assert len(await found(any_store, "trotoar")) == 5
    stop.set()
    await asyncio.wait_for(task, 5)
    await integrity(any_store)


async def test_migration_keeps_what_0005_indexed_and_goes_back(any_store):
    """0006_ingest: complaints indexed by 0005 stay searchable without the indexer; a downgrade restores 0005's
    index (with what was still queued) and an upgrade again keeps it."""
    from alembic import command

    from omnichannel.migrate import alembic_config, upgrade

    async def migrate(fn, revision: str) -> None:
        async with any_store.engine.begin() as conn:
            await conn.run_sync(lambda sync: fn(alembic_config(sync), revision))

    await migrate(command.downgrade, "0005")
    await ingest_batch(any_store, "tg", "telegram", Batch([env("1", "drainase tersumbat")]))
    await upgrade(any_store)
    assert await search.pending(any_store) == 0 and len(await found(any_store, "drainase")) == 1
    await ingest_batch(any_store, "tg", "telegram", Batch([env("2", "drainase jebol")]))  # queued, not indexed
    await migrate(command.downgrade, "0005")
    if any_store.dialect == "sqlite":  # 0005's FTS5 table, rebuilt with the queued complaint too
        assert len(await found(any_store, "drainase")) == 2 and len(await found(any_store, "jebol")) == 1
    await upgrade(any_store)
    assert await search.pending(any_store) == 0 and len(await found(any_store, "drainase")) == 2
    await integrity(any_store)
