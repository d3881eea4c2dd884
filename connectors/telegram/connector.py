"""Telegram connector (kind ``telegram``): our own getUpdates loop, webhook mode, replies, chat commands.

The position is the checkpoint ``{"offset", "seen_at"}`` stored with each batch. Telegram forgets
an update once getUpdates is called with a higher offset, so the new offset is handed to Telegram
only after the commit: ``ack`` moves it into the next getUpdates (and ``stop`` sends it once more).
A crash between the commit and that call redelivers the batch; the unique key absorbs it. We do
not use PTB's ``Updater``: it confirms updates when they are queued, not when they are stored.
"""

from __future__ import annotations

import hmac
import json
import logging
import time
import warnings
from datetime import timedelta
from pathlib import Path
from typing import Any, ClassVar

from aiohttp import web
from telegram import Bot, ReplyParameters
from telegram.error import (
    BadRequest,
    EndPointNotFound,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
)
from telegram.request import HTTPXRequest

from connectors.telegram.commands import command_answer
from connectors.telegram.config import TelegramConfig
from connectors.telegram.parse import FileRef, Parsed, parse_update
from omnichannel.attachments import keep_async
from omnichannel.errors import AuthError, PermanentDeliveryError, RetryableError
from omnichannel.protocols import PluginContext
from omnichannel.redact import register, scrub
from omnichannel.templates import Templates
from omnichannel.types import Attachment, Batch, Envelope, IngestResult, OutboxItem, Receipt
from omnichannel.web.body import BodyError, header_bytes, parse_json, read_body

log = logging.getLogger(__name__)
# getUpdates goes through do_api_request to get the update JSON as Telegram sent it; Bot API method
# names are case-insensitive, and the lower-case name keeps PTB from suggesting Bot.get_updates
GET_UPDATES = "getupdates"
STALE_OFFSET = 6 * 86400  # after a week without updates Telegram may restart update_id lower
MAX_TEXT = 4096
MAX_UPDATE_BYTES = 1_048_576  # a webhook update is a few KB; files come by getFile


def update_json(update: dict[str, Any]) -> str:
    """The update as JSON text that UTF-8 can hold: a lone surrogate stays escaped, as Telegram sent it."""
    text = json.dumps(update, ensure_ascii=False)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return json.dumps(update)
    return text


def retry_seconds(exc: RetryAfter) -> float:
    """``RetryAfter.retry_after`` in seconds (an int or a timedelta depending on PTB settings)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        value = exc.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


def translate(exc: TelegramError, what: str) -> Exception:
    """A PTB error as one of ours."""
    message = scrub(exc.message)  # PTB's InvalidToken says "The token `<token>` was rejected"
    if isinstance(exc, (InvalidToken, Forbidden, EndPointNotFound)):  # 401/404 after getMe: token revoked
        return AuthError(f"{what}: Telegram refused the bot token ({message})")
    if isinstance(exc, RetryAfter):
        return RetryableError(f"{what}: flood control", retry_after=retry_seconds(exc))
    return RetryableError(f"{what}: {type(exc).__name__}: {message}")


class TelegramConnector:
    """Pull connector (getUpdates) with an optional webhook route; also answers citizens (Replier)."""

    kind: ClassVar[str] = "telegram"

    def __init__(self, name: str, config: TelegramConfig) -> None:
        self.name, self.config = name, config
        register(config.token, config.webhook_secret)  # scrubbed from every message that leaves
        self.ctx: PluginContext | None = None
        self.bot: Bot | None = None
        self._offset: int | None = None
        self._seen_at: float | None = None
        self._sent_offset: int | None = None

    @classmethod
    def reparse(cls, raw: bytes, external_id: str) -> Envelope:
        """Parse a stored update again (``omnichannel quarantine retry``); files are not fetched."""
        text = raw.decode("utf-8", "surrogatepass")
        return parse_update(json.loads(text), text).envelope

    # -- lifecycle --------------------------------------------------------------------------------
    def _templates(self) -> Any:
        return (self.ctx.templates if self.ctx and self.ctx.templates else None) or Templates()

    async def _ensure_bot(self) -> Bot:
        if self.bot is None:
            base, timeout = self.config.base_url.rstrip("/"), self.config.request_timeout
            bot = Bot(self.config.token.get_secret_value(), base_url=f"{base}/bot", base_file_url=f"{base}/file/bot",
                      request=HTTPXRequest(connection_pool_size=8, connect_timeout=timeout, read_timeout=timeout,
                                           write_timeout=timeout, pool_timeout=timeout),
                      get_updates_request=HTTPXRequest(connect_timeout=timeout, read_timeout=timeout,
                                                       write_timeout=timeout, pool_timeout=timeout))
            try:
                await bot.initialize()  # getMe: checks the token
            except TelegramError as exc:
                raise translate(exc, f"{self.name}: getMe") from exc
            self.bot = bot
        return self.bot

    async def start(self, ctx: PluginContext, checkpoint: dict[str, Any] | None) -> None:
        """Check the token; resume after the stored offset; set or clear the webhook as configured."""
        self.ctx = ctx
        checkpoint = checkpoint or {}
        fresh = time.time() - float(checkpoint.get("seen_at") or 0) < STALE_OFFSET
        self._offset = int(checkpoint["offset"]) if checkpoint.get("offset") and fresh else None
        self._seen_at = float(checkpoint["seen_at"]) if fresh and checkpoint.get("seen_at") else None
        self._sent_offset = None
        bot = await self._ensure_bot()
        try:
            if self.config.mode == "webhook" and self.config.webhook_url:
                secret = self.config.webhook_secret.get_secret_value() if self.config.webhook_secret else None
                await bot.set_webhook(self.config.webhook_url, secret_token=secret,
                                      allowed_updates=self.config.allowed_updates)
            elif self.config.mode == "polling":
                await bot.delete_webhook(drop_pending_updates=False)  # getUpdates answers 409 while one is set
        except TelegramError as exc:
            raise translate(exc, f"{self.name}: webhook setup") from exc
        log.info("%s started in %s mode (offset %s)", self.name, self.config.mode, self._offset)

    async def stop(self) -> None:
        """Confirm what was acknowledged, then close the HTTP clients. Safe to call twice."""
        bot, self.bot = self.bot, None
        if bot is None:
            return
        if self._offset is not None and self._offset != self._sent_offset:
            try:
                await bot.do_api_request(GET_UPDATES, api_kwargs={"offset": self._offset, "limit": 1, "timeout": 0})
            except TelegramError as exc:
                log.debug("%s: final confirmation failed: %r", self.name, exc)
        try:
            await bot.shutdown()
        except TelegramError as exc:
            log.debug("%s: shutdown: %r", self.name, exc)

    async def probe(self) -> str:
        """getMe with the configured token."""
        bot = await self._ensure_bot()
        return f"telegram bot @{bot.username} at {self.config.base_url} ({self.config.mode} mode)"

    # -- polling ----------------------------------------------------------------------------------
    async def poll(self) -> Batch:
        """One getUpdates call (long poll); a 429 becomes an empty batch with ``next_poll_in``."""
        if self.config.mode == "webhook":
            return Batch()
        bot = await self._ensure_bot()
        kwargs: dict[str, Any] = {"limit": self.config.batch_size, "timeout": int(self.config.long_poll_timeout),
                                  "allowed_updates": self.config.allowed_updates}
        if self._seen_at is not None and time.time() - self._seen_at > STALE_OFFSET:
            self._offset = None  # confirmed long ago; an old offset could hide restarted update ids
        if self._offset is not None:
            kwargs["offset"] = self._offset
        try:
            updates = await bot.do_api_request(
                GET_UPDATES, api_kwargs=kwargs,
                read_timeout=self.config.long_poll_timeout + self.config.request_timeout)
            self._sent_offset = self._offset
            if not updates:
                return Batch()
            parsed = [parse_update(u, update_json(u), private_only=self.config.private_only)
                      for u in updates]
            for item in parsed:
                await self._materialise(item)
        except RetryAfter as exc:
            delay = retry_seconds(exc)
            log.info("%s: Telegram flood control, next poll in %.0fs", self.name, delay)
            return Batch(next_poll_in=delay)
        except TelegramError as exc:
            raise translate(exc, f"{self.name}: getUpdates") from exc
        offset = max(int(u["update_id"]) for u in updates) + 1
        for item in parsed:
            log.debug("%s fetched %s", self.name, item.envelope.external_id)
        return Batch([p.envelope for p in parsed], checkpoint={"offset": offset, "seen_at": int(time.time())},
                     ack_token=(offset, parsed))

    async def ack(self, batch: Batch, result: IngestResult) -> None:
        """After the commit: the next getUpdates carries the new offset; answer the stored commands."""
        if batch.ack_token is None:
            return
        offset, parsed = batch.ack_token
        self._offset, self._seen_at = offset, time.time()
        await self._answer_commands(parsed, result)

    # -- webhook mode -----------------------------------------------------------------------------
    def routes(self) -> list[web.RouteDef]:
        """The webhook route in webhook mode; nothing in polling mode."""
        if self.config.mode != "webhook":
            return []
        return [web.post(self.config.webhook_path or f"/webhooks/telegram/{self.name}", self.handle_webhook)]

    def openapi(self) -> dict[str, Any]:
        """The webhook route as an OpenAPI path item (webhook mode only)."""
        if self.config.mode != "webhook":
            return {}
        from omnichannel.web.openapi import problems

        path = self.config.webhook_path or f"/webhooks/telegram/{self.name}"
        return {path: {"post": {
            "summary": f"Telegram ({self.name}): a Bot API update, stored before it is answered 200 (Telegram "
                       "redelivers anything else)", "tags": ["webhooks"], "security": [],
            "parameters": [{"name": "X-Telegram-Bot-Api-Secret-Token", "in": "header", "required": True,
                            "schema": {"type": "string"}, "description": "the connector's webhook_secret"}],
            "requestBody": {"required": True, "content": {"application/json": {"schema": {
                "type": "object", "description": "a Telegram Update (update_id, message, ...)"}}}},
            "responses": {"200": {"description": "stored", "content": {"application/json": {"schema": {
                "type": "object"}}}}, **problems(400, 401, 408, 413, 422, 503, words={
                    401: "missing or wrong secret token", 422: "malformed update: not a JSON number, or too deep",
                    503: "not started, or Telegram's flood control while fetching a file (Retry-After)"})}}}}

    async def handle_webhook(self, request: web.Request) -> web.Response:
        """Verify the secret header, store the update, answer 200 only after the commit."""
        if self.ctx is None or self.ctx.submit is None or self.config.webhook_secret is None:
            return web.json_response({"error": "not started"}, status=503)
        given = header_bytes(request, "X-Telegram-Bot-Api-Secret-Token")
        if not hmac.compare_digest(given, self.config.webhook_secret.get_secret_value().encode()):
            return web.json_response({"error": "missing or wrong secret token"}, status=401)
        try:
            body = await read_body(request, MAX_UPDATE_BYTES)
            update = parse_json(body)  # UTF-8 only (a UTF-16 body is 400), no NaN, bounded depth
        except BodyError as exc:
            return web.json_response({"error": f"malformed update: {exc.reason}"}, status=exc.status)
        if not isinstance(update, dict):
            return web.json_response({"error": "malformed update: not an object"}, status=400)
        parsed = parse_update(update, body.decode("utf-8"), private_only=self.config.private_only)
        try:
            await self._materialise(parsed)
        except RetryAfter as exc:  # Telegram redelivers after a non-2xx answer
            return web.json_response({"error": "flood control"}, status=503,
                                     headers={"Retry-After": str(int(retry_seconds(exc)))})
        result = await self.ctx.submit(Batch([parsed.envelope]))
        await self._answer_commands([parsed], result)
        return web.json_response({})

    # -- files ------------------------------------------------------------------------------------
    async def _materialise(self, parsed: Parsed) -> None:
        for ref in parsed.files:
            parsed.envelope.attachments.append(await self._fetch(ref, parsed.envelope.external_id))

    async def _fetch(self, ref: FileRef, external_id: str) -> Attachment:
        limit = self.config.max_file_bytes
        fitting = [(fid, size) for fid, size in ref.choices if size is None or size <= limit]
        largest = ref.choices[0][1] or 0
        att = Attachment(filename=ref.filename, content_type=ref.content_type, size=largest)
        if not fitting:
            att.skipped_reason = f"larger than {limit} bytes ({largest})"
            return att
        if not self.config.download_files:
            att.skipped_reason = "downloads disabled"
            return att
        file_id, size = fitting[0]
        bot = await self._ensure_bot()
        try:
            remote = await bot.get_file(file_id)
            if remote.file_size and remote.file_size > limit:
                att.skipped_reason = f"larger than {limit} bytes ({remote.file_size})"
                return att
            data = bytes(await remote.download_as_bytearray())
        except RetryAfter:
            raise
        except BadRequest as exc:
            att.skipped_reason = f"not downloadable: {exc.message}"
            return att
        except (NetworkError, TelegramError) as exc:
            att.skipped_reason = f"download failed: {type(exc).__name__}"
            log.warning("%s %s: download failed: %r", self.name, external_id, exc)
            return att
        if len(data) > limit:
            att.skipped_reason = f"larger than {limit} bytes ({len(data)})"
            return att
        assert self.ctx is not None
        return await keep_async(data, ref.filename, ref.content_type, root=Path(self.ctx.attachments_dir),
                                max_bytes=limit)

    # -- answers ----------------------------------------------------------------------------------
    async def _answer_commands(self, parsed: list[Parsed], result: IngestResult) -> None:
        for item, stored in zip(parsed, result.items, strict=False):
            if item.command is not None and stored.new:
                try:
                    text = await command_answer(item.command, self._templates(), self.ctx.status_lookup if self.ctx else None,
                                                self.config.service_name)
                    await self._send(item.command.chat_id, text,
                                     item.command.message_id)
                except (TelegramError, RetryableError, PermanentDeliveryError) as exc:
                    log.warning("%s %s: answer to /%s not sent: %s", self.name, item.envelope.external_id,
                                item.command.name, exc)

    async def _send(self, chat_id: int | str, text: str, reply_to: int | None) -> int:
        bot = await self._ensure_bot()
        first = None
        for start in range(0, len(text), MAX_TEXT):
            quote = ReplyParameters(message_id=reply_to, allow_sending_without_reply=True) \
                if reply_to and first is None else None
            message = await bot.send_message(chat_id, text[start:start + MAX_TEXT], reply_parameters=quote)
            first = first or message.message_id
        assert first is not None
        return first

    async def reply(self, item: OutboxItem, idempotency_key: str) -> Receipt:
        """Answer on the same chat, quoting the citizen's message; the receipt is ``<chat>:<message>``."""
        origin = item.payload.get("origin") or {}
        chat_id, text = origin.get("chat_id"), str(item.payload.get("text") or "")
        if chat_id is None or not text.strip():
            raise PermanentDeliveryError("reply without a Telegram chat id or text")
        try:
            message_id = await self._send(chat_id, text, origin.get("message_id"))
        except RetryAfter as exc:
            raise RetryableError("Telegram flood control", retry_after=retry_seconds(exc)) from exc
        except Forbidden as exc:
            reason = "bot diblokir atau percakapan belum dimulai"
            raise PermanentDeliveryError(self._templates()("unreachable", channel="Telegram", reason=reason)
                                         + f" ({exc.message})") from exc
        except BadRequest as exc:
            raise PermanentDeliveryError(f"Telegram refused the message: {exc.message}") from exc
        except InvalidToken as exc:
            raise RetryableError("Telegram refused the bot token", retry_after=300) from exc
        except TelegramError as exc:
            raise RetryableError(f"Telegram: {type(exc).__name__}: {exc.message}") from exc
        log.info("%s replied to %s (%s)", self.name, item.item_ref, idempotency_key)
        return Receipt(remote_ref=f"{chat_id}:{message_id}")
