"""Officers' corrections of grouping over HTTP: ``POST /api/v1/cases/{ref}/merge`` ``{"into": ref}`` and
``POST /api/v1/cases/{ref}/split`` ``{"complaints": [ref, ...]}``.

The caller must be able to see every ticket of every case involved (a case with a ticket of another agency
answers 404, as a case that does not exist); a ppid and a pimpinan cannot regroup cases.
"""

from __future__ import annotations

import logging
from typing import Any

from aiohttp import web
from sqlalchemy import select

from omnichannel import corrections
from omnichannel.models import Case, Ticket
from omnichannel.web.officer_api import _Reply

log = logging.getLogger(__name__)


def _error(status: int, code: str, reason: str) -> web.Response:
    return web.json_response({"error": code, "reason": reason}, status=status)


class Cases:
    """Merge and split handlers on top of the officer API (auth, answer desk, errors)."""

    def __init__(self, api: Any) -> None:
        self.api = api

    async def _case(self, session: Any, ref: str, caller: Any) -> Case:
        case = (await session.exec(select(Case).where(Case.ref == ref.strip().upper()))).scalars().first()
        if case is not None:
            tickets = (await session.exec(select(Ticket.agency, Ticket.kind).where(Ticket.case_id == case.id))).all()
            if tickets and all(caller.sees(agency, kind) for agency, kind in tickets):
                return case
        raise _Reply(_error(404, "not_found", f"no case {ref} whose tickets you all handle"))

    def _caller(self, request: web.Request) -> Any:
        caller = self.api._auth(request)
        if caller.kinds is not None:
            raise _Reply(_error(403, "forbidden", "this account cannot regroup cases"))
        return caller

    async def merge(self, request: web.Request) -> web.Response:
        """``POST /api/v1/cases/{ref}/merge`` ``{"into": ref}``."""
        caller = self._caller(request)
        answers = self.api._answers()
        body = await self.api._body(request)
        into = body.get("into")
        if not isinstance(into, str) or not into.strip():
            return _error(422, "invalid", "into must be a case ref")
        async with self.api.store.session() as session:
            source = await self._case(session, request.match_info["ref"], caller)
            target = await self._case(session, into, caller)
            try:
                result = await corrections.merge(session, answers, source, target, caller.actor, self.api.config,
                                                 self.api.templates)
            except ValueError as exc:
                return _error(422, "invalid", str(exc))
            await session.commit()
        return web.json_response(result)

    async def split(self, request: web.Request) -> web.Response:
        """``POST /api/v1/cases/{ref}/split`` ``{"complaints": [ref, ...]}``."""
        caller = self._caller(request)
        answers = self.api._answers()
        body = await self.api._body(request)
        refs = body.get("complaints")
        if not isinstance(refs, list) or not refs or not all(isinstance(r, str) for r in refs):
            return _error(422, "invalid", "complaints must be a non-empty list of complaint refs")
        async with self.api.store.session() as session:
            case = await self._case(session, request.match_info["ref"], caller)
            try:
                result = await corrections.split(session, answers, case, refs, caller.actor, self.api.config,
                                                 self.api.templates)
            except ValueError as exc:
                return _error(422, "invalid", str(exc))
            await session.commit()
        return web.json_response(result, status=201)


def routes(api: Any, accounts: Any, wrap: Any) -> list[web.RouteDef]:
    """The case routes, wrapped like the officer API's."""
    cases = Cases(api)
    return [web.post("/api/v1/cases/{ref}/merge", wrap(cases.merge, accounts)),
            web.post("/api/v1/cases/{ref}/split", wrap(cases.split, accounts))]
