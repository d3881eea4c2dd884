"""SP4N-LAPOR! forwarder (kind ``lapor``): submits tickets, records the tracking id, never submits twice.

How we know an earlier attempt may have reached LAPOR!
    Before each submission the forwarder commits an audit event ``lapor_sending`` (actor = the
    forwarder's name, subject = the ticket ref). Whatever ends the attempt writes the next marker
    in the store: ``lapor_submitted`` (with the tracking id, which also goes to
    ``Ticket.lapor_tracking_id``) or ``lapor_failed`` when LAPOR! definitely did not take the report
    (connection refused, 4xx, 429, 5xx other than ``unknown_outcome_statuses``). So when the
    *latest* marker of a ticket is still ``lapor_sending``, the attempt ended without an answer we
    could record — a crash or SIGKILL between sending and recording, a timeout after the request
    left, a dropped connection, a 502/504 — and LAPOR! may hold the report. The attempt count
    cannot tell this apart (a 503 also bumps it, and ``outbox retry`` resets it); the marker can.

What happens then
    * ``json`` with a search path: look the ticket ref up (the ``referensi`` field we send). Found →
      record its tracking id (``lapor_reconciled``) and report success without sending. Not found →
      a new ``lapor_sending`` and submit.
    * ``legacy-xml`` (or JSON without search): LAPOR! cannot be asked, so the outbox row is set to
      ``held`` with a reason telling the admin what to check, and ``lapor_held`` is written. Held
      rows are only picked up again after an admin's ``omnichannel outbox retry``; when the latest
      marker is ``lapor_held``, that release is the admin's decision that the report is not in
      LAPOR!, and it is submitted. If it is there, the admin records its tracking id with
      ``record_tracking_id`` instead and the next attempt completes without sending.

Anonymity: when the citizen asked for ``anonim`` no name, email or phone is put in the body (the
XML elements stay empty) and the PII-masked text is sent; ``rahasia`` sets the confidential flag.
"""

from __future__ import annotations

import logging
from typing import Any, ClassVar, Literal

import aiohttp
from pydantic import Field, SecretStr
from sqlalchemy import select, update

from omnichannel.config import ForwarderConfig
from omnichannel.errors import AuthError, PermanentDeliveryError, RetryableError
from omnichannel.models import AuditEvent, OutboxRow, Ticket
from omnichannel.protocols import PluginContext
from omnichannel.types import OutboxItem, Receipt, utcnow
from router.delivery.forwarders.summary import describe_location
from router.delivery.lapor_wire import (
    WIRES,
    LaporJsonMapping,
    LaporReport,
    LaporWire,
    OutcomeUnknownError,
    Submitted,
    fetch_topics,
)

log = logging.getLogger(__name__)
MARKERS = ("lapor_sending", "lapor_submitted", "lapor_failed", "lapor_held", "lapor_reconciled")


class LaporConfig(ForwarderConfig):
    """Settings of the SP4N-LAPOR! forwarder."""

    kind: Literal["lapor"] = "lapor"
    base_url: str = "https://www.lapor.go.id"
    token: SecretStr = Field(description="integration token, from ${ENV}")
    keytoken: SecretStr | None = Field(None, description="KEYTOKEN of the data API (topic list)")
    wire: Literal["legacy-xml", "json"] = "legacy-xml"
    json_mapping: LaporJsonMapping = Field(default_factory=LaporJsonMapping, alias="json")
    topics: dict[str, str] = Field(default_factory=dict, description=(
        "LAPOR! topic id by 'agency:kind', 'agency' or '*:kind'; then agencies[].lapor_topic, then default_topic"))
    default_topic: str | None = None
    always_mask_text: bool = Field(False, description="send the PII-masked text even for named reporters")
    include_ref_in_text: bool = Field(True, description="append our ticket ref to the report text")
    unknown_outcome_statuses: list[int] = Field(default_factory=lambda: [502, 504])
    status_sync_interval: float = Field(900.0, gt=0, description="seconds between status-sync rounds")
    status_sync_batch: int = Field(200, gt=0)
    ticket_status_map: dict[str, str] = Field(default_factory=lambda: {
        "ditindaklanjuti": "diproses", "selesai": "selesai"},
        description="LAPOR! status → ticket status (tickets only move forward)")

    model_config = {"populate_by_name": True}


class DeliveryHeldError(RetryableError):
    """The row was set to ``held`` for an admin; the dispatcher's retry bookkeeping finds it no longer in flight."""


async def record_tracking_id(store: Any, ticket_ref: str, tracking_id: str, actor: str,
                             forwarder: str = "lapor") -> None:
    """An admin found the report in LAPOR!: store its tracking id so the held row completes without sending."""
    async with store.session() as session:
        await session.exec(update(Ticket).where(Ticket.ref == ticket_ref)
                           .values(lapor_tracking_id=tracking_id, updated_at=utcnow()))
        session.add(AuditEvent(actor=forwarder, action="lapor_submitted", subject_type="ticket",
                               subject_ref=ticket_ref, detail={"tracking_id": tracking_id, "by": actor}))
        await session.commit()


class LaporForwarder:
    """Forwards ``ticket`` items to SP4N-LAPOR! through the configured wire format."""

    kind: ClassVar[str] = "lapor"

    def __init__(self, name: str, config: LaporConfig) -> None:
        self.name = name
        self.config = config
        self.store: Any = None
        self.app_config: Any = None
        self.templates: Any = None
        self.session: aiohttp.ClientSession | None = None
        self.wire: LaporWire | None = None

    async def start(self, ctx: PluginContext) -> None:
        """Open the HTTP session; the store (``ctx.extra['store']``) keeps the submission markers."""
        self.store = ctx.extra.get("store")
        self.app_config = ctx.extra.get("config")
        self.templates = ctx.templates
        if self.store is None:
            raise RuntimeError(f"forwarder {self.name}: no store in the plugin context (needed against "
                               "double submission)")
        cfg = self.config
        # a fresh connection per request: a stale keep-alive connection closed by LAPOR! would make a
        # submission look "maybe received" (and, on legacy-xml, be held) although it never left
        self.session = aiohttp.ClientSession(headers={"User-Agent": "omnichannel-lapor/1"},
                                             connector=aiohttp.TCPConnector(force_close=True, limit=32))
        self.wire = WIRES[cfg.wire](self.session, cfg.base_url, cfg.token.get_secret_value(), cfg.timeout,
                                    mapping=cfg.json_mapping,
                                    unknown_outcome_statuses=tuple(cfg.unknown_outcome_statuses), forwarder=self.name)
        log.info("lapor forwarder %s: %s at %s (lookup %s)", self.name, cfg.wire, cfg.base_url,
                 "on" if self.wire.can_search else "off: in-doubt submissions are held")

    async def stop(self) -> None:
        """Close the HTTP session; safe twice."""
        if self.session is not None:
            await self.session.close()
            self.session = None

    async def probe(self) -> str:
        """Really talk to LAPOR!: the topic list (KEYTOKEN), a lookup (JSON token), or just an HTTP answer."""
        assert self.session is not None and self.wire is not None
        cfg = self.config
        try:
            if cfg.keytoken is not None:
                topics = await fetch_topics(self.session, cfg.base_url, cfg.keytoken.get_secret_value(), cfg.timeout)
                return f"LAPOR! {cfg.base_url}: {len(topics)} topics ({cfg.wire})"
            if self.wire.can_search:
                await self.wire.find("PROBE-0000-000000")
                return f"LAPOR! {cfg.base_url}: token accepted ({cfg.wire})"
        except PermanentDeliveryError as exc:
            raise AuthError(str(exc)) from exc
        async with self.session.get(cfg.base_url, timeout=aiohttp.ClientTimeout(total=cfg.timeout)) as resp:
            return f"LAPOR! {cfg.base_url} answers HTTP {resp.status} ({cfg.wire}; the token is checked on submission)"

    def periodic_jobs(self) -> list[tuple[str, float, Any]]:
        """The status-sync job the daemon schedules."""
        return [("status_sync", self.config.status_sync_interval, self.sync_status)]

    async def sync_status(self) -> Any:
        """One status-sync round over this forwarder's open tickets."""
        from router.delivery.lapor_sync import sync_once

        assert self.wire is not None
        return await sync_once(self.store, self.app_config, self.wire, self.config, self.name, self.templates)

    # -- building the report ---------------------------------------------------------------------
    def topic(self, agency: str | None, kind: str | None) -> str | None:
        """LAPOR! topic for the agency and kind (see ``LaporConfig.topics``)."""
        t = self.config.topics
        for key in (f"{agency}:{kind}", f"{agency}", f"*:{kind}"):
            if key in t:
                return t[key]
        if self.app_config is not None and agency:
            found = self.app_config.agency(agency)
            if found is not None and found.lapor_topic:
                return found.lapor_topic
        return self.config.default_topic

    def report(self, payload: dict[str, Any]) -> LaporReport:
        """Turn a ``ticket`` payload into what LAPOR! receives; anonymous reports carry no reporter data."""
        ref = payload.get("ticket") or ""
        reporter = payload.get("reporter")
        anonymous = bool(payload.get("anonymous")) or not reporter
        text = payload.get("text_masked") if (anonymous or self.config.always_mask_text) else payload.get("text")
        text = (text or payload.get("text_masked") or "").strip()
        if not text:
            raise PermanentDeliveryError(f"ticket {ref} has no text to submit")
        if self.config.include_ref_in_text and ref:
            text = f"{text}\n\n(No. tiket Pemda: {ref})"
        location = describe_location(payload.get("location"))
        who = {} if anonymous else {"name": reporter.get("name"), "email": reporter.get("email"),
                                    "phone": reporter.get("phone")}
        # the citizen's own subject line may name them: anonymous reports get a neutral title
        subject = (None if anonymous else payload.get("subject")) or \
            f"{(payload.get('kind') or 'aduan').capitalize()} – {location or ref}"
        return LaporReport(ref=ref, text=text, title=subject[:150],
                           topic=self.topic(payload.get("agency"), payload.get("kind")),
                           anonymous=anonymous, confidential=bool(payload.get("confidential")),
                           location=location or None, channel=payload.get("channel"), **who)

    # -- sending ---------------------------------------------------------------------------------
    async def send(self, item: OutboxItem, idempotency_key: str) -> Receipt:
        """Submit one ticket unless LAPOR! already has it (see the module docstring)."""
        if item.item_type != "ticket":
            raise PermanentDeliveryError(f"lapor forwarder {self.name} takes ticket items, not {item.item_type}")
        assert self.wire is not None
        ref = item.payload.get("ticket") or item.item_ref
        report = self.report({**item.payload, "ticket": ref})
        state, detail = await self._begin(item, ref, idempotency_key)
        if state == "done":
            return Receipt(remote_ref=detail["tracking_id"], detail={"already": True})
        if state == "doubt":
            found = await self._reconcile(item, ref, detail)
            if found is not None:
                return found
        try:
            submitted = await self.wire.submit(report, idempotency_key)
        except OutcomeUnknownError:
            log.warning("lapor %s: outcome of %s unknown (attempt %d); it will be reconciled",
                        self.name, ref, item.attempt)
            raise
        except (RetryableError, PermanentDeliveryError) as exc:
            await self._mark(ref, "lapor_failed", {"outbox_id": item.id, "attempt": item.attempt,
                                                   "error": str(exc)[:300]})
            raise
        await self._record(ref, submitted, "lapor_submitted", item)
        log.info("lapor %s: %s submitted as %s", self.name, ref, submitted.tracking_id)
        return Receipt(remote_ref=submitted.tracking_id,
                       detail={"transaction_id": submitted.transaction_id, "status": submitted.status})

    async def _last_marker(self, session: Any, ref: str) -> AuditEvent | None:
        q = (select(AuditEvent).where(AuditEvent.subject_type == "ticket", AuditEvent.subject_ref == ref,
                                      AuditEvent.actor == self.name, AuditEvent.action.in_(MARKERS))
             .order_by(AuditEvent.id.desc()).limit(1))
        return (await session.exec(q)).scalars().first()

    async def _begin(self, item: OutboxItem, ref: str, key: str) -> tuple[str, dict[str, Any]]:
        """In one transaction: already submitted? in doubt? else commit the ``lapor_sending`` marker."""
        async with self.store.session() as session:
            q = select(Ticket).where(Ticket.ref == ref)
            if self.store.dialect == "postgresql":
                q = q.with_for_update()  # serialises two dispatchers that hold the same row
            ticket = (await session.exec(q)).scalars().first()
            if ticket is not None and ticket.lapor_tracking_id:
                return "done", {"tracking_id": ticket.lapor_tracking_id}
            last = await self._last_marker(session, ref)
            if last is not None and last.action in ("lapor_submitted", "lapor_reconciled"):
                return "done", dict(last.detail)
            if last is not None and last.action == "lapor_sending":
                return "doubt", {"at": last.at.isoformat(), **last.detail}
            session.add(self._event(ref, "lapor_sending", {
                "outbox_id": item.id, "attempt": item.attempt, "key": key, "wire": self.config.wire,
                "after_hold": last is not None and last.action == "lapor_held"}))
            await session.commit()
        return "send", {}

    async def _reconcile(self, item: OutboxItem, ref: str, earlier: dict[str, Any]) -> Receipt | None:
        """An earlier attempt may have reached LAPOR!: look it up, or hold the row for an admin."""
        assert self.wire is not None
        if not self.wire.can_search:
            reason = (f"held: an earlier LAPOR! submission of {ref} (attempt {earlier.get('attempt')}, "
                      f"{earlier.get('at')}) ended without an answer, and the {self.config.wire} wire format "
                      f"cannot look reports up. Check LAPOR! for a report containing '{ref}': if it is there, "
                      f"record its tracking id (router.delivery.forwarders.lapor.record_tracking_id); if not, "
                      f"`omnichannel outbox retry {item.id}` submits it again.")
            async with self.store.session() as session:
                await session.exec(update(OutboxRow).where(OutboxRow.id == item.id, OutboxRow.status == "in_flight")
                                   .values(status="held", last_error=reason, claimed_by=None, claimed_until=None))
                session.add(self._event(ref, "lapor_held", {"outbox_id": item.id, "earlier": earlier}))
                await session.commit()
            log.warning("lapor %s: %s held for an admin (earlier attempt's outcome unknown)", self.name, ref)
            raise DeliveryHeldError(reason, retry_after=86400.0)
        found = await self.wire.find(ref)
        if found:
            if len(found) > 1:
                log.error("lapor %s: LAPOR! holds %d reports for %s already", self.name, len(found), ref)
            hit = found[0]
            await self._record(ref, Submitted(hit.tracking_id, status=hit.status), "lapor_reconciled", item)
            log.info("lapor %s: %s found in LAPOR! as %s; not sent again", self.name, ref, hit.tracking_id)
            return Receipt(remote_ref=hit.tracking_id, detail={"reconciled": True})
        await self._mark(ref, "lapor_sending", {"outbox_id": item.id, "attempt": item.attempt,
                                                "after_lookup": True, "wire": self.config.wire})
        return None

    def _event(self, ref: str, action: str, detail: dict[str, Any]) -> AuditEvent:
        return AuditEvent(actor=self.name, action=action, subject_type="ticket", subject_ref=ref, detail=detail)

    async def _mark(self, ref: str, action: str, detail: dict[str, Any]) -> None:
        async with self.store.session() as session:
            session.add(self._event(ref, action, detail))
            await session.commit()

    async def _record(self, ref: str, submitted: Submitted, action: str, item: OutboxItem) -> None:
        """Tracking id onto the ticket and the closing marker, in one transaction."""
        async with self.store.session() as session:
            values: dict[str, Any] = {"lapor_tracking_id": submitted.tracking_id, "updated_at": utcnow()}
            if submitted.status:
                values["lapor_status"] = str(submitted.status)[:64]
            await session.exec(update(Ticket).where(Ticket.ref == ref).values(**values))
            session.add(self._event(ref, action, {"tracking_id": submitted.tracking_id,
                                                  "transaction_id": submitted.transaction_id,
                                                  "outbox_id": item.id, "attempt": item.attempt}))
            await session.commit()
