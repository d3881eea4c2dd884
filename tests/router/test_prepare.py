"""routing.workers: worker processes prepare each batch's messages and the router decides exactly as it does alone —
grouping, officers' reassignments learned between batches, and a worker killed mid-stream included."""

from __future__ import annotations

import json
import logging
import os
import signal
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from omnichannel.config import AgencyConfig, Config, ConnectorConfig, ForwarderConfig
from omnichannel.ingest import ingest_batch
from omnichannel.models import Complaint
from omnichannel.templates import Templates
from omnichannel.types import Batch, Envelope, Sender
from router.classify import Classifier
from router.config import CorrectionSettings, RoutingConfig, RuleSet
from router.corrections import CorrectionMemory
from router.eval.cities import DEFAULT_CONFIG, DEFAULT_DIR, city_agencies, city_routing, load_cities
from router.eval.corrections import _run
from router.eval.routing import load_routing_config
from router.pipeline import RouterPipeline

DATA = Path(__file__).resolve().parents[1] / "data"
SHIPPED_MODEL = Path(__file__).resolve().parents[2] / "router" / "data" / "model.npz"


def decided(c: Complaint, cases: dict[int, int], refs: dict[int, str]) -> tuple[Any, ...]:
    """What routing decided for a complaint, with case and duplicate ids as run-independent numbers/refs."""
    return (c.ref, c.status, c.kind, c.agency, c.confidence, c.dedup_level, refs.get(c.duplicate_of),
            cases.setdefault(c.case_id, len(cases)) if c.case_id else None, c.location, c.explanation)


async def all_decided(store: Any) -> list[tuple[Any, ...]]:
    async with store.session() as session:
        rows = (await session.exec(select(Complaint).order_by(Complaint.id))).scalars().all()
    refs = {c.id: c.ref for c in rows}
    cases: dict[int, int] = {}
    return [decided(c, cases, refs) for c in rows]


def semarang_config(workers: int) -> Config:
    base = load_routing_config(DEFAULT_CONFIG)
    city = next(c for c in load_cities(DEFAULT_DIR) if c.slug == "semarang")
    routing = city_routing(city, base)
    routing.workers = workers
    agencies = [AgencyConfig(code=a["code"], name=a["name"] or a["code"], remit=a["remit"] or "",
                             aliases=a["aliases"]) for a in city_agencies(city, base)]
    return Config(connectors=[ConnectorConfig(name="wa", kind="webform", acknowledge=False)],
                  forwarders=[ForwarderConfig(name="queue", kind="db", item_types=["ticket", "ticket_update"])],
                  agencies=agencies, routing=routing, dedup=base.dedup)


def envelopes() -> list[Envelope]:
    """Semarang's grouping stream: resends, cross-channel reports and incidents told by several citizens."""
    out = []
    for line in (DATA / "dedup_labelled.jsonl").read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        out.append(Envelope(external_id=row["id"], raw=line, text=row["text"],
                            sender=Sender(id=row["sender"], phone=row.get("phone"), email=row.get("email"),
                                          name=row.get("name")),
                            received_at=datetime.fromisoformat(row["ts"])))
    return out


async def route_stream(store: Any, workers: int, kill_between: bool = False) -> list[tuple[Any, ...]]:
    pipe = RouterPipeline(semarang_config(workers), store, Templates())
    await pipe.start()
    try:
        stream = envelopes()
        half = len(stream) // 2
        await ingest_batch(store, "wa", "whatsapp", Batch(stream[:half]))
        assert await pipe.process_pending() == half
        if kill_between:
            os.kill(pipe.workers.workers[0].process.pid, signal.SIGKILL)
            pipe.workers.workers[0].process.join(5)
        await ingest_batch(store, "wa", "whatsapp", Batch(stream[half:]))
        while await pipe.process_pending() > 0:
            pass
        if kill_between:  # the next batch starts it again
            await ingest_batch(store, "wa", "whatsapp", Batch([Envelope(
                external_id="late", raw="{}", text="Lampu jalan di Jl. Pemuda mati, mohon diperbaiki",
                sender=Sender(id="late"), received_at=stream[-1].received_at)]))
            await pipe.process_pending()
            assert len(pipe.workers.workers) == 1 and pipe.workers.workers[0].process.is_alive()
    finally:
        await pipe.stop()
    return await all_decided(store)


async def routed_alone(tmp_path: Path) -> list[tuple[Any, ...]]:
    """The stream decided by the router alone, in a SQLite store of its own."""
    from omnichannel.store import Store

    alone = Store(f"sqlite+aiosqlite:///{tmp_path}/alone.db")
    await alone.open(migrate=True)
    try:
        return await route_stream(alone, workers=0)
    finally:
        await alone.close()


async def test_a_grouping_stream_is_decided_alike_with_and_without_workers(any_store, tmp_path: Path) -> None:
    expected = await routed_alone(tmp_path)
    got = await route_stream(any_store, workers=2)
    assert got == expected
    levels = [d[5] for d in got]
    assert levels.count("incident") >= 10 and levels.count("resend") >= 5  # the stream does exercise grouping


async def test_a_worker_killed_between_batches_costs_nothing_but_time(any_store, tmp_path: Path,
                                                                      caplog: pytest.LogCaptureFixture) -> None:
    expected = await routed_alone(tmp_path)
    with caplog.at_level(logging.WARNING, logger="router.prepare"):
        got = await route_stream(any_store, workers=1, kill_between=True)
    assert got[:len(expected)] == expected
    assert "a prepare worker failed" in caplog.text


async def test_reassignments_learned_between_batches_reach_the_workers(tmp_path: Path) -> None:
    """Bandung's stream routed in two halves, every wrong agency of the first half reassigned by a coordinator in
    between (router.eval.corrections): the second half, prepared by workers, follows the corrections as the router
    alone does."""
    base = load_routing_config(DEFAULT_CONFIG)
    city = next(c for c in load_cities(DEFAULT_DIR) if c.slug == "bandung")
    runs = {}
    for workers in (0, 1):
        base.routing.workers = workers
        first, second, fixes, _ = await _run(city, base, SHIPPED_MODEL, tmp_path / f"w{workers}", correct=True)
        runs[workers] = ({k: (c.kind, c.agency, c.confidence, c.explanation) for k, c in first.items()},
                         {k: (c.kind, c.agency, c.confidence, c.explanation) for k, c in second.items()}, fixes)
    for half in (0, 1):
        differ = {k: (runs[0][half][k], v) for k, v in runs[1][half].items() if runs[0][half].get(k) != v}
        assert not differ, json.dumps(differ, ensure_ascii=False)[:6000]
    _, second, (corrected, _) = runs[1]
    assert corrected >= 10
    consulted = [k for k, (_, _, _, why) in second.items() if "correction" in why["agency"]]
    assert len(consulted) >= 5  # the second half did weigh the corrections in


def _memory(max_entries: int) -> CorrectionMemory:
    routing = RoutingConfig(agencies={"pupr": RuleSet(words={"jalan": 1}), "dlh": RuleSet(words={"sampah": 1})})
    classifier = Classifier(routing.model_copy(update={"model": routing.model.model_copy(update={"enabled": False})}),
                            [AgencyConfig(code=c, name=c) for c in ("triage", "pupr", "dlh")])
    return CorrectionMemory(classifier, CorrectionSettings(max_entries=max_entries))


def test_a_memory_that_takes_the_changes_holds_the_same_reassignments_in_the_same_order() -> None:
    ours, theirs, late = _memory(3), _memory(3), _memory(3)
    known = (-1, 0)  # what the router knows the other memory has seen (as PrepareWorkers keeps per worker)
    assert ours.changes(*known) == ("reset", ())  # never synced: start over, even from nothing
    theirs.apply(ours.changes(*known))
    known = ours.version()
    texts = ["jalan rusak di depan pasar", "sampah menumpuk di gang", "jalan berlubang dekat sekolah",
             "sampah dibakar warga tiap malam", "jalan amblas di tikungan"]
    for i, text in enumerate(texts, 1):
        ours.add_reassign(i, f"TIK-{i}", "pupr", "dlh" if i % 2 else "pupr", text)
        if i in (2, 5):  # now and then, as batches come
            changes = ours.changes(*known)
            assert changes is not None and changes[0] == "add"
            theirs.apply(changes)
            known = ours.version()
            assert ours.changes(*known) is None
    late.apply(ours.changes(-1, 0))  # it saw nothing: everything still held
    for other in (theirs, late):
        assert [e.id for e in other.routing] == [e.id for e in ours.routing] == [3, 4, 5]  # the newest three
        assert other._routing_postings.by_word == ours._routing_postings.by_word
    ours.add_reassign(6, "TIK-6", "pupr", "dlh", "sampah di selokan jalan")
    ours.add_reassign(7, "TIK-7", "pupr", "dlh", "sampah liar di lahan kosong")
    ours.add_reassign(8, "TIK-8", "pupr", "dlh", "sampah tidak diangkut seminggu")
    ours.add_reassign(9, "TIK-9", "pupr", "dlh", "sampah berserakan di taman")
    assert ours.changes(*known)[0] == "reset"  # more was learned than is still held: everything again
    ours.reset()
    assert ours.changes(*known) == ("reset", ())
