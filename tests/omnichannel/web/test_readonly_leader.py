"""A ``pimpinan`` (leader) reads the dashboard and reports and changes nothing anywhere: every mutating route
the daemon mounts for officers answers 403 to a leader's session, with its valid CSRF token and all."""

from __future__ import annotations

import re
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestServer
from sqlalchemy import func, select

from omnichannel.models import AuditEvent, Ticket
from omnichannel.templates import Templates
from omnichannel.web import dashboard, desk, ppid_api
from router.delivery.desk import AnswerDesk
from tests.omnichannel.web.test_desk_api import login, seed_desk
from tests.omnichannel.web.test_officer_api import make_config

SAFE = {"GET", "HEAD", "OPTIONS"}
# opening and closing one's own session changes nothing of the Pemda's
SESSION_ROUTES = {"/api/v1/session", "/api/v1/session/logout", "/dasbor/masuk", "/dasbor/keluar"}
SAMPLE = {"ref": "TIK-2026-000001", "code": "dpupr", "login": "ani", "id": "1", "case": "KAS-2026-000001"}


def _path(template: str) -> str:
    return re.sub(r"\{(\w+)(?::[^}]*)?\}", lambda m: SAMPLE.get(m.group(1), "1"), template)


async def _snapshot(store: Any) -> tuple:
    async with store.session() as s:
        tickets = (await s.exec(select(Ticket.ref, Ticket.status, Ticket.agency, Ticket.assigned_to)
                                .order_by(Ticket.ref))).all()
        events = (await s.exec(select(func.count()).select_from(AuditEvent))).scalar_one()
    return [tuple(t) for t in tickets], events


async def test_a_leader_gets_403_from_every_mutating_route(store) -> None:
    await seed_desk(store)
    config = make_config()
    app = web.Application()
    for routes in (desk.routes(store, config, Templates(), AnswerDesk()),
                   ppid_api.routes(store, config, Templates(), AnswerDesk()), dashboard.routes(store, config)):
        app.router.add_routes(routes)
    mutating = sorted({(r.method, r.resource.canonical) for r in app.router.routes()
                       if r.method not in SAFE and r.resource is not None
                       and r.resource.canonical not in SESSION_ROUTES})
    assert len(mutating) >= 10, mutating  # status, reply, decision, keberatan, notes, assignment, ...
    async with TestServer(app) as server:
        before = await _snapshot(store)
        leader, csrf = await login(server, "pim")
        coordinator, coord_csrf = await login(server, "kora")
        answers = {}
        try:
            for method, template in mutating:
                resp = await leader.request(method, _path(template), json={}, headers=csrf)
                answers[(method, template)] = (resp.status, (await resp.json()).get("error"))
            # the same request by a coordinator is judged on its merits (so the 403 above is the role's)
            resp = await coordinator.post(_path("/api/v1/tickets/{ref}/status"), json={"status": "diproses"},
                                          headers=coord_csrf)
            assert resp.status == 200, await resp.text()
            # and the leader still reads
            assert (await leader.get("/api/v1/session")).status == 200
        finally:
            await leader.http.close()
            await coordinator.http.close()
        assert {k: v for k, v in answers.items() if v != (403, "read_only")} == {}
        after = await _snapshot(store)
    # nothing the leader sent changed a ticket or wrote an audit event (the coordinator's one change did)
    assert [t for t in after[0] if t[0] != "TIK-2026-000001"] == [t for t in before[0] if t[0] != "TIK-2026-000001"]
    async with store.session() as s:
        by_leader = (await s.exec(select(func.count()).select_from(AuditEvent)
                                  .where(AuditEvent.actor == "user:pim"))).scalar_one()
    assert by_leader == 0


async def test_the_leaders_session_on_the_ppid_routes_needs_its_csrf_token(store) -> None:
    await seed_desk(store)
    config = make_config()
    app = web.Application()
    app.router.add_routes(desk.routes(store, config, Templates(), AnswerDesk()))
    app.router.add_routes(ppid_api.routes(store, config, Templates(), AnswerDesk()))
    async with TestServer(app) as server:
        leader, _ = await login(server, "pim")
        try:
            resp = await leader.post("/api/v1/tickets/TIK-2026-000003/decision", json={"outcome": "dikabulkan"})
            assert resp.status == 403 and (await resp.json())["error"] == "csrf"
        finally:
            await leader.http.close()
