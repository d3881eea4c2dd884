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
from sqlalchemy.orm import aliased

from omnichannel.ingest import ingest_batch
from omnichannel.models import Case, Complaint, EnvelopeRow, Ticket
from omnichannel.store import Store
from omnichannel.types import Batch, Envelope, Sender

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


async def import_file(store: Store, path: Path, pipeline: Any = None, batch_size: int = 500,
                      progress: bool = False) -> dict[str, int]:
    """Ingest every record (and route it when ``pipeline`` is given); returns the tally."""
    tally = {"records": 0, "new": 0, "duplicate": 0, "complaint": 0, "follow_up": 0, "skipped": 0,
             "quarantined": 0}
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(unit="rec", desc=f"import {path.name}", file=sys.stderr)
    pending: dict[str, list[Envelope]] = {}

    async def flush(channel: str) -> None:
        envelopes = pending.pop(channel, [])
        if not envelopes:
            return
        result = await ingest_batch(store, IMPORT_CONNECTOR, channel, Batch(envelopes))
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
            bar.update(len(envelopes))

    for line_no, raw in read_records(path):
        tally["records"] += 1
        channel, envelope = record_to_envelope(raw, line_no)
        pending.setdefault(channel, []).append(envelope)
        if len(pending[channel]) >= batch_size:
            await flush(channel)
    for channel in list(pending):
        await flush(channel)
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
