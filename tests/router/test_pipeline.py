"""Router pipeline through the real store: cases, tickets, outbox, the three dedup levels, restart, crash."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from omnichannel.config import AgencyConfig, Config, ConnectorConfig, ForwarderConfig
from omnichannel.ingest import ingest_batch
from omnichannel.models import Case, Complaint, EnvelopeRow, FollowUp, OutboxRow, Ticket
from omnichannel.sla import SlaConfig
from omnichannel.templates import Templates
from omnichannel.types import Batch, Envelope, Sender
from router import pipeline_rows
from router.config import KindRules, RoutingConfig, RuleSet
from router.dedup.config import DedupConfig
from router.pipeline import RouterPipeline

ROUTING = RoutingConfig(
    agencies={
        "pupr": RuleSet(words={"berlubang": 2, "lubang": 2, "aspal": 1.5, "jembatan": 2, "got": 2, "mampet": 1.5}),
        "dlh": RuleSet(words={"sampah": 3, "bau": 1}),
        "perkim": RuleSet(words={"pju": 3}, phrases={"lampu jalan": 3}),
    },
    kinds=KindRules(rules={"bukan_aduan": RuleSet(phrases={"terima kasih": 3}, words={"makasih": 3})},
                    agency_for_kind={"bukan_aduan": "triage"}),
)


def make_config() -> Config:
    return Config(
        connectors=[ConnectorConfig(name="tg", kind="telegram"), ConnectorConfig(name="wa", kind="whatsapp"),
                    ConnectorConfig(name="web", kind="webform", acknowledge=False)],
        forwarders=[ForwarderConfig(name="queue", kind="db", item_types=["ticket", "ticket_update"]),
                    ForwarderConfig(name="dlh-mail", kind="email", agencies=["dlh"])],
        agencies=[AgencyConfig(code=c, name=n) for c, n in
                  [("triage", "Koordinator"), ("pupr", "Dinas PUPR"), ("dlh", "DLH"), ("perkim", "Perkim")]],
        routing=ROUTING, dedup=DedupConfig(), sla=SlaConfig(),
    )


@pytest.fixture(autouse=True)
def _telegram_can_reply(monkeypatch: pytest.MonkeyPatch) -> None:
    # the Telegram connector module may not be importable in this checkout; the pipeline only asks
    # whether the kind implements reply, which it does by contract
    monkeypatch.setitem(pipeline_rows._REPLY_CACHE, "telegram", True)
    monkeypatch.setitem(pipeline_rows._REPLY_CACHE, "whatsapp", True)


def env(ext: str, text: str, sender: str, phone: str | None = None, at: str = "2026-03-02T09:00:00+07:00",
        name: str | None = None, **kw) -> Envelope:
    return Envelope(external_id=ext, raw=f'{{"id": "{ext}"}}', text=text,
                    sender=Sender(id=sender, phone=phone, name=name),
                    received_at=datetime.fromisoformat(at), origin={"chat_id": sender}, **kw)


async def ingest(store, connector: str, channel: str, *envelopes: Envelope) -> None:
    await ingest_batch(store, connector, channel, Batch(list(envelopes)))


async def started(store) -> RouterPipeline:
    pipe = RouterPipeline(make_config(), store, Templates())
    await pipe.start()
    return pipe


async def complaints(store) -> dict[str, Complaint]:
    async with store.session() as s:
        rows = (await s.exec(select(Complaint).order_by(Complaint.id))).scalars().all()
    return {c.text[:12]: c for c in rows}


async def count(store, model) -> int:
    async with store.session() as s:
        return (await s.exec(select(func.count()).select_from(model))).scalar_one()


async def outbox(store) -> list[OutboxRow]:
    async with store.session() as s:
        return list((await s.exec(select(OutboxRow).order_by(OutboxRow.id))).scalars().all())


POTHOLE = "Jl. Melati RT 03/RW 05 berlubang parah, udh 3 motor jatuh minggu ini"


async def test_new_complaint_opens_case_ticket_and_outbox(any_store):
    await ingest(any_store, "tg", "telegram", env("1", POTHOLE, "u1"))
    pipe = await started(any_store)
    assert await pipe.process_pending() == 1
    c = next(iter((await complaints(any_store)).values()))
    assert (c.status, c.kind, c.agency, c.dedup_level) == ("routed", "pengaduan", "pupr", None)
    assert set(c.explanation) >= {"kind", "agency", "location", "dedup"}
    assert c.explanation["agency"]["rules"] and c.explanation["dedup"]["level"] is None
    async with any_store.session() as s:
        case = (await s.exec(select(Case))).scalars().one()
        ticket = (await s.exec(select(Ticket))).scalars().one()
    assert case.ref.startswith("KAS-2026-") and len(case.ref) == 15 and c.case_id == case.id
    assert ticket.ref.startswith("TIK-2026-") and ticket.agency == "pupr" and ticket.case_id == case.id
    # Monday 2 March 2026 + 5 working days = Monday 9 March, end of day in Jakarta
    assert ticket.sla_due.replace(tzinfo=UTC) == datetime(2026, 3, 9, 16, 59, 59, tzinfo=UTC)
    # what the reports count from: the citizen's message time, and the router's own choice of agency
    assert ticket.received_at == datetime(2026, 3, 2, 2, 0, tzinfo=UTC) and ticket.routed_agency == "pupr"
    assert c.kecamatan == (c.location or {}).get("kecamatan")
    rows = {(r.item_type, r.destination): r for r in await outbox(any_store)}
    assert set(rows) == {("ticket", "queue"), ("reply", "reply:tg")}  # dlh-mail serves only dlh
    payload = rows[("ticket", "queue")].payload
    assert payload["ticket"] == ticket.ref and payload["case"] == case.ref and payload["reporters"] == 1
    assert payload["agency_name"] == "Dinas PUPR" and payload["complaint"] == c.ref
    assert rows[("reply", "reply:tg")].item_ref == f"{c.ref}#ack" and c.ref in rows[("reply", "reply:tg")].payload["text"]
    assert await pipe.process_pending() == 0


async def test_resend_becomes_follow_up_without_new_ticket(any_store):
    await ingest(any_store, "tg", "telegram", env("1", POTHOLE, "u1"))
    pipe = await started(any_store)
    await pipe.process_pending()
    await ingest(any_store, "tg", "telegram",
                 env("2", "min tolong dong jl melati rt 3 rw 5 berlubang parah motor jatuh", "u1",
                     at="2026-03-03T10:00:00+07:00"))
    await pipe.process_pending()
    first, again = (await complaints(any_store)).values()
    assert (again.status, again.dedup_level, again.duplicate_of) == ("merged", "resend", first.id)
    assert again.similarity >= DedupConfig().resend.threshold
    assert again.explanation["dedup"] == {"level": "resend", "similarity": round(again.similarity, 3),
                                          "candidate": first.ref}
    assert await count(any_store, Ticket) == 1 and await count(any_store, Case) == 1
    async with any_store.session() as s:
        fu = (await s.exec(select(FollowUp))).scalars().one()
        envelope = (await s.exec(select(EnvelopeRow).where(EnvelopeRow.external_id == "2"))).scalars().one()
    assert (fu.complaint_id, fu.reason, envelope.outcome) == (first.id, "resend", "follow_up")
    ack = [r for r in await outbox(any_store) if r.item_ref == f"{again.ref}#ack_followup"]
    assert len(ack) == 1 and first.ref in ack[0].payload["text"]


async def test_cross_channel_links_the_same_phone_in_another_spelling(any_store):
    await ingest(any_store, "tg", "telegram", env("1", POTHOLE, "u1", phone="+6281234567890"))
    await ingest(any_store, "wa", "whatsapp",
                 env("w1", "jalan melati rt 03 rw 05 berlubang parah, sudah 3 motor jatuh", "6281234567890",
                     phone="081234567890", at="2026-03-02T15:00:00+07:00"))
    pipe = await started(any_store)
    assert await pipe.process_pending() == 2  # both in one batch: the second sees the first
    first, other = (await complaints(any_store)).values()
    assert first.reporter_id != other.reporter_id  # ingest kept two reporters; the phone links them
    assert (other.status, other.dedup_level, other.duplicate_of) == ("merged", "cross_channel", first.id)
    assert await count(any_store, Ticket) == 1


async def test_incident_from_three_citizens_is_one_ticket_counting_reporters(any_store):
    await ingest(any_store, "tg", "telegram",
                 env("1", "Jembatan kayu di Gg. Mawar kel. Sukaluyu ambruk, anak sekolah gk bisa lewat", "a"))
    pipe = await started(any_store)
    await pipe.process_pending()
    await ingest(any_store, "tg", "telegram",
                 env("2", "pak jembatan di gg mawar sukaluyu roboh, warga harus muter jauh", "b",
                     at="2026-03-02T11:00:00+07:00"),
                 env("3", "jembatan gang mawar kelurahan sukaluyu udh runtuh dr pagi, bahaya", "c",
                     at="2026-03-02T12:00:00+07:00"))
    await pipe.process_pending()
    first, second, third = (await complaints(any_store)).values()
    assert {second.dedup_level, third.dedup_level} == {"incident"}
    assert second.case_id == third.case_id == first.case_id and second.duplicate_of == first.id
    assert second.status == "routed"
    async with any_store.session() as s:
        case = (await s.exec(select(Case))).scalars().one()
    assert (case.complaint_count, case.reporter_count) == (3, 3)
    assert await count(any_store, Ticket) == 1
    updates = [r for r in await outbox(any_store) if r.item_type == "ticket_update"]
    assert len(updates) == 1 and updates[0].payload["reporters"] == 3 and updates[0].item_ref.endswith("#3")


async def test_hard_negatives_stay_apart(any_store):
    await ingest(any_store, "tg", "telegram",
                 env("1", POTHOLE, "a"),
                 env("2", POTHOLE.replace("Melati", "Kenanga"), "b"),  # same words, another street
                 env("3", "Sampah numpuk di Jl. Melati RT 03/RW 05, bau bgt gk diangkut", "c"),  # other problem
                 env("4", "lampu jalan di Jl. Melati RT 03/RW 05 mati, gelap", "d"))
    pipe = await started(any_store)
    await pipe.process_pending()
    rows = list((await complaints(any_store)).values())
    assert [c.dedup_level for c in rows] == [None] * 4
    assert len({c.case_id for c in rows}) == 4 and await count(any_store, Ticket) == 4
    assert "different street" in rows[1].explanation["dedup"]["nearest"]["kept_apart"]
    assert [c.agency for c in rows] == ["pupr", "pupr", "dlh", "perkim"]


async def test_not_a_complaint_is_rejected_and_explained(any_store):
    await ingest(any_store, "tg", "telegram", env("1", "makasih banyak min 🙏", "a"))
    pipe = await started(any_store)
    await pipe.process_pending()
    c = next(iter((await complaints(any_store)).values()))
    assert (c.status, c.kind, c.case_id) == ("rejected", "bukan_aduan", None)
    assert c.explanation["kind"]["label"] == "bukan_aduan"
    assert await count(any_store, Ticket) == 0 and await outbox(any_store) == []


async def test_restart_rebuilds_the_index_and_decides_the_same(any_store):
    await ingest(any_store, "tg", "telegram",
                 env("1", POTHOLE, "a"),
                 env("2", "Jembatan kayu di Gg. Mawar kel. Sukaluyu ambruk, anak sekolah gk bisa lewat", "b"),
                 env("3", "Sampah numpuk di Jl. Kenanga, bau bgt gk diangkut", "c"))
    before = await started(any_store)
    await before.process_pending()
    probes = [env("p1", "jl melati rt 3 rw 5 berlubang parah, motor jatuh terus", "a", at="2026-03-03T09:00:00+07:00"),
              env("p2", "jembatan gg mawar sukaluyu roboh, tolong diperbaiki", "x", at="2026-03-03T09:00:00+07:00"),
              env("p3", "sampah numpuk di Jl. Mawar, bau", "y", at="2026-03-03T09:00:00+07:00")]
    await ingest(any_store, "tg", "telegram", *probes)
    async with any_store.session() as s:
        q = (select(Complaint, EnvelopeRow.received_at, EnvelopeRow.origin)
             .join(EnvelopeRow, EnvelopeRow.id == Complaint.envelope_id).where(Complaint.status == "received")
             .order_by(Complaint.id))
        pending = (await s.exec(q)).all()
    expected = []
    for c, received, origin in pending:  # what the running pipeline would decide, without keeping it
        mark = before.index.mark()
        expected.append(before._decide(c, received, origin).found.explain())
        before.index.rollback(mark)
    after = await started(any_store)  # a restarted daemon: index rebuilt from the store
    assert len(after.index) == len(before.index) == 3
    await after.process_pending()
    rows = list((await complaints(any_store)).values())[3:]
    got = [{k: v for k, v in c.explanation["dedup"].items() if k != "nearest"} for c in rows]
    by_id = {c.id: c.ref for c in (await complaints(any_store)).values()}
    want = [{"level": e["level"], "similarity": e["similarity"], "candidate": by_id.get(e["candidate"])}
            for e in expected]
    assert got == want
    assert [g["level"] for g in got] == ["resend", "incident", None]


async def test_crash_mid_batch_then_rerun_makes_each_row_once(any_store, monkeypatch):
    await ingest(any_store, "tg", "telegram", env("1", POTHOLE, "a"),
                 env("2", "jl melati rt 3 rw 5 berlubang parah motor jatuh", "a"),
                 env("3", "Sampah numpuk di Jl. Kenanga, bau bgt", "c"))
    pipe = await started(any_store)
    real = pipeline_rows.enqueue_many_sync

    def crash(conn, items):
        real(conn, items)  # rows written inside the transaction, then the process "dies"
        raise RuntimeError("killed")

    monkeypatch.setattr(pipeline_rows, "enqueue_many_sync", crash)
    with pytest.raises(RuntimeError):
        await pipe.process_pending()
    assert len(pipe.index) == 0  # the batch's entries left with the rolled-back transaction
    assert {c.status for c in (await complaints(any_store)).values()} == {"received"}
    assert await count(any_store, Case) == await count(any_store, OutboxRow) == 0
    monkeypatch.setattr(pipeline_rows, "enqueue_many_sync", real)
    assert await pipe.process_pending() == 3
    assert await pipe.process_pending() == 0
    assert await count(any_store, Case) == 2 and await count(any_store, Ticket) == 2
    keys = [r.idempotency_key for r in await outbox(any_store)]
    assert len(keys) == len(set(keys)) == 6  # 2 tickets to queue, the dlh one to dlh-mail, 2 acks, 1 ack_followup
    restarted = await started(any_store)
    assert await restarted.process_pending() == 0 and len(restarted.index) == 3


async def test_a_resend_is_a_follow_up_of_the_reporters_own_complaint_never_of_another_citizens(any_store):
    bridge = "Jembatan kayu di Gg. Mawar kel. Sukaluyu ambruk, anak sekolah gk bisa lewat"
    await ingest(any_store, "tg", "telegram", env("1", bridge, "a"))
    pipe = await started(any_store)
    await pipe.process_pending()
    await ingest(any_store, "tg", "telegram",            # another citizen, own words: joins the case
                 env("2", "pak jembatan di gg mawar sukaluyu roboh, warga harus muter jauh", "b",
                     at="2026-03-02T11:00:00+07:00"))
    await pipe.process_pending()
    await ingest(any_store, "tg", "telegram",            # and that citizen says it again
                 env("3", "tolong cepat, jembatan di gg mawar sukaluyu roboh, warga harus muter jauh", "b",
                     at="2026-03-02T15:00:00+07:00"))
    await pipe.process_pending()
    first, theirs, again = (await complaints(any_store)).values()
    assert (theirs.dedup_level, theirs.case_id) == ("incident", first.case_id)
    assert (again.status, again.dedup_level, again.duplicate_of) == ("merged", "resend", theirs.id)
    async with any_store.session() as s:
        fu = (await s.exec(select(FollowUp))).scalars().one()
    assert fu.complaint_id == theirs.id
    [ack] = [r for r in await outbox(any_store) if r.item_ref == f"{again.ref}#ack_followup"]
    assert theirs.ref in ack.payload["text"] and first.ref not in ack.payload["text"]
    assert ack.payload["complaint"] == theirs.ref                    # the subject names the same ref
    restarted = await started(any_store)                             # and so does the rebuilt index
    await ingest(any_store, "tg", "telegram",
                 env("4", "sekali lagi pak, jembatan di gg mawar sukaluyu roboh, warga harus muter jauh", "b",
                     at="2026-03-02T18:00:00+07:00"))
    await restarted.process_pending()
    last = list((await complaints(any_store)).values())[-1]
    assert (last.dedup_level, last.duplicate_of) == ("resend", theirs.id)


async def test_two_letters_of_one_reporter_on_one_day_stay_two_complaints(any_store):
    letter = ("Dengan hormat, Bapak/Ibu petugas. Saya Budi Santoso warga Jl. Teratai No. 12 RT 04/RW 02 "
              "Kel. Tegalrejo. {} Mohon segera ditindaklanjuti. Hormat saya, Budi Santoso")
    await ingest(any_store, "tg", "telegram",
                 env("1", letter.format("Aspal jalan di depan gang kami berlubang, lubang besar, sudah dua motor jatuh."), "a",
                     name="Budi Santoso"),
                 env("2", letter.format("Got di depan gang kami mampet total, airnya meluap ke jalan."), "a",
                     name="Budi Santoso", at="2026-03-02T10:00:00+07:00"))
    pipe = await started(any_store)
    await pipe.process_pending()
    async with any_store.session() as s:
        first, second = (await s.exec(select(Complaint).order_by(Complaint.id))).scalars().all()
    assert first.agency == second.agency             # no agency conflict to keep them apart: only the text
    assert second.dedup_level is None and second.status == "routed" and second.case_id != first.case_id


async def test_cross_channel_without_a_shared_contact_links_by_name_and_self_reference(any_store):
    # two identities with no phone or e-mail in common: the name and "Menyusul pesan WhatsApp saya" link them
    await ingest(any_store, "wa", "whatsapp",
                 env("w1", "Pipa PDAM bocor di Jl. Kenari depan warung, air muncrat ke jalan", "6281300001111",
                     name="Dewi Lestari"))
    await ingest(any_store, "tg", "telegram",
                 env("t1", "Menyusul pesan WhatsApp saya tadi pagi: pipa di Jl. Kenari masih bocor, belum ada petugas",
                     "t-555", name="Dewi L.", at="2026-03-02T13:00:00+07:00"))
    pipe = await started(any_store)
    assert await pipe.process_pending() == 2
    first, other = (await complaints(any_store)).values()
    assert first.reporter_id != other.reporter_id
    assert (other.status, other.dedup_level, other.duplicate_of) == ("merged", "cross_channel", first.id)
    assert other.explanation["dedup"]["linked_by"]
    assert await count(any_store, Ticket) == 1
