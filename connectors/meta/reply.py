"""Answers to citizens on Facebook and Instagram, within Meta's messaging rules.

- A direct message is answered on its thread with ``messaging_type: RESPONSE`` within 24 hours of the
  citizen's last message; after that with ``MESSAGE_TAG`` / ``HUMAN_AGENT`` up to 7 days when the app has
  that permission (``human_agent_tag``); past that the reply is undeliverable and says why.
- A comment (or a visitor post) gets a short public reply holding only the complaint ref (no personal
  data, no complaint text), posted once (we look before posting, so a retried row does not post twice),
  plus a private reply carrying the details: Meta allows one private reply per comment within 7 days;
  later answers go as a direct message to the author when the window allows.
- A mention gets the public reply only (Meta has no private reply to a mention in someone else's post).
"""

from __future__ import annotations

import logging
import re
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from connectors.meta.graph import PrivateReplyUsedError, TokenRefusedError, WindowClosedError
from omnichannel import pii
from omnichannel.errors import PermanentDeliveryError, RetryableError
from omnichannel.templates import Templates
from omnichannel.types import OutboxItem, Receipt

# ``conn`` below is the MetaConnector; typed ``Any`` because connector.py imports this module
log = logging.getLogger(__name__)

REF = re.compile(r"^ADU-\d{4}-\d{6,}$")
ANY_REF = re.compile(r"\bADU-\d{4}-\d{6,}\b")
# purpose of a reply row -> the public template under a comment / on a mention (never the detailed text)
COMMENT_PUBLIC = {"ack": "ack_comment_public", "ack_followup": "ack_followup", "answer": "answer_comment_public",
                  "closed": "closed"}
MENTION_PUBLIC = {"ack": "ack_public", "ack_followup": "ack_followup", "answer": "answer_public", "closed": "closed"}
PRIVATE_REPLY_DAYS = 7
PARKED_WAIT = 900.0


def _templates(conn: Any) -> Any:
    return (conn.ctx.templates if conn.ctx and conn.ctx.templates else None) or Templates()


def public_text(payload: dict[str, Any], templates: Any, table: dict[str, str]) -> str:
    """The public text for a reply row: a public template filled with the ref only, checked for personal data."""
    purpose = str(payload.get("purpose") or "").split("-", 1)[0]
    name = table.get(purpose)
    if name is None:
        raise PermanentDeliveryError(f"no public template for reply purpose {purpose!r}; nothing posted publicly")
    ref = str(payload.get("complaint") or "")
    if name == "ack_followup":  # names the complaint the message was added to
        found = ANY_REF.search(str(payload.get("text") or ""))
        ref = found.group(0) if found else ref
    if not REF.match(ref):
        raise PermanentDeliveryError("reply without a valid complaint ref; nothing posted publicly")
    text = templates(name, ref=ref, agency="instansi terkait")
    found = pii.find(text)
    if found or "@" in text:
        raise PermanentDeliveryError("public reply refused: the template would publish personal data")
    return text


def chunks(text: str, limit: int) -> list[str]:
    """``text`` in pieces of at most ``limit`` characters, cut at whitespace where possible."""
    out: list[str] = []
    while len(text) > limit:
        cut = text.rfind(" ", 0, limit)
        cut = cut if cut > limit // 2 else limit
        out.append(text[:cut].rstrip())
        text = text[cut:].lstrip()
    return [*out, text] if text else out


async def direct(conn: Any, user_id: str, text: str) -> Receipt:
    """A direct message to ``user_id`` inside the window (or with the HUMAN_AGENT tag), else undeliverable."""
    config, templates = conn.config, _templates(conn)
    last = await conn.last_seen(user_id)
    age = datetime.now(UTC) - last if last is not None else None
    if age is not None and age < timedelta(hours=config.window_hours):
        kind: dict[str, Any] = {"messaging_type": "RESPONSE"}
    elif age is not None and config.human_agent_tag and age < timedelta(days=config.human_agent_days):
        kind = {"messaging_type": "MESSAGE_TAG", "tag": "HUMAN_AGENT"}
    else:
        hours = int(config.window_hours)
        if age is None:
            reason = "warga belum pernah mengirim pesan langsung kepada kami"
        elif config.human_agent_tag:
            reason = f"lebih dari {int(config.human_agent_days)} hari sejak pesan terakhir warga"
        else:
            reason = f"lebih dari {hours} jam sejak pesan terakhir warga dan izin Human Agent tidak aktif"
        raise PermanentDeliveryError(templates("unreachable", channel=conn.platform, reason=reason))
    first: str | None = None
    for piece in chunks(text, conn.text_limit):
        body = {"recipient": {"id": user_id}, **kind, "message": {"text": piece}}
        try:
            data = await conn.graph.post(f"{config.page_id}/messages", body)
        except WindowClosedError as exc:
            reason = f"{conn.platform} menolak pesan di luar jendela percakapan ({exc})"
            raise PermanentDeliveryError(templates("unreachable", channel=conn.platform, reason=reason)) from exc
        first = first or data.get("message_id")
    return Receipt(remote_ref=first, detail={"messaging_type": kind["messaging_type"]})


async def private(conn: Any, origin: dict[str, Any], text: str, purpose: str) -> tuple[str | None, str]:
    """The details to the comment's author: a private reply while Meta allows it, else a direct message."""
    created = origin.get("created_time")
    young = created is None or time.time() - float(created) < PRIVATE_REPLY_DAYS * 86400
    if young:
        key = "post_id" if origin.get("type") == "post" else "comment_id"
        body = {"recipient": {key: origin["object_id"]}, "message": {"text": chunks(text, conn.text_limit)[0]}}
        try:
            data = await conn.graph.post(f"{conn.config.page_id}/messages", body)
            return data.get("message_id"), "private_reply"
        except PrivateReplyUsedError as exc:
            if purpose == "ack" and exc.code == 10900:  # the only private reply we send: an earlier try went through
                return None, "private_reply (sent before)"
            log.info("%s: private reply to %s already used; trying a direct message", conn.name, origin["object_id"])
    author = origin.get("author_id")
    if not author:
        raise PermanentDeliveryError("the comment's author is unknown: details cannot be sent privately")
    receipt = await direct(conn, str(author), text)
    return receipt.remote_ref, receipt.detail.get("messaging_type", "direct")


async def comment(conn: Any, item: OutboxItem, origin: dict[str, Any], text: str) -> Receipt:
    """A public reply with the ref only, then the details privately."""
    mode = conn.config.comment_replies
    if mode == "none":
        raise PermanentDeliveryError("comment replies are off for this connector (comment_replies: none)")
    public_ref = None
    purpose = str(item.payload.get("purpose") or "")
    # a purpose without a public wording (a future one) still goes privately, never with a guessed public text
    if mode == "public_and_private" and purpose.split("-", 1)[0] in COMMENT_PUBLIC:
        public_ref = await conn.public_reply(origin, public_text(item.payload, _templates(conn), COMMENT_PUBLIC))
    try:
        private_ref, how = await private(conn, origin, text, purpose)
    except PermanentDeliveryError as exc:
        if public_ref:
            raise PermanentDeliveryError(f"public reply {public_ref} posted; the details were not sent: {exc}") from exc
        raise
    return Receipt(remote_ref=private_ref or public_ref, detail={"public": public_ref, "private": how})


async def answer(conn: Any, item: OutboxItem) -> Receipt:
    """Deliver one reply row (``Replier.reply``)."""
    if conn.parked:
        raise RetryableError(f"{conn.name} is parked (access token refused); the reply waits for a new token",
                             retry_after=PARKED_WAIT)
    origin = item.payload.get("origin") or {}
    text = str(item.payload.get("text") or "").strip()
    kind = origin.get("type")
    if not text:
        raise PermanentDeliveryError("reply without text")
    try:
        if kind == "message" and origin.get("recipient_id"):
            return await direct(conn, str(origin["recipient_id"]), text)
        if kind in ("comment", "post") and origin.get("object_id"):
            return await comment(conn, item, origin, text)
        if kind == "mention" and origin.get("object_id"):
            ref = await conn.public_reply(origin, public_text(item.payload, _templates(conn), MENTION_PUBLIC))
            return Receipt(remote_ref=ref, detail={"public": ref})
    except TokenRefusedError as exc:
        conn.park(exc)
        raise RetryableError(f"{conn.name}: access token refused; the reply waits", retry_after=PARKED_WAIT) from exc
    raise PermanentDeliveryError(f"reply without a {conn.platform} recipient (origin type {kind!r})")
