"""A local WhatsApp Cloud API (Graph API) for tests, benches and ``omnichannel demo``.

Two halves, both shaped like Meta's documentation:

- the Graph API our replier calls: ``POST /{version}/{phone-number-id}/messages`` (bearer token,
  free-form messages only within 24 hours of the citizen's last message, templates any time),
  ``GET /{version}/{phone-number-id}``, media upload/lookup/download; errors are Graph error
  objects ``{"error": {"message", "type", "code", "error_data": {"messaging_product", "details"},
  "fbtrace_id"}}`` (190 bad token, 131047 outside the window, 130429 throughput, 100 bad parameter);
- the sender Meta runs: webhook deliveries (``object: whatsapp_business_account`` → ``entry`` →
  ``changes`` → ``value`` with ``messages``/``contacts`` or ``statuses``) signed with
  ``X-Hub-Signature-256: sha256=<HMAC-SHA256 of the raw body with the app secret>``.

Real Cloud API reports an expired window asynchronously (a ``failed`` status with 131047); the
sandbox answers it synchronously by default (``window_errors="sync"``) so tests see it at once, and
can do it the Meta way (``"webhook"``).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import itertools
import json
import secrets
import time
from typing import Any, Literal

from aiohttp import web

from omnichannel.sandbox.base import MetaWebhookSender, SandboxServer

DEFAULT_ACCESS_TOKEN = "EAAG-sandbox-access-token"
DEFAULT_APP_SECRET = "sandbox-app-secret"
WINDOW = 24 * 3600


def graph_error(status: int, code: int, message: str, details: str | None = None,
                kind: str = "OAuthException") -> web.Response:
    """A Graph API error response."""
    error: dict[str, Any] = {"message": message, "type": kind, "code": code,
                             "fbtrace_id": secrets.token_urlsafe(12)}
    if details:
        error["error_data"] = {"messaging_product": "whatsapp", "details": details}
    return web.json_response({"error": error}, status=status)


def _senders(payload: Any) -> list[str]:
    """The ``from`` of every message in a delivery (tests also send oddly shaped ones: those are ignored)."""
    def dicts(value: Any) -> list[dict[str, Any]]:
        return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []

    if not isinstance(payload, dict):
        return []
    return [str(m["from"]) for e in dicts(payload.get("entry")) for c in dicts(e.get("changes"))
            if isinstance(c.get("value"), dict) for m in dicts(c["value"].get("messages")) if "from" in m]


class WhatsAppSandbox(MetaWebhookSender, SandboxServer):
    """In-process fake Graph API plus a webhook sender that signs what it posts."""

    client_max_size = 128 * 1024 * 1024
    client_timeout = 30.0  # webhook deliveries
    legacy_sha1_signature = True

    def __init__(self, *, access_token: str = DEFAULT_ACCESS_TOKEN, app_secret: str = DEFAULT_APP_SECRET,
                 phone_number_id: str = "106540352242922", waba_id: str = "102290129340398",
                 display_phone_number: str = "15550783881", webhook_url: str | None = None,
                 host: str = "127.0.0.1", port: int = 0,
                 window_errors: Literal["sync", "webhook"] = "sync") -> None:
        super().__init__(host, port)
        self.access_token, self.app_secret = access_token, app_secret
        self.phone_number_id, self.waba_id, self.display_phone_number = phone_number_id, waba_id, display_phone_number
        self.webhook_url, self.window_errors = webhook_url, window_errors
        self.sent: list[dict[str, Any]] = []           # accepted /messages bodies, each with "wamid"
        self.rejected: list[dict[str, Any]] = []       # refused /messages bodies, each with "error"
        self.last_inbound: dict[str, float] = {}       # wa_id -> unix time of their last message
        self.media: dict[str, tuple[bytes, str]] = {}  # media id -> (content, mime type)
        self._faults: list[dict[str, Any]] = []
        self._tasks: set[asyncio.Task[Any]] = set()
        self._ids = itertools.count(1)

    # -- lifecycle (start, stop, base_url, async with: SandboxServer) ------------------------------
    def routes(self, app: web.Application) -> None:
        """The Graph API (messages, media, objects) and ``/_sandbox/whatsapp/...``."""
        from omnichannel.sandbox.control import whatsapp_routes

        app.router.add_routes(whatsapp_routes(self))
        app.router.add_post("/{version}/{phone_id}/messages", self._messages)
        app.router.add_post("/{version}/{phone_id}/media", self._upload)
        app.router.add_get("/_media/{media_id}", self._media_bytes)
        app.router.add_get("/{version}/{object_id}", self._object)
        app.router.add_delete("/{version}/{object_id}", self._delete_media)

    async def before_stop(self) -> None:
        """Cancel status deliveries still in flight."""
        for task in list(self._tasks):
            task.cancel()

    def storm(self, count: int, code: int = 130429) -> None:
        """The next ``count`` /messages calls fail with a throughput error (130429 by default)."""
        self._faults.append({"left": count, "code": code})

    def add_media(self, data: bytes, mime_type: str) -> str:
        """Store media as if a citizen had sent it; returns its media id."""
        media_id = str(7_000_000_000 + next(self._ids))
        self.media[media_id] = (data, mime_type)
        return media_id

    # -- webhook payloads ---------------------------------------------------------------------
    def new_wamid(self) -> str:
        """A fresh WhatsApp message id."""
        return "wamid." + secrets.token_urlsafe(30)

    def _envelope(self, value: dict[str, Any]) -> dict[str, Any]:
        return {"object": "whatsapp_business_account",
                "entry": [{"id": self.waba_id, "changes": [{"value": {
                    "messaging_product": "whatsapp",
                    "metadata": {"display_phone_number": self.display_phone_number,
                                 "phone_number_id": self.phone_number_id}, **value}, "field": "messages"}]}]}

    def message_payload(self, wa_id: str, msg_type: str, content: dict[str, Any] | None, *, name: str = "Warga",
                        wamid: str | None = None, context: str | None = None,
                        timestamp: int | None = None) -> dict[str, Any]:
        """A ``messages`` webhook payload for one inbound message of ``msg_type``."""
        message: dict[str, Any] = {"from": wa_id, "id": wamid or self.new_wamid(),
                                   "timestamp": str(timestamp or int(time.time())), "type": msg_type}
        if context:
            message["context"] = {"from": self.display_phone_number, "id": context}
        if content is not None:
            message[msg_type] = content
        return self._envelope({"contacts": [{"profile": {"name": name}, "wa_id": wa_id}], "messages": [message]})

    def text_payload(self, wa_id: str, text: str, **kw: Any) -> dict[str, Any]:
        """A text message payload."""
        return self.message_payload(wa_id, "text", {"body": text}, **kw)

    def media_payload(self, wa_id: str, kind: str, data: bytes, mime_type: str, *, caption: str | None = None,
                      filename: str | None = None, voice: bool = False, **kw: Any) -> dict[str, Any]:
        """An image/document/audio/video/sticker payload (the content is served by the media endpoints)."""
        content: dict[str, Any] = {"mime_type": mime_type, "sha256": hashlib.sha256(data).hexdigest(),
                                   "id": self.add_media(data, mime_type)}
        if caption is not None:
            content["caption"] = caption
        if filename is not None:
            content["filename"] = filename
        if kind == "audio":
            content["voice"] = voice
        return self.message_payload(wa_id, kind, content, **kw)

    def location_payload(self, wa_id: str, latitude: float, longitude: float, *, name: str | None = None,
                         address: str | None = None, **kw: Any) -> dict[str, Any]:
        """A location message payload."""
        content: dict[str, Any] = {"latitude": latitude, "longitude": longitude}
        if name:
            content["name"] = name
        if address:
            content["address"] = address
        return self.message_payload(wa_id, "location", content, **kw)

    def interactive_payload(self, wa_id: str, reply_id: str, title: str, *, list_reply: bool = False,
                            description: str | None = None, **kw: Any) -> dict[str, Any]:
        """A reply to an interactive button or list message."""
        if list_reply:
            reply: dict[str, Any] = {"type": "list_reply", "list_reply": {"id": reply_id, "title": title}}
            if description:
                reply["list_reply"]["description"] = description
        else:
            reply = {"type": "button_reply", "button_reply": {"id": reply_id, "title": title}}
        return self.message_payload(wa_id, "interactive", reply, **kw)

    def unsupported_payload(self, wa_id: str, **kw: Any) -> dict[str, Any]:
        """A message type the Cloud API cannot pass on (``type: unsupported`` with error 131051)."""
        payload = self.message_payload(wa_id, "unsupported", None, **kw)
        message = payload["entry"][0]["changes"][0]["value"]["messages"][0]
        message["errors"] = [{"code": 131051, "title": "Message type unknown", "message": "Message type unknown",
                              "error_data": {"details": "Message type is currently not supported."}}]
        return payload

    def status_payload(self, wamid: str, status: str, recipient: str,
                       errors: list[dict[str, Any]] | None = None) -> dict[str, Any]:
        """A status callback (sent, delivered, read, failed) for a message we sent."""
        item: dict[str, Any] = {"id": wamid, "status": status, "timestamp": str(int(time.time())),
                                "recipient_id": recipient}
        if status != "failed":
            item["conversation"] = {"id": secrets.token_hex(16), "origin": {"type": "service"}}
            item["pricing"] = {"billable": True, "pricing_model": "CBP", "category": "service"}
        if errors:
            item["errors"] = errors
        return self._envelope({"statuses": [item]})

    # -- the sender -----------------------------------------------------------------------------
    async def deliver(self, payload: dict[str, Any] | bytes, *, signature: str | None = "auto",
                      url: str | None = None) -> int:
        """POST one webhook delivery; returns the HTTP status the receiver answered."""
        assert self._session is not None, "start() the sandbox first"
        target = url or self.webhook_url
        if not target:
            raise RuntimeError("no webhook_url configured")
        body = self.body(payload)
        for wa_id in _senders(payload):
            self.last_inbound[wa_id] = time.time()
        async with self._session.post(target, data=body, headers=self.headers(body, signature)) as resp:
            await resp.read()
            return resp.status

    async def say(self, wa_id: str, text: str, **kw: Any) -> tuple[str, int]:
        """A citizen sends a text; returns (wamid, receiver's HTTP status)."""
        payload = self.text_payload(wa_id, text, **kw)
        wamid = payload["entry"][0]["changes"][0]["value"]["messages"][0]["id"]
        return wamid, await self.deliver(payload)

    async def verify(self, url: str, verify_token: str, challenge: str = "1158201444") -> tuple[int, str]:
        """The GET handshake Meta does when a webhook is configured; returns (status, body)."""
        assert self._session is not None
        params = {"hub.mode": "subscribe", "hub.verify_token": verify_token, "hub.challenge": challenge}
        async with self._session.get(url, params=params) as resp:
            return resp.status, await resp.text()

    # -- the Graph API --------------------------------------------------------------------------
    def _authorised(self, request: web.Request) -> bool:
        given = request.headers.get("Authorization", "")
        return hmac.compare_digest(given.encode(), f"Bearer {self.access_token}".encode())

    def _bad_token(self) -> web.Response:
        return graph_error(401, 190, "Invalid OAuth access token - Cannot parse access token")

    async def _messages(self, request: web.Request) -> web.Response:
        if not self._authorised(request):
            return self._bad_token()
        if request.match_info["phone_id"] != self.phone_number_id:
            return graph_error(400, 100, "Unsupported post request. Object with ID "
                               f"'{request.match_info['phone_id']}' does not exist", kind="GraphMethodException")
        try:
            body = await request.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            return graph_error(400, 100, "(#100) Invalid parameter", "Request body is not valid JSON")
        for fault in self._faults:
            if fault["left"] > 0:
                fault["left"] -= 1
                self.rejected.append({**body, "error": fault["code"]})
                return graph_error(400, fault["code"], f"(#{fault['code']}) Rate limit hit",
                                   "Cloud API message throughput has been reached.")
        self._faults = [f for f in self._faults if f["left"] > 0]
        to, kind = str(body.get("to") or ""), body.get("type", "text")
        if body.get("messaging_product") != "whatsapp" or not to.isdigit():
            return graph_error(400, 100, "(#100) Invalid parameter",
                               "Parameter messaging_product must be whatsapp and to a phone number")
        if kind == "text" and not (body.get("text") or {}).get("body"):
            return graph_error(400, 100, "(#100) The parameter text['body'] is required.")
        if kind == "template" and not (body.get("template") or {}).get("name"):
            return graph_error(400, 100, "(#100) The parameter template['name'] is required.")
        wamid = self.new_wamid()
        outside = kind != "template" and time.time() - self.last_inbound.get(to, 0) > WINDOW
        if outside and self.window_errors == "sync":
            self.rejected.append({**body, "error": 131047})
            return graph_error(400, 131047, "(#131047) Re-engagement message",
                               "Message failed to send because more than 24 hours have passed since the "
                               "customer last replied to this number.")
        self.sent.append({**body, "wamid": wamid})
        result: dict[str, Any] = {"messaging_product": "whatsapp", "contacts": [{"input": to, "wa_id": to}],
                                  "messages": [{"id": wamid}]}
        if kind == "template":
            result["messages"][0]["message_status"] = "accepted"
        if outside and self.webhook_url:  # the Meta way: accepted now, failed status later
            errors = [{"code": 131047, "title": "Re-engagement message", "message": "Re-engagement message",
                       "error_data": {"details": "Message failed to send because more than 24 hours have "
                                                 "passed since the customer last replied to this number."}}]
            self.sent[-1]["failed"] = 131047
            task = asyncio.create_task(self.deliver(self.status_payload(wamid, "failed", to, errors)))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        return web.json_response(result)

    async def _upload(self, request: web.Request) -> web.Response:
        if not self._authorised(request):
            return self._bad_token()
        form = await request.post()
        upload = form.get("file")
        if upload is None or isinstance(upload, str):
            return graph_error(400, 100, "(#100) The parameter file is required.")
        media_id = self.add_media(upload.file.read(), str(form.get("type") or upload.content_type))
        return web.json_response({"id": media_id})

    async def _object(self, request: web.Request) -> web.Response:
        if not self._authorised(request):
            return self._bad_token()
        object_id = request.match_info["object_id"]
        if object_id == self.phone_number_id:
            return web.json_response({"verified_name": "Layanan Aduan Sandbox", "code_verification_status":
                                      "VERIFIED", "display_phone_number": self.display_phone_number,
                                      "quality_rating": "GREEN", "id": self.phone_number_id})
        if object_id not in self.media:
            return graph_error(404, 100, f"Unsupported get request. Object with ID '{object_id}' does not exist",
                               kind="GraphMethodException")
        data, mime = self.media[object_id]
        return web.json_response({"messaging_product": "whatsapp",
                                  "url": f"{self.base_url}/_media/{object_id}?hash={hashlib.sha1(data).hexdigest()}",
                                  "mime_type": mime, "sha256": hashlib.sha256(data).hexdigest(),
                                  "file_size": len(data), "id": object_id})

    async def _media_bytes(self, request: web.Request) -> web.Response:
        if not self._authorised(request):
            return self._bad_token()
        entry = self.media.get(request.match_info["media_id"])
        if entry is None:
            return web.Response(status=404)
        return web.Response(body=entry[0], content_type=entry[1].split(";")[0])

    async def _delete_media(self, request: web.Request) -> web.Response:
        if not self._authorised(request):
            return self._bad_token()
        return web.json_response({"success": self.media.pop(request.match_info["object_id"], None) is not None})
