"""WhatsApp Cloud API connector (kind ``whatsapp``): signed webhook intake and replies via the Graph API.

Meta signs every delivery with ``X-Hub-Signature-256: sha256=<HMAC-SHA256 of the raw body with the
app secret>``. A delivery whose signature is missing or wrong gets 401 and nothing is stored; a good
one is stored (messages, status callbacks as skips, media within the size limit) and only then
answered 200 — Meta redelivers anything else, and the wamid key absorbs the repeats.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar

import aiohttp
from aiohttp import web
from sqlalchemy import func, select

from connectors.meta.webhook import SIGNATURE_HEADER, handshake, openapi_paths, signature_ok
from connectors.whatsapp.config import WhatsAppConfig
from connectors.whatsapp.parse import MediaRef, parse_payload
from omnichannel.attachments import keep_async, read_limited
from omnichannel.errors import AuthError, PermanentDeliveryError, RetryableError
from omnichannel.protocols import PluginContext
from omnichannel.templates import Templates
from omnichannel.types import Attachment, Batch, Envelope, OutboxItem, Receipt
from omnichannel.web.body import BodyError, parse_json, read_body

log = logging.getLogger(__name__)
THROTTLED = {4, 80007, 130429, 131056}      # Graph/Cloud API throughput and pair-rate limits
TEMPORARY = {1, 2, 131000, 131016}          # unknown/service errors: try again
WINDOW_CLOSED = 131047                      # "Re-engagement message": outside the 24-hour window


class _WindowClosed(Exception):
    pass


class WhatsAppConnector:
    """Push connector for Cloud API webhooks; also answers citizens (Replier)."""

    kind: ClassVar[str] = "whatsapp"

    def __init__(self, name: str, config: WhatsAppConfig) -> None:
        self.name, self.config = name, config
        self.ctx: PluginContext | None = None
        self._session: aiohttp.ClientSession | None = None
        self._last_inbound: dict[str, datetime] = {}

    @classmethod
    def reparse(cls, raw: bytes, external_id: str) -> Envelope:
        """Parse a stored one-message payload again (``omnichannel quarantine retry``)."""
        try:
            payload = json.loads(raw)
            if not isinstance(payload, dict):
                raise ValueError("not a JSON object")
        except ValueError as exc:
            return Envelope(external_id=external_id, raw=raw, error=f"malformed webhook body: {exc}")
        envelopes, _ = parse_payload(payload)
        found = next((e for e in envelopes if e.external_id == external_id), envelopes[0] if envelopes else None)
        return found or Envelope(external_id=external_id, raw=raw, error="no message in the stored payload")

    # -- lifecycle --------------------------------------------------------------------------------
    @property
    def path(self) -> str:
        """The webhook route."""
        return self.config.path or f"/webhooks/whatsapp/{self.name}"

    def _graph(self, *parts: str) -> str:
        return "/".join([self.config.graph_base_url.rstrip("/"), self.config.graph_version, *parts])

    def _auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.config.access_token.get_secret_value()}"}

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self.config.request_timeout))
        return self._session

    async def start(self, ctx: PluginContext, checkpoint: dict[str, Any] | None) -> None:
        """Remember the context; the HTTP client opens on first use."""
        self.ctx = ctx

    async def stop(self) -> None:
        """Close the HTTP client. Safe to call twice."""
        session, self._session = self._session, None
        if session is not None:
            await session.close()

    async def probe(self) -> str:
        """Read the phone number object with the access token."""
        try:
            async with self._client().get(self._graph(self.config.phone_number_id), headers=self._auth()) as resp:
                data = await resp.json(content_type=None)
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise RetryableError(f"Graph API unreachable: {type(exc).__name__}") from exc
        if resp.status in (401, 403) or (data.get("error") or {}).get("code") == 190:
            raise AuthError("Graph API refused the access token")
        if resp.status >= 300:
            raise RetryableError(f"Graph API answered {resp.status}: {(data.get('error') or {}).get('message')}")
        return f"WhatsApp number {data.get('display_phone_number')} ({data.get('verified_name')})"

    def routes(self) -> list[web.RouteDef]:
        """GET for Meta's verification handshake, POST for deliveries."""
        return [web.get(self.path, self.handle_verify), web.post(self.path, self.handle_post)]

    def openapi(self) -> dict[str, Any]:
        """The routes above as OpenAPI path items."""
        return openapi_paths(self.path, f"WhatsApp Cloud API ({self.name})", self.config.max_body_bytes)

    # -- webhook ----------------------------------------------------------------------------------
    async def handle_verify(self, request: web.Request) -> web.Response:
        """Echo ``hub.challenge`` when ``hub.mode`` is subscribe and ``hub.verify_token`` matches."""
        return handshake(request, self.config.verify_token.get_secret_value())

    def _signed(self, request: web.Request, body: bytes) -> bool:
        return signature_ok(self.config.app_secret.get_secret_value(), request.headers.get(SIGNATURE_HEADER), body)

    async def handle_post(self, request: web.Request) -> web.Response:
        """Verify the signature over the raw body, store everything, answer 200 after the commit."""
        if self.ctx is None or self.ctx.submit is None:
            return web.json_response({"error": "not started"}, status=503)
        try:
            body = await read_body(request, self.config.max_body_bytes)
        except BodyError as exc:
            return exc.response()
        if not self._signed(request, body):
            log.warning("%s: delivery with a missing or wrong X-Hub-Signature-256 refused", self.name)
            return web.json_response({"error": "missing or invalid signature"}, status=401)
        try:
            try:
                payload = parse_json(body)
            except BodyError as exc:
                raise ValueError(exc.reason) from None
            if not isinstance(payload, dict):
                raise ValueError("not a JSON object")
            envelopes, media = parse_payload(payload)
        except (ValueError, TypeError, KeyError, AttributeError) as exc:  # signed but unreadable: quarantine
            envelopes, media = [Envelope(external_id=f"body:{hashlib.sha256(body).hexdigest()[:40]}", raw=body,
                                         error=f"malformed webhook body: {exc}")], []
        await asyncio.gather(*(self._fetch(ref, envelopes[ref.index]) for ref in media))
        for env in envelopes:
            if env.sender is not None:
                self._last_inbound[env.sender.id] = max(env.received_at, self._last_inbound.get(env.sender.id,
                                                                                                 env.received_at))
        result = await self.ctx.submit(Batch(envelopes))
        for env, item in zip(envelopes, result.items, strict=False):
            log.debug("%s %s stored as %s (new: %s)", self.name, env.external_id, item.outcome, item.new)
        return web.json_response({"received": len(envelopes), "new": result.new})

    async def _fetch(self, ref: MediaRef, env: Envelope) -> None:
        """Look the media up, download it within the size limit, save it by content hash."""
        limit = self.config.max_media_bytes
        att = Attachment(filename=ref.filename, content_type=ref.mime_type, sha256=ref.sha256)
        env.attachments.append(att)
        env.meta["media_id"] = ref.media_id
        if not self.config.download_media:
            att.skipped_reason = "downloads disabled"
            return
        try:
            async with self._client().get(self._graph(ref.media_id), headers=self._auth()) as resp:
                info = await resp.json(content_type=None)
                if resp.status >= 300:
                    att.skipped_reason = f"media lookup failed: {(info.get('error') or {}).get('message', resp.status)}"
                    return
            att.size = int(info.get("file_size") or 0)
            if att.size > limit:
                att.skipped_reason = f"larger than {limit} bytes ({att.size})"
                return
            async with self._client().get(info["url"], headers=self._auth()) as resp:
                if resp.status >= 300:
                    att.skipped_reason = f"media download failed: HTTP {resp.status}"
                    return
                data = await read_limited(resp.content, limit)
        except (aiohttp.ClientError, TimeoutError, KeyError, ValueError) as exc:
            att.skipped_reason = f"media download failed: {type(exc).__name__}"
            # never the exception itself: an aiohttp ClientResponseError's repr carries the request
            # headers, i.e. the Graph access token
            status = getattr(exc, "status", None)
            log.warning("%s %s: media %s not fetched: %s%s", self.name, env.external_id, ref.media_id,
                        type(exc).__name__, f" (HTTP {status})" if status else "")
            return
        if len(data) > limit:
            att.skipped_reason = f"larger than {limit} bytes"
            return
        digest = hashlib.sha256(data).hexdigest()
        if ref.sha256 and ref.sha256 != digest:
            att.skipped_reason = "media checksum mismatch"
            return
        assert self.ctx is not None
        kept = await keep_async(data, ref.filename, ref.mime_type, root=Path(self.ctx.attachments_dir), max_bytes=limit)
        att.size, att.sha256, att.content_type = kept.size, kept.sha256, kept.content_type
        att.path, att.skipped_reason = kept.path, kept.skipped_reason

    # -- replies ----------------------------------------------------------------------------------
    async def _last_seen(self, wa_id: str) -> datetime | None:
        """When this citizen last wrote to us: the store knows across restarts, memory since start."""
        seen = [self._last_inbound[wa_id]] if wa_id in self._last_inbound else []
        store = self.ctx.extra.get("store") if self.ctx else None
        if store is not None:
            from omnichannel.models import EnvelopeRow

            async with store.session() as session:
                q = select(func.max(EnvelopeRow.received_at)).where(EnvelopeRow.connector == self.name,
                                                                     EnvelopeRow.sender_id == wa_id)
                last = (await session.exec(q)).scalar_one_or_none()
            if last is not None:
                seen.append(last if last.tzinfo else last.replace(tzinfo=UTC))
        return max(seen) if seen else None

    async def reply(self, item: OutboxItem, idempotency_key: str) -> Receipt:
        """Free-form text inside the customer-service window, else the configured template, else give up."""
        origin = item.payload.get("origin") or {}
        wa_id, text = str(origin.get("wa_id") or ""), str(item.payload.get("text") or "")
        if not wa_id.isdigit() or not text.strip():
            raise PermanentDeliveryError("reply without a WhatsApp recipient (wa_id) or text")
        last = await self._last_seen(wa_id)
        window = timedelta(hours=self.config.window_hours)
        if last is not None and datetime.now(UTC) - last < window:
            body: dict[str, Any] = {"type": "text", "text": {"preview_url": False, "body": text[:4096]}}
            if origin.get("message_id"):
                body["context"] = {"message_id": origin["message_id"]}
            try:
                return await self._send(wa_id, body)
            except _WindowClosed:
                log.info("%s: %s outside the window according to WhatsApp", self.name, item.item_ref)
        if self.config.reply_template:
            params = [{"type": "text", "text": str(item.payload.get(key) or "-")}
                      for key in self.config.reply_template_params]
            template: dict[str, Any] = {"name": self.config.reply_template,
                                        "language": {"code": self.config.reply_template_language}}
            if params:
                template["components"] = [{"type": "body", "parameters": params}]
            try:
                return await self._send(wa_id, {"type": "template", "template": template})
            except _WindowClosed as exc:
                raise PermanentDeliveryError("WhatsApp refused the template outside the window") from exc
        templates = (self.ctx.templates if self.ctx and self.ctx.templates else None) or Templates()
        hours = int(self.config.window_hours)
        reason = f"lebih dari {hours} jam sejak pesan terakhir warga dan tidak ada templat pesan yang disetujui"
        raise PermanentDeliveryError(templates("unreachable", channel="WhatsApp", reason=reason))

    async def _send(self, wa_id: str, message: dict[str, Any]) -> Receipt:
        body = {"messaging_product": "whatsapp", "recipient_type": "individual", "to": wa_id, **message}
        try:
            async with self._client().post(self._graph(self.config.phone_number_id, "messages"), json=body,
                                           headers=self._auth()) as resp:
                data = await resp.json(content_type=None)
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            raise RetryableError(f"Graph API unreachable: {type(exc).__name__}") from exc
        if resp.status < 300:  # accepted: an answer without the wamid must not make us send it again
            messages = data.get("messages") if isinstance(data, dict) else None
            wamid = messages[0].get("id") if isinstance(messages, list) and messages and isinstance(
                messages[0], dict) else None
            return Receipt(remote_ref=wamid, detail={"type": message["type"]})
        error = (data.get("error") if isinstance(data, dict) else None) or {}
        code, text = error.get("code"), f"({error.get('code')}) {error.get('message')}"
        if code == WINDOW_CLOSED:
            raise _WindowClosed(text)
        if code in THROTTLED:
            raise RetryableError(f"WhatsApp throughput limit {text}", retry_after=self.config.retry_after)
        if code == 190 or resp.status in (401, 403):
            log.error("%s: the Graph API refused the access token", self.name)
            raise RetryableError(f"WhatsApp access token refused {text}", retry_after=300)
        if resp.status >= 500 or code in TEMPORARY:
            raise RetryableError(f"WhatsApp temporary error {text}")
        raise PermanentDeliveryError(f"WhatsApp refused the message {text}")
