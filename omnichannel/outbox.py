"""Writing outbox rows: one delivery per (item, destination), in the caller's transaction."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection
from sqlalchemy.dialects import postgresql
from sqlmodel.ext.asyncio.session import AsyncSession

from omnichannel.bulk import insert_rows
from omnichannel.models import OutboxRow
from omnichannel.types import utcnow


def idempotency_key(item_type: str, item_ref: str, destination: str) -> str:
    """The key every destination that accepts one receives: ``item_type:item_ref:destination``."""
    return f"{item_type}:{item_ref}:{destination}"


async def enqueue(session: AsyncSession, item_type: str, item_ref: str, destination: str,
                  payload: dict[str, Any]) -> bool:
    """Add one delivery row; returns False when the same (item, destination) was already queued."""
    rows = await enqueue_many(session, [(item_type, item_ref, destination, payload)])
    return rows == 1


async def enqueue_many(session: AsyncSession, items: list[tuple[str, str, str, dict[str, Any]]]) -> int:
    """Add many delivery rows in one statement; duplicates (same key) are ignored. Returns rows added."""
    if not items:
        return 0
    conn = await session.connection()
    return await conn.run_sync(lambda sync: enqueue_many_sync(sync, items))


def enqueue_many_sync(conn: Connection, items: list[tuple[str, str, str, dict[str, Any]]]) -> int:
    """``enqueue_many`` on a synchronous connection, inside its transaction."""
    if not items:
        return 0
    now = utcnow()
    values = [
        {"item_type": t, "item_ref": r, "destination": d, "idempotency_key": idempotency_key(t, r, d),
         "payload": p, "status": "pending", "attempts": 0, "next_attempt_at": now, "created_at": now}
        for t, r, d, p in items
    ]
    if conn.dialect.name == "sqlite":  # one driver executemany (see omnichannel.bulk)
        return insert_rows(conn, OutboxRow, values, ignore_conflict=("idempotency_key",))
    stmt = postgresql.insert(OutboxRow).on_conflict_do_nothing(
        index_elements=["idempotency_key"]).returning(OutboxRow.id)
    return len(conn.execute(stmt, values).all())
