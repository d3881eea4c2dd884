"""Dedup quality on a labelled set: precision, recall and F1 per level, and hard negatives kept apart.

Usage: ``python -m router.eval.dedup [FILE] [--config config.yaml]``. Each JSONL line is one message:
``id, ts, channel, sender, name, phone, email, text, case`` (gold incident/complaint group), ``expect``
(``new|resend|cross_channel|incident``, relative to the earlier lines), optional ``hard_negative``
(``place|problem|window``) and ``link`` (a sender id an officer linked this sender to).

A prediction counts as right when its level equals ``expect`` and the matched complaint belongs to the
same gold ``case``. The messages go through the same normalise → mask → classify → features → lookup
path as the router pipeline.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from router.dedup.config import DedupConfig
from router.dedup.features import features_for, name_words, phone_key, without_names
from router.dedup.index import DedupIndex

LEVELS = ("resend", "cross_channel", "incident")
HANDLE_CHANNELS = ("x", "telegram", "instagram", "facebook")  # a sender id there is an account name, not a contact
DEFAULT_SET = Path(__file__).resolve().parents[2] / "tests" / "data" / "dedup_labelled.jsonl"


def load(path: Path) -> list[dict[str, Any]]:
    """The labelled rows of ``path``, in time order."""
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return sorted(rows, key=lambda r: datetime.fromisoformat(r["ts"]))


def reporters(rows: list[dict[str, Any]]) -> dict[str, int]:
    """Row id → reporter id, linking identities that share a phone or email, or an officer link."""
    parent: dict[str, str] = {}

    def find(key: str) -> str:
        while parent.setdefault(key, key) != key:
            parent[key] = parent[parent[key]]
            key = parent[key]
        return key

    def union(a: str, b: str) -> None:
        parent[find(a)] = find(b)

    for row in rows:
        own = f"{row['channel']}:{row['sender']}"
        if row.get("phone"):
            union(own, f"phone:{phone_key(row['phone'])}")
        if row.get("email"):
            union(own, f"email:{row['email'].strip().lower()}")
        if row.get("link"):
            linked = next((r for r in rows if r["sender"] == row["link"]), None)
            if linked is not None:
                union(own, f"{linked['channel']}:{linked['sender']}")
    roots: dict[str, int] = {}
    return {row["id"]: roots.setdefault(find(f"{row['channel']}:{row['sender']}"), len(roots) + 1)
            for row in rows}


@dataclass
class Report:
    """Counts per level and the hard negatives."""

    tp: dict[str, int] = field(default_factory=lambda: dict.fromkeys(LEVELS, 0))
    fp: dict[str, int] = field(default_factory=lambda: dict.fromkeys(LEVELS, 0))
    fn: dict[str, int] = field(default_factory=lambda: dict.fromkeys(LEVELS, 0))
    hard: dict[str, list[int]] = field(default_factory=dict)  # kind -> [kept apart, total]
    errors: list[str] = field(default_factory=list)
    links: list[tuple[str, str | None, str]] = field(default_factory=list)  # (row id, matched row id, level)

    def scores(self, level: str) -> tuple[float, float, float]:
        """(precision, recall, F1) of one level."""
        tp, fp, fn = self.tp[level], self.fp[level], self.fn[level]
        p = tp / (tp + fp) if tp + fp else 1.0
        r = tp / (tp + fn) if tp + fn else 1.0
        return p, r, (2 * p * r / (p + r) if p + r else 0.0)

    def lines(self) -> list[str]:
        """Printable summary."""
        out = [f"{'level':<14} {'P':>6} {'R':>6} {'F1':>6}   tp fp fn"]
        for level in LEVELS:
            p, r, f = self.scores(level)
            out.append(f"{level:<14} {p:6.3f} {r:6.3f} {f:6.3f}   {self.tp[level]:>2} {self.fp[level]:>2} "
                       f"{self.fn[level]:>2}")
        for kind, (kept, total) in sorted(self.hard.items()):
            out.append(f"hard negatives ({kind}): {kept}/{total} kept apart")
        return out


def evaluate(rows: list[dict[str, Any]], cfg: DedupConfig, classifier: Any = None) -> Report:
    """Run every row through dedup in time order and count right and wrong merges per level."""
    from router.normalise import normalise, tokens

    try:
        from omnichannel.pii import mask
    except ImportError:  # pragma: no cover
        def mask(text: str) -> str:
            return text
    index = DedupIndex(cfg)
    who = reporters(rows)
    case_of: dict[int, str] = {}
    id_of: dict[int, str] = {}
    report = Report()
    for n, row in enumerate(rows, start=1):
        masked = mask(row["text"])
        norm = normalise(masked)
        decision = classifier.classify(masked, norm=norm, channel=row["channel"]) if classifier else None
        ts = datetime.fromisoformat(row["ts"]).timestamp()
        toks = without_names(tokens(norm), name_words(row.get("name")))  # as the pipeline does
        handle = row["sender"] if row["channel"] in HANDLE_CHANNELS else None
        feats = features_for(masked, toks, decision, person=who[row["id"]], channel=row["channel"], ts=ts,
                             names=[row.get("name")], handles=[handle])
        found = index.lookup(feats, person_only=decision is not None and decision.kind == "bukan_aduan")
        match = found.match
        predicted = match.level if match else "new"
        expected = row["expect"]
        right = predicted == expected and (match is None or case_of.get(match.candidate) == row["case"])
        if predicted in LEVELS:
            report.tp[predicted] += right
            report.fp[predicted] += not right
        if expected in LEVELS and not right:
            report.fn[expected] += 1
        if row.get("hard_negative"):
            bucket = report.hard.setdefault(row["hard_negative"], [0, 0])
            bucket[0] += predicted == "new"
            bucket[1] += 1
        if not right:
            report.errors.append(f"{row['id']} expect={expected} got={predicted} {found.explain()} "
                                 f"places={sorted(feats.places)}")
        case_of[n] = row["case"]
        id_of[n] = row["id"]
        report.links.append((row["id"], id_of.get(match.candidate) if match else None, predicted))
        index.add(feats, n, match.root if match and match.level in ("resend", "cross_channel") else n, None,
                  joined=match)
        index.commit()
    return report


def sections(config_path: Path | None) -> tuple[DedupConfig, Any]:
    """The dedup settings and a classifier from ``config_path``'s ``dedup``, ``routing`` and ``agencies``.

    Only those sections are read (plugins need not be importable); without a file, defaults and no
    classifier (every agency unknown: only places and wording are compared).
    """
    if config_path is None or not config_path.exists():
        return DedupConfig(), None
    import yaml

    from router.classify import Classifier
    from router.config import RoutingConfig

    data = yaml.safe_load(config_path.read_text(encoding="utf-8")) or {}
    cfg = DedupConfig.model_validate(data.get("dedup") or {})
    if not data.get("routing"):
        return cfg, None
    routing = RoutingConfig.model_validate(data["routing"])
    agencies = list(data.get("agencies") or [])
    return cfg, Classifier(routing, agencies)


def main(argv: list[str] | None = None) -> int:
    """Print dedup precision/recall/F1 per level for a labelled file."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file", nargs="?", type=Path, default=DEFAULT_SET)
    parser.add_argument("--config", type=Path, default=Path("config.yaml"))
    parser.add_argument("--errors", action="store_true", help="print every wrong decision")
    args = parser.parse_args(argv)
    cfg, classifier = sections(args.config)
    rows = load(args.file)
    report = evaluate(rows, cfg, classifier)
    print(f"{len(rows)} messages from {args.file}")
    print("\n".join(report.lines()))
    if args.errors:
        print("\n".join(report.errors))
    return 0


if __name__ == "__main__":
    sys.exit(main())
