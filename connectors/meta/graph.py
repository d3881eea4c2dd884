"""A small Graph API client for the Meta connectors, and what each Graph error means for us.

Graph errors are ``{"error": {"message", "type", "code", "error_subcode", "fbtrace_id"}}``. We sort them
into the daemon's error tree (Messenger Platform "Common error codes", Graph API "Rate limiting"):

- throttling — 4 (app), 17 (user), 32 (Page), 613 (calls per hour), 80001 / 80002 / 80006 (Page,
  Instagram, Messenger business-use-case limits): ``RetryableError`` with the wait Meta announces in
  ``X-Business-Use-Case-Usage`` / ``X-App-Usage`` (``estimated_time_to_regain_access``, minutes);
- 190 (expired or invalidated token, any subcode) and 102: ``TokenRefusedError`` — the connector parks;
- 1, 2, 1200 and HTTP 5xx: temporary, ``RetryableError``;
- 10 with subcode 2018278 / 2534022 (outside the messaging window): ``WindowClosedError``;
- 10900 / 10903 on a private reply (already replied / too old): ``PrivateReplyUsedError``;
- anything else: ``PermanentDeliveryError``.

The token is sent as a bearer header and never logged; exceptions carry Meta's message, not the request.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import aiohttp

from omnichannel.errors import AuthError, PermanentDeliveryError, RetryableError

log = logging.getLogger(__name__)

THROTTLED = {4, 17, 32, 613, 80001, 80002, 80006}
TEMPORARY = {1, 2, 1200}
TOKEN = {102, 190}
WINDOW_SUBCODES = {2018278, 2534022}
PRIVATE_REPLY_USED = {10900, 10903}


class TokenRefusedError(AuthError):
    """The Page access token expired or was invalidated (Graph error 190): park until an operator acts."""


class WindowClosedError(PermanentDeliveryError):
    """Meta refused a message outside the messaging window."""


class PrivateReplyUsedError(PermanentDeliveryError):
    """The one private reply a comment allows was already sent (10900), or the comment is too old (10903)."""

    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.code = code


def _wait_hint(headers: Any, default: float) -> float:
    """Seconds until access returns, from the usage headers Meta sends with a throttling error."""
    best = 0.0
    for name in ("X-Business-Use-Case-Usage", "X-App-Usage", "X-Page-Usage"):
        raw = headers.get(name) if headers is not None else None
        if not raw:
            continue
        try:
            data = json.loads(raw)
        except ValueError:
            continue
        entries = [e for v in data.values() if isinstance(v, list) for e in v] if isinstance(data, dict) else []
        entries += [data] if isinstance(data, dict) else []
        for entry in entries:
            if isinstance(entry, dict):
                try:
                    best = max(best, float(entry.get("estimated_time_to_regain_access") or 0) * 60)
                except (TypeError, ValueError):
                    continue
    return best or default


def classify(status: int, body: Any, headers: Any = None, retry_after: float = 60.0) -> Exception:
    """The daemon error for a Graph error answer."""
    error = body.get("error") if isinstance(body, dict) else None
    error = error if isinstance(error, dict) else {}
    code, sub = error.get("code"), error.get("error_subcode")
    text = f"Graph error {code}" + (f"/{sub}" if sub else "") + f": {error.get('message') or f'HTTP {status}'}"
    if code in THROTTLED or status == 429:
        return RetryableError(f"rate limited ({text})", retry_after=_wait_hint(headers, retry_after))
    if code in TOKEN:
        return TokenRefusedError(f"access token refused ({text})")
    if code in TEMPORARY or status >= 500:
        return RetryableError(f"temporary ({text})")
    if code == 10 and sub in WINDOW_SUBCODES:
        return WindowClosedError(text)
    if code in PRIVATE_REPLY_USED:
        return PrivateReplyUsedError(text, code)
    if status in (401, 403) and code is None:
        return TokenRefusedError(f"access token refused (HTTP {status})")
    return PermanentDeliveryError(text)


class Graph:
    """Bearer-token calls to ``{base}/{version}/...`` with one timeout; errors translated by ``classify``."""

    def __init__(self, base_url: str, version: str, token: str, timeout: float, retry_after: float = 60.0) -> None:
        self.base, self.version, self._token = base_url.rstrip("/"), version, token
        self.timeout, self.retry_after = timeout, retry_after
        self._session: aiohttp.ClientSession | None = None

    def url(self, path: str) -> str:
        """The absolute URL of a Graph path such as ``123/messages``."""
        return f"{self.base}/{self.version}/{path.lstrip('/')}"

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self.timeout))
        return self._session

    async def close(self) -> None:
        """Close the HTTP session (safe twice)."""
        session, self._session = self._session, None
        if session is not None:
            await session.close()

    async def call(self, method: str, path_or_url: str, *, params: dict[str, Any] | None = None,
                   body: dict[str, Any] | None = None) -> dict[str, Any]:
        """One Graph call; returns the JSON object, raises a daemon error otherwise."""
        url = path_or_url if path_or_url.startswith("http") else self.url(path_or_url)
        headers = {"Authorization": f"Bearer {self._token}"}
        try:
            async with self._client().request(method, url, params=params, json=body, headers=headers) as resp:
                try:
                    data = await resp.json(content_type=None)
                except ValueError:
                    data = None
                status, answer_headers = resp.status, resp.headers
        except (aiohttp.ClientError, TimeoutError) as exc:
            # never the exception itself: aiohttp's repr may carry the request headers (the token)
            raise RetryableError(f"Graph API unreachable: {type(exc).__name__}") from None
        if status < 300 and isinstance(data, dict):
            return data
        raise classify(status, data, answer_headers, self.retry_after)

    async def get(self, path: str, **params: Any) -> dict[str, Any]:
        """GET a node or edge."""
        return await self.call("GET", path, params={k: str(v) for k, v in params.items()})

    async def post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        """POST a JSON body to an edge."""
        return await self.call("POST", path, body=body)

    async def pages(self, path: str, most: int, **params: Any) -> list[dict[str, Any]]:
        """The ``data`` items of an edge, following ``paging.next`` until ``most`` items were read."""
        items: list[dict[str, Any]] = []
        answer = await self.get(path, **params)
        while True:
            items.extend(d for d in answer.get("data") or [] if isinstance(d, dict))
            following = (answer.get("paging") or {}).get("next")
            if len(items) >= most or not following:
                return items[:most]
            answer = await self.call("GET", following)

    async def download(self, url: str, limit: int) -> tuple[bytes | None, str, str | None]:
        """(content or None, content type, reason when not downloaded) of an attachment URL (no token sent:
        attachment URLs are signed CDN links, and the token must not travel to another host)."""
        try:
            async with self._client().get(url) as resp:
                if resp.status >= 300:
                    return None, "", f"download failed: HTTP {resp.status}"
                declared = int(resp.headers.get("Content-Length") or 0)
                if declared > limit:
                    return None, resp.content_type, f"larger than {limit} bytes ({declared})"
                data = await resp.content.read(limit + 1)
                while len(data) <= limit:
                    more = await resp.content.read(limit + 1 - len(data))
                    if not more:
                        break
                    data += more
                if len(data) > limit:
                    return None, resp.content_type, f"larger than {limit} bytes"
                return data, resp.content_type, None
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            return None, "", f"download failed: {type(exc).__name__}"
