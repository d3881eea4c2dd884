"""Forwarder kind ``webhook``: a signed JSON POST to an agency's own system.

Body: ``{"type", "ref", "idempotency_key", "attempt", "payload"}``. Headers: ``Idempotency-Key``
(the receiver keeps the first and answers 2xx to repeats) and, when a secret is set,
``X-Omnichannel-Signature: sha256=<hex HMAC-SHA256 of the raw body>``.
2xx → done; 408, 425, 429 and 5xx → retry (``Retry-After`` honoured); other 4xx and 3xx → dead letter;
timeouts and refused connections → retry.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import ClassVar, Literal

import aiohttp
from pydantic import Field, SecretStr

from omnichannel.config import ForwarderConfig
from omnichannel.errors import PermanentDeliveryError, RetryableError
from omnichannel.protocols import PluginContext
from omnichannel.types import OutboxItem, Receipt

log = logging.getLogger(__name__)

RETRYABLE_STATUS = {408, 425, 429}


class WebhookConfig(ForwarderConfig):
    """Where to POST and how to sign."""

    kind: Literal["webhook"] = "webhook"
    url: str = Field(pattern=r"^https?://")
    secret: SecretStr | None = Field(None, description="HMAC-SHA256 key, from ${ENV}")
    signature_header: str = "X-Omnichannel-Signature"
    headers: dict[str, str] = Field(default_factory=dict, description="extra headers (no secrets)")
    connect_timeout: float = Field(10.0, gt=0)


def sign(secret: bytes, body: bytes) -> str:
    """The signature header value for ``body``."""
    return "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()


def parse_retry_after(value: str | None) -> float | None:
    """``Retry-After`` as seconds (delta-seconds or an HTTP date, RFC 9110 §10.2.3)."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


class WebhookForwarder:
    """POSTs each item as signed JSON; never retries by itself."""

    kind: ClassVar[str] = "webhook"

    def __init__(self, name: str, config: WebhookConfig) -> None:
        self.name = name
        self.config = config
        self._session: aiohttp.ClientSession | None = None

    async def start(self, ctx: PluginContext) -> None:
        """Open the HTTP client (no request yet: a receiver that is down must not stop the daemon)."""
        timeout = aiohttp.ClientTimeout(total=self.config.timeout, sock_connect=self.config.connect_timeout)
        connector = aiohttp.TCPConnector(limit=max(self.config.max_in_flight, 1) * 2)
        self._session = aiohttp.ClientSession(timeout=timeout, connector=connector,
                                              headers={"User-Agent": "omnichannel-webhook/1"})

    def body(self, item: OutboxItem, idempotency_key: str) -> bytes:
        """The exact bytes that are signed and sent."""
        doc = {"type": item.item_type, "ref": item.item_ref, "idempotency_key": idempotency_key,
               "attempt": item.attempt, "payload": item.payload}
        return json.dumps(doc, ensure_ascii=False, separators=(",", ":"), default=str).encode()

    def headers(self, body: bytes, idempotency_key: str) -> dict[str, str]:
        """Content type, idempotency key and signature."""
        headers = {**self.config.headers, "Content-Type": "application/json; charset=utf-8",
                   "Idempotency-Key": idempotency_key}
        if self.config.secret is not None:
            headers[self.config.signature_header] = sign(self.config.secret.get_secret_value().encode(), body)
        return headers

    async def send(self, item: OutboxItem, idempotency_key: str) -> Receipt:
        """POST one item; translate the answer into done / retry / dead letter."""
        if self._session is None:
            raise RetryableError(f"webhook {self.name} is not started")
        body = self.body(item, idempotency_key)
        try:
            async with self._session.post(self.config.url, data=body, allow_redirects=False,
                                          headers=self.headers(body, idempotency_key)) as resp:
                text = (await resp.content.read(4096)).decode("utf-8", "replace")
                status = resp.status
                retry_after = parse_retry_after(resp.headers.get("Retry-After"))
                remote = resp.headers.get("X-Request-Id")
        except TimeoutError as exc:
            raise RetryableError(f"webhook {self.name}: timed out after {self.config.timeout:.0f}s") from exc
        except aiohttp.InvalidURL as exc:
            raise PermanentDeliveryError(f"webhook {self.name}: invalid URL {exc}") from exc
        except (aiohttp.ClientError, OSError) as exc:
            raise RetryableError(f"webhook {self.name}: {type(exc).__name__}: {exc}") from exc
        if 200 <= status < 300:
            ref = remote
            if ref is None and text.startswith("{"):
                try:
                    doc = json.loads(text)
                    ref = str(doc.get("id") or doc.get("ref") or "") or None
                except (ValueError, AttributeError):
                    ref = None
            log.debug("webhook %s accepted %s (HTTP %s)", self.name, idempotency_key, status)
            return Receipt(remote_ref=ref, detail={"status": status})
        reason = f"webhook {self.name}: HTTP {status}: {text[:200]}"
        if status in RETRYABLE_STATUS or status >= 500:
            raise RetryableError(reason, retry_after=retry_after)
        raise PermanentDeliveryError(reason)

    async def stop(self) -> None:
        """Close the HTTP client; safe to call twice."""
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def probe(self) -> str:
        """Connect to the receiver (a HEAD request; any HTTP answer means it is reachable)."""
        timeout = aiohttp.ClientTimeout(total=min(self.config.timeout, 10))
        try:
            async with aiohttp.ClientSession(timeout=timeout) as session, \
                    session.head(self.config.url, allow_redirects=False) as resp:
                return f"webhook {self.config.url} answers HTTP {resp.status}"
        except (TimeoutError, aiohttp.ClientError, OSError) as exc:
            raise RetryableError(f"webhook {self.config.url} unreachable: {exc}") from exc
