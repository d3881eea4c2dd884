"""SP4N-LAPOR! forwarder against the LAPOR! sandbox: both wire formats, the contract, failures, crashes."""

from __future__ import annotations

import asyncio
import json
import random
import re
from collections import Counter
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from pydantic import SecretStr
from sqlalchemy import select, update

from omnichannel.config import Config
from omnichannel.errors import AuthError, PermanentDeliveryError
from omnichannel.models import AuditEvent, Case, OutboxRow, Ticket
from omnichannel.outbox import enqueue
from omnichannel.sandbox.lapor import LaporSandbox
from omnichannel.types import OutboxItem, utcnow
from router.delivery import outbox as outbox_ops
from router.delivery.dispatcher import Dispatcher
from router.delivery.forwarders.lapor import LaporConfig, LaporForwarder, record_tracking_id
from router.delivery.lapor_wire import LaporJsonMapping
from tests.contract.forwarder_contract import NAME, ForwarderContract, start_forwarder, ticket_payload

WIRES = ["json", "legacy-xml"]
_REF = re.compile(r"TIK-\d{4}-\d{6}")
PII = ("Budi", "Santoso", "budi@example.id", "6281234567890", "081234567890")


def lapor_config(sandbox: LaporSandbox, wire: str, name: str = NAME, **extra: Any) -> LaporConfig:
    """A forwarder config pointing at the sandbox with a short timeout."""
    extra.setdefault("timeout", 1.0)
    return LaporConfig(name=name, base_url=sandbox.base_url, token=SecretStr("sandbox-token"), wire=wire, **extra)


def refs_in(report: Any) -> list[str]:
    """The ticket refs a sandbox report carries (external reference, else the ref in its text)."""
    return [report.external_ref] if report.external_ref else _REF.findall(report.text)


class LaporRemote:
    """Drives the sandbox for the forwarder contract suite."""

    retry_after = 3

    def __init__(self, sandbox: LaporSandbox, wire: str) -> None:
        self.sandbox, self.wire, self.down = sandbox, wire, False
        self.supports = {"ok", "reject", "throttle", "fail", "down", "dedupe"}
        if wire == "json":
            # legacy-xml cannot tell whether a request that hung reached LAPOR!: it holds the row for an
            # admin instead of retrying (test_legacy_xml_holds_an_in_doubt_submission), so no "hang" case
            self.supports.add("hang")

    async def set_mode(self, mode: str) -> None:
        if self.down and mode != "down":
            await self.sandbox.start()
            self.down = False
        self.sandbox.clear_failures()
        if mode == "reject":
            self.sandbox.fail_next(10_000, status=422)
        elif mode == "throttle":
            self.sandbox.fail_next(10_000, status=429, retry_after=self.retry_after)
        elif mode == "fail":
            self.sandbox.fail_next(10_000, status=503)
        elif mode == "hang":
            self.sandbox.delay = 10.0
        elif mode == "down":
            await self.sandbox.stop()
            self.down = True

    def make_config(self, name: str) -> LaporConfig:
        return lapor_config(self.sandbox, self.wire, name)

    async def received(self) -> list[str]:
        return [f"ticket:{ref}:{NAME}" for r in self.sandbox.reports.values() for ref in refs_in(r)]


@pytest_asyncio.fixture
async def sandbox() -> AsyncIterator[LaporSandbox]:
    async with LaporSandbox() as s:
        yield s


class TestLaporJsonContract(ForwarderContract):
    @pytest.fixture
    def contract_remote(self, sandbox: LaporSandbox) -> LaporRemote:
        return LaporRemote(sandbox, "json")


class TestLaporLegacyXmlContract(ForwarderContract):
    @pytest.fixture
    def contract_remote(self, sandbox: LaporSandbox) -> LaporRemote:
        return LaporRemote(sandbox, "legacy-xml")


# -- helpers ----------------------------------------------------------------------------------------
async def make_ticket(store: Any, n: int, agency: str = "dpupr") -> None:
    """A case and its ticket ``TIK-2026-<n>`` in the store."""
    async with store.session() as s:
        case = Case(ref=f"KAS-2026-{n:06d}")
        s.add(case)
        await s.flush()
        s.add(Ticket(ref=f"TIK-2026-{n:06d}", case_id=case.id, agency=agency, kind="pengaduan"))
        await s.commit()


async def enqueue_tickets(store: Any, numbers: list[int], anonymous: Any = False) -> None:
    async with store.session() as s:
        for n in numbers:
            anon = anonymous(n) if callable(anonymous) else anonymous
            await enqueue(s, "ticket", f"TIK-2026-{n:06d}", NAME, ticket_payload(n, anonymous=anon))
        await s.commit()


async def make_due(store: Any) -> None:
    async with store.session() as s:
        await s.exec(update(OutboxRow).where(OutboxRow.status == "pending")
                     .values(next_attempt_at=utcnow() - timedelta(seconds=1)))
        await s.commit()


async def rows(store: Any) -> list[OutboxRow]:
    async with store.session() as s:
        return list((await s.exec(select(OutboxRow).order_by(OutboxRow.id))).scalars().all())


async def drain(store: Any, dispatcher: Dispatcher, rounds: int = 300) -> None:
    """Run the dispatcher until no row is pending or in flight."""
    for _ in range(rounds):
        await make_due(store)
        await dispatcher.run_once()
        if not [r for r in await rows(store) if r.status in ("pending", "in_flight")]:
            return
    raise AssertionError("outbox not drained")


def dispatcher_for(store: Any, tmp_path: Path, forwarder: Any, cfg: LaporConfig) -> Dispatcher:
    return Dispatcher(store, Config(data_dir=tmp_path, forwarders=[cfg]), {NAME: forwarder}, owner="test",
                      backoff_base=0.01, backoff_max=0.05, rng=random.Random(3))


def assert_anonymous_body(sub: Any) -> None:
    """No reporter data and no unmasked phone number in a submitted body; the anonymity flag set."""
    for needle in PII:
        assert needle not in sub.body, f"{needle!r} leaked in {sub.body}"
    fields = sub.parsed()
    if sub.wire == "json":
        assert fields["anonim"] is True and "pelapor" not in fields
    else:
        assert fields["laporan@anonim"] == "1"
        assert all(fields[f"pelapor.{k}"] == "" for k in ("email", "telpon", "namadepan", "namabelakang"))


# -- bodies -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("wire", WIRES)
async def test_named_reporter_and_flags_reach_lapor(sandbox: LaporSandbox, store: Any, tmp_path: Path,
                                                    wire: str) -> None:
    cfg = lapor_config(sandbox, wire, topics={"dpupr:pengaduan": "11"})
    fwd = await start_forwarder(cfg, store, tmp_path)
    try:
        payload = {**ticket_payload(1), "confidential": True}
        receipt = await fwd.send(OutboxItem(1, "ticket", "TIK-2026-000001", NAME, payload), "k1")
    finally:
        await fwd.stop()
    (report,) = sandbox.reports.values()
    assert receipt.remote_ref == report.tracking_id
    assert report.confidential and not report.anonymous
    assert report.reporter["email"] == "budi@example.id" and "081234567890" in report.text
    assert "TIK-2026-000001" in report.text
    if wire == "json":
        assert report.topic_id == 11 and report.external_ref == "TIK-2026-000001"
        assert report.reporter["name"] == "Budi Santoso" and report.title == "Jalan berlubang"
    else:
        assert report.reporter["name"] == "Budi Santoso"
        assert sandbox.submissions[0].parsed()["laporan@rahasia"] == "1"


@pytest.mark.parametrize("wire", WIRES)
async def test_anonymous_report_carries_no_reporter_data(sandbox: LaporSandbox, store: Any, tmp_path: Path,
                                                         wire: str) -> None:
    fwd = await start_forwarder(lapor_config(sandbox, wire), store, tmp_path)
    try:
        # the payload still names the reporter (as a buggy router might): anonim must win
        payload = {**ticket_payload(2), "anonymous": True, "subject": "Dari Budi Santoso"}
        await fwd.send(OutboxItem(2, "ticket", "TIK-2026-000002", NAME, payload), "k2")
    finally:
        await fwd.stop()
    (sub,) = sandbox.submissions
    assert_anonymous_body(sub)
    assert "0812******90" in sub.parsed().get("isi", sub.parsed().get("laporan.isi"))


@pytest.mark.parametrize("wire", WIRES)
async def test_probe_really_talks_to_lapor(sandbox: LaporSandbox, store: Any, tmp_path: Path, wire: str) -> None:
    fwd = await start_forwarder(lapor_config(sandbox, wire), store, tmp_path)
    with_key = await start_forwarder(lapor_config(sandbox, wire, keytoken=SecretStr("sandbox-keytoken")), store,
                                     tmp_path)
    bad = await start_forwarder(LaporConfig(name=NAME, base_url=sandbox.base_url, token=SecretStr("x"), wire=wire),
                                store, tmp_path)
    try:
        assert "topics" in await with_key.probe()
        if wire == "json":
            assert "token accepted" in await fwd.probe()
            with pytest.raises(AuthError):
                await bad.probe()
        else:
            assert "answers HTTP" in await fwd.probe()
    finally:
        for f in (fwd, with_key, bad):
            await f.stop()


def test_json_mapping_follows_config(sandbox: LaporSandbox) -> None:
    mapping = LaporJsonMapping(request_fields={"text": "report.body", "anonymous": "is_anon", "topic": "cat",
                                               "external_ref": "meta.ref", "name": None}, flags_as="int")
    fwd = LaporForwarder(NAME, LaporConfig(name=NAME, token=SecretStr("t"), wire="json", json=mapping,
                                           default_topic="99"))
    from router.delivery.lapor_wire import JsonWire

    wire = JsonWire(None, "http://127.0.0.1:1", "t", 1.0, mapping=mapping)  # type: ignore[arg-type]
    body = wire.body(fwd.report(ticket_payload(3)))
    assert body == {"report": {"body": body["report"]["body"]}, "is_anon": 0, "cat": 99,
                    "meta": {"ref": "TIK-2026-000003"}}
    assert wire.can_search


async def test_topic_mapping_order(store: Any, tmp_path: Path) -> None:
    cfg = LaporConfig(name=NAME, token=SecretStr("t"), topics={"dlh:pengaduan": "21", "dlh": "2", "*:informasi": "7"},
                      default_topic="99")
    fwd = LaporForwarder(NAME, cfg)
    from omnichannel.config import AgencyConfig

    fwd.app_config = Config(agencies=[AgencyConfig(code="dinkes", name="Dinas Kesehatan", lapor_topic="3")])
    assert [fwd.topic("dlh", "pengaduan"), fwd.topic("dlh", "aspirasi"), fwd.topic("dpupr", "informasi"),
            fwd.topic("dinkes", "pengaduan"), fwd.topic("dpupr", "pengaduan")] == ["21", "2", "7", "3", "99"]


async def test_bad_token_is_permanent(sandbox: LaporSandbox, store: Any, tmp_path: Path) -> None:
    cfg = LaporConfig(name=NAME, base_url=sandbox.base_url, token=SecretStr("wrong"), wire="json", timeout=1)
    fwd = await start_forwarder(cfg, store, tmp_path)
    try:
        with pytest.raises(PermanentDeliveryError, match="token"):
            await fwd.send(OutboxItem(1, "ticket", "TIK-2026-000001", NAME, ticket_payload(1)), "k")
    finally:
        await fwd.stop()


# -- through the real dispatcher -------------------------------------------------------------------
@pytest.mark.parametrize("wire", WIRES)
async def test_thirty_percent_failures_everything_delivered_once(sandbox: LaporSandbox, any_store: Any,
                                                                 tmp_path: Path, wire: str) -> None:
    store = any_store  # SQLite and PostgreSQL (row locks on the ticket)
    numbers = list(range(1, 41))
    for n in numbers[:10]:
        await make_ticket(store, n)
    await enqueue_tickets(store, numbers, anonymous=lambda n: n % 2 == 0)
    sandbox.failure_rate = 0.3
    cfg = lapor_config(sandbox, wire)
    fwd = await start_forwarder(cfg, store, tmp_path)
    try:
        await drain(store, dispatcher_for(store, tmp_path, fwd, cfg))
    finally:
        await fwd.stop()
    done = await rows(store)
    assert [r.status for r in done] == ["done"] * 40
    per_ref = Counter(ref for r in sandbox.reports.values() for ref in refs_in(r))
    assert per_ref == Counter({f"TIK-2026-{n:06d}": 1 for n in numbers})
    failed = [s for s in sandbox.submissions if s.status >= 500]
    assert len(failed) >= 5  # the failures really happened
    for sub in sandbox.submissions:
        ref = _REF.search(sub.body).group(0)  # type: ignore[union-attr]
        if int(ref[-6:]) % 2 == 0:
            assert_anonymous_body(sub)
    by_ref = {ref: r.tracking_id for r in sandbox.reports.values() for ref in refs_in(r)}
    assert all(r.remote_ref == by_ref[r.item_ref] for r in done)
    async with store.session() as s:
        tickets = (await s.exec(select(Ticket))).scalars().all()
    assert {t.ref: t.lapor_tracking_id for t in tickets} == {t.ref: by_ref[t.ref] for t in tickets}


async def test_json_answer_lost_then_reconciled_not_resent(sandbox: LaporSandbox, store: Any,
                                                           tmp_path: Path) -> None:
    await make_ticket(store, 1)
    await enqueue_tickets(store, [1])
    sandbox.lose_next_answers(1, mode="504")
    cfg = lapor_config(sandbox, "json")
    fwd = await start_forwarder(cfg, store, tmp_path)
    dispatcher = dispatcher_for(store, tmp_path, fwd, cfg)
    try:
        assert await dispatcher.run_once() == 1
        assert (await rows(store))[0].status == "pending"
        await make_due(store)
        assert await dispatcher.run_once() == 1
    finally:
        await fwd.stop()
    (row,) = await rows(store)
    (report,) = sandbox.reports.values()
    assert (row.status, row.remote_ref) == ("done", report.tracking_id)
    assert len(sandbox.submissions) == 1  # looked up, not posted again
    async with store.session() as s:
        ticket = (await s.exec(select(Ticket))).scalars().one()
        actions = (await s.exec(select(AuditEvent.action).order_by(AuditEvent.id))).scalars().all()
    assert ticket.lapor_tracking_id == report.tracking_id
    assert actions == ["lapor_sending", "lapor_reconciled"]


async def crash_mid_send(sandbox: LaporSandbox, fwd: Any, store: Any) -> None:
    """Run a send like a dispatcher would and kill it after LAPOR! stored the report, before the answer."""
    sandbox.lose_next_answers(1, mode="hang", hang=30)
    (row,) = await rows(store)
    item = OutboxItem(row.id, row.item_type, row.item_ref, row.destination, row.payload, attempt=1)
    task = asyncio.create_task(fwd.send(item, row.idempotency_key))
    for _ in range(200):
        if sandbox.reports:
            break
        await asyncio.sleep(0.01)
    assert sandbox.reports, "the sandbox never stored the report"
    task.cancel()  # the process dies here: nothing after the request is recorded
    with pytest.raises(asyncio.CancelledError):
        await task
    sandbox.clear_failures()


@pytest.mark.parametrize("wire", WIRES)
async def test_crash_between_send_and_record_makes_no_duplicate(sandbox: LaporSandbox, any_store: Any,
                                                                tmp_path: Path, wire: str) -> None:
    store = any_store  # SQLite and PostgreSQL (row locks on the ticket)
    await make_ticket(store, 5)
    await enqueue_tickets(store, [5])
    cfg = lapor_config(sandbox, wire, timeout=5.0)
    fwd = await start_forwarder(cfg, store, tmp_path)
    dispatcher = dispatcher_for(store, tmp_path, fwd, cfg)
    try:
        await crash_mid_send(sandbox, fwd, store)
        for _ in range(3):
            await make_due(store)
            await dispatcher.run_once()
        (row,) = await rows(store)
        (report,) = sandbox.reports.values()
        assert len(sandbox.submissions) == 1
        if wire == "json":
            assert (row.status, row.remote_ref) == ("done", report.tracking_id)
            return
        # legacy-xml cannot look the report up: the row waits for an admin, with the reason
        assert row.status == "held" and "TIK-2026-000005" in row.last_error and "outbox retry" in row.last_error
        assert (await outbox_ops.list_rows(store, status="held"))[0]["id"] == row.id
        # the admin finds it in LAPOR!, records the tracking id and releases the row: no second report
        await record_tracking_id(store, "TIK-2026-000005", report.tracking_id, actor="admin")
        assert await outbox_ops.retry(store, ids=[row.id]) == 1
        await dispatcher.run_once()
    finally:
        await fwd.stop()
    (row,) = await rows(store)
    assert (row.status, row.remote_ref) == ("done", report.tracking_id)
    assert len(sandbox.reports) == 1 and len(sandbox.submissions) == 1


async def test_legacy_xml_hold_released_by_admin_submits(sandbox: LaporSandbox, store: Any,
                                                         tmp_path: Path) -> None:
    """A request that hung and never reached LAPOR!: held; the admin sees it absent and retries."""
    await enqueue_tickets(store, [6])
    cfg = lapor_config(sandbox, "legacy-xml", timeout=0.5)
    fwd = await start_forwarder(cfg, store, tmp_path)
    dispatcher = dispatcher_for(store, tmp_path, fwd, cfg)
    try:
        sandbox.delay = 2.0
        await dispatcher.run_once()
        sandbox.clear_failures()
        await make_due(store)
        await dispatcher.run_once()
        (row,) = await rows(store)
        assert row.status == "held" and sandbox.reports == {}
        await make_due(store)
        assert await dispatcher.run_once() == 0  # held rows are not picked up
        assert await outbox_ops.retry(store, ids=[row.id]) == 1
        await dispatcher.run_once()
    finally:
        await fwd.stop()
    (row,) = await rows(store)
    (report,) = sandbox.reports.values()
    assert (row.status, row.remote_ref) == ("done", report.tracking_id)
    async with store.session() as s:
        actions = (await s.exec(select(AuditEvent.action).where(AuditEvent.actor == NAME)
                                .order_by(AuditEvent.id))).scalars().all()
    assert actions == ["lapor_sending", "lapor_held", "lapor_sending", "lapor_submitted"]


async def test_definite_failures_are_resent_without_hold(sandbox: LaporSandbox, store: Any,
                                                         tmp_path: Path) -> None:
    """503 and connection refused mean LAPOR! did not take it: legacy-xml retries without holding."""
    await enqueue_tickets(store, [7])
    cfg = lapor_config(sandbox, "legacy-xml")
    fwd = await start_forwarder(cfg, store, tmp_path)
    dispatcher = dispatcher_for(store, tmp_path, fwd, cfg)
    try:
        sandbox.fail_next(2, status=503)
        await drain(store, dispatcher)
    finally:
        await fwd.stop()
    (row,) = await rows(store)
    assert (row.status, row.attempts) == ("done", 3)
    assert len(sandbox.reports) == 1
    assert json.dumps(row.last_error or "").find("held") == -1


async def test_admin_records_a_found_report_from_the_command_line(sandbox: LaporSandbox, store: Any,
                                                                  tmp_path: Path) -> None:
    """``omnichannel outbox found TICKET TRACKING``: the held row completes, LAPOR! gets no second report."""
    from omnichannel.cli import main

    await make_ticket(store, 8)
    await enqueue_tickets(store, [8])
    cfg = lapor_config(sandbox, "legacy-xml", timeout=5.0)
    fwd = await start_forwarder(cfg, store, tmp_path)
    dispatcher = dispatcher_for(store, tmp_path, fwd, cfg)
    config_file = tmp_path / "cli.yaml"
    config_file.write_text(f'data_dir: {tmp_path}\nstore: {{url: "{store.url}"}}\nconnectors: []\n'
                           "logging: {level: WARNING}\n")
    try:
        await crash_mid_send(sandbox, fwd, store)
        await make_due(store)
        await dispatcher.run_once()
        (row,) = await rows(store)
        assert row.status == "held"
        (report,) = sandbox.reports.values()
        argv = ["-c", str(config_file), "outbox", "found", "tik-2026-000008", report.tracking_id,
                "--destination", NAME]
        assert await asyncio.to_thread(main, argv) == 0
        assert await asyncio.to_thread(main, argv) == 1  # nothing held any more
        await dispatcher.run_once()
    finally:
        await fwd.stop()
    (row,) = await rows(store)
    assert (row.status, row.remote_ref) == ("done", report.tracking_id)
    assert len(sandbox.reports) == 1 and len(sandbox.submissions) == 1
