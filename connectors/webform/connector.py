"""Web form / app intake (kind ``webform``): ``POST /api/v1/complaints`` and a citizen-safe status."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import os
import re
import secrets
from pathlib import Path
from typing import Any, ClassVar, Literal

import phonenumbers
from aiohttp import web
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)

from connectors.webform.upload import Upload, read_upload, sweep
from omnichannel import storable
from omnichannel.config import ConnectorConfig
from omnichannel.protocols import PluginContext
from omnichannel.templates import Templates
from omnichannel.types import Batch, Envelope, Sender
from omnichannel.web.body import BodyError, header_bytes, parse_json, read_body
from omnichannel.web.limits import limiter

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
    max_body_bytes: int = Field(65_536, gt=0, description="largest JSON body, and the form fields of an upload")
    max_text_chars: int = Field(10_000, gt=0)
    max_files: int = Field(5, ge=0, description="files one multipart/form-data complaint may carry (0: no upload)")
    max_file_bytes: int = Field(10 * 1024 * 1024, gt=0, description="largest uploaded file; a larger one refuses the "
                                                                     "whole submission (413)")
    file_types: list[str] = Field(default_factory=lambda: ["image/jpeg", "image/png", "image/webp", "application/pdf"],
                                  description="content types accepted, judged from the file's bytes (not its name)")

    @model_validator(mode="after")
    def _token_when_authenticated(self) -> WebformConfig:
        if self.auth != "none" and not (self.token and self.token.get_secret_value().strip()):
            raise ValueError(f"auth: {self.auth} needs a token that is not empty or whitespace")
        return self


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
        """Remember the context; clear temporary upload directories a crash left behind."""
        self.ctx = ctx
        removed = await asyncio.to_thread(sweep, Path(ctx.attachments_dir))
        if removed:
            log.info("%s: removed %d temporary upload directories left by an interrupted run", self.name, removed)

    async def stop(self) -> None:
        """Nothing to close."""

    async def probe(self) -> str:
        """The intake has no remote side."""
        return f"web intake on {self.config.path} (auth: {self.config.auth})"

    def routes(self) -> list[web.RouteDef]:
        """``POST`` to file, ``GET .../{ref}`` for the citizen-safe status."""
        return [web.post(self.config.path, self.handle_post),
                web.get(self.config.path + "/{ref}", self.handle_status)]

    def openapi(self) -> dict[str, Any]:
        """The routes above as OpenAPI path items."""
        from omnichannel.web.openapi import problems

        nstr = {"type": ["string", "null"]}
        form = {"type": "object", "additionalProperties": False, "required": ["text"], "properties": {
            "text": {"type": "string", "minLength": 3, "maxLength": self.config.max_text_chars,
                     "description": "the complaint (surrounding whitespace is trimmed before the length counts)"},
            "subject": {"type": ["string", "null"], "maxLength": 200},
            "name": {"type": ["string", "null"], "maxLength": 120},
            "email": {"type": ["string", "null"], "maxLength": 320, "format": "email"},
            "phone": {"type": ["string", "null"], "maxLength": 32, "description": "an Indonesian number, any spelling"},
            "location": {"description": "what the citizen typed, or fields (kelurahan, kecamatan, rt, rw, lat, lon)",
                         "anyOf": [{"type": "string"}, {"type": "object"}, {"type": "null"}]},
            "anonymous": {"type": "boolean", "default": False},
            "confidential": {"type": "boolean", "default": False}}}
        answer = {"type": "object", "required": ["complaint", "status", "outcome"], "properties": {
            "complaint": {**nstr, "description": "the complaint ref (ADU-...)"}, "status": {"type": "string"},
            "outcome": {"type": "string", "description": "complaint, duplicate, quarantined, ..."},
            "message": {**nstr, "description": "the acknowledgement in Bahasa Indonesia"},
            "status_url": {"type": "string", "description": "the status page's address with the access key"}}}
        status = {"type": "object", "required": ["complaint", "status", "status_text"], "properties": {
            "complaint": {"type": "string"}, "merged_into": nstr, "status": {"type": "string"},
            "status_text": {"type": "string"}, "kind": nstr, "agency": nstr, "ticket": nstr,
            "sla_due": {"type": ["string", "null"], "format": "date-time"}, "lapor_tracking_id": nstr,
            "received_at": {"type": "string", "format": "date-time"},
            "updated_at": {"type": "string", "format": "date-time"},
            "answer": {**nstr, "description": "the agency's answer (only with the access key)"}}}
        auth: list[dict[str, Any]] = []
        if self.config.auth == "bearer":
            auth = [{"name": "Authorization", "in": "header", "required": True, "schema": {"type": "string"},
                     "description": "Bearer <the connector's token>"}]
        elif self.config.auth == "hmac":
            auth = [{"name": "X-Signature-256", "in": "header", "required": True, "schema": {"type": "string"},
                     "description": "sha256=<hex HMAC-SHA256 of the raw body with the connector's token>"}]
        key = {"name": "Idempotency-Key", "in": "header", "required": False,
               "schema": {"type": "string", "maxLength": 200},
               "description": "the same key and body again answers what the first request got (200)"}
        ok = {"content": {"application/json": {"schema": answer}}}
        return {
            self.config.path: {"post": {
                "summary": f"file a complaint ({self.name}); answered after it is stored", "tags": ["intake"],
                "security": [], "parameters": [*auth, key],
                "requestBody": {"required": True, "content": {"application/json": {"schema": form}}},
                "responses": {"201": {"description": "stored", **ok},
                              "200": {"description": "a repeated Idempotency-Key with the same body", **ok},
                              **problems(400, 401, 408, 409, 413, 415, 422, 429)}}},
            self.config.path + "/{ref}": {"get": {
                "summary": "a complaint's status, for the citizen holding its access key (no personal data)",
                "tags": ["intake"], "security": [], "parameters": [
                    {"name": "ref", "in": "path", "required": True, "example": "ADU-2026-000001",
                     "schema": {"type": "string", "pattern": "^[Aa][Dd][Uu]-[0-9]{4}-[0-9]{6,}$"},
                     "description": "the complaint ref (case-insensitive)"},
                    {"name": "akses", "in": "query", "required": True, "schema": {"type": "string"},
                     "description": "the access key from the 201 answer's status_url"}],
                "responses": {"200": {"description": "the status", "content": {"application/json": {
                    "schema": status}}}, **problems(400, 404, 429, words={
                        404: "no such complaint with this access key (a missing key answers the same)"})}}},
        }

    def _authorised(self, request: web.Request, body: bytes) -> bool:
        if self.config.auth == "none":
            return True
        secret = self.config.token.get_secret_value() if self.config.token else ""
        if not secret.strip():
            return False
        if self.config.auth == "bearer":
            return hmac.compare_digest(header_bytes(request, "Authorization"), f"Bearer {secret}".encode())
        expected = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
        return hmac.compare_digest(header_bytes(request, "X-Signature-256"), expected.encode())

    def _client(self, request: web.Request) -> str:
        """Whose idempotency keys these are: the token's holder, or (no auth) the client's address."""
        if self.config.auth != "none":
            return "token"
        rate = limiter(request)
        return rate.client(request) if rate is not None else (request.remote or "")

    async def handle_post(self, request: web.Request) -> web.Response:
        """Validate, store, and answer 201 with the complaint ref (200 for a repeated key); JSON, or
        ``multipart/form-data`` with files (see ``connectors.webform.upload``)."""
        assert self.ctx is not None and self.ctx.submit is not None
        rate = limiter(request)
        if rate is not None and (refused := rate.check("intake", request)) is not None:
            return refused
        if request.content_type == "multipart/form-data":
            return await self._handle_upload(request)
        try:
            body = await read_body(request, self.config.max_body_bytes)
            if not self._authorised(request, body):
                return _error(401, "missing or invalid credentials")
            if request.content_type != "application/json":
                return _error(415, "send JSON with Content-Type: application/json, or multipart/form-data")
            data = parse_json(body)
        except BodyError as exc:
            return exc.response()
        return await self._file(request, data, body)

    async def _handle_upload(self, request: web.Request) -> web.Response:
        """A form with files: fields and files read with bounded memory; refused whole when a file is."""
        assert self.ctx is not None
        if self.config.auth == "hmac":  # the signature covers a body this handler never holds whole
            return _error(415, "auth: hmac takes JSON bodies only")
        if not self._authorised(request, b""):
            return _error(401, "missing or invalid credentials")
        root = Path(self.ctx.attachments_dir)
        try:
            upload = await read_upload(request, root=root, max_fields_bytes=self.config.max_body_bytes,
                                       max_files=self.config.max_files, max_file_bytes=self.config.max_file_bytes,
                                       types=self.config.file_types, templates=self.ctx.templates or Templates())
        except BodyError as exc:
            log.info("%s: upload refused: %s", self.name, exc.reason)
            return exc.response()
        try:
            raw = json.dumps(upload.raw(), ensure_ascii=False, sort_keys=True).encode()
            return await self._file(request, dict(upload.fields), raw, upload)
        finally:
            await asyncio.to_thread(upload.discard)

    async def _file(self, request: web.Request, data: Any, body: bytes, upload: Upload | None = None) -> web.Response:
        """Validate the complaint, keep its files, store it and answer."""
        assert self.ctx is not None and self.ctx.submit is not None
        if not isinstance(data, dict):
            return _error(422, "the body must be a JSON object")
        try:
            form = ComplaintIn.model_validate(storable.data(data))  # NUL, lone surrogates: U+FFFD
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
        envelope = self._envelope(form, body, key, self._client(request))
        if upload is not None and upload.files:
            envelope.attachments = await asyncio.to_thread(upload.keep, Path(self.ctx.attachments_dir))
        result = await self.ctx.submit(Batch([envelope]))
        item = result.items[0]
        ref = item.complaint_ref
        if not item.new:
            # the same key again: the same body gets what the first request got, another body 409
            stored = await self._stored_origin(envelope.external_id)
            if stored is not None and stored.get("body_sha256") != envelope.origin["body_sha256"]:
                return _error(409, "this Idempotency-Key was already used for another request")
            envelope.origin["access"] = (stored or {}).get("access") or envelope.origin["access"]
        log.debug("%s stored %s as %s (%s)", self.name, envelope.external_id, item.outcome, ref)
        templates = self.ctx.templates
        message = templates("ack_webform", ref=ref) if templates and ref else None
        status = 201 if item.new else 200
        answer = {"complaint": ref, "status": "baru", "outcome": item.outcome, "message": message}  # as GET says next
        if ref:
            answer["status_url"] = f"{self.config.path}/{ref}?akses={envelope.origin['access']}"
            if self.config.auth == "none":  # the citizens' page (omnichannel.web.ui) for the same status
                answer["status_page"] = f"/status/{ref}?akses={envelope.origin['access']}"
        return web.json_response(answer, status=status)

    async def _stored_origin(self, external_id: str) -> dict[str, Any] | None:
        store = self.ctx.extra.get("store") if self.ctx else None
        if store is None or self.ctx is None:
            return None
        from sqlalchemy import select

        from omnichannel.models import EnvelopeRow

        async with store.session() as session:
            q = select(EnvelopeRow.origin).where(EnvelopeRow.connector == self.ctx.name,
                                                 EnvelopeRow.external_id == external_id)
            return (await session.exec(q)).scalars().first() or {}

    def _envelope(self, form: ComplaintIn, body: bytes, key: str, client: str) -> Envelope:
        contact = form.email or form.phone
        sender = Sender(id=contact, name=form.name, email=form.email, phone=form.phone) if contact else None
        location = form.location if isinstance(form.location, dict) else (
            {"text": form.location} if form.location else None)
        # a key is the client's own: another client's identical key is another request
        scoped = hashlib.sha256(f"{client}\0{key}".encode("utf-8", "surrogateescape")).hexdigest()[:40]
        external_id = f"key:{scoped}" if key else f"uuid:{os.urandom(16).hex()}"
        origin: dict[str, Any] = {"access": secrets.token_urlsafe(16),
                                  "body_sha256": hashlib.sha256(body).hexdigest()}
        if contact:
            origin.update(email=form.email, phone=form.phone)
        return Envelope(external_id=external_id, raw=body, sender=sender,
                        text=form.text, subject=form.subject, anonymous=form.anonymous,
                        confidential=form.confidential, meta={"location": location} if location else {},
                        origin=origin)

    async def handle_status(self, request: web.Request) -> web.Response:
        """Citizen-safe status of one complaint: no personal data, no other citizens' text.

    Only with ``?akses=<key>`` from the 201 answer; the reporter then also sees the agency's answer.
    """
        rate = limiter(request)
        if rate is not None and (refused := rate.check("status", request)) is not None:
            return refused
        ref = request.match_info["ref"].upper()
        if not _REF.match(ref):
            return _error(400, "not a complaint ref (e.g. ADU-2026-000123)")
        assert self.ctx is not None and self.ctx.status_lookup is not None
        access = request.query.get("akses", "")
        # refs are sequential: only the access key from the 201 answer opens a status, so that
        # counting through ADU-2026-000001... tells nobody anything (missing and wrong key alike: 404)
        status = await self.ctx.status_lookup(ref, access=access) if access else None
        if status is None:
            return _error(404, f"complaint {ref} not found with this access key (akses)")
        return web.json_response(status)
