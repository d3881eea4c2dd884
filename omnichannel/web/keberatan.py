"""A citizen's own keberatan (UU 14/2008 Pasal 35-36), and the public status page it is filed from.

The web intake gives every reporter an access key (``akses``) with their complaint ref; with it:

- ``GET /status/{ref}?akses=KEY``: the status of the complaint in Bahasa Indonesia (no personal data);
  for an information request, the decision and, while the law allows (30 working days after the
  decision, or after a deadline that passed unanswered), a keberatan form;
- ``POST /status/{ref}/keberatan`` (that form: ``akses``, ``alasan``, ``isi``): files it, answers the
  acknowledgement page;
- ``POST {intake path}/{ref}/keberatan`` (JSON ``{"akses", "reason": "a".."g", "text"}``, or ``?akses=``):
  the same for apps, answering 201 ``{"keberatan", "ticket", "due_at", "message", ...}`` or
  ``{"error", "reason"}`` (404 unknown ref or wrong key, 409 not decided / still open, 422 invalid, too late).

The keberatan lands for the PPID's superior with its 30-working-day clock (``information.file_objection``;
``GET /api/v1/keberatan`` lists them for officers) and counts in the reports. The acknowledgement is the
``keberatan_ack`` template, which a Pemda can edit.
"""

from __future__ import annotations

import logging
import re
from datetime import datetime
from html import escape
from typing import Any

from aiohttp import web

from omnichannel import information, storable
from omnichannel.models import Complaint
from omnichannel.status import complaint_status, owned_complaint
from omnichannel.types import utcnow
from omnichannel.web.body import BodyError, parse_json, read_body, read_form
from omnichannel.web.limits import limiter

log = logging.getLogger(__name__)
REF = re.compile(r"^ADU-\d{4}-\d{6,}$")  # anything else (NUL bytes, which a database refuses, included): not found
DEFAULT_PATH = "/api/v1/complaints"
HEADERS = {"Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
                                      "frame-ancestors 'none'",
           "X-Frame-Options": "DENY", "Cache-Control": "no-store",
           # same-origin, not no-referrer: with no-referrer a browser posts the form with "Origin: null"
           "Referrer-Policy": "same-origin"}
OUTCOME_TEXT = {"dikabulkan": "dikabulkan seluruhnya", "dikabulkan_sebagian": "dikabulkan sebagian",
                "ditolak": "ditolak"}
STYLE = """*{box-sizing:border-box} body{margin:0;font-family:system-ui,sans-serif;color:#1b1f24;background:#f6f8fa}
header{background:#0b3d91;color:#fff;padding:12px 16px} header h1{font-size:1.2rem;margin:0}
main{max-width:760px;margin:0 auto;padding:12px} section{background:#fff;border:1px solid #d0d7de;border-radius:8px;
padding:12px;margin:12px 0} dl{display:grid;grid-template-columns:max-content 1fr;gap:4px 12px;margin:0}
dt{color:#57606a} dd{margin:0} label{display:flex;flex-direction:column;gap:4px;margin:8px 0}
select,textarea,button{font:inherit;padding:6px 8px} textarea{min-height:7rem} .galat{color:#b3261e;font-weight:600}
.ok{color:#116329;font-weight:600} .catatan{font-size:.85rem;color:#57606a}"""


def _error(status: int, code: str, reason: str) -> web.Response:
    return web.json_response({"error": code, "reason": reason}, status=status)


def _page(title: str, body: str, status: int = 200) -> web.Response:
    html = (f'<!doctype html><html lang="id"><head><meta charset="utf-8"><meta name="viewport" '
            f'content="width=device-width,initial-scale=1"><title>{escape(title)}</title><style>{STYLE}</style>'
            f"</head><body><header><h1>{escape(title)}</h1></header><main>{body}</main></body></html>")
    return web.Response(text=html, status=status, content_type="text/html", charset="utf-8", headers=HEADERS)


def _same_origin(request: web.Request) -> bool:
    origin = request.headers.get("Origin")
    if origin is None:
        return True
    return origin != "null" and origin.split("://", 1)[-1].rstrip("/").lower() == (request.host or "").lower()


# what the page says when a keberatan is refused (the API answers the English reason)
REFUSED_TEXT = {
    "not_found": "Nomor aduan tidak ditemukan dengan kunci akses ini.",
    "not_information_request": "Keberatan hanya dapat diajukan atas permohonan informasi publik.",
    "not_decided": "Permohonan Anda belum diputus dan batas waktunya belum lewat; keberatan belum dapat diajukan.",
    "already_filed": "Keberatan Anda sebelumnya masih menunggu tanggapan atasan PPID.",
    "too_late": "Batas waktu pengajuan keberatan (30 hari kerja) sudah lewat.",
    "invalid": "Isian keberatan tidak valid: pilih alasan yang tersedia dan tulis keterangan paling banyak 4000 huruf.",
}


class Keberatan:
    """Handlers bound to one store, config and template set."""

    def __init__(self, store: Any, config: Any, templates: Any) -> None:
        self.store, self.config, self.templates = store, config, templates
        self.calendar = information.calendar_of(config)

    def _limited(self, request: web.Request) -> web.Response | None:
        rate = limiter(request)
        return rate.check("status", request) if rate is not None else None

    async def api_file(self, request: web.Request) -> web.Response:
        """``POST {intake}/{ref}/keberatan``: JSON in, JSON out."""
        if (refused := self._limited(request)) is not None:
            return refused
        try:
            body = parse_json(await read_body(request, 65_536))
        except BodyError as exc:
            return _error(exc.status, "bad_request", exc.reason)
        if not isinstance(body, dict):
            return _error(400, "bad_request", "the body must be a JSON object")
        body = storable.data(body)
        if not REF.match(request.match_info["ref"].upper()):
            return _error(404, "not_found", "not a complaint ref (e.g. ADU-2026-000123)")
        access = body.get("akses", request.query.get("akses", ""))
        reason, text = body.get("reason"), body.get("text")
        if not isinstance(access, str) or not isinstance(reason, str) or (text is not None and not isinstance(text, str)):
            return _error(400, "bad_request", "akses and reason must be strings, text a string or null")
        try:
            result = await information.citizen_objection(self.store, self.config, self.templates,
                                                         request.match_info["ref"], access, reason, text)
        except information.ObjectionRefused as exc:
            return _error(exc.status, exc.code, str(exc))
        return web.json_response(result, status=201)

    async def page(self, request: web.Request) -> web.Response:
        """``GET /status/{ref}?akses=KEY``: the status, the decision, the keberatan form or its state."""
        if (refused := self._limited(request)) is not None:
            return refused
        ref, access = request.match_info["ref"].upper(), request.query.get("akses", "")
        return await self._render(ref, access)

    async def _render(self, ref: str, access: str, notice: str = "", status: int = 200) -> web.Response:
        known = REF.match(ref) and access and "\x00" not in access
        status_info = await complaint_status(self.store, self.config, ref, access=access) if known else None
        if status_info is None:
            return _page("Status aduan", f'<section><p class="galat">{REFUSED_TEXT["not_found"]}</p></section>', 404)
        rows = [("Nomor aduan", status_info["complaint"]), ("Status", status_info["status_text"]),
                ("Instansi", status_info.get("agency") or "-"), ("Nomor tiket", status_info.get("ticket") or "-"),
                ("Batas waktu", self._when(status_info.get("sla_due")))]
        body = notice + "<section><dl>" + "".join(f"<dt>{escape(k)}</dt><dd>{escape(str(v))}</dd>" for k, v in rows) \
            + "</dl>"
        if status_info.get("answer"):
            body += f'<h2>Tanggapan</h2><p id="tanggapan">{escape(status_info["answer"])}</p>'
        body += "</section>" + await self._objection_part(ref, access)
        return _page(f"Status aduan {status_info['complaint']}", body, status)

    def _when(self, iso: str | None, with_time: bool = False) -> str:
        if not iso:
            return "-"
        local = datetime.fromisoformat(iso).astimezone(self.calendar.zone)
        return local.strftime("%d-%m-%Y %H:%M" if with_time else "%d-%m-%Y")

    async def _objection_part(self, ref: str, access: str) -> str:
        now = utcnow()
        async with self.store.session() as session:
            complaint = await owned_complaint(session, ref, access)
            if complaint is None:
                return ""
            main = complaint
            if complaint.status == "merged" and complaint.duplicate_of:
                main = await session.get(Complaint, complaint.duplicate_of) or complaint
            ticket = await information.request_ticket(session, main.case_id)
            if ticket is None or ticket.kind != "informasi":
                return ""
            filed = await information.objections_of(session, ticket.id)
        out = ['<section id="keputusan"><h2>Permohonan informasi publik</h2>']
        if ticket.info_outcome:
            reason = information.REFUSAL_REASONS.get(ticket.refusal_reason or "", "")
            out.append(f"<p>Keputusan: <b>{escape(OUTCOME_TEXT.get(ticket.info_outcome, ticket.info_outcome))}</b>"
                       f"{f' — {escape(reason)}' if reason else ''}.</p>")
        else:
            out.append("<p>Permohonan Anda belum diputus.</p>")
        for o in filed:
            state = (f"ditanggapi {self._when(o.answered_at.isoformat())}: {escape(o.outcome or '')}" if o.answered_at
                     else f"menunggu tanggapan atasan PPID paling lambat {self._when(o.due_at.isoformat())}")
            out.append(f'<p class="keberatan-ada">Keberatan {escape(o.ref)} ({escape(o.reason)}): {state}.</p>')
        try:
            until, reasons = information.filing_window(ticket, self.calendar, now)
        except information.ObjectionRefused as exc:
            if not filed:
                out.append(f'<p class="catatan">{escape(REFUSED_TEXT.get(exc.code, str(exc)))}</p>')
            return "".join(out) + "</section>"
        if any(o.answered_at is None for o in filed):
            return "".join(out) + "</section>"
        options = "".join(f'<option value="{k}">{k}. {escape(information.OBJECTION_REASONS[k])}</option>'
                          for k in reasons)
        out.append(f"""<h2>Ajukan keberatan</h2>
<p class="catatan">Bila Anda tidak puas, Anda dapat mengajukan keberatan kepada atasan PPID (UU 14/2008 Pasal 35)
paling lambat {self._when(until.isoformat())}. Atasan PPID menanggapi dalam 30 hari kerja.</p>
<form id="form-keberatan" method="post" action="/status/{escape(ref)}/keberatan">
<input type="hidden" name="akses" value="{escape(access)}">
<label>Alasan keberatan<select id="alasan" name="alasan" required>{options}</select></label>
<label>Keterangan<textarea id="isi" name="isi" maxlength="4000"
placeholder="Jelaskan mengapa Anda keberatan atas keputusan ini"></textarea></label>
<button id="kirim-keberatan" type="submit">Kirim keberatan</button></form>""")
        return "".join(out) + "</section>"

    async def form_file(self, request: web.Request) -> web.Response:
        """``POST /status/{ref}/keberatan``: the page's form; the acknowledgement page, or the page again
        with why not."""
        if (refused := self._limited(request)) is not None:
            return refused
        ref = request.match_info["ref"].upper()
        if not _same_origin(request):
            return _page("Keberatan", '<section><p class="galat">Formulir dikirim dari situs lain.</p></section>', 403)
        try:
            form = storable.data(await read_form(request))
        except BodyError as exc:
            return _page("Keberatan", f'<section><p class="galat">Isian formulir tidak terbaca ({exc.status}).</p>'
                                      "</section>", exc.status)
        access, reason, text = str(form.get("akses", "")), str(form.get("alasan", "")), form.get("isi")
        if not REF.match(ref):
            return await self._render(ref, access)  # the page's "not found"
        try:
            result = await information.citizen_objection(self.store, self.config, self.templates, ref, access, reason,
                                                         str(text) if text else None)
        except information.ObjectionRefused as exc:
            notice = f'<section><p id="galat" class="galat">{escape(REFUSED_TEXT.get(exc.code, str(exc)))}</p></section>'
            return await self._render(ref, access, notice, exc.status)
        notice = f'<section><p id="tanda-terima" class="ok">{escape(result["message"])}</p></section>'
        return await self._render(ref, access, notice, 201)


def routes(store: Any, config: Any, templates: Any, answers: Any = None) -> list[web.RouteDef]:
    """The citizen's keberatan routes, under the web intake's path (only with an enabled web intake: its
    access key is what proves the request is theirs)."""
    del answers  # the daemon's signature for officer routes
    intake = next((c for c in getattr(config, "connectors", []) if c.kind == "webform" and c.enabled), None)
    if intake is None:
        return []
    handlers = Keberatan(store, config, templates)
    path = (getattr(intake, "path", None) or DEFAULT_PATH).rstrip("/")
    return [web.post(path + "/{ref}/keberatan", handlers.api_file),
            web.get("/status/{ref}", handlers.page),
            web.post("/status/{ref}/keberatan", handlers.form_file)]
