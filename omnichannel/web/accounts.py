"""Officers' login sessions over HTTP: log in, who am I, log out; the session's caller and its CSRF check.

``POST /api/v1/session`` ``{"login", "password"}`` sets the ``omni_sesi`` cookie (HttpOnly,
SameSite=Strict, Secure behind https) and answers the CSRF token; every state-changing request made
with the cookie must repeat it in ``X-CSRF-Token``. ``GET /api/v1/session`` says who is logged in,
``POST /api/v1/session/logout`` ends it. A request with ``Authorization: Bearer`` is a machine client
and is judged by its token alone (no cookie, no CSRF). A handler finds a logged-in person's caller in
``request[officer_api.OFFICER]`` and the account in ``request[OFFICER_USER]`` (the dashboard reads that too).
"""

from __future__ import annotations

import hmac
import logging
from typing import Any

from aiohttp import web

from omnichannel import users
from omnichannel.models import User
from omnichannel.web.body import BodyError, parse_json, read_body
from omnichannel.web.officer_api import OFFICER, Caller

log = logging.getLogger(__name__)

COOKIE = "omni_sesi"
OFFICER_USER = web.RequestKey("officer_user", User)  # the account behind a session (the dashboard reads it)
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
READ_ONLY_ROLES = frozenset({"pimpinan"})  # leaders read the dashboard and reports; they change nothing
LOGOUT_PATHS = frozenset({"/api/v1/session/logout"})


def caller_for(user: User) -> Caller:
    """What an account may see, as the officer API's caller."""
    agencies = frozenset(user.agencies or ())
    actor = f"user:{user.login}"
    if user.role in users.ALL_AGENCIES:
        return Caller(agencies, True, actor, None, user.login, user.role)
    if user.role == "ppid":  # information requests: of its agencies, or of every agency when it has none
        return Caller(agencies, not agencies, actor, frozenset({"informasi"}), user.login, user.role)
    if user.role == "petugas":
        return Caller(agencies, False, actor, None, user.login, user.role)
    return Caller(frozenset(), False, actor, frozenset(), user.login, user.role)  # pimpinan: no tickets


def _error(status: int, code: str, reason: str) -> web.Response:
    return web.json_response({"error": code, "reason": reason}, status=status)


def _secure(request: web.Request, config: Any) -> bool:
    public = (config.http.public_url or "").lower()
    return request.secure or request.headers.get("X-Forwarded-Proto", "").lower() == "https" \
        or public.startswith("https://")


def _me(user: User, csrf: str, config: Any) -> dict[str, Any]:
    caller = caller_for(user)
    visible = [{"code": a.code, "name": a.name} for a in config.agencies if caller.coordinator or caller.owns(a.code)]
    return {"login": user.login, "name": user.name, "role": user.role, "agencies": list(user.agencies or []),
            "csrf": csrf, "visible_agencies": visible, "can_reassign": caller.coordinator and caller.kinds is None,
            "all_agencies": [{"code": a.code, "name": a.name} for a in config.agencies]}


class Accounts:
    """Login, logout and the per-request session check, bound to one store and config."""

    def __init__(self, store: Any, config: Any) -> None:
        self.store = store
        self.config = config

    async def attach(self, request: web.Request) -> web.Response | None:
        """Put a logged-in person's caller on the request; an early answer when the CSRF check fails."""
        if OFFICER in request or request.headers.get("Authorization"):
            return None
        value = request.cookies.get(COOKIE)
        if not value:
            return None
        async with self.store.session() as session:
            found = await users.resolve_session(session, value)
        if found is None:
            return None  # expired or unknown: the handler answers 401 as for no credentials
        user, sess = found
        if request.method not in SAFE_METHODS and not hmac.compare_digest(
                request.headers.get(CSRF_HEADER, "").encode(), sess.csrf.encode()):
            log.warning("refused %s %s for %s: missing or wrong CSRF token", request.method, request.path,
                        user.login)
            return _error(403, "csrf", f"a state-changing request needs the session's {CSRF_HEADER} header")
        if user.role in READ_ONLY_ROLES and request.method not in SAFE_METHODS and request.path not in LOGOUT_PATHS:
            log.warning("refused %s %s for %s: the %s role only reads", request.method, request.path, user.login,
                        user.role)
            return _error(403, "read_only", f"the {user.role} role can read the dashboard and reports, "
                                            "not change anything")
        request[OFFICER] = caller_for(user)
        request[OFFICER_USER] = user
        return None

    async def login(self, request: web.Request) -> web.Response:
        """``POST /api/v1/session`` with ``{"login", "password"}`` (JSON only: a form post from another
        site cannot send it without a CORS preflight)."""
        if request.content_type != "application/json":
            return _error(415, "unsupported_media_type", "send the login as application/json")
        try:  # read whole, within the body timeout and size limit: any refusal in the officers' error shape
            body = parse_json(await read_body(request, min(request.app._client_max_size, 65_536)))
        except BodyError as exc:
            return _error(exc.status, "bad_request", exc.reason)
        if not isinstance(body, dict) or not isinstance(body.get("login"), str) \
                or not isinstance(body.get("password"), str):
            return _error(400, "bad_request", "the body must be {\"login\": string, \"password\": string}")
        remote = request.remote or "-"
        async with self.store.session() as session:
            result = await users.authenticate(session, body["login"], body["password"], remote)
            if result.user is None:
                await session.commit()
                if result.reason == "locked":
                    until = result.locked_until.isoformat(timespec="seconds") if result.locked_until else None
                    return web.json_response({"error": "locked", "until": until,
                                              "reason": "too many failed logins; the account is locked for now"},
                                             status=403)
                if result.reason == "disabled":
                    return _error(403, "disabled", "this account is disabled")
                return _error(401, "bad_login", "wrong login or password")
            value, sess = await users.open_session(session, result.user)
            me = _me(result.user, sess.csrf, self.config)
            await session.commit()
        log.info("login: %s (%s) from %s", me["login"], me["role"], remote)
        resp = web.json_response(me)
        resp.set_cookie(COOKIE, value, max_age=int(users.SESSION_TTL.total_seconds()), path="/", httponly=True,
                        samesite="Strict", secure=_secure(request, self.config))
        return resp

    async def whoami(self, request: web.Request) -> web.Response:
        """``GET /api/v1/session``: the logged-in account and its CSRF token, or 401."""
        value = request.cookies.get(COOKIE)
        found = None
        if value:
            async with self.store.session() as session:
                found = await users.resolve_session(session, value)
        if found is None:
            return _error(401, "unauthorized", "not logged in")
        user, sess = found
        return web.json_response(_me(user, sess.csrf, self.config))

    async def logout(self, request: web.Request) -> web.Response:
        """``POST /api/v1/session/logout`` (CSRF checked by ``attach``): the session ends, the cookie goes."""
        value = request.cookies.get(COOKIE)
        user = request.get(OFFICER_USER)
        if value and user is not None:
            async with self.store.session() as session:
                await users.close_session(session, value)
                await session.commit()
            log.info("logout: %s", user.login)
        resp = web.json_response({"logged_out": user is not None})
        resp.del_cookie(COOKIE, path="/")
        return resp

    def routes(self, wrap: Any) -> list[web.RouteDef]:
        """The session routes (``wrap`` runs ``attach`` first where a session matters)."""
        return [
            web.post("/api/v1/session", self.login),
            web.get("/api/v1/session", self.whoami),
            web.post("/api/v1/session/logout", wrap(self.logout, self)),
        ]


async def announce(store: Any, config: Any, base_url: str) -> None:
    """Log where the officers' desk is and, when nobody can log in yet, how to make an account."""
    log.info("officers' desk: %s/petugas", base_url.rstrip("/"))
    try:
        async with store.session() as session:
            accounts = await users.count_users(session)
    except Exception as exc:  # noqa: BLE001 (a hint at start must never stop the daemon)
        log.debug("cannot count officer accounts: %s", exc)
        return
    tokens = [t for a in config.agencies for t in a.officer_tokens] + list(config.http.coordinator_tokens)
    if accounts == 0 and not any(t.get_secret_value() for t in tokens):
        log.warning("no officer account or token exists yet: create one with "
                    "`omnichannel users add LOGIN --name NAME --role koordinator` "
                    "(or --role petugas --agency CODE), then log in at %s/petugas", base_url.rstrip("/"))
