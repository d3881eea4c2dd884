"""Webhook forwarder: the shared contract against a local aiohttp receiver, plus signing and Retry-After."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio
from pydantic import SecretStr

from omnichannel.errors import PermanentDeliveryError, RetryableError
from omnichannel.types import OutboxItem
from router.delivery.forwarders.webhook import WebhookConfig, WebhookForwarder, parse_retry_after
from tests.contract.forwarder_contract import ForwarderContract, ticket_payload
from tests.router.delivery.forwarders.webhook_sink import WebhookSink

SECRET = b"rahasia-uji"


class SinkRemote:
    """Drives a WebhookSink for the contract suite."""

    supports = {"ok", "reject", "throttle", "fail", "hang", "down", "dedupe"}
    retry_after = 7.0

    def __init__(self, sink: WebhookSink) -> None:
        self.sink = sink
        self.port = sink.port

    async def set_mode(self, mode: str) -> None:
        if mode == "down":
            await self.sink.stop()
            return
        if self.sink.runner is None:
            await self.sink.start(self.port)
        self.sink.mode = mode
        self.sink.hang_for = 5.0

    def make_config(self, name: str) -> WebhookConfig:
        return WebhookConfig(name=name, url=f"http://127.0.0.1:{self.port}/hook", secret=SecretStr(SECRET.decode()),
                             timeout=1.0, max_attempts=3)

    async def received(self) -> list[str]:
        return list(self.sink.accepted_order)


@pytest_asyncio.fixture
async def sink() -> AsyncIterator[WebhookSink]:
    s = await WebhookSink(secret=SECRET).start()
    yield s
    await s.stop()


class TestWebhookContract(ForwarderContract):
    @pytest.fixture
    def contract_remote(self, sink: WebhookSink) -> SinkRemote:
        return SinkRemote(sink)


@pytest_asyncio.fixture
async def forwarder(sink: WebhookSink, tmp_path: Any) -> AsyncIterator[WebhookForwarder]:
    f = WebhookForwarder("wh", WebhookConfig(name="wh", url=sink.url, secret=SecretStr(SECRET.decode()), timeout=1))
    await f.start(None)  # type: ignore[arg-type]
    yield f
    await f.stop()


async def test_body_is_signed_and_carries_the_key(sink: WebhookSink, forwarder: WebhookForwarder) -> None:
    item = OutboxItem(1, "ticket", "TIK-2026-000001", "wh", ticket_payload(1), attempt=2)
    receipt = await forwarder.send(item, "ticket:TIK-2026-000001:wh")
    assert receipt.remote_ref == "R1"
    assert sink.bad_signatures == 0
    doc = sink.accepted["ticket:TIK-2026-000001:wh"]["doc"]
    assert doc["idempotency_key"] == "ticket:TIK-2026-000001:wh" and doc["attempt"] == 2
    assert doc["payload"]["ticket"] == "TIK-2026-000001"
    body = forwarder.body(item, "k")
    assert forwarder.headers(body, "k")["X-Omnichannel-Signature"] == (
        "sha256=" + hmac.new(SECRET, body, hashlib.sha256).hexdigest())
    assert json.loads(body)["type"] == "ticket"


async def test_wrong_secret_is_a_permanent_failure(sink: WebhookSink) -> None:
    f = WebhookForwarder("wh", WebhookConfig(name="wh", url=sink.url, secret=SecretStr("salah"), timeout=1))
    await f.start(None)  # type: ignore[arg-type]
    try:
        with pytest.raises(PermanentDeliveryError, match="401"):
            await f.send(OutboxItem(1, "ticket", "T", "wh", {}), "ticket:T:wh")
    finally:
        await f.stop()
    assert sink.bad_signatures == 1 and not sink.accepted


async def test_retry_after_as_http_date(sink: WebhookSink, forwarder: WebhookForwarder) -> None:
    sink.mode = "throttle"
    sink.retry_after = "Wed, 21 Oct 2099 07:28:00 GMT"
    with pytest.raises(RetryableError) as info:
        await forwarder.send(OutboxItem(1, "ticket", "T", "wh", {}), "ticket:T:wh")
    assert info.value.retry_after is not None and info.value.retry_after > 86400


def test_parse_retry_after() -> None:
    assert parse_retry_after("120") == 120.0
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None


def test_config_needs_http_url() -> None:
    with pytest.raises(ValueError):
        WebhookConfig(name="wh", url="ftp://x")
