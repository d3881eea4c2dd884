"""HTTP control API of the X sandbox, so another process (the CLI, a demo script) can drive it.

``POST /_sandbox/x/mention`` ``{"text", "author", "in_reply_to"?, "quote_of"?, "photos_base64"?}``,
``POST /_sandbox/x/tweet`` (same fields plus ``retweet_of``), ``POST /_sandbox/x/storm``
``{"endpoint", "count", "headers"?, "reset_in"?}``, ``POST /_sandbox/x/fail`` ``{"endpoint", "status", "count"?}``,
``GET /_sandbox/x/state`` (account, replies posted, request counts per endpoint), and
``GET /_sandbox/x/media/{media_key}.jpg``: a photo's bytes, as X's media CDN serves them.
"""

from __future__ import annotations

import base64
from typing import Any

from aiohttp import web

# The sandbox a set of routes drives is typed ``Any``: its module imports this one to mount the routes.


ENDPOINTS = ("mentions", "search", "tweets", "users_me", "users")


def x_routes(sandbox: Any, prefix: str = "/_sandbox/x") -> list[web.RouteDef]:
    """Control routes for an ``XSandbox``."""

    async def _post(request: web.Request, mention: bool) -> web.Response:
        body: dict[str, Any] = await request.json()
        if not isinstance(body.get("text"), str):
            return web.json_response({"error": "text is required"}, status=400)
        refs = {k: str(body[k]) for k in ("in_reply_to", "quote_of", "retweet_of") if body.get(k)}
        if any(v not in sandbox.tweets for v in refs.values()):
            return web.json_response({"error": "unknown tweet id"}, status=400)
        post = sandbox.post_mention if mention else sandbox.post_tweet
        try:
            photos = [base64.b64decode(p, validate=True) for p in body.get("photos_base64") or []]
        except (ValueError, TypeError):
            return web.json_response({"error": "photos_base64 must be a list of base64 strings"}, status=400)
        return web.json_response(post(body["text"], str(body.get("author") or "warga"), photos=photos, **refs))

    async def mention(request: web.Request) -> web.Response:
        return await _post(request, True)

    async def tweet(request: web.Request) -> web.Response:
        return await _post(request, False)

    async def storm(request: web.Request) -> web.Response:
        body = await request.json()
        if body.get("endpoint") not in ENDPOINTS:
            return web.json_response({"error": f"endpoint must be one of {', '.join(ENDPOINTS)}"}, status=400)
        sandbox.rate_limit_storm(body["endpoint"], int(body.get("count", 5)), headers=bool(body.get("headers", True)),
                                 reset_in=float(body.get("reset_in", 900)))
        return web.json_response({"ok": True})

    async def fail(request: web.Request) -> web.Response:
        body = await request.json()
        if body.get("endpoint") not in ENDPOINTS:
            return web.json_response({"error": f"endpoint must be one of {', '.join(ENDPOINTS)}"}, status=400)
        sandbox.fail(body["endpoint"], int(body.get("status", 503)), int(body.get("count", 1)))
        return web.json_response({"ok": True})

    async def state(request: web.Request) -> web.Response:
        return web.json_response({"account": sandbox.users[sandbox.account_id], "replies": sandbox.replies,
                                  "tweets": len(sandbox.tweets),
                                  "requests": {e: sandbox.count(e) for e in ENDPOINTS}})

    async def media(request: web.Request) -> web.Response:
        # the CDN (pbs.twimg.com) side: a photo's bytes, no token needed (the URL is the capability)
        key = request.match_info["name"].rsplit(".", 1)[0]
        if key not in sandbox.media_bytes:
            return web.Response(status=404, text="not found")
        return web.Response(body=sandbox.media_bytes[key], content_type="image/jpeg")

    return [web.get(f"{prefix}/media/{{name}}", media), web.post(f"{prefix}/mention", mention), web.post(f"{prefix}/tweet", tweet),
            web.post(f"{prefix}/storm", storm), web.post(f"{prefix}/fail", fail), web.get(f"{prefix}/state", state)]
