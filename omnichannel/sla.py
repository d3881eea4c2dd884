"""SLA in Indonesian working days: calendar, deadlines by kind, and marking overdue tickets."""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

import holidays
from pydantic import Field, field_validator
from sqlalchemy import update

from omnichannel.config import Model, forwarder_names
from omnichannel.models import Ticket
from omnichannel.outbox import enqueue
from omnichannel.templates import Templates

log = logging.getLogger(__name__)


class SlaConfig(Model):
    """Deadlines in working days and the calendar they are counted on."""

    timezone: str = "Asia/Jakarta"
    deadlines: dict[str, int] = Field(
        default_factory=lambda: {"pengaduan": 5, "aspirasi": 5, "informasi": 10},
        description="kind → working days for the agency's follow-up")
    default_days: int = Field(5, ge=0, description="deadline for a kind not listed in deadlines")
    extensions: dict[str, int] = Field(
        default_factory=lambda: {"informasi": 7},
        description="kind → working days a deadline may be extended by, once (UU 14/2008: 7 for PPID)")
    verification_days: int = Field(3, ge=0, description="working days to verify and forward a report")
    close_after_days: int = Field(10, ge=0, description="working days after an answer with no reply")
    cuti_bersama: list[date] = Field(default_factory=list, description="joint leave days decreed yearly")
    extra_holidays: list[date] = Field(default_factory=list, description="local holidays of the Pemda")
    working_weekdays: list[int] = Field(default_factory=lambda: [0, 1, 2, 3, 4],
                                        description="0 = Monday … 6 = Sunday")
    end_of_day: time = Field(time(23, 59, 59), description="a deadline falls at this local time")
    closed_statuses: list[str] = Field(default_factory=lambda: ["selesai", "ditutup", "closed", "ditolak"])
    check_interval: float = Field(300.0, gt=0, description="seconds between overdue checks")
    escalate_to: list[str] = Field(default_factory=list, description="forwarder names that get escalations")

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except Exception:
            raise ValueError(f"unknown time zone {value!r}") from None
        return value

    @field_validator("working_weekdays")
    @classmethod
    def _weekdays(cls, value: list[int]) -> list[int]:
        # without a possible working day, next_working_day would search forever (on the event loop)
        if not value or any(not 0 <= day <= 6 for day in value):
            raise ValueError("working_weekdays needs at least one day, each 0 (Monday) … 6 (Sunday)")
        return sorted(set(value))

    @field_validator("escalate_to")
    @classmethod
    def _names(cls, value: list[str]) -> list[str]:
        return forwarder_names(value)

    def deadline_days(self, kind: str) -> int:
        """Working days allowed for a ticket of ``kind``."""
        return self.deadlines.get(kind, self.default_days)

    def extension_days(self, kind: str) -> int:
        """Working days a deadline of ``kind`` may be extended by (0: no extension)."""
        return self.extensions.get(kind, 0)


@lru_cache(maxsize=64)
def _national(year: int) -> frozenset[date]:
    return frozenset(holidays.country_holidays("ID", years=year).keys())


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


class WorkingCalendar:
    """Working days: weekdays minus national holidays (``holidays``, ID) minus configured cuti bersama."""

    def __init__(self, cfg: SlaConfig | None = None) -> None:
        self.cfg = cfg or SlaConfig()
        self.zone = ZoneInfo(self.cfg.timezone)
        self.days_off = frozenset(self.cfg.cuti_bersama) | frozenset(self.cfg.extra_holidays)
        self.weekdays = frozenset(self.cfg.working_weekdays)

    def local_date(self, value: datetime | date) -> date:
        """The date in the calendar's zone (naive datetimes are taken as UTC)."""
        if isinstance(value, datetime):
            return _aware(value).astimezone(self.zone).date()
        return value

    def is_working_day(self, day: date | datetime) -> bool:
        """True on a weekday that is neither a national holiday nor a configured day off."""
        day = self.local_date(day)
        return day.weekday() in self.weekdays and day not in self.days_off and day not in _national(day.year)

    def holiday_name(self, day: date) -> str | None:
        """Why ``day`` is off (national holiday name or "cuti bersama"), None for a working day."""
        if day in self.cfg.cuti_bersama:
            return "cuti bersama"
        if day in self.cfg.extra_holidays:
            return "libur daerah"
        return holidays.country_holidays("ID", years=day.year).get(day)

    def next_working_day(self, day: date) -> date:
        """The first working day strictly after ``day``."""
        day += timedelta(days=1)
        while not self.is_working_day(day):
            day += timedelta(days=1)
        return day

    def add_working_days(self, start: datetime, days: int) -> datetime:
        """End of the ``days``-th working day after ``start``'s local date, as an aware UTC datetime.

        The day of ``start`` itself is not counted; ``days=0`` gives the end of ``start``'s day when it
        is a working day, else the end of the next working day.
        """
        if days < 0:
            raise ValueError("days must be >= 0")
        day = self.local_date(start)
        if days == 0 and not self.is_working_day(day):
            day = self.next_working_day(day)
        for _ in range(days):
            day = self.next_working_day(day)
        local = datetime.combine(day, self.cfg.end_of_day, tzinfo=self.zone)
        return local.astimezone(UTC)

    def working_days_between(self, a: datetime | date, b: datetime | date) -> int:
        """Working days after ``a``'s date up to and including ``b``'s date (negative when b < a)."""
        start, end = self.local_date(a), self.local_date(b)
        sign = 1
        if end < start:
            start, end, sign = end, start, -1
        count = 0
        day = start + timedelta(days=1)
        while day <= end:
            if self.is_working_day(day):
                count += 1
            day += timedelta(days=1)
        return sign * count

    def deadline(self, kind: str, start: datetime) -> datetime:
        """The SLA deadline of a ticket of ``kind`` created at ``start``."""
        return self.add_working_days(start, self.cfg.deadline_days(kind))


def _sla_config(config: Any) -> SlaConfig:
    sla = getattr(config, "sla", config)
    if isinstance(sla, SlaConfig):
        return sla
    return SlaConfig.model_validate(sla or {})


async def mark_overdue(store: Any, config: Any, now: datetime | None = None,
                       templates: Templates | None = None) -> list[str]:
    """Mark open tickets past their deadline as overdue (once) and queue escalations; returns their refs.

    ``config`` is the whole ``Config`` (its ``sla`` section is used) or an ``SlaConfig``. The update
    only takes rows still ``overdue = false``, so replicas running this at the same time escalate a
    ticket once; the outbox key (``escalation:<ref>#sla:<forwarder>``) makes the rows idempotent too.
    """
    sla = _sla_config(config)
    now = _aware(now or datetime.now(UTC)).astimezone(UTC)
    templates = templates or Templates(getattr(config, "templates", None) or {})
    zone = ZoneInfo(sla.timezone)
    agency_names = {a.code: a.name for a in getattr(config, "agencies", []) or []}
    stmt = (
        update(Ticket)
        .where(Ticket.sla_due.is_not(None), Ticket.sla_due < now,
               Ticket.overdue.is_(False), Ticket.closed_at.is_(None),
               Ticket.status.not_in(sla.closed_statuses))
        .values(overdue=True, escalated_at=now, updated_at=now)
        .returning(Ticket.ref, Ticket.agency, Ticket.sla_due)
        .execution_options(synchronize_session=False)
    )
    refs: list[str] = []
    async with store.session() as session:
        rows = (await session.exec(stmt)).all()
        for ref, agency, due in rows:
            refs.append(ref)
            due_utc = _aware(due)
            due_local = due_utc.astimezone(zone).strftime("%d-%m-%Y %H:%M")
            text = templates("escalation", ticket=ref, agency=agency_names.get(agency, agency), sla_due=due_local)
            payload = {"ticket": ref, "agency": agency, "sla_due": due_utc.isoformat(), "text": text}
            for destination in sla.escalate_to:
                await enqueue(session, "escalation", f"{ref}#sla", destination, payload)
        await session.commit()
    if refs:
        log.info("SLA: %d ticket(s) overdue, escalated to %s", len(refs), ", ".join(sla.escalate_to) or "nobody")
    return refs
