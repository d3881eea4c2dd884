"""Working days in SQL: each local date's working-day number, as a table (SQLite) or an array (PostgreSQL).

``n(D)`` is the number of working days from the report's first date up to and including ``D`` on the
project's calendar (``omnichannel.sla.WorkingCalendar``: weekends, national holidays, cuti bersama).
So ``n(b) - n(a)`` is ``WorkingCalendar.working_days_between(a, b)``: the working days after ``a``'s
date up to and including ``b``'s. A report maps each timestamp's local date to its number, groups by
the difference and reads back a histogram, never the rows.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import Column, Date, Integer, MetaData, Table, cast, func, insert, text
from sqlalchemy.ext.asyncio import AsyncConnection

from omnichannel.sla import WorkingCalendar

# a metadata of its own: the table is created per report, never by migrations. On SQLite a date is its
# julian day number (an INTEGER PRIMARY KEY is the rowid: the cheapest lookup), on PostgreSQL a DATE
_META = MetaData()
REPORT_DAYS = Table("report_days", _META, Column("day", Date, primary_key=True),
                    Column("n", Integer, nullable=False), prefixes=["TEMPORARY"])
REPORT_DAYS_SQLITE = Table("report_days", MetaData(), Column("day", Integer, primary_key=True),
                           Column("n", Integer, nullable=False), prefixes=["TEMPORARY"])
JULIAN_ORDINAL = 1721425  # date.toordinal() + this = the date's julian day number


def table(dialect: str) -> Table:
    """The temporary table's definition on ``dialect``."""
    return REPORT_DAYS_SQLITE if dialect == "sqlite" else REPORT_DAYS


def numbering(calendar: WorkingCalendar, first: date, last: date) -> list[dict[str, Any]]:
    """``{"day", "n"}`` for every date from ``first`` to ``last``."""
    rows, n, day = [], 0, first
    while day <= last:
        if calendar.is_working_day(day):
            n += 1
        rows.append({"day": day, "n": n})
        day += timedelta(days=1)
    return rows


def local_date(dialect: str, column: Any, calendar: WorkingCalendar, around: datetime) -> Any:
    """SQL for the calendar-zone date of a UTC timestamp column.

    PostgreSQL converts with the zone's rules (a DATE). SQLite stores UTC text and has no zone data: the
    zone's UTC offset at ``around`` is added (Indonesia's WIB, WITA and WIT have no daylight saving time)
    and the result is the local date's julian day number.
    """
    if dialect == "postgresql":
        return cast(func.timezone(calendar.cfg.timezone, column), Date)
    offset = around.astimezone(calendar.zone).utcoffset() or timedelta(0)
    # julianday() counts from noon: + 0.5 makes the integer part the civil day, + offset the local one
    return cast(func.julianday(column) + (0.5 + offset.total_seconds() / 86400), Integer)


async def create(conn: AsyncConnection, rows: list[dict[str, Any]]) -> None:
    """(Re)create the temporary table on ``conn`` with ``numbering``'s rows (SQLite; PostgreSQL takes an array)."""
    dialect = conn.dialect.name
    if dialect == "sqlite":
        rows = [{"day": r["day"].toordinal() + JULIAN_ORDINAL, "n": r["n"]} for r in rows]
    await conn.execute(text("DROP TABLE IF EXISTS report_days"))
    await conn.run_sync(lambda sync: table(dialect).create(sync))
    await conn.execute(insert(table(dialect)), rows)


async def drop(conn: AsyncConnection) -> None:
    """Drop the temporary table (the connection goes back to the pool)."""
    await conn.execute(text("DROP TABLE IF EXISTS report_days"))


def local_bounds(calendar: WorkingCalendar, first: date, last: date) -> tuple[datetime, datetime]:
    """UTC instants of local midnight starting ``first`` and ending ``last``."""
    start = datetime.combine(first, datetime.min.time(), tzinfo=calendar.zone).astimezone(UTC)
    end = datetime.combine(last + timedelta(days=1), datetime.min.time(), tzinfo=calendar.zone).astimezone(UTC)
    return start, end
