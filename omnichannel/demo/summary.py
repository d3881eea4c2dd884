"""What ``omnichannel demo`` prints at the end: the day's numbers from the store, and where to look next."""

from __future__ import annotations

from collections import Counter, defaultdict
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from omnichannel.models import (
    Case,
    Complaint,
    DeadLetter,
    EnvelopeRow,
    FollowUp,
    OutboxRow,
    Quarantine,
    Ticket,
)
from omnichannel.pii import mask

OUTCOMES = ("complaint", "follow_up", "skipped", "quarantined")


def _table(header: list[str], rows: list[list[Any]], indent: str = "  ") -> list[str]:
    cells = [header, *[[str(c) for c in r] for r in rows]]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    return [indent + "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in cells]


async def summary(store: Any, config: Any, world: Any, traffic: Any, day: dict[str, Any], elapsed: float) -> str:
    """The end-of-day summary (English labels; citizens' and officers' texts stay Indonesian)."""
    tz = ZoneInfo(config.timezone or "Asia/Jakarta")
    async with store.session() as s:
        env = (await s.exec(select(EnvelopeRow.connector, EnvelopeRow.outcome, func.count())
                            .group_by(EnvelopeRow.connector, EnvelopeRow.outcome))).all()
        complaints = (await s.exec(select(Complaint.status, Complaint.kind, func.count())
                                   .group_by(Complaint.status, Complaint.kind))).all()
        follow = (await s.exec(select(FollowUp.reason, func.count()).group_by(FollowUp.reason))).all()
        cases = (await s.exec(select(Case).order_by(Case.id))).scalars().all()
        tickets = (await s.exec(select(Ticket, Case.reporter_count).join(Case, Case.id == Ticket.case_id)
                                .order_by(Ticket.agency, Ticket.id))).all()
        replies = (await s.exec(select(OutboxRow).where(OutboxRow.item_type == "reply"))).scalars().all()
        deliveries = (await s.exec(select(OutboxRow.destination, OutboxRow.status, func.count())
                                   .where(OutboxRow.item_type != "reply")
                                   .group_by(OutboxRow.destination, OutboxRow.status))).all()
        quarantined = (await s.exec(select(Quarantine).order_by(Quarantine.id))).scalars().all()
        skipped = (await s.exec(select(EnvelopeRow.connector, EnvelopeRow.reason)
                                .where(EnvelopeRow.outcome == "skipped").order_by(EnvelopeRow.id))).all()
        dead = (await s.exec(select(DeadLetter).order_by(DeadLetter.id))).scalars().all()
    out = ["", f"== Summary of the demo day ({elapsed:.0f} s) " + "=" * 40]
    if world.mail is None:
        out.append(f"Email: skipped — {world.mail_skipped}")
    by_conn: dict[str, Counter[str]] = defaultdict(Counter)
    for connector, outcome, n in env:
        by_conn[connector][outcome] += n
    out.append("Envelopes per channel and outcome")
    rows = [[c, *(by_conn[c][o] for o in OUTCOMES), sum(by_conn[c].values()),
             traffic.expected.get(c, 0)] for c in sorted(by_conn)]
    rows.append(["total", *(sum(by_conn[c][o] for c in by_conn) for o in OUTCOMES),
                 sum(sum(v.values()) for v in by_conn.values()), sum(traffic.expected.values())])
    out += _table(["channel", *OUTCOMES, "stored", "handed over"], rows)
    status, kinds = Counter[str](), Counter[str]()
    for st, kind, n in complaints:
        status[st] += n
        kinds[kind or "-"] += n
    out.append(f"Complaints: {sum(status.values())} — by status: "
               + ", ".join(f"{k} {v}" for k, v in status.most_common())
               + " — by kind: " + ", ".join(f"{k} {v}" for k, v in kinds.most_common()))
    out.append(f"Follow-ups: {sum(n for _, n in follow)} — " + (", ".join(f"{r} {n}" for r, n in follow) or "none"))
    multi = [c for c in cases if c.reporter_count > 1]
    out.append(f"Cases: {len(cases)}; incidents with several reporters: {len(multi)}")
    for c in multi:
        out.append(f"  {c.ref}: {c.reporter_count} reporters, {c.complaint_count} complaints, "
                   f"{_place(c.location)} — \"{mask(c.title or '')[:70]}\"")
    out.append(f"Tickets: {len(tickets)} (SLA deadline in {tz.key})")
    out += _table(["ticket", "agency", "kind", "status", "SLA due", "reporters", "LAPOR! tracking id"],
                  [[t.ref, t.agency, t.kind, t.status,
                    t.sla_due.astimezone(tz).strftime("%a %d %b %Y %H:%M") if t.sla_due else "-", n,
                    t.lapor_tracking_id or "-"] for t, n in tickets])
    per_agency = Counter(t.agency for t, _ in tickets)
    out.append("  per agency: " + ", ".join(f"{a} {n}" for a, n in sorted(per_agency.items())))
    out.append(f"LAPOR! sandbox: {len(world.lapor.reports)} reports, "
               f"{len({r.external_ref for r in world.lapor.reports.values()})} distinct tickets")
    out.append("Deliveries to agencies: " + ", ".join(f"{d} {st} {n}" for d, st, n in sorted(deliveries)))
    purposes: dict[str, Counter[str]] = defaultdict(Counter)
    for row in replies:
        purposes[row.destination.removeprefix("reply:")][f"{row.payload.get('purpose')}:{row.status}"] += 1
    out.append("Replies to citizens per channel (outbox purpose:status)")
    seen = {"telegram": len(world.telegram.sent), "whatsapp": len(world.whatsapp.sent), "x": len(world.x.replies),
            "email": len(world.mail.received) if world.mail else 0}
    for conn in sorted(purposes):
        out.append(f"  {conn:<9} " + ", ".join(f"{k} {v}" for k, v in sorted(purposes[conn].items()))
                   + f"   (received by the sandbox: {seen.get(conn, '-')})")
    if day.get("web_answer"):
        name, answer = day["web_answer"]
        out.append(f"  web       no push channel: {name} reads the answer on the status page "
                   f"(GET /api/v1/complaints/<ref>?akses=…): {'shown' if answer else 'NOT shown'}")
    out.append(f"Officers' Telegram group: {len(world.officer_bot.sent)} posts")
    out.append(f"Quarantined: {len(quarantined)}")
    out += [f"  #{q.id} {q.connector} {q.external_id[:40]}: {q.reason}" for q in quarantined]
    out.append(f"Skipped: {len(skipped)}")
    out += [f"  {c}: {r}" for c, r in skipped]
    out.append(f"Dead letters: {len(dead)}")
    out += [f"  {d.destination}: {d.reason[:100]}" for d in dead]
    officers = day.get("officers", {})
    out.append(f"Officer answer: {officers.get('answered', '-')}; closed: {officers.get('closed', '-')}; "
               f"LAPOR! tindak lanjut synced from #{officers.get('lapor', '-')}")
    if not all(day.get("settled", [True])):
        out.append("WARNING: a phase did not settle in time; the numbers above may be incomplete")
    return "\n".join(out)


def _place(location: Any) -> str:
    if not isinstance(location, dict):
        return "place unknown"
    return ", ".join(str(location[k]) for k in ("kelurahan", "kecamatan") if location.get(k)) or "place unknown"


def endpoints(port: int, tokens: dict[str, str], world: Any, config_path: Path, kept: bool) -> str:
    """Where to look next, with the officers' tokens."""
    base = f"http://127.0.0.1:{port}"
    out = ["", "== Explore " + "=" * 60,
           f"  citizen form      {base}/",
           f"  officers' inbox   {base}/petugas",
           f"  dashboard         {base}/dasbor   (log in with the coordinator token)",
           f"  health / metrics  {base}/readyz   {base}/metrics",
           f"  LAPOR! sandbox    {world.lapor.base_url}/pengaduan/<tracking id>",
           f"  config used       {config_path}" + ("" if kept else " (removed at exit; --keep DIR keeps it)"),
           "Officer tokens (Authorization: Bearer …)"]
    out += [f"  {'coordinator' if code == '*' else code:<12} {token}" for code, token in sorted(tokens.items())]
    some = next(code for code in tokens if code != "*")
    out.append(f"  e.g. curl -s -H 'Authorization: Bearer {tokens[some]}' {base}/api/v1/agencies/{some}/tickets")
    return "\n".join(out)


async def day_report(store: Any, config: Any) -> str:
    """The figures of the demo's day (``omnichannel report`` for today), in a few lines."""
    from omnichannel.reports.figures import build_report, sla_config
    from omnichannel.reports.render import brief
    from omnichannel.sla import WorkingCalendar
    from omnichannel.types import utcnow

    today = WorkingCalendar(sla_config(config)).local_date(utcnow())
    return brief(await build_report(store, config, today, today), "Laporan hari demo")
