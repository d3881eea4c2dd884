"""Answers to citizens by SMTP, in the thread of their mail (In-Reply-To/References, ticket ref in the subject).

The Message-ID is derived from the idempotency key, so a retried reply carries the same Message-ID
(receivers can recognise the repeat) and the citizen's answer to it finds the complaint again
through the outbox row's ``remote_ref``.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formatdate
from typing import Any

import aiosmtplib

from connectors.email.config import SmtpConfig
from omnichannel.errors import PermanentDeliveryError, RetryableError
from omnichannel.templates import Templates
from omnichannel.types import OutboxItem, Receipt

_PREFIX = re.compile(r"^\s*((re|fw|fwd|aw|wg|balas|bls|tr)\s*(\[\d+\])?\s*:\s*)+", re.I)
_REF_TAG = re.compile(r"\s*\[?\bADU-\d{4}-\d{6,}\b\]?", re.I)
_ADDRESS = re.compile(r"^[^@\s<>]{1,64}@[^@\s<>]{1,255}$")
AUTOMATIC = {"ack", "ack_followup", "closed"}  # sent by the daemon itself (RFC 3834 Auto-Submitted)


def reply_subject(subject: str | None, ref: str, templates: Callable[..., str]) -> str:
    """``Re: <original subject> [ADU-...]`` without piling up prefixes or refs."""
    base = _REF_TAG.sub("", _PREFIX.sub("", subject or "")).strip()
    if not base:
        return templates("email_new_subject", ref=ref)
    return templates("email_reply_subject", subject=base[:150], ref=ref)


def build_reply(smtp: SmtpConfig, item: OutboxItem, idempotency_key: str,
                templates: Callable[..., str]) -> EmailMessage:
    """The answer as a MIME message (plain text, UTF-8)."""
    payload: dict[str, Any] = item.payload
    origin = payload.get("origin") or {}
    purpose = str(payload.get("purpose") or "").split("-")[0]
    if origin.get("no_reply") and purpose in AUTOMATIC:
        raise PermanentDeliveryError(str(origin["no_reply"])[:300])
    to = writable_address(str(origin.get("address") or ""))
    ref = str(payload.get("complaint") or item.item_ref.split("#", 1)[0])
    msg = EmailMessage()
    msg["From"] = Address(smtp.from_name or "", addr_spec=smtp.from_address)
    name = str(origin.get("name") or "").replace("\r", " ").replace("\n", " ")[:100]
    try:
        msg["To"] = Address(name, addr_spec=to)
    except Exception:  # a display name the header model rejects: the bare address (checked writable above)
        msg["To"] = Address(addr_spec=to)
    msg["Subject"] = reply_subject(origin.get("subject"), ref, templates)
    msg["Date"] = formatdate(localtime=False)
    domain = smtp.from_address.rsplit("@", 1)[-1]
    msg["Message-ID"] = message_id_for(idempotency_key, domain)
    parent = origin.get("message_id")
    references = [r for r in (origin.get("references") or []) if isinstance(r, str)]
    if parent:
        msg["In-Reply-To"] = parent
        if parent not in references:
            references.append(parent)
    if references:
        msg["References"] = " ".join(references[-20:])
    if payload.get("purpose", "").split("-")[0] in AUTOMATIC:
        msg["Auto-Submitted"] = "auto-replied"
        msg["X-Auto-Response-Suppress"] = "All"
    footer = templates("email_footer", ref=ref)
    msg.set_content(f"{payload.get('text', '')}\n\n{footer}\n", charset="utf-8")
    return msg


def writable_address(raw: str) -> str:
    """The reply address as it can go into a header and an SMTP RCPT, or ``PermanentDeliveryError``.

    A trailing dot on the domain (``warga@yahoo.com.``, a fully qualified name some clients write) is
    dropped; anything the header model still refuses cannot be answered by mail, ever, so it is a
    permanent failure with the reason (the officer sees it as a dead letter) rather than a retry for ever.
    """
    to = raw.strip().strip("<>").strip()
    local, at, domain = to.rpartition("@")
    if at:
        to = f"{local}@{domain.rstrip('.').lower()}"
    if not _ADDRESS.match(to):
        raise PermanentDeliveryError("the original mail has no address to answer")
    try:
        Address(addr_spec=to)
    except Exception as exc:  # HeaderParseError, ValueError, IndexError: not an address a mail can carry
        raise PermanentDeliveryError(f"the reply address cannot be written in a mail header "
                                     f"({type(exc).__name__}: {str(exc)[:120]})") from exc
    return to


def message_id_for(idempotency_key: str, domain: str) -> str:
    """A stable Message-ID for one outbox row."""
    digest = hashlib.sha256(idempotency_key.encode("utf-8")).hexdigest()[:32]
    return f"<{digest}.omnichannel@{domain}>"


async def send_reply(smtp: SmtpConfig | None, item: OutboxItem, idempotency_key: str,
                     templates: Callable[..., str] | None = None) -> Receipt:
    """Send one answer; SMTP 4xx and connection trouble are retryable, 5xx permanent."""
    if smtp is None:
        raise PermanentDeliveryError("this email connector has no smtp settings; it cannot answer")
    msg = build_reply(smtp, item, idempotency_key, templates or Templates())
    password = smtp.password.get_secret_value() if smtp.password else None
    try:
        await aiosmtplib.send(msg, hostname=smtp.host, port=smtp.port, username=smtp.username or None,
                              password=password if smtp.username else None, use_tls=smtp.security == "tls",
                              start_tls=True if smtp.security == "starttls" else False, timeout=smtp.timeout)
    except aiosmtplib.SMTPAuthenticationError as exc:
        # the credentials, not this reply, are wrong: keep the reply and let an operator fix them
        raise RetryableError(f"SMTP login refused ({exc.code}); check the smtp credentials", 300) from exc
    except aiosmtplib.SMTPRecipientsRefused as exc:
        codes = [r.code for r in exc.recipients]
        raise _by_code(min(codes) if codes else 550, f"recipient refused: {exc.recipients[0] if codes else exc}") \
            from exc
    except aiosmtplib.SMTPResponseException as exc:
        raise _by_code(exc.code, f"SMTP {exc.code}: {exc.message}") from exc
    except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
        raise RetryableError(f"SMTP unavailable: {type(exc).__name__}: {exc}") from exc
    return Receipt(remote_ref=msg["Message-ID"])


def _by_code(code: int, message: str) -> Exception:
    if 400 <= code < 500:
        return RetryableError(message)
    return PermanentDeliveryError(message)
