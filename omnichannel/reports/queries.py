"""The report's SQL: a handful of GROUP BY queries whose results are histograms and counts, never rows.

Tickets carry their working-day numbers (``omnichannel.reports.stamps``: stamped before each report),
so the ticket queries group by stored integers, each along a covering index in its GROUP BY order.
Keberatan (few rows) are numbered per report (``omnichannel.reports.days``): on PostgreSQL an element
of an integer array passed with the query, on SQLite a lookup into the temporary ``report_days`` table
by julian day number (its rowid).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Date, Integer, and_, bindparam, case, func, literal_column, not_, or_, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.elements import Grouping

from omnichannel.models import Complaint, FollowUp, Objection, Ticket
from omnichannel.reports.days import local_date, table
from omnichannel.sla import WorkingCalendar

T = Ticket.__table__
C = Complaint.__table__
F = FollowUp.__table__
O = Objection.__table__  # noqa: E741 (the table's initial, like T and C)
MOVED = "dialihkan"  # a ticket closed because it was reassigned (issue 15): the new agency's ticket counts
LONG_PERIOD = timedelta(days=90)


def _count(cond: Any) -> Any:
    return func.sum(case((cond, 1), else_=0))


@dataclass
class Scope:
    """What one report covers: received in [start, end), seen as of ``as_of``, optionally one agency;
    ``numbers[i]`` is the working-day number of local date ``first_day + i``."""

    dialect: str
    calendar: WorkingCalendar
    start: datetime
    end: datetime
    as_of: datetime
    first_day: date
    numbers: list[int]
    agency: str | None = None
    as_of_number: int = 0  # the working-day number of as_of's local date

    def __post_init__(self) -> None:
        self._array = Grouping(bindparam("report_numbers", value=self.numbers, type_=ARRAY(Integer)))
        self._first = bindparam("report_first_day", value=self.first_day, type_=Date)

    def local(self, column: Any) -> Any:
        """The column's local date (SQLite: its julian day number)."""
        return local_date(self.dialect, column, self.calendar, self.as_of)

    def numbered(self, source: Any, columns: dict[str, tuple[Any, Any]]) -> tuple[Any, dict[str, Any]]:
        """``source`` (what to select from) and, for each name, the working-day number of a timestamp column
        (NULL when the column is NULL or its condition false): ``{name: (column, condition or None)}``.

        PostgreSQL: an element of the array. SQLite: a column of ``report_days`` joined by rowid (once
        per row; a correlated subquery would be evaluated again wherever the expression appears).
        """
        out: dict[str, Any] = {}
        for name, (column, when) in columns.items():
            if self.dialect == "postgresql":
                value = self._array[self.local(column) - self._first + 1]
                out[name] = value if when is None else case((when, value), else_=None)
                continue
            days = table(self.dialect).alias(name)
            on = days.c.day == self.local(column)
            source = source.outerjoin(days, on if when is None else and_(when, on))
            out[name] = days.c.n
        return source, out


def _closed(scope: Scope) -> Any:
    return and_(T.c.closed_at.is_not(None), T.c.closed_at <= scope.as_of)


def _tickets_in(scope: Scope, q: Any) -> Any:
    received = _bound(scope, T.c.received_at)
    q = q.where(received >= scope.start, received < scope.end, T.c.status != MOVED)
    return q.where(T.c.agency == scope.agency) if scope.agency else q


async def tickets(conn: AsyncConnection, scope: Scope) -> list[Any]:
    """Tickets received in the period by agency, kind, the information-request decision and working days
    to completion (``completion_days``, stamped), with how many of them are closed as of ``as_of``, met
    their deadline, are overdue, were reopened or reassigned. Streams ``ix_tickets_report_completion``."""
    closed = _closed(scope)
    # reassigned: the ticket's agency is not the one the router chose (a reassignment closes the old
    # ticket as "dialihkan" and opens one for the new agency with routed_agency kept)
    moved_in = and_(T.c.routed_agency.is_not(None), T.c.routed_agency != T.c.agency)
    keys = (T.c.kind, T.c.agency, T.c.info_outcome, T.c.refusal_reason, T.c.sla_extended, T.c.completion_days)
    q = (select(*keys, func.count().label("n"),
                _count(closed).label("completed"),
                _count(and_(closed, T.c.sla_due.is_not(None), T.c.closed_at <= T.c.sla_due)).label("met"),
                _count(and_(not_(closed), T.c.sla_due < scope.as_of)).label("overdue"),
                _count(T.c.reopened > 0).label("reopened"),
                _count(moved_in).label("reassigned"))
         .group_by(*keys))
    return list((await conn.execute(_tickets_in(scope, q))).all())


async def responses(conn: AsyncConnection, scope: Scope) -> list[Any]:
    """Tickets received in the period by agency, kind and working days to the first response
    (``response_days``), with how many had one as of ``as_of``. Streams ``ix_tickets_report_response``."""
    responded = and_(T.c.first_response_at.is_not(None), T.c.first_response_at <= scope.as_of)
    keys = (T.c.kind, T.c.agency, T.c.response_days)
    q = select(*keys, _count(responded).label("responded")).group_by(*keys)
    return list((await conn.execute(_tickets_in(scope, q))).all())


async def days_received(conn: AsyncConnection, scope: Scope) -> list[Any]:
    """Tickets received in the period by agency, kind and local day (``received_day``, with its working-day
    ordinal ``received_wd``): how many, closed, still open and overdue as of ``as_of`` (the backlog's age
    and the daily trend). Streams ``ix_tickets_report_day``."""
    closed = _closed(scope)
    keys = (T.c.kind, T.c.agency, T.c.received_day, T.c.received_wd)
    q = (select(*keys, func.count().label("n"), _count(closed).label("completed"),
                _count(not_(closed)).label("open"),
                _count(and_(not_(closed), T.c.sla_due < scope.as_of)).label("overdue"))
         .group_by(*keys))
    return list((await conn.execute(_tickets_in(scope, q))).all())


def _bound(scope: Scope, column: Any) -> Any:
    """``column``, or on SQLite for a long period ``+column``: SQLite then does not walk the time index
    (a lookup into the table for each of most of its rows) but reads the table, or a covering index in
    GROUP BY order, straight through."""
    if scope.dialect == "sqlite" and scope.end - scope.start >= LONG_PERIOD:
        return literal_column(f"+{column.table.name}.{column.name}", column.type)
    return column


def _complaints_in(scope: Scope, q: Any) -> Any:
    created = _bound(scope, C.c.created_at)
    q = q.where(created >= scope.start, created < scope.end)
    return q.where(C.c.agency == scope.agency) if scope.agency else q


async def complaints(conn: AsyncConnection, scope: Scope) -> list[Any]:
    """Complaints received in the period by agency, channel, kind, status, what dedup found and kecamatan."""
    q = (select(C.c.agency, C.c.channel, C.c.kind, C.c.status, C.c.dedup_level, C.c.kecamatan,
                func.count().label("n"))
         .group_by(C.c.agency, C.c.channel, C.c.kind, C.c.status, C.c.dedup_level, C.c.kecamatan))
    return list((await conn.execute(_complaints_in(scope, q))).all())


async def follow_ups(conn: AsyncConnection, scope: Scope) -> list[Any]:
    """Messages absorbed into an existing complaint in the period, by agency and reason."""
    q = (select(C.c.agency, F.c.reason, func.count().label("n"))
         .select_from(F.join(C, C.c.id == F.c.complaint_id))
         .where(F.c.created_at >= scope.start, F.c.created_at < scope.end)
         .group_by(C.c.agency, F.c.reason))
    if scope.agency:
        q = q.where(C.c.agency == scope.agency)
    return list((await conn.execute(q)).all())


async def objections(conn: AsyncConnection, scope: Scope) -> list[Any]:
    """Keberatan filed in the period, by agency, reason, outcome and working days to the answer."""
    answered = and_(O.c.answered_at.is_not(None), O.c.answered_at <= scope.as_of)
    source, n = scope.numbered(O.join(T, T.c.id == O.c.ticket_id),
                               {"fa": (O.c.filed_at, None), "aa": (O.c.answered_at, answered)})
    days = (n["aa"] - n["fa"]).label("days")
    q = (select(T.c.agency, O.c.reason, O.c.outcome, days, func.count().label("n"),
                _count(answered).label("answered"),
                _count(and_(answered, O.c.answered_at <= O.c.due_at)).label("on_time"),
                _count(and_(not_(answered), O.c.due_at < scope.as_of)).label("overdue"),
                _count(and_(O.c.commission_at.is_not(None), O.c.commission_at <= scope.as_of)).label("commission"))
         .select_from(source)
         .where(O.c.filed_at >= scope.start, O.c.filed_at < scope.end)
         .group_by(T.c.agency, O.c.reason, O.c.outcome, literal_column("days")))
    if scope.agency:
        q = q.where(T.c.agency == scope.agency)
    return list((await conn.execute(q)).all())


async def oldest_overdue(conn: AsyncConnection, scope: Scope, limit: int = 10) -> list[Any]:
    """The tickets open at ``as_of`` longest past their deadline (any receipt date), oldest deadline first."""
    q = (select(T.c.ref, T.c.agency, T.c.kind, T.c.sla_due, T.c.received_at)
         .where(or_(T.c.closed_at.is_(None), T.c.closed_at > scope.as_of), T.c.received_at <= scope.as_of,
                T.c.status != MOVED, T.c.sla_due < scope.as_of)
         .order_by(T.c.sla_due, T.c.id).limit(limit))
    if scope.agency:
        q = q.where(T.c.agency == scope.agency)
    return list((await conn.execute(q)).all())
