"""Redis Streams forwarder against the Redis service on 127.0.0.1:6379 (skipped when absent)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio

from omnichannel.errors import PermanentDeliveryError, RetryableError
from omnichannel.types import OutboxItem
from router.delivery.forwarders.redis import RedisStreamConfig, RedisStreamForwarder
from tests.conftest import port_open
from tests.contract.forwarder_contract import ForwarderContract, ticket_payload
from tests.router.delivery.forwarders.tcp_proxy import TcpProxy

pytestmark = pytest.mark.skipif(not port_open("127.0.0.1", 6379), reason="Redis is not running on 127.0.0.1:6379")


@pytest_asyncio.fixture
async def redis_client() -> AsyncIterator[Any]:
    import redis.asyncio as aioredis

    client = aioredis.from_url("redis://127.0.0.1:6379/0", decode_responses=True)
    prefix = f"omni-test-{uuid.uuid4().hex[:8]}"
    client.prefix = prefix
    yield client
    keys = [k async for k in client.scan_iter(f"{prefix}*")]
    if keys:
        await client.delete(*keys)
    await client.aclose()


class RedisRemote:
    supports = {"ok", "reject", "hang", "down", "dedupe"}
    retry_after = 0.0

    def __init__(self, client: Any, proxy: TcpProxy) -> None:
        self.client = client
        self.proxy = proxy
        self.stream = f"{client.prefix}:dpupr"

    async def set_mode(self, mode: str) -> None:
        if mode == "reject":  # the stream key holds a string: WRONGTYPE, a permanent error
            await self.client.set(self.stream, "not a stream")
            return
        if mode == "ok" and await self.client.type(self.stream) == "string":
            await self.client.delete(self.stream)
        await self.proxy.set_mode(mode)

    def make_config(self, name: str) -> RedisStreamConfig:
        return RedisStreamConfig(name=name, url=f"redis://127.0.0.1:{self.proxy.port}/0",
                                 stream=f"{self.client.prefix}:{{agency}}", timeout=1.0, connect_timeout=1.0,
                                 max_attempts=3)

    async def received(self) -> list[str]:
        if await self.client.type(self.stream) != "stream":
            return []
        return [fields["idempotency_key"] for _, fields in await self.client.xrange(self.stream)]


@pytest_asyncio.fixture
async def proxy() -> AsyncIterator[TcpProxy]:
    p = await TcpProxy("127.0.0.1", 6379).start()
    yield p
    await p.stop()


class TestRedisContract(ForwarderContract):
    @pytest.fixture
    def contract_remote(self, redis_client: Any, proxy: TcpProxy) -> RedisRemote:
        return RedisRemote(redis_client, proxy)


async def test_entry_fields_and_dedupe_guard(redis_client: Any) -> None:
    cfg = RedisStreamConfig(name="rs", stream=f"{redis_client.prefix}:{{agency}}", dedupe_ttl=60)
    fwd = RedisStreamForwarder("rs", cfg)
    await fwd.start(None)  # type: ignore[arg-type]
    try:
        item = OutboxItem(1, "ticket", "TIK-2026-000001", "rs", ticket_payload(1))
        first = await fwd.send(item, "ticket:TIK-2026-000001:rs")
        second = await fwd.send(item, "ticket:TIK-2026-000001:rs")
        other = await fwd.send(OutboxItem(2, "ticket", "TIK-2026-000002", "rs", ticket_payload(2)), "k2")
        assert first.remote_ref == second.remote_ref != other.remote_ref
        assert (first.detail["added"], second.detail["added"]) == (True, False)
        entries = await redis_client.xrange(f"{redis_client.prefix}:dpupr")
        assert len(entries) == 2
        fields = entries[0][1]
        assert fields["idempotency_key"] == "ticket:TIK-2026-000001:rs" and fields["type"] == "ticket"
        assert '"ticket":"TIK-2026-000001"' in fields["payload"]
        ttl = await redis_client.ttl(f"{redis_client.prefix}:dpupr:sent:ticket:TIK-2026-000001:rs")
        assert 0 < ttl <= 60
        assert "PING" in await fwd.probe()
    finally:
        await fwd.stop()


async def test_errors_are_translated(redis_client: Any) -> None:
    fwd = RedisStreamForwarder("rs", RedisStreamConfig(name="rs", url="redis://127.0.0.1:9/0", connect_timeout=1,
                                                       stream=f"{redis_client.prefix}:x"))
    await fwd.start(None)  # type: ignore[arg-type]
    try:
        with pytest.raises(RetryableError):
            await fwd.send(OutboxItem(1, "ticket", "T", "rs", {}), "k")
    finally:
        await fwd.stop()
    await redis_client.set(f"{redis_client.prefix}:x", "str")
    fwd = RedisStreamForwarder("rs", RedisStreamConfig(name="rs", stream=f"{redis_client.prefix}:x"))
    await fwd.start(None)  # type: ignore[arg-type]
    try:
        with pytest.raises(PermanentDeliveryError, match="WRONGTYPE"):
            await fwd.send(OutboxItem(1, "ticket", "T", "rs", {}), "k")
    finally:
        await fwd.stop()
