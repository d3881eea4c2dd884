"""Evaluate classification on a labelled JSONL file: agency/kind accuracy, per-agency precision/recall.

Run: ``python -m router.eval.routing tests/data/routing_labelled.jsonl [--config config.yaml]
[--split all|train|test] [--errors]``. The split is fixed by a hash of each message id (~30% test),
so rules can be tuned on ``train`` and reported honestly on ``test``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from omnichannel.config import Config, load_config, parse_config
from omnichannel.errors import ConfigError
from router.classify import Classifier
from router.normalise import normalise

log = logging.getLogger(__name__)
TEST_SHARE = 3  # tenths of the set held out


def split_of(message_id: str) -> str:
    """``"test"`` for ~30% of ids (stable across runs and machines), else ``"train"``."""
    digest = hashlib.sha1(message_id.encode("utf-8")).digest()
    return "test" if digest[0] % 10 < TEST_SHARE else "train"


def load_labelled(path: str | Path, split: str = "all") -> list[dict[str, Any]]:
    """Rows of a labelled JSONL file, optionally only one split."""
    rows = []
    with Path(path).open(encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                row = json.loads(line)
                if split == "all" or split_of(row["id"]) == split:
                    rows.append(row)
    return rows


def load_routing_config(path: str | Path) -> Config:
    """The config at ``path``; when its connectors/forwarders cannot be validated here, only the routing sections.

    Evaluating the taxonomy must not depend on every channel library being installed.
    """
    try:
        return load_config(path)
    except ConfigError as exc:
        if not exc.path.startswith(("connectors", "forwarders")):
            raise
        log.warning("evaluating only the routing sections of %s (%s)", path, exc)
    data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    keep = {key: data[key] for key in ("agencies", "routing", "sla", "templates") if key in data}
    return parse_config(yaml.safe_dump(keep, allow_unicode=True), env={})


def classifier_from(config: Config) -> Classifier:
    """A classifier for the config's routing section and agencies."""
    return Classifier(config.routing, list(config.agencies))


@dataclass
class EvalReport:
    """Figures of one evaluation run."""

    n: int = 0
    agency_correct: int = 0
    kind_correct: int = 0
    location_total: int = 0
    location_correct: int = 0
    per_agency: dict[str, dict[str, float]] = field(default_factory=dict)
    errors: list[dict[str, Any]] = field(default_factory=list)

    @property
    def agency_accuracy(self) -> float:
        """Share of messages routed to the labelled agency."""
        return self.agency_correct / self.n if self.n else 0.0

    @property
    def kind_accuracy(self) -> float:
        """Share of messages given the labelled kind."""
        return self.kind_correct / self.n if self.n else 0.0

    @property
    def location_accuracy(self) -> float:
        """Share of labelled locations whose kecamatan/kelurahan were found exactly."""
        return self.location_correct / self.location_total if self.location_total else 0.0


def evaluate(classifier: Classifier, rows: list[dict[str, Any]]) -> EvalReport:
    """Classify every row and compare with its labels."""
    report = EvalReport()
    true_pos: Counter[str] = Counter()
    predicted: Counter[str] = Counter()
    actual: Counter[str] = Counter()
    lexicon = classifier.lexicon
    for row in rows:
        decision = classifier.classify(row["text"], norm=normalise(row["text"], lexicon), channel=row.get("channel"))
        report.n += 1
        predicted[decision.agency] += 1
        actual[row["agency"]] += 1
        ok_agency = decision.agency == row["agency"]
        ok_kind = decision.kind == row["kind"]
        report.agency_correct += ok_agency
        report.kind_correct += ok_kind
        true_pos[row["agency"]] += ok_agency
        expected_loc = row.get("location")
        if expected_loc:
            report.location_total += 1
            got = decision.location or {}
            report.location_correct += all(str(got.get(k)) == str(v) for k, v in expected_loc.items())
        if not (ok_agency and ok_kind):
            report.errors.append({"id": row["id"], "text": row["text"], "want": [row["kind"], row["agency"]],
                                  "got": [decision.kind, decision.agency], "confidence": decision.confidence,
                                  "scores": decision.explanation["agency"]["scores"]})
    for code in sorted(set(actual) | set(predicted)):
        precision = true_pos[code] / predicted[code] if predicted[code] else 0.0
        recall = true_pos[code] / actual[code] if actual[code] else 0.0
        report.per_agency[code] = {"precision": precision, "recall": recall, "support": actual[code],
                                   "predicted": predicted[code]}
    return report


def format_report(report: EvalReport, title: str = "", errors: bool = False) -> str:
    """A printable report."""
    lines = [f"== {title} ==" if title else "",
             f"messages          {report.n}",
             f"agency accuracy   {report.agency_accuracy:.3f}  ({report.agency_correct}/{report.n})",
             f"kind accuracy     {report.kind_accuracy:.3f}  ({report.kind_correct}/{report.n})",
             f"location exact    {report.location_accuracy:.3f}  ({report.location_correct}/{report.location_total})",
             "",
             f"{'agency':<13}{'precision':>10}{'recall':>8}{'support':>9}{'predicted':>11}"]
    for code, figures in report.per_agency.items():
        lines.append(f"{code:<13}{figures['precision']:>10.2f}{figures['recall']:>8.2f}"
                     f"{figures['support']:>9}{figures['predicted']:>11}")
    if errors and report.errors:
        lines.append("")
        lines.append("errors (want → got):")
        for err in report.errors:
            lines.append(f"  {err['id']} {err['want']} → {err['got']} c={err['confidence']:.2f} "
                         f"{err['scores']} | {err['text'][:90]}")
    return "\n".join(line for line in lines if line is not None)


def main(argv: list[str] | None = None) -> int:
    """Command line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file", type=Path)
    parser.add_argument("--config", type=Path, default=Path("config.yaml"))
    parser.add_argument("--split", choices=("all", "train", "test", "each"), default="each")
    parser.add_argument("--errors", action="store_true", help="list every misclassified message")
    args = parser.parse_args(argv)
    classifier = classifier_from(load_routing_config(args.config))
    splits = ("train", "test", "all") if args.split == "each" else (args.split,)
    for split in splits:
        report = evaluate(classifier, load_labelled(args.file, split))
        print(format_report(report, f"{args.file.name} [{split}]", errors=args.errors and split != "all"))
        print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
