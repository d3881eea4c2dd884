"""Storing a connector's batch and its checkpoint in one transaction.

Every envelope a channel handed over ends in the store as exactly one of: a complaint (status
``received``, for the router), a follow-up of an existing complaint (reply, edit, quoted ref,
same thread), an intentional skip with its reason, or quarantine (kept whole, with the reason).
Redelivered envelopes are absorbed by the unique key ``(connector, external_id)`` and reported
with what the first delivery became, so a client's retry gets the same complaint ref.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import asdict
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, and_, or_, select
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlmodel.ext.asyncio.session import AsyncSession

from omnichannel import storable
from omnichannel.bulk import fast, insert_rows, select_in
from omnichannel.models import Complaint, EnvelopeRow, FollowUp, Identity, OutboxRow, Quarantine, Reporter
from omnichannel.pii import anonymity_request
from omnichannel.store import Store
from omnichannel.types import Batch, Envelope, EnvelopeResult, IngestResult, Sender, utcnow

log = logging.getLogger(__name__)
REF_TIMEZONE = ZoneInfo("Asia/Jakarta")


def complaint_ref(number: int, year: int) -> str:
    """Human-friendly complaint ref, e.g. ``ADU-2026-000123``."""
    return f"ADU-{year}-{number:06d}"


def raw_bytes(raw: bytes | str | dict | list) -> bytes:
    """The envelope's raw payload as bytes, exactly (JSON for structured payloads; see ``storable``)."""
    return storable.raw_bytes(raw)


def identity_keys(channel: str, sender: Sender | None) -> list[tuple[str, str]]:
    """The (channel, address) pairs that identify ``sender``: the native one, then phone and email."""
    if sender is None:
        return []
    keys = [(channel, sender.id)] if sender.id else []
    if sender.phone:
        keys.append(("phone", sender.phone))
    if sender.email:
        keys.append(("email", sender.email.strip().lower()))
    seen: set[tuple[str, str]] = set()
    return [k for k in keys if not (k in seen or seen.add(k))]


def _resolve_reporters(store: Store, conn: Connection, channel: str,
                       envelopes: list[Envelope]) -> dict[int, int]:
    """Map batch index → reporter id, creating reporters and identities as needed."""
    wanted: dict[int, list[tuple[str, str]]] = {}
    for i, env in enumerate(envelopes):
        keys = identity_keys(channel, env.sender)
        if keys:
            wanted[i] = keys
    if not wanted:
        return {}
    all_keys = {k for keys in wanted.values() for k in keys}
    known: dict[tuple[str, str], int] = {}
    addresses = list({a for _, a in all_keys})
    kinds = sorted({c for c, _ in all_keys})  # named too, so the (channel, address) unique index is used
    if fast(conn):
        marks = ",".join("?" * len(kinds))
        found = select_in(conn, f"SELECT channel, address, reporter_id FROM identities WHERE channel IN ({marks}) "
                          "AND address IN ({in})", addresses, *kinds)
    elif conn.dialect.driver == "asyncpg":
        # one index probe per (channel, address) pair, in one statement whose text never changes (a
        # ``channel IN (..) AND address IN (..)`` probes every combination and is a new statement for
        # every batch size)
        pairs = sorted(all_keys)
        found = conn.exec_driver_sql(
            "SELECT k.channel, k.address, i.reporter_id FROM unnest($1::varchar[], $2::varchar[]) AS "
            "k(channel, address) CROSS JOIN LATERAL (SELECT reporter_id FROM identities WHERE "
            "channel = k.channel AND address = k.address LIMIT 1) AS i",  # LIMIT: always the index, never a hash join
            ([c for c, _ in pairs], [a for _, a in pairs])).all()
    else:
        found = []
        for start in range(0, len(addresses), 500):
            q = select(Identity.channel, Identity.address, Identity.reporter_id).where(
                Identity.channel.in_(kinds), Identity.address.in_(addresses[start:start + 500]))
            found.extend(conn.execute(q).all())
    for ident_channel, address, reporter_id in found:
        if (ident_channel, address) in all_keys:
            known[(ident_channel, address)] = reporter_id
    result: dict[int, int] = {}
    new_reporters: list[dict[str, Any]] = []
    new_identities: dict[tuple[str, str], dict[str, Any]] = {}
    for i, keys in wanted.items():
        reporter = next((known[k] for k in keys if k in known), None)
        sender = envelopes[i].sender
        if reporter is None:
            reporter = -(len(new_reporters) + 1)  # placeholder until ids are allocated
            new_reporters.append({"display_name": sender.name if sender else None})
        for key in keys:
            if key not in known:
                known[key] = reporter
                new_identities[key] = {"channel": key[0], "address": key[1],
                                       "name": sender.name if sender else None,
                                       "linked_by": "channel" if key[0] == channel else key[0],
                                       "reporter": reporter}
        result[i] = reporter
    if new_reporters:
        first = store.allocate_sync(conn, "reporter", len(new_reporters))
        now = utcnow()
        insert_rows(conn, Reporter, [{"id": first + n, "created_at": now, **r} for n, r in enumerate(new_reporters)])
        fix = {-(n + 1): first + n for n in range(len(new_reporters))}
        result = {i: fix.get(r, r) for i, r in result.items()}
        for ident in new_identities.values():
            ident["reporter"] = fix.get(ident["reporter"], ident["reporter"])
    if new_identities:
        now = utcnow()
        rows = [{"channel": v["channel"], "address": v["address"], "name": v["name"],
                 "linked_by": v["linked_by"], "reporter_id": v["reporter"], "created_at": now}
                for v in new_identities.values()]
        # no ON CONFLICT: a concurrent transaction that made the same identity makes this one fail and
        # retry, and the retry finds that identity's reporter (ignoring the conflict would leave this
        # batch's new reporter without the identity, so the router could not tell it is the same citizen)
        insert_rows(conn, Identity, rows)
    return result


def _typed_location(meta: dict[str, Any] | None) -> dict[str, Any] | None:
    """The location a channel was given apart from the text (``meta["location"]``), when it is a mapping."""
    place = (meta or {}).get("location")
    return dict(place) if isinstance(place, dict) and place else None


def _in_batch_parent(env: Envelope, in_batch: dict[str, int]) -> tuple[int, str] | None:
    """(complaint index, reason) when ``env`` continues a complaint made earlier in the same batch."""
    if env.edit_of and f"id:{env.edit_of}" in in_batch:
        return in_batch[f"id:{env.edit_of}"], "edit"
    for ref in env.reply_to:
        if f"id:{ref}" in in_batch:
            return in_batch[f"id:{ref}"], "reply"
    if env.thread_id and f"thread:{env.thread_id}" in in_batch:
        return in_batch[f"thread:{env.thread_id}"], "thread"
    return None


def _find_parents(conn: Connection, channel: str, connector: str,
                  envelopes: list[tuple[int, Envelope]]) -> dict[int, tuple[int, str]]:
    """Batch index → (complaint id, reason) for envelopes that continue an earlier complaint."""
    refs = {e.ticket_ref.upper() for _, e in envelopes if e.ticket_ref}
    ids = {r for _, e in envelopes for r in [*e.reply_to, *([e.edit_of] if e.edit_of else [])]}
    threads = {e.thread_id for _, e in envelopes if e.thread_id}
    by_ref: dict[str, int] = {}
    by_msg: dict[str, int] = {}
    by_thread: dict[str, int] = {}
    if refs:
        q = select(Complaint.ref, Complaint.id, Complaint.duplicate_of, Complaint.status).where(
            Complaint.ref.in_(refs))
        for ref, cid, dup, status in (conn.execute(q)).all():
            by_ref[ref] = dup if (status == "merged" and dup) else cid
    if ids:
        id_list = list(ids)
        q = select(EnvelopeRow.message_id, EnvelopeRow.external_id, EnvelopeRow.complaint_id).where(
            EnvelopeRow.channel == channel, EnvelopeRow.complaint_id.is_not(None),
            or_(EnvelopeRow.message_id.in_(id_list),
                and_(EnvelopeRow.connector == connector, EnvelopeRow.external_id.in_(id_list))))
        for mid, ext, cid in (conn.execute(q)).all():
            if mid:
                by_msg.setdefault(mid, cid)
            by_msg.setdefault(ext, cid)
        # our own outgoing replies: a citizen answering the acknowledgement we sent
        q = select(OutboxRow.remote_ref, OutboxRow.item_ref).where(
            OutboxRow.destination == f"reply:{connector}", OutboxRow.remote_ref.in_(id_list))
        sent = {remote: item.split("#", 1)[0] for remote, item in (conn.execute(q)).all()}
        if sent:
            # an answer to the acknowledgement of a resend continues the complaint the resend belongs to
            q = select(Complaint.ref, Complaint.id, Complaint.duplicate_of, Complaint.status).where(
                Complaint.ref.in_(set(sent.values())))
            cids = {ref: dup if (status == "merged" and dup) else cid
                    for ref, cid, dup, status in (conn.execute(q)).all()}
            for remote, ref in sent.items():
                if ref in cids:
                    by_msg.setdefault(remote, cids[ref])
    if threads:
        q = (select(EnvelopeRow.thread_id, EnvelopeRow.complaint_id)
             .where(EnvelopeRow.channel == channel, EnvelopeRow.thread_id.in_(threads),
                    EnvelopeRow.complaint_id.is_not(None))
             .order_by(EnvelopeRow.id))
        for tid, cid in (conn.execute(q)).all():
            by_thread.setdefault(tid, cid)
    parents: dict[int, tuple[int, str]] = {}
    for i, env in envelopes:
        if env.edit_of and env.edit_of in by_msg:
            parents[i] = (by_msg[env.edit_of], "edit")
        elif env.ticket_ref and env.ticket_ref.upper() in by_ref:
            parents[i] = (by_ref[env.ticket_ref.upper()], "ticket_ref")
        elif any(r in by_msg for r in env.reply_to):
            parents[i] = (next(by_msg[r] for r in env.reply_to if r in by_msg), "reply")
        elif env.thread_id and env.thread_id in by_thread:
            parents[i] = (by_thread[env.thread_id], "thread")
    return parents


async def ingest_batch(store: Store, connector: str, channel: str, batch: Batch) -> IngestResult:
    """Store ``batch`` and its checkpoint in one transaction; report what each envelope became.

    Envelope rows are written last with their final outcome, so a replica that stored one of the same
    envelopes meanwhile makes the insert fail: the transaction is rolled back and tried again, and the
    second try sees those envelopes as redeliveries. The transaction runs as one synchronous unit
    (``Store.run_write``): on SQLite that is one hop to the writer thread instead of one per statement.
    """
    # ids from this process's reserved blocks (PostgreSQL): no counter row locked until the commit
    size = len(batch.envelopes)
    await store.reserve({"envelope": size, "complaint": size, "reporter": size})
    for attempt in range(ATTEMPTS):
        try:
            return await store.run_write(lambda conn: ingest_sync(store, conn, connector, channel, batch))
        except DBAPIError as exc:
            if attempt == ATTEMPTS - 1 or not _retryable(exc):
                raise
            log.debug("%s: concurrent transaction (%s); retrying the batch", connector, type(exc.orig).__name__)
    raise AssertionError("unreachable")


ATTEMPTS = 4
# PostgreSQL: deadlock detected, serialization failure (concurrent ingest transactions of one process or
# of several replicas); retried like a concurrent insert of the same envelope or identity
_RETRY_SQLSTATES = {"40P01", "40001"}


def _retryable(exc: DBAPIError) -> bool:
    if isinstance(exc, IntegrityError) or exc.connection_invalidated:  # a lost connection: the pool has a new one
        return True
    code = getattr(exc.orig, "sqlstate", None) or getattr(exc.orig, "pgcode", None)
    return code in _RETRY_SQLSTATES


async def ingest_in_session(store: Store, session: AsyncSession, connector: str, channel: str,
                            batch: Batch) -> IngestResult:
    """``ingest_batch`` inside the caller's transaction (the caller commits)."""
    return await session.run_sync(lambda sync: ingest_sync(store, sync.connection(), connector, channel, batch))


def ingest_sync(store: Store, conn: Connection, connector: str, channel: str, batch: Batch) -> IngestResult:
    """The ingest transaction's body on a synchronous connection (the caller commits)."""
    # NUL, lone surrogates, NaN, over-long keys: cleaned here so one message cannot fail the batch
    envelopes = [storable.envelope(env) for env in batch.envelopes]
    # the same external id twice in one batch counts once, like a redelivery
    first_index: dict[str, int] = {}
    for i, env in enumerate(envelopes):
        first_index.setdefault(env.external_id, i)
    unique = [envelopes[i] for i in sorted(first_index.values())]
    outcomes: dict[str, EnvelopeResult] = {}
    if unique:
        for ext, outcome, reason, ref in _stored_before(conn, connector, [e.external_id for e in unique]):
            outcomes[ext] = EnvelopeResult(ext, False, outcome, ref, reason)
        fresh = [env for env in unique if env.external_id not in outcomes]
        if fresh:
            _store_fresh(store, conn, connector, channel, fresh, outcomes)
    if batch.checkpoint is not None:
        store.save_checkpoint_sync(conn, connector, batch.checkpoint)
    items = []
    for i, env in enumerate(envelopes):
        res = outcomes[env.external_id]
        if first_index[env.external_id] != i:  # repeated inside the batch
            res = EnvelopeResult(res.external_id, False, res.outcome, res.complaint_ref, res.reason)
        items.append(res)
    return IngestResult(items)


def _stored_before(conn: Connection, connector: str, external_ids: list[str]) -> list[tuple]:
    """(external id, outcome, reason, complaint ref) of the envelopes of ``connector`` stored earlier."""
    if fast(conn):
        return select_in(conn, "SELECT e.external_id, e.outcome, e.reason, c.ref FROM envelopes e "
                         "LEFT OUTER JOIN complaints c ON c.id = e.complaint_id "
                         "WHERE e.connector = ? AND e.external_id IN ({in})", external_ids, connector)
    if conn.dialect.driver == "asyncpg":  # one statement text for every batch size: prepared once
        return [tuple(r) for r in conn.exec_driver_sql(
            # one probe of the (connector, external_id) key per id: with ``external_id = ANY(..)`` a plan made
            # before the table's first ANALYZE walks every envelope of the connector
            "SELECT e.external_id, e.outcome, e.reason, c.ref FROM unnest($2::varchar[]) AS k(external_id) "
            "CROSS JOIN LATERAL (SELECT external_id, outcome, reason, complaint_id FROM envelopes "
            "WHERE connector = $1 AND external_id = k.external_id LIMIT 1) AS e "
            "LEFT OUTER JOIN complaints c ON c.id = e.complaint_id", (connector, external_ids)).all()]
    out: list[tuple] = []
    for start in range(0, len(external_ids), 500):
        q = (select(EnvelopeRow.external_id, EnvelopeRow.outcome, EnvelopeRow.reason, Complaint.ref)
             .outerjoin(Complaint, Complaint.id == EnvelopeRow.complaint_id)
             .where(EnvelopeRow.connector == connector, EnvelopeRow.external_id.in_(external_ids[start:start + 500])))
        out.extend(conn.execute(q).all())
    return out


def _same_words(a: str | None, b: str | None) -> bool:
    """True when one text is the other, or the other with something added at its end (a list's footer)."""
    a, b = " ".join((a or "").split()), " ".join((b or "").split())
    return a == b or (bool(a) and bool(b) and (a.startswith(b) or b.startswith(a)))


def _copies(conn: Connection, connector: str, envelopes: list[Envelope]) -> dict[int, str]:
    """Batch index → skip reason for envelopes that repeat a message already stored (or earlier in the batch)
    under another external id: the same channel message id, from the same sender, with the same text (a
    mailing list may add a footer), e.g. a mail delivered twice, a loop copy or a copy through a list. A copy
    is recorded, never answered or routed. A message id reused for other words is not a copy."""
    wanted = {env.message_id for env in envelopes if env.message_id and not env.skip_reason and not env.error}
    if not wanted:
        return {}
    seen: dict[str, list[tuple[str, str | None, str | None]]] = {}  # message id → [(external id, sender, text)]
    ids = list(wanted)
    if fast(conn):
        found = select_in(conn, "SELECT message_id, external_id, sender_id, text FROM envelopes "
                          "WHERE connector = ? AND message_id IN ({in})", ids, connector)
    else:
        found = []
        for start in range(0, len(ids), 500):
            q = select(EnvelopeRow.message_id, EnvelopeRow.external_id, EnvelopeRow.sender_id, EnvelopeRow.text).where(
                EnvelopeRow.connector == connector, EnvelopeRow.message_id.in_(ids[start:start + 500]))
            found.extend(conn.execute(q).all())
    for mid, ext, sender, text in found:
        seen.setdefault(mid, []).append((ext, sender, text))
    out: dict[int, str] = {}
    for n, env in enumerate(envelopes):
        if not env.message_id or env.skip_reason or env.error:
            continue
        sender = env.sender.id if env.sender else None
        earlier = seen.setdefault(env.message_id, [])
        first = next((ext for ext, who, text in earlier if ext != env.external_id and
                      (who is None or sender is None or who == sender) and _same_words(text, env.text)), None)
        if first is not None:
            out[n] = f"duplicate (a copy of {first}: same message id)"[:500]
        else:
            earlier.append((env.external_id, sender, env.text))
    return out


def _store_fresh(store: Store, conn: Connection, connector: str, channel: str,
                 envelopes: list[Envelope], outcomes: dict[str, EnvelopeResult]) -> None:
    """Decide what each new envelope is and write its rows (complaints first, envelopes with final values)."""
    reporters = _resolve_reporters(store, conn, channel, envelopes)
    copies = _copies(conn, connector, envelopes)
    candidates = [(n, env) for n, env in enumerate(envelopes)
                  if not env.skip_reason and not env.error and n not in copies]
    parents = _find_parents(conn, channel, connector, candidates) if any(
        e.reply_to or e.edit_of or e.ticket_ref or e.thread_id for _, e in candidates) else {}
    parent_refs: dict[int, str] = {}
    if parents:
        q = select(Complaint.id, Complaint.ref).where(Complaint.id.in_({c for c, _ in parents.values()}))
        parent_refs = dict((conn.execute(q)).all())
    first_envelope = store.allocate_sync(conn, "envelope", len(envelopes))
    now = utcnow()
    # follow-ups of messages earlier in this same batch: key → index into ``complaints``
    in_batch: dict[str, int] = {}
    pending_follow_ups: list[tuple[int, int, str]] = []  # (row index, complaint index, reason)
    rows: list[dict[str, Any]] = []
    complaints: list[dict[str, Any]] = []
    quarantine: list[dict[str, Any]] = []
    follow_ups: list[dict[str, Any]] = []
    for n, env in enumerate(envelopes):
        eid = first_envelope + n
        row: dict[str, Any] = {
            "id": eid, "connector": connector, "channel": channel, "external_id": env.external_id,
            "received_at": env.received_at, "stored_at": now, "raw": raw_bytes(env.raw),
            "sender_id": env.sender.id if env.sender else None, "reporter_id": reporters.get(n),
            "subject": env.subject, "text": env.text, "thread_id": env.thread_id, "message_id": env.message_id,
            "origin": env.origin, "meta": env.meta, "attachments": [asdict(a) for a in env.attachments],
            "outcome": "complaint", "reason": None, "complaint_id": None,
        }
        ext = env.external_id
        skip = env.skip_reason or (None if env.error else copies.get(n))
        if skip:
            row.update(outcome="skipped", reason=skip)
            outcomes[ext] = EnvelopeResult(ext, True, "skipped", None, skip)
        elif env.error:
            row.update(outcome="quarantined", reason=env.error)
            quarantine.append({"connector": connector, "external_id": ext, "envelope_id": eid,
                               "raw": row["raw"], "reason": env.error, "retry_count": 0, "created_at": now})
            outcomes[ext] = EnvelopeResult(ext, True, "quarantined", None, env.error)
        elif n in parents:
            cid, why = parents[n]
            row.update(outcome="follow_up", reason=why, complaint_id=cid)
            follow_ups.append({"complaint_id": cid, "envelope_id": eid, "reason": why, "created_at": now})
            outcomes[ext] = EnvelopeResult(ext, True, "follow_up", parent_refs.get(cid), why)
        elif (hit := _in_batch_parent(env, in_batch)) is not None:
            pending_follow_ups.append((n, hit[0], hit[1]))
        elif not (env.text or "").strip() and not env.attachments and not (env.subject or "").strip():
            row.update(outcome="skipped", reason="empty message")
            outcomes[ext] = EnvelopeResult(ext, True, "skipped", None, "empty message")
        else:
            for key in (f"id:{ext}", f"id:{env.message_id}" if env.message_id else None,
                        f"thread:{env.thread_id}" if env.thread_id else None):
                if key:
                    in_batch.setdefault(key, len(complaints))
            asked_anonymous, asked_confidential = anonymity_request(env.text)
            if not (env.origin or {}).get("access"):
                # the key of the reporter's status link (omnichannel.status); the web form keeps its own in
                # ``origin``, which otherwise holds only what the channel said (a reparse gives it again)
                row["meta"] = {**(env.meta or {}), "access": secrets.token_urlsafe(16)}
            complaints.append({"n": n, "envelope_id": eid, "reporter_id": reporters.get(n), "connector": connector,
                               "channel": channel, "subject": env.subject,
                               "text": (env.text or env.subject or "").strip() or "(lampiran)",
                               "anonymous": env.anonymous or asked_anonymous,
                               "confidential": env.confidential or asked_confidential,
                               # where the citizen said it is (the web form's ``location``); the router
                               # adds what it reads in the text
                               "location": _typed_location(env.meta),
                               "status": "received", "created_at": now})
        rows.append(row)
    if complaints:
        # the year of receipt by the daemon: a channel's clock (a Telegram ``date: 1``) never sets it
        year = now.astimezone(REF_TIMEZONE).year
        first = store.allocate_sync(conn, "complaint", len(complaints))
        for k, comp in enumerate(complaints):
            n = comp.pop("n")
            env = envelopes[n]
            comp["id"] = first + k
            comp["ref"] = complaint_ref(first + k, year)
            rows[n]["complaint_id"] = comp["id"]
            outcomes[env.external_id] = EnvelopeResult(env.external_id, True, "complaint", comp["ref"])
        for n, k, why in pending_follow_ups:
            comp = complaints[k]
            rows[n].update(outcome="follow_up", reason=why, complaint_id=comp["id"])
            follow_ups.append({"complaint_id": comp["id"], "envelope_id": rows[n]["id"], "reason": why,
                               "created_at": now})
            ext = envelopes[n].external_id
            outcomes[ext] = EnvelopeResult(ext, True, "follow_up", comp["ref"], why)
        insert_rows(conn, Complaint, complaints)
    insert_rows(conn, EnvelopeRow, rows)
    insert_rows(conn, FollowUp, follow_ups)
    insert_rows(conn, Quarantine, quarantine)
    if log.isEnabledFor(logging.DEBUG):
        for row in rows:
            log.debug("stored %s/%s as %s", connector, row["external_id"], row["outcome"])
