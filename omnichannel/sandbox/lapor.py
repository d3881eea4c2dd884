"""A local SP4N-LAPOR! stand-in for tests and demos.

It speaks what is publicly known of LAPOR!'s integration API (the legacy ``addstream`` XML
endpoint, the ``gettopics`` data API, report pages ``/pengaduan/<TrackingID>``) plus a JSON API of
the shape a Pemda maps in ``LaporJsonMapping``. Reports move through the published statuses on a
clock that tests advance (``advance``) or override (``force_status``); failures (5xx bursts, a
failure rate, slow answers, "stored but the answer was lost") are injectable. Every submitted body
is kept in ``submissions`` so tests can check anonymity and duplicates.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import html
import itertools
import json
import random
import time
from dataclasses import asdict, dataclass, field
from typing import Any
from xml.etree import ElementTree

from aiohttp import web

from omnichannel.sandbox.base import SandboxServer

STATUSES = ("belum terverifikasi", "terverifikasi", "didisposisikan", "ditindaklanjuti", "selesai")
DAY = 86400.0
# seconds spent in each status before the next one (LAPOR!'s published 3 / 5 / 10 working days, roughly)
DEFAULT_SCHEDULE = {"terverifikasi": 2 * DAY, "didisposisikan": 1 * DAY, "ditindaklanjuti": 5 * DAY,
                    "selesai": 10 * DAY}
DEFAULT_TOPICS = [
    {"id": 1, "parent": 0, "topic_name": "Infrastruktur"},
    {"id": 11, "parent": 1, "topic_name": "Jalan dan Jembatan"},
    {"id": 12, "parent": 1, "topic_name": "Drainase dan Banjir"},
    {"id": 13, "parent": 1, "topic_name": "Penerangan Jalan Umum"},
    {"id": 2, "parent": 0, "topic_name": "Lingkungan Hidup"},
    {"id": 21, "parent": 2, "topic_name": "Sampah dan Kebersihan"},
    {"id": 3, "parent": 0, "topic_name": "Kesehatan"},
    {"id": 4, "parent": 0, "topic_name": "Administrasi Kependudukan"},
    {"id": 5, "parent": 0, "topic_name": "Bantuan Sosial"},
    {"id": 6, "parent": 0, "topic_name": "Perhubungan"},
    {"id": 7, "parent": 0, "topic_name": "Pendidikan"},
    {"id": 8, "parent": 0, "topic_name": "Ketenteraman dan Ketertiban Umum"},
    {"id": 99, "parent": 0, "topic_name": "Topik Lainnya"},
]
ANSWERS = (
    "Terima kasih atas laporan Saudara. Petugas kami telah meninjau lokasi dan penanganan "
    "dijadwalkan dalam minggu ini.",
    "Laporan Saudara telah kami tindak lanjuti. Tim lapangan sudah melakukan perbaikan hari ini; "
    "mohon kabari kami apabila masalah masih terjadi.",
    "Terima kasih. Aduan Saudara sudah kami koordinasikan dengan unit terkait dan sedang dalam "
    "proses penanganan.",
)


@dataclass
class Submission:
    """One body posted to a create endpoint, whatever became of it."""

    at: float
    wire: str
    path: str
    body: str
    headers: dict[str, str]
    status: int = 0
    tracking_id: str | None = None

    def parsed(self) -> dict[str, Any]:
        """The body as a dict (JSON) or the XML's fields flattened (``pelapor.email`` etc.)."""
        if self.wire == "json":
            return json.loads(self.body)
        return _xml_fields(self.body)


@dataclass
class SandboxReport:
    """A report LAPOR! holds."""

    tracking_id: str
    transaction_id: str
    text: str
    wire: str
    created_at: float
    anonymous: bool = False
    confidential: bool = False
    title: str | None = None
    topic_id: int | None = None
    external_ref: str | None = None
    reporter: dict[str, str] = field(default_factory=dict)
    location: str | None = None
    status: str = STATUSES[0]
    status_at: float = 0.0
    history: list[dict[str, Any]] = field(default_factory=list)
    followups: list[dict[str, Any]] = field(default_factory=list)
    frozen: bool = False

    def public(self, base_url: str) -> dict[str, Any]:
        """The JSON API's view of the report."""
        return {"tracking_id": self.tracking_id, "transaksi_id": self.transaction_id, "status": self.status,
                "judul": self.title, "topik_id": self.topic_id, "referensi": self.external_ref,
                "anonim": self.anonymous, "rahasia": self.confidential, "riwayat": self.history,
                "url": f"{base_url}/pengaduan/{self.tracking_id}", "jumlah_tindak_lanjut": len(self.followups)}


def _xml_fields(body: str) -> dict[str, Any]:
    root = ElementTree.fromstring(body)  # noqa: S314 (test server; expat refuses external entities)
    out: dict[str, Any] = {"token": root.get("token")}
    for child in root:
        for key, value in child.attrib.items():
            out[f"{child.tag}@{key}"] = value
        for leaf in child:
            out[f"{child.tag}.{leaf.tag}"] = (leaf.text or "").strip()
    return out


def _xml_answer(code: int, message: str, **fields: str) -> str:
    extra = "".join(f"<{k}>{html.escape(v)}</{k}>" for k, v in fields.items())
    return (f'<?xml version="1.0" encoding="UTF-8"?><result><code>{code}</code>'
            f"<message>{html.escape(message)}</message>{extra}</result>")


def _flag(value: Any) -> bool:
    return str(value).strip().lower() in ("1", "true", "ya", "yes")


class LaporSandbox(SandboxServer):
    """In-process aiohttp server behaving like SP4N-LAPOR! (see module docstring)."""

    client_max_size = 2 * 1024 * 1024
    shutdown_timeout = 1.0  # a "hang" answer must not hold stop() for its whole delay

    def __init__(self, tokens: tuple[str, ...] = ("sandbox-token",), keytoken: str = "sandbox-keytoken",
                 schedule: dict[str, float] | None = None, seed: int = 7, host: str = "127.0.0.1",
                 port: int = 0) -> None:
        super().__init__(host, port)
        self.tokens = set(tokens)
        self.keytoken = keytoken
        self.schedule = dict(DEFAULT_SCHEDULE if schedule is None else schedule)
        self.topics = list(DEFAULT_TOPICS)
        self.reports: dict[str, SandboxReport] = {}
        self.submissions: list[Submission] = []
        self.calls = 0
        self.failure_rate = 0.0
        self.failure_statuses: tuple[int, ...] = (500, 503)
        self.delay = 0.0
        self.auto_progress = True
        self._rng = random.Random(seed)
        self._fail_queue: list[tuple[int, float | None]] = []
        self._lost_answers: list[tuple[str, float]] = []
        self._clock_offset = 0.0
        self._ids = itertools.count(4_100_001 + seed * 1000)

    # -- lifecycle (start, stop, base_url, async with: SandboxServer) ------------------------------
    def routes(self, app: web.Application) -> None:
        """The legacy XML, data and JSON APIs, report pages and ``/_sandbox/lapor/...``."""
        from omnichannel.sandbox.lapor_control import control_routes

        app.router.add_post("/api/stream/addstream", self._addstream)
        app.router.add_post("/api/services/f01/gettopics", self._gettopics)
        app.router.add_post("/api/v1/laporan", self._json_create)
        app.router.add_get("/api/v1/laporan", self._json_search)
        app.router.add_get("/api/v1/laporan/{tracking_id}", self._json_get)
        app.router.add_get("/api/v1/laporan/{tracking_id}/tindak-lanjut", self._json_followups)
        app.router.add_get("/pengaduan/{tracking_id}", self._page)
        app.router.add_routes(control_routes(self))

    # -- controls for tests -----------------------------------------------------------------------
    def now(self) -> float:
        """The sandbox clock (wall clock plus whatever ``advance`` added)."""
        return time.time() + self._clock_offset

    def advance(self, seconds: float) -> None:
        """Move the sandbox clock forward; reports progress lazily when next read."""
        self._clock_offset += seconds

    def fail_next(self, count: int, status: int = 503, retry_after: float | None = None) -> None:
        """Answer the next ``count`` API calls with ``status`` (a 5xx burst, or 429 with Retry-After)."""
        self._fail_queue.extend([(status, retry_after)] * count)

    def clear_failures(self) -> None:
        """Forget queued failures, the failure rate, slowness and lost answers."""
        self._fail_queue.clear()
        self._lost_answers.clear()
        self.failure_rate, self.delay = 0.0, 0.0

    def lose_next_answers(self, count: int, mode: str = "504", hang: float = 30.0) -> None:
        """Store the next ``count`` submissions but lose the answer: ``mode`` "504" (gateway timeout
        after storing) or "hang" (answer only after ``hang`` seconds, past the client's timeout)."""
        self._lost_answers.extend([(mode, hang)] * count)

    def force_status(self, tracking_id: str, status: str, text: str | None = None,
                     author: str = "Dinas terkait", freeze: bool = False) -> SandboxReport:
        """Put a report in ``status`` now; ``text`` adds a tindak lanjut. ``freeze`` stops the clock's
        progression for this report."""
        if status not in STATUSES:
            raise ValueError(f"unknown LAPOR! status {status!r}")
        report = self.reports[tracking_id]
        self._set_status(report, status, self.now())
        if text is not None:
            self._add_followup(report, text, author, self.now())
        report.frozen = freeze
        return report

    def add_followup(self, tracking_id: str, text: str, author: str = "Dinas terkait") -> None:
        """Add a tindak lanjut without changing the status."""
        self._add_followup(self.reports[tracking_id], text, author, self.now())

    def by_ref(self, ref: str) -> list[SandboxReport]:
        """Reports whose external reference or text carries ``ref`` (a ticket ref)."""
        return [r for r in self.reports.values() if r.external_ref == ref or (ref in r.text)]

    # -- progression -----------------------------------------------------------------------------
    def _set_status(self, report: SandboxReport, status: str, at: float) -> None:
        report.status, report.status_at = status, at
        report.history.append({"status": status, "waktu": _iso(at)})

    def _add_followup(self, report: SandboxReport, text: str, author: str, at: float) -> None:
        report.followups.append({"id": f"{report.tracking_id}-{len(report.followups) + 1}", "isi": text,
                                 "instansi": author, "tanggal": _iso(at), "status": report.status})

    def progress(self, report: SandboxReport) -> SandboxReport:
        """Apply every status step that the clock has reached (done lazily on each read)."""
        if not self.auto_progress or report.frozen:
            return report
        now = self.now()
        while report.status != STATUSES[-1]:
            nxt = STATUSES[STATUSES.index(report.status) + 1]
            due = report.status_at + self.schedule.get(nxt, DAY)
            if due > now:
                break
            self._set_status(report, nxt, due)
            if nxt == "ditindaklanjuti":
                pick = int(hashlib.sha256(report.tracking_id.encode()).hexdigest(), 16) % len(ANSWERS)
                self._add_followup(report, ANSWERS[pick], "Dinas terkait", due)
        return report

    # -- plumbing --------------------------------------------------------------------------------
    async def _gate(self, request: web.Request) -> web.Response | None:
        """Count the call, apply slowness and injected failures; a response means "answer this"."""
        self.calls += 1
        if self.delay:
            await asyncio.sleep(self.delay)
            if request.transport is None or request.transport.is_closing():
                # the client gave up while we were slow: the request never reached the "backend"
                return web.Response(status=499, text="client closed request")
        status, retry_after = None, None
        if self._fail_queue:
            status, retry_after = self._fail_queue.pop(0)
        elif self.failure_rate and self._rng.random() < self.failure_rate:
            status = self._rng.choice(self.failure_statuses)
        if status is None:
            return None
        headers = {"Retry-After": str(int(retry_after))} if retry_after is not None else {}
        return web.json_response({"status": "error", "message": "Layanan sedang sibuk, coba lagi."},
                                 status=status, headers=headers)

    async def _lose_answer(self, ok: web.Response) -> web.Response:
        if not self._lost_answers:
            return ok
        mode, hang = self._lost_answers.pop(0)
        if mode == "hang":
            await asyncio.sleep(hang)
            return ok
        return web.Response(status=504, text="Gateway Timeout")

    def _create(self, wire: str, fields: dict[str, Any]) -> SandboxReport:
        number = next(self._ids)
        now = self.now()
        report = SandboxReport(
            tracking_id=str(number), transaction_id=hashlib.sha1(f"trx{number}".encode()).hexdigest()[:16],
            text=fields["text"], wire=wire, created_at=now, anonymous=fields.get("anonymous", False),
            confidential=fields.get("confidential", False), title=fields.get("title"),
            topic_id=fields.get("topic_id"), external_ref=fields.get("external_ref"),
            reporter={k: v for k, v in (fields.get("reporter") or {}).items() if v}, location=fields.get("location"))
        self._set_status(report, STATUSES[0], now)
        self.reports[report.tracking_id] = report
        return report

    def _record(self, request: web.Request, wire: str, body: str) -> Submission:
        sub = Submission(at=self.now(), wire=wire, path=request.path, body=body,
                         headers={k: v for k, v in request.headers.items()})
        self.submissions.append(sub)
        return sub

    def _bearer_ok(self, request: web.Request) -> bool:
        auth = request.headers.get("Authorization", "")
        return auth.startswith("Bearer ") and auth[7:] in self.tokens

    # -- legacy XML ------------------------------------------------------------------------------
    async def _addstream(self, request: web.Request) -> web.Response:
        body = await request.text()
        sub = self._record(request, "xml", body)
        failed = await self._gate(request)
        if failed is not None:
            sub.status = failed.status
            return failed

        def answer(code: int, message: str, **fields: str) -> web.Response:
            sub.status = code
            return web.Response(status=code, text=_xml_answer(code, message, **fields),
                                content_type="application/xml")

        try:
            values = _xml_fields(body)
        except ElementTree.ParseError:
            return answer(400, "format XML tidak valid")
        if values.get("token") not in self.tokens:
            return answer(401, "token tidak valid")
        text = values.get("laporan.isi", "")
        if len(text.strip()) < 10:
            return answer(422, "isi laporan minimal 10 karakter")
        name = " ".join(p for p in (values.get("pelapor.namadepan"), values.get("pelapor.namabelakang")) if p)
        report = self._create("xml", {
            "text": text, "anonymous": _flag(values.get("laporan@anonim")),
            "confidential": _flag(values.get("laporan@rahasia")),
            "reporter": {"name": name, "email": values.get("pelapor.email"), "phone": values.get("pelapor.telpon")}})
        sub.tracking_id = report.tracking_id
        ok = answer(200, "laporan berhasil dikirim", trackingid=report.tracking_id,
                    transaksiid=report.transaction_id)
        return await self._lose_answer(ok)

    # -- data API --------------------------------------------------------------------------------
    async def _gettopics(self, request: web.Request) -> web.Response:
        failed = await self._gate(request)
        if failed is not None:
            return failed
        form = await request.post()
        key = request.headers.get("KEYTOKEN") or form.get("KEYTOKEN") or form.get("keytoken")
        if key != self.keytoken:
            return web.json_response({"status": False, "message": "KEYTOKEN tidak valid"}, status=401)
        return web.json_response({"status": True, "data": self.topics})

    # -- JSON API --------------------------------------------------------------------------------
    async def _json_create(self, request: web.Request) -> web.Response:
        body = await request.text()
        sub = self._record(request, "json", body)
        failed = await self._gate(request)
        if failed is not None:
            sub.status = failed.status
            return failed
        if not self._bearer_ok(request):
            sub.status = 401
            return web.json_response({"status": "error", "message": "token tidak valid"}, status=401)
        try:
            data = json.loads(body)
            text = str(data["isi"])
        except (ValueError, KeyError, TypeError):
            sub.status = 400
            return web.json_response({"status": "error", "message": "isi wajib diisi"}, status=400)
        if len(text.strip()) < 10:
            sub.status = 422
            return web.json_response({"status": "error", "message": "isi laporan minimal 10 karakter"},
                                     status=422)
        topic = data.get("topik_id")
        if topic is not None and int(topic) not in {t["id"] for t in self.topics}:
            sub.status = 422
            return web.json_response({"status": "error", "message": f"topik {topic} tidak dikenal"}, status=422)
        pelapor = data.get("pelapor") or {}
        report = self._create("json", {
            "text": text, "title": data.get("judul"), "topic_id": None if topic is None else int(topic),
            "anonymous": _flag(data.get("anonim")), "confidential": _flag(data.get("rahasia")),
            "external_ref": data.get("referensi"), "location": data.get("lokasi"),
            "reporter": {"name": pelapor.get("nama"), "email": pelapor.get("email"),
                         "phone": pelapor.get("telepon")}})
        sub.status, sub.tracking_id = 201, report.tracking_id
        ok = web.json_response({"status": "success", "data": report.public(self.base_url)}, status=201)
        return await self._lose_answer(ok)

    async def _json_lookup(self, request: web.Request) -> SandboxReport | web.Response:
        failed = await self._gate(request)
        if failed is not None:
            return failed
        if not self._bearer_ok(request):
            return web.json_response({"status": "error", "message": "token tidak valid"}, status=401)
        report = self.reports.get(request.match_info["tracking_id"])
        if report is None:
            return web.json_response({"status": "error", "message": "laporan tidak ditemukan"}, status=404)
        return self.progress(report)

    async def _json_get(self, request: web.Request) -> web.Response:
        found = await self._json_lookup(request)
        if isinstance(found, web.Response):
            return found
        return web.json_response({"status": "success", "data": found.public(self.base_url)})

    async def _json_followups(self, request: web.Request) -> web.Response:
        found = await self._json_lookup(request)
        if isinstance(found, web.Response):
            return found
        return web.json_response({"status": "success", "data": found.followups})

    async def _json_search(self, request: web.Request) -> web.Response:
        failed = await self._gate(request)
        if failed is not None:
            return failed
        if not self._bearer_ok(request):
            return web.json_response({"status": "error", "message": "token tidak valid"}, status=401)
        ref = request.query.get("referensi")
        if not ref:
            return web.json_response({"status": "error", "message": "parameter referensi wajib"}, status=400)
        hits = [self.progress(r).public(self.base_url) for r in self.reports.values() if r.external_ref == ref]
        return web.json_response({"status": "success", "data": hits})

    # -- public report page ----------------------------------------------------------------------
    async def _page(self, request: web.Request) -> web.Response:
        report = self.reports.get(request.match_info["tracking_id"])
        if report is None:
            return web.Response(status=404, text="Laporan tidak ditemukan", content_type="text/html")
        self.progress(report)
        who = "Anonim" if report.anonymous else html.escape(report.reporter.get("name") or "Pelapor")
        body = ("Laporan ini bersifat rahasia." if report.confidential else html.escape(report.text))
        items = "".join(f"<li><b>{html.escape(f['instansi'])}</b> ({f['tanggal']}): {html.escape(f['isi'])}</li>"
                        for f in report.followups)
        page = (f"<html><head><title>Laporan #{report.tracking_id}</title></head><body>"
                f"<h1>Laporan #{report.tracking_id}</h1><p class='status'>Status: {report.status}</p>"
                f"<p class='pelapor'>{who}</p><p class='isi'>{body}</p><ul class='tindak-lanjut'>{items}</ul>"
                "</body></html>")
        return web.Response(text=page, content_type="text/html")

    def dump(self) -> list[dict[str, Any]]:
        """Every report as plain data (for demos and debugging)."""
        return [asdict(r) for r in self.reports.values()]


def _iso(ts: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts))


async def _serve(args: argparse.Namespace) -> None:
    from omnichannel.sandbox.base import serve_until_signal

    sandbox = LaporSandbox(tokens=(args.token,), keytoken=args.keytoken, host=args.host, port=args.port)
    await serve_until_signal([sandbox], lambda: print(
        f"LAPOR! sandbox at {sandbox.base_url}  token {args.token}  KEYTOKEN {args.keytoken}", flush=True))


def main(argv: list[str] | None = None) -> None:
    """Run the LAPOR! sandbox until Ctrl-C."""
    p = argparse.ArgumentParser(prog="python -m omnichannel.sandbox.lapor", description=main.__doc__)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8083)
    p.add_argument("--token", default="sandbox-token")
    p.add_argument("--keytoken", default="sandbox-keytoken")
    asyncio.run(_serve(p.parse_args(argv)))


if __name__ == "__main__":
    main()
