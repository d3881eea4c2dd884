"""The officers' desk API as the daemon mounts it: the officer API (tokens and login sessions), the session
endpoints (``web.accounts``) and the queue, history, notes, replies and corrections (``web.queue``)."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from omnichannel.protocols import AnswerDesk
from omnichannel.web import accounts, attachments, cases, openapi, queue
from omnichannel.web.officer_api import OfficerApi, _wrap, api_routes


def routes(store: Any, config: Any, templates: Any, answers: AnswerDesk | None = None) -> list[web.RouteDef]:
    """Every officer route, for the daemon's one aiohttp app (``answers``: the router's answer desk)."""
    api = OfficerApi(store, config, templates, answers)
    desk = accounts.Accounts(store, config)
    return [*api_routes(api, desk), *desk.routes(_wrap), *queue.routes(api, desk, _wrap),
            *cases.routes(api, desk, _wrap), *attachments.routes(api, desk, _wrap), *openapi.routes(config)]
