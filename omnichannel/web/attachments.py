"""Attachments for the officers' desk: listed on each complaint of a ticket, served by ``GET
/api/v1/attachments/{id}``.

An attachment's id is ``<envelope id>-<position>`` (the envelope row keeps the list, see
``omnichannel.attachments``). Only a caller who sees a ticket of the complaint's case gets the bytes — an
officer of another agency gets the same 404 as for an id that does not exist, so ids reveal nothing. The
bytes go out with the content type sniffed when they were stored, ``nosniff``, a sandboxing CSP and a
``Content-Disposition`` that shows pictures and PDFs inline and downloads everything else.
"""

from __future__ import annotations

import logging
import re
from typing import Any
from urllib.parse import quote

from aiohttp import web
from sqlalchemy import select

from omnichannel import attachments
from omnichannel.models import Complaint, EnvelopeRow, Ticket
from omnichannel.pii import mask

log = logging.getLogger(__name__)
_ID = re.compile(r"^(\d{1,18})-(\d{1,4})$")
INLINE = frozenset({"image/jpeg", "image/png", "image/gif", "image/webp", "application/pdf"})
URL = "/api/v1/attachments/{id}"


def describe(envelope_id: int, index: int, att: dict[str, Any]) -> dict[str, Any]:
    """What the ticket JSON lists for one attachment (no path: the bytes come from ``url``)."""
    ident = f"{envelope_id}-{index}"
    stored = bool(att.get("path"))
    return {"id": ident, "filename": att.get("filename"), "content_type": att.get("content_type"),
            "size": att.get("size"), "sha256": att.get("sha256"), "stored": stored,
            "skipped_reason": att.get("skipped_reason"), "url": URL.format(id=ident) if stored else None}


async def for_complaints(session: Any, complaint_ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    """Every attachment of these complaints' envelopes (the first message and its follow-ups), in order."""
    out: dict[int, list[dict[str, Any]]] = {cid: [] for cid in complaint_ids}
    if not complaint_ids:
        return out
    q = (select(EnvelopeRow.id, EnvelopeRow.complaint_id, EnvelopeRow.attachments)
         .where(EnvelopeRow.complaint_id.in_(complaint_ids)).order_by(EnvelopeRow.id))
    for eid, cid, items in (await session.exec(q)).all():
        out[cid].extend(describe(eid, n, a) for n, a in enumerate(items or []) if isinstance(a, dict))
    return out


def _error(status: int, code: str, reason: str) -> web.Response:
    # the officer API's error shape (``omnichannel.web.officer_api`` imports this module, not the reverse)
    return web.json_response({"error": code, "reason": reason}, status=status)


def _disposition(filename: str, content_type: str, download: bool) -> str:
    kind = "attachment" if download or content_type not in INLINE else "inline"
    ascii_name = re.sub(r'[^A-Za-z0-9._ ()-]', "_", filename) or "lampiran"
    return f"{kind}; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename, safe='')}"


class AttachmentApi:
    """``GET /api/v1/attachments/{id}`` bound to the officer API (its callers and store)."""

    def __init__(self, api: Any) -> None:
        self.api = api

    async def get(self, request: web.Request) -> web.StreamResponse:
        """The stored bytes of one attachment, to a caller who may see its ticket."""
        caller = self.api._auth(request)
        match = _ID.match(request.match_info["id"])
        missing = _error(404, "not_found", "no such attachment in your agency's tickets")
        if match is None:
            return missing
        envelope_id, index = int(match.group(1)), int(match.group(2))
        async with self.api.store.session() as session:
            row = (await session.exec(select(EnvelopeRow.complaint_id, EnvelopeRow.attachments).where(
                EnvelopeRow.id == envelope_id))).first()
            if row is None or row[0] is None or index >= len(row[1] or []):
                return missing
            complaint = await session.get(Complaint, row[0])
            case_id = complaint.case_id if complaint else None
            if complaint is not None and case_id is None and complaint.duplicate_of is not None:
                parent = await session.get(Complaint, complaint.duplicate_of)
                case_id = parent.case_id if parent else None
            tickets = (await session.exec(select(Ticket.agency, Ticket.kind).where(
                Ticket.case_id == case_id))).all() if case_id is not None else []
        allowed = any(caller.sees(agency, kind) for agency, kind in tickets) or (
            not tickets and caller.coordinator and caller.kinds is None)
        if not allowed:
            log.info("attachment %s refused to %s", request.match_info["id"], caller.actor)
            return missing
        att = row[1][index]
        root = self.api.config.data_dir / attachments.ATTACHMENTS
        path = attachments.resolve(root, att.get("path")) if isinstance(att, dict) else None
        if path is None:
            reason = (att or {}).get("skipped_reason") or "the file is not in the attachment store"
            return _error(404, "not_stored", f"kept as metadata only: {reason}")
        ctype = att.get("content_type") or "application/octet-stream"
        if ctype.startswith("text/html") or "xml" in ctype:
            ctype = "text/plain"  # markup never runs in the desk's origin
        filename = att.get("filename") or "lampiran"
        if not any(caller.owns(agency) for agency, _ in tickets):  # as in the ticket JSON: masked for others
            filename = mask(filename)
        headers = {"Content-Type": ctype, "X-Content-Type-Options": "nosniff",
                   "Content-Disposition": _disposition(filename, ctype,
                                                       request.query.get("unduh") is not None),
                   "Content-Security-Policy": "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; sandbox",
                   "Cache-Control": "private, max-age=3600", "Referrer-Policy": "no-referrer"}
        if att.get("sha256"):
            headers["ETag"] = f"\"{att['sha256']}\""
        return web.FileResponse(path, headers=headers)


def routes(api: Any, accounts: Any, wrap: Any) -> list[web.RouteDef]:
    """The attachment route, behind the same login sessions and tokens as the rest of the officer API."""
    handler = AttachmentApi(api)
    return [web.get("/api/v1/attachments/{id}", wrap(handler.get, accounts))]
