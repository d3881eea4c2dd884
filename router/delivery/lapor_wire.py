"""SP4N-LAPOR! wire formats behind one interface: ``legacy-xml`` (the published ``addstream``) and ``json``.

LAPOR!'s current integration API is documented only to registered developers, so the JSON format
is driven by ``LaporJsonMapping``: paths, request field names (dotted for nesting), where the
answer keeps the tracking id and status. A Pemda follows its own documentation by editing config.
Errors are translated here: 429/5xx/timeouts → ``RetryableError``; other 4xx →
``PermanentDeliveryError``. ``OutcomeUnknownError`` (a ``RetryableError``) marks a submission that
may have reached LAPOR! although we got no answer: timeouts after the request left, dropped
connections, and the gateway statuses in ``unknown_outcome_statuses``.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from typing import Any, Literal
from xml.etree import ElementTree

import aiohttp
from pydantic import Field, field_validator

from omnichannel.config import Model
from omnichannel.errors import PermanentDeliveryError, RetryableError

log = logging.getLogger(__name__)

REQUEST_KEYS = {"title", "text", "topic", "anonymous", "confidential", "external_ref", "name", "email",
                "phone", "location", "channel"}


class OutcomeUnknownError(RetryableError):
    """The request may have been processed by LAPOR! but no answer says so (reconcile before resending)."""


class LaporJsonMapping(Model):
    """Paths and field names of the JSON wire format (defaults match ``omnichannel.sandbox.lapor``)."""

    create_path: str = "/api/v1/laporan"
    get_path: str | None = Field("/api/v1/laporan/{tracking_id}", description="None: no status sync")
    search_path: str | None = Field("/api/v1/laporan", description="GET with search_param=<ticket ref>; "
                                    "None: no lookup, in-doubt submissions are held for an admin")
    search_param: str = "referensi"
    followups_path: str | None = "/api/v1/laporan/{tracking_id}/tindak-lanjut"
    auth_header: str = "Authorization"
    auth_format: str = "Bearer {token}"
    idempotency_header: str | None = Field(None, description="header carrying our idempotency key, if accepted")
    flags_as: Literal["bool", "int", "str"] = "bool"
    request_fields: dict[str, str | None] = Field(default_factory=lambda: {
        "title": "judul", "text": "isi", "topic": "topik_id", "anonymous": "anonim", "confidential": "rahasia",
        "external_ref": "referensi", "name": "pelapor.nama", "email": "pelapor.email",
        "phone": "pelapor.telepon", "location": "lokasi", "channel": None})
    created_fields: dict[str, str] = Field(default_factory=lambda: {
        "tracking_id": "data.tracking_id", "transaction_id": "data.transaksi_id", "status": "data.status"})
    report_root: str = Field("data", description="where GET get_path keeps the report")
    list_root: str = Field("data", description="where search and follow-up answers keep their list")
    report_fields: dict[str, str] = Field(default_factory=lambda: {
        "tracking_id": "tracking_id", "status": "status", "external_ref": "referensi"})
    followup_fields: dict[str, str] = Field(default_factory=lambda: {
        "id": "id", "text": "isi", "author": "instansi", "at": "tanggal"})

    @field_validator("request_fields")
    @classmethod
    def _known_keys(cls, value: dict[str, str | None]) -> dict[str, str | None]:
        unknown = set(value) - REQUEST_KEYS
        if unknown:
            raise ValueError(f"unknown keys {sorted(unknown)}; known: {sorted(REQUEST_KEYS)}")
        if not value.get("text"):
            raise ValueError("text must be mapped to a field")
        return value


@dataclass
class LaporReport:
    """What we submit: one ticket, already stripped of reporter data when the citizen is anonymous."""

    ref: str
    text: str
    title: str | None = None
    topic: str | None = None
    anonymous: bool = False
    confidential: bool = False
    name: str | None = None
    email: str | None = None
    phone: str | None = None
    location: str | None = None
    channel: str | None = None


@dataclass
class Submitted:
    """LAPOR!'s answer to a submission."""

    tracking_id: str
    transaction_id: str | None = None
    status: str | None = None


@dataclass
class TindakLanjut:
    """One follow-up (tindak lanjut) on a LAPOR! report."""

    id: str
    text: str
    author: str | None = None
    at: str | None = None


@dataclass
class RemoteReport:
    """A report as LAPOR! shows it."""

    tracking_id: str
    status: str | None = None
    external_ref: str | None = None
    followups: list[TindakLanjut] = field(default_factory=list)


def dig(data: Any, path: str) -> Any:
    """``data["a"]["b"]`` for ``path`` ``"a.b"``; None when any step is missing."""
    for part in path.split(".") if path else []:
        if isinstance(data, dict):
            data = data.get(part)
        elif isinstance(data, list) and part.isdigit() and int(part) < len(data):
            data = data[int(part)]
        else:
            return None
    return data


def _put(body: dict[str, Any], path: str, value: Any) -> None:
    *parents, leaf = path.split(".")
    for part in parents:
        body = body.setdefault(part, {})
    body[leaf] = value


def _retry_after(headers: Any) -> float | None:
    try:
        return max(0.0, float(headers.get("Retry-After", "")))
    except ValueError:
        return None


class LaporWire:
    """HTTP plumbing shared by both formats; subclasses build and parse bodies."""

    name = ""
    can_search = False

    def __init__(self, session: aiohttp.ClientSession, base_url: str, token: str, timeout: float,
                 mapping: LaporJsonMapping | None = None, unknown_outcome_statuses: tuple[int, ...] = (502, 504),
                 forwarder: str = "lapor") -> None:
        self.session = session
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.timeout = aiohttp.ClientTimeout(total=timeout)
        self.mapping = mapping or LaporJsonMapping()
        self.unknown = set(unknown_outcome_statuses)
        self.forwarder = forwarder

    async def submit(self, report: LaporReport, idempotency_key: str) -> Submitted:
        """Create the report on LAPOR!; return its tracking id."""
        raise NotImplementedError

    async def find(self, ref: str) -> list[RemoteReport]:
        """Reports LAPOR! holds for our ticket ``ref`` (only where ``can_search``)."""
        raise NotImplementedError(f"{self.name} cannot look reports up")

    async def request(self, method: str, path: str, *, submit: bool = False, **kwargs: Any) -> tuple[int, str]:
        """Send one request; translate failures. ``submit`` marks requests whose loss is ambiguous."""
        url = path if path.startswith("http") else f"{self.base_url}{path}"
        try:
            async with self.session.request(method, url, timeout=self.timeout, **kwargs) as resp:
                text = await resp.text()
                status = resp.status
                headers = resp.headers
        except aiohttp.ClientConnectorError as exc:  # never reached LAPOR!
            raise RetryableError(f"LAPOR! unreachable: {exc.os_error or exc}") from exc
        except (TimeoutError, aiohttp.ServerTimeoutError) as exc:
            cls = OutcomeUnknownError if submit else RetryableError
            raise cls(f"LAPOR! did not answer within {self.timeout.total:g}s") from exc
        except aiohttp.ClientError as exc:
            cls = OutcomeUnknownError if submit else RetryableError
            raise cls(f"LAPOR! connection failed: {type(exc).__name__}: {exc}") from exc
        if status == 429:
            raise RetryableError("LAPOR! asked us to slow down (429)", retry_after=_retry_after(headers))
        if status >= 500:
            cls = OutcomeUnknownError if submit and status in self.unknown else RetryableError
            raise cls(f"LAPOR! answered {status}", retry_after=_retry_after(headers))
        if status in (401, 403):
            raise PermanentDeliveryError(f"LAPOR! refused the token ({status}); check the forwarder's token")
        if status >= 400:
            raise PermanentDeliveryError(f"LAPOR! rejected the request ({status}): {_snippet(text)}")
        return status, text

    def json_headers(self) -> dict[str, str]:
        """Auth header as the mapping says."""
        m = self.mapping
        return {m.auth_header: m.auth_format.format(token=self.token), "Accept": "application/json"}

    async def get_json(self, path: str, params: dict[str, str] | None = None) -> Any:
        """GET a JSON document (status sync and lookups)."""
        _, text = await self.request("GET", path, headers=self.json_headers(), params=params)
        try:
            return json.loads(text)
        except ValueError as exc:
            raise RetryableError(f"LAPOR! answered with invalid JSON: {_snippet(text)}") from exc

    def _remote(self, item: Any) -> RemoteReport:
        f = self.mapping.report_fields
        return RemoteReport(tracking_id=str(dig(item, f["tracking_id"])), status=dig(item, f.get("status", "")),
                            external_ref=dig(item, f.get("external_ref", "")))

    async def get(self, tracking_id: str) -> RemoteReport | None:
        """The report with its tindak lanjut, through the JSON mapping (None when get_path is unset)."""
        m = self.mapping
        if not m.get_path:
            return None
        doc = await self.get_json(m.get_path.format(tracking_id=tracking_id))
        report = self._remote(dig(doc, m.report_root))
        report.tracking_id = tracking_id
        if m.followups_path:
            doc = await self.get_json(m.followups_path.format(tracking_id=tracking_id))
            ff = m.followup_fields
            for item in dig(doc, m.list_root) or []:
                text = dig(item, ff["text"])
                if text:
                    report.followups.append(TindakLanjut(
                        id=str(dig(item, ff["id"])), text=str(text), author=dig(item, ff.get("author", "")),
                        at=dig(item, ff.get("at", ""))))
        return report


class LegacyXmlWire(LaporWire):
    """``POST /api/stream/addstream`` with the published XML body; no lookup by our ref."""

    name = "legacy-xml"
    path = "/api/stream/addstream"

    def body(self, report: LaporReport) -> bytes:
        """The XML document; reporter elements stay empty when anonymous."""
        root = ElementTree.Element("lapor", token=self.token)
        pelapor = ElementTree.SubElement(root, "pelapor")
        first, _, last = (report.name or "").partition(" ")
        for tag, value in (("email", report.email), ("telpon", report.phone), ("namadepan", first),
                           ("namabelakang", last)):
            ElementTree.SubElement(pelapor, tag).text = value or ""
        laporan = ElementTree.SubElement(root, "laporan", rahasia="1" if report.confidential else "0",
                                         anonim="1" if report.anonymous else "0")
        ElementTree.SubElement(laporan, "isi").text = report.text
        return ElementTree.tostring(root, encoding="utf-8", xml_declaration=True)

    async def submit(self, report: LaporReport, idempotency_key: str) -> Submitted:
        """Post the XML; parse ``trackingid`` and ``transaksiid`` (an error code in the body is honoured)."""
        _, text = await self.request("POST", self.path, submit=True, data=self.body(report),
                                     headers={"Content-Type": "application/xml; charset=utf-8"})
        try:
            doc = ElementTree.fromstring(text)  # noqa: S314 (expat refuses external entities)
        except ElementTree.ParseError as exc:
            raise OutcomeUnknownError(f"LAPOR! answered with unreadable XML: {_snippet(text)}") from exc
        code = (doc.findtext(".//code") or "200").strip()
        tracking = (doc.findtext(".//trackingid") or "").strip()
        if not tracking:
            if code.startswith("5"):
                raise RetryableError(f"LAPOR! reported error {code}: {doc.findtext('.//message')}")
            raise PermanentDeliveryError(f"LAPOR! refused the report ({code}): {doc.findtext('.//message')}")
        return Submitted(tracking_id=tracking, transaction_id=(doc.findtext(".//transaksiid") or "").strip() or None)


class JsonWire(LaporWire):
    """The JSON API, shaped by ``LaporJsonMapping``."""

    name = "json"

    @property
    def can_search(self) -> bool:  # type: ignore[override]
        """Lookup by our ticket ref works when the mapping names a search path and a ref field."""
        return bool(self.mapping.search_path and self.mapping.request_fields.get("external_ref"))

    def body(self, report: LaporReport) -> dict[str, Any]:
        """The JSON body; fields mapped to None are left out, and so are empty values."""
        m = self.mapping
        body: dict[str, Any] = {}
        for key, target in m.request_fields.items():
            if not target:
                continue
            value = report.ref if key == "external_ref" else getattr(report, key)
            if key in ("anonymous", "confidential"):
                value = {"bool": bool(value), "int": int(bool(value)), "str": "1" if value else "0"}[m.flags_as]
            elif key == "topic" and isinstance(value, str) and value.isdigit():
                value = int(value)
            if value is None or value == "":
                continue
            _put(body, target, value)
        return body

    async def submit(self, report: LaporReport, idempotency_key: str) -> Submitted:
        """POST the mapped body; read the tracking id where ``created_fields`` says."""
        headers = self.json_headers()
        if self.mapping.idempotency_header:
            headers[self.mapping.idempotency_header] = idempotency_key
        _, text = await self.request("POST", self.mapping.create_path, submit=True, json=self.body(report),
                                     headers=headers)
        try:
            doc = json.loads(text)
        except ValueError as exc:
            raise OutcomeUnknownError(f"LAPOR! answered with invalid JSON: {_snippet(text)}") from exc
        f = self.mapping.created_fields
        tracking = dig(doc, f["tracking_id"])
        if tracking in (None, ""):
            raise OutcomeUnknownError(f"LAPOR! answer has no {f['tracking_id']}: {_snippet(text)}")
        return Submitted(tracking_id=str(tracking), transaction_id=dig(doc, f.get("transaction_id", "")),
                         status=dig(doc, f.get("status", "")))

    async def find(self, ref: str) -> list[RemoteReport]:
        """Search by external reference; only exact matches count."""
        m = self.mapping
        if not self.can_search:
            raise NotImplementedError("the JSON mapping names no search path")
        doc = await self.get_json(m.search_path or "", params={m.search_param: ref})
        items = dig(doc, m.list_root) or []
        found = [self._remote(item) for item in items]
        return [r for r in found if r.external_ref in (None, ref)]


WIRES: dict[str, type[LaporWire]] = {"legacy-xml": LegacyXmlWire, "json": JsonWire}


async def fetch_topics(session: aiohttp.ClientSession, base_url: str, keytoken: str,
                       request_timeout: float = 30.0) -> list[dict[str, Any]]:
    """``POST /api/services/f01/gettopics`` with the KEYTOKEN: ``[{id, parent, topic_name}]``."""
    wire = LaporWire(session, base_url, keytoken, request_timeout)
    _, text = await wire.request("POST", "/api/services/f01/gettopics", headers={"KEYTOKEN": keytoken},
                                 data={"KEYTOKEN": keytoken})
    try:
        doc = json.loads(text)
    except ValueError as exc:
        raise RetryableError(f"gettopics answered with invalid JSON: {_snippet(text)}") from exc
    return list(doc.get("data") or []) if isinstance(doc, dict) else list(doc)


def _snippet(text: str, limit: int = 200) -> str:
    text = " ".join(text.split())
    return text[:limit] + ("…" if len(text) > limit else "")


__all__ = ["WIRES", "JsonWire", "LaporJsonMapping", "LaporReport", "LaporWire", "LegacyXmlWire",
           "OutcomeUnknownError", "RemoteReport", "Submitted", "TindakLanjut", "dig", "fetch_topics"]
