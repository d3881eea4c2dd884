"""Forwarder kind ``email``: a message to the agency's mailbox by SMTP (aiosmtplib).

The recipient is ``to`` when set, else the ticket's agency ``email`` from ``agencies``. The Message-ID
is derived from the idempotency key, so a resend after a crash carries the same id and mail clients
show it once. SMTP 4xx, timeouts and refused connections → retry; 5xx → dead letter; refused
credentials → ``AuthError`` (retried: fixing the password lets the queue drain).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, formataddr
from pathlib import Path
from typing import Any, ClassVar, Literal
from zoneinfo import ZoneInfo

import aiosmtplib
from pydantic import Field, SecretStr

from omnichannel import attachments
from omnichannel.config import ForwarderConfig
from omnichannel.errors import AuthError, PermanentDeliveryError, RetryableError
from omnichannel.protocols import PluginContext
from omnichannel.templates import Templates
from omnichannel.types import OutboxItem, Receipt, utcnow

log = logging.getLogger(__name__)
JAKARTA = ZoneInfo("Asia/Jakarta")


class EmailForwarderConfig(ForwarderConfig):
    """SMTP server and addresses."""

    kind: Literal["email"] = "email"
    host: str = "127.0.0.1"
    port: int = Field(25, ge=1, le=65535)
    username: str | None = None
    password: SecretStr | None = Field(None, description="SMTP password, from ${ENV}")
    use_tls: bool = Field(False, description="implicit TLS (port 465)")
    start_tls: bool | None = Field(None, description="STARTTLS; None = when the server offers it")
    sender: str = Field("pengaduan@localhost", description="From address")
    sender_name: str = "Layanan Pengaduan"
    to: list[str] = Field(default_factory=list, description="fixed recipients; empty = the agency's email")
    message_id_domain: str = "omnichannel.local"
    include_reporter: bool = Field(True, description="reporter contact for the owning agency (never if anonim)")
    attach_files: bool = Field(True, description="attach the reporter's stored photos and files to a new ticket's mail")
    max_attachment_bytes: int = Field(10 * 1024 * 1024, ge=0,
                                      description="total size of files attached to one mail; the rest are listed "
                                                  "by name (the desk has them all)")


def message_id(idempotency_key: str, domain: str) -> str:
    """A stable Message-ID for one delivery."""
    return f"<{hashlib.sha256(idempotency_key.encode()).hexdigest()[:32]}@{domain}>"


def _location(value: Any) -> str:
    if isinstance(value, dict):
        parts = [str(value[k]) for k in ("text", "kelurahan", "kecamatan") if value.get(k)]
        return ", ".join(dict.fromkeys(parts)) or "-"
    return str(value) if value else "-"


def _jakarta(iso: str | None) -> str:
    if not iso:
        return "-"
    try:
        return datetime.fromisoformat(iso).astimezone(JAKARTA).strftime("%d-%m-%Y %H:%M WIB")
    except ValueError:
        return iso


class EmailForwarder:
    """Sends one email per item to the agency mailbox."""

    kind: ClassVar[str] = "email"

    def __init__(self, name: str, config: EmailForwarderConfig) -> None:
        self.name = name
        self.config = config
        self.templates: Any = Templates()
        self.agency_emails: dict[str, str] = {}
        self.attachments_dir: Path | None = None

    async def start(self, ctx: PluginContext) -> None:
        """Take templates and agency mailboxes from the daemon (no connection yet)."""
        if ctx is not None and ctx.templates is not None:
            self.templates = ctx.templates
        if ctx is not None:
            self.attachments_dir = Path(ctx.attachments_dir)
        config = ctx.extra.get("config") if ctx is not None else None
        for agency in getattr(config, "agencies", []) or []:
            if agency.email:
                self.agency_emails[agency.code] = agency.email

    def recipients(self, item: OutboxItem) -> list[str]:
        """Who gets this item."""
        if self.config.to:
            return list(self.config.to)
        agency = item.payload.get("agency")
        if agency and agency in self.agency_emails:
            return [self.agency_emails[agency]]
        raise PermanentDeliveryError(f"email {self.name}: no mailbox for agency {agency!r} (set agencies[].email "
                                     "or the forwarder's to)")

    def render(self, item: OutboxItem) -> tuple[str, str]:
        """Subject and body in Bahasa Indonesia."""
        p = item.payload
        if item.item_type == "ticket":
            subject = f"[{p.get('ticket')}] {p.get('subject') or 'Aduan baru'} — {p.get('agency_name') or ''}".strip()
            body = self.templates("officer_ticket", ticket=p.get("ticket"), kind=p.get("kind"),
                                  agency=p.get("agency_name") or p.get("agency"), location=_location(p.get("location")),
                                  reporters=p.get("reporters", 1), sla_due=_jakarta(p.get("sla_due")),
                                  summary=p.get("text") or p.get("text_masked") or "")
            reporter = p.get("reporter")
            if self.config.include_reporter and reporter and not p.get("anonymous"):
                contact = ", ".join(str(reporter[k]) for k in ("name", "phone", "email") if reporter.get(k))
                body += f"\n\nPelapor: {contact}"
            elif p.get("anonymous"):
                body += "\n\nPelapor meminta identitasnya dirahasiakan (anonim)."
            body += f"\nSaluran: {p.get('channel', '-')}. Nomor aduan: {p.get('complaint', '-')}."
            return subject, body
        if item.item_type == "ticket_update":
            return (f"[{p.get('ticket')}] Pembaruan tiket",
                    f"Tiket {p.get('ticket')}: status {p.get('status')}, {p.get('reporters')} pelapor.\n"
                    f"{p.get('note') or ''}".strip())
        subject = p.get("subject") or {"escalation": f"[{p.get('ticket')}] Eskalasi batas waktu"}.get(
            item.item_type, "Pemberitahuan layanan pengaduan")
        return str(subject), str(p.get("text") or "")

    def files(self, item: OutboxItem) -> tuple[list[tuple[dict[str, Any], bytes]], list[str]]:
        """The files to attach within ``max_attachment_bytes`` (read from the attachment store), and the names of
        those left out (too big for the cap, or gone from the store). Blocking: call it from a thread."""
        wanted = item.payload.get("attachments") if item.item_type == "ticket" else None
        if not wanted or not isinstance(wanted, list) or not self.config.attach_files or self.attachments_dir is None:
            return [], []
        out: list[tuple[dict[str, Any], bytes]] = []
        left: list[str] = []
        budget = self.config.max_attachment_bytes
        for att in wanted:
            if not isinstance(att, dict):
                continue
            name = str(att.get("filename") or "lampiran")
            path = attachments.resolve(self.attachments_dir, att.get("path"))
            size = path.stat().st_size if path is not None else 0
            if path is None or size > budget:
                left.append(name)
                continue
            out.append((att, path.read_bytes()))
            budget -= size
        return out, left

    def build(self, item: OutboxItem, idempotency_key: str,
              files: tuple[list[tuple[dict[str, Any], bytes]], list[str]] = ([], [])) -> EmailMessage:
        """The message exactly as sent, with ``files`` (from ``files()``) attached."""
        subject, body = self.render(item)
        attached, left = files
        if left:
            body += "\n\n" + self.templates("officer_files_left", files=", ".join(left))
        msg = EmailMessage()
        msg["From"] = formataddr((self.config.sender_name, self.config.sender))
        msg["To"] = ", ".join(self.recipients(item))
        msg["Subject"] = subject
        msg["Date"] = format_datetime(utcnow())
        msg["Message-ID"] = message_id(idempotency_key, self.config.message_id_domain)
        msg["X-Omnichannel-Idempotency-Key"] = idempotency_key
        msg.set_content(body)
        for att, content in attached:
            maintype, _, subtype = str(att.get("content_type") or "application/octet-stream").partition("/")
            msg.add_attachment(content, maintype=maintype, subtype=subtype or "octet-stream",
                               filename=str(att.get("filename") or "lampiran"))
        return msg

    async def send(self, item: OutboxItem, idempotency_key: str) -> Receipt:
        """Deliver by SMTP and translate the server's answer."""
        msg = self.build(item, idempotency_key, await asyncio.to_thread(self.files, item))
        c = self.config
        try:
            await aiosmtplib.send(msg, hostname=c.host, port=c.port, username=c.username,
                                  password=c.password.get_secret_value() if c.password else None,
                                  use_tls=c.use_tls, start_tls=c.start_tls, timeout=c.timeout)
        except aiosmtplib.SMTPAuthenticationError as exc:
            raise AuthError(f"email {self.name}: SMTP login refused ({exc.code})") from exc
        except aiosmtplib.SMTPRecipientsRefused as exc:
            codes = [r.code for r in exc.recipients]
            error = f"email {self.name}: recipients refused {codes}"
            if all(code >= 500 for code in codes):
                raise PermanentDeliveryError(error) from exc
            raise RetryableError(error) from exc
        except (aiosmtplib.SMTPServerDisconnected, aiosmtplib.SMTPConnectError, aiosmtplib.SMTPTimeoutError,
                TimeoutError, OSError) as exc:
            raise RetryableError(f"email {self.name}: {type(exc).__name__}: {exc}") from exc
        except aiosmtplib.SMTPResponseException as exc:
            error = f"email {self.name}: SMTP {exc.code} {exc.message}"
            if exc.code >= 500:
                raise PermanentDeliveryError(error) from exc
            raise RetryableError(error) from exc
        except aiosmtplib.SMTPException as exc:
            raise RetryableError(f"email {self.name}: {type(exc).__name__}: {exc}") from exc
        log.debug("email %s sent %s", self.name, idempotency_key)
        return Receipt(remote_ref=msg["Message-ID"])

    async def stop(self) -> None:
        """Nothing held open between sends."""

    async def probe(self) -> str:
        """Connect, greet and log in when a username is set."""
        c = self.config
        smtp = aiosmtplib.SMTP(hostname=c.host, port=c.port, use_tls=c.use_tls, start_tls=c.start_tls,
                               timeout=min(c.timeout, 15))
        try:
            await smtp.connect()
            if c.username:
                await smtp.login(c.username, c.password.get_secret_value() if c.password else "")
            await smtp.quit()
        except aiosmtplib.SMTPAuthenticationError as exc:
            raise AuthError(f"SMTP login refused: {exc}") from exc
        except (aiosmtplib.SMTPException, OSError) as exc:
            raise RetryableError(f"SMTP {c.host}:{c.port} unreachable: {exc}") from exc
        return f"SMTP {c.host}:{c.port} answers"
