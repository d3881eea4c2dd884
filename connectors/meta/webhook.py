"""What every Meta webhook shares (WhatsApp Cloud API, Facebook Page, Instagram): the handshake and the signature.

When a webhook is configured in the Meta app dashboard, Meta calls it with ``GET ?hub.mode=subscribe
&hub.verify_token=<ours>&hub.challenge=<n>`` and expects the challenge echoed. Every delivery is then a
POST signed with ``X-Hub-Signature-256: sha256=<HMAC-SHA256 of the raw body with the app secret>``; a
delivery is stored before it is answered 2xx, and Meta redelivers anything else.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

from aiohttp import web

from omnichannel.web.body import BodyError
from omnichannel.web.body import read_body as read_whole

SIGNATURE_HEADER = "X-Hub-Signature-256"


def sign(body: bytes, app_secret: str) -> str:
    """The ``X-Hub-Signature-256`` value Meta sends with ``body``."""
    return "sha256=" + hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()


def signature_ok(app_secret: str, given: str | None, body: bytes) -> bool:
    """True only for a non-blank secret and the exact ``sha256=<hex>`` of ``body`` (constant-time).

    An empty (or blank) app secret verifies nothing: anyone could compute its HMAC, so it refuses everything.
    """
    if not app_secret.strip() or not given:
        return False
    expected = sign(body, app_secret).encode()
    # the header may hold any bytes a client sent: compare bytes, never decode
    return hmac.compare_digest(given.encode("utf-8", "surrogateescape"), expected)


def handshake(request: web.Request, verify_token: str) -> web.Response:
    """Echo ``hub.challenge`` when ``hub.mode`` is subscribe and ``hub.verify_token`` matches, else 403."""
    given = request.query.get("hub.verify_token", "").encode("utf-8", "surrogateescape")
    if verify_token and request.query.get("hub.mode") == "subscribe" and hmac.compare_digest(
            given, verify_token.encode()):
        return web.Response(text=request.query.get("hub.challenge", ""))
    return web.Response(status=403, text="verification failed")


async def read_body(request: web.Request, limit: int) -> bytes | None:
    """The whole request body, or None when it is larger than ``limit`` (read to the end, not its first chunk,
    within the daemon's body timeout: a slow or vanished client is a ``BodyError`` the server answers 408/400)."""
    try:
        return await read_whole(request, limit)
    except BodyError as exc:
        if exc.status == 413:
            return None
        raise


def load_object(body: bytes) -> dict[str, Any]:
    """Parse a delivery body as a JSON object; ValueError (with the reason) for anything else."""
    try:
        payload = json.loads(body)
    except RecursionError:
        raise ValueError("JSON nested too deeply") from None
    except ValueError as exc:  # also bad UTF-8 and integers over the 4,300-digit limit
        raise ValueError(str(exc)) from None
    if not isinstance(payload, dict):
        raise ValueError("not a JSON object")
    return payload


def openapi_paths(path: str, product: str, max_body_bytes: int) -> dict[str, Any]:
    """The OpenAPI path item of one Meta webhook (``omnichannel.web.openapi`` serves it)."""
    from omnichannel.web.openapi import problems

    def query(name: str, description: str) -> dict[str, Any]:
        return {"name": name, "in": "query", "required": False, "schema": {"type": "string"},
                "description": description}

    return {path: {
        "get": {"summary": f"{product}: Meta's subscription handshake (echoes hub.challenge)", "tags": ["webhooks"],
                "security": [], "parameters": [query("hub.mode", "subscribe"),
                                               query("hub.verify_token", "the connector's verify_token"),
                                               query("hub.challenge", "echoed back")],
                "responses": {"200": {"description": "the challenge", "content": {"text/plain": {
                                  "schema": {"type": "string"}}}},
                              "403": {"description": "wrong mode or verify token", "content": {"text/plain": {
                                  "schema": {"type": "string"}}}}}},
        "post": {"summary": f"{product}: a delivery from Meta, stored before it is answered (Meta redelivers "
                            "anything but 2xx); a signed body that cannot be read is quarantined whole",
                 "tags": ["webhooks"], "security": [],
                 "parameters": [{"name": SIGNATURE_HEADER, "in": "header", "required": True,
                                 "schema": {"type": "string"},
                                 "description": "sha256=<hex HMAC-SHA256 of the raw body with the app secret>"}],
                 "requestBody": {"required": True, "content": {"application/json": {"schema": {
                     "type": "object", "description": "Meta's webhook payload (object, entry[...])"}}}},
                 "responses": {
                     "200": {"description": "stored", "content": {"application/json": {"schema": {
                         "type": "object", "required": ["received", "new"],
                         "properties": {"received": {"type": "integer"}, "new": {"type": "integer"}}}}}},
                     **problems(400, 401, 408, 413, 503, words={
                         401: "missing or wrong X-Hub-Signature-256",
                         413: f"body larger than {max_body_bytes} bytes"})}},
    }}
