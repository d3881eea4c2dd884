"""Web form / app intake (kind ``webform``): ``POST /api/v1/complaints`` and a citizen-safe status."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import re
import secrets
from typing import Any, ClassVar, Literal

import phonenumbers
from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator

from omnichannel.config import ConnectorConfig
from omnichannel.protocols import PluginContext
from omnichannel.types import Batch, Envelope, Sender

log = logging.getLogger(__name__)
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,255}\.[^@\s]{2,}$")
_REF = re.compile(r"^ADU-\d{4}-\d{6,}$")
# the spelling nearly every Indonesian mobile number arrives in; phonenumbers (~15 us) does the rest
_MOBILE = re.compile(r"^(?:\+62|0)(8\d{8,11})$")


class WebformConfig(ConnectorConfig):
    """Settings of the web intake."""

    kind: Literal["webform"] = "webform"
    path: str = "/api/v1/complaints"
    auth: Literal["none", "bearer", "hmac"] = "none"
    token: SecretStr | None = Field(None, description="bearer token, or the HMAC key for auth: hmac")
    max_body_bytes: int = Field(65_536, gt=0)
    max_text_chars: int = Field(10_000, gt=0)


class ComplaintIn(BaseModel):
    """The JSON body a form posts."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    text: str = Field(min_length=3)
    subject: str | None = Field(None, max_length=200)
    name: str | None = Field(None, max_length=120)
    email: str | None = Field(None, max_length=320)
    phone: str | None = Field(None, max_length=32)
    location: str | dict[str, Any] | None = None
    anonymous: bool = False
    confidential: bool = False

    @field_validator("email")
    @classmethod
    def _email(cls, value: str | None) -> str | None:
        if value and not _EMAIL.match(value):
            raise ValueError("not an email address")
        return value.lower() if value else None

    @field_validator("phone")
    @classmethod
    def _phone(cls, value: str | None) -> str | None:
        if not value:
            return None
        return normalise_phone(value)


def normalise_phone(value: str) -> str:
    """E.164 form of a phone number written the Indonesian way; ValueError when it is not one."""
    if (mobile := _MOBILE.match(value)) is not None:
        return "+62" + mobile.group(1)  # what phonenumbers gives for these (tests/connectors hold it)
    try:
        number = phonenumbers.parse(value, "ID")
    except phonenumbers.NumberParseException:
        raise ValueError("not a phone number") from None
    if not phonenumbers.is_possible_number(number):
        raise ValueError("not a phone number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _error(status: int, reason: str, **extra: Any) -> web.Response:
    return web.json_response({"error": reason, **extra}, status=status)


class WebformConnector:
    """Push connector: the HTTP answer is the acknowledgement, sent only after the commit."""

    kind: ClassVar[str] = "webform"

    def __init__(self, name: str, config: WebformConfig) -> None:
        self.name = name
        self.config = config
        self.ctx: PluginContext | None = None

    async def start(self, ctx: PluginContext, checkpoint: dict[str, Any] | None) -> None:
        """Remember the context; nothing to open."""
        self.ctx = ctx

    async def stop(self) -> None:
        """Nothing to close."""

    async def probe(self) -> str:
        """The intake has no remote side."""
        return f"web intake on {self.config.path} (auth: {self.config.auth})"

    def routes(self) -> list[web.RouteDef]:
        """``POST`` to file, ``GET .../{ref}`` for the citizen-safe status."""
        return [web.post(self.config.path, self.handle_post),
                web.get(self.config.path + "/{ref}", self.handle_status)]

    def _authorised(self, request: web.Request, body: bytes) -> bool:
        if self.config.auth == "none":
            return True
        secret = self.config.token.get_secret_value() if self.config.token else ""
        if not secret:
            return False
        if self.config.auth == "bearer":
            given = request.headers.get("Authorization", "")
            return hmac.compare_digest(given.encode(), f"Bearer {secret}".encode())
        given = request.headers.get("X-Signature-256", "")
        expected = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
        return hmac.compare_digest(given.encode(), expected.encode())

    async def handle_post(self, request: web.Request) -> web.Response:
        """Validate, store, and answer 201 with the complaint ref (200 for a repeated key)."""
        assert self.ctx is not None and self.ctx.submit is not None
        if request.content_length is not None and request.content_length > self.config.max_body_bytes:
            return _error(413, f"body larger than {self.config.max_body_bytes} bytes")
        body = await request.content.read(self.config.max_body_bytes + 1)
        if len(body) > self.config.max_body_bytes:
            return _error(413, f"body larger than {self.config.max_body_bytes} bytes")
        if not self._authorised(request, body):
            return _error(401, "missing or invalid credentials")
        if request.content_type != "application/json":
            return _error(415, "send JSON with Content-Type: application/json")
        try:
            data = json.loads(body)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            return _error(400, f"malformed JSON: {exc}")
        if not isinstance(data, dict):
            return _error(422, "the body must be a JSON object")
        try:
            form = ComplaintIn.model_validate(data)
        except ValidationError as exc:
            problems = [{"field": ".".join(str(p) for p in e["loc"]) or "body", "problem": e["msg"]}
                        for e in exc.errors()]
            return _error(422, "invalid complaint", problems=problems)
        if len(form.text) > self.config.max_text_chars:
            return _error(422, "invalid complaint",
                          problems=[{"field": "text", "problem": f"longer than {self.config.max_text_chars}"}])
        key = request.headers.get("Idempotency-Key", "").strip()
        if key and (len(key) > 200 or not key.isprintable()):
            return _error(400, "Idempotency-Key must be printable and at most 200 characters")
        envelope = self._envelope(form, body, key)
        result = await self.ctx.submit(Batch([envelope]))
        item = result.items[0]
        ref = item.complaint_ref
        if not item.new and self.ctx.status_lookup is not None and ref:
            # a retry with the same key gets the access key stored the first time
            envelope.origin["access"] = await self._stored_access(ref) or envelope.origin["access"]
        log.debug("%s stored %s as %s (%s)", self.name, envelope.external_id, item.outcome, ref)
        templates = self.ctx.templates
        message = templates("ack_webform", ref=ref) if templates and ref else None
        status = 201 if item.new else 200
        body = {"complaint": ref, "status": "diterima", "outcome": item.outcome, "message": message}
        if ref:
            body["status_url"] = f"{self.config.path}/{ref}?akses={envelope.origin['access']}"
        return web.json_response(body, status=status)

    async def _stored_access(self, ref: str) -> str | None:
        store = self.ctx.extra.get("store") if self.ctx else None
        if store is None:
            return None
        from sqlalchemy import select

        from omnichannel.models import Complaint, EnvelopeRow

        async with store.session() as session:
            q = (select(EnvelopeRow.origin).join(Complaint, Complaint.envelope_id == EnvelopeRow.id)
                 .where(Complaint.ref == ref))
            origin = (await session.exec(q)).scalars().first()
        return (origin or {}).get("access")

    def _envelope(self, form: ComplaintIn, body: bytes, key: str) -> Envelope:
        contact = form.email or form.phone
        sender = Sender(id=contact, name=form.name, email=form.email, phone=form.phone) if contact else None
        location = form.location if isinstance(form.location, dict) else (
            {"text": form.location} if form.location else None)
        external_id = f"key:{key}" if key else f"uuid:{os.urandom(16).hex()}"
        origin: dict[str, Any] = {"access": secrets.token_urlsafe(12)}
        if contact:
            origin.update(email=form.email, phone=form.phone)
        return Envelope(external_id=external_id, raw=body, sender=sender,
                        text=form.text, subject=form.subject, anonymous=form.anonymous,
                        confidential=form.confidential, meta={"location": location} if location else {},
                        origin=origin)

    async def handle_status(self, request: web.Request) -> web.Response:
        """Citizen-safe status of one complaint: no personal data, no other citizens' text.

    With ``?akses=<key>`` from the 201 answer, the reporter also sees the agency's answer.
    """
        ref = request.match_info["ref"].upper()
        if not _REF.match(ref):
            return _error(400, "not a complaint ref (e.g. ADU-2026-000123)")
        assert self.ctx is not None and self.ctx.status_lookup is not None
        status = await self.ctx.status_lookup(ref, access=request.query.get("akses"))
        if status is None:
            return _error(404, f"complaint {ref} not found")
        return web.json_response(status)
