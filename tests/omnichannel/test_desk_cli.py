"""``omnichannel users add|list|disable|reset-password``, ``omnichannel tickets reassign``, and what ``run`` logs
about the officers' desk at start."""

from __future__ import annotations

import asyncio
import io
import logging
from datetime import timedelta
from textwrap import dedent

import pytest
from sqlalchemy import select

from omnichannel.cli import main
from omnichannel.daemon import Daemon
from omnichannel.models import AuditEvent, Case, Complaint, Correction, OutboxRow, Ticket, User
from omnichannel.store import Store
from omnichannel.types import utcnow
from tests.omnichannel.helpers import minimal_config

CONFIG = """\
data_dir: {data}
connectors: []
forwarders:
  - {{name: hook, kind: webhook, url: "http://127.0.0.1:9/x", item_types: [ticket, ticket_update]}}
agencies:
  - {{code: dpupr, name: Dinas PUPR}}
  - {{code: dinkes, name: Dinas Kesehatan}}
"""


@pytest.fixture
def config_file(tmp_path):
    path = tmp_path / "config.yaml"
    path.write_text(CONFIG.format(data=tmp_path / "data"))
    return path


def run(config_file, monkeypatch, *args: str, stdin: str = "") -> int:
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    return main(["-c", str(config_file), *args])


async def rows(path, model):
    store = Store(f"sqlite+aiosqlite:///{path}")
    try:
        async with store.session() as s:
            return list((await s.exec(select(model).order_by(model.id))).scalars().all())
    finally:
        await store.close()


def test_users_add_list_disable_and_reset_password(config_file, tmp_path, monkeypatch, capsys):
    assert run(config_file, monkeypatch, "users", "list") == 1  # no store yet: listing creates none
    assert "no store at" in capsys.readouterr().err
    assert run(config_file, monkeypatch, "db", "upgrade") == 0
    assert run(config_file, monkeypatch, "users", "list") == 0
    assert "no accounts" in capsys.readouterr().out
    assert run(config_file, monkeypatch, "users", "add", "ani", "--name", "Ani Lestari", "--role", "petugas",
               "--agency", "dpupr", stdin="kata-sandi-ani-123\n") == 0
    assert "account ani (petugas: dpupr) created" in capsys.readouterr().out
    assert run(config_file, monkeypatch, "users", "add", "kora", "--name", "Kora", "--role", "koordinator",
               stdin="kata-sandi-kora-123\n") == 0
    for args, stdin, message in (
            (("ani", "--name", "Lagi", "--role", "petugas", "--agency", "dpupr"), "kata-sandi-ani-123\n", "already exists"),
            (("eko", "--name", "Eko", "--role", "petugas", "--agency", "tidakada"), "kata-sandi-eko-123\n", "unknown agency"),
            (("eko", "--name", "Eko", "--role", "petugas"), "kata-sandi-eko-123\n", "at least one --agency"),
            (("eko", "--name", "Eko", "--role", "admin"), "pendek\n", "at least 10 characters"),
            (("eko", "--name", "Eko", "--role", "admin"), "", "no password on stdin")):
        capsys.readouterr()
        assert run(config_file, monkeypatch, "users", "add", *args, stdin=stdin) == 1
        assert message in capsys.readouterr().err
    with pytest.raises(SystemExit):  # argparse: unknown role
        run(config_file, monkeypatch, "users", "add", "eko", "--name", "Eko", "--role", "raja")
    capsys.readouterr()
    assert run(config_file, monkeypatch, "users", "list") == 0
    listing = capsys.readouterr().out.splitlines()
    assert listing == ["ani\tpetugas\tdpupr\tactive\tAni Lestari", "kora\tkoordinator\t-\tactive\tKora"]
    assert run(config_file, monkeypatch, "users", "disable", "ani") == 0
    assert run(config_file, monkeypatch, "users", "list") == 0
    assert "ani\tpetugas\tdpupr\tdisabled" in capsys.readouterr().out
    assert run(config_file, monkeypatch, "users", "reset-password", "ani", stdin="sandi-baru-ani-456\n") == 0
    assert run(config_file, monkeypatch, "users", "disable", "siapa") == 1
    assert run(config_file, monkeypatch, "users", "list") == 0
    assert "ani\tpetugas\tdpupr\tactive" in capsys.readouterr().out
    db = tmp_path / "data" / "omnichannel.db"
    users = asyncio.run(rows(db, User))
    assert [u.login for u in users] == ["ani", "kora"] and users[0].password_hash.startswith("$argon2id$")
    events = [(e.action, e.subject_ref) for e in asyncio.run(rows(db, AuditEvent))]
    assert ("user_disable", "ani") in events and ("user_reset_password", "ani") in events


async def seed_ticket(db) -> None:
    store = Store(f"sqlite+aiosqlite:///{db}")
    try:
        async with store.session() as s:
            s.add(Case(id=1, ref="KAS-2026-000001", title="Demam berdarah di RW 3"))
            await s.flush()
            s.add(Complaint(id=1, ref="ADU-2026-000001", connector="web", channel="webform", status="routed",
                            text="Banyak warga RW 3 kena demam berdarah, mohon fogging", case_id=1, agency="dpupr"))
            s.add(Ticket(id=1, ref="TIK-2026-000001", case_id=1, agency="dpupr", kind="pengaduan",
                         sla_due=utcnow() + timedelta(days=3)))
            await s.commit()
    finally:
        await store.close()


def test_tickets_reassign_from_the_shell(config_file, tmp_path, monkeypatch, capsys):
    assert run(config_file, monkeypatch, "db", "upgrade") == 0  # creates and migrates the store
    db = tmp_path / "data" / "omnichannel.db"
    asyncio.run(seed_ticket(db))
    capsys.readouterr()
    assert run(config_file, monkeypatch, "tickets", "reassign", "tik-2026-000001", "dinkes",
               "--reason", "Kasus kesehatan, bukan jalan") == 0
    out = capsys.readouterr().out
    assert "TIK-2026-000001 closed as dialihkan" in out and "opened for dinkes" in out
    assert run(config_file, monkeypatch, "tickets", "reassign", "TIK-2026-000001", "dinkes", "--reason", "x") == 1
    assert "already reassigned" in capsys.readouterr().err
    assert run(config_file, monkeypatch, "tickets", "reassign", "TIK-2026-999999", "dinkes", "--reason", "x") == 1
    tickets = asyncio.run(rows(db, Ticket))
    assert [(t.agency, t.status) for t in tickets] == [("dpupr", "dialihkan"), ("dinkes", "baru")]
    [correction] = asyncio.run(rows(db, Correction))
    assert (correction.agency_from, correction.agency_to, correction.complaint_ref) == ("dpupr", "dinkes",
                                                                                        "ADU-2026-000001")
    assert correction.actor.startswith("cli:") and correction.reason == "Kasus kesehatan, bukan jalan"
    outbox = asyncio.run(rows(db, OutboxRow))
    assert {(r.item_type, r.destination) for r in outbox} == {("ticket", "hook"), ("ticket_update", "hook")}


async def test_run_says_where_the_desk_is_and_how_to_make_an_account(tmp_path, caplog):
    caplog.set_level(logging.INFO)
    config = minimal_config(tmp_path, extra=dedent("""
        agencies:
          - {code: dpupr, name: Dinas PUPR}
        """))
    daemon = Daemon(config)
    await daemon.start()
    try:
        lines = [r.getMessage() for r in caplog.records]
        assert f"officers' desk: http://127.0.0.1:{daemon.http_port}/petugas" in lines
        assert any("no officer account or token exists yet" in m and "omnichannel users add" in m for m in lines)
        import aiohttp

        async with aiohttp.ClientSession() as http, http.get(f"http://127.0.0.1:{daemon.http_port}/petugas") as r:
            assert r.status == 200 and "Masuk" in await r.text()
    finally:
        await daemon.stop()
    caplog.clear()
    from omnichannel import users

    async with _store(tmp_path) as store, store.session() as s:
        await users.add_user(s, "ani", "Ani", "petugas", ["dpupr"], "kata-sandi-ani-123", "test")
        await s.commit()
    daemon = Daemon(config)
    await daemon.start()
    try:
        assert not any("no officer account" in r.getMessage() for r in caplog.records)
    finally:
        await daemon.stop()


class _store:
    """The test config's store, opened and closed."""

    def __init__(self, tmp_path) -> None:
        self.store = Store(f"sqlite+aiosqlite:///{tmp_path}/data/omnichannel.db")

    async def __aenter__(self) -> Store:
        return self.store

    async def __aexit__(self, *_) -> None:
        await self.store.close()
