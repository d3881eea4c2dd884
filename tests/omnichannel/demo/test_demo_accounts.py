"""``omnichannel demo`` makes a personal account for every agency that got tickets in its day (not only the five
with demo tokens) and for the coordinator, and prints how to log in with each."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

from omnichannel import users
from omnichannel.config import parse_config
from omnichannel.demo.runner import demo_accounts
from omnichannel.demo.summary import endpoints
from omnichannel.models import Case, Ticket
from tests.conftest import REPO


async def test_every_agency_with_tickets_gets_an_account_that_logs_in(store) -> None:
    config = parse_config((REPO / "config.yaml").read_text(), env={})
    tokens = {"pupr": "petugas-pupr-0a1b2c3d", "bpbd": "petugas-bpbd-0a1b2c3d", "*": "koordinator-0a1b2c3d"}
    before = await demo_accounts(store, config, tokens)
    assert set(before) == {"koordinator", "pupr", "bpbd"}
    async with store.session() as s:  # the day routes tickets to agencies without demo officers too
        for n, agency in enumerate(("pupr", "dinkes", "perkim", "triage", "dinkes"), start=1):
            s.add(Case(id=n, ref=f"KAS-2026-{n:06d}", complaint_count=1, reporter_count=1))
            await s.flush()
            s.add(Ticket(id=n, ref=f"TIK-2026-{n:06d}", case_id=n, agency=agency, kind="pengaduan"))
        await s.commit()
    after = await demo_accounts(store, config, tokens, before)
    assert set(after) == {"koordinator", "pupr", "bpbd", "dinkes", "perkim", "triage"}
    assert {k: after[k] for k in before} == before and after["pupr"] == tokens["pupr"]
    assert after["dinkes"].startswith("petugas-dinkes-") and after["dinkes"] != after["perkim"]
    async with store.session() as s:
        for login, password in after.items():
            result = await users.authenticate(s, login, password)
            assert result.user is not None, login
        people = {u.login: (u.role, u.agencies) for u in await users.list_users(s)}
    assert people["dinkes"] == ("petugas", ["dinkes"]) and people["koordinator"] == ("koordinator", [])
    assert await demo_accounts(store, config, tokens, after) == after  # nothing made twice

    world = SimpleNamespace(lapor=SimpleNamespace(base_url="http://127.0.0.1:1"))
    text = endpoints(8080, tokens, world, Path("/tmp/demo.yaml"), False, after)
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("Akun petugas di http://127.0.0.1:8080/petugas"))
    listed = [line.split() for line in lines[start + 1:start + 1 + len(after)]]
    assert [row[0] for row in listed] == ["koordinator", "bpbd", "dinkes", "perkim", "pupr", "triage"]
    assert all(row[1] == after[row[0]] for row in listed)
    assert [row[0] for row in listed if row[-1] == "*"] == ["koordinator", "bpbd", "pupr"]  # also API tokens
