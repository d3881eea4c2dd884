"""``omnichannel outbox list|retry|dead`` through the real CLI parser and a SQLite store."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update

from omnichannel.cli import main
from omnichannel.models import DeadLetter, OutboxRow
from omnichannel.outbox import enqueue_many
from omnichannel.store import Store


@pytest.fixture(autouse=True)
def keep_root_logger() -> Iterator[None]:
    """The CLI configures the root logger; give the next tests theirs back."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    for h in list(root.handlers):
        root.removeHandler(h)
    for h in handlers:
        root.addHandler(h)
    root.setLevel(level)


@pytest.fixture
def setup(tmp_path: Path) -> tuple[Path, str]:
    url = f"sqlite+aiosqlite:///{tmp_path}/store.db"
    cfg = tmp_path / "config.yaml"
    cfg.write_text(f'data_dir: {tmp_path}\nstore: {{url: "{url}"}}\n', encoding="utf-8")

    async def seed() -> None:
        store = Store(url)
        await store.open()
        async with store.session() as s:
            await enqueue_many(s, [("ticket", f"TIK-2026-00000{i}", "hook", {}) for i in (1, 2, 3)])
            await s.exec(update(OutboxRow).where(OutboxRow.id == 2).values(status="dead", last_error="HTTP 422"))
            s.add(DeadLetter(outbox_id=2, destination="hook", reason="permanent: HTTP 422", attempts=1))
            await s.exec(update(OutboxRow).where(OutboxRow.id == 3).values(status="done"))
            await s.commit()
        await store.close()

    asyncio.run(seed())
    return cfg, url


def test_list_dead_retry(setup: tuple[Path, str], capsys: Any) -> None:
    cfg, url = setup
    assert main(["-c", str(cfg), "outbox", "list"]) == 0
    out, err = capsys.readouterr()
    assert "TIK-2026-000001" in out and "TIK-2026-000002" in out and "TIK-2026-000003" not in out
    assert "hook: dead=1, done=1, pending=1" in err
    assert main(["-c", str(cfg), "outbox", "dead"]) == 0
    out, _ = capsys.readouterr()
    assert "permanent: HTTP 422" in out
    assert main(["-c", str(cfg), "outbox", "retry"]) == 0
    assert "1 rows back to pending" in capsys.readouterr().out
    assert main(["-c", str(cfg), "outbox", "dead"]) == 0
    assert "0 dead letters" in capsys.readouterr().err

    async def check() -> tuple[Any, Any]:
        store = Store(url)
        await store.open()
        async with store.session() as s:
            row = await s.get(OutboxRow, 2)
            dead = (await s.exec(select(DeadLetter))).scalars().one()
        await store.close()
        return row, dead

    row, dead = asyncio.run(check())
    assert (row.status, row.attempts) == ("pending", 0) and dead.retried_at is not None
