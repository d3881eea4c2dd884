"""What the Facebook Page and Instagram connectors share: signed webhooks, catch-up, attachments, parking.

Push first: Meta posts every direct message, comment and mention to our webhook, signed with the app
secret; we store it and only then answer 200 (Meta redelivers anything else, the ids absorb repeats).
Pull second: ``poll`` is the catch-up that reads, through the Graph API, the conversations and comments
that arrived while the daemon was down, from a checkpoint stored with what it returns. A Graph error
190 (expired token) parks the connector: polls raise ``AuthError`` (the supervisor parks it and says so
in ``/readyz``), replies wait in the outbox; signed webhooks are still stored, nothing is lost.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar

from aiohttp import web
from sqlalchemy import select

from connectors.meta import catchup, reply
from connectors.meta.comments import fill_mention
from connectors.meta.config import MetaConfig
from connectors.meta.graph import Graph, TokenRefusedError
from connectors.meta.parse import Lookup, MediaRef, Parsed, filename, parse_payload
from connectors.meta.webhook import (
    SIGNATURE_HEADER,
    handshake,
    load_object,
    openapi_paths,
    read_body,
    signature_ok,
)
from omnichannel.attachments import keep_async
from omnichannel.errors import AuthError, OmnichannelError
from omnichannel.protocols import PluginContext
from omnichannel.types import Attachment, Batch, Envelope, IngestResult, OutboxItem, Receipt

log = logging.getLogger(__name__)


class MetaConnector:
    """Webhook intake plus Graph API catch-up and replies; subclassed once per platform."""

    kind: ClassVar[str]
    webhook_object: ClassVar[str]   # the ``object`` of this platform's deliveries
    platform: ClassVar[str]         # how citizens and officers call the channel
    text_limit: ClassVar[int]       # longest text one message may carry

    def __init__(self, name: str, config: MetaConfig) -> None:
        self.name, self.config = name, config
        self.ctx: PluginContext | None = None
        self.graph = Graph(config.graph_base_url, config.graph_version, config.access_token.get_secret_value(),
                           config.request_timeout, config.retry_after)
        self.parked: str | None = None
        self.last_inbound: dict[str, datetime] = {}
        self.since: float = 0.0
        self.seen: set[str] = set()

    # -- platform specifics (subclasses) ------------------------------------------------------------
    @property
    def account_id(self) -> str:
        """The id Meta puts in ``entry.id`` of this platform's deliveries."""
        return self.config.page_id

    async def describe(self) -> str:
        """Read the account with the token (``probe``)."""
        raise NotImplementedError

    async def recent_comments(self, since: float) -> list[tuple[float, str, dict[str, Any]]]:
        """Comments since ``since`` on recent posts or media, as (time, id, webhook change)."""
        raise NotImplementedError

    async def public_reply(self, origin: dict[str, Any], text: str) -> str:
        """Post ``text`` under the comment (or reply to the mention) publicly, once; returns its id."""
        raise NotImplementedError

    async def read_mention(self, lookup: Lookup) -> dict[str, Any]:
        """The comment or caption a mention points at."""
        raise NotImplementedError

    required_fields: ClassVar[frozenset[str]] = frozenset()

    # -- lifecycle --------------------------------------------------------------------------------
    @classmethod
    def reparse(cls, raw: bytes, external_id: str) -> Envelope:
        """Parse a stored one-event payload again (``omnichannel quarantine retry``)."""
        try:
            parsed = parse_payload(load_object(raw), cls.webhook_object)
        except ValueError as exc:
            return Envelope(external_id=external_id, raw=raw, error=f"malformed webhook body: {exc}")
        index = next((i for i, e in enumerate(parsed.envelopes) if e.external_id == external_id), None)
        if index is None:
            return Envelope(external_id=external_id, raw=raw, error="no event with that id in the stored payload")
        if any(lookup.index == index for lookup in parsed.lookups):  # its text is only in the Graph API
            return Envelope(external_id=external_id, raw=raw, error="a mention is read through the Graph API, "
                            "which a re-parse cannot do: ask Meta to redeliver it, or read it on the platform")
        return parsed.envelopes[index]

    @property
    def path(self) -> str:
        """The webhook route."""
        return self.config.path or f"/webhooks/{self.kind}/{self.name}"

    def attach(self, ctx: PluginContext) -> None:
        """Serve webhooks and replies with ``ctx`` before ``start``: the daemon starts a pull connector at its
        first poll, and only on the replica holding its lease; the intake must not wait for either."""
        if self.ctx is None:
            self.ctx = ctx
        if not self.config.app_secret.get_secret_value():
            log.error("%s: app_secret is empty: every webhook delivery will be refused", self.name)

    async def start(self, ctx: PluginContext, checkpoint: dict[str, Any] | None) -> None:
        """Remember the context and where catch-up resumes; the HTTP client opens on first use."""
        self.ctx = ctx
        catchup.resume(self, checkpoint)

    async def stop(self) -> None:
        """Close the HTTP client. Safe to call twice."""
        await self.graph.close()

    async def probe(self) -> str:
        """Check the token and that the Page's webhook subscription has the fields we need."""
        try:
            who = await self.describe()
            answer = await self.graph.get(f"{self.config.page_id}/subscribed_apps")
        finally:
            if self.ctx is None:  # ``check --connect`` never starts the connector
                await self.graph.close()
        fields = {f for app in answer.get("data") or [] for f in app.get("subscribed_fields") or []}
        missing = sorted(self.required_fields - fields)
        if missing:
            raise OmnichannelError(f"{who}: the Page's webhook subscription lacks {', '.join(missing)} "
                                   f"(POST /{self.config.page_id}/subscribed_apps?subscribed_fields=...)")
        return f"{who}; webhook fields: {', '.join(sorted(fields)) or 'none'}"

    def park(self, exc: Exception) -> None:
        """Remember that the token was refused: polls raise AuthError, replies wait (logged once)."""
        if self.parked is None:
            log.error("%s: the Graph API refused the access token (%s); replies wait and catch-up stops "
                      "until the token is renewed", self.name, exc)
        self.parked = str(exc)

    def routes(self) -> list[web.RouteDef]:
        """GET for Meta's verification handshake, POST for deliveries."""
        return [web.get(self.path, self.handle_verify), web.post(self.path, self.handle_post)]

    def openapi(self) -> dict[str, Any]:
        """The routes above as OpenAPI path items."""
        return openapi_paths(self.path, f"{self.kind.capitalize()} ({self.name})", self.config.max_body_bytes)

    # -- webhook ----------------------------------------------------------------------------------
    async def handle_verify(self, request: web.Request) -> web.Response:
        """Echo ``hub.challenge`` to a subscribe request with our verify token."""
        return handshake(request, self.config.verify_token.get_secret_value())

    async def handle_post(self, request: web.Request) -> web.Response:
        """Verify the signature over the raw body, store everything, answer 200 after the commit."""
        if self.ctx is None or self.ctx.submit is None:
            return web.json_response({"error": "not started"}, status=503)
        body = await read_body(request, self.config.max_body_bytes)
        if body is None:
            return web.json_response({"error": f"body larger than {self.config.max_body_bytes} bytes"}, status=413)
        if not signature_ok(self.config.app_secret.get_secret_value(), request.headers.get(SIGNATURE_HEADER), body):
            log.warning("%s: delivery with a missing or wrong %s refused", self.name, SIGNATURE_HEADER)
            return web.json_response({"error": "missing or invalid signature"}, status=401)
        try:
            parsed = parse_payload(load_object(body), self.webhook_object)
        except ValueError as exc:  # signed but unreadable: keep it whole in quarantine
            parsed = Parsed([Envelope(external_id=f"body:{hashlib.sha256(body).hexdigest()[:40]}", raw=body,
                                      error=f"malformed webhook body: {exc}")])
        await self.complete(parsed)
        for env in parsed.envelopes:
            if env.origin.get("type") == "message" and env.sender is not None:
                seen = self.last_inbound.get(env.sender.id)
                self.last_inbound[env.sender.id] = max(env.received_at, seen) if seen else env.received_at
        result = await self.ctx.submit(Batch(parsed.envelopes))
        await self.mark(parsed.marks)
        for env, item in zip(parsed.envelopes, result.items, strict=False):
            log.debug("%s %s stored as %s (new: %s)", self.name, env.external_id, item.outcome, item.new)
        return web.json_response({"received": len(parsed.envelopes), "new": result.new})

    async def complete(self, parsed: Parsed) -> None:
        """Read the mentions the delivery only points at, and download its attachments."""
        for lookup in parsed.lookups:
            env = parsed.envelopes[lookup.index]
            try:
                fill_mention(env, await self.read_mention(lookup))
            except TokenRefusedError as exc:
                self.park(exc)
                env.error = f"mention could not be read: {exc}"
            except OmnichannelError as exc:  # kept whole in quarantine, with the reason
                env.error = f"mention could not be read: {exc}"
        await asyncio.gather(*(self._fetch(ref, parsed.envelopes[ref.index]) for ref in parsed.media))

    async def _fetch(self, ref: MediaRef, env: Envelope) -> None:
        """Download an attachment within the size limit and save it by content hash."""
        att = Attachment(filename=ref.filename)
        env.attachments.append(att)
        if not self.config.download_media:
            att.skipped_reason = "downloads disabled"
            return
        data, content_type, reason = await self.graph.download(ref.url, self.config.max_media_bytes)
        att.content_type = content_type or att.content_type
        att.filename = filename(ref, att.content_type)
        if data is None:
            att.skipped_reason = reason
            log.warning("%s %s: attachment not fetched: %s", self.name, env.external_id, reason)
            return
        assert self.ctx is not None
        kept = await keep_async(data, att.filename, att.content_type, root=Path(self.ctx.attachments_dir),
                                max_bytes=self.config.max_media_bytes)
        att.size, att.sha256, att.content_type = kept.size, kept.sha256, kept.content_type
        att.path, att.skipped_reason = kept.path, kept.skipped_reason

    async def mark(self, marks: list[tuple[str, dict[str, Any]]]) -> None:
        """Note an edit, deletion or hiding on the stored envelope (its content is kept as it was)."""
        store = self.ctx.extra.get("store") if self.ctx else None
        if not marks or store is None:
            return
        from omnichannel.models import EnvelopeRow

        async with store.session() as session:
            for external_id, note in marks:
                q = select(EnvelopeRow).where(EnvelopeRow.connector == self.name,
                                              EnvelopeRow.external_id == external_id)
                row = (await session.exec(q)).scalars().first()
                if row is not None:
                    row.meta = {**(row.meta or {}), **note}
                    session.add(row)
            await session.commit()

    # -- catch-up (pull) --------------------------------------------------------------------------
    async def poll(self) -> Batch:
        """What arrived since the checkpoint and was not delivered by webhook (absorbed if it was)."""
        if self.parked:
            raise AuthError(f"{self.name} parked: {self.parked}")
        if not self.config.catch_up:
            return Batch(next_poll_in=self.config.poll_interval)
        try:
            return await catchup.poll(self)
        except TokenRefusedError as exc:
            self.park(exc)
            raise

    async def ack(self, batch: Batch, result: IngestResult) -> None:
        """Nothing to acknowledge on Meta's side; the committed checkpoint becomes the position."""
        if batch.ack_token is not None:
            self.since, self.seen = batch.ack_token

    # -- replies ----------------------------------------------------------------------------------
    async def last_seen(self, user_id: str) -> datetime | None:
        """When this citizen last sent us a direct message (the store knows across restarts)."""
        seen = [self.last_inbound[user_id]] if user_id in self.last_inbound else []
        store = self.ctx.extra.get("store") if self.ctx else None
        if store is not None:
            from omnichannel.models import EnvelopeRow

            async with store.session() as session:
                q = (select(EnvelopeRow.received_at, EnvelopeRow.origin)
                     .where(EnvelopeRow.connector == self.name, EnvelopeRow.sender_id == user_id)
                     .order_by(EnvelopeRow.received_at.desc()).limit(50))
                for at, origin in (await session.exec(q)).all():
                    if (origin or {}).get("type") == "message":
                        seen.append(at if at.tzinfo else at.replace(tzinfo=UTC))
                        break
        return max(seen) if seen else None

    async def link(self, author_id: str | None, recipient_id: str | None) -> None:
        """Meta answers a private reply with the commenter's messaging id, which may differ from the comment's
        ``from.id`` (Facebook): record it as another identity of the same reporter, so the citizen's answer in
        Messenger joins them and later replies can reach them there."""
        store = self.ctx.extra.get("store") if self.ctx else None
        if store is None or not author_id or not recipient_id or author_id == recipient_id:
            return
        from omnichannel.models import Identity

        async with store.session() as session:
            q = select(Identity.reporter_id).where(Identity.channel == self.kind, Identity.address == author_id)
            reporter = (await session.exec(q)).scalars().first()
            if reporter is not None:
                await session.exec(store.insert(Identity).values(
                    channel=self.kind, address=recipient_id, reporter_id=reporter, linked_by="private_reply",
                    created_at=datetime.now(UTC)).on_conflict_do_nothing(index_elements=["channel", "address"]))
                await session.commit()

    async def messaging_ids(self, user_id: str) -> list[str]:
        """``user_id`` and the reporter's other ids on this platform (e.g. the PSID a private reply revealed)."""
        store = self.ctx.extra.get("store") if self.ctx else None
        if store is None:
            return [user_id]
        from omnichannel.models import Identity

        async with store.session() as session:
            mine = select(Identity.reporter_id).where(Identity.channel == self.kind, Identity.address == user_id)
            q = select(Identity.address).where(Identity.channel == self.kind, Identity.reporter_id.in_(mine))
            others = [a for a in (await session.exec(q)).scalars() if a != user_id]
        return [user_id, *others]

    async def reply(self, item: OutboxItem, idempotency_key: str) -> Receipt:
        """Answer on the thread the citizen used: a direct message, or a public plus a private reply."""
        return await reply.answer(self, item)
