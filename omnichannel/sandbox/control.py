"""HTTP control API of the sandboxes, so another process (the CLI, a demo script) can drive them.

Telegram: ``POST /_sandbox/telegram/{say,edit,press,inject,storm,block}``, ``GET /_sandbox/telegram/state``.
WhatsApp: ``POST /_sandbox/whatsapp/{say,deliver,webhook,storm}``, ``GET /_sandbox/whatsapp/state``.
Binary content travels as base64 (``photo_b64``, ``document_b64``, ``data_b64``).
"""

from __future__ import annotations

import base64
from typing import Any

from aiohttp import web

# The sandbox a set of routes drives is typed ``Any``: its module imports this one to mount the routes.



def _bytes(value: str | None) -> bytes | None:
    return base64.b64decode(value) if value else None


def _bad(reason: str) -> web.Response:
    return web.json_response({"error": reason}, status=400)


def telegram_routes(sandbox: Any) -> list[web.RouteDef]:
    """Control routes for a ``TelegramSandbox``."""

    async def say(request: web.Request) -> web.Response:
        body: dict[str, Any] = await request.json()
        try:
            chat_id = int(body["chat_id"])
        except (KeyError, ValueError):
            return _bad("chat_id (integer) is required")
        user = sandbox.user(int(body.get("user_id", chat_id)), body.get("first_name", "Warga"),
                            body.get("username")) if chat_id > 0 or "user_id" in body else None
        message = sandbox.say(
            chat_id, body.get("text"), user=user, chat_type=body.get("chat_type"), title=body.get("title"),
            reply_to=body.get("reply_to"), photo=_bytes(body.get("photo_b64")),
            document=_bytes(body.get("document_b64")), filename=body.get("filename", "dokumen.pdf"),
            mime_type=body.get("mime_type", "application/pdf"), caption=body.get("caption"),
            location=tuple(body["location"]) if body.get("location") else None, contact=body.get("contact"))
        return web.json_response(message)

    async def edit(request: web.Request) -> web.Response:
        body = await request.json()
        try:
            return web.json_response(sandbox.edit(int(body["chat_id"]), int(body["message_id"]), body["text"]))
        except KeyError as exc:
            return _bad(f"unknown message or missing field: {exc}")

    async def press(request: web.Request) -> web.Response:
        body = await request.json()
        query_id = sandbox.press(int(body["chat_id"]), int(body["message_id"]), str(body["data"]))
        return web.json_response({"callback_query_id": query_id})

    async def inject(request: web.Request) -> web.Response:
        return web.json_response({"update_id": sandbox.inject(await request.json())})

    async def storm(request: web.Request) -> web.Response:
        body = await request.json()
        sandbox.storm(int(body.get("count", 5)), int(body.get("retry_after", 1)), body.get("methods"))
        return web.json_response({"ok": True})

    async def block(request: web.Request) -> web.Response:
        sandbox.blocked.add(int((await request.json())["chat_id"]))
        return web.json_response({"ok": True})

    async def state(request: web.Request) -> web.Response:
        return web.json_response({"sent": sandbox.sent, "edits": sandbox.edits,
                                  "callback_answers": sandbox.callback_answers, "pending": len(sandbox.pending),
                                  "webhook": sandbox.webhook, "api": f"{sandbox.base_url}/bot<token>/"})

    prefix = "/_sandbox/telegram"
    return [web.post(f"{prefix}/say", say), web.post(f"{prefix}/edit", edit), web.post(f"{prefix}/press", press),
            web.post(f"{prefix}/inject", inject), web.post(f"{prefix}/storm", storm),
            web.post(f"{prefix}/block", block), web.get(f"{prefix}/state", state)]


def whatsapp_routes(sandbox: Any) -> list[web.RouteDef]:
    """Control routes for a ``WhatsAppSandbox``."""

    async def say(request: web.Request) -> web.Response:
        body = await request.json()
        if not body.get("wa_id") or not body.get("text"):
            return _bad("wa_id and text are required")
        if body.get("url"):
            sandbox.webhook_url = body["url"]
        kw = {k: body[k] for k in ("name", "context") if body.get(k)}
        wamid, status = await sandbox.say(str(body["wa_id"]), body["text"], **kw)
        return web.json_response({"wamid": wamid, "status": status})

    async def deliver(request: web.Request) -> web.Response:
        body = await request.json()
        status = await sandbox.deliver(body["payload"], url=body.get("url"))
        return web.json_response({"status": status})

    async def webhook(request: web.Request) -> web.Response:
        sandbox.webhook_url = (await request.json())["url"]
        return web.json_response({"ok": True})

    async def storm(request: web.Request) -> web.Response:
        sandbox.storm(int((await request.json()).get("count", 5)))
        return web.json_response({"ok": True})

    async def state(request: web.Request) -> web.Response:
        return web.json_response({"sent": sandbox.sent, "rejected": sandbox.rejected,
                                  "webhook_url": sandbox.webhook_url, "phone_number_id": sandbox.phone_number_id})

    prefix = "/_sandbox/whatsapp"
    return [web.post(f"{prefix}/say", say), web.post(f"{prefix}/deliver", deliver),
            web.post(f"{prefix}/webhook", webhook), web.post(f"{prefix}/storm", storm),
            web.get(f"{prefix}/state", state)]
