"""``omnichannel import`` and ``export``: backlogs in, decisions out, through the live ingest path."""

from __future__ import annotations

import csv
import hashlib
import json
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased

from omnichannel.ingest import ingest_sync
from omnichannel.models import Case, Complaint, EnvelopeRow, Ticket
from omnichannel.store import Store
from omnichannel.types import Batch, Envelope, IngestResult, Sender

IMPORT_CONNECTOR = "import"
EXPORT_FIELDS = ["external_id", "connector", "channel", "received_at", "outcome", "reason", "complaint", "kind",
                 "agency", "case", "duplicate_of", "dedup", "similarity", "location", "confidence",
                 "explanation", "status", "ticket", "sla_due"]


def _parse_time(value: Any) -> datetime:
    if isinstance(value, (int, float)):
        return datetime.fromtimestamp(value, UTC)
    if not isinstance(value, str) or not value.strip():
        raise ValueError("received_at is required (ISO 8601)")
    parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def record_to_envelope(raw: str, line_no: int) -> tuple[str, Envelope]:
    """One JSON record → (channel, envelope); a bad record becomes an envelope marked for quarantine."""
    digest = hashlib.sha256(raw.encode("utf-8")).hexdigest()[:32]
    try:
        record = json.loads(raw)
        if not isinstance(record, dict):
            raise ValueError("a record must be a JSON object")
        channel = str(record.get("channel") or "").strip().lower()
        if not channel:
            raise ValueError("channel is required")
        sender_raw = record.get("sender") or {}
        if not isinstance(sender_raw, dict) or not sender_raw.get("id"):
            raise ValueError("sender.id is required")
        text = record.get("text")
        if not isinstance(text, str) or not text.strip():
            raise ValueError("text is required")
        sender = Sender(id=str(sender_raw["id"]), name=sender_raw.get("name"), email=sender_raw.get("email"),
                        phone=sender_raw.get("phone"))
        external_id = str(record.get("external_id") or f"sha256:{digest}")
        return channel, Envelope(external_id=f"{channel}:{external_id}", raw=raw, sender=sender, text=text,
                                 subject=record.get("subject"), received_at=_parse_time(record.get("received_at")),
                                 anonymous=bool(record.get("anonymous", False)),
                                 origin={"imported": True, "line": line_no})
    except (ValueError, TypeError, json.JSONDecodeError) as exc:
        return "import", Envelope(external_id=f"invalid:{digest}", raw=raw,
                                  error=f"line {line_no}: invalid import record: {exc}")


def read_records(path: Path) -> Iterator[tuple[int, str]]:
    """Yield (line number, JSON text) from a JSON Lines or CSV file."""
    if path.suffix.lower() == ".csv":
        with path.open(newline="", encoding="utf-8-sig") as fh:
            for n, row in enumerate(csv.DictReader(fh), start=2):
                sender = {k.split(".", 1)[1]: v for k, v in row.items() if k and k.startswith("sender.") and v}
                rec = {k: v for k, v in row.items() if k and not k.startswith("sender.") and v not in (None, "")}
                if sender:
                    rec["sender"] = sender
                yield n, json.dumps(rec, ensure_ascii=False)
        return
    with path.open(encoding="utf-8") as fh:
        for n, line in enumerate(fh, start=1):
            if line.strip():
                yield n, line.rstrip("\n")


def _time_ordered(path: Path) -> list[tuple[str, Envelope]]:
    """Every record of ``path`` as (channel, envelope), in ``received_at`` order across channels.

    Records with the same time keep the file's order; records that cannot be read (no time) come last,
    in file order, and go to quarantine.
    """
    records = [record_to_envelope(raw, line_no) for line_no, raw in read_records(path)]
    records.sort(key=lambda item: (item[1].error is not None,
                                   item[1].received_at.timestamp() if item[1].error is None else 0.0))
    return records


def _runs(chunk: list[tuple[str, Envelope]]) -> list[tuple[str, list[Envelope]]]:
    """Consecutive records of one channel grouped, the chunk's order kept."""
    runs: list[tuple[str, list[Envelope]]] = []
    for channel, envelope in chunk:
        if runs and runs[-1][0] == channel:
            runs[-1][1].append(envelope)
        else:
            runs.append((channel, [envelope]))
    return runs


async def _ingest_in_order(store: Store, runs: list[tuple[str, list[Envelope]]]) -> list[IngestResult]:
    """Store the runs in one transaction, in order, so complaint ids (the router's order) follow time."""
    for attempt in range(3):
        try:
            return await store.run_write(
                lambda conn: [ingest_sync(store, conn, IMPORT_CONNECTOR, channel, Batch(envelopes))
                              for channel, envelopes in runs])
        except IntegrityError:
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


async def import_file(store: Store, path: Path, pipeline: Any = None, batch_size: int = 500,
                      progress: bool = False) -> dict[str, int]:
    """Ingest every record in ``received_at`` order (and route it when ``pipeline`` is given); returns the tally.

    The router takes received complaints in id order, so storing a backlog in time order across channels,
    whatever the file's grouping, is what makes it routed (and deduplicated) in time order.
    """
    tally = {"records": 0, "new": 0, "duplicate": 0, "complaint": 0, "follow_up": 0, "skipped": 0,
             "quarantined": 0}
    records = _time_ordered(path)
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(unit="rec", desc=f"import {path.name}", file=sys.stderr, total=len(records))
    for start in range(0, len(records), batch_size):
        chunk = records[start:start + batch_size]
        tally["records"] += len(chunk)
        for result in await _ingest_in_order(store, _runs(chunk)):
            for item in result.items:
                if item.new:
                    tally["new"] += 1
                    tally[item.outcome] += 1
                else:
                    tally["duplicate"] += 1
        if pipeline is not None:
            while await pipeline.process_pending() >= 500:
                pass
        if bar is not None:
            bar.update(len(chunk))
    if bar is not None:
        bar.close()
    return tally


async def export_rows(store: Store) -> Iterator[dict[str, Any]]:
    """One row per envelope with its complaint and the router's decisions."""
    original = aliased(Complaint)
    q = (select(EnvelopeRow, Complaint, Case.ref, original.ref, Ticket)
         .outerjoin(Complaint, Complaint.id == EnvelopeRow.complaint_id)
         .outerjoin(Case, Case.id == Complaint.case_id)
         .outerjoin(original, original.id == Complaint.duplicate_of)
         .outerjoin(Ticket, (Ticket.case_id == Complaint.case_id) & (Ticket.agency == Complaint.agency))
         .order_by(EnvelopeRow.id))
    rows = []
    async with store.session() as session:
        for env, comp, case_ref, dup_ref, ticket in (await session.exec(q)).all():
            rows.append({
                "external_id": env.external_id, "connector": env.connector, "channel": env.channel,
                "received_at": env.received_at.isoformat(), "outcome": env.outcome, "reason": env.reason,
                "complaint": comp.ref if comp else None, "kind": comp.kind if comp else None,
                "agency": comp.agency if comp else None, "case": case_ref, "duplicate_of": dup_ref,
                "dedup": comp.dedup_level if comp else None, "similarity": comp.similarity if comp else None,
                "location": comp.location if comp else None, "confidence": comp.confidence if comp else None,
                "explanation": comp.explanation if comp else None,
                "status": (ticket.status if ticket else comp.status) if comp else None,
                "ticket": ticket.ref if ticket else None,
                "sla_due": ticket.sla_due.isoformat() if ticket and ticket.sla_due else None,
            })
    return iter(rows)


async def export(store: Store, out: IO[str], fmt: str = "jsonl") -> int:
    """Write every envelope's record as JSON Lines or CSV; returns the row count."""
    count = 0
    writer = None
    for row in await export_rows(store):
        if fmt == "csv":
            if writer is None:
                writer = csv.DictWriter(out, fieldnames=EXPORT_FIELDS)
                writer.writeheader()
            flat = {k: json.dumps(v, ensure_ascii=False) if isinstance(v, (dict, list)) else v
                    for k, v in row.items()}
            writer.writerow(flat)
        else:
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
        count += 1
    return count
