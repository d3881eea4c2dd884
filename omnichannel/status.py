"""Citizen-safe status of a complaint: no personal data, no complaint text, no other citizens."""

from __future__ import annotations

import hmac
from typing import TYPE_CHECKING, Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from sqlalchemy import select

from omnichannel.models import Complaint, EnvelopeRow, Identity, Ticket
from omnichannel.templates import status_text

if TYPE_CHECKING:  # pragma: no cover
    from omnichannel.config import Config
    from omnichannel.store import Store

JAKARTA = ZoneInfo("Asia/Jakarta")


async def owned_complaint(session: Any, ref: str, access: str) -> Complaint | None:
    """The complaint ``ref`` when ``access`` is the key the web intake gave its reporter, else None (an
    unknown ref and a wrong key look the same)."""
    complaint = (await session.exec(select(Complaint).where(Complaint.ref == ref.upper()))).scalars().first()
    if complaint is None or complaint.envelope_id is None or not access:
        return None
    env = await session.get(EnvelopeRow, complaint.envelope_id)
    stored = (env.origin or {}).get("access") if env is not None else None
    if not stored or not hmac.compare_digest(str(stored).encode(), access.encode("utf-8", "surrogateescape")):
        return None
    return complaint


async def complaint_status(store: Store, config: Config, ref: str, *, sender_id: str | None = None,
                           channel: str | None = None, access: str | None = None) -> dict[str, Any] | None:
    """The status a citizen may see for ``ref``; with ``sender_id`` only when it is that sender's own.

    ``access`` is the key the web intake gave the reporter: when it is given it must match (else None,
    as for an unknown ref), and the agency's answer is included.
    """
    async with store.session() as session:
        complaint = (await session.exec(select(Complaint).where(Complaint.ref == ref.upper()))).scalars().first()
        if complaint is None:
            return None
        if sender_id is not None:
            own = False
            if complaint.envelope_id is not None:
                env = await session.get(EnvelopeRow, complaint.envelope_id)
                own = env is not None and env.sender_id == sender_id and (channel is None or env.channel == channel)
            if not own and complaint.reporter_id is not None:
                q = select(Identity.id).where(Identity.reporter_id == complaint.reporter_id,
                                              Identity.address == sender_id)
                own = (await session.exec(q)).first() is not None
            if not own:
                return None
        owner = False
        if access is not None:  # a key was given: it must be this complaint's (else: not found)
            env = await session.get(EnvelopeRow, complaint.envelope_id) if complaint.envelope_id else None
            stored = (env.origin or {}).get("access") if env is not None else None
            owner = bool(stored) and hmac.compare_digest(str(stored).encode(),
                                                         access.encode("utf-8", "surrogateescape"))
            if not owner:
                return None
        main = complaint
        if complaint.status == "merged" and complaint.duplicate_of:
            main = await session.get(Complaint, complaint.duplicate_of) or complaint
        ticket = None
        if main.case_id is not None:
            q = select(Ticket).where(Ticket.case_id == main.case_id).order_by(Ticket.id)
            ticket = (await session.exec(q)).scalars().first()
    status = ticket.status if ticket else main.status
    agency = config.agency(ticket.agency if ticket else (main.agency or "")) if (ticket or main.agency) else None
    result = {
        "complaint": complaint.ref,
        "merged_into": main.ref if main is not complaint else None,
        "status": status,
        "status_text": status_text(status),
        "kind": main.kind,
        "agency": agency.name if agency else None,
        "ticket": ticket.ref if ticket else None,
        "sla_due": ticket.sla_due.astimezone(JAKARTA).isoformat() if ticket and ticket.sla_due else None,
        "lapor_tracking_id": ticket.lapor_tracking_id if ticket else None,
        "received_at": complaint.created_at.astimezone(JAKARTA).isoformat(),
        "updated_at": (ticket.updated_at if ticket else main.routed_at or main.created_at).astimezone(JAKARTA).isoformat(),
    }
    if owner:
        result["answer"] = ticket.answer if ticket else None
        # the page a citizen reads it on, with the keberatan form for an information request (web.keberatan)
        result["status_page"] = f"/status/{complaint.ref}?akses={quote(access or '', safe='')}"
    return result
