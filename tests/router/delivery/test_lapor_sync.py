"""LAPOR! status sync against the sandbox: statuses reach the ticket, tindak lanjut reaches every reporter."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from pydantic import SecretStr
from sqlalchemy import select

from omnichannel.config import AgencyConfig, Config, ConnectorConfig
from omnichannel.models import AuditEvent, Case, Complaint, EnvelopeRow, OutboxRow, Reporter, Ticket
from omnichannel.protocols import PluginContext
from omnichannel.sandbox.lapor import STATUSES, LaporSandbox
from omnichannel.templates import Templates
from omnichannel.types import OutboxItem
from router.delivery.forwarders.lapor import LaporConfig, LaporForwarder
from router.delivery.lapor_sync import moves_forward
from tests.contract.forwarder_contract import ticket_payload

TICKET = "TIK-2026-000001"


@pytest.fixture
def store(any_store: Any) -> Any:
    """Every test here runs on SQLite and on PostgreSQL (skipped with a reason when absent)."""
    return any_store


@pytest_asyncio.fixture
async def sandbox() -> AsyncIterator[LaporSandbox]:
    async with LaporSandbox() as s:
        yield s


def app_config(tmp_path: Path, cfg: LaporConfig) -> Config:
    return Config(data_dir=tmp_path, forwarders=[cfg], agencies=[AgencyConfig(code="dpupr", name="Dinas PUPR")],
                  connectors=[ConnectorConfig(name="tg", kind="telegram"), ConnectorConfig(name="xmention", kind="x")])


async def case_with_three_reporters(store: Any) -> None:
    """Ticket TIK-2026-000001 whose case has reporters on Telegram (two) and X (one, public)."""
    async with store.session() as s:
        case = Case(ref="KAS-2026-000001", complaint_count=3, reporter_count=3)
        s.add(case)
        await s.flush()
        for i, (connector, channel, origin) in enumerate([
                ("tg", "telegram", {"chat_id": 101, "message_id": 5}),
                ("tg", "telegram", {"chat_id": 102, "message_id": 9}),
                ("xmention", "x", {"tweet_id": "1890001", "public": True})], start=1):
            reporter = Reporter(display_name=f"Warga {i}")
            s.add(reporter)
            await s.flush()
            env = EnvelopeRow(connector=connector, channel=channel, external_id=f"e{i}", received_at=case.created_at,
                              raw=b"{}", origin=origin, reporter_id=reporter.id, outcome="complaint")
            s.add(env)
            await s.flush()
            s.add(Complaint(ref=f"ADU-2026-00000{i}", envelope_id=env.id, reporter_id=reporter.id, connector=connector,
                            channel=channel, text="Jalan berlubang di Jl. Pemuda", status="routed", kind="pengaduan",
                            agency="dpupr", case_id=case.id))
        s.add(Ticket(ref=TICKET, case_id=case.id, agency="dpupr", kind="pengaduan"))
        await s.commit()


@pytest_asyncio.fixture
async def forwarder(sandbox: LaporSandbox, store: Any, tmp_path: Path) -> AsyncIterator[LaporForwarder]:
    """A started JSON LAPOR! forwarder that already submitted the ticket."""
    await case_with_three_reporters(store)
    cfg = LaporConfig(name="lapor", base_url=sandbox.base_url, token=SecretStr("sandbox-token"), wire="json",
                      timeout=2.0)
    fwd = LaporForwarder("lapor", cfg)
    ctx = PluginContext(name="lapor", data_dir=tmp_path, attachments_dir=tmp_path, templates=Templates())
    ctx.extra.update(store=store, config=app_config(tmp_path, cfg))
    await fwd.start(ctx)
    await fwd.send(OutboxItem(1, "ticket", TICKET, "lapor", {**ticket_payload(1), "reporters": 3}), "k")
    yield fwd
    await fwd.stop()


async def ticket(store: Any) -> Ticket:
    async with store.session() as s:
        return (await s.exec(select(Ticket).where(Ticket.ref == TICKET))).scalars().one()


async def replies(store: Any) -> list[OutboxRow]:
    async with store.session() as s:
        q = select(OutboxRow).where(OutboxRow.item_type == "reply").order_by(OutboxRow.id)
        return list((await s.exec(q)).scalars().all())


async def test_status_progression_updates_the_ticket_and_answers_everyone(sandbox: LaporSandbox, store: Any,
                                                                         forwarder: LaporForwarder) -> None:
    (report,) = sandbox.reports.values()
    seen = []
    for step in range(1, len(STATUSES)):
        sandbox.advance(sandbox.schedule[STATUSES[step]])
        result = await forwarder.sync_status()
        t = await ticket(store)
        seen.append((t.lapor_status, t.status))
        assert result.status_changes == 1 and result.errors == 0
    assert seen == [("terverifikasi", "baru"), ("didisposisikan", "baru"), ("ditindaklanjuti", "diproses"),
                    ("selesai", "selesai")]
    t = await ticket(store)
    assert t.closed_at is not None and t.answer == report.followups[0]["isi"]
    rows = await replies(store)
    answers = [r for r in rows if r.payload["purpose"] == "answer"]
    assert sorted(r.destination for r in answers) == ["reply:tg", "reply:tg", "reply:xmention"]
    private = [r for r in answers if not r.payload["public"]]
    assert {r.payload["origin"]["chat_id"] for r in private} == {101, 102}
    assert all(report.followups[0]["isi"] in r.payload["text"] for r in private)
    (public,) = [r for r in answers if r.payload["public"]]
    assert report.followups[0]["isi"] not in public.payload["text"]  # public channel: no answer text
    assert len([r for r in rows if r.payload["purpose"] == "closed"]) == 3
    # closed tickets are not polled again, and nothing is sent twice
    before = len(rows)
    assert (await forwarder.sync_status()).checked == 0
    assert len(await replies(store)) == before


async def test_each_tindak_lanjut_is_answered_once(sandbox: LaporSandbox, store: Any,
                                                   forwarder: LaporForwarder) -> None:
    (report,) = sandbox.reports.values()
    sandbox.force_status(report.tracking_id, "ditindaklanjuti", "Perbaikan jalan dijadwalkan Senin depan.",
                         author="Dinas PUPR", freeze=True)
    first = await forwarder.sync_status()
    again = await forwarder.sync_status()
    assert (first.answers, first.replies, again.answers, again.replies) == (1, 3, 0, 0)
    sandbox.add_followup(report.tracking_id, "Perbaikan selesai dikerjakan hari ini.")
    third = await forwarder.sync_status()
    assert (third.answers, third.status_changes) == (1, 0)
    texts = [r.payload["text"] for r in await replies(store) if not r.payload["public"]]
    assert sum("Senin depan" in t for t in texts) == 2 and sum("selesai dikerjakan" in t for t in texts) == 2
    async with store.session() as s:
        events = (await s.exec(select(AuditEvent.detail).where(AuditEvent.action == "lapor_tindak_lanjut")
                               )).scalars().all()
    assert [e["id"] for e in events] == [f"{report.tracking_id}-1", f"{report.tracking_id}-2"]


async def test_lapor_failing_changes_nothing_and_recovers(sandbox: LaporSandbox, store: Any,
                                                          forwarder: LaporForwarder) -> None:
    (report,) = sandbox.reports.values()
    sandbox.force_status(report.tracking_id, "ditindaklanjuti", "Sudah kami tangani.", freeze=True)
    sandbox.fail_next(1, status=502)
    result = await forwarder.sync_status()
    assert (result.errors, result.answers) == (1, 0)
    assert (await ticket(store)).lapor_status == "belum terverifikasi" and await replies(store) == []
    result = await forwarder.sync_status()
    assert (result.errors, result.answers, (await ticket(store)).status) == (0, 1, "diproses")


async def test_periodic_job_is_offered(forwarder: LaporForwarder) -> None:
    ((job_id, seconds, job),) = forwarder.periodic_jobs()
    assert (job_id, seconds) == ("status_sync", 900.0) and job == forwarder.sync_status


def test_tickets_only_move_forward() -> None:
    assert moves_forward("baru", "diproses") and moves_forward("diproses", "selesai")
    assert not moves_forward("selesai", "diproses") and not moves_forward("ditolak", "selesai")
    assert not moves_forward("diproses", "diterima")


async def test_one_odd_report_does_not_stop_the_sync_of_the_others(sandbox: LaporSandbox, store: Any,
                                                                   forwarder: LaporForwarder) -> None:
    async with store.session() as s:
        case = Case(ref="KAS-2026-000002", complaint_count=1, reporter_count=1)
        s.add(case)
        await s.flush()
        s.add(Ticket(ref="TIK-2026-000002", case_id=case.id, agency="dpupr", kind="pengaduan"))
        await s.commit()
    await forwarder.send(OutboxItem(2, "ticket", "TIK-2026-000002", "lapor", ticket_payload(2)), "k2")
    odd, good = sorted(sandbox.reports.values(), key=lambda r: r.created_at)
    odd.status, odd.frozen = {"kode": 3, "nama": "didisposisikan"}, True  # a status LAPOR! sends as an object
    sandbox.force_status(good.tracking_id, "ditindaklanjuti", "Lubang sudah ditambal.", freeze=True)
    result = await forwarder.sync_status()
    assert (result.errors, result.answers) == (1, 1)
    async with store.session() as s:
        second = (await s.exec(select(Ticket).where(Ticket.ref == "TIK-2026-000002"))).scalars().one()
    assert (second.lapor_status, second.status) == ("ditindaklanjuti", "diproses")
