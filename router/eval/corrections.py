"""What officers' corrections are worth: route the first half of a city's stream, correct its mistakes as a
coordinator would, route the second half; agency accuracy on the second half with and without them.

Usage: ``omnichannel eval --corrections [DIR] [--city SLUG]`` (default ``tests/data/cities``, the cities
``semarang`` and ``bandung``). For each city the router is configured for it (its remits and gazetteer,
``router.eval.cities``) with a learned layer trained on the *other* measured cities only, and runs for
real: the messages go in through ``omnichannel import`` (``omnichannel.transfer.import_file``) into a
fresh SQLite store and the daemon's ``RouterPipeline`` routes them. Grouping is off, so every message gets
its own ticket and agency. Each wrong agency in the first half is corrected through
``omnichannel.corrections.reassign`` — the function behind ``POST /api/v1/tickets/{ref}/reassign`` and
``omnichannel tickets reassign`` — which closes the ticket as ``dialihkan``, opens one for the right
agency and records the correction. The same pipeline then routes the second half (it reads the new
corrections from the store at its next batch, as a running daemon does). The baseline routes the same
stream in another store with no correction made. A message a correction cannot fix (not a complaint,
so no ticket) stays uncorrected.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import sys
import tempfile
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select

from omnichannel.config import AgencyConfig, Config, ConnectorConfig, ForwarderConfig
from router.dedup.config import DedupConfig
from router.eval.cities import (
    DEFAULT_CONFIG,
    DEFAULT_DIR,
    City,
    city_agencies,
    city_routing,
    load_cities,
    train_on,
)
from router.eval.routing import load_labelled, load_routing_config

MEASURED = ("semarang", "bandung")  # the cities this measurement may look at (the others are held out)
START = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)


@dataclass
class Figures:
    """One city's second-half figures with and without the first half's corrections."""

    city: str
    order: str = "mixed"
    first_half: int = 0
    second_half: int = 0
    first_half_wrong: int = 0
    corrected: int = 0
    uncorrectable: int = 0
    without: float = 0.0
    with_corrections: float = 0.0
    retrained: float = 0.0  # the model trained again with the corrections folded in, no correction memory
    fixed: int = 0
    broken: int = 0
    decided_by_correction: int = 0
    consulted: int = 0
    trained_on: list[str] = field(default_factory=list)


def _records(rows: list[dict[str, Any]], offset: int) -> list[str]:
    out = []
    for i, row in enumerate(rows):
        at = START + timedelta(minutes=3 * (offset + i))
        out.append(json.dumps({"channel": row.get("channel") or "webform", "external_id": row["id"],
                               "sender": {"id": f"s-{row['id']}"}, "text": row["text"],
                               "received_at": at.isoformat()}, ensure_ascii=False))
    return out


def _config(city: City, base: Config, model_path: Path | None) -> Config:
    routing = city_routing(city, base)
    if model_path is None:
        routing.model.enabled = False
    else:
        routing.model.enabled, routing.model.path = True, str(model_path)
    agencies = [AgencyConfig(code=a["code"], name=a.get("name") or a["code"], remit=a.get("remit") or "",
                             aliases=a.get("aliases") or []) for a in city_agencies(city, base)]
    if routing.triage_agency not in {a.code for a in agencies}:
        agencies.append(AgencyConfig(code=routing.triage_agency, name="Koordinator"))
    return Config(connectors=[ConnectorConfig(name="import", kind="webform", acknowledge=False)],
                  forwarders=[ForwarderConfig(name="queue", kind="db", item_types=["ticket", "ticket_update"])],
                  agencies=agencies, routing=routing, dedup=DedupConfig(enabled=False))


async def _route(store: Any, pipeline: Any, rows: list[dict[str, Any]], offset: int, work: Path) -> dict[str, Any]:
    """Import and route ``rows``; external id → (agency, kind, complaint explanation)."""
    from omnichannel.models import Complaint, EnvelopeRow
    from omnichannel.transfer import import_file

    path = work / f"part-{offset}.jsonl"
    path.write_text("\n".join(_records(rows, offset)) + "\n", encoding="utf-8")
    await import_file(store, path, pipeline)
    while await pipeline.process_pending() > 0:
        pass
    wanted = {f"{r.get('channel') or 'webform'}:{r['id']}": r["id"] for r in rows}
    out = {}
    async with store.session() as session:
        q = select(EnvelopeRow.external_id, Complaint).join(Complaint, Complaint.envelope_id == EnvelopeRow.id)
        for ext, complaint in (await session.exec(q)).all():
            if ext in wanted:
                out[wanted[ext]] = complaint
    return out


async def _correct(store: Any, config: Config, rows: list[dict[str, Any]], routed: dict[str, Any]) -> tuple[int, int]:
    """Reassign every wrongly routed ticket of ``rows`` to its labelled agency; (corrected, uncorrectable)."""
    from omnichannel import corrections
    from omnichannel.models import Ticket
    from omnichannel.templates import Templates
    from router.delivery.desk import AnswerDesk

    answers, templates = AnswerDesk(), Templates()
    done = failed = 0
    for row in rows:
        complaint = routed.get(row["id"])
        if complaint is None or complaint.agency == row["agency"]:
            continue
        async with store.session() as session:
            ticket = None
            if complaint.case_id is not None:
                ticket = (await session.exec(select(Ticket).where(Ticket.case_id == complaint.case_id,
                                                                   Ticket.agency == complaint.agency)
                                             .order_by(Ticket.id.desc()))).scalars().first()
            if ticket is None:
                failed += 1
                continue
            try:
                await corrections.reassign(session, answers, ticket, row["agency"], "salah OPD (evaluasi)",
                                           "eval:koordinator", config, templates)
            except ValueError:
                failed += 1
                continue
            await session.commit()
            done += 1
    return done, failed


async def _run(city: City, base: Config, model_path: Path | None, work: Path, correct: bool, first_half: bool = True,
               order: str = "mixed") -> tuple[dict[str, Any], dict[str, Any], tuple[int, int], list[dict[str, Any]]]:
    from omnichannel.store import Store
    from omnichannel.templates import Templates
    from router.pipeline import RouterPipeline

    rows = stream(city, order)
    half = len(rows) // 2
    config = _config(city, base, model_path)
    store = Store(f"sqlite+aiosqlite:///{work}/store-{city.slug}-{int(correct)}.db")
    await store.open(migrate=True)
    try:
        pipeline = RouterPipeline(config, store, Templates())
        if not correct:
            pipeline.routing.corrections.enabled = False
            pipeline.classifier.corrections = None
        await pipeline.start()
        first = await _route(store, pipeline, rows[:half], 0, work) if first_half else {}
        fixes = await _correct(store, config, rows[:half], first) if correct else (0, 0)
        second = await _route(store, pipeline, rows[half:], half, work)
        examples = []
        if correct:
            from router.corrections import corrected_examples

            async with store.session() as session:
                examples = await corrected_examples(session)
    finally:
        await store.close()
    return first, second, fixes, examples


def stream(city: City, order: str = "mixed") -> list[dict[str, Any]]:
    """The city's labelled messages as a stream: in file order, or ``mixed`` (ordered by a hash of the id: the
    files are written in blocks of one register or topic, a Pemda's inbox is not)."""
    rows = load_labelled(city.routing_file)
    if order == "mixed":
        rows.sort(key=lambda r: hashlib.sha1(str(r["id"]).encode("utf-8")).hexdigest())
    return rows


async def measure_city(city: City, base: Config, trained_on: list[City], order: str = "mixed") -> Figures:
    """The figures of one city (see the module's docstring)."""
    rows = stream(city, order)
    half = len(rows) // 2
    figures = Figures(city=city.name, order=order, first_half=half, second_half=len(rows) - half,
                      trained_on=[c.name for c in trained_on])
    with tempfile.TemporaryDirectory(prefix="omni-corrections-") as tmp:
        work = Path(tmp)
        model_path = None
        if base.routing.model.enabled and trained_on:
            model_path = work / "model.npz"
            train_on(trained_on, base).save(model_path)
        for sub in ("plain", "fixed", "retrained"):
            (work / sub).mkdir()
        first, plain, _, _ = await _run(city, base, model_path, work / "plain", False, order=order)
        _, fixed, (done, failed), examples = await _run(city, base, model_path, work / "fixed", True, order=order)
        retrained = plain
        if base.routing.model.enabled and examples:  # ``omnichannel train --store`` after the first half
            model_path = work / "retrained.npz"
            train_on(trained_on, base, examples).save(model_path)
            _, retrained, _, _ = await _run(city, base, model_path, work / "retrained", False, first_half=False,
                                              order=order)
    figures.first_half_wrong = sum(first[r["id"]].agency != r["agency"] for r in rows[:half] if r["id"] in first)
    figures.corrected, figures.uncorrectable = done, failed
    second = rows[half:]
    right_plain = {r["id"] for r in second if r["id"] in plain and plain[r["id"]].agency == r["agency"]}
    right_fixed = {r["id"] for r in second if r["id"] in fixed and fixed[r["id"]].agency == r["agency"]}
    figures.without = len(right_plain) / len(second) if second else 0.0
    figures.with_corrections = len(right_fixed) / len(second) if second else 0.0
    figures.retrained = sum(r["id"] in retrained and retrained[r["id"]].agency == r["agency"]
                            for r in second) / len(second) if second else 0.0
    figures.fixed, figures.broken = len(right_fixed - right_plain), len(right_plain - right_fixed)
    how = Counter()
    for r in second:
        agency = ((fixed.get(r["id"]) and fixed[r["id"]].explanation) or {}).get("agency") or {}
        how["consulted"] += "correction" in agency
        how["decided"] += agency.get("chosen_by") == "correction"
    figures.consulted, figures.decided_by_correction = how["consulted"], how["decided"]
    return figures


def measure(directory: Path, config_path: Path, only: list[str] | None = None, order: str = "mixed"
            ) -> list[Figures]:
    """Every measured city (``semarang``, ``bandung``; never a held-out one)."""
    base = load_routing_config(config_path)
    cities = [c for c in _measured(directory) if c.routing_file is not None]
    out = []
    for city in cities:
        if only and city.slug not in only:
            continue
        others = [c for c in cities if c is not city]
        out.append(asyncio.run(measure_city(city, base, others, order)))
    return out


def _measured(directory: Path) -> list[City]:
    """The measured cities only: the held-out cities' files are not even read."""
    out = []
    for slug in MEASURED:
        if (directory / slug / "city.yaml").is_file():
            with tempfile.TemporaryDirectory() as tmp:  # load_cities reads every city of a directory
                (Path(tmp) / slug).symlink_to((directory / slug).resolve(), target_is_directory=True)
                out += load_cities(Path(tmp))
    return out


def format_table(figures: list[Figures]) -> str:
    """One line per city."""
    lines = [f"{'city':<16}{'1st half':>9}{'wrong':>7}{'corrected':>10}{'2nd half':>9}{'without':>9}"
             f"{'with':>7}{'fixed':>7}{'broken':>8}{'decided':>9}{'retrained':>11}   trained on"]
    for f in figures:
        lines.append(f"{f.city:<16}{f.first_half:>9}{f.first_half_wrong:>7}{f.corrected:>10}{f.second_half:>9}"
                     f"{f.without:>9.3f}{f.with_corrections:>7.3f}{f.fixed:>7}{f.broken:>8}"
                     f"{f.decided_by_correction:>9}{f.retrained:>11.3f}   {', '.join(f.trained_on) or '(rules only)'}")
    lines.append("agency accuracy on the second half: without corrections, with them (at once, no restart), and "
                 "with the model retrained on them instead; corrected = first-half tickets reassigned to the "
                 "labelled agency; fixed/broken = second-half messages the corrections made right/wrong; "
                 "decided = second-half messages whose agency a correction chose")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("directory", nargs="?", type=Path, default=DEFAULT_DIR)
    parser.add_argument("--config", type=Path, default=DEFAULT_CONFIG)
    parser.add_argument("--city", action="append", help=f"only this city ({', '.join(MEASURED)})")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--order", choices=("mixed", "file"), default="mixed",
                        help="the stream's order: by a hash of the message id (default) or as in the file")
    args = parser.parse_args(argv)
    if not args.directory.is_dir():
        print(f"omnichannel: no such directory: {args.directory}", file=sys.stderr)
        return 2
    figures = measure(args.directory, args.config, args.city, args.order)
    if not figures:
        print(f"omnichannel: none of {', '.join(MEASURED)} under {args.directory}", file=sys.stderr)
        return 2
    print(json.dumps([asdict(f) for f in figures], ensure_ascii=False, indent=1) if args.json else format_table(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
