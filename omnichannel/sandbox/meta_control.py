"""HTTP control API of ``MetaSandbox`` (``/_sandbox/meta/...``), so the CLI or a demo script can drive it.

``POST dm {platform, user?, name?, text}``, ``comment {platform, user?, name?, text, parent?}``,
``mention {platform, user?, name?, text}``, ``edit {comment_id, text}``, ``delete {comment_id}``,
``redeliver {count}``, ``throttle {count, code, minutes}``, ``expire``, ``renew``, ``advance {seconds}``,
``webhook {platform, url}``; ``GET state``. ``user`` is a citizen's id; without it one is made from ``name``.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

# The sandbox is typed ``Any``: its module imports this one to mount the routes.


def meta_routes(sandbox: Any) -> list[web.RouteDef]:
    """Control routes for a ``MetaSandbox``."""

    async def body(request: web.Request) -> dict[str, Any]:
        try:
            data = await request.json()
        except ValueError:
            data = None
        return data if isinstance(data, dict) else {}

    def who(data: dict[str, Any]) -> tuple[str, str]:
        platform = "instagram" if data.get("platform") == "instagram" else "facebook"
        return platform, sandbox.user(platform, str(data.get("name") or "Warga"), data.get("user"))

    def bad(reason: str) -> web.Response:
        return web.json_response({"error": reason}, status=400)

    async def dm(request: web.Request) -> web.Response:
        data = await body(request)
        if not data.get("text"):
            return bad("text is required")
        platform, user = who(data)
        mid, status = await sandbox.dm(platform, user, str(data["text"]), deliver=data.get("deliver", True))
        return web.json_response({"mid": mid, "user": user, "status": status})

    async def comment(request: web.Request) -> web.Response:
        data = await body(request)
        if not data.get("text"):
            return bad("text is required")
        platform, user = who(data)
        kw = {"parent": data["parent"]} if data.get("parent") else {}
        comment_id, status = await sandbox.comment(platform, user, str(data["text"]), deliver=data.get("deliver", True),
                                                   **kw)
        return web.json_response({"comment_id": comment_id, "user": user, "status": status})

    async def mention(request: web.Request) -> web.Response:
        data = await body(request)
        if not data.get("text"):
            return bad("text is required")
        platform, user = who(data)
        comment_id, status = await sandbox.mention(platform, user, str(data["text"]))
        return web.json_response({"comment_id": comment_id, "user": user, "status": status})

    async def edit(request: web.Request) -> web.Response:
        data = await body(request)
        if data.get("comment_id") not in sandbox.comments or not data.get("text"):
            return bad("a known comment_id and text are required")
        return web.json_response({"status": await sandbox.edit_comment(data["comment_id"], str(data["text"]))})

    async def delete(request: web.Request) -> web.Response:
        data = await body(request)
        if data.get("comment_id") not in sandbox.comments:
            return bad("a known comment_id is required")
        return web.json_response({"status": await sandbox.delete_comment(data["comment_id"])})

    async def redeliver(request: web.Request) -> web.Response:
        return web.json_response({"statuses": await sandbox.redeliver(int((await body(request)).get("count", 1)))})

    async def throttle(request: web.Request) -> web.Response:
        data = await body(request)
        sandbox.throttle(int(data.get("count", 5)), int(data.get("code", 613)), int(data.get("minutes", 1)))
        return web.json_response({"ok": True})

    async def expire(request: web.Request) -> web.Response:
        sandbox.expire_token()
        return web.json_response({"ok": True})

    async def renew(request: web.Request) -> web.Response:
        sandbox.renew_token((await body(request)).get("token"))
        return web.json_response({"ok": True})

    async def advance(request: web.Request) -> web.Response:
        sandbox.advance(float((await body(request)).get("seconds", 3600)))
        return web.json_response({"offset": sandbox.offset})

    async def webhook(request: web.Request) -> web.Response:
        data = await body(request)
        if data.get("platform") not in ("facebook", "instagram") or not data.get("url"):
            return bad("platform (facebook or instagram) and url are required")
        sandbox.webhooks[data["platform"]] = data["url"]
        return web.json_response({"ok": True})

    async def state(request: web.Request) -> web.Response:
        return web.json_response({"sent": sandbox.sent, "public": sandbox.public, "rejected": sandbox.rejected,
                                  "webhooks": sandbox.webhooks, "page_id": sandbox.page_id,
                                  "instagram_id": sandbox.instagram_id, "token_expired": sandbox.token_expired,
                                  "undelivered": len(sandbox.undelivered)})

    prefix = "/_sandbox/meta"
    return [web.post(f"{prefix}/dm", dm), web.post(f"{prefix}/comment", comment),
            web.post(f"{prefix}/mention", mention), web.post(f"{prefix}/edit", edit),
            web.post(f"{prefix}/delete", delete), web.post(f"{prefix}/redeliver", redeliver),
            web.post(f"{prefix}/throttle", throttle), web.post(f"{prefix}/expire", expire),
            web.post(f"{prefix}/renew", renew), web.post(f"{prefix}/advance", advance),
            web.post(f"{prefix}/webhook", webhook), web.get(f"{prefix}/state", state)]
