"""Storing a connector's batch and its checkpoint in one transaction.

Every envelope a channel handed over ends in the store as exactly one of: a complaint (status
``received``, for the router), a follow-up of an existing complaint (reply, edit, quoted ref,
same thread), an intentional skip with its reason, or quarantine (kept whole, with the reason).
Redelivered envelopes are absorbed by the unique key ``(connector, external_id)`` and reported
with what the first delivery became, so a client's retry gets the same complaint ref.
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict
from typing import Any

from sqlalchemy import and_, bindparam, or_, select, update
from sqlmodel.ext.asyncio.session import AsyncSession

from omnichannel.models import Complaint, EnvelopeRow, FollowUp, Identity, OutboxRow, Quarantine, Reporter
from omnichannel.store import Store
from omnichannel.types import Batch, Envelope, EnvelopeResult, IngestResult, Sender, utcnow

log = logging.getLogger(__name__)


def complaint_ref(number: int, year: int) -> str:
    """Human-friendly complaint ref, e.g. ``ADU-2026-000123``."""
    return f"ADU-{year}-{number:06d}"


def raw_bytes(raw: bytes | str | dict | list) -> bytes:
    """The envelope's raw payload as bytes (JSON for structured payloads)."""
    if isinstance(raw, bytes):
        return raw
    if isinstance(raw, str):
        return raw.encode("utf-8")
    return json.dumps(raw, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


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


async def _resolve_reporters(store: Store, session: AsyncSession, channel: str,
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
    key_list = list(all_keys)
    for start in range(0, len(key_list), 300):
        chunk = key_list[start:start + 300]
        cond = or_(*[and_(Identity.channel == c, Identity.address == a) for c, a in chunk])
        for ident in (await session.exec(select(Identity).where(cond))).scalars():
            known[(ident.channel, ident.address)] = ident.reporter_id
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
        first = await store.allocate("reporter", len(new_reporters), session)
        now = utcnow()
        await session.exec(store.insert(Reporter).values(
            [{"id": first + n, "created_at": now, **r} for n, r in enumerate(new_reporters)]))
        fix = {-(n + 1): first + n for n in range(len(new_reporters))}
        result = {i: fix.get(r, r) for i, r in result.items()}
        for ident in new_identities.values():
            ident["reporter"] = fix.get(ident["reporter"], ident["reporter"])
    if new_identities:
        now = utcnow()
        rows = [{"channel": v["channel"], "address": v["address"], "name": v["name"],
                 "linked_by": v["linked_by"], "reporter_id": v["reporter"], "created_at": now}
                for v in new_identities.values()]
        await session.exec(store.insert(Identity).values(rows).on_conflict_do_nothing(
            index_elements=["channel", "address"]))
    return result


async def _find_parents(session: AsyncSession, channel: str, connector: str,
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
        for ref, cid, dup, status in (await session.exec(q)).all():
            by_ref[ref] = dup if (status == "merged" and dup) else cid
    if ids:
        id_list = list(ids)
        q = select(EnvelopeRow.message_id, EnvelopeRow.external_id, EnvelopeRow.complaint_id).where(
            EnvelopeRow.channel == channel, EnvelopeRow.complaint_id.is_not(None),
            or_(EnvelopeRow.message_id.in_(id_list),
                and_(EnvelopeRow.connector == connector, EnvelopeRow.external_id.in_(id_list))))
        for mid, ext, cid in (await session.exec(q)).all():
            if mid:
                by_msg.setdefault(mid, cid)
            by_msg.setdefault(ext, cid)
        # our own outgoing replies: a citizen answering the acknowledgement we sent
        q = select(OutboxRow.remote_ref, OutboxRow.item_ref).where(
            OutboxRow.destination == f"reply:{connector}", OutboxRow.remote_ref.in_(id_list))
        sent = {remote: item.split("#", 1)[0] for remote, item in (await session.exec(q)).all()}
        if sent:
            q = select(Complaint.ref, Complaint.id).where(Complaint.ref.in_(set(sent.values())))
            cids = dict((await session.exec(q)).all())
            for remote, ref in sent.items():
                if ref in cids:
                    by_msg.setdefault(remote, cids[ref])
    if threads:
        q = (select(EnvelopeRow.thread_id, EnvelopeRow.complaint_id)
             .where(EnvelopeRow.channel == channel, EnvelopeRow.thread_id.in_(threads),
                    EnvelopeRow.complaint_id.is_not(None))
             .order_by(EnvelopeRow.id))
        for tid, cid in (await session.exec(q)).all():
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
    """Store ``batch`` and its checkpoint in one transaction; report what each envelope became."""
    async with store.session() as session:
        result = await ingest_in_session(store, session, connector, channel, batch)
        await session.commit()
    return result


async def ingest_in_session(store: Store, session: AsyncSession, connector: str, channel: str,
                            batch: Batch) -> IngestResult:
    """``ingest_batch`` inside the caller's transaction (the caller commits)."""
    # the same external id twice in one batch counts once, like a redelivery
    first_index: dict[str, int] = {}
    for i, env in enumerate(batch.envelopes):
        first_index.setdefault(env.external_id, i)
    unique = [(i, batch.envelopes[i]) for i in sorted(first_index.values())]
    new_ids: dict[str, int] = {}
    if unique:
        now = utcnow()
        values = []
        for _, env in unique:
            values.append({
                "connector": connector, "channel": channel, "external_id": env.external_id,
                "received_at": env.received_at, "stored_at": now, "raw": raw_bytes(env.raw),
                "sender_id": env.sender.id if env.sender else None,
                "subject": env.subject, "text": env.text, "thread_id": env.thread_id,
                "message_id": env.message_id, "origin": env.origin, "meta": env.meta,
                "attachments": [asdict(a) for a in env.attachments], "outcome": "pending",
            })
        stmt = (store.insert(EnvelopeRow).values(values)
                .on_conflict_do_nothing(index_elements=["connector", "external_id"])
                .returning(EnvelopeRow.id, EnvelopeRow.external_id))
        new_ids = {ext: eid for eid, ext in (await session.exec(stmt)).all()}
    fresh = [(i, env) for i, env in unique if env.external_id in new_ids]
    outcomes: dict[str, EnvelopeResult] = {}
    if fresh:
        await _classify_fresh(store, session, connector, channel, fresh, new_ids, outcomes)
    old = [env.external_id for _, env in unique if env.external_id not in new_ids]
    if old:
        q = (select(EnvelopeRow.external_id, EnvelopeRow.outcome, EnvelopeRow.reason, Complaint.ref)
             .outerjoin(Complaint, Complaint.id == EnvelopeRow.complaint_id)
             .where(EnvelopeRow.connector == connector, EnvelopeRow.external_id.in_(old)))
        for ext, outcome, reason, ref in (await session.exec(q)).all():
            outcomes[ext] = EnvelopeResult(ext, False, outcome, ref, reason)
    if batch.checkpoint is not None:
        await store.save_checkpoint(session, connector, batch.checkpoint)
    items = []
    for i, env in enumerate(batch.envelopes):
        res = outcomes[env.external_id]
        if first_index[env.external_id] != i:  # repeated inside the batch
            res = EnvelopeResult(res.external_id, False, res.outcome, res.complaint_ref, res.reason)
        items.append(res)
    return IngestResult(items)


async def _classify_fresh(store: Store, session: AsyncSession, connector: str, channel: str,
                          fresh: list[tuple[int, Envelope]], new_ids: dict[str, int],
                          outcomes: dict[str, EnvelopeResult]) -> None:
    """Decide what each new envelope is and write the matching rows."""
    envelopes = [env for _, env in fresh]
    reporters = await _resolve_reporters(store, session, channel, envelopes)
    candidates = [(n, env) for n, env in enumerate(envelopes) if not env.skip_reason and not env.error]
    parents = await _find_parents(session, channel, connector, candidates)
    complaints: list[tuple[int, Envelope]] = []
    updates: list[dict[str, Any]] = []
    quarantine: list[dict[str, Any]] = []
    follow_ups: list[dict[str, Any]] = []
    parent_refs: dict[int, str] = {}
    if parents:
        q = select(Complaint.id, Complaint.ref).where(Complaint.id.in_({c for c, _ in parents.values()}))
        parent_refs = dict((await session.exec(q)).all())
    now = utcnow()
    for n, env in enumerate(envelopes):
        eid = new_ids[env.external_id]
        upd: dict[str, Any] = {"b_id": eid, "reporter_id": reporters.get(n), "complaint_id": None,
                               "outcome": "complaint", "reason": None}
        if env.skip_reason:
            upd.update(outcome="skipped", reason=env.skip_reason)
            outcomes[env.external_id] = EnvelopeResult(env.external_id, True, "skipped", None, env.skip_reason)
        elif env.error:
            upd.update(outcome="quarantined", reason=env.error)
            quarantine.append({"connector": connector, "external_id": env.external_id, "envelope_id": eid,
                               "raw": raw_bytes(env.raw), "reason": env.error, "retry_count": 0,
                               "created_at": now})
            outcomes[env.external_id] = EnvelopeResult(env.external_id, True, "quarantined", None, env.error)
        elif n in parents:
            cid, why = parents[n]
            upd.update(outcome="follow_up", reason=why, complaint_id=cid)
            follow_ups.append({"complaint_id": cid, "envelope_id": eid, "reason": why, "created_at": now})
            outcomes[env.external_id] = EnvelopeResult(env.external_id, True, "follow_up",
                                                       parent_refs.get(cid), why)
        elif not (env.text or "").strip() and not env.attachments and not (env.subject or "").strip():
            upd.update(outcome="skipped", reason="empty message")
            outcomes[env.external_id] = EnvelopeResult(env.external_id, True, "skipped", None, "empty message")
        else:
            complaints.append((n, env))
        updates.append(upd)
    if complaints:
        first = await store.allocate("complaint", len(complaints), session)
        rows = []
        for k, (n, env) in enumerate(complaints):
            cid = first + k
            ref = complaint_ref(cid, env.received_at.year)
            rows.append({"id": cid, "ref": ref, "envelope_id": new_ids[env.external_id],
                         "reporter_id": reporters.get(n), "connector": connector, "channel": channel,
                         "subject": env.subject, "text": (env.text or env.subject or "").strip() or "(lampiran)",
                         "anonymous": env.anonymous, "confidential": env.confidential,
                         "status": "received", "created_at": now})
            updates[n].update(complaint_id=cid)
            outcomes[env.external_id] = EnvelopeResult(env.external_id, True, "complaint", ref)
        await session.exec(store.insert(Complaint).values(rows))
    if follow_ups:
        await session.exec(store.insert(FollowUp).values(follow_ups))
    if quarantine:
        await session.exec(store.insert(Quarantine).values(quarantine))
    stmt = (update(EnvelopeRow).where(EnvelopeRow.id == bindparam("b_id"))
            .values(reporter_id=bindparam("reporter_id"), complaint_id=bindparam("complaint_id"),
                    outcome=bindparam("outcome"), reason=bindparam("reason")))
    conn = await session.connection()
    await conn.execute(stmt.execution_options(synchronize_session=False), updates)
    for n, env in enumerate(envelopes):
        log.debug("stored %s/%s as %s", connector, env.external_id, updates[n]["outcome"])
