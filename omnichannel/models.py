"""The store's tables (sqlmodel). Timestamps are timezone-aware UTC; show them in Asia/Jakarta.

Vocabulary as in ARCHITECTURE.md: envelope, complaint, follow-up, case, ticket, outbox row,
dead letter, quarantine, checkpoint, reporter and identity, audit event.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, Index, LargeBinary, Text, UniqueConstraint, event, inspect
from sqlmodel import Field, SQLModel

from omnichannel.types import utcnow


def _json(**kw: Any) -> Any:
    return Field(default_factory=dict, sa_column=Column(JSON, nullable=False), **kw)


class Counter(SQLModel, table=True):
    """Block allocator for ids and human-friendly refs (ADU-2026-000123)."""

    __tablename__ = "counters"
    name: str = Field(primary_key=True, max_length=64)
    value: int = 0


class ConnectorState(SQLModel, table=True):
    """A connector's checkpoint (opaque JSON) and which replica holds its lease."""

    __tablename__ = "checkpoints"
    connector: str = Field(primary_key=True, max_length=64)
    checkpoint: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    updated_at: datetime = Field(default_factory=utcnow)
    lease_owner: str | None = Field(default=None, max_length=128)
    lease_until: datetime | None = None


class Reporter(SQLModel, table=True):
    """A citizen, possibly known on several channels through identities."""

    __tablename__ = "reporters"
    id: int | None = Field(default=None, primary_key=True)
    display_name: str | None = None
    created_at: datetime = Field(default_factory=utcnow)


class Identity(SQLModel, table=True):
    """One address of a reporter on one channel kind (``phone`` and ``email`` link across channels)."""

    __tablename__ = "identities"
    __table_args__ = (UniqueConstraint("channel", "address", name="uq_identities_channel_address"),)
    id: int | None = Field(default=None, primary_key=True)
    reporter_id: int = Field(foreign_key="reporters.id", index=True)
    channel: str = Field(max_length=32, description="telegram, whatsapp, x, email, webform, phone")
    address: str = Field(max_length=320)
    name: str | None = None
    linked_by: str | None = Field(default=None, max_length=32, description="how it was linked: channel, phone, email, officer")
    created_at: datetime = Field(default_factory=utcnow)


class EnvelopeRow(SQLModel, table=True):
    """One inbound message exactly as the channel gave it; ``outcome`` says what became of it."""

    __tablename__ = "envelopes"
    __table_args__ = (
        UniqueConstraint("connector", "external_id", name="uq_envelopes_connector_external_id"),
        Index("ix_envelopes_outcome", "outcome"),
    )
    id: int | None = Field(default=None, primary_key=True)
    connector: str = Field(max_length=64)
    channel: str = Field(max_length=32)
    external_id: str = Field(max_length=512)
    received_at: datetime
    stored_at: datetime = Field(default_factory=utcnow)
    raw: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    sender_id: str | None = Field(default=None, max_length=320)
    reporter_id: int | None = Field(default=None, foreign_key="reporters.id")
    subject: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    text: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    thread_id: str | None = Field(default=None, max_length=512, index=True)
    message_id: str | None = Field(default=None, max_length=512, index=True)
    origin: dict[str, Any] = _json()
    meta: dict[str, Any] = _json()
    attachments: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    outcome: str = Field(default="pending", max_length=16)
    reason: str | None = None
    complaint_id: int | None = Field(default=None, foreign_key="complaints.id", index=True)


class Complaint(SQLModel, table=True):
    """The normalised record made from a new envelope; the router fills kind, agency and the rest.

    ``status``: ``received`` (waiting for the router), ``routed``, ``merged`` (the router found it
    is a follow-up of ``duplicate_of``), ``rejected`` (bukan aduan), then the ticket's statuses.
    """

    __tablename__ = "complaints"
    # the router takes received complaints in the order the store received them (see migration 0003);
    # ix_complaints_report: the reports' GROUP BY read in index order (SQLite then streams it, no sort)
    __table_args__ = (Index("ix_complaints_route_order", "status", "created_at", "id"),
                      Index("ix_complaints_report", "agency", "channel", "kind", "status", "dedup_level", "kecamatan",
                            "created_at"),
                      # the queue's channel filter, and full-text matches (complaint ids) to their cases (0006)
                      Index("ix_complaints_case_channel", "case_id", "channel"),
                      Index("ix_complaints_id_case", "id", "case_id"))
    id: int | None = Field(default=None, primary_key=True)
    ref: str = Field(max_length=32, unique=True)
    envelope_id: int | None = Field(default=None, index=True)
    reporter_id: int | None = Field(default=None, foreign_key="reporters.id", index=True)
    connector: str = Field(max_length=64)
    channel: str = Field(max_length=32)
    subject: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    text: str = Field(sa_column=Column(Text, nullable=False))
    text_norm: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    anonymous: bool = False
    confidential: bool = False
    status: str = Field(default="received", max_length=24)
    kind: str | None = Field(default=None, max_length=24)
    agency: str | None = Field(default=None, max_length=64, index=True)
    location: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    confidence: float | None = None
    explanation: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    case_id: int | None = Field(default=None, foreign_key="cases.id", index=True)
    duplicate_of: int | None = Field(default=None, foreign_key="complaints.id")
    dedup_level: str | None = Field(default=None, max_length=16)
    similarity: float | None = None
    created_at: datetime = Field(default_factory=utcnow, index=True)
    routed_at: datetime | None = None
    kecamatan: str | None = Field(default=None, max_length=64, description="from location, for the reports")


class FollowUp(SQLModel, table=True):
    """An envelope that belongs to an existing complaint (resend, edit, reply, same citizen elsewhere)."""

    __tablename__ = "follow_ups"
    id: int | None = Field(default=None, primary_key=True)
    complaint_id: int = Field(foreign_key="complaints.id", index=True)
    envelope_id: int = Field(foreign_key="envelopes.id", unique=True)
    reason: str = Field(max_length=24, description="reply, edit, ticket_ref, thread, resend, cross_channel")
    similarity: float | None = None
    created_at: datetime = Field(default_factory=utcnow, index=True)


class Case(SQLModel, table=True):
    """An incident: one or more complaints about the same thing."""

    __tablename__ = "cases"
    id: int | None = Field(default=None, primary_key=True)
    ref: str = Field(max_length=32, unique=True)
    title: str | None = None
    location: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    complaint_count: int = 1
    reporter_count: int = 1
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class Ticket(SQLModel, table=True):
    """A case assigned to one agency, with status, SLA deadline and LAPOR! tracking id."""

    __tablename__ = "tickets"
    __table_args__ = (UniqueConstraint("case_id", "agency", name="uq_tickets_case_agency"),
                      Index("ix_tickets_agency_status", "agency", "status"),
                      Index("ix_tickets_received_at", "received_at"),
                      Index("ix_tickets_status_sla_due", "status", "sla_due"),  # the desk's queue (migration 0005)
                      # the queue's three orders, walked instead of sorted (migration 0006)
                      Index("ix_tickets_sla_due_id", "sla_due", "id"), Index("ix_tickets_created_at_id", "created_at", "id"),
                      Index("ix_tickets_updated_at_id", "updated_at", "id"),
                      # the reports (migration 0006): tickets still to stamp, and three covering indexes whose
                      # order is a report query's GROUP BY, so SQLite streams them instead of sorting every ticket
                      Index("ix_tickets_wd_calendar", "wd_calendar"),
                      Index("ix_tickets_sla_due", "sla_due"),  # the oldest overdue, in deadline order
                      Index("ix_tickets_report_completion", "kind", "agency", "info_outcome", "refusal_reason",
                            "sla_extended", "completion_days", "received_at", "status", "closed_at", "sla_due",
                            "reopened", "routed_agency"),
                      Index("ix_tickets_report_response", "kind", "agency", "response_days", "received_at", "status",
                            "first_response_at"),
                      Index("ix_tickets_report_day", "kind", "agency", "received_day", "received_wd", "received_at",
                            "status", "closed_at", "sla_due"))
    id: int | None = Field(default=None, primary_key=True)
    ref: str = Field(max_length=32, unique=True)
    case_id: int = Field(foreign_key="cases.id")
    agency: str = Field(max_length=64)
    kind: str = Field(max_length=24)
    status: str = Field(default="baru", max_length=32)
    sla_due: datetime | None = None
    sla_extended: bool = False
    overdue: bool = False
    escalated_at: datetime | None = None
    lapor_tracking_id: str | None = Field(default=None, max_length=64, index=True)
    lapor_status: str | None = Field(default=None, max_length=64)
    answer: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    assigned_to: str | None = Field(default=None, max_length=64, index=True, description="login of the officer on it")
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    closed_at: datetime | None = None
    # what the reports count from (omnichannel.reports): the SLA clock starts at received_at
    received_at: datetime = Field(default_factory=utcnow,
                                  description="when the first message of the case arrived (not when it was routed)")
    routed_agency: str | None = Field(default=None, max_length=64, description=(
        "the agency the router chose; a ticket whose agency differs was reassigned (reports)"))
    first_response_at: datetime | None = Field(default=None, description="first officer answer or status change")
    reopened: int = Field(default=0, description="times the ticket was reopened after being closed")
    info_outcome: str | None = Field(default=None, max_length=24, description=(
        "information requests: dikabulkan, dikabulkan_sebagian or ditolak (omnichannel.information)"))
    refusal_reason: str | None = Field(default=None, max_length=32, description=(
        "information requests refused in whole or part: the UU 14/2008 reason (omnichannel.information)"))
    # working-day stamps (omnichannel.reports.stamps), computed on the calendar whose fingerprint is
    # wd_calendar; NULL wd_calendar: not stamped yet, or one of the three timestamps changed since
    received_day: int | None = Field(default=None, description="local date of received_at (date.toordinal)")
    received_wd: int | None = Field(default=None, description="working-day ordinal of received_day")
    response_days: int | None = Field(default=None, description="working days from receipt to first response")
    completion_days: int | None = Field(default=None, description="working days from receipt to closing")
    wd_calendar: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))


class Objection(SQLModel, table=True):
    """A keberatan (UU 14/2008 Pasal 35-36) against the decision on an information request.

    The PPID's superior (atasan PPID) answers within 30 working days of ``filed_at`` (``due_at``); the
    citizen may then take it to the Komisi Informasi (``commission_at``).
    """

    __tablename__ = "objections"
    id: int | None = Field(default=None, primary_key=True)
    ref: str = Field(max_length=32, unique=True)
    ticket_id: int = Field(foreign_key="tickets.id", index=True)
    reason: str = Field(max_length=32, description="Pasal 35 ayat 1 huruf a-g (omnichannel.information)")
    text: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    filed_at: datetime = Field(default_factory=utcnow, index=True)
    due_at: datetime
    answered_at: datetime | None = None
    answer: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    outcome: str | None = Field(default=None, max_length=24, description="dikabulkan or ditolak")
    commission_at: datetime | None = Field(default=None, description="taken to the Komisi Informasi")
    actor: str = Field(max_length=128)
    created_at: datetime = Field(default_factory=utcnow)


class OutboxRow(SQLModel, table=True):
    """One delivery of one item to one destination; written in the transaction that made the item.

    ``status``: ``pending`` → ``in_flight`` (claimed until ``claimed_until``) → ``done`` | ``dead``;
    ``held`` waits for an admin (e.g. a LAPOR! submission whose outcome is unknown).
    """

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_due", "status", "next_attempt_at"), Index("ix_outbox_remote_ref", "remote_ref"))
    id: int | None = Field(default=None, primary_key=True)
    item_type: str = Field(max_length=24)
    item_ref: str = Field(max_length=64)
    destination: str = Field(max_length=96)
    idempotency_key: str = Field(max_length=200, unique=True)
    payload: dict[str, Any] = _json()
    status: str = Field(default="pending", max_length=16)
    attempts: int = 0
    next_attempt_at: datetime = Field(default_factory=utcnow)
    claimed_by: str | None = Field(default=None, max_length=128)
    claimed_until: datetime | None = None
    last_error: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    remote_ref: str | None = Field(default=None, max_length=200)
    created_at: datetime = Field(default_factory=utcnow)
    done_at: datetime | None = None


class DeadLetter(SQLModel, table=True):
    """An outbox row that failed permanently, with the reason; ``retry`` puts it back in the outbox."""

    __tablename__ = "dead_letters"
    id: int | None = Field(default=None, primary_key=True)
    outbox_id: int = Field(foreign_key="outbox.id", index=True)
    destination: str = Field(max_length=96)
    reason: str = Field(sa_column=Column(Text, nullable=False))
    attempts: int = 0
    created_at: datetime = Field(default_factory=utcnow)
    retried_at: datetime | None = None


class Quarantine(SQLModel, table=True):
    """An envelope that could not be processed, kept whole with the reason; retryable."""

    __tablename__ = "quarantine"
    id: int | None = Field(default=None, primary_key=True)
    connector: str = Field(max_length=64, index=True)
    external_id: str = Field(max_length=512)
    envelope_id: int | None = Field(default=None, foreign_key="envelopes.id", index=True)
    raw: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    reason: str = Field(sa_column=Column(Text, nullable=False))
    retry_count: int = 0
    created_at: datetime = Field(default_factory=utcnow)
    last_retry_at: datetime | None = None
    resolved_at: datetime | None = None


class AuditEvent(SQLModel, table=True):
    """Who did what to which record (officer actions, merges, retries, config-driven decisions)."""

    __tablename__ = "audit_events"
    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, index=True)
    actor: str = Field(max_length=128)
    action: str = Field(max_length=64)
    subject_type: str = Field(max_length=32)
    subject_ref: str = Field(max_length=64, index=True)
    detail: dict[str, Any] = _json()


# -- the officers' workspace (omnichannel.users, omnichannel.web.accounts, omnichannel.web.queue) --------


class User(SQLModel, table=True):
    """A person who logs in to the officers' desk: role petugas, koordinator, ppid, admin or pimpinan."""

    __tablename__ = "users"
    id: int | None = Field(default=None, primary_key=True)
    login: str = Field(max_length=64, unique=True)
    name: str = Field(max_length=200)
    role: str = Field(max_length=16)
    agencies: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    password_hash: str = Field(max_length=255)
    disabled: bool = False
    failed_logins: int = 0
    locked_until: datetime | None = None
    last_login_at: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class OfficerSession(SQLModel, table=True):
    """A login session: the cookie holds the secret, the store only its SHA-256 (shared by replicas)."""

    __tablename__ = "officer_sessions"
    id: str = Field(primary_key=True, max_length=64, description="sha256 hex of the cookie value")
    user_id: int = Field(foreign_key="users.id", index=True)
    csrf: str = Field(max_length=64)
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime = Field(index=True)


class CannedReply(SQLModel, table=True):
    """A prepared answer of one agency, with placeholders {ref}, {nama_instansi}, {batas_waktu}."""

    __tablename__ = "canned_replies"
    __table_args__ = (UniqueConstraint("agency", "name", name="uq_canned_replies_agency_name"),)
    id: int | None = Field(default=None, primary_key=True)
    agency: str = Field(max_length=64)
    name: str = Field(max_length=100)
    text: str = Field(sa_column=Column(Text, nullable=False))
    updated_by: str = Field(max_length=128)
    updated_at: datetime = Field(default_factory=utcnow)


class Correction(SQLModel, table=True):
    """An officer corrected the router (reassign, merge, split): what the router may learn from."""

    __tablename__ = "corrections"
    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=16, description="reassign, merge, split")
    ticket_ref: str | None = Field(default=None, max_length=32, index=True)
    case_ref: str | None = Field(default=None, max_length=32)
    complaint_ref: str | None = Field(default=None, max_length=32, description="the complaint whose text was routed")
    agency_from: str | None = Field(default=None, max_length=64)
    agency_to: str | None = Field(default=None, max_length=64)
    actor: str = Field(max_length=128)
    reason: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    detail: dict[str, Any] = _json()
    at: datetime = Field(default_factory=utcnow, index=True)


STAMPED_TIMESTAMPS = ("received_at", "first_response_at", "closed_at")


@event.listens_for(Ticket, "before_update", propagate=True)
def _unstamp_changed(_mapper: Any, _conn: Any, target: Ticket) -> None:
    """A ticket whose received, first-response or closing time changes loses its working-day stamp (the
    next report stamps it again: omnichannel.reports.stamps)."""
    state = inspect(target)
    if any(state.attrs[name].history.has_changes() for name in STAMPED_TIMESTAMPS):
        target.wd_calendar = None
