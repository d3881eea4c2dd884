"""The figures a Pemda is judged by, per agency and overall, for any period, in working days.

``build_report`` returns one JSON-ready dict (the shape ``omnichannel report --format json`` prints):

- ``received``: tickets whose case's first message arrived in the period (a ticket reassigned away,
  status ``dialihkan``, counts for the agency it went to); ``completed``: of those, closed by ``as_of``
  (``selesai`` or ``ditolak``); ``open`` = received - completed; ``overdue``: open past the deadline.
- ``first_response_working_days`` / ``completion_working_days``: working days from receipt to the first
  officer answer or status change, and to closing (``omnichannel.sla.WorkingCalendar``: the day of
  receipt is not counted, weekends, national holidays and cuti bersama are not either).
- ``sla_met_rate``: of the tickets whose deadline outcome is known (closed, or open past the deadline),
  the share closed by the deadline.
- ``complaints``: messages that became complaints in the period, by channel, kind and kecamatan, routed
  automatically or through the triage desk; ``dedup``: resends, cross-channel follow-ups and replies
  absorbed, and reports joined to an existing case.
- ``information``: the PPID's figures (UU 14/2008) for tickets of kind ``informasi``; ``keberatan``.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import text

from omnichannel.information import refusal_category
from omnichannel.reports import days, queries, stamps
from omnichannel.reports.stats import rate, summary
from omnichannel.sla import SlaConfig, WorkingCalendar
from omnichannel.types import utcnow

UNROUTED = "-"  # complaints the router has not decided yet


def sla_config(config: Any) -> SlaConfig:
    """The config's ``sla`` section as a model (defaults when absent)."""
    sla = getattr(config, "sla", None)
    return sla if isinstance(sla, SlaConfig) else SlaConfig.model_validate(sla or {})


def triage_agency(config: Any) -> str:
    """The routing section's triage desk code."""
    routing = getattr(config, "routing", None)
    if isinstance(routing, dict):
        return routing.get("triage_agency", "triage")
    return getattr(routing, "triage_agency", None) or "triage"


def agency_name(config: Any, code: str | None) -> str:
    """How an agency is called (the triage desk and unrouted complaints have names too)."""
    if code in (None, UNROUTED):
        return "Belum dirutekan"
    agency = config.agency(code) if hasattr(config, "agency") else None
    if agency is not None:
        return agency.name
    return "Meja triase" if code == triage_agency(config) else code


def _blank() -> dict[str, Any]:
    return {"received": 0, "completed": 0, "met": 0, "overdue": 0, "reopened": 0, "reassigned": 0,
            "fr": Counter(), "done": Counter(), "age": Counter(),
            "complaints": {"received": 0, "by_channel": Counter(), "by_kind": Counter(), "by_kecamatan": Counter(),
                           "routed_automatically": 0, "routed_by_triage": 0, "rejected": 0, "unrouted": 0},
            "dedup": Counter(),
            "info": {"requests": 0, "decided": 0, "outcomes": Counter(), "reasons": Counter(),
                     "categories": Counter(), "within_deadline": 0, "within_extension": 0, "late": 0,
                     "undecided": 0, "days": Counter()},
            "objections": {"filed": 0, "answered": 0, "on_time": 0, "overdue": 0, "commission": 0,
                           "reasons": Counter(), "outcomes": Counter(), "days": Counter()}}


def _fold_tickets(acc: dict[str, dict[str, Any]], rows: list[Any], sla: SlaConfig) -> None:
    deadline, extension = sla.deadline_days("informasi"), sla.extension_days("informasi")
    for row in rows:
        a = acc[row.agency]
        a["received"] += row.n
        a["completed"] += row.completed
        a["met"] += row.met
        a["overdue"] += row.overdue
        a["reopened"] += row.reopened
        a["reassigned"] += row.reassigned
        done = row.completion_days if row.completed else None  # closed after as_of: not yet done
        if done is not None:
            a["done"][int(done)] += row.completed
        if row.kind != "informasi":
            continue
        info = a["info"]
        info["requests"] += row.n
        info["undecided"] += row.n - row.completed
        if not row.completed:
            continue
        info["decided"] += row.completed
        info["outcomes"][row.info_outcome or "tanpa_keputusan"] += row.completed
        if row.refusal_reason and row.info_outcome in ("ditolak", "dikabulkan_sebagian"):
            info["reasons"][row.refusal_reason] += row.completed
            info["categories"][refusal_category(row.refusal_reason)] += row.completed
        if done is not None:
            info["days"][int(done)] += row.completed
            if done <= deadline:
                info["within_deadline"] += row.completed
            elif row.sla_extended and done <= deadline + extension:
                info["within_extension"] += row.completed
            else:
                info["late"] += row.completed


def _fold_responses(acc: dict[str, dict[str, Any]], rows: list[Any]) -> None:
    for row in rows:
        if row.response_days is not None and row.responded:
            acc[row.agency]["fr"][int(row.response_days)] += row.responded


def _fold_days(acc: dict[str, dict[str, Any]], rows: list[Any], as_of_number: int) -> list[dict[str, Any]]:
    """The backlog's age into ``acc``; the daily trend (received, completed, overdue per local date)."""
    trend: dict[int, list[int]] = defaultdict(lambda: [0, 0, 0])
    for row in rows:
        if row.open and row.received_wd is not None:
            acc[row.agency]["age"][max(0, as_of_number - int(row.received_wd))] += row.open
        if row.received_day is not None:
            day = trend[int(row.received_day)]
            day[0] += row.n
            day[1] += row.completed
            day[2] += row.overdue
    return [{"day": date.fromordinal(d).isoformat(), "received": n, "completed": c, "overdue": o}
            for d, (n, c, o) in sorted(trend.items())]


def _fold_complaints(acc: dict[str, dict[str, Any]], rows: list[Any], fups: list[Any], triage: str) -> None:
    for row in rows:
        c = acc[row.agency or UNROUTED]["complaints"]
        c["received"] += row.n
        c["by_channel"][row.channel] += row.n
        if row.kind:
            c["by_kind"][row.kind] += row.n
        if row.status == "rejected":
            c["rejected"] += row.n
        elif row.status == "received":
            c["unrouted"] += row.n
        elif row.status != "merged":  # opened or joined a case: who decided the agency
            c["routed_by_triage" if row.agency == triage else "routed_automatically"] += row.n
        if row.dedup_level == "incident":
            acc[row.agency or UNROUTED]["dedup"]["incident"] += row.n
        if row.kecamatan and row.status != "rejected":
            c["by_kecamatan"][row.kecamatan] += row.n
    for row in fups:
        acc[row.agency or UNROUTED]["dedup"][row.reason] += row.n


def _fold_objections(acc: dict[str, dict[str, Any]], rows: list[Any]) -> None:
    for row in rows:
        o = acc[row.agency]["objections"]
        o["filed"] += row.n
        o["answered"] += row.answered
        o["on_time"] += row.on_time
        o["overdue"] += row.overdue
        o["commission"] += row.commission
        o["reasons"][row.reason] += row.n
        if row.outcome and row.answered:
            o["outcomes"][row.outcome] += row.answered
        if row.days is not None:
            o["days"][int(row.days)] += row.answered


def _shape(code: str, name: str, a: dict[str, Any]) -> dict[str, Any]:
    """One agency's (or the total's) figures in the published JSON shape."""
    decided = a["completed"] + a["overdue"]
    info, obj, comp = a["info"], a["objections"], a["complaints"]
    dedup = a["dedup"]
    return {
        "agency": code, "name": name,
        "received": a["received"], "completed": a["completed"], "completion_rate": rate(a["completed"], a["received"]),
        "first_response_working_days": summary(a["fr"]),
        "completion_working_days": summary(a["done"]),
        "sla_met_rate": rate(a["met"], decided), "sla_met": a["met"],
        "open": a["received"] - a["completed"], "overdue": a["overdue"],
        "backlog_age_working_days": summary(a["age"]),
        "reopened": a["reopened"], "reassigned": a["reassigned"],
        "complaints": {"received": comp["received"], "by_channel": dict(sorted(comp["by_channel"].items())),
                       "by_kind": dict(sorted(comp["by_kind"].items())),
                       "by_kecamatan": dict(sorted(comp["by_kecamatan"].items(), key=lambda kv: (-kv[1], kv[0]))),
                       "routed_automatically": comp["routed_automatically"],
                       "routed_by_triage": comp["routed_by_triage"], "rejected": comp["rejected"],
                       "unrouted": comp["unrouted"]},
        "dedup": {"resends": dedup["resend"], "cross_channel": dedup["cross_channel"],
                  "follow_ups": sum(v for k, v in dedup.items() if k not in ("resend", "cross_channel", "incident")),
                  "incident_joined": dedup["incident"]},
        "information": {
            "requests": info["requests"], "decided": info["decided"], "undecided": info["undecided"],
            "granted": info["outcomes"]["dikabulkan"], "partly_granted": info["outcomes"]["dikabulkan_sebagian"],
            "refused": info["outcomes"]["ditolak"], "no_decision_recorded": info["outcomes"]["tanpa_keputusan"],
            "refusal_reasons": dict(sorted(info["reasons"].items())),
            "refusal_categories": dict(sorted(info["categories"].items())),
            "within_10_working_days": info["within_deadline"], "within_extension": info["within_extension"],
            "late": info["late"], "working_days": summary(info["days"])},
        "keberatan": {"filed": obj["filed"], "answered": obj["answered"],
                      "answered_within_30_working_days": obj["on_time"], "overdue": obj["overdue"],
                      "to_komisi_informasi": obj["commission"], "reasons": dict(sorted(obj["reasons"].items())),
                      "outcomes": dict(sorted(obj["outcomes"].items())), "working_days": summary(obj["days"])},
    }


def _total(accs: list[dict[str, Any]]) -> dict[str, Any]:
    total = _blank()

    def add(into: dict[str, Any], part: dict[str, Any]) -> None:
        for key, value in part.items():
            if isinstance(value, dict):
                add(into[key], value)
            else:
                into[key] += value

    for a in accs:
        add(total, a)
    return total


def period_of(calendar: WorkingCalendar, first: date, last: date) -> tuple[datetime, datetime]:
    """The UTC bounds of local ``first`` 00:00 .. ``last`` 24:00."""
    if last < first:
        raise ValueError(f"the period ends ({last}) before it starts ({first})")
    return days.local_bounds(calendar, first, last)


async def build_report(store: Any, config: Any, first: date, last: date, agency: str | None = None,
                       as_of: datetime | None = None, with_trend: bool = False) -> dict[str, Any]:
    """Every figure for tickets and complaints received from ``first`` to ``last`` (local dates), as of
    ``as_of`` (default now), for one agency or all."""
    sla = sla_config(config)
    calendar = WorkingCalendar(sla)
    start, end = period_of(calendar, first, last)
    as_of = (as_of or utcnow()).astimezone(UTC)
    as_of_day = calendar.local_date(as_of)
    numbering_end = max(last, as_of_day) + timedelta(days=1)
    numbering = days.numbering(calendar, first, numbering_end)  # keberatan (few rows) are numbered per report
    ordinals = stamps.Ordinals(calendar, until=numbering_end)
    scope = queries.Scope(store.dialect, calendar, start, end, as_of, first, [r["n"] for r in numbering], agency,
                          ordinals.of(as_of_day) or 0)
    acc: dict[str, dict[str, Any]] = defaultdict(_blank)
    extra: dict[str, Any] = {}
    async with store.engine.begin() as conn:  # tickets new or changed since the last report get their numbers
        await stamps.stamp(conn, calendar, ordinals)
    async with store.engine.connect() as conn:
        if store.dialect == "sqlite":
            await days.create(conn, numbering)
        else:
            # PostgreSQL cannot estimate how few groups there are (durations are expressions): with the
            # default work_mem it sorts every ticket to disk instead of hashing; this transaction only
            await conn.execute(text("SET LOCAL work_mem = '256MB'"))
            await conn.execute(text("SET LOCAL jit = off"))
        try:
            _fold_tickets(acc, await queries.tickets(conn, scope), sla)
            _fold_responses(acc, await queries.responses(conn, scope))
            trend = _fold_days(acc, await queries.days_received(conn, scope), scope.as_of_number)
            _fold_complaints(acc, await queries.complaints(conn, scope), await queries.follow_ups(conn, scope),
                             triage_agency(config))
            _fold_objections(acc, await queries.objections(conn, scope))
            if with_trend:
                extra["trend"] = trend
                extra["oldest_overdue"] = [
                    {"ticket": r.ref, "agency": r.agency, "name": agency_name(config, r.agency), "kind": r.kind,
                     "sla_due": r.sla_due.isoformat() if r.sla_due else None,
                     "working_days_overdue": calendar.working_days_between(r.sla_due, as_of)}
                    for r in await queries.oldest_overdue(conn, scope)]
        finally:
            if store.dialect == "sqlite":
                await days.drop(conn)
            await conn.rollback()  # read only (SQLite: the temporary table is gone with the drop)
    if agency:
        acc.setdefault(agency, _blank())
    codes = sorted(acc, key=lambda code: (code == UNROUTED, agency_name(config, code).lower()))
    return {
        "period": {"from": first.isoformat(), "to": last.isoformat()},
        "as_of": as_of.isoformat(),
        "timezone": sla.timezone,
        "agency": agency,
        "total": {k: v for k, v in _shape("*", "Semua instansi", _total([acc[c] for c in codes])).items()
                  if k not in ("agency", "name")},
        "agencies": [_shape(code, agency_name(config, code), acc[code]) for code in codes],
        **extra,
    }
