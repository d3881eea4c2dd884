"""A local Telegram Bot API for tests, benches and ``omnichannel demo``.

Speaks the wire format of https://core.telegram.org/bots/api: methods under ``/bot<token>/<method>``
(GET or POST; query string, form, multipart or JSON parameters), answers
``{"ok": true, "result": ...}`` or ``{"ok": false, "error_code": N, "description": "..."}``, files
under ``/file/bot<token>/<file_path>``. getUpdates follows the Bot API's confirmation rule: an update
is forgotten once getUpdates is called with an ``offset`` higher than its ``update_id``. With a
webhook set, updates are POSTed one per request with ``X-Telegram-Bot-Api-Secret-Token`` and
getUpdates answers 409. Tests drive it in-process (``say``, ``edit``, ``press``, ``inject``,
``storm``); another process drives it through ``/_sandbox/...`` (see ``omnichannel.sandbox.cli``).
The bot API is at ``{base_url}/bot<token>/`` (python-telegram-bot: ``base_url=sandbox.base_url + "/bot"``).
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import json
import re
import time
from typing import Any

import aiohttp
from aiohttp import web

from omnichannel.sandbox.base import SandboxServer
from omnichannel.sandbox.telegram_traffic import TelegramTraffic

DEFAULT_TOKEN = "123456789:SANDBOX-telegram-token"
MAX_DOWNLOAD = 20 * 1024 * 1024  # getFile serves files up to 20 MB
_SECRET_OK = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
_JSON_PARAMS = {"reply_markup", "allowed_updates", "reply_parameters", "entities", "link_preview_options"}


class BotApiError(Exception):
    """An error answer of the Bot API."""

    def __init__(self, status: int, description: str, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.status, self.description, self.retry_after = status, description, retry_after

    def response(self) -> web.Response:
        """The JSON error body Telegram sends."""
        body: dict[str, Any] = {"ok": False, "error_code": self.status, "description": self.description}
        if self.retry_after is not None:
            body["parameters"] = {"retry_after": self.retry_after}
        return web.json_response(body, status=self.status)


class TelegramSandbox(TelegramTraffic, SandboxServer):
    """In-process fake Bot API server with hooks to inject traffic and failures."""

    client_max_size = 64 * 1024 * 1024
    client_timeout = 10.0  # webhook deliveries

    def __init__(self, token: str = DEFAULT_TOKEN, *, host: str = "127.0.0.1", port: int = 0,
                 username: str = "omni_sandbox_bot", first_update_id: int = 1000,
                 webhook_retry_delay: float = 0.2) -> None:
        super().__init__(host, port)
        self.token = token
        self.bot = {"id": int(token.split(":", 1)[0]) if token.split(":", 1)[0].isdigit() else 1,
                    "is_bot": True, "first_name": "Sandbox", "username": username}
        self.sent: list[dict[str, Any]] = []          # messages the bot sent (sendMessage, sendPhoto)
        self.sent_photos: list[bytes] = []            # the bytes of each sendPhoto upload
        self.edits: list[dict[str, Any]] = []         # editMessageText / editMessageReplyMarkup results
        self.callback_answers: list[dict[str, Any]] = []
        self.calls: list[tuple[str, dict[str, Any]]] = []  # every API call: (method, params)
        self.webhook: dict[str, Any] | None = None
        self.webhook_deliveries = 0
        self.confirmed_below = 0                      # highest offset ever received
        self.blocked: set[int] = set()
        self.webhook_retry_delay = webhook_retry_delay
        self._updates: list[dict[str, Any]] = []
        self._next_update = first_update_id
        self._message_ids: dict[int, itertools.count[int]] = {}
        self._messages: dict[tuple[int, int], dict[str, Any]] = {}
        self._chats: dict[int, dict[str, Any]] = {}
        self._files: dict[str, tuple[bytes, dict[str, Any]]] = {}
        self._callbacks: dict[str, dict[str, Any]] = {}
        self._faults: list[dict[str, Any]] = []
        self._waiters: set[asyncio.Future[None]] = set()
        self._poll_generation = 0
        self._webhook_task: asyncio.Task[None] | None = None

    # -- lifecycle (start, stop, base_url, async with: SandboxServer) ------------------------------
    def routes(self, app: web.Application) -> None:
        """The Bot API, file downloads and ``/_sandbox/telegram/...``."""
        from omnichannel.sandbox.control import telegram_routes

        app.router.add_route("*", "/bot{token}/{method}", self._api)
        app.router.add_get("/file/bot{token}/{path:.+}", self._download)
        app.router.add_routes(telegram_routes(self))

    async def before_stop(self) -> None:
        """Stop the webhook sender before its session closes."""
        await self._stop_webhook()

    # -- traffic (say, edit, press, chat, user, add_file come from TelegramTraffic) -----------
    def inject(self, update: dict[str, Any]) -> int:
        """Queue any update (``update_id`` is assigned); returns its id."""
        update = {"update_id": self._next_update, **{k: v for k, v in update.items() if k != "update_id"}}
        self._next_update += 1
        self._updates.append(update)
        self._wake()
        return update["update_id"]

    def storm(self, count: int, retry_after: int = 1, methods: list[str] | None = None) -> None:
        """The next ``count`` calls (of ``methods``, default all) get 429 Too Many Requests."""
        self.fail(429, f"Too Many Requests: retry after {retry_after}", count=count, methods=methods,
                  retry_after=retry_after)

    def fail(self, status: int, description: str, *, count: int = 1, methods: list[str] | None = None,
             retry_after: int | None = None) -> None:
        """The next ``count`` matching calls fail with ``status`` and ``description``."""
        self._faults.append({"left": count, "status": status, "description": description, "retry_after": retry_after,
                             "methods": {m.lower() for m in methods} if methods else None})

    @property
    def pending(self) -> list[dict[str, Any]]:
        """Updates not yet confirmed."""
        return list(self._updates)

    def message(self, chat_id: int, message_id: int) -> dict[str, Any] | None:
        """A message as it is now (after edits)."""
        return self._messages.get((chat_id, message_id))

    # -- the Bot API ----------------------------------------------------------------------------
    def _wake(self) -> None:
        for waiter in self._waiters:
            if not waiter.done():
                waiter.set_result(None)
        self._waiters.clear()

    async def _wait(self, seconds: float | None) -> None:
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.add(waiter)
        try:
            await asyncio.wait_for(waiter, seconds)
        except TimeoutError:
            pass
        finally:
            self._waiters.discard(waiter)

    async def _params(self, request: web.Request) -> dict[str, Any]:
        params: dict[str, Any] = dict(request.query)
        if request.body_exists:
            if request.content_type == "application/json":
                params.update(await request.json())
            else:
                for key, value in (await request.post()).items():
                    params[key] = value if isinstance(value, str) else value.file.read()
        for key in _JSON_PARAMS & params.keys():
            if isinstance(params[key], str):
                params[key] = json.loads(params[key])
        return params

    async def _api(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return BotApiError(401, "Unauthorized").response()
        method = request.match_info["method"].lower()
        try:
            params = await self._params(request)
        except (ValueError, json.JSONDecodeError):
            return BotApiError(400, "Bad Request: can't parse parameters").response()
        self.calls.append((method, params))
        try:
            self._inject_fault(method)
            handler = getattr(self, f"_m_{method}", None)
            if handler is None:
                raise BotApiError(404, "Not Found")
            result = await handler(params)
        except BotApiError as exc:
            return exc.response()
        return web.json_response({"ok": True, "result": result})

    def _inject_fault(self, method: str) -> None:
        for fault in self._faults:
            if fault["left"] > 0 and (fault["methods"] is None or method in fault["methods"]):
                fault["left"] -= 1
                raise BotApiError(fault["status"], fault["description"], fault["retry_after"])
        self._faults = [f for f in self._faults if f["left"] > 0]

    async def _m_getme(self, params: dict[str, Any]) -> Any:
        return {**self.bot, "can_join_groups": True, "can_read_all_group_messages": False,
                "supports_inline_queries": False}

    async def _m_getupdates(self, params: dict[str, Any]) -> Any:
        if self.webhook is not None:
            raise BotApiError(409, "Conflict: can't use getUpdates method while webhook is active; "
                                   "use deleteWebhook to delete the webhook first")
        offset = int(params.get("offset") or 0)
        limit = max(1, min(100, int(params.get("limit") or 100)))
        timeout = max(0.0, float(params.get("timeout") or 0))
        allowed = params.get("allowed_updates")
        if offset < 0:  # -N: the last N updates; all earlier ones are forgotten
            self._updates = self._updates[offset:]
        elif offset:
            self.confirmed_below = max(self.confirmed_below, offset)
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
        if allowed:
            self._updates = [u for u in self._updates if set(u) - {"update_id"} <= set(allowed)]
        self._poll_generation += 1
        generation = self._poll_generation
        self._wake()  # an older long poll still waiting ends with 409, as on Telegram
        deadline = time.monotonic() + timeout
        while not self._matching(allowed) and time.monotonic() < deadline:
            await self._wait(deadline - time.monotonic())
            if generation != self._poll_generation:
                raise BotApiError(409, "Conflict: terminated by other getUpdates request; "
                                       "make sure that only one bot instance is running")
        return self._matching(allowed)[:limit]

    def _matching(self, allowed: list[str] | None) -> list[dict[str, Any]]:
        if not allowed:
            return list(self._updates)
        return [u for u in self._updates if set(u) - {"update_id"} <= set(allowed)]

    def _chat_for_send(self, params: dict[str, Any]) -> dict[str, Any]:
        try:
            chat_id = int(params["chat_id"])
        except (KeyError, ValueError):
            raise BotApiError(400, "Bad Request: chat not found") from None
        if chat_id in self.blocked:
            raise BotApiError(403, "Forbidden: bot was blocked by the user")
        return self.chat(chat_id)

    async def _m_getchat(self, params: dict[str, Any]) -> Any:
        """ChatFullInfo of a chat (as sendMessage, the sandbox knows every chat it is asked about)."""
        chat = self._chat_for_send(params)
        return {**chat, "accent_color_id": 0, "max_reaction_count": 11,
                "accepted_gift_types": {"unlimited_gifts": False, "limited_gifts": False, "unique_gifts": False,
                                        "premium_subscription": False, "gifts_from_channels": False}}

    async def _m_sendmessage(self, params: dict[str, Any]) -> Any:
        chat = self._chat_for_send(params)
        text = str(params.get("text") or "")
        if not text.strip():
            raise BotApiError(400, "Bad Request: message text is empty")
        if len(text) > 4096:
            raise BotApiError(400, "Bad Request: message is too long")
        message: dict[str, Any] = {"message_id": self._next_message_id(chat["id"]), "from": self.bot,
                                   "chat": chat, "date": int(time.time()), "text": text}
        reply = params.get("reply_parameters") or {}
        reply_id = reply.get("message_id") or params.get("reply_to_message_id")
        if reply_id:
            original = self._messages.get((chat["id"], int(reply_id)))
            if original is not None:
                message["reply_to_message"] = original
            elif not (reply.get("allow_sending_without_reply") or params.get("allow_sending_without_reply")):
                raise BotApiError(400, "Bad Request: message to be replied not found")
        if params.get("reply_markup"):
            message["reply_markup"] = params["reply_markup"]
        self._messages[(chat["id"], message["message_id"])] = message
        self.sent.append(message)
        return message

    async def _m_sendphoto(self, params: dict[str, Any]) -> Any:
        chat = self._chat_for_send(params)
        photo = params.get("photo")
        if not isinstance(photo, bytes) or not photo:
            raise BotApiError(400, "Bad Request: there is no photo in the request")
        if len(photo) > 10 * 1024 * 1024:
            raise BotApiError(400, "Bad Request: PHOTO_SAVE_FILE_INVALID")
        if not photo.startswith((b"\xff\xd8\xff", b"\x89PNG", b"RIFF")):
            raise BotApiError(400, "Bad Request: IMAGE_PROCESS_FAILED")
        file_id = f"sbx-sent-{hashlib.sha256(photo).hexdigest()[:24]}"
        message: dict[str, Any] = {"message_id": self._next_message_id(chat["id"]), "from": self.bot, "chat": chat,
                                   "date": int(time.time()),
                                   "photo": [{"file_id": file_id, "file_unique_id": file_id[-12:], "width": 1280,
                                              "height": 960, "file_size": len(photo)}]}
        if params.get("caption"):
            message["caption"] = str(params["caption"])[:1024]
        reply = params.get("reply_parameters") or {}
        original = self._messages.get((chat["id"], int(reply.get("message_id") or 0)))
        if original is not None:
            message["reply_to_message"] = original
        self._messages[(chat["id"], message["message_id"])] = message
        self.sent.append(message)
        self.sent_photos.append(photo)
        return message

    def _editable(self, params: dict[str, Any]) -> dict[str, Any]:
        chat = self._chat_for_send(params)
        message = self._messages.get((chat["id"], int(params.get("message_id") or 0)))
        if message is None:
            raise BotApiError(400, "Bad Request: message to edit not found")
        if message.get("from", {}).get("id") != self.bot["id"]:
            raise BotApiError(400, "Bad Request: message can't be edited")
        return message

    async def _m_editmessagetext(self, params: dict[str, Any]) -> Any:
        message = self._editable(params)
        text = str(params.get("text") or "")
        if not text.strip():
            raise BotApiError(400, "Bad Request: message text is empty")
        markup = params.get("reply_markup")
        if text == message.get("text") and markup == message.get("reply_markup"):
            raise BotApiError(400, "Bad Request: message is not modified: specified new message content and "
                                   "reply markup are exactly the same as a current content and reply markup "
                                   "of the message")
        return self._store_edit(message, markup, text=text)

    async def _m_editmessagereplymarkup(self, params: dict[str, Any]) -> Any:
        message = self._editable(params)
        markup = params.get("reply_markup")
        if markup == message.get("reply_markup"):
            raise BotApiError(400, "Bad Request: message is not modified")
        return self._store_edit(message, markup)

    def _store_edit(self, message: dict[str, Any], markup: Any, **changes: Any) -> dict[str, Any]:
        """The message with ``changes`` and ``markup`` (none removes it), stamped and recorded."""
        edited = {**message, **changes, "edit_date": int(time.time())}
        edited.pop("reply_markup", None)
        if markup:
            edited["reply_markup"] = markup
        self._messages[(message["chat"]["id"], message["message_id"])] = edited
        self.edits.append(edited)
        return edited

    async def _m_answercallbackquery(self, params: dict[str, Any]) -> Any:
        query_id = str(params.get("callback_query_id") or "")
        if query_id not in self._callbacks:
            raise BotApiError(400, "Bad Request: query is too old and response timeout expired or query ID "
                                   "is invalid")
        self.callback_answers.append({"callback_query_id": query_id, "text": params.get("text"),
                                      "show_alert": str(params.get("show_alert", "")).lower() == "true"})
        return True

    async def _m_getfile(self, params: dict[str, Any]) -> Any:
        entry = self._files.get(str(params.get("file_id") or ""))
        if entry is None:
            raise BotApiError(400, "Bad Request: invalid file_id")
        if entry[1]["file_size"] > MAX_DOWNLOAD:
            raise BotApiError(400, "Bad Request: file is too big")
        return dict(entry[1])

    async def _download(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return BotApiError(401, "Unauthorized").response()
        path = request.match_info["path"]
        for data, info in self._files.values():
            if info["file_path"] == path:
                return web.Response(body=data, content_type="application/octet-stream")
        return BotApiError(404, "Not Found").response()

    async def _m_setwebhook(self, params: dict[str, Any]) -> Any:
        url = str(params.get("url") or "")
        secret = params.get("secret_token")
        if secret is not None and not _SECRET_OK.match(str(secret)):
            raise BotApiError(400, "Bad Request: secret token contains unallowed characters")
        if str(params.get("drop_pending_updates", "")).lower() == "true":
            self._updates.clear()
        await self._stop_webhook()
        if not url:
            return True
        if not url.startswith(("http://", "https://")):
            raise BotApiError(400, "Bad Request: bad webhook: An HTTPS URL must be provided for webhook")
        self.webhook = {"url": url, "secret_token": secret, "allowed_updates": params.get("allowed_updates"),
                        "max_connections": int(params.get("max_connections") or 40)}
        self._webhook_task = asyncio.create_task(self._deliver_webhooks(), name="sandbox-telegram-webhook")
        return True

    async def _m_deletewebhook(self, params: dict[str, Any]) -> Any:
        if str(params.get("drop_pending_updates", "")).lower() == "true":
            self._updates.clear()
        await self._stop_webhook()
        return True

    async def _m_getwebhookinfo(self, params: dict[str, Any]) -> Any:
        info: dict[str, Any] = {"url": "", "has_custom_certificate": False, "pending_update_count": len(self._updates)}
        if self.webhook:
            info.update(url=self.webhook["url"], max_connections=self.webhook["max_connections"],
                        ip_address="127.0.0.1")
            if self.webhook["allowed_updates"]:
                info["allowed_updates"] = self.webhook["allowed_updates"]
            for key in ("last_error_date", "last_error_message"):
                if key in self.webhook:
                    info[key] = self.webhook[key]
        return info

    async def _stop_webhook(self) -> None:
        self.webhook = None
        task, self._webhook_task = self._webhook_task, None
        if task is not None:
            task.cancel()
            try:
                await task
            except asyncio.CancelledError:
                pass

    async def _deliver_webhooks(self) -> None:
        """Send pending updates in order, one per request; keep retrying an update until a 2xx."""
        assert self._session is not None and self.webhook is not None
        while True:
            hook = self.webhook
            allowed = hook.get("allowed_updates")
            if allowed:
                self._updates = [u for u in self._updates if set(u) - {"update_id"} <= set(allowed)]
            if not self._updates:
                await self._wait(None)
                continue
            update = self._updates[0]
            headers = {"Content-Type": "application/json"}
            if hook.get("secret_token"):
                headers["X-Telegram-Bot-Api-Secret-Token"] = hook["secret_token"]
            try:
                async with self._session.post(hook["url"], data=json.dumps(update), headers=headers) as resp:
                    ok = 200 <= resp.status < 300
                    error = f"Wrong response from the webhook: {resp.status} {resp.reason}"
            except (aiohttp.ClientError, TimeoutError) as exc:
                ok, error = False, f"Connection failed: {type(exc).__name__}"
            if ok:
                self.webhook_deliveries += 1
                if self._updates and self._updates[0] is update:
                    self._updates.pop(0)
            else:
                hook.update(last_error_date=int(time.time()), last_error_message=error)
                await asyncio.sleep(self.webhook_retry_delay)
