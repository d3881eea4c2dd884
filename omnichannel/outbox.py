"""Writing outbox rows: one delivery per (item, destination), in the caller's transaction."""

from __future__ import annotations

from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from omnichannel.bulk import insert_rows
from omnichannel.models import OutboxRow
from omnichannel.types import utcnow


def idempotency_key(item_type: str, item_ref: str, destination: str) -> str:
    """The key every destination that accepts one receives: ``item_type:item_ref:destination``."""
    return f"{item_type}:{item_ref}:{destination}"


def _insert(session: AsyncSession, model: Any) -> Any:
    from sqlalchemy.dialects import postgresql, sqlite

    name = session.bind.dialect.name if session.bind is not None else "sqlite"
    return (postgresql.insert if name == "postgresql" else sqlite.insert)(model)


async def enqueue(session: AsyncSession, item_type: str, item_ref: str, destination: str,
                  payload: dict[str, Any]) -> bool:
    """Add one delivery row; returns False when the same (item, destination) was already queued."""
    rows = await enqueue_many(session, [(item_type, item_ref, destination, payload)])
    return rows == 1


async def enqueue_many(session: AsyncSession, items: list[tuple[str, str, str, dict[str, Any]]]) -> int:
    """Add many delivery rows in one statement; duplicates (same key) are ignored. Returns rows added."""
    if not items:
        return 0
    now = utcnow()
    values = [
        {"item_type": t, "item_ref": r, "destination": d, "idempotency_key": idempotency_key(t, r, d),
         "payload": p, "status": "pending", "attempts": 0, "next_attempt_at": now, "created_at": now}
        for t, r, d, p in items
    ]
    conn = await session.connection()
    if conn.dialect.name == "sqlite":  # one driver executemany (see omnichannel.bulk)
        return await conn.run_sync(lambda sync: insert_rows(sync, OutboxRow, values,
                                                            ignore_conflict=("idempotency_key",)))
    stmt = _insert(session, OutboxRow).on_conflict_do_nothing(
        index_elements=["idempotency_key"]).returning(OutboxRow.id)
    result = await conn.execute(stmt, values)
    return len(result.all())
