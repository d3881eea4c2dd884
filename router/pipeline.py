"""The router pipeline: received complaints → normalise, mask, classify, dedup → cases, tickets, outbox.

One transaction per batch: the complaints' new status, the cases and tickets, the follow-ups, the
envelopes' outcome and every outbox row are committed together, so a crash mid-batch leaves the
complaints ``received`` and a rerun makes each row once (the outbox's idempotency key guards too).
The dedup index lives in memory, is rebuilt from the store at ``start`` and follows each commit
(entries added by a batch that rolls back are removed again).
"""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import aclosing
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import or_, select
from sqlmodel.ext.asyncio.session import AsyncSession

from omnichannel import pii
from omnichannel.models import Complaint, EnvelopeRow, Identity
from omnichannel.sla import SlaConfig, WorkingCalendar
from omnichannel.types import utcnow
from router.classify import Classifier
from router.config import RoutingConfig
from router.corrections import CorrectionMemory
from router.dedup.config import DedupConfig
from router.dedup.features import make_features, name_words, phone_key, without_names
from router.dedup.index import DAY, DedupIndex, Lookup
from router.normalise import normalise, tokens
from router.pipeline_rows import BatchWriter, Routed
from router.prepare import Prepared, Preparer, PrepareWorkers

log = logging.getLogger(__name__)

ROUTED_STATUSES = ("received", "rejected")  # statuses *not* indexed at start
FOLLOW_UP_LEVELS = ("resend", "cross_channel")  # a reporter's own earlier complaint, said again
_COMPLAINT_COLUMNS = tuple(Complaint.__table__.c)  # type: ignore[attr-defined]


def _section(value: Any, model: type) -> Any:
    return value if isinstance(value, model) else model.model_validate(value or {})


def _reply_origin(row: Any) -> dict[str, Any] | None:
    """The reply address of a complaint's envelope, with the reporter's status link key (kept in the
    envelope's meta by the ingest) travelling with it."""
    origin, meta = row.origin, row.meta or {}
    return {**origin, "access": meta["access"]} if origin and meta.get("access") else origin


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


class RouterPipeline:
    """Routes ``received`` complaints in batches; keeps the dedup index of recent complaints."""

    def __init__(self, config: Any, store: Any, templates: Any) -> None:
        self.config = config
        self.store = store
        self.templates = templates
        self.dedup_cfg: DedupConfig = _section(getattr(config, "dedup", None), DedupConfig)
        self.routing: RoutingConfig = _section(getattr(config, "routing", None), RoutingConfig)
        self.sla: SlaConfig = _section(getattr(config, "sla", None), SlaConfig)
        self.calendar = WorkingCalendar(self.sla)
        # the national holidays (the ``holidays`` package: ~0.5 s of imports) load now, with the rules, not
        # inside the first batch's routing
        self.calendar.is_working_day(utcnow())
        self.classifier = Classifier(self.routing, list(getattr(config, "agencies", [])))
        self.index = DedupIndex(self.dedup_cfg)
        # officers' corrections: read at start, then every batch picks up the new ones (any process wrote them)
        self.corrections = CorrectionMemory(self.classifier, self.routing.corrections)
        if self.routing.corrections.enabled:
            self.classifier.corrections = self.corrections
        self.preparer = Preparer(self.classifier, self.routing)
        # ``routing.workers``: processes that prepare (mask, normalise, classify, features) parts of each batch
        logs = getattr(config, "logging", None)
        self.workers = PrepareWorkers(self.routing, list(getattr(config, "agencies", [])), self.routing.workers,
                                      (logs.level, logs.format) if logs is not None else None) \
            if self.routing.workers else None
        self._contacts: dict[str, int] = {}  # "phone:62812…" / "email:x@y" → first reporter seen with it
        self._defaults: dict[str, str | None] = {}  # connector name → its default_agency
        self._started = False
        # called with the write transaction's connection before a batch is written; raises to roll it back
        # (the daemon's router lease: only the replica that holds it writes routing decisions)
        self.fence: Callable[[Any], None] | None = None

    # ---- lifecycle -----------------------------------------------------------------------------------
    async def start(self) -> None:
        """Rebuild the dedup index from the store (complaints inside the longest window)."""
        self.index = DedupIndex(self.dedup_cfg)
        self._contacts.clear()
        cutoff = utcnow() - timedelta(days=self.dedup_cfg.max_window_days())
        async with self.store.session() as session:
            learned = await self.corrections.load(session)
            await self._load_links(session, None)
            q = (select(Complaint.id, Complaint.reporter_id, Complaint.channel, Complaint.text, Complaint.text_norm,
                        Complaint.agency, Complaint.confidence, Complaint.location, Complaint.case_id,
                        Complaint.duplicate_of, Complaint.dedup_level, Complaint.created_at,
                        EnvelopeRow.received_at)
                 .outerjoin(EnvelopeRow, EnvelopeRow.id == Complaint.envelope_id)
                 .where(Complaint.status.not_in(ROUTED_STATUSES), Complaint.created_at >= cutoff)
                 .order_by(Complaint.id))
            rows = (await session.exec(q)).all()
            names = await self._names(session, {r[1] for r in rows if r[1] is not None})
        items = []
        reporter_of = {r[0]: r[1] for r in rows}
        person = self.index.person
        for cid, reporter, channel, text, norm, agency, confidence, location, case_id, dup, level, created, \
                received in rows:
            masked = pii.mask(text)
            norm = norm if norm is not None else normalise(masked, self.classifier.lexicon)
            compare = agency if agency and agency != self.routing.triage_agency and (confidence or 0) >= \
                self.routing.threshold else None
            feats = make_features(without_names(tokens(norm), names.get(reporter)), masked, location=location,
                                  agency=compare, person=reporter, channel=channel,
                                  ts=_aware(received or created).timestamp())
            # a follow-up belongs to its reporter's own complaint; anything else is a complaint of its own (and
            # so is a follow-up that an older version filed under another citizen's complaint)
            mine = dup is not None and person(reporter_of.get(dup)) == person(reporter)
            own = dup if level in FOLLOW_UP_LEVELS and mine else cid
            items.append((feats, cid, own, case_id))
        await asyncio.to_thread(self.index.bulk_load, items)
        indexed = len(items)
        if self.workers is not None and not self.workers.workers:
            await self.workers.start()
        del rows, items
        # what start-up built (the index, the config, imported modules) lives as long as the daemon:
        # keep it out of the collector's scans, which otherwise cost routing time in proportion to it
        gc.freeze()
        self._started = True
        log.info("router: dedup index rebuilt with %d complaints from the last %.0f days; %d corrections learned",
                 indexed, self.dedup_cfg.max_window_days(), learned)

    async def stop(self) -> None:
        """Drop the in-memory index (the store holds everything)."""
        self.index = DedupIndex(self.dedup_cfg)
        self._started = False
        if self.workers is not None:
            await self.workers.stop()

    # ---- identities ----------------------------------------------------------------------------------
    async def _load_links(self, session: AsyncSession, reporters: set[int] | None) -> None:
        """Link reporters that share a phone (in any spelling) or an email, or that an officer linked.

        An officer link is an identity row ``channel="reporter", address=<other reporter id>``.
        """
        q = select(Identity.reporter_id, Identity.channel, Identity.address).where(
            Identity.channel.in_(("phone", "email", "reporter")))
        if reporters is not None:
            if not reporters:
                return
            ids = list(reporters)
            q = q.where(or_(Identity.reporter_id.in_(ids),
                            (Identity.channel == "reporter") & Identity.address.in_([str(r) for r in ids])))
        for reporter, channel, address in (await session.exec(q)).all():
            if channel == "reporter":
                if address.isdigit():
                    self.index.link(reporter, int(address))
                continue
            key = f"phone:{phone_key(address)}" if channel == "phone" else f"email:{address.strip().lower()}"
            first = self._contacts.setdefault(key, reporter)
            if first != reporter:
                self.index.link(first, reporter)

    async def _names(self, session: AsyncSession, reporters: set[int]) -> dict[int, frozenset[str]]:
        """The words of each reporter's known names: they say who wrote, not what about (left out of matching)."""
        out: dict[int, set[str]] = {}
        ids = list(reporters)
        for start in range(0, len(ids), 5000):
            q = select(Identity.reporter_id, Identity.name).where(Identity.reporter_id.in_(ids[start:start + 5000]),
                                                                 Identity.name.is_not(None))
            for reporter, name in (await session.exec(q)).all():
                out.setdefault(reporter, set()).update(name_words(name))
        return {r: frozenset(words) for r, words in out.items() if words}

    # ---- routing -------------------------------------------------------------------------------------
    async def process_pending(self, limit: int = 500) -> int:
        """Route up to ``limit`` received complaints in one transaction; returns how many were routed."""
        if not self._started:
            await self.start()
        async with self.store.session() as session:
            # plain rows, not ORM objects: a row reads like a Complaint (same column names and types) at a
            # fraction of the cost of building and tracking 500 instances a batch
            q = (select(*_COMPLAINT_COLUMNS, EnvelopeRow.received_at, EnvelopeRow.origin, EnvelopeRow.meta)
                 .outerjoin(EnvelopeRow, EnvelopeRow.id == Complaint.envelope_id)
                 .where(Complaint.status == "received")
                 # arrival order: ids come in blocks per replica, so with several taking complaints in,
                 # id order is not the order they were received in
                 .order_by(Complaint.created_at, Complaint.id).limit(limit))
            if self.store.dialect == "postgresql":
                # wait for a row another transaction holds instead of skipping it: one router (the @router
                # lease) routes in arrival order, and a skipped row (held by the transaction of a leader that
                # was just killed, say) would be routed after later ones, which then became its root. NO KEY:
                # routing changes no key, so rows keep taking child rows (follow-ups, envelopes) meanwhile
                q = q.with_for_update(of=Complaint.__table__, key_share=True)
            rows = (await session.exec(q)).all()
            if not rows:
                return 0
            await self.corrections.refresh(session)  # corrections committed since the last batch, by any process
            mark = self.index.mark()
            try:
                reporters = {c.reporter_id for c in rows if c.reporter_id is not None}
                await self._load_links(session, reporters)
                names = await self._names(session, reporters)
                items = [self._item(c, c.received_at, names.get(c.reporter_id)) for c in rows]
                routed: list[Routed] = []
                async with aclosing(self._prepared(items)) as chunks:  # decided as they come, in arrival order
                    async for chunk in chunks:
                        for ready in chunk:
                            c = rows[len(routed)]
                            routed.append(self._decide(c, c.received_at, _reply_origin(c), names.get(c.reporter_id),
                                                       ready))
                writer = BatchWriter(self, routed)
                fence = self.fence

                def write(conn: Any) -> None:
                    if fence is not None:
                        fence(conn)
                    writer.write(conn)

                if self.store.dialect == "sqlite":
                    # one unit on the writer thread: the write lock is held only while the rows go in
                    await self.store.run_write(write)
                else:  # in the transaction that locked the batch's rows (FOR UPDATE SKIP LOCKED)
                    await session.run_sync(lambda sync: write(sync.connection()))
                await session.commit()
            except BaseException:
                self.index.rollback(mark)
                raise
        self.index.commit()
        self.index.expire()  # relative to the newest message seen, not the wall clock (backfills)
        if self.index.needs_compaction():
            await asyncio.to_thread(self.index.compact)
        return len(rows)

    async def _prepared(self, items: list[Any]) -> AsyncIterator[list[Prepared]]:
        """The batch's messages prepared, in order: here in one go, or by the workers (``routing.workers``) a chunk
        at a time while the chunks already back are decided."""
        if self.workers is None:
            yield self.preparer.prepare_all(items)
            return
        # closed with this one: a batch abandoned midway must not leave answers under way (PrepareWorkers.stream)
        async with aclosing(self.workers.stream(self.preparer, self.corrections, items)) as chunks:
            async for chunk in chunks:
                yield chunk

    def _item(self, complaint: Complaint, received_at: datetime | None, names: frozenset[str] | None) -> Any:
        received = _aware(received_at or complaint.created_at or utcnow())
        return self.preparer.item(complaint.text, complaint.subject, complaint.connector, complaint.channel,
                                  self._default_agency(complaint.connector), complaint.reporter_id,
                                  received.timestamp(), names)

    def _decide(self, complaint: Complaint, received_at: datetime | None, origin: dict[str, Any] | None,
                names: frozenset[str] | None = None, prepared: Prepared | None = None) -> Routed:
        """Route one complaint (in arrival order: it sees every complaint routed before it); ``prepared`` is its
        per-message half if a worker already did it (``router.prepare``)."""
        if prepared is None:
            prepared = self.preparer.prepare(self._item(complaint, received_at, names))
        masked, norm, decision, feats = prepared.masked, prepared.norm, prepared.decision, prepared.features
        received = _aware(received_at or complaint.created_at or utcnow())
        if complaint.location:  # what the citizen typed (the web form's location) stays with what the text says
            decision.location = {**(decision.location or {}), **complaint.location}
        if self.dedup_cfg.enabled:
            found = self.index.lookup(feats, person_only=decision.kind == "bukan_aduan")
        else:
            found = Lookup(None)
        if self.corrections.groups() and self.dedup_cfg.enabled:  # merges and splits officers made
            found = self.corrections.regroup(prepared.toks, decision.location, found, received.timestamp(),
                                             self.window_seconds(), complaint=decision.kind != "bukan_aduan")
        item = Routed(complaint, received, origin or {}, norm, masked, decision, found, feats)
        match = found.match
        if match is not None and match.level == "incident" and match.case_id is None:
            found = Lookup(None, {"similarity": round(match.similarity, 3), "candidate": match.candidate,
                                  "kept_apart": "candidate has no case"})
            item.found, match = found, None
        if match is not None:
            item.case_id = match.case_id
            # a resend is indexed under its reporter's own complaint (match.root); a complaint that joins
            # an incident is a complaint of its own, never a follow-up of the other citizen's
            own = match.root if match.level in FOLLOW_UP_LEVELS else complaint.id
            self.index.add(feats, complaint.id, own, match.case_id, joined=match)
        elif decision.kind != "bukan_aduan":
            item.case_id = -complaint.id  # placeholder until the batch's case ids are allocated
            self.index.add(feats, complaint.id, complaint.id, item.case_id)
        return item

    def _default_agency(self, connector: str) -> str | None:
        if connector in self._defaults:  # looked up once per connector (the config does not change)
            return self._defaults[connector]
        try:
            found = getattr(self.config.connector(connector), "default_agency", None)
        except (StopIteration, AttributeError):
            found = None
        self._defaults[connector] = found
        return found

    def window_seconds(self) -> float:
        """The longest dedup window in seconds."""
        return self.dedup_cfg.max_window_days() * DAY

