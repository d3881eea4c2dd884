"""Officers' Telegram group (forwarder kind ``telegram``): ticket summaries with Terima / Selesai buttons.

``send`` posts the ``officer_ticket`` summary (ticket ref, kind, location, SLA deadline, reporter
count, PII-masked text) with inline buttons. A background task started in ``start`` long-polls the
officer bot's getUpdates: a button press (callback query) moves the ticket through
``router.delivery.answers.set_status`` (audit event, ``ticket_update`` rows, ``closed`` notices); an officer's
reply to one of the bot's messages becomes the answer through ``router.delivery.answers.record_answer``. Each
update is handled in one transaction with the getUpdates offset, kept in the checkpoint table under
``fw:<forwarder name>`` (a connector may share the name), so a crash repeats no action and loses none.
Only one replica polls at a time (the checkpoint row's lease).
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import socket
import warnings
from datetime import timedelta
from pathlib import Path
from typing import Any, ClassVar, Literal

from pydantic import Field, SecretStr
from sqlalchemy import select
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, ReplyParameters, Update
from telegram.error import BadRequest, ChatMigrated, Forbidden, InvalidToken, RetryAfter, TelegramError
from telegram.request import HTTPXRequest

from omnichannel import attachments
from omnichannel.config import ForwarderConfig
from omnichannel.errors import PermanentDeliveryError, RetryableError
from omnichannel.models import OutboxRow, Ticket
from omnichannel.protocols import PluginContext
from omnichannel.supervisor import acquire_lease, release_lease
from omnichannel.templates import Templates, status_text
from omnichannel.types import OutboxItem, Receipt
from router.delivery.answers import record_answer, set_status
from router.delivery.forwarders.summary import describe_deadline, describe_location
from router.delivery.lapor_sync import moves_forward

log = logging.getLogger(__name__)
TICKET_REF = re.compile(r"\bTIK-\d{4}-\d{6,}\b")
ACTIONS = {"terima": "diterima", "selesai": "selesai"}
MAX_TEXT = 4096
PHOTO_TYPES = frozenset({"image/jpeg", "image/png", "image/webp"})
PHOTO_MAX = 10 * 1024 * 1024  # sendPhoto's upload limit


class TelegramGroupConfig(ForwarderConfig):
    """Settings of the officers' group forwarder."""

    kind: Literal["telegram"] = "telegram"
    token: SecretStr = Field(description="the officer bot's token, as ${VAR}")
    chat_id: int = Field(description="the officers' group (negative id)")
    base_url: str = Field("https://api.telegram.org", description="Bot API server (the sandbox in tests)")
    request_timeout: float = Field(15.0, gt=0)
    handle_updates: bool = Field(True, description="poll getUpdates for button presses and replies")
    long_poll_timeout: float = Field(20.0, ge=0, le=50)
    officers: list[int] | None = Field(None, description="Telegram user ids allowed to act; None = any member")
    summary_chars: int = Field(600, gt=0, description="how much of the (masked) complaint text is shown")
    send_photos: bool = Field(True, description="post a new ticket's photos under its summary (never for an anonymous "
                                                "or confidential complaint)")
    max_photos: int = Field(4, ge=0, le=10, description="photos posted per ticket; the desk has them all")


def _retry_seconds(exc: RetryAfter) -> float:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        value = exc.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


def buttons(ticket: str, status: str = "baru") -> InlineKeyboardMarkup | None:
    """Terima / Selesai while they still move the ticket forward."""
    row = [InlineKeyboardButton(label, callback_data=f"{action}:{ticket}")
           for action, label in (("terima", "Terima"), ("selesai", "Selesai"))
           if moves_forward(status, ACTIONS[action])]
    return InlineKeyboardMarkup([row]) if row else None


class TelegramGroupForwarder:
    """Posts tickets to the officers' group and turns their buttons and replies into ticket actions."""

    kind: ClassVar[str] = "telegram"

    def __init__(self, name: str, config: TelegramGroupConfig) -> None:
        self.name, self.config = name, config
        self.checkpoint_key = f"fw:{name}"[:64]
        self.store: Any = None
        self.app_config: Any = None
        self.templates: Any = Templates()
        self.bot: Bot | None = None
        self.owner = f"{socket.gethostname()}:{os.getpid()}"
        self._task: asyncio.Task[None] | None = None
        self._failures: dict[int, int] = {}
        self.attachments_dir: Path | None = None

    async def start(self, ctx: PluginContext) -> None:
        """Keep the store and config; start the update poller (it connects lazily and retries)."""
        self.store, self.app_config = ctx.extra.get("store"), ctx.extra.get("config")
        self.templates = ctx.templates or Templates(getattr(self.app_config, "templates", None))
        self.attachments_dir = Path(ctx.attachments_dir)
        if self.app_config is not None and self.app_config.daemon.replica_id:
            self.owner = self.app_config.daemon.replica_id
        if self.config.handle_updates and self.store is not None and not ctx.probe_only:
            self._task = asyncio.create_task(self._poll_loop(), name=f"telegram-group:{self.name}")

    async def stop(self) -> None:
        """Stop polling, give the lease up, close the bot; safe twice."""
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
            try:
                await release_lease(self.store, self.checkpoint_key, self.owner)
            except Exception as exc:  # the lease expires by itself
                log.debug("telegram group %s: lease not released: %s", self.name, exc)
        if self.bot is not None:
            await self.bot.shutdown()
            self.bot = None

    async def probe(self) -> str:
        """getMe and getChat of the group."""
        bot = await self._ensure_bot()
        chat = await bot.get_chat(self.config.chat_id)
        return f"Telegram bot @{bot.username} in {chat.title or chat.id}"

    async def _ensure_bot(self) -> Bot:
        if self.bot is None:
            base, t = self.config.base_url.rstrip("/"), self.config.request_timeout
            bot = Bot(self.config.token.get_secret_value(), base_url=f"{base}/bot",
                      request=HTTPXRequest(connection_pool_size=8, connect_timeout=t, read_timeout=t,
                                           write_timeout=t, pool_timeout=t),
                      get_updates_request=HTTPXRequest(connect_timeout=t, read_timeout=t, write_timeout=t,
                                                       pool_timeout=t))
            await bot.initialize()
            self.bot = bot
        return self.bot

    # -- sending --------------------------------------------------------------------------------
    def render(self, item: OutboxItem) -> tuple[str, InlineKeyboardMarkup | None]:
        """The group message for one outbox item."""
        p = item.payload
        if item.item_type == "ticket":
            summary = (p.get("text_masked") or p.get("subject") or "").strip()
            if len(summary) > self.config.summary_chars:
                summary = summary[: self.config.summary_chars].rstrip() + "…"
            text = self.templates("officer_ticket", ticket=p.get("ticket"), kind=p.get("kind") or "-",
                                  agency=p.get("agency_name") or p.get("agency") or "-",
                                  location=describe_location(p.get("location")) or "-",
                                  reporters=p.get("reporters", 1), sla_due=describe_deadline(p.get("sla_due")),
                                  summary=summary)
            return text, buttons(p.get("ticket") or item.item_ref)
        if item.item_type == "ticket_update":
            status = p.get("status") or "baru"
            return self.templates("officer_ticket_update", ticket=p.get("ticket"), status_text=status_text(status),
                                  reporters=p.get("reporters", "-"), note=p.get("note") or "").strip(), None
        text = p.get("text") or p.get("subject")
        if not text:
            raise PermanentDeliveryError(f"{item.item_type} item {item.item_ref} has no text")
        return str(text), None

    async def send(self, item: OutboxItem, idempotency_key: str) -> Receipt:
        """Post to the group; the receipt is ``<chat id>:<message id>`` (used to find replies' tickets)."""
        text, markup = self.render(item)
        try:
            bot = await self._ensure_bot()
            message = await bot.send_message(self.config.chat_id, text[:MAX_TEXT], reply_markup=markup)
        except RetryAfter as exc:
            raise RetryableError("Telegram flood control", retry_after=_retry_seconds(exc)) from exc
        except ChatMigrated as exc:
            raise PermanentDeliveryError(f"the group became a supergroup: set chat_id to {exc.new_chat_id}") from exc
        except (Forbidden, BadRequest) as exc:
            raise PermanentDeliveryError(f"Telegram refused the group message: {exc.message}") from exc
        except InvalidToken as exc:
            raise RetryableError("Telegram refused the officer bot's token", retry_after=300) from exc
        except TelegramError as exc:
            raise RetryableError(f"Telegram: {type(exc).__name__}: {exc.message}") from exc
        log.info("telegram group %s: posted %s (%s)", self.name, item.item_ref, idempotency_key)
        await self._photos(bot, item, message.message_id)
        return Receipt(remote_ref=f"{self.config.chat_id}:{message.message_id}")

    async def _photos(self, bot: Bot, item: OutboxItem, summary_id: int) -> None:
        """A new ticket's photos as replies to its summary. Best effort: the summary is delivered already, so a
        photo Telegram refuses is logged, not retried (a retry would post the summary twice)."""
        p = item.payload
        if (item.item_type != "ticket" or not self.config.send_photos or p.get("anonymous") or p.get("confidential")
                or self.attachments_dir is None):
            return
        photos = [a for a in p.get("attachments") or [] if isinstance(a, dict)
                  and a.get("content_type") in PHOTO_TYPES and (a.get("size") or 0) <= PHOTO_MAX]
        for att in photos[:self.config.max_photos]:
            path = attachments.resolve(self.attachments_dir, att.get("path"))
            if path is None:
                continue
            try:
                await bot.send_photo(self.config.chat_id, await asyncio.to_thread(path.read_bytes),
                                     caption=f"{p.get('ticket')}: foto dari pelapor",
                                     reply_parameters=ReplyParameters(message_id=summary_id,
                                                                      allow_sending_without_reply=True))
            except TelegramError as exc:
                log.warning("telegram group %s: photo of %s not posted: %s", self.name, item.item_ref,
                            type(exc).__name__)
                return

    # -- updates from the group -----------------------------------------------------------------
    async def _poll_loop(self) -> None:
        cfg, delay, failing = self.config, 1.0, False
        lease_ttl = self.app_config.daemon.lease_ttl if self.app_config is not None else 30.0
        while True:
            try:
                if not await acquire_lease(self.store, self.checkpoint_key, self.owner, lease_ttl):
                    await asyncio.sleep(lease_ttl / 3)
                    continue
                bot = await self._ensure_bot()
                offset = ((await self.store.load_checkpoint(self.checkpoint_key)) or {}).get("offset")
                updates = await bot.get_updates(offset=offset, timeout=int(cfg.long_poll_timeout),
                                                allowed_updates=["message", "callback_query"])
                for update in updates:
                    await self.handle(update)
                if failing:
                    log.info("telegram group %s: getUpdates recovered", self.name)
                failing, delay = False, 1.0
            except asyncio.CancelledError:
                raise
            except RetryAfter as exc:
                await asyncio.sleep(_retry_seconds(exc))
            except Exception as exc:  # keep polling whatever happens; log on transitions only
                if not failing:
                    log.warning("telegram group %s: update polling failing: %s: %s", self.name,
                                type(exc).__name__, exc)
                failing = True
                await asyncio.sleep(delay)
                delay = min(60.0, delay * 2)

    async def handle(self, update: Update) -> None:
        """Act on one update and store the next offset in the same transaction; reply to the group after."""
        after: list[tuple[str, dict[str, Any]]] = []
        try:
            async with self.store.session() as session:
                if update.callback_query is not None:
                    after = await self._button(session, update)
                elif update.message is not None:
                    after = await self._reply(session, update)
                await self.store.save_checkpoint(session, self.checkpoint_key, {"offset": update.update_id + 1})
                await session.commit()
        except Exception:
            n = self._failures[update.update_id] = self._failures.get(update.update_id, 0) + 1
            if n < 5:
                raise
            log.exception("telegram group %s: update %d failed %d times; skipped", self.name, update.update_id, n)
            async with self.store.session() as session:
                await self.store.save_checkpoint(session, self.checkpoint_key, {"offset": update.update_id + 1})
                await session.commit()
        self._failures.pop(update.update_id, None)
        bot = await self._ensure_bot()
        for method, kwargs in after:  # best effort: the ticket change is already committed
            try:
                await getattr(bot, method)(**kwargs)
            except TelegramError as exc:
                log.debug("telegram group %s: %s after update %d failed: %s", self.name, method,
                          update.update_id, exc)

    def _allowed(self, user_id: int | None, chat_id: int | None) -> bool:
        officers = self.config.officers
        return chat_id == self.config.chat_id and (officers is None or user_id in officers)

    async def _ticket(self, session: Any, ref: str) -> Ticket | None:
        ticket = (await session.exec(select(Ticket).where(Ticket.ref == ref))).scalars().first()
        if ticket is None or not ("*" in self.config.agencies or ticket.agency in self.config.agencies):
            return None  # an agency's group acts only on its own tickets
        return ticket

    async def _button(self, session: Any, update: Update) -> list[tuple[str, dict[str, Any]]]:
        query = update.callback_query
        assert query is not None
        action, _, ref = (query.data or "").partition(":")
        message = query.message
        chat_id = message.chat.id if message is not None else None
        ticket = await self._ticket(session, ref) if action in ACTIONS else None
        if ticket is None or not self._allowed(query.from_user.id, chat_id):
            text = self.templates("officer_not_allowed", ticket=ref or "-")
            return [("answer_callback_query", {"callback_query_id": query.id, "text": text, "show_alert": True})]
        officer = f"@{query.from_user.username}" if query.from_user.username else query.from_user.full_name
        target = ACTIONS[action]
        if moves_forward(ticket.status, target):
            await set_status(session, ticket, target, None, f"telegram:{query.from_user.id}", self.app_config,
                             self.templates)
            log.info("telegram group %s: %s → %s by officer %s", self.name, ticket.ref, target, query.from_user.id)
        text = self.templates("officer_status_changed", ticket=ticket.ref, status_text=status_text(ticket.status),
                              officer=officer)
        after: list[tuple[str, dict[str, Any]]] = [
            ("answer_callback_query", {"callback_query_id": query.id, "text": text})]
        if message is not None and getattr(message, "text", None):
            after.append(("edit_message_text", {
                "chat_id": chat_id, "message_id": message.message_id, "text": f"{message.text}\n\n✅ {text}"[:MAX_TEXT],
                "reply_markup": buttons(ticket.ref, ticket.status)}))
        return after

    async def _reply(self, session: Any, update: Update) -> list[tuple[str, dict[str, Any]]]:
        message = update.message
        assert message is not None
        original = message.reply_to_message
        bot = await self._ensure_bot()
        if (original is None or not message.text or original.from_user is None
                or original.from_user.id != bot.id or message.from_user is None):
            return []  # ordinary group chatter
        if not self._allowed(message.from_user.id, message.chat.id):
            return []
        ref = await self._ticket_of(session, f"{message.chat.id}:{original.message_id}", original.text or "")
        ticket = await self._ticket(session, ref) if ref else None
        if ticket is None:
            return []
        replies = await record_answer(session, ticket, message.text, f"telegram:{message.from_user.id}",
                                      self.app_config, self.templates)
        log.info("telegram group %s: answer on %s by officer %s, %d replies queued", self.name, ticket.ref,
                 message.from_user.id, replies)
        text = self.templates("officer_answer_recorded", ticket=ticket.ref, replies=replies)
        return [("send_message", {"chat_id": message.chat.id, "text": text,
                                  "reply_parameters": ReplyParameters(message.message_id,
                                                                      allow_sending_without_reply=True)})]

    async def _ticket_of(self, session: Any, remote_ref: str, text: str) -> str | None:
        """The ticket a group message is about: from our outbox receipt, else the ref in its text."""
        q = select(OutboxRow.item_ref).where(OutboxRow.destination == self.name, OutboxRow.remote_ref == remote_ref)
        item_ref = (await session.exec(q)).scalars().first()
        if item_ref:
            return item_ref.split("#", 1)[0]
        found = TICKET_REF.search(text)
        return found.group(0) if found else None
