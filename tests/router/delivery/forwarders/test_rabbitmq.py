"""RabbitMQ forwarder against the broker on 127.0.0.1:5672 (guest/guest; skipped when absent)."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio
from pydantic import SecretStr

from omnichannel.errors import RetryableError
from omnichannel.types import OutboxItem
from router.delivery.forwarders.rabbitmq import RabbitMQConfig, RabbitMQForwarder
from tests.conftest import port_open
from tests.contract.forwarder_contract import ForwarderContract, ticket_payload
from tests.router.delivery.forwarders.tcp_proxy import TcpProxy

pytestmark = pytest.mark.skipif(not port_open("127.0.0.1", 5672),
                                reason="RabbitMQ is not running on 127.0.0.1:5672")


class Broker:
    """A direct connection for the test: declares, inspects and cleans up one exchange and queue."""

    def __init__(self) -> None:
        tag = uuid.uuid4().hex[:8]
        self.exchange = f"omni-test-{tag}"
        self.queue = f"omni-test-q-{tag}"
        self.connection: Any = None
        self.channel: Any = None
        self.seen: list[str] = []

    async def open(self) -> Broker:
        import aio_pika

        self.connection = await aio_pika.connect("amqp://guest:guest@127.0.0.1:5672/", timeout=5)
        self.channel = await self.connection.channel()
        await self.declare()
        return self

    async def declare(self) -> None:
        ex = await self.channel.declare_exchange(self.exchange, "topic", durable=True)
        q = await self.channel.declare_queue(self.queue, durable=True)
        await q.bind(ex, routing_key="omnichannel.#")

    async def drop_exchange(self) -> None:
        await self.channel.exchange_delete(self.exchange)

    async def messages(self) -> list[Any]:
        from aio_pika.exceptions import QueueEmpty

        q = await self.channel.get_queue(self.queue)
        out = []
        while True:
            try:
                out.append(await q.get(no_ack=True, timeout=5))
            except QueueEmpty:
                return out

    async def close(self) -> None:
        await self.channel.exchange_delete(self.exchange)
        await self.channel.queue_delete(self.queue)
        await self.connection.close()


@pytest_asyncio.fixture
async def broker() -> AsyncIterator[Broker]:
    b = await Broker().open()
    yield b
    await b.close()


@pytest_asyncio.fixture
async def proxy() -> AsyncIterator[TcpProxy]:
    p = await TcpProxy("127.0.0.1", 5672).start()
    yield p
    await p.stop()


class RabbitRemote:
    supports = {"ok", "reject", "hang", "down"}
    retry_after = 0.0

    def __init__(self, broker: Broker, proxy: TcpProxy) -> None:
        self.broker = broker
        self.proxy = proxy

    async def set_mode(self, mode: str) -> None:
        if mode == "reject":  # the agency's exchange is gone: NOT_FOUND, a permanent error
            await self.broker.drop_exchange()
            return
        if mode == "ok":
            await self.broker.declare()
        await self.proxy.set_mode(mode)

    def make_config(self, name: str) -> RabbitMQConfig:
        return RabbitMQConfig(name=name, port=self.proxy.port, password=SecretStr("guest"),
                              exchange=self.broker.exchange, declare=False, timeout=1.0, max_attempts=3)

    async def received(self) -> list[str]:
        self.broker.seen += [m.message_id for m in await self.broker.messages()]
        return list(self.broker.seen)


class TestRabbitMQContract(ForwarderContract):
    @pytest.fixture
    def contract_remote(self, broker: Broker, proxy: TcpProxy) -> RabbitRemote:
        return RabbitRemote(broker, proxy)


async def test_message_is_persistent_with_the_key_as_message_id(broker: Broker) -> None:
    cfg = RabbitMQConfig(name="mq", password=SecretStr("guest"), exchange=broker.exchange)
    fwd = RabbitMQForwarder("mq", cfg)
    await fwd.start(None)  # type: ignore[arg-type]
    try:
        receipt = await fwd.send(OutboxItem(1, "ticket", "TIK-2026-000001", "mq", ticket_payload(1)),
                                 "ticket:TIK-2026-000001:mq")
        assert "ready" in await fwd.probe()
    finally:
        await fwd.stop()
    [msg] = await broker.messages()
    assert msg.message_id == receipt.remote_ref == "ticket:TIK-2026-000001:mq"
    assert msg.delivery_mode == 2 and msg.routing_key == "omnichannel.ticket.dpupr"
    assert json.loads(msg.body)["payload"]["ticket"] == "TIK-2026-000001"


async def test_unroutable_is_retried_not_lost(broker: Broker) -> None:
    cfg = RabbitMQConfig(name="mq", password=SecretStr("guest"), exchange=broker.exchange,
                         routing_key="elsewhere.{agency}")
    fwd = RabbitMQForwarder("mq", cfg)
    await fwd.start(None)  # type: ignore[arg-type]
    try:
        with pytest.raises(RetryableError, match="not routed"):
            await fwd.send(OutboxItem(1, "ticket", "T", "mq", ticket_payload(1)), "k")
    finally:
        await fwd.stop()
