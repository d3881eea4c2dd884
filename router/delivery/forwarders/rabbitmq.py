"""Forwarder kind ``rabbitmq``: a persistent AMQP message per item, confirmed by the broker (aio-pika).

``message_id`` is the idempotency key (consumers drop repeats by it); delivery mode persistent;
publisher confirms on, ``mandatory`` with returns raised, so an item counts as delivered only when the
broker has routed it to a queue and confirmed it. Unroutable or nacked → retry; a missing exchange or a
refused permission → dead letter; a broker that is down or slow → retry.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any, ClassVar, Literal

from pydantic import Field, SecretStr

from omnichannel.config import ForwarderConfig
from omnichannel.errors import AuthError, PermanentDeliveryError, RetryableError
from omnichannel.protocols import PluginContext
from omnichannel.types import OutboxItem, Receipt

log = logging.getLogger(__name__)


class RabbitMQConfig(ForwarderConfig):
    """Broker, exchange and routing."""

    kind: Literal["rabbitmq"] = "rabbitmq"
    host: str = "127.0.0.1"
    port: int = Field(5672, ge=1, le=65535)
    virtualhost: str = "/"
    username: str = "guest"
    password: SecretStr | None = Field(None, description="from ${ENV}")
    ssl: bool = False
    exchange: str = Field("omnichannel", description="'' publishes to the default exchange")
    exchange_type: Literal["topic", "direct", "fanout", "headers"] = "topic"
    declare: bool = Field(True, description="declare the exchange (durable) and the queue below at connect")
    routing_key: str = Field("omnichannel.{item_type}.{agency}", description="{item_type}, {agency} filled in")
    queue: str | None = Field(None, description="a durable queue to declare and bind, so nothing is dropped "
                                                "before the agency's consumer first connects")
    binding_key: str = "omnichannel.#"


class RabbitMQForwarder:
    """Publishes each item with publisher confirms; reconnects lazily after a failure."""

    kind: ClassVar[str] = "rabbitmq"

    def __init__(self, name: str, config: RabbitMQConfig) -> None:
        self.name = name
        self.config = config
        self._connection: Any = None
        self._channel: Any = None
        self._exchange: Any = None
        self._lock = asyncio.Lock()

    async def start(self, ctx: PluginContext) -> None:
        """Nothing network-bound: the first send connects (a broker that is down must not stop the daemon)."""
        import aio_pika  # noqa: F401  (fail early when the library is missing)

    async def _connect(self) -> Any:
        import aio_pika

        async with self._lock:
            if self._exchange is not None and self._channel is not None and not self._channel.is_closed:
                return self._exchange
            await self._close()
            c = self.config
            self._connection = await aio_pika.connect(
                host=c.host, port=c.port, login=c.username, virtualhost=c.virtualhost, ssl=c.ssl,
                password=c.password.get_secret_value() if c.password else "guest", timeout=c.timeout)
            self._channel = await self._connection.channel(publisher_confirms=True, on_return_raises=True)
            if not c.exchange:
                self._exchange = self._channel.default_exchange
            elif c.declare:
                self._exchange = await self._channel.declare_exchange(c.exchange, c.exchange_type, durable=True)
            else:
                self._exchange = await self._channel.get_exchange(c.exchange, ensure=True)
            if c.queue and c.declare:
                queue = await self._channel.declare_queue(c.queue, durable=True)
                if c.exchange:
                    await queue.bind(self._exchange, routing_key=c.binding_key)
            return self._exchange

    async def _close(self) -> None:
        connection, self._connection, self._channel, self._exchange = self._connection, None, None, None
        if connection is not None:
            try:
                await asyncio.wait_for(connection.close(), min(5.0, self.config.timeout))
            except Exception:  # already broken; nothing more to release
                pass

    def routing_key_for(self, item: OutboxItem) -> str:
        """The routing key of ``item``."""
        agency = str(item.payload.get("agency") or "all")
        return self.config.routing_key.replace("{item_type}", item.item_type).replace("{agency}", agency)

    async def send(self, item: OutboxItem, idempotency_key: str) -> Receipt:
        """Publish and wait for the broker's confirm."""
        import aio_pika
        from aio_pika import exceptions as ax

        body = json.dumps({"type": item.item_type, "ref": item.item_ref, "idempotency_key": idempotency_key,
                           "payload": item.payload}, ensure_ascii=False, default=str).encode()
        message = aio_pika.Message(body, message_id=idempotency_key, content_type="application/json",
                                   delivery_mode=aio_pika.DeliveryMode.PERSISTENT, type=item.item_type,
                                   headers={"idempotency-key": idempotency_key, "item-ref": item.item_ref})
        key = self.routing_key_for(item)
        try:
            exchange = await asyncio.wait_for(self._connect(), self.config.timeout)
            confirm = await exchange.publish(message, routing_key=key, mandatory=True, timeout=self.config.timeout)
        except ax.DeliveryError as exc:  # returned (unroutable) or nacked
            raise RetryableError(f"rabbitmq {self.name}: not routed/confirmed for {key!r}: {exc}") from exc
        except (ax.ChannelNotFoundEntity, ax.ChannelPreconditionFailed) as exc:
            await self._close()
            raise PermanentDeliveryError(f"rabbitmq {self.name}: {type(exc).__name__}: {exc}") from exc
        except ax.ChannelClosed as exc:
            await self._close()
            if "ACCESS_REFUSED" in str(exc):
                raise PermanentDeliveryError(f"rabbitmq {self.name}: {exc}") from exc
            raise RetryableError(f"rabbitmq {self.name}: {type(exc).__name__}: {exc}") from exc
        except (ax.AuthenticationError, ax.ProbableAuthenticationError) as exc:
            await self._close()
            raise AuthError(f"rabbitmq {self.name}: login refused: {exc}") from exc
        except (TimeoutError, ax.AMQPError, ConnectionError, OSError) as exc:
            await self._close()
            raise RetryableError(f"rabbitmq {self.name}: {type(exc).__name__}: {exc}") from exc
        log.debug("rabbitmq %s published %s to %s", self.name, idempotency_key, key)
        return Receipt(remote_ref=idempotency_key, detail={"routing_key": key, "confirm": type(confirm).__name__})

    async def stop(self) -> None:
        """Close the connection; safe to call twice."""
        await self._close()

    async def probe(self) -> str:
        """Connect, open a channel and check the exchange."""
        try:
            await asyncio.wait_for(self._connect(), self.config.timeout)
        except Exception as exc:
            raise RetryableError(f"rabbitmq {self.config.host}:{self.config.port}: {exc}") from exc
        finally:
            await self._close()
        return f"rabbitmq {self.config.host}:{self.config.port} exchange {self.config.exchange!r} ready"
