"""The rows one routed batch writes: cases, tickets, complaint updates, follow-ups, outbox (batched statements).

The writer is synchronous: on SQLite the whole write runs as one unit on the store's writer thread
(``Store.run_write``: one hop, the write lock held only while it runs); on PostgreSQL it runs inside
the router's session (``run_sync``), in the transaction that locked the batch's rows.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy import Connection, bindparam, distinct, func, select, update

from omnichannel import pii, registry
from omnichannel.bulk import fast, insert_rows, update_rows
from omnichannel.models import Case, Complaint, EnvelopeRow, FollowUp, Identity, Ticket
from omnichannel.outbox import enqueue_many_sync
from omnichannel.status import status_link
from omnichannel.types import utcnow

if TYPE_CHECKING:
    from datetime import datetime

    from omnichannel.sla import WorkingCalendar
    from router.classify import Decision
    from router.dedup.features import Features
    from router.dedup.index import DedupIndex, Lookup


class Pipeline(Protocol):
    """What the writer reads of ``router.pipeline.RouterPipeline`` (a protocol: the pipeline imports this)."""

    store: Any
    index: DedupIndex
    calendar: WorkingCalendar
    config: Any
    templates: Any


@dataclass
class Routed:
    """What the pipeline decided for one complaint of the batch."""

    complaint: Complaint  # or a row of the complaints table (the same column names and values)
    received_at: datetime
    origin: dict[str, Any]
    norm: str
    masked: str
    decision: Decision
    found: Lookup
    features: Features
    case_id: int | None = None  # negative: a case opened in this batch, before ids are allocated
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def outcome(self) -> str:
        """``new``, ``incident``, ``resend``, ``cross_channel`` or ``rejected``."""
        if self.found.match is not None:
            return self.found.match.level
        return "rejected" if self.decision.kind == "bukan_aduan" else "new"

log = logging.getLogger(__name__)
_FOREIGN_KEYS = ("case_id", "duplicate_of")  # the complaint columns routing sets that reference other rows
_REPLY_CACHE: dict[str, bool] = {}


def case_ref(number: int, year: int) -> str:
    """Human-friendly case ref, e.g. ``KAS-2026-000042``."""
    return f"KAS-{year}-{number:06d}"


def ticket_ref(number: int, year: int) -> str:
    """Human-friendly ticket ref, e.g. ``TIK-2026-000042``."""
    return f"TIK-{year}-{number:06d}"


def kind_can_reply(kind: str) -> bool:
    """True when the connector kind's class implements ``reply`` (imported lazily, cached)."""
    if kind not in _REPLY_CACHE:
        target = registry.CONNECTORS.get(kind)
        try:
            _REPLY_CACHE[kind] = bool(target) and callable(getattr(registry.load(target[0]), "reply", None))
        except (ImportError, AttributeError):
            _REPLY_CACHE[kind] = False
    return _REPLY_CACHE[kind]


class BatchWriter:
    """Writes what a batch of routing decisions means, with one statement per table where possible."""

    def __init__(self, pipeline: Pipeline, routed: list[Routed]) -> None:
        self.p = pipeline
        self.conn: Connection | None = None
        self.routed = routed
        self.now = utcnow()
        self.outbox: list[tuple[str, str, str, dict[str, Any]]] = []
        self.case_refs: dict[int, str] = {}
        self.reporter_of: dict[int, int | None] = {}  # complaint id → reporter, for the refs looked up

    def write(self, conn: Connection) -> None:
        """Insert and update everything for the batch inside ``conn``'s transaction."""
        self.conn = conn
        new = [r for r in self.routed if r.outcome == "new"]
        tickets = self._open_cases(new)
        refs = self._refs()
        self._update_complaints(refs)
        self._follow_ups()
        touched = {r.case_id for r in self.routed if r.outcome in ("new", "incident") and r.case_id}
        counts = self._recount(touched)
        self._ticket_rows(new, tickets, counts)
        self._ticket_updates(counts)
        self._acks(refs)
        enqueue_many_sync(conn, self.outbox)
        if log.isEnabledFor(logging.DEBUG):
            for r in self.routed:
                log.debug("routed %s/%s as %s", r.complaint.connector, r.complaint.ref, r.outcome)

    def _open_cases(self, new: list[Routed]) -> dict[int, dict[str, Any]]:
        """A case and a ticket per new complaint; maps case id → ticket row."""
        if not new:
            return {}
        store, index = self.p.store, self.p.index
        first_case = store.allocate_sync(self.conn, "case", len(new))
        first_ticket = store.allocate_sync(self.conn, "ticket", len(new))
        real = {-r.complaint.id: first_case + n for n, r in enumerate(new)}
        for r in self.routed:
            if r.case_id is not None and r.case_id < 0:
                r.case_id = real[r.case_id]
                index.set_case(r.complaint.id, r.case_id)
        cases, tickets = [], {}
        for n, r in enumerate(new):
            year = r.complaint.created_at.year if r.complaint.created_at else self.now.year
            kind = r.decision.kind
            self.case_refs[r.case_id] = case_ref(r.case_id, year)
            cases.append({"id": r.case_id, "ref": self.case_refs[r.case_id], "title": r.masked[:120],
                          "location": r.decision.location, "complaint_count": 1, "reporter_count": 1,
                          "created_at": self.now, "updated_at": self.now})
            tid = first_ticket + n
            tickets[r.case_id] = {"id": tid, "ref": ticket_ref(tid, year), "case_id": r.case_id,
                                  "agency": r.decision.agency, "kind": kind, "status": "baru",
                                  "sla_due": self.p.calendar.deadline(kind, r.received_at),
                                  "received_at": r.received_at, "routed_agency": r.decision.agency,
                                  "created_at": self.now, "updated_at": self.now}
        # executemany: an ORM multi-VALUES insert costs ~100 us a row in attribute handling
        insert_rows(self.conn, Case, cases)
        insert_rows(self.conn, Ticket, list(tickets.values()))
        return tickets

    def _refs(self) -> dict[int, str]:
        ids = set()
        for r in self.routed:
            if r.found.match is not None:
                ids.update((r.found.match.root, r.found.match.candidate))
            elif r.found.rejected:
                ids.add(r.found.rejected["candidate"])
        if not ids:
            return {}
        q = select(Complaint.id, Complaint.ref, Complaint.reporter_id).where(Complaint.id.in_(ids))
        refs = {}
        for cid, ref, reporter in self.conn.execute(q).all():
            refs[cid] = ref
            self.reporter_of[cid] = reporter
        return refs

    def _update_complaints(self, refs: dict[int, str]) -> None:
        rows = []
        for r in self.routed:
            match, outcome = r.found.match, r.outcome
            dedup = r.found.explain()
            for key in ("candidate",):
                if dedup.get(key) is not None:
                    dedup[key] = refs.get(dedup[key], dedup[key])
            if dedup.get("nearest"):
                dedup["nearest"] = {**dedup["nearest"],
                                    "candidate": refs.get(dedup["nearest"]["candidate"], dedup["nearest"]["candidate"])}
            explanation = {**r.decision.explanation, "dedup": dedup}
            if r.origin.get("no_reply"):  # the connector judged it not to be answered automatically
                explanation["no_reply"] = str(r.origin["no_reply"])[:300]
            status = {"new": "routed", "incident": "routed", "rejected": "rejected"}.get(outcome, "merged")
            rows.append({"id": r.complaint.id, "status": status, "kind": r.decision.kind,
                         "agency": r.decision.agency, "location": r.decision.location,
                         "kecamatan": str((r.decision.location or {}).get("kecamatan") or "")[:64] or None,
                         "confidence": r.decision.confidence, "explanation": explanation, "text_norm": r.norm,
                         "case_id": r.case_id if outcome != "rejected" else None,
                         "duplicate_of": match.root if match is not None else None,
                         "dedup_level": match.level if match is not None else None,
                         "similarity": round(match.similarity, 4) if match is not None else None,
                         "routed_at": self.now})
        if self.conn.dialect.name == "sqlite":  # driver executemany (see omnichannel.bulk)
            # the foreign-key columns in a statement of their own: an UPDATE that sets a foreign key column
            # makes SQLite check constraints on its slow path for the whole statement (37 us a row with the
            # large explanation, against 15 us for the two statements; the constraints are checked as before)
            linked = [{"id": row["id"], "case_id": row["case_id"], "duplicate_of": row["duplicate_of"]}
                      for row in rows if row["case_id"] is not None or row["duplicate_of"] is not None]
            update_rows(self.conn, Complaint, linked, only_where=("status", "received"))
            rest = [{k: v for k, v in row.items() if k not in _FOREIGN_KEYS} for row in rows]
            update_rows(self.conn, Complaint, rest, only_where=("status", "received"))
            return
        for row in rows:
            row["b_id"] = row.pop("id")
        stmt = (update(Complaint).where(Complaint.id == bindparam("b_id"), Complaint.status == "received")
                .values(**{k: bindparam(k) for k in rows[0] if k != "b_id"}))
        self.conn.execute(stmt, rows)

    def _follow_ups(self) -> None:
        merged = [r for r in self.routed if r.outcome in ("resend", "cross_channel") and r.complaint.envelope_id]
        if not merged:
            return
        values = [{"complaint_id": r.found.match.root, "envelope_id": r.complaint.envelope_id, "reason": r.outcome,
                   "similarity": round(r.found.match.similarity, 4), "created_at": self.now} for r in merged]
        insert_rows(self.conn, FollowUp, values, ignore_conflict=("envelope_id",))
        if fast(self.conn):
            update_rows(self.conn, EnvelopeRow, [{"id": r.complaint.envelope_id, "outcome": "follow_up",
                                                  "reason": r.outcome} for r in merged])
            return
        stmt = (update(EnvelopeRow).where(EnvelopeRow.id == bindparam("b_id"))
                .values(outcome="follow_up", reason=bindparam("why")))
        self.conn.execute(stmt, [{"b_id": r.complaint.envelope_id, "why": r.outcome} for r in merged])

    def _recount(self, cases: set[int]) -> dict[int, tuple[int, int]]:
        """Recount complaints and distinct reporters of ``cases`` in SQL; returns case → (complaints, reporters)."""
        if not cases:
            return {}
        member = (Complaint.case_id == Case.id) & (Complaint.status != "merged")
        n_complaints = select(func.count(Complaint.id)).where(member).scalar_subquery()
        n_reporters = select(func.count(distinct(func.coalesce(Complaint.reporter_id, -Complaint.id)))) \
            .where(member).scalar_subquery()
        self.conn.execute(update(Case).where(Case.id.in_(cases))
                          .values(complaint_count=n_complaints, reporter_count=n_reporters, updated_at=self.now))
        q = select(Case.id, Case.complaint_count, Case.reporter_count).where(Case.id.in_(cases))
        return {cid: (nc, nr) for cid, nc, nr in self.conn.execute(q).all()}

    def _forwarders(self, item_type: str, agency: str, kind: str | None) -> list[str]:
        names = []
        for fw in getattr(self.p.config, "forwarders", []) or []:
            if not getattr(fw, "enabled", True) or item_type not in getattr(fw, "item_types", ["ticket"]):
                continue
            agencies = getattr(fw, "agencies", ["*"])
            kinds = getattr(fw, "kinds", None)
            if ("*" in agencies or agency in agencies) and (kinds is None or kind is None or kind in kinds):
                names.append(fw.name)
        return names

    def _reporters(self, ids: set[int]) -> dict[int, dict[str, str | None]]:
        if not ids:
            return {}
        out: dict[int, dict[str, str | None]] = {i: {"name": None, "email": None, "phone": None} for i in ids}
        q = select(Identity.reporter_id, Identity.channel, Identity.address, Identity.name).where(
            Identity.reporter_id.in_(ids)).order_by(Identity.id)
        for rid, channel, address, name in self.conn.execute(q).all():
            entry = out[rid]
            entry["name"] = entry["name"] or name
            if channel in ("email", "phone") and not entry[channel]:
                entry[channel] = address
        return out

    def _files(self, envelope_ids: set[int]) -> dict[int, list[dict[str, Any]]]:
        """The stored attachments of these envelopes, for forwarders that can carry files (email)."""
        if not envelope_ids:
            return {}
        out: dict[int, list[dict[str, Any]]] = {}
        q = select(EnvelopeRow.id, EnvelopeRow.attachments).where(EnvelopeRow.id.in_(envelope_ids))
        for eid, items in self.conn.execute(q).all():
            kept = [{k: a.get(k) for k in ("filename", "content_type", "size", "sha256", "path")}
                    for a in items or [] if isinstance(a, dict) and a.get("path")]
            if kept:
                out[eid] = kept
        return out

    def _ticket_rows(self, new: list[Routed], tickets: dict[int, dict[str, Any]],
                     counts: dict[int, tuple[int, int]]) -> None:
        people = self._reporters({r.complaint.reporter_id for r in new if r.complaint.reporter_id is not None})
        files = self._files({r.complaint.envelope_id for r in new if r.complaint.envelope_id is not None})
        for r in new:
            c, t = r.complaint, tickets[r.case_id]
            masked = r.masked
            if c.anonymous and c.reporter_id in people:
                # an anonymous citizen's own name typed in the text must not leave either
                masked = pii.mask(masked, names=[people[c.reporter_id].get("name") or ""])
            agency = self.p.config.agency(t["agency"]) if hasattr(self.p.config, "agency") else None
            payload = {"ticket": t["ref"], "case": self.case_refs[r.case_id],
                       "complaint": c.ref, "kind": t["kind"], "agency": t["agency"],
                       "agency_name": agency.name if agency else t["agency"], "location": r.decision.location,
                       "sla_due": t["sla_due"].isoformat(), "reporters": counts.get(r.case_id, (1, 1))[1],
                       "subject": c.subject, "text": c.text, "text_masked": masked, "channel": c.channel,
                       "reporter": None if c.anonymous or c.reporter_id is None else people.get(c.reporter_id),
                       "anonymous": c.anonymous, "confidential": c.confidential,
                       "created_at": (c.created_at or self.now).isoformat()}
            if c.envelope_id in files:  # paths relative to <data_dir>/attachments
                payload["attachments"] = files[c.envelope_id]
            for name in self._forwarders("ticket", t["agency"], t["kind"]):
                self.outbox.append(("ticket", t["ref"], name, payload))

    def _ticket_updates(self, counts: dict[int, tuple[int, int]]) -> None:
        joined = {r.case_id: r for r in self.routed if r.outcome == "incident" and r.case_id}
        if not joined:
            return
        q = select(Ticket.ref, Ticket.case_id, Ticket.agency, Ticket.kind, Ticket.status).where(
            Ticket.case_id.in_(joined))
        for ref, case_id, agency, kind, status in self.conn.execute(q).all():
            n_complaints, n_reporters = counts.get(case_id, (0, 0))
            note = self.p.templates("ticket_update_reporters", ticket=ref, reporters=n_reporters,
                                    complaints=n_complaints)
            payload = {"ticket": ref, "reporters": n_reporters, "status": status, "note": note}
            for name in self._forwarders("ticket_update", agency, kind):
                self.outbox.append(("ticket_update", f"{ref}#{n_complaints}", name, payload))

    def _acks(self, refs: dict[int, str]) -> None:
        answering: dict[str, Any] = {}  # connector name → its config when it acknowledges, else None
        for r in self.routed:
            c = r.complaint
            if r.outcome == "rejected" or not r.origin or r.origin.get("no_reply"):
                continue
            if c.connector not in answering:
                try:
                    conn = self.p.config.connector(c.connector)
                except (StopIteration, AttributeError):
                    conn = None
                if conn is not None and not (getattr(conn, "acknowledge", False) and kind_can_reply(conn.kind)):
                    conn = None
                answering[c.connector] = conn
            conn = answering[c.connector]
            if conn is None:
                continue
            public = conn.kind == "x"
            own = c.ref
            if r.outcome in ("resend", "cross_channel"):
                purpose, own = "ack_followup", self._own_ref(r, refs)
                text = self.p.templates("ack_followup", ref=own)
            else:
                purpose = "ack"
                text = self.p.templates("ack_public" if public else "ack", ref=c.ref)
                link = None if public else status_link(self.p.config, c.ref, r.origin.get("access"))
                if link:  # a private reply carries the reporter's own status link (public ones never do)
                    text = f"{text}\n\n{self.p.templates('ack_status_link', url=link)}"
            payload = {"origin": r.origin, "text": text, "complaint": own, "purpose": purpose, "public": public}
            self.outbox.append(("reply", f"{c.ref}#{purpose}", f"reply:{c.connector}", payload))

    def _own_ref(self, r: Routed, refs: dict[int, str]) -> str:
        """The ref a follow-up's acknowledgement names: the reporter's own earlier complaint, never another
        citizen's (should the index ever point elsewhere, the follow-up's own ref is named instead)."""
        root = r.found.match.root
        index = self.p.index
        if root in refs and index.person(self.reporter_of.get(root)) == index.person(r.complaint.reporter_id):
            return refs[root]
        log.warning("follow-up %s points at complaint %s of another reporter; acknowledged under its own ref",
                    r.complaint.ref, refs.get(root, root))
        return r.complaint.ref
