"""The contracts every plugin implements: pull and push connectors, repliers and forwarders.

Read ``ARCHITECTURE.md`` (Contracts) for the story; this module is the code form of it.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, runtime_checkable

from omnichannel.types import Batch, IngestResult, OutboxItem, Receipt

if TYPE_CHECKING:  # pragma: no cover
    from aiohttp import web

    from omnichannel.config import PluginConfig


@dataclass
class PluginContext:
    """What the daemon hands a plugin at ``start``.

    Attributes:
        name: the configured name of this connector or forwarder (used in logs and keys).
        data_dir: the daemon's data directory; ``attachments_dir`` (``<data_dir>/attachments``, shared by every
            channel and replica) is where content is saved with ``omnichannel.attachments.keep``; the path an
            ``Attachment`` records is relative to it.
        submit: for push connectors (webhooks): store a batch durably and return what was stored.
            Answer the channel 2xx only after it returns.
        status_lookup: returns the citizen-safe status of a complaint ref (``None`` when unknown),
            for chat commands such as ``/status ADU-2026-000123``.
        templates: renders an editable Bahasa Indonesia template by name with keyword values.
        logger: a logger already carrying the plugin's name.
        extra: room for wiring that a particular plugin needs (tests inject fakes here). The daemon puts
            ``store`` and ``config`` there and, for a pull connector, ``wake``: a callable, safe from any
            thread, that asks for a poll now (e.g. IMAP IDLE saw new mail) instead of at the next interval.
            A pull connector may also have ``interrupt()`` (sync, thread-safe): called when shutdown
            begins so it ends a long wait at once; ``stop`` follows.
        probe_only: started only for ``omnichannel check --connect``: open clients for ``probe`` but start
            no background work (pollers, consumers) that would compete with a running daemon.
    """

    name: str
    data_dir: Path
    attachments_dir: Path
    submit: Callable[[Batch], Awaitable[IngestResult]] | None = None
    status_lookup: Callable[[str], Awaitable[dict[str, Any] | None]] | None = None
    templates: Callable[..., str] | None = None
    logger: logging.Logger = field(default_factory=lambda: logging.getLogger("omnichannel.plugin"))
    extra: dict[str, Any] = field(default_factory=dict)
    probe_only: bool = False


@runtime_checkable
class PullConnector(Protocol):
    """A channel the daemon polls (Telegram getUpdates, IMAP, X timelines).

    The cycle is ``start(ctx, checkpoint)`` → repeated ``poll()`` → the core stores the envelopes
    and ``Batch.checkpoint`` in one transaction → ``ack(batch, result)`` → ... → ``stop()``.
    Position comes only from the checkpoint passed to ``start`` and returned in batches, never
    from memory that a crash would lose.
    """

    kind: ClassVar[str]

    def __init__(self, name: str, config: PluginConfig) -> None: ...

    async def start(self, ctx: PluginContext, checkpoint: dict[str, Any] | None) -> None:
        """Open connections and remember where to resume.

        Raises:
            AuthError: credentials refused (the connector is parked).
            RetryableError: the remote side is unreachable for now.
        """

    async def poll(self) -> Batch:
        """Return the next envelopes after the current position; never sleep waiting for traffic
        longer than the configured long-poll timeout. An empty batch keeps the checkpoint.

        Raises:
            AuthError, RetryableError: as in ``start``.
        """

    async def ack(self, batch: Batch, result: IngestResult) -> None:
        """Channel-side acknowledgement after the batch was committed (offset, \\Seen, MOVE)."""

    async def stop(self) -> None:
        """Close everything ``start`` opened. Must be safe to call twice."""

    async def probe(self) -> str:
        """Really connect and authenticate; return a one-line description (``check --connect``).

        Raises:
            AuthError, RetryableError, ConfigError.
        """


@runtime_checkable
class PushConnector(Protocol):
    """A channel that calls us (WhatsApp webhook, web form, Telegram webhook mode).

    Routes are mounted on the daemon's single aiohttp server. A handler verifies the signature,
    calls ``ctx.submit(batch)`` and answers 2xx only after it returned: the HTTP answer is the ack.
    """

    kind: ClassVar[str]

    def __init__(self, name: str, config: PluginConfig) -> None: ...

    async def start(self, ctx: PluginContext, checkpoint: dict[str, Any] | None) -> None:
        """Prepare (e.g. register a webhook); store ``ctx`` for the handlers."""

    def routes(self) -> list[web.RouteDef]:
        """The aiohttp routes this connector serves. The connector also describes them with
        ``openapi() -> {path: OpenAPI 3.1 path item}`` (``omnichannel.web.openapi`` serves them)."""

    async def stop(self) -> None:
        """Release what ``start`` took."""

    async def probe(self) -> str:
        """Check credentials where the channel allows; return a one-line description."""


@runtime_checkable
class Replier(Protocol):
    """A connector that can answer the citizen on the channel they used."""

    async def reply(self, item: OutboxItem, idempotency_key: str) -> Receipt:
        """Send ``item.payload['text']`` to ``item.payload['origin']`` (the envelope's origin).

        Raises:
            RetryableError: try again later (honour ``retry_after``).
            PermanentDeliveryError: this reply can never be delivered as it is.
        """


@runtime_checkable
class Forwarder(Protocol):
    """One configured destination: agency queue backend, SP4N-LAPOR!, email, webhook, broker.

    Forwarders never retry internally: the dispatcher owns backoff, Retry-After, ``max_in_flight``
    and dead letters.
    """

    kind: ClassVar[str]

    def __init__(self, name: str, config: PluginConfig) -> None: ...

    async def start(self, ctx: PluginContext) -> None:
        """Open clients and connections."""

    async def send(self, item: OutboxItem, idempotency_key: str) -> Receipt:
        """Deliver one item; pass ``idempotency_key`` wherever the destination accepts one.

        Raises:
            RetryableError: timeout, 429 (with ``retry_after``), 5xx, connection refused.
            PermanentDeliveryError: 4xx or validation failure.
        """

    async def stop(self) -> None:
        """Close what ``start`` opened."""

    async def probe(self) -> str:
        """Really connect; return a one-line description."""


@runtime_checkable
class AnswerDesk(Protocol):
    """How the officer API answers a ticket's reporters and changes its status (``router.delivery.answers``).

    Both write in the caller's session (the caller commits): the ticket update, an audit event and one
    ``reply`` outbox row per reporter. The daemon hands the router's implementation to the HTTP side, so
    the core never imports the router.
    """

    async def set_status(self, session: Any, ticket: Any, status: str, note: str | None, actor: str,
                         config: Any, templates: Any) -> dict[str, Any]:
        """Move ``ticket`` to ``status`` (ValueError when not allowed); what changed."""
        ...

    async def record_answer(self, session: Any, ticket: Any, text: str, actor: str, config: Any,
                            templates: Any) -> int:
        """Record an officer's answer and queue it to every reporter; how many replies were queued."""
        ...

    async def reassign(self, session: Any, ticket: Any, agency: str, reason: str, actor: str, config: Any,
                       templates: Any) -> Any:
        """Close ``ticket`` as ``dialihkan``, open the case's ticket for ``agency`` with deliveries; the new
        ticket (ValueError when not allowed)."""
        ...

    async def merge_cases(self, session: Any, source: Any, target: Any, actor: str, config: Any,
                          templates: Any) -> dict[str, Any]:
        """Move ``source``'s complaints and tickets into ``target`` (ValueError when not allowed); what moved."""
        ...

    async def split_case(self, session: Any, case: Any, refs: list[str], actor: str, config: Any,
                         templates: Any) -> dict[str, Any]:
        """Move complaints ``refs`` out of ``case`` into a new case with its tickets; what moved."""
        ...

