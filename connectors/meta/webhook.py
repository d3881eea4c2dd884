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
    """The whole request body, or None when it is larger than ``limit`` (read to the end, not its first chunk)."""
    chunks: list[bytes] = []
    size = 0
    while True:
        chunk = await request.content.read(65536)
        if not chunk:
            return b"".join(chunks)
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)


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
