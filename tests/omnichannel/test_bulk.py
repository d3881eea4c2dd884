"""The driver-level bulk insert stores exactly what SQLAlchemy's own INSERT stores."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from omnichannel.bulk import insert_rows, select_in
from omnichannel.models import Complaint, Identity, Reporter


def _complaint(cid: int, **kw) -> dict:
    row = {"id": cid, "ref": f"ADU-2026-{cid:06d}", "envelope_id": None, "reporter_id": None, "connector": "web",
           "channel": "webform", "subject": None, "text": "jalan rusak", "anonymous": False, "confidential": True,
           "status": "received", "location": None, "explanation": {"rules": ["jalan", 1.5], "teks": "é"},
           "created_at": datetime(2026, 3, 30, 1, 2, 3, 456789, tzinfo=UTC)}
    row.update(kw)
    return row


async def test_fast_rows_are_byte_identical_to_sqlalchemy_rows(any_store):
    store = any_store

    def write(conn):
        conn.execute(store.insert(Complaint), [_complaint(1)])
        insert_rows(conn, Complaint, [_complaint(2)])
        return [tuple(r) for r in conn.exec_driver_sql(
            "SELECT anonymous, confidential, location::text, explanation::text, created_at, status FROM complaints "
            "ORDER BY id".replace("::text", "" if store.dialect == "sqlite" else "::text")).fetchall()]

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


async def test_update_rows_matches_sqlalchemy_and_respects_the_condition(store):
    from sqlalchemy import bindparam, update

    from omnichannel.bulk import update_rows

    change = {"status": "routed", "kind": "pengaduan", "location": {"kelurahan": "Sukamaju"},
              "explanation": {"rules": [["jalan", 2.0]]}, "confidence": 0.8,
              "routed_at": datetime(2026, 4, 1, 2, 3, 4, 5, tzinfo=UTC)}

    def write(conn):
        insert_rows(conn, Complaint, [_complaint(1), _complaint(2), _complaint(3, status="merged")])
        conn.execute(update(Complaint).where(Complaint.id == bindparam("b_id")).values(
            **{k: bindparam(k) for k in change}), [{"b_id": 1, **change}])
        changed = update_rows(conn, Complaint, [{"id": 2, **change}, {"id": 3, **change}],
                              only_where=("status", "received"))
        rows = conn.exec_driver_sql("SELECT status, kind, location, explanation, confidence, routed_at "
                                    "FROM complaints ORDER BY id").fetchall()
        return changed, [tuple(r) for r in rows]

    changed, rows = await store.run_write(write)
    assert changed == 1  # complaint 3 was not "received": left alone
    assert rows[0] == rows[1]
    assert rows[2][0] == "merged" and rows[2][1] is None
