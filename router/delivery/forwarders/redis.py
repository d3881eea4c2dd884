"""Forwarder kind ``redis``: one Redis Streams entry per item, added at most once per idempotency key.

A Lua script (atomic on the server) checks a guard key ``<stream>:sent:<idempotency key>``; when it is
absent it runs ``XADD`` and stores the new entry id in the guard with a TTL; when present it returns the
stored id. So a retry after a lost answer never adds a second entry, and both answers carry the same
remote ref. Entry fields: ``idempotency_key``, ``type``, ``ref``, ``payload`` (JSON).
"""

from __future__ import annotations

import json
import logging
from typing import Any, ClassVar, Literal

from pydantic import Field, SecretStr

from omnichannel.config import ForwarderConfig
from omnichannel.errors import AuthError, PermanentDeliveryError, RetryableError
from omnichannel.protocols import PluginContext
from omnichannel.types import OutboxItem, Receipt

log = logging.getLogger(__name__)

ADD_ONCE = """
local seen = redis.call('GET', KEYS[2])
if seen then return {seen, 0} end
local id
if tonumber(ARGV[2]) > 0 then
  id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[2], '*', 'idempotency_key', ARGV[3], 'type', ARGV[4],
                  'ref', ARGV[5], 'payload', ARGV[6])
else
  id = redis.call('XADD', KEYS[1], '*', 'idempotency_key', ARGV[3], 'type', ARGV[4], 'ref', ARGV[5],
                  'payload', ARGV[6])
end
redis.call('SET', KEYS[2], id, 'EX', ARGV[1])
return {id, 1}
"""


class RedisStreamConfig(ForwarderConfig):
    """Where the stream lives."""

    kind: Literal["redis"] = "redis"
    url: str = Field("redis://127.0.0.1:6379/0", pattern=r"^rediss?://")
    password: SecretStr | None = Field(None, description="from ${ENV}; not in the URL")
    stream: str = Field("omnichannel:{agency}", description="stream key; {agency} and {item_type} are filled in")
    maxlen: int = Field(0, ge=0, description="approximate MAXLEN trim; 0 keeps everything")
    dedupe_ttl: int = Field(30 * 86400, gt=0, description="seconds a sent key is remembered")
    connect_timeout: float = Field(5.0, gt=0)


class RedisStreamForwarder:
    """XADDs each item to the agency's stream."""

    kind: ClassVar[str] = "redis"

    def __init__(self, name: str, config: RedisStreamConfig) -> None:
        self.name = name
        self.config = config
        self._client: Any = None
        self._script: Any = None

    async def start(self, ctx: PluginContext) -> None:
        """Create the client (it connects on first use: a Redis that is down must not stop the daemon)."""
        import redis.asyncio as aioredis

        c = self.config
        self._client = aioredis.from_url(
            c.url, password=c.password.get_secret_value() if c.password else None, socket_timeout=c.timeout,
            socket_connect_timeout=c.connect_timeout, retry_on_timeout=False, decode_responses=True)
        self._script = self._client.register_script(ADD_ONCE)

    def stream_for(self, item: OutboxItem) -> str:
        """The stream key of ``item``."""
        agency = str(item.payload.get("agency") or "all")
        return self.config.stream.replace("{agency}", agency).replace("{item_type}", item.item_type)

    async def send(self, item: OutboxItem, idempotency_key: str) -> Receipt:
        """Add the entry once; return its stream id."""
        from redis import exceptions as rx

        if self._client is None:
            raise RetryableError(f"redis {self.name} is not started")
        stream = self.stream_for(item)
        payload = json.dumps(item.payload, ensure_ascii=False, separators=(",", ":"), default=str)
        try:
            entry_id, added = await self._script(
                keys=[stream, f"{stream}:sent:{idempotency_key}"],
                args=[self.config.dedupe_ttl, self.config.maxlen, idempotency_key, item.item_type, item.item_ref,
                      payload])
        except rx.AuthenticationError as exc:
            raise AuthError(f"redis {self.name}: {exc}") from exc
        except (rx.ConnectionError, rx.TimeoutError, TimeoutError, OSError) as exc:
            raise RetryableError(f"redis {self.name}: {type(exc).__name__}: {exc}") from exc
        except rx.ResponseError as exc:
            if str(exc).startswith(("LOADING", "BUSY", "TRYAGAIN", "MASTERDOWN", "READONLY")):
                raise RetryableError(f"redis {self.name}: {exc}") from exc
            raise PermanentDeliveryError(f"redis {self.name}: {exc}") from exc
        except rx.RedisError as exc:
            raise RetryableError(f"redis {self.name}: {type(exc).__name__}: {exc}") from exc
        if not int(added):
            log.info("redis %s: %s was already in %s as %s", self.name, idempotency_key, stream, entry_id)
        return Receipt(remote_ref=str(entry_id), detail={"stream": stream, "added": bool(int(added))})

    async def stop(self) -> None:
        """Close the client; safe to call twice."""
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def probe(self) -> str:
        """PING the server."""
        from redis import exceptions as rx

        if self._client is None:
            await self.start(None)  # type: ignore[arg-type]
        try:
            await self._client.ping()
        except rx.AuthenticationError as exc:
            raise AuthError(f"redis refused the password: {exc}") from exc
        except (rx.RedisError, OSError) as exc:
            raise RetryableError(f"redis unreachable: {exc}") from exc
        return f"redis {self.config.url.split('@')[-1]} answers PING"
