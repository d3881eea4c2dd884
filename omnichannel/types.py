"""Plain records that cross the boundaries between connectors, the store, the router and forwarders."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

Outcome = Literal["complaint", "follow_up", "skipped", "quarantined", "pending"]


def utcnow() -> datetime:
    """Timezone-aware now in UTC (the store keeps UTC; Asia/Jakarta is only for display)."""
    return datetime.now(UTC)


@dataclass(slots=True)
class Sender:
    """Who sent an envelope, as the channel identifies them.

    ``id`` is the channel-native address (Telegram chat/user id, email address, X user id,
    WhatsApp wa_id, webform session); the others are optional contact facts that can link
    identities across channels (a shared phone number or email).
    """

    id: str
    name: str | None = None
    username: str | None = None
    email: str | None = None
    phone: str | None = None


@dataclass(slots=True)
class Attachment:
    """Metadata of one attachment; ``path`` is set when the content was saved to the attachment store."""

    filename: str
    content_type: str = "application/octet-stream"
    size: int = 0
    sha256: str | None = None
    path: str | None = None
    skipped_reason: str | None = None


@dataclass(slots=True)
class Envelope:
    """One raw inbound message exactly as the channel gave it, plus what the connector parsed out of it.

    ``raw`` is kept whole (bytes for email, JSON text for API channels). ``external_id`` is unique per
    connector. A connector that recognises a non-complaint (auto-reply, bounce, status callback)
    sets ``skip_reason``; one that could not parse the message sets ``error`` (it is quarantined,
    kept whole). ``reply_to`` lists channel ids of earlier messages this one answers or edits
    (email Message-IDs, Telegram message ids, tweet ids) so the core can attach follow-ups;
    ``ticket_ref`` is a complaint ref the citizen quoted (e.g. in an email subject).
    ``message_id`` is the channel's own id of the message when it differs from ``external_id``
    (email Message-ID, Telegram ``chat:message``), so later replies and edits can find it.
    ``origin`` is what a Replier needs to answer on the same channel (chat id, message id, ...).
    """

    external_id: str
    raw: bytes | str
    received_at: datetime = field(default_factory=utcnow)
    sender: Sender | None = None
    text: str | None = None
    subject: str | None = None
    reply_to: list[str] = field(default_factory=list)
    ticket_ref: str | None = None
    edit_of: str | None = None
    thread_id: str | None = None
    message_id: str | None = None
    origin: dict[str, Any] = field(default_factory=dict)
    meta: dict[str, Any] = field(default_factory=dict)
    attachments: list[Attachment] = field(default_factory=list)
    anonymous: bool = False
    confidential: bool = False
    skip_reason: str | None = None
    error: str | None = None


@dataclass(slots=True)
class Batch:
    """What one poll returns: envelopes, the checkpoint that resumes *after* the last one, and a hint.

    ``checkpoint`` is stored in the same transaction as the envelopes; ``None`` means "unchanged".
    ``next_poll_in`` (seconds) lets a connector ask to be polled sooner or later than its interval.
    ``ack_token`` is private to the connector: it gets it back in ``ack``.
    """

    envelopes: list[Envelope] = field(default_factory=list)
    checkpoint: dict[str, Any] | None = None
    next_poll_in: float | None = None
    ack_token: Any = None


@dataclass(slots=True)
class EnvelopeResult:
    """What the store made of one envelope of a batch."""

    external_id: str
    new: bool
    outcome: Outcome
    complaint_ref: str | None = None
    reason: str | None = None


@dataclass(slots=True)
class IngestResult:
    """Per-envelope results of one stored batch, in batch order."""

    items: list[EnvelopeResult] = field(default_factory=list)

    @property
    def new(self) -> int:
        """How many envelopes were new to the store."""
        return sum(1 for i in self.items if i.new)

    @property
    def duplicates(self) -> int:
        """How many envelopes were already stored (redelivery)."""
        return sum(1 for i in self.items if not i.new)

    def count(self, outcome: Outcome) -> int:
        """How many new envelopes ended with ``outcome``."""
        return sum(1 for i in self.items if i.new and i.outcome == outcome)


@dataclass(slots=True)
class Receipt:
    """What a destination answered to a delivery: its own reference, if it gave one."""

    remote_ref: str | None = None
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class OutboxItem:
    """One delivery handed to a forwarder or replier by the dispatcher.

    ``item_type`` is ``ticket``, ``reply``, ``notification``, ``escalation`` or ``status``;
    ``payload`` is the rendered, self-contained content (no further store reads needed);
    ``attempt`` counts from 1.
    """

    id: int
    item_type: str
    item_ref: str
    destination: str
    payload: dict[str, Any]
    attempt: int = 1
