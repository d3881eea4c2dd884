"""Router throughput on one core: messages/s through normalise + (mask) + classify + dedup (lookup and add).

Usage: ``python bench/router_throughput.py [--indexed 100000] [--messages 20000] [--corrections 0]
[--embeddings] [--config config.yaml]``. ``--corrections N`` gives the classifier a memory of N officers'
reassignments (synthetic complaints moved to another agency), which it consults for every message.
``--embeddings`` turns ``routing.embeddings`` on (the embed extra): a message is embedded (one thread) when
the learned layer is consulted; the share of messages embedded is printed.
The classifier uses the ``routing`` and ``agencies`` sections of the config (the shipped taxonomy);
the dedup index is pre-filled with ``--indexed`` synthetic complaints. CPU time of this thread is
reported next to wall time (the machine may be shared). Figures only; nothing is asserted.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from synthetic_complaints import Generator  # noqa: E402

from omnichannel.pii import mask  # noqa: E402
from router.dedup.features import make_features  # noqa: E402
from router.dedup.index import DedupIndex  # noqa: E402
from router.eval.dedup import sections  # noqa: E402
from router.normalise import normalise, tokens  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--indexed", type=int, default=100_000)
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--corrections", type=int, default=0, help="reassignments in the correction memory")
    parser.add_argument("--embeddings", action="store_true", help="with routing.embeddings on (the embed extra)")
    parser.add_argument("--config", type=Path, default=Path(__file__).resolve().parents[1] / "config.yaml")
    args = parser.parse_args()
    cfg, classifier = sections(args.config)
    if classifier is None:
        print("no routing section in the config: classify is skipped")
    embedded = [0]
    if args.embeddings and classifier is not None:
        from router.classify import Classifier

        routing = classifier.cfg.model_copy(deep=True)
        routing.embeddings.enabled = True
        classifier = Classifier(routing, sections_agencies(args.config))
        one = classifier.embedder.one

        def counted(text: str) -> object:
            embedded[0] += 1
            return one(text)

        classifier.embedder.one = counted  # type: ignore[method-assign]
    gen = Generator(seed=11)
    if args.corrections and classifier is not None:
        from router.corrections import CorrectionMemory

        memory = CorrectionMemory(classifier)
        agencies = sorted(classifier.agencies - {"triage"})
        learned = 0
        for i in range(args.corrections):
            text = gen.text()
            decided = classifier.classify(text).agency
            target = agencies[(agencies.index(decided) + 1) % len(agencies)] if decided in agencies else agencies[0]
            learned += memory.add_reassign(i + 1, f"TIK-2026-{i + 1:06d}", decided, target, text) is not None
        classifier.corrections = memory
        print(f"correction memory: {learned} reassignments")
    index = DedupIndex(cfg)
    items = []
    for i in range(args.indexed):
        text = gen.text()
        items.append((make_features(tokens(normalise(text)), text, person=i + 1, channel="telegram",
                                    ts=float(i)), i + 1, i + 1, i + 1))
    index.bulk_load(items)
    del items
    messages = [gen.near_duplicate(gen.text()) if i % 3 else gen.text() for i in range(args.messages)]
    lexicon = classifier.lexicon if classifier else None
    stages = {"mask": 0.0, "normalise": 0.0, "classify": 0.0, "dedup": 0.0}
    merged = 0
    wall0, cpu0, process0 = time.perf_counter(), time.thread_time(), time.process_time()
    for n, text in enumerate(messages):
        t0 = time.thread_time()
        masked = mask(text)
        t1 = time.thread_time()
        norm = normalise(masked, lexicon)
        t2 = time.thread_time()
        decision = classifier.classify(masked, norm=norm, channel="telegram") if classifier else None
        t3 = time.thread_time()
        agency = decision.agency if decision and decision.agency != "triage" and decision.confidence >= 0.3 else None
        f = make_features(tokens(norm), masked, location=decision.location if decision else None, agency=agency,
                          person=50_000_000 + n, channel="telegram", ts=float(args.indexed + n))
        found = index.lookup(f, person_only=bool(decision and decision.kind == "bukan_aduan"))
        merged += found.match is not None
        index.add(f, 10_000_000 + n, found.match.root if found.match else None, None)
        index.commit()
        t4 = time.thread_time()
        stages["mask"] += t1 - t0
        stages["normalise"] += t2 - t1
        stages["classify"] += t3 - t2
        stages["dedup"] += t4 - t3
    wall, cpu = time.perf_counter() - wall0, time.thread_time() - cpu0
    process = time.process_time() - process0
    n = len(messages)
    print(f"{n} messages, {args.indexed} complaints indexed, {merged} merged"
          + (f", {embedded[0]} embedded ({embedded[0] / n:.0%})" if args.embeddings else ""))
    print(f"throughput: {n / cpu:,.0f} messages/s per core (CPU time), {n / wall:,.0f} messages/s wall clock, "
          f"{n / process:,.0f} messages/s of the whole process's CPU time")
    without_mask = cpu - stages["mask"]
    print(f"normalise + classify + dedup only: {n / without_mask:,.0f} messages/s per core")
    print("per message: " + ", ".join(f"{k} {v / n * 1e6:.0f} us" for k, v in stages.items()))


def sections_agencies(config: Path) -> list[object]:
    """The ``agencies`` section of ``config`` (as ``sections`` reads it)."""
    import yaml

    return list((yaml.safe_load(config.read_text(encoding="utf-8")) or {}).get("agencies") or [])


if __name__ == "__main__":
    main()
