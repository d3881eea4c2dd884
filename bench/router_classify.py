"""Throughput of normalise + classify (and of PII masking) on one core, over the labelled messages.

Run: ``python bench/router_classify.py [--seconds 3]``. Prints messages/s and µs/message measured in process CPU time (one core); no assertions.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

from omnichannel.pii import mask
from router.eval.routing import classifier_from, load_labelled, load_routing_config
from router.normalise import normalise

REPO = Path(__file__).resolve().parents[1]


def _rate(label: str, func, texts: list[str], seconds: float) -> None:
    runs = []
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline or len(runs) < 3:
        start = time.process_time()  # CPU time of this process: other load on the machine does not count
        for text in texts:
            func(text)
        runs.append(time.process_time() - start)
    best = min(runs)
    median = statistics.median(runs)
    n = len(texts)
    print(f"{label:<28} {n / median:>10,.0f} msg/s (median of {len(runs)} passes)   "
          f"best {n / best:>10,.0f} msg/s   {median / n * 1e6:6.1f} µs/msg")


def main() -> None:
    """Run the benchmark."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0)
    args = parser.parse_args()
    config = load_routing_config(REPO / "config.yaml")
    classifier = classifier_from(config)
    rows = load_labelled(REPO / "tests" / "data" / "routing_labelled.jsonl")
    # the labelled messages, plus longer ones (three joined) as formal letters and threads are
    texts = [r["text"] for r in rows]
    texts += [" ".join(texts[i:i + 3]) for i in range(0, len(texts), 3)]
    lexicon = classifier.lexicon
    avg_chars = sum(map(len, texts)) / len(texts)
    rules = sum(rs.size() for rs in config.routing.agencies.values())
    print(f"{len(texts)} messages, {avg_chars:.0f} chars on average; {rules} agency rules, "
          f"{sum(rs.size() for rs in config.routing.kinds.rules.values())} kind rules")

    def both(text: str) -> None:
        classifier.classify(text, norm=normalise(text, lexicon), channel="whatsapp")

    normalised = {t: normalise(t, lexicon) for t in texts}
    _rate("normalise", lambda t: normalise(t, lexicon), texts, args.seconds)
    _rate("classify (pre-normalised)", lambda t: classifier.classify(t, norm=normalised[t]), texts, args.seconds)
    _rate("normalise + classify", both, texts, args.seconds)
    _rate("pii.mask", mask, texts, args.seconds)
    _rate("pii.mask + normalise + classify", lambda t: both(mask(t)), texts, args.seconds)


if __name__ == "__main__":
    main()
