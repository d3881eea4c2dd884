"""Officers' Telegram group forwarder against the Telegram sandbox: summary, buttons, replies, the contract."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from pydantic import SecretStr
from sqlalchemy import select

from omnichannel.config import AgencyConfig, Config, ConnectorConfig
from omnichannel.errors import RetryableError
from omnichannel.models import (
    AuditEvent,
    Case,
    Complaint,
    ConnectorState,
    EnvelopeRow,
    OutboxRow,
    Reporter,
    Ticket,
)
from omnichannel.protocols import PluginContext
from omnichannel.sandbox.telegram import DEFAULT_TOKEN, TelegramSandbox
from omnichannel.templates import Templates
from omnichannel.types import OutboxItem
from router.delivery.forwarders.telegram import TICKET_REF, TelegramGroupConfig, TelegramGroupForwarder
from tests.contract.forwarder_contract import NAME, ForwarderContract, ticket_payload

GROUP = -100500
OFFICER = {"id": 4242, "is_bot": False, "first_name": "Petugas", "username": "petugas_pupr"}


def group_config(sandbox: TelegramSandbox, name: str = NAME, **extra: Any) -> TelegramGroupConfig:
    """Forwarder config pointing at the sandbox, with short timeouts."""
    values = {"token": SecretStr(DEFAULT_TOKEN), "chat_id": GROUP, "base_url": sandbox.base_url,
              "request_timeout": 1.0, "timeout": 2.0, "long_poll_timeout": 1.0, **extra}
    return TelegramGroupConfig(name=name, **values)


class GroupRemote:
    """Drives the Telegram sandbox for the forwarder contract suite (Telegram has no idempotency key)."""

    supports = {"ok", "reject", "throttle", "fail", "down"}
    retry_after = 3

    def __init__(self, sandbox: TelegramSandbox) -> None:
        self.sandbox, self.down = sandbox, False

    async def set_mode(self, mode: str) -> None:
        if self.down and mode != "down":
            await self.sandbox.start()  # same port as before
            self.down = False
        self.sandbox._faults.clear()  # the sandbox offers no public reset of queued faults
        send = ["sendmessage"]
        if mode == "reject":
            self.sandbox.fail(400, "Bad Request: chat not found", count=10_000, methods=send)
        elif mode == "throttle":
            self.sandbox.storm(10_000, retry_after=self.retry_after, methods=send)
        elif mode == "fail":
            self.sandbox.fail(502, "Bad Gateway", count=10_000, methods=send)
        elif mode == "down":
            await self.sandbox.stop()
            self.down = True

    def make_config(self, name: str) -> TelegramGroupConfig:
        return group_config(self.sandbox, name)

    async def received(self) -> list[str]:
        return [f"ticket:{ref}:{NAME}" for m in self.sandbox.sent for ref in TICKET_REF.findall(m["text"])[:1]]


@pytest_asyncio.fixture
async def sandbox() -> AsyncIterator[TelegramSandbox]:
    async with TelegramSandbox() as s:
        yield s


class TestTelegramGroupContract(ForwarderContract):
    @pytest.fixture
    def contract_remote(self, sandbox: TelegramSandbox) -> GroupRemote:
        return GroupRemote(sandbox)


# -- scenario tests ---------------------------------------------------------------------------------
async def make_case(store: Any, n: int = 1, agency: str = "dpupr") -> str:
    """Ticket TIK-2026-<n> whose case has one Telegram reporter (chat 555)."""
    async with store.session() as s:
        case = Case(ref=f"KAS-2026-{n:06d}")
        reporter = Reporter(display_name="Warga")
        s.add_all([case, reporter])
        await s.flush()
        env = EnvelopeRow(connector="tg", channel="telegram", external_id=f"e{n}", received_at=case.created_at,
                          raw=b"{}", origin={"chat_id": 555, "message_id": 3}, reporter_id=reporter.id)
        s.add(env)
        await s.flush()
        s.add(Complaint(ref=f"ADU-2026-{n:06d}", envelope_id=env.id, reporter_id=reporter.id, connector="tg",
                        channel="telegram", text="Jalan berlubang", status="routed", case_id=case.id))
        s.add(Ticket(ref=f"TIK-2026-{n:06d}", case_id=case.id, agency=agency, kind="pengaduan"))
        await s.commit()
    return f"TIK-2026-{n:06d}"


@pytest_asyncio.fixture
async def group(sandbox: TelegramSandbox, store: Any, tmp_path: Path) -> AsyncIterator[TelegramGroupForwarder]:
    fwd = await started(sandbox, store, tmp_path)
    yield fwd
    await fwd.stop()


async def started(sandbox: TelegramSandbox, store: Any, tmp_path: Path, **extra: Any) -> TelegramGroupForwarder:
    cfg = group_config(sandbox, agencies=["dpupr"], **extra)
    config = Config(data_dir=tmp_path, forwarders=[cfg], connectors=[ConnectorConfig(name="tg", kind="telegram")],
                    agencies=[AgencyConfig(code="dpupr", name="Dinas PUPR")])
    fwd = TelegramGroupForwarder(NAME, cfg)
    ctx = PluginContext(name=NAME, data_dir=tmp_path, attachments_dir=tmp_path, templates=Templates())
    ctx.extra.update(store=store, config=config)
    await fwd.start(ctx)
    return fwd


async def until(check: Callable[[], Any], what: str) -> Any:
    """Wait for the background poller to make ``check`` true (a deadline, not a timed assertion)."""
    for _ in range(500):
        value = await check()
        if value:
            return value
        await asyncio.sleep(0.02)
    raise AssertionError(f"never happened: {what}")


async def ticket(store: Any, ref: str = "TIK-2026-000001") -> Ticket:
    async with store.session() as s:
        return (await s.exec(select(Ticket).where(Ticket.ref == ref))).scalars().one()


async def post(fwd: TelegramGroupForwarder, store: Any, n: int = 1) -> int:
    """Send the ticket through the forwarder and record the receipt as the dispatcher would."""
    ref = f"TIK-2026-{n:06d}"
    receipt = await fwd.send(OutboxItem(n, "ticket", ref, NAME, {**ticket_payload(n), "reporters": 3}), "key")
    async with store.session() as s:
        s.add(OutboxRow(item_type="ticket", item_ref=ref, destination=NAME, idempotency_key=f"ticket:{ref}:{NAME}",
                        payload={}, status="done", remote_ref=receipt.remote_ref))
        await s.commit()
    return int(receipt.remote_ref.split(":")[1])


async def test_summary_message_has_everything_officers_need(sandbox: TelegramSandbox, store: Any,
                                                            group: TelegramGroupForwarder) -> None:
    await post(group, store)
    (msg,) = sandbox.sent
    text = msg["text"]
    assert msg["chat"]["id"] == GROUP
    for needle in ("TIK-2026-000001", "pengaduan", "Dinas PUPR", "Jl. Sukajadi dekat pasar, Kel. Sukajadi",
                   "Pelapor: 3 warga", "10-03-2026 16:00 WIB", "0812******90"):
        assert needle in text, needle
    assert "081234567890" not in text and "Budi" not in text
    keyboard = msg["reply_markup"]["inline_keyboard"]
    assert [(b["text"], b["callback_data"]) for b in keyboard[0]] == [
        ("Terima", "terima:TIK-2026-000001"), ("Selesai", "selesai:TIK-2026-000001")]


async def test_retry_after_becomes_retryable(sandbox: TelegramSandbox, group: TelegramGroupForwarder) -> None:
    sandbox.storm(1, retry_after=7, methods=["sendmessage"])
    with pytest.raises(RetryableError) as caught:
        await group.send(OutboxItem(1, "ticket", "TIK-2026-000001", NAME, ticket_payload(1)), "k")
    assert caught.value.retry_after == 7


async def test_terima_then_selesai_buttons_change_the_ticket(sandbox: TelegramSandbox, store: Any,
                                                            group: TelegramGroupForwarder) -> None:
    await make_case(store)
    message_id = await post(group, store)
    sandbox.press(GROUP, message_id, "terima:TIK-2026-000001", user=OFFICER)

    async def status() -> str | None:
        t = await ticket(store)
        return t.status if t.status != "baru" else None

    assert await until(status, "ticket accepted") == "diterima"
    await until(lambda: _async(sandbox.edits), "message edited")
    edited = sandbox.message(GROUP, message_id)
    assert [b["text"] for b in edited["reply_markup"]["inline_keyboard"][0]] == ["Selesai"]
    assert "@petugas_pupr" in edited["text"]
    sandbox.press(GROUP, message_id, "selesai:TIK-2026-000001", user=OFFICER)
    assert await until(lambda: _status_is(store, "selesai"), "ticket closed")
    t = await ticket(store)
    assert t.closed_at is not None
    async with store.session() as s:
        events = (await s.exec(select(AuditEvent).where(AuditEvent.action == "status")
                               .order_by(AuditEvent.id))).scalars().all()
        closed = (await s.exec(select(OutboxRow).where(OutboxRow.item_type == "reply"))).scalars().all()
    assert [(e.actor, e.detail["from"], e.detail["to"]) for e in events] == [
        ("telegram:4242", "baru", "diterima"), ("telegram:4242", "diterima", "selesai")]
    assert [(r.destination, r.payload["purpose"]) for r in closed] == [("reply:tg", "closed")]
    await until(lambda: _async(len(sandbox.callback_answers) == 2), "callbacks answered")
    assert "reply_markup" not in sandbox.message(GROUP, message_id)


async def test_offset_is_kept_in_the_checkpoint_table(sandbox: TelegramSandbox, store: Any, tmp_path: Path,
                                                      group: TelegramGroupForwarder) -> None:
    await make_case(store)
    message_id = await post(group, store)
    sandbox.press(GROUP, message_id, "terima:TIK-2026-000001", user=OFFICER)
    assert await until(lambda: _status_is(store, "diterima"), "accepted")

    async def offset() -> Any:
        async with store.session() as s:
            row = await s.get(ConnectorState, f"fw:{NAME}")
            stored = (row.checkpoint or {}).get("offset") if row else None
        # the sandbox saw getUpdates confirm exactly the offset we stored: the press is forgotten there
        return stored and stored == sandbox.confirmed_below and not sandbox.pending
    assert await until(offset, "offset stored and confirmed")
    await group.stop()
    again = await started(sandbox, store, tmp_path)  # a restart neither repeats nor loses anything
    try:
        sandbox.press(GROUP, message_id, "selesai:TIK-2026-000001", user=OFFICER)
        assert await until(lambda: _status_is(store, "selesai"), "closed after restart")
    finally:
        await again.stop()
    async with store.session() as s:
        actions = (await s.exec(select(AuditEvent.detail).where(AuditEvent.action == "status"))).scalars().all()
    assert [a["to"] for a in actions] == ["diterima", "selesai"]


async def test_officer_reply_becomes_the_answer(sandbox: TelegramSandbox, store: Any,
                                               group: TelegramGroupForwarder) -> None:
    await make_case(store)
    message_id = await post(group, store)
    sandbox.say(GROUP, "Tim sudah menambal lubang pagi ini.", user=OFFICER, reply_to=message_id)
    assert await until(lambda: _status_is(store, "diproses"), "answer recorded")
    t = await ticket(store)
    assert t.answer == "Tim sudah menambal lubang pagi ini."
    async with store.session() as s:
        (row,) = (await s.exec(select(OutboxRow).where(OutboxRow.item_type == "reply"))).scalars().all()
    assert row.destination == "reply:tg" and row.payload["origin"]["chat_id"] == 555
    assert "menambal lubang" in row.payload["text"] and row.payload["purpose"] == "answer"
    await until(lambda: _async(any("dikirim ke 1 warga" in m["text"] for m in sandbox.sent)), "confirmation")


async def test_other_agencies_strangers_and_chatter_change_nothing(sandbox: TelegramSandbox, store: Any,
                                                                   tmp_path: Path) -> None:
    fwd = await started(sandbox, store, tmp_path, officers=[4242])
    try:
        await make_case(store, 1)
        await make_case(store, 2, agency="dinkes")
        mine = await post(fwd, store, 1)
        theirs = await post(fwd, store, 2)
        sandbox.press(GROUP, theirs, "selesai:TIK-2026-000002", user=OFFICER)          # not this group's agency
        sandbox.press(GROUP, mine, "selesai:TIK-2026-000001", user={**OFFICER, "id": 9})  # not an officer
        sandbox.say(GROUP, "siap, meluncur", user=OFFICER)                                # chatter
        sandbox.say(GROUP, "bukan petugas", user={**OFFICER, "id": 9}, reply_to=mine)
        await until(lambda: _async(len(sandbox.callback_answers) == 2), "both refused")
        await until(lambda: _async(not sandbox.pending), "all updates handled")
    finally:
        await fwd.stop()
    assert all(a["show_alert"] for a in sandbox.callback_answers)
    assert ((await ticket(store, "TIK-2026-000001")).status, (await ticket(store, "TIK-2026-000002")).status) == (
        "baru", "baru")
    async with store.session() as s:
        assert (await s.exec(select(OutboxRow).where(OutboxRow.item_type == "reply"))).scalars().all() == []


async def _async(value: Any) -> Any:
    return value


async def _status_is(store: Any, status: str) -> bool:
    return (await ticket(store)).status == status


async def test_a_new_tickets_photos_follow_its_summary_but_never_an_anonymous_ones(
        sandbox: TelegramSandbox, store: Any, group: TelegramGroupForwarder, tmp_path: Path) -> None:
    from omnichannel import attachments
    from tests.images import PDF, png

    photo = png()
    files = [{"filename": a.filename, "content_type": a.content_type, "size": a.size, "path": a.path} for a in (
        attachments.keep(photo, "lubang.png", None, root=tmp_path, max_bytes=10**6),
        attachments.keep(PDF, "surat.pdf", None, root=tmp_path, max_bytes=10**6))]
    payload = {**ticket_payload(1), "attachments": files}
    await group.send(OutboxItem(1, "ticket", "TIK-2026-000001", NAME, payload), "k1")
    summary, picture = sandbox.sent
    assert "TIK-2026-000001" in summary["text"] and sandbox.sent_photos == [photo]  # the PDF stays on the desk
    assert picture["reply_to_message"]["message_id"] == summary["message_id"]
    assert picture["caption"] == "TIK-2026-000001: foto dari pelapor"
    await group.send(OutboxItem(2, "ticket", "TIK-2026-000002", NAME, {**payload, "anonymous": True}), "k2")
    assert len(sandbox.sent_photos) == 1 and len(sandbox.sent) == 3
