"""Working-day stamps on tickets: what a report's durations are differences of.

The working-day ordinal of a date is the number of working days from ``ANCHOR`` up to and including
it on the project's calendar (``omnichannel.sla.WorkingCalendar``); the difference of two ordinals is
``WorkingCalendar.working_days_between``. A ticket keeps ``received_wd`` (its receipt's ordinal),
``response_days`` and ``completion_days`` (ordinal of the first response's, of the closing's local
date, minus ``received_wd``) and ``received_day`` (the local date, ``date.toordinal``): a report
groups by stored integers, with no time-zone conversion or calendar lookup per row.

The calendar is configuration (time zone, working weekdays, cuti bersama, regional holidays) plus the
national holidays of the ``holidays`` package, so the stamps carry its fingerprint (``wd_calendar``).
A ticket whose timestamps change loses its stamp (``wd_calendar`` = NULL, a mapper event in
``omnichannel.models``), and a
new ticket has none: ``stamp`` fills exactly the rows that have no stamp or one of another calendar,
one UPDATE in SQL. Every report calls it first; on a store where nothing changed it finds no row
(an index on ``wd_calendar``), after a calendar change it restamps every ticket once.
"""

from __future__ import annotations

import hashlib
import json
import logging
from datetime import date, timedelta
from typing import Any

import holidays
from sqlalchemy import Date, Integer, bindparam, cast, func, literal, or_, select, text, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.elements import Grouping

from omnichannel.models import Ticket
from omnichannel.reports import days
from omnichannel.sla import WorkingCalendar
from omnichannel.types import utcnow

log = logging.getLogger(__name__)

T = Ticket.__table__
ANCHOR = date(2000, 1, 1)  # ordinal 0 is the day before; earlier dates get no number
YEARS_AHEAD = 10
STAMP_VERSION = 1  # bump when the meaning of the stamps changes: every ticket is restamped


def fingerprint(calendar: WorkingCalendar) -> int:
    """A 60-bit number that changes whenever any working day of ``calendar`` could."""
    cfg = calendar.cfg
    parts = {"v": STAMP_VERSION, "anchor": ANCHOR.isoformat(), "zone": cfg.timezone,
             "weekdays": sorted(cfg.working_weekdays), "cuti": sorted(d.isoformat() for d in cfg.cuti_bersama),
             "extra": sorted(d.isoformat() for d in cfg.extra_holidays), "holidays": holidays.__version__}
    digest = hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()
    return int(digest[:15], 16)


_CACHE: dict[tuple[int, date], tuple[int, ...]] = {}


class Ordinals:
    """Working-day ordinals of one calendar from ``ANCHOR`` to ``YEARS_AHEAD`` years after today (computed
    once per process and calendar: about 0.1 s for 37 years)."""

    def __init__(self, calendar: WorkingCalendar, until: date | None = None) -> None:
        self.calendar = calendar
        self.key = fingerprint(calendar)
        today = calendar.local_date(utcnow())
        last = date(max(today, until or today).year + YEARS_AHEAD, 12, 31)
        cached = _CACHE.get((self.key, last))
        if cached is None:
            cached = tuple(r["n"] for r in days.numbering(calendar, ANCHOR, last))
            if len(_CACHE) > 8:
                _CACHE.clear()
            _CACHE[(self.key, last)] = cached
        self.values = cached

    def of(self, day: date) -> int | None:
        """The ordinal of ``day`` (None outside the range)."""
        i = (day - ANCHOR).days
        return self.values[i] if 0 <= i < len(self.values) else None


def _dirty(key: int) -> Any:
    # three index ranges rather than "<>": both databases then walk ix_tickets_wd_calendar
    return or_(T.c.wd_calendar.is_(None), T.c.wd_calendar < key, T.c.wd_calendar > key)


async def stamp(conn: AsyncConnection, calendar: WorkingCalendar, ordinals: Ordinals | None = None) -> int:
    """Stamp every ticket without a current stamp, in ``conn``'s transaction (the caller commits); how many."""
    ordinals = ordinals or Ordinals(calendar)
    key = ordinals.key
    dialect = conn.dialect.name
    pending = (await conn.execute(select(T.c.id).where(_dirty(key)).limit(1))).first()
    if pending is None:
        return 0
    if dialect == "postgresql":
        # one stamping at a time (two reports at once would do the same work twice)
        await conn.execute(text("SELECT pg_advisory_xact_lock(18006)"))
        array = Grouping(bindparam("ordinals", value=list(ordinals.values), type_=ARRAY(Integer)))
        anchor = bindparam("anchor", value=ANCHOR, type_=Date)

        def local(column: Any) -> Any:
            return cast(func_timezone(calendar.cfg.timezone, column), Date)

        def ordinal_of(column: Any) -> Any:
            return array[local(column) - anchor + 1]

        def day_of(column: Any) -> Any:
            return local(column) - anchor + ANCHOR.toordinal()
    else:
        rows = [{"day": ANCHOR + timedelta(days=i), "n": n} for i, n in enumerate(ordinals.values)]
        await days.create(conn, rows)
        numbers = days.table(dialect)
        around = utcnow()

        def ordinal_of(column: Any) -> Any:
            return (select(numbers.c.n).where(numbers.c.day == days.local_date(dialect, column, calendar, around))
                    .scalar_subquery())

        def day_of(column: Any) -> Any:
            return days.local_date(dialect, column, calendar, around) - days.JULIAN_ORDINAL

    received = ordinal_of(T.c.received_at)
    values = {"received_day": day_of(T.c.received_at), "received_wd": received,
              "response_days": ordinal_of(T.c.first_response_at) - received,
              "completion_days": ordinal_of(T.c.closed_at) - received, "wd_calendar": literal(key)}
    result = await conn.execute(update(T).where(_dirty(key)).values(**values))
    if dialect != "postgresql":
        await days.drop(conn)
    count = result.rowcount or 0
    if count:
        log.info("reports: stamped %d tickets with working-day numbers", count)
    return count


def func_timezone(zone: str, column: Any) -> Any:
    """PostgreSQL's ``timezone(zone, column)``: the local time of a UTC timestamp."""
    return func.timezone(zone, column)
