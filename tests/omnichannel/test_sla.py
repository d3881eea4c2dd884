"""Working-day calendar (weekends, national holidays, cuti bersama) and overdue escalation."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError
from sqlmodel import select

from omnichannel.models import Case, OutboxRow, Ticket
from omnichannel.sla import SlaConfig, WorkingCalendar, mark_overdue
from router.eval.routing import load_routing_config

REPO = Path(__file__).resolve().parents[2]
WIB = ZoneInfo("Asia/Jakarta")


@pytest.fixture(scope="module")
def config():
    """The shipped config.yaml (only its routing sections when a channel library is missing here)."""
    return load_routing_config(REPO / "config.yaml")


@pytest.fixture(scope="module")
def calendar(config) -> WorkingCalendar:
    return WorkingCalendar(config.sla)


def wib(*args: int) -> datetime:
    return datetime(*args, tzinfo=WIB)


def test_shipped_sla_section(config) -> None:
    sla: SlaConfig = config.sla
    assert isinstance(sla, SlaConfig)
    assert sla.deadline_days("pengaduan") == 5
    assert sla.deadline_days("informasi") == 10
    assert sla.extension_days("informasi") == 7
    assert sla.extension_days("pengaduan") == 0
    assert sla.verification_days == 3
    assert sla.escalate_to == []
    assert {date(2026, 3, 20), date(2026, 3, 23), date(2026, 3, 24), date(2025, 4, 7)} <= set(sla.cuti_bersama)


def test_unknown_kind_uses_the_default() -> None:
    assert SlaConfig(default_days=4).deadline_days("lainnya") == 4


def test_config_rejects_unknown_keys_and_zones() -> None:
    with pytest.raises(ValidationError):
        SlaConfig.model_validate({"deadline": {"pengaduan": 5}})
    with pytest.raises(ValidationError):
        SlaConfig.model_validate({"timezone": "Asia/Semarang"})


@pytest.mark.parametrize(("day", "working"), [
    (date(2026, 3, 17), True),    # Tuesday before Nyepi
    (date(2026, 3, 18), False),   # cuti bersama Nyepi (config)
    (date(2026, 3, 19), False),   # Nyepi (national holiday)
    (date(2026, 3, 20), False),   # cuti bersama Idul Fitri (config)
    (date(2026, 3, 21), False),   # Idul Fitri 1447 H (Saturday)
    (date(2026, 3, 23), False),   # cuti bersama Idul Fitri
    (date(2026, 3, 24), False),   # cuti bersama Idul Fitri
    (date(2026, 3, 25), True),
    (date(2026, 4, 3), False),    # Good Friday
    (date(2026, 3, 28), False),   # Saturday
])
def test_is_working_day(calendar: WorkingCalendar, day: date, working: bool) -> None:
    assert calendar.is_working_day(day) is working


def test_holiday_names(calendar: WorkingCalendar) -> None:
    assert calendar.holiday_name(date(2026, 3, 23)) == "cuti bersama"
    assert calendar.holiday_name(date(2026, 3, 21))
    assert calendar.holiday_name(date(2026, 3, 25)) is None


def test_complaint_deadline_across_idul_fitri_2026(calendar: WorkingCalendar, config) -> None:
    created = wib(2026, 3, 17, 10, 0)
    due = calendar.add_working_days(created, config.sla.deadline_days("pengaduan"))
    assert due == wib(2026, 3, 31, 23, 59, 59).astimezone(UTC)
    assert due.tzinfo is UTC
    assert calendar.working_days_between(created, due) == 5


def test_cuti_bersama_comes_from_config(config) -> None:
    without = WorkingCalendar(config.sla.model_copy(update={"cuti_bersama": []}))
    assert without.add_working_days(wib(2026, 3, 17, 10, 0), 5) == wib(2026, 3, 25, 23, 59, 59).astimezone(UTC)


def test_information_request_and_its_extension(calendar: WorkingCalendar, config) -> None:
    created = wib(2026, 3, 17, 10, 0)
    due = calendar.add_working_days(created, config.sla.deadline_days("informasi"))
    assert due.astimezone(WIB).date() == date(2026, 4, 8)     # skips Idul Fitri and Good Friday
    extended = calendar.add_working_days(due, config.sla.extension_days("informasi"))
    assert extended.astimezone(WIB).date() == date(2026, 4, 17)


def test_idul_fitri_2025(calendar: WorkingCalendar) -> None:
    due = calendar.add_working_days(wib(2025, 3, 27, 9, 0), 3)
    assert due.astimezone(WIB).date() == date(2025, 4, 10)


def test_start_on_a_holiday_and_zero_days(calendar: WorkingCalendar) -> None:
    assert calendar.add_working_days(wib(2026, 3, 21, 8, 0), 5).astimezone(WIB).date() == date(2026, 3, 31)
    assert calendar.add_working_days(wib(2026, 3, 21, 8, 0), 0).astimezone(WIB).date() == date(2026, 3, 25)
    assert calendar.add_working_days(wib(2026, 3, 25, 8, 0), 0).astimezone(WIB).date() == date(2026, 3, 25)
    with pytest.raises(ValueError):
        calendar.add_working_days(wib(2026, 3, 25, 8, 0), -1)


def test_local_date_decides_not_utc(calendar: WorkingCalendar) -> None:
    # 17 March 18:00 UTC is already 18 March 01:00 in Jakarta: a cuti bersama day
    start = datetime(2026, 3, 17, 18, 0, tzinfo=UTC)
    assert not calendar.is_working_day(start)
    assert calendar.add_working_days(start, 1).astimezone(WIB).date() == date(2026, 3, 25)
    # naive datetimes are UTC
    assert calendar.add_working_days(datetime(2026, 3, 17, 18, 0), 1) == calendar.add_working_days(start, 1)


def test_working_days_between(calendar: WorkingCalendar) -> None:
    assert calendar.working_days_between(date(2026, 3, 17), date(2026, 3, 31)) == 5
    assert calendar.working_days_between(date(2026, 3, 31), date(2026, 3, 17)) == -5
    assert calendar.working_days_between(date(2026, 3, 17), date(2026, 3, 17)) == 0
    assert calendar.working_days_between(date(2026, 3, 17), date(2026, 3, 24)) == 0


async def _overdue_scenario(store, config) -> None:
    sla = config.sla.model_copy(update={"escalate_to": ["queue", "koordinator"]})
    config = config.model_copy(update={"sla": sla})
    now = datetime(2026, 4, 1, 3, 0, tzinfo=UTC)
    async with store.session() as session:
        case = Case(ref="KAS-2026-000001")
        session.add(case)
        await session.flush()
        past = now - timedelta(hours=1)
        session.add_all([
            Ticket(ref="TIK-2026-000001", case_id=case.id, agency="pupr", kind="pengaduan", sla_due=past),
            Ticket(ref="TIK-2026-000002", case_id=case.id, agency="dlh", kind="pengaduan", sla_due=past,
                   status="selesai"),
            Ticket(ref="TIK-2026-000003", case_id=case.id, agency="pdam", kind="pengaduan",
                   sla_due=now + timedelta(days=1)),
            Ticket(ref="TIK-2026-000004", case_id=case.id, agency="dinkes", kind="pengaduan", sla_due=None),
        ])
        await session.commit()

    assert await mark_overdue(store, config, now=now) == ["TIK-2026-000001"]
    assert await mark_overdue(store, config, now=now + timedelta(minutes=5)) == []   # only once

    async with store.session() as session:
        rows = (await session.exec(select(OutboxRow).order_by(OutboxRow.destination))).all()
        tickets = {t.ref: t for t in (await session.exec(select(Ticket))).all()}
    assert [(r.item_type, r.item_ref, r.destination) for r in rows] == [
        ("escalation", "TIK-2026-000001#sla", "koordinator"), ("escalation", "TIK-2026-000001#sla", "queue")]
    payload = rows[0].payload
    assert payload["ticket"] == "TIK-2026-000001" and payload["agency"] == "pupr"
    assert datetime.fromisoformat(payload["sla_due"]) == now - timedelta(hours=1)
    assert "TIK-2026-000001" in payload["text"] and "Dinas Pekerjaan Umum" in payload["text"]
    assert tickets["TIK-2026-000001"].overdue and tickets["TIK-2026-000001"].escalated_at is not None
    assert not tickets["TIK-2026-000002"].overdue
    assert not tickets["TIK-2026-000003"].overdue

    # later, the next ticket falls due
    later = now + timedelta(days=2)
    assert await mark_overdue(store, config, now=later) == ["TIK-2026-000003"]


async def test_mark_overdue_sqlite(store, config) -> None:
    await _overdue_scenario(store, config)


async def test_mark_overdue_postgresql(pg_store, config) -> None:
    await _overdue_scenario(pg_store, config)


async def test_mark_overdue_without_escalation_targets(store, config) -> None:
    now = datetime(2026, 4, 1, 3, 0, tzinfo=UTC)
    async with store.session() as session:
        case = Case(ref="KAS-2026-000009")
        session.add(case)
        await session.flush()
        session.add(Ticket(ref="TIK-2026-000009", case_id=case.id, agency="pupr", kind="pengaduan",
                           sla_due=now - timedelta(days=1)))
        await session.commit()
    assert await mark_overdue(store, config.sla, now=now) == ["TIK-2026-000009"]
    async with store.session() as session:
        assert (await session.exec(select(OutboxRow))).all() == []


@pytest.mark.parametrize("weekdays", [[], [7], [-1], [0, 9]])
def test_a_calendar_without_working_days_is_a_config_error(weekdays) -> None:
    # with no weekday that can ever be a working day, next_working_day would loop forever on the event loop
    with pytest.raises(ValidationError, match="working_weekdays"):
        SlaConfig(working_weekdays=weekdays)


def test_a_deadline_far_behind_days_off_is_still_found() -> None:
    start = date(2026, 1, 1)
    cfg = SlaConfig(extra_holidays=[start + timedelta(days=i) for i in range(1, 400)])
    due = WorkingCalendar(cfg).add_working_days(datetime(2026, 1, 1, 3, tzinfo=UTC), 1)
    assert due.date() > start + timedelta(days=399)
