"""Cross-city evaluation: the router configured for each city (its agencies' remits and its gazetteer),
scored on that city's labelled messages, rotating which city is held out.

Usage: ``omnichannel eval --cross-city [DIR]`` (default ``tests/data/cities``). Each sub-directory is a
city: ``city.yaml`` (the city's facts: ``city``, ``region_code``, ``agencies`` with ``remit``,
``gazetteer`` kecamatan → kelurahan, ``agency_accounts``), ``routing.jsonl`` and ``dedup.jsonl``
(``routing_file``/``dedup_file`` in city.yaml may point elsewhere). Rules, kinds and dedup settings come
from the base config (``--config``, the shipped one by default): nothing in them is per city.

For every held-out city the report gives agency and kind accuracy, grouping pair F1 for the same
complaint (resend and cross-channel: one citizen, one complaint) and the same case (incidents
included), and hard negatives merged. Tuning and training use only the other cities (a learned layer,
when there is one, is trained on them); with rules alone the rotation changes nothing but who may look
at which city's errors. Only aggregate figures are printed unless ``--errors`` is given for one city.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import sys
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import yaml

from omnichannel.config import Config
from router.classify import Classifier
from router.dedup.config import DedupConfig
from router.eval import dedup as dedup_eval
from router.eval.routing import evaluate, load_labelled, load_routing_config
from router.model import Model, train

REPO = Path(__file__).resolve().parents[2]
DEFAULT_DIR = REPO / "tests" / "data" / "cities"
DEFAULT_CONFIG = Path(__file__).resolve().parents[2] / "omnichannel" / "default_config.yaml"


@dataclass
class City:
    """One city's facts and labelled files."""

    name: str
    slug: str
    facts: dict[str, Any]
    routing_file: Path | None
    dedup_file: Path | None

    @property
    def held_out(self) -> bool:
        """Marked as held out: nobody who tunes reads its messages (``held_out: true`` in its city.yaml)."""
        return bool(self.facts.get("held_out"))


@dataclass
class CityFigures:
    """The figures of one held-out city."""

    city: str
    messages: int = 0
    agency: float = 0.0
    kind: float = 0.0
    per_kind: dict[str, float] = field(default_factory=dict)
    location: float = 0.0
    located: int = 0
    dedup_messages: int = 0
    same_complaint_f1: float = 0.0
    same_case_f1: float = 0.0
    hard_negatives: int = 0
    hard_negative_merges: int = 0
    levels: dict[str, list[float]] = field(default_factory=dict)
    trained_on: list[str] = field(default_factory=list)
    learned: bool = False


def load_cities(directory: Path) -> list[City]:
    """Every city directory (with a city.yaml) under ``directory``, by name."""
    cities = []
    for sub in sorted(p for p in directory.iterdir() if (p / "city.yaml").is_file()):
        facts = yaml.safe_load((sub / "city.yaml").read_text(encoding="utf-8")) or {}

        def find(key: str, default: str, base: Path = sub, facts: dict[str, Any] = facts) -> Path | None:
            path = (base / facts.get(key, default)).resolve()
            return path if path.is_file() else None

        cities.append(City(facts.get("city") or sub.name, sub.name, facts, find("routing_file", "routing.jsonl"),
                           find("dedup_file", "dedup.jsonl")))
    return cities


def config_agencies(base: Config) -> list[dict[str, Any]]:
    """The config's agencies (code, name, remit, aliases)."""
    return [{"code": a.code, "name": a.name, "remit": a.remit, "aliases": list(getattr(a, "aliases", []))}
            for a in base.agencies]


def city_agencies(city: City, base: Config) -> list[dict[str, Any]]:
    """The city's agencies (code, name, remit, accounts as aliases); the base config's when it lists none."""
    listed = city.facts.get("agencies")
    if not listed:
        return config_agencies(base)
    accounts = city.facts.get("agency_accounts") or (city.facts.get("accounts") or {}).get("agency_x") or {}
    # the Pemda's own accounts address no agency in particular
    pemda = {str(v).lower() for k, v in (city.facts.get("accounts") or {}).items() if isinstance(v, str)}
    out = []
    for agency in listed:
        handles = accounts.get(agency["code"]) or {}
        if isinstance(handles, str):
            handles = [handles]
        aliases = [h for h in (handles.values() if isinstance(handles, dict) else handles)
                   if h and str(h).lower() not in pemda]
        out.append({"code": agency["code"], "name": agency.get("name", ""), "remit": agency.get("remit", ""),
                    "aliases": aliases})
    return out


def city_routing(city: City, base: Config) -> Any:
    """The base routing section with the city's gazetteer (region code and listed places)."""
    routing = base.routing.model_copy(deep=True)
    facts = city.facts
    places = facts.get("gazetteer")
    gazetteer = routing.gazetteer.model_dump()
    if facts.get("region_code"):
        gazetteer["region"] = str(facts["region_code"])
    if facts.get("city"):
        gazetteer["kota"] = facts["city"]
    if isinstance(places, dict):  # kecamatan → [kelurahan]
        gazetteer["kecamatan"] = [{"name": kec, "kelurahan": [{"name": kel} for kel in (kels or [])]}
                                  for kec, kels in places.items()]
    routing.gazetteer = type(routing.gazetteer).model_validate(gazetteer)
    return routing


def _pairs(groups: dict[str, str]) -> set[tuple[str, str]]:
    by_group: dict[str, list[str]] = {}
    for item, group in groups.items():
        by_group.setdefault(group, []).append(item)
    out = set()
    for members in by_group.values():
        members.sort()
        out.update((a, b) for i, a in enumerate(members) for b in members[i + 1:])
    return out


def _f1(gold: set[tuple[str, str]], predicted: set[tuple[str, str]]) -> float:
    tp = len(gold & predicted)
    if not gold and not predicted:
        return 1.0
    precision = tp / len(predicted) if predicted else 1.0
    recall = tp / len(gold) if gold else 1.0
    return 2 * precision * recall / (precision + recall) if precision + recall else 0.0


class _Union:
    def __init__(self) -> None:
        self.parent: dict[str, str] = {}

    def find(self, key: str) -> str:
        while self.parent.setdefault(key, key) != key:
            self.parent[key] = self.parent[self.parent[key]]
            key = self.parent[key]
        return key

    def union(self, a: str, b: str) -> None:
        self.parent[self.find(a)] = self.find(b)


# Words of a sender's name or handle that tell nobody apart (titles, kinship terms, account words). The gold's own
# list, fixed when the labels' pairing rule was written: the router's list of such words (router.dedup.concepts)
# changes as grouping is tuned, and the gold pairs of a held-out city must never move with it.
_GOLD_NOT_NAME = frozenset("""
pak bapak bpk pa bu ibu bunda neng kang akang aa teh teteh ceu euceu mang emang mamah mama mah abah ema
mas mbak mba dik adik kak kakak om tante bang abang haji hajah ustadz ustad kyai dr drs ir prof
ketua rt rw warga info informasi update news berita kita kota bandung official admin komunitas forum
dan the of team tim grup group ortu orang tua murid wali kelas pengurus
""".split())


def _writer_words(name: str | None, sender: str) -> tuple[set[str], set[str]]:
    """A sender's name words (three letters or more) and the prefixes (three letters or more) of its handle's runs."""
    words = {w for w in re.findall(r"[a-z]+", (name or "").lower()) if len(w) >= 3 and w not in _GOLD_NOT_NAME}
    handle = sender.lower().rpartition(":")[2]
    prefixes = {run[:n] for run in re.findall(r"[a-z]+", handle) if run not in _GOLD_NOT_NAME
                for n in range(3, len(run) + 1)}
    return words, prefixes


def _same_writer(name_a: str | None, sender_a: str, name_b: str | None, sender_b: str) -> bool:
    """A shared name word, or a name word of one that begins the other's handle."""
    words_a, prefixes_a = _writer_words(name_a, sender_a)
    words_b, prefixes_b = _writer_words(name_b, sender_b)
    return bool(words_a & words_b or words_a & prefixes_b or words_b & prefixes_a)


def gold_complaints(rows: list[dict[str, Any]]) -> dict[str, str]:
    """Row id → gold complaint: a resend joins the same sender's earlier row of the case; a cross-channel
    message the earlier row of the case on another channel by the same person (shared phone, email or
    name when there is one, else a shared name word or handle, else the latest).

    The name-word step was added with issue 13's grouping work: without it a cross-channel row whose writer
    signed differently ("Asep S." for "Asep Sunandar") was paired with the case's latest row on another
    channel, sometimes another citizen's (Bandung: 4 of 40 cross-channel rows), which no grouping can or
    should reproduce."""
    union = _Union()
    earlier: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        same_case = earlier.setdefault(row["case"], [])
        target = None
        if row["expect"] == "resend":
            target = next((r for r in reversed(same_case) if r["sender"] == row["sender"]), None)
        elif row["expect"] == "cross_channel":
            others = [r for r in same_case if r["channel"] != row["channel"]]

            def shares(r: dict[str, Any], row: dict[str, Any] = row) -> bool:
                return any(row.get(k) and r.get(k) and str(row[k]).strip().lower() == str(r[k]).strip().lower()
                           for k in ("phone", "email", "name"))

            def named(r: dict[str, Any], row: dict[str, Any] = row) -> bool:
                # "Asep S." (x:@asepsun_) wrote "Asep Sunandar"'s WhatsApp complaint: a shared name word, or a
                # name word that begins the other's handle (titles such as Pak, Bu, Ceu, Neng left out)
                return _same_writer(row.get("name"), row["sender"], r.get("name"), r["sender"])

            target = next((r for r in reversed(others) if shares(r)), None) or \
                next((r for r in reversed(others) if named(r)), others[-1] if others else None)
        union.find(row["id"])
        if target is not None:
            union.union(row["id"], target["id"])
        same_case.append(row)
    return {row["id"]: union.find(row["id"]) for row in rows}


def grouping_figures(rows: list[dict[str, Any]], report: Any) -> dict[str, Any]:
    """Pair F1 of same complaint and same case, and hard-negative merges, from an eval report's links."""
    complaint, case = _Union(), _Union()
    for row_id, matched, level in report.links:
        complaint.find(row_id)
        case.find(row_id)
        if matched is None:
            continue
        case.union(row_id, matched)
        if level in ("resend", "cross_channel"):
            complaint.union(row_id, matched)
    predicted_complaint = {r["id"]: complaint.find(r["id"]) for r in rows}
    predicted_case = {r["id"]: case.find(r["id"]) for r in rows}
    gold_case = {r["id"]: r["case"] for r in rows}
    merges = 0
    hard = [r for r in rows if r.get("hard_negative")]
    case_of_pred = predicted_case
    for row in hard:
        near = row.get("near")
        if near and near in case_of_pred:
            merges += case_of_pred[near] == case_of_pred[row["id"]]
        else:  # no look-alike named: any merge into another gold case counts
            merges += any(case_of_pred[o["id"]] == case_of_pred[row["id"]] and gold_case[o["id"]] != row["case"]
                          for o in rows if o["id"] != row["id"])
    return {"same_complaint_f1": _f1(_pairs(gold_complaints(rows)), _pairs(predicted_complaint)),
            "same_case_f1": _f1(_pairs(gold_case), _pairs(predicted_case)),
            "hard_negatives": len(hard), "hard_negative_merges": merges}


def train_on(cities: list[City], base: Any, corrections: list[dict[str, Any]] | None = None) -> Model:
    """A model trained on ``cities``' labelled routing files and remits, and officers' ``corrections``
    (rows ``id``, ``text``, ``kind``, ``agency``: ``router.corrections.corrected_examples``)."""
    rows, remits, sources = training_rows(cities, base, corrections)
    return train(rows, remits, base.routing.lexicon or None, sources)


def head_on(cities: list[City], base: Any, corrections: list[dict[str, Any]] | None = None) -> Any:
    """The embedding head (``router.embed_head``) trained on the rows ``train_on`` trains the model on."""
    from router import embed
    from router.embed_head import train_head

    rows, remits, sources = training_rows(cities, base, corrections)
    embedder = embed.shared()
    return train_head(rows, embedder.many([r["text"] for r in rows]), remits,
                      embedder.many([r["remit"] for r in remits]), sources)


def training_rows(cities: list[City], base: Any, corrections: list[dict[str, Any]] | None = None
                  ) -> tuple[list[dict[str, Any]], list[dict[str, str]], dict[str, Any]]:
    """(labelled rows, agencies' remits, sources) of ``cities`` and officers' ``corrections``."""
    rows: list[dict[str, Any]] = []
    remits: list[dict[str, str]] = []
    sources: dict[str, Any] = {}
    for city in cities:
        if city.routing_file is None:
            continue
        city_rows = load_labelled(city.routing_file)
        rows += [{**row, "id": f"{city.slug}:{row['id']}"} for row in city_rows]
        remits += [{"code": a["code"], "remit": a.get("remit", "")} for a in city_agencies(city, base)]
        sources[city.slug] = {"rows": len(city_rows),
                              "sha1": hashlib.sha1(city.routing_file.read_bytes()).hexdigest()[:12]}
    if corrections:
        rows += [{"id": str(r["id"]), "text": r["text"], "kind": r.get("kind") or "pengaduan", "agency": r["agency"]}
                 for r in corrections]
        digest = hashlib.sha1(json.dumps(sorted((str(r["id"]), r["text"], r["agency"]) for r in corrections),
                                         ensure_ascii=False).encode("utf-8")).hexdigest()[:12]
        sources["corrections"] = {"rows": len(corrections), "sha1": digest}
    return rows, remits, sources


def evaluate_city(city: City, base: Config, trained_on: list[City] | None = None, errors: bool = False,
                  model: Any = None, own_agencies: bool = True, embed_head: Any = None
                  ) -> tuple[CityFigures, list[str]]:
    """Configure the router for ``city`` (with ``model``, trained without it, or the rules alone) and score
    it on the city's labelled files. ``own_agencies=False`` keeps the base config's agencies, names and
    remits and changes only the region and gazetteer, as a Pemda that installs the shipped config and sets
    nothing but ``routing.gazetteer.region`` would run it (the labels still follow the city's own division
    of labour, so where the city divides work differently the router cannot know it)."""
    routing = city_routing(city, base)
    if model is None:
        routing.model.enabled = False  # never the shipped model: it may have been trained on this city
    # nor the shipped embedding head: on only with one trained without this city
    routing.embeddings.enabled = embed_head is not None
    agencies = city_agencies(city, base) if own_agencies else config_agencies(base)
    classifier = Classifier(routing, agencies, model=model, embed_head=embed_head)
    figures = CityFigures(city=city.name, trained_on=[c.name for c in trained_on or []])
    lines: list[str] = []
    if city.routing_file is not None:
        rows = load_labelled(city.routing_file)
        report = evaluate(classifier, rows)
        figures.messages, figures.agency, figures.kind = report.n, report.agency_accuracy, report.kind_accuracy
        figures.location, figures.located = report.location_accuracy, report.location_total
        wanted = Counter(r["kind"] for r in rows)
        wrong = Counter(e["want"][0] for e in report.errors if e["want"][0] != e["got"][0])
        figures.per_kind = {k: 1 - wrong[k] / n for k, n in sorted(wanted.items())}
        if errors:
            lines += [f"  {e['id']} {e['want']} → {e['got']} {e['scores']} | {e['text'][:100]}" for e in report.errors]
    if city.dedup_file is not None:
        rows = dedup_eval.load(city.dedup_file)
        dedup_cfg = DedupConfig.model_validate(base.dedup.model_dump() if hasattr(base.dedup, "model_dump")
                                               else base.dedup or {})
        report = dedup_eval.evaluate(rows, dedup_cfg, classifier)
        grouped = grouping_figures(rows, report)
        figures.dedup_messages = len(rows)
        figures.same_complaint_f1 = grouped["same_complaint_f1"]
        figures.same_case_f1 = grouped["same_case_f1"]
        figures.hard_negatives = grouped["hard_negatives"]
        figures.hard_negative_merges = grouped["hard_negative_merges"]
        figures.levels = {level: [round(x, 3) for x in report.scores(level)] for level in dedup_eval.LEVELS}
        if errors:
            lines += report.errors
    return figures, lines


def cross_city(directory: Path, config_path: Path, only: list[str] | None = None,
               errors_for: str | None = None, learned: bool = True,
               exclude: list[str] | None = None, own_agencies: bool = True,
               jobs: int = 1, embeddings: bool = False) -> tuple[list[CityFigures], list[str]]:
    """Each city held out in turn: the learned layer is trained on the others (as tuning may use only them).

    ``exclude`` leaves cities out of the rotation altogether, neither scored nor trained on: with the
    held-out cities excluded, the tuning cities score each other (a pseudo-held-out leave-one-out whose
    figures owe nothing to the held-out cities' messages). ``jobs`` > 1 scores that many cities at once in
    worker processes (each trains its own model); the figures and their order are the same as with one."""
    slugs = [c.slug for c in load_cities(directory) if c.slug not in (exclude or ())]
    scored = [slug for slug in slugs if not only or slug in only]
    work = [(directory, config_path, slug, errors_for, learned, exclude, own_agencies, embeddings) for slug in scored]
    if jobs > 1 and len(work) > 1:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        # spawn, not fork: the caller may be a daemon or a test runner with threads of its own
        with ProcessPoolExecutor(max_workers=min(jobs, len(work)),
                                 mp_context=multiprocessing.get_context("spawn")) as pool:
            results = list(pool.map(_one_city, *zip(*work, strict=True)))
    else:
        results = [_one_city(*args) for args in work]
    return [figures for figures, _ in results], [line for _, errs in results for line in errs]


def _one_city(directory: Path, config_path: Path, slug: str, errors_for: str | None, learned: bool,
              exclude: list[str] | None, own_agencies: bool,
              embeddings: bool = False) -> tuple[CityFigures, list[str]]:
    """One city of the rotation: a model trained on the others, then the city scored with it."""
    base = load_routing_config(config_path)
    cities = [c for c in load_cities(directory) if c.slug not in (exclude or ())]
    held_out = next(c for c in cities if c.slug == slug)
    others = [c for c in cities if c is not held_out]
    model = head = None
    if learned and base.routing.model.enabled and any(c.routing_file for c in others):
        model = train_on(others, base)
        head = head_on(others, base) if embeddings else None
    figures, errs = evaluate_city(held_out, base, others, errors=slug == errors_for, model=model,
                                  own_agencies=own_agencies, embed_head=head)
    figures.learned = model is not None
    return figures, errs


def format_table(figures: list[CityFigures]) -> str:
    """One line per held-out city."""
    head = (f"{'held-out city':<16}{'msgs':>6}{'agency':>8}{'kind':>7}{'dedup':>7}{'complaint F1':>14}"
            f"{'case F1':>9}{'hard-neg merged':>17}   tuned/trained on")
    lines = [head]
    for f in figures:
        lines.append(f"{f.city:<16}{f.messages:>6}{f.agency:>8.3f}{f.kind:>7.3f}{f.dedup_messages:>7}"
                     f"{f.same_complaint_f1:>14.3f}{f.same_case_f1:>9.3f}"
                     f"{f'{f.hard_negative_merges}/{f.hard_negatives}':>17}   {', '.join(f.trained_on)}"
                     f"{' (rules + learned layer)' if f.learned else ' (rules only)'}")
    for f in figures:
        kinds = " ".join(f"{k} {v:.2f}" for k, v in f.per_kind.items())
        levels = " ".join(f"{k} P/R/F1 {'/'.join(f'{x:.2f}' for x in v)}" for k, v in f.levels.items())
        lines.append(f"  {f.city}: kind recall {kinds}; location exact {f.location:.2f} of {f.located}; {levels}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Print the cross-city figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("directory", nargs="?", type=Path, default=DEFAULT_DIR)
    parser.add_argument("--config", type=Path, default=DEFAULT_CONFIG)
    parser.add_argument("--city", action="append", help="only these held-out cities (directory names)")
    parser.add_argument("--errors", metavar="CITY", help="list the wrong decisions of one city (never a held-out one)")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--rules-only", action="store_true", help="without the learned layer")
    parser.add_argument("--embeddings", action="store_true", help="with the embed extra's embedding head")
    parser.add_argument("--shipped-agencies", action="store_true",
                        help="keep the config's agencies and remits; only the region and gazetteer are the city's")
    parser.add_argument("--jobs", type=int, default=0,
                        help="cities scored at once in worker processes (default: one per CPU)")
    parser.add_argument("--exclude", action="append", default=[],
                        help="leave this city out altogether: neither scored nor trained on (repeatable)")
    args = parser.parse_args(argv)
    if not args.directory.is_dir():
        print(f"omnichannel: no such directory: {args.directory}", file=sys.stderr)
        return 2
    if args.errors:
        marked = [c for c in load_cities(args.directory) if c.slug == args.errors and c.held_out]
        if marked:
            print(f"omnichannel: {args.errors} is a held-out city (held_out: true in its city.yaml): only its "
                  "figures are printed, never its wrong decisions, so that nobody tunes on it", file=sys.stderr)
            return 2
    figures, lines = cross_city(args.directory, args.config, args.city, args.errors, learned=not args.rules_only,
                                exclude=args.exclude, own_agencies=not args.shipped_agencies,
                                jobs=args.jobs or os.cpu_count() or 1, embeddings=args.embeddings)
    if args.json:
        print(json.dumps([asdict(f) for f in figures], ensure_ascii=False, indent=1))
    else:
        print(format_table(figures))
    if lines:
        print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
