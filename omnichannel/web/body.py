"""Reading request bodies whole (up to a limit, within a time) and JSON that cannot crash a handler.

``request.content.read(n)`` returns what has arrived so far, not ``n`` bytes: a body split across
TCP writes was read by its first chunk. ``read_body`` reads to the end. ``parse_json`` turns every
way a body can be bad (not UTF-8, nested past the recursion limit, an integer of 5,000 digits,
``NaN``) into a ``BodyError`` with the 4xx status and a reason, never a 500.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any
from urllib.parse import parse_qs

import aiohttp
from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError

log = logging.getLogger(__name__)
MAX_DEPTH = 32          # deeper JSON is refused (a complaint form has 2 levels)
DEFAULT_TIMEOUT = 30.0  # seconds a client may take to send its body


class BodyError(Exception):
    """A body that cannot be accepted: ``status`` (4xx) and a reason for the client."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status, self.reason = status, reason

    def response(self, **extra: Any) -> web.Response:
        """The JSON answer ``{"error": reason}`` with the status."""
        return web.json_response({"error": self.reason, **extra}, status=self.status)


BODY_TIMEOUT = web.AppKey("body_timeout", float)


def body_timeout(request: web.Request) -> float:
    """The configured body read timeout (``http.body_timeout``), or the default."""
    return float(request.app.get(BODY_TIMEOUT, DEFAULT_TIMEOUT)) if request.app is not None else DEFAULT_TIMEOUT


async def read_body(request: web.Request, limit: int, seconds: float | None = None) -> bytes:
    """The whole body, however many TCP segments it came in; ``BodyError`` 413 past ``limit`` bytes,
    408 when it takes longer than ``seconds``, 400 when the client went away mid-body."""
    if request.content_length is not None and request.content_length > limit:
        raise BodyError(413, f"body larger than {limit} bytes")
    chunks: list[bytes] = []
    size = 0
    try:
        async with asyncio.timeout(seconds if seconds is not None else body_timeout(request)):
            while True:
                chunk = await request.content.read(65_536)
                if not chunk:
                    break
                size += len(chunk)
                if size > limit:
                    raise BodyError(413, f"body larger than {limit} bytes")
                chunks.append(chunk)
    except TimeoutError:
        log.warning("%s %s: body not received within the timeout; answered 408", request.method, request.path)
        raise BodyError(408, "the body did not arrive in time") from None
    except (ConnectionError, aiohttp.ClientPayloadError, HttpProcessingError, asyncio.IncompleteReadError):
        log.info("%s %s: the client went away before sending the whole body", request.method, request.path)
        raise BodyError(400, "incomplete body") from None
    return b"".join(chunks)


class _NonFinite(ValueError):
    pass


def _refuse_constant(name: str) -> Any:
    raise _NonFinite(name)


def _depth(value: Any) -> int:
    deepest, stack = 0, [(value, 1)]
    while stack:
        node, level = stack.pop()
        if isinstance(node, dict):
            node = list(node.values())
        if isinstance(node, list):
            deepest = max(deepest, level)
            if level > MAX_DEPTH:
                return level
            stack.extend((child, level + 1) for child in node)
    return deepest


def parse_json(body: bytes) -> Any:
    """JSON from a UTF-8 body (RFC 8259 §8.1); ``BodyError`` 400 or 422 with the reason otherwise."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise BodyError(400, "the body must be JSON encoded as UTF-8") from None
    try:
        value = json.loads(text, parse_constant=_refuse_constant)
    except _NonFinite as exc:
        raise BodyError(422, f"{exc} is not a JSON number") from None
    except RecursionError:
        raise BodyError(422, f"JSON nested deeper than {MAX_DEPTH} levels") from None
    except ValueError as exc:  # JSONDecodeError, and integers past Python's 4,300-digit limit
        raise BodyError(400, f"malformed JSON: {str(exc).split(';')[0][:120]}") from None
    if _depth(value) > MAX_DEPTH:
        raise BodyError(422, f"JSON nested deeper than {MAX_DEPTH} levels")
    return value


def header_bytes(request: web.Request, name: str) -> bytes:
    """A header's value as bytes, whatever bytes the client sent (aiohttp keeps undecodable ones as
    surrogate escapes, which ``str.encode()`` refuses)."""
    return request.headers.get(name, "").encode("utf-8", "surrogateescape")


async def read_form(request: web.Request, limit: int = 65_536) -> dict[str, str]:
    """A small HTML form (``application/x-www-form-urlencoded``) read whole: its fields, the last value
    of each. ``BodyError`` 415 for any other body (a multipart upload where a login form is expected),
    400 when it is not UTF-8, and as ``read_body`` for size, time and a client gone mid-body."""
    kind = request.content_type or ""
    if kind not in ("application/x-www-form-urlencoded", "application/octet-stream", ""):
        raise BodyError(415, "expected an HTML form (application/x-www-form-urlencoded)")
    body = await read_body(request, limit)
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise BodyError(400, "the form is not UTF-8") from None
    return {key: values[-1] for key, values in parse_qs(text, keep_blank_values=True).items()}

