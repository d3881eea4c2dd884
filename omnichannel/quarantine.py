"""Quarantine: list, show, export and retry envelopes that could not be processed."""

from __future__ import annotations

import base64
import inspect
import json
from typing import IO, Any

from sqlalchemy import delete, select

from omnichannel import registry
from omnichannel.config import Config
from omnichannel.ingest import ingest_in_session
from omnichannel.models import EnvelopeRow, Quarantine
from omnichannel.store import Store
from omnichannel.transfer import IMPORT_CONNECTOR, record_to_envelope
from omnichannel.types import Batch, Envelope, utcnow


def _summary(row: Quarantine) -> dict[str, Any]:
    return {"id": row.id, "connector": row.connector, "external_id": row.external_id, "reason": row.reason,
            "retry_count": row.retry_count, "created_at": row.created_at.isoformat(),
            "resolved_at": row.resolved_at.isoformat() if row.resolved_at else None, "bytes": len(row.raw)}


async def list_items(store: Store, include_resolved: bool = False) -> list[dict[str, Any]]:
    """Quarantined envelopes, oldest first."""
    q = select(Quarantine).order_by(Quarantine.id)
    if not include_resolved:
        q = q.where(Quarantine.resolved_at.is_(None))
    async with store.session() as session:
        return [_summary(r) for r in (await session.exec(q)).scalars()]


async def show(store: Store, item_id: int) -> dict[str, Any] | None:
    """One item with its raw bytes (text when it decodes, else base64)."""
    async with store.session() as session:
        row = await session.get(Quarantine, item_id)
    if row is None:
        return None
    out = _summary(row)
    try:
        out["raw"] = row.raw.decode("utf-8")
    except UnicodeDecodeError:
        out["raw_base64"] = base64.b64encode(row.raw).decode()
    return out


async def export_items(store: Store, out: IO[str]) -> int:
    """JSON Lines of every unresolved item with its raw content (base64)."""
    n = 0
    async with store.session() as session:
        q = select(Quarantine).where(Quarantine.resolved_at.is_(None)).order_by(Quarantine.id)
        for row in (await session.exec(q)).scalars():
            doc = _summary(row) | {"raw_base64": base64.b64encode(row.raw).decode()}
            out.write(json.dumps(doc, ensure_ascii=False) + "\n")
            n += 1
    return n


def _reparse(config: Config, connector: str, raw: bytes, external_id: str,
             reason: str = "") -> tuple[str, Envelope]:
    """Run the connector's parser again on the kept bytes, with the live path's options where it takes them."""
    if connector == IMPORT_CONNECTOR:
        channel, env = record_to_envelope(raw.decode("utf-8", "replace"), 0)
        if env.error is None:
            return channel, env
        return "import", Envelope(external_id=external_id, raw=raw, error=env.error)
    cfg = next((c for c in config.connectors if c.name == connector), None)
    if cfg is None:
        return connector, Envelope(external_id=external_id, raw=raw,
                                   error=f"connector {connector!r} is no longer configured")
    from omnichannel.daemon import CHANNELS

    channel = CHANNELS.get(cfg.kind, cfg.kind)
    cls = registry.load(registry.CONNECTORS[cfg.kind][0])
    reparse = getattr(cls, "reparse", None)
    if reparse is None:
        return channel, Envelope(external_id=external_id, raw=raw,
                                 error=f"connector kind {cfg.kind!r} cannot re-parse stored envelopes")
    if "max_message_bytes" in reason:
        # only the header was kept: parsing it again would release a complaint without its body
        return channel, Envelope(external_id=external_id, raw=raw, error=reason)
    kwargs: dict[str, object] = {}
    params = inspect.signature(reparse).parameters
    if "config" in params:
        kwargs["config"] = cfg
    if "attachments_dir" in params:
        kwargs["attachments_dir"] = config.data_dir / "attachments"
    try:
        env = reparse(raw, external_id, **kwargs)
    except Exception as exc:  # a parser bug must not lose the item: it stays quarantined
        env = Envelope(external_id=external_id, raw=raw, error=f"re-parse failed: {type(exc).__name__}: {exc}")
    return channel, env


async def retry(store: Store, config: Config, item_ids: list[int] | None = None) -> dict[str, int]:
    """Re-parse quarantined envelopes; those that now parse become complaints/follow-ups/skips."""
    tally = {"retried": 0, "released": 0, "still_quarantined": 0}
    async with store.session() as session:
        q = select(Quarantine).where(Quarantine.resolved_at.is_(None)).order_by(Quarantine.id)
        if item_ids:
            q = q.where(Quarantine.id.in_(item_ids))
        rows = list((await session.exec(q)).scalars())
    for row in rows:
        tally["retried"] += 1
        channel, env = _reparse(config, row.connector, row.raw, row.external_id, row.reason)
        async with store.session() as session:
            item = await session.get(Quarantine, row.id)
            item.retry_count += 1
            item.last_retry_at = utcnow()
            if env.error:
                item.reason = env.error
                tally["still_quarantined"] += 1
            else:
                env.external_id = row.external_id
                old_envelope = item.envelope_id
                item.envelope_id = None
                session.add(item)
                await session.flush()
                if old_envelope is not None:
                    await session.exec(delete(EnvelopeRow).where(EnvelopeRow.id == old_envelope))
                connector = row.connector
                await ingest_in_session(store, session, connector, channel, Batch([env]))
                new_id = (await session.exec(select(EnvelopeRow.id).where(
                    EnvelopeRow.connector == connector, EnvelopeRow.external_id == env.external_id))).scalar_one()
                item.envelope_id = new_id
                item.resolved_at = utcnow()
                tally["released"] += 1
            session.add(item)
            await session.commit()
    return tally
