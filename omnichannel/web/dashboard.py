"""``/dasbor``: the figures for coordinators, agencies and leaders, drawn on the server, read-only.

People log in with their personal account (``omnichannel users add``; the same login session and
cookie as the officers' desk, ``omnichannel.web.accounts``): a ``koordinator``, ``admin`` or
``pimpinan`` (leaders: read only, everywhere) sees every agency, a ``petugas`` or ``ppid`` its own
agencies. Machines read with the officer API's tokens (``Authorization: Bearer``); a token typed into
the form's "token" part sets a cookie with the token's SHA-256 (HttpOnly, SameSite=Strict, Secure
behind https). Nothing on these pages changes data: every route but log-in and log-out is a GET.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import time
from datetime import date, timedelta
from typing import Any

from aiohttp import web

from omnichannel import users
from omnichannel.models import User
from omnichannel.reports.figures import agency_name, build_report, sla_config
from omnichannel.sla import WorkingCalendar
from omnichannel.types import utcnow
from omnichannel.web import accounts
from omnichannel.web import dashboard_view as view
from omnichannel.web.body import BodyError, read_form
from omnichannel.web.officer_api import Caller, OfficerApi, match_secrets

log = logging.getLogger(__name__)
COOKIE = "omni_dasbor"
MAX_DAYS = 3 * 366
CACHE_SECONDS = 60.0
CACHE_ENTRIES = 32
HEADERS = {"Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; "
                                      "form-action 'self'; frame-ancestors 'none'",
           "X-Frame-Options": "DENY", "Cache-Control": "no-store", "Referrer-Policy": "same-origin"}


ROLE_NAMES = {"koordinator": "Koordinator", "admin": "Admin", "pimpinan": "Pimpinan", "ppid": "PPID",
              "petugas": "Petugas"}


def _digest(token: bytes) -> str:
    return hashlib.sha256(b"omnichannel-dasbor:" + token).hexdigest()


def account_caller(user: User) -> Caller:
    """What an account sees on the dashboard: every agency for coordinators, admins and leaders (and a
    PPID without agencies), else its own agencies."""
    agencies = frozenset(user.agencies or ())
    every = user.role in (*users.ALL_AGENCIES, "pimpinan") or (user.role == "ppid" and not agencies)
    return Caller(frozenset() if every else agencies, every, f"user:{user.login}", None, user.login, user.role)


def _same_origin(request: web.Request) -> bool:
    """A browser's form post names its origin: it must be this site (no logging in from another one)."""
    origin = request.headers.get("Origin")
    if not origin or origin == "null":
        return origin is None
    return origin.split("://", 1)[-1].rstrip("/").lower() == (request.host or "").lower()


class Dashboard:
    """Handlers bound to one store and config."""

    def __init__(self, store: Any, config: Any) -> None:
        self.store = store
        self.config = config
        self.tokens = OfficerApi(store, config, None)
        self._digests = [(_digest(token), agency) for token, agency in self.tokens._tokens if token]
        self.calendar = WorkingCalendar(sla_config(config))
        public = getattr(config.http, "public_url", None) or ""
        self.secure = public.startswith("https://")
        self._cache: dict[tuple[date, date, str | None], tuple[float, dict[str, Any]]] = {}

    async def _report(self, first: date, last: date, agency: str | None) -> dict[str, Any]:
        """The figures, kept for ``CACHE_SECONDS`` (a year on a big store takes seconds; the page says as of when)."""
        key = (first, last, agency)
        now = time.monotonic()
        hit = self._cache.get(key)
        if hit is not None and hit[0] > now:
            return hit[1]
        report = await build_report(self.store, self.config, first, last, agency, with_trend=True)
        if len(self._cache) >= CACHE_ENTRIES:
            self._cache = {k: v for k, v in self._cache.items() if v[0] > now}
            if len(self._cache) >= CACHE_ENTRIES:
                self._cache.clear()
        self._cache[key] = (now + CACHE_SECONDS, report)
        return report

    def caller(self, request: web.Request) -> Caller | None:
        """Who is asking by token: a bearer token, or the dashboard's token cookie."""
        bearer = self.tokens.caller(request)
        if bearer is not None:
            return bearer
        given = request.cookies.get(COOKIE, "")
        if not given:
            return None
        agencies, coordinator = match_secrets(self._digests, given)
        if not agencies and not coordinator:
            return None
        who = "coordinator" if coordinator else ",".join(sorted(agencies))
        return Caller(frozenset(agencies), coordinator, f"dasbor:{who}#{given[:8]}")

    async def viewer(self, request: web.Request) -> tuple[Caller, str, str | None] | None:
        """(caller, how the page names them, the session's CSRF token) or None: a bearer token first (a
        machine), then a personal login session, then the dashboard's token cookie."""
        if request.headers.get("Authorization"):
            caller = self.tokens.caller(request)
            return (caller, self._token_label(caller), None) if caller is not None else None
        value = request.cookies.get(accounts.COOKIE)
        if value:
            async with self.store.session() as session:
                found = await users.resolve_session(session, value)
            if found is not None:
                user, sess = found
                return account_caller(user), f"{user.name} ({ROLE_NAMES.get(user.role, user.role)})", sess.csrf
        caller = self.caller(request)
        return (caller, self._token_label(caller), None) if caller is not None else None

    def _token_label(self, caller: Caller) -> str:
        if caller.coordinator:
            return "Koordinator"
        return ", ".join(agency_name(self.config, c) for c in sorted(caller.agencies))

    @staticmethod
    def _html(text: str, status: int = 200) -> web.Response:
        return web.Response(text=text, status=status, content_type="text/html", charset="utf-8", headers=HEADERS)

    async def login(self, request: web.Request) -> web.Response:
        """``POST /dasbor/masuk``: a login and password open a session (as on the officers' desk); a valid
        token sets the dashboard's token cookie."""
        if not _same_origin(request):
            log.warning("dashboard: refused a login posted from another site (%s)", request.headers.get("Origin"))
            return self._html(view.login("Tidak bisa masuk: formulir dikirim dari situs lain."), 403)
        try:
            form = await read_form(request)
        except BodyError as exc:
            return self._html(view.login(f"Tidak bisa masuk: isian formulir tidak terbaca ({exc.status})."),
                              exc.status)
        if form.get("login") is not None:
            return await self._account_login(request, str(form.get("login", "")), str(form.get("password", "")))
        token = str(form.get("token", "")).strip().encode()
        if not token or not any(hmac.compare_digest(t, token) for t, _ in self.tokens._tokens if t):
            log.info("dashboard: refused a login from %s", request.remote)
            return self._html(view.login("Tidak bisa masuk: token tidak dikenal."), 401)
        response = web.Response(status=303, headers={**HEADERS, "Location": "/dasbor"})
        response.set_cookie(COOKIE, _digest(token), httponly=True, samesite="Strict", secure=self.secure,
                            path="/dasbor", max_age=12 * 3600)
        return response

    async def _account_login(self, request: web.Request, login: str, password: str) -> web.Response:
        remote = request.remote or "-"
        async with self.store.session() as session:
            result = await users.authenticate(session, login, password, remote)
            if result.user is None:
                await session.commit()  # failures count towards the lockout
                if result.reason == "locked":
                    until = result.locked_until.astimezone(self.calendar.zone).strftime("%H:%M") \
                        if result.locked_until else "nanti"
                    return self._html(view.login(f"Akun terkunci karena terlalu banyak percobaan; coba lagi "
                                                 f"setelah pukul {until}."), 403)
                if result.reason == "disabled":
                    return self._html(view.login("Tidak bisa masuk: akun ini dinonaktifkan."), 403)
                return self._html(view.login("Tidak bisa masuk: nama pengguna atau kata sandi salah."), 401)
            value, _ = await users.open_session(session, result.user)
            role = result.user.role
            await session.commit()
        log.info("dashboard login: %s (%s) from %s", login.strip().lower(), role, remote)
        response = web.Response(status=303, headers={**HEADERS, "Location": "/dasbor"})
        response.set_cookie(accounts.COOKIE, value, max_age=int(users.SESSION_TTL.total_seconds()), path="/",
                            httponly=True, samesite="Strict", secure=accounts._secure(request, self.config))
        return response

    async def logout(self, request: web.Request) -> web.Response:
        """``POST /dasbor/keluar``: end the login session (the form carries its CSRF token) and forget the
        token cookie."""
        value = request.cookies.get(accounts.COOKIE)
        if value:
            try:
                form = await read_form(request)
            except BodyError:
                form = {}
            async with self.store.session() as session:
                found = await users.resolve_session(session, value)
                if found is not None:
                    if not hmac.compare_digest(str(form.get("csrf", "")).encode(), found[1].csrf.encode()):
                        return self._html(view.login("Keluar ditolak: formulir tidak sah (token CSRF)."), 403)
                    await users.close_session(session, value)
                    await session.commit()
                    log.info("dashboard logout: %s", found[0].login)
        response = web.Response(status=303, headers={**HEADERS, "Location": "/dasbor"})
        response.del_cookie(COOKIE, path="/dasbor")
        response.del_cookie(accounts.COOKIE, path="/")
        return response

    def _choices(self, caller: Caller) -> list[tuple[str, str]]:
        if caller.coordinator:
            codes = [a.code for a in self.config.agencies]
            return [("semua", "Semua instansi"), *((c, agency_name(self.config, c)) for c in codes)]
        return [(c, agency_name(self.config, c)) for c in sorted(caller.agencies)]

    def _params(self, request: web.Request, caller: Caller, today: date) -> tuple[date, date, str | None, str | None]:
        error = None
        last, first = today, today - timedelta(days=29)
        try:
            if request.query.get("sampai"):
                last = date.fromisoformat(request.query["sampai"])
            if request.query.get("dari"):
                first = date.fromisoformat(request.query["dari"])
        except ValueError:
            error, first, last = "Tanggal tidak valid; ditampilkan 30 hari terakhir.", today - timedelta(days=29), today
        if last < first:
            error, first, last = "Tanggal akhir sebelum tanggal awal; ditampilkan 30 hari terakhir.", \
                today - timedelta(days=29), today
        if (last - first).days > MAX_DAYS:
            error, first = "Periode paling panjang tiga tahun.", last - timedelta(days=MAX_DAYS)
        agency = request.query.get("instansi") or None
        if agency == "semua":
            agency = None
        if not caller.coordinator and (agency is None or agency not in caller.agencies):
            agency = sorted(caller.agencies)[0] if agency is None else agency
        return first, last, agency, error

    async def show(self, request: web.Request) -> web.Response:
        """``GET /dasbor``: the login form, or the figures for the picked period and agency."""
        seen = await self.viewer(request)
        if seen is None:
            return self._html(view.login())
        caller, who, csrf = seen
        today = self.calendar.local_date(utcnow())
        first, last, agency, error = self._params(request, caller, today)
        if agency is not None and not (caller.coordinator or caller.owns(agency)):
            return self._html(view.page("Dasbor Kinerja Pengaduan",
                                        '<p id="galat" class="galat">Anda tidak berhak melihat instansi ini.</p>'
                                        '<p><a href="/dasbor">Kembali</a></p>', who, csrf), 403)
        report = await self._report(first, last, agency)
        return self._html(view.dashboard(report, first, last, agency, self._choices(caller), today, who, error, csrf))


def routes(store: Any, config: Any) -> list[web.RouteDef]:
    """The dashboard's routes (personal accounts log in; tokens, when configured, too)."""
    board = Dashboard(store, config)
    return [web.get("/dasbor", board.show), web.post("/dasbor/masuk", board.login),
            web.post("/dasbor/keluar", board.logout)]
