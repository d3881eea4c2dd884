"""The driver-level bulk insert stores exactly what SQLAlchemy's own INSERT stores."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.dialects import sqlite

from omnichannel.bulk import insert_rows, select_in
from omnichannel.models import Complaint, Identity, Reporter


def _complaint(cid: int, **kw) -> dict:
    row = {"id": cid, "ref": f"ADU-2026-{cid:06d}", "envelope_id": None, "reporter_id": None, "connector": "web",
           "channel": "webform", "subject": None, "text": "jalan rusak", "anonymous": False, "confidential": True,
           "status": "received", "location": None, "explanation": {"rules": ["jalan", 1.5], "teks": "é"},
           "created_at": datetime(2026, 3, 30, 1, 2, 3, 456789, tzinfo=UTC)}
    row.update(kw)
    return row


async def test_fast_rows_are_byte_identical_to_sqlalchemy_rows(store):
    def write(conn):
        conn.execute(sqlite.insert(Complaint), [_complaint(1)])
        insert_rows(conn, Complaint, [_complaint(2)])
        return [tuple(r) for r in conn.exec_driver_sql(
            "SELECT anonymous, confidential, location, explanation, created_at, status FROM complaints "
            "ORDER BY id").fetchall()]

    slow, quick = await store.run_write(write)
    assert slow == quick
    assert quick[2] == "null" or quick[2] is None  # whatever SQLAlchemy stores for a None JSON, we store too
    async with store.session() as s:
        rows = (await s.exec(select(Complaint).order_by(Complaint.id))).scalars().all()
    assert rows[0].explanation == rows[1].explanation == {"rules": ["jalan", 1.5], "teks": "é"}
    assert rows[0].created_at == rows[1].created_at


async def test_ignore_conflict_and_select_in(store):
    now = datetime.now(UTC)

    def write(conn):
        insert_rows(conn, Reporter, [{"id": 1, "display_name": "Sari", "created_at": now}])
        rows = [{"channel": "phone", "address": f"+62812{i}", "name": None, "linked_by": "phone",
                 "reporter_id": 1, "created_at": now} for i in range(3)]
        insert_rows(conn, Identity, rows, ignore_conflict=("channel", "address"))
        insert_rows(conn, Identity, rows[:2], ignore_conflict=("channel", "address"))  # absorbed
        return select_in(conn, "SELECT address FROM identities WHERE reporter_id = ? AND address IN ({in})",
                         [f"+62812{i}" for i in range(5)], 1, chunk=2)

    found = await store.run_write(write)
    assert sorted(a for (a,) in found) == ["+628120", "+628121", "+628122"]
