"""Every routing and grouping decision on the tuning cities, as JSON lines, and their SHA-256.

Usage: ``python bench/route_decisions.py [--out FILE] [--config config.yaml]``. For each labelled city that is
neither held out (``held_out: true`` in its city.yaml) nor in the check split, the router is configured as
``omnichannel eval --cross-city`` configures it without a model (the city's agencies and gazetteer, rules
only); each routing.jsonl message is classified (the whole ``Decision``: kind, agency, confidence, location,
explanation) and each dedup.jsonl message goes through classify + dedup in time order (the matched row,
level, and the explanation of every wrong merge or miss). One line per decision, keys sorted, floats as
``repr`` gives them: the same router gives the same bytes, so two versions of the router (a refactor or a speed-up
meant to change no decision, or modules compiled with mypyc against pure Python) can be compared by the printed
hash.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

# never read here: the held-out cities and the check split
HELD_OUT = {"surabaya", "makassar", "medan", "padang", "kupang", "mataram", "pekanbaru", "ambon", "jambi",
            "kendari", "bandarlampung", "bandaaceh", "jayapura", "palangkaraya", "ternate"}
CHECK = {"gorontalo", "cirebon", "palu"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, help="write the decisions here (JSON lines)")
    parser.add_argument("--config", type=Path, default=ROOT / "config.yaml")
    args = parser.parse_args()

    import yaml

    from router.classify import Classifier
    from router.dedup.config import DedupConfig
    from router.eval import dedup as dedup_eval
    from router.eval.cities import City, city_agencies, city_routing
    from router.eval.routing import load_labelled, load_routing_config

    base = load_routing_config(args.config)
    directory = ROOT / "tests" / "data" / "cities"
    lines: list[str] = []
    cities = 0
    for sub in sorted(p for p in directory.iterdir() if (p / "city.yaml").is_file()):
        if sub.name in HELD_OUT or sub.name in CHECK:
            continue
        facts = yaml.safe_load((sub / "city.yaml").read_text(encoding="utf-8")) or {}
        if facts.get("held_out"):
            continue
        routing_file, dedup_file = sub / "routing.jsonl", sub / "dedup.jsonl"
        city = City(facts.get("city") or sub.name, sub.name, facts,
                    routing_file if routing_file.is_file() else None, dedup_file if dedup_file.is_file() else None)
        routing = city_routing(city, base)
        routing.model.enabled = False
        routing.embeddings.enabled = False
        classifier = Classifier(routing, city_agencies(city, base))
        cities += 1
        if city.routing_file is not None:
            for row in load_labelled(city.routing_file):
                decision = classifier.classify(row["text"], channel=row.get("channel"))
                lines.append(json.dumps({"city": sub.name, "id": row.get("id"),
                                         "decision": dataclasses.asdict(decision)}, sort_keys=True,
                                        ensure_ascii=False, default=repr))
        if city.dedup_file is not None:
            rows = dedup_eval.load(city.dedup_file)
            dedup_cfg = DedupConfig.model_validate(base.dedup.model_dump() if hasattr(base.dedup, "model_dump")
                                                   else base.dedup or {})
            report = dedup_eval.evaluate(rows, dedup_cfg, classifier)
            lines += [json.dumps({"city": sub.name, "link": list(link)}, ensure_ascii=False)
                      for link in report.links]
            lines += [json.dumps({"city": sub.name, "error": error}, ensure_ascii=False) for error in report.errors]
    data = ("\n".join(lines) + "\n").encode("utf-8")
    if args.out:
        args.out.write_bytes(data)
    print(f"{cities} cities, {len(lines)} decisions, sha256 {hashlib.sha256(data).hexdigest()}")


if __name__ == "__main__":
    main()
