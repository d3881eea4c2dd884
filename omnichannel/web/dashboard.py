"""``/dasbor``: the figures for coordinators, agencies and leaders, drawn on the server, read-only.

Until personal accounts exist (the officers' workspace issue adds them, with a read-only ``pimpinan``
role for leaders), the dashboard takes the officer API's tokens: a coordinator token sees every
agency, an agency's token only its own. The token is typed once into the login form; the browser then
holds a cookie with the token's SHA-256 (HttpOnly, SameSite=Strict, Secure behind https). Nothing on
these pages changes data: every route but log-in and log-out is a GET.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import time
from datetime import date, timedelta
from typing import Any

from aiohttp import web

from omnichannel.reports.figures import agency_name, build_report, sla_config
from omnichannel.sla import WorkingCalendar
from omnichannel.types import utcnow
from omnichannel.web import dashboard_view as view
from omnichannel.web.body import BodyError, read_form
from omnichannel.web.officer_api import Caller, OfficerApi

log = logging.getLogger(__name__)
COOKIE = "omni_dasbor"
MAX_DAYS = 3 * 366
CACHE_SECONDS = 60.0
CACHE_ENTRIES = 32
HEADERS = {"Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; "
                                      "form-action 'self'; frame-ancestors 'none'",
           "X-Frame-Options": "DENY", "Cache-Control": "no-store", "Referrer-Policy": "same-origin"}


def _digest(token: bytes) -> str:
    return hashlib.sha256(b"omnichannel-dasbor:" + token).hexdigest()


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
        """Who is asking: a bearer token, or the dashboard's cookie."""
        bearer = self.tokens.caller(request)
        if bearer is not None:
            return bearer
        given = request.cookies.get(COOKIE, "")
        if not given:
            return None
        agencies: set[str] = set()
        coordinator = False
        for digest, agency in self._digests:  # no early exit, as for bearer tokens
            if hmac.compare_digest(digest, given):
                if agency is None:
                    coordinator = True
                else:
                    agencies.add(agency)
        if not agencies and not coordinator:
            return None
        who = "coordinator" if coordinator else ",".join(sorted(agencies))
        return Caller(frozenset(agencies), coordinator, f"dasbor:{who}#{given[:8]}")

    @staticmethod
    def _html(text: str, status: int = 200) -> web.Response:
        return web.Response(text=text, status=status, content_type="text/html", charset="utf-8", headers=HEADERS)

    async def login(self, request: web.Request) -> web.Response:
        """``POST /dasbor/masuk``: a valid token sets the cookie."""
        try:
            form = await read_form(request)
        except BodyError as exc:
            return self._html(view.login(f"Tidak bisa masuk: isian formulir tidak terbaca ({exc.status})."),
                              exc.status)
        token = str(form.get("token", "")).strip().encode()
        if not token or not any(hmac.compare_digest(t, token) for t, _ in self.tokens._tokens if t):
            log.info("dashboard: refused a login from %s", request.remote)
            return self._html(view.login("Tidak bisa masuk: token tidak dikenal."), 401)
        response = web.Response(status=303, headers={**HEADERS, "Location": "/dasbor"})
        response.set_cookie(COOKIE, _digest(token), httponly=True, samesite="Strict", secure=self.secure,
                            path="/dasbor", max_age=12 * 3600)
        return response

    async def logout(self, _: web.Request) -> web.Response:
        """``POST /dasbor/keluar``: forget the cookie."""
        response = web.Response(status=303, headers={**HEADERS, "Location": "/dasbor"})
        response.del_cookie(COOKIE, path="/dasbor")
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
        caller = self.caller(request)
        if caller is None:
            return self._html(view.login())
        today = self.calendar.local_date(utcnow())
        first, last, agency, error = self._params(request, caller, today)
        if agency is not None and not (caller.coordinator or caller.owns(agency)):
            return self._html(view.page("Dasbor Kinerja Pengaduan",
                                        '<p id="galat" class="galat">Anda tidak berhak melihat instansi ini.</p>'
                                        '<p><a href="/dasbor">Kembali</a></p>', caller.actor), 403)
        report = await self._report(first, last, agency)
        who = "Koordinator" if caller.coordinator else ", ".join(agency_name(self.config, c) for c in sorted(caller.agencies))
        return self._html(view.dashboard(report, first, last, agency, self._choices(caller), today, who, error))


def routes(store: Any, config: Any) -> list[web.RouteDef]:
    """The dashboard's routes (only when some officer or coordinator token is configured)."""
    board = Dashboard(store, config)
    if not board._digests:
        return []
    return [web.get("/dasbor", board.show), web.post("/dasbor/masuk", board.login),
            web.post("/dasbor/keluar", board.logout)]
