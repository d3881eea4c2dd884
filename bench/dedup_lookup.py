"""Near-duplicate lookup p50/p99 with 10k, 100k and 1M complaints indexed, against a brute-force rapidfuzz scan.

Usage: ``python bench/dedup_lookup.py [--sizes 10000,100000,1000000] [--queries 2000] [--brute-max 100000]``.
Prints build time, memory per indexed complaint (index arrays, and the process RSS growth), lookup
latency (features excluded and included), the share of near-duplicate queries whose source was
found, and the 1M/10k cost ratio.

Recall is given twice. *strict*: the match is the exact complaint the query was made from. *fair*:
the match is the source or a complaint at least as similar to the query (the generator draws from a
few dozen problems and a few thousand streets, so at 1 M several complaints read alike). The share
of sources that the exact check itself keeps apart (the variant lost a word of the street name, so it
names another street) is printed too: neither figure can reach 100% minus that share. Latencies are this thread's CPU time (``time.thread_time``) so
that other processes on a shared machine do not inflate them; the wall-clock p50/p99 is printed
too. Figures only; nothing is asserted.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from rapidfuzz import fuzz, process  # noqa: E402
from synthetic_complaints import Generator  # noqa: E402

from router.dedup.config import DedupConfig  # noqa: E402
from router.dedup.features import make_features  # noqa: E402
from router.dedup.index import DedupIndex  # noqa: E402
from router.normalise import normalise, tokens  # noqa: E402

WINDOW = 14 * 86400.0


def rss() -> int:
    """Resident set size of this process in bytes."""
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * 4096


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]


def features(text: str, person: int, ts: float):
    norm = normalise(text)
    return make_features(tokens(norm), text, person=person, channel="telegram", ts=ts), norm


def build(n: int, gen: Generator, cfg: DedupConfig, keep_texts: bool) -> tuple[DedupIndex, list[str], list[str], dict]:
    index = DedupIndex(cfg)
    texts: list[str] = []
    norms: list[str] = []
    before = rss()
    t_feat = t_load = 0.0
    chunk = 250_000
    for start in range(0, n, chunk):
        t0 = time.perf_counter()
        items = []
        for i in range(start, min(n, start + chunk)):
            text = gen.text()
            f, norm = features(text, person=i + 1, ts=WINDOW * i / n)
            items.append((f, i + 1, i + 1, i + 1))
            if keep_texts or len(texts) < 50_000:
                texts.append(text)
            if keep_texts:
                norms.append(norm)
        t1 = time.perf_counter()
        index.bulk_load(items)
        t_load += time.perf_counter() - t1
        t_feat += t1 - t0
        del items
        gc.collect()
    stats = {"features_s": t_feat, "index_s": t_load, "rss_bytes": rss() - before, "arrays": index.memory_bytes()}
    return index, texts, norms, stats


def run(n: int, queries: int, brute: bool, cfg: DedupConfig) -> dict:
    gen = Generator(seed=n)
    index, texts, norms, stats = build(n, gen, cfg, keep_texts=brute)
    qs = []
    for q in range(queries):
        if q % 2 == 0:
            src = gen.rng.randrange(len(texts))
            qs.append((gen.near_duplicate(texts[src]), src + 1))
        else:
            qs.append((gen.text(), None))
    lookup_us, total_us, wall_us, found, fair, apart = [], [], [], 0, 0, 0
    for q, (text, src) in enumerate(qs):
        t0 = time.thread_time()
        f, _ = features(text, person=10_000_000 + q, ts=WINDOW)
        t1, w1 = time.thread_time(), time.perf_counter()
        result = index.lookup(f)
        t2, w2 = time.thread_time(), time.perf_counter()
        lookup_us.append((t2 - t1) * 1e6)
        total_us.append((t2 - t0) * 1e6)
        wall_us.append((w2 - w1) * 1e6)
        if src is None:
            continue
        # bulk_load into an empty index: the i-th complaint (id i + 1) sits in slot i
        source = index.verify(f, [src - 1]).match
        match = result.match
        if match is not None and match.candidate == src:
            found += 1
            fair += 1
        elif source is None:
            apart += 1
        elif match is not None and match.similarity >= source.similarity - 1e-9:
            fair += 1
    out = {"n": n, **stats, "p50": pct(lookup_us, 50), "p99": pct(lookup_us, 99), "mean": statistics.mean(lookup_us),
           "p50_total": pct(total_us, 50), "p99_total": pct(total_us, 99), "found": found / (queries // 2),
           "fair": fair / (queries // 2), "apart": apart / (queries // 2),
           "wall_p50": pct(wall_us, 50), "wall_p99": pct(wall_us, 99)}
    if brute:
        scan = []
        bq = qs[: min(len(qs), max(20, 2_000_000 // n))]
        for text, _ in bq:
            norm = normalise(text)
            t0 = time.thread_time()
            process.extractOne(norm, norms, scorer=fuzz.token_set_ratio, score_cutoff=70)
            scan.append((time.thread_time() - t0) * 1e6)
        out.update(brute_p50=pct(scan, 50), brute_p99=pct(scan, 99), brute_n=len(bq))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--queries", type=int, default=2000)
    parser.add_argument("--brute-max", type=int, default=100_000)
    args = parser.parse_args()
    cfg = DedupConfig()
    print(f"num_perm={cfg.num_perm} bands={cfg.bands} rows={cfg.rows} bucket_whole={cfg.bucket_whole} "
          f"bucket_cap={cfg.bucket_cap} max_candidates={cfg.max_candidates}")
    results = []
    for n in (int(s) for s in args.sizes.split(",")):
        r = run(n, args.queries, n <= args.brute_max, cfg)
        results.append(r)
        print(f"n={n:>8}: build features {r['features_s']:.1f}s + index {r['index_s']:.1f}s; "
              f"memory {r['arrays'] / n:.0f} B/complaint in arrays, RSS +{r['rss_bytes'] / n:.0f} B/complaint")
        print(f"    lookup p50 {r['p50']:.0f} us  p99 {r['p99']:.0f} us  mean {r['mean']:.0f} us | with features "
              f"p50 {r['p50_total']:.0f} us  p99 {r['p99_total']:.0f} us | wall p50 {r['wall_p50']:.0f} us "
              f"p99 {r['wall_p99']:.0f} us")
        print(f"    near-dup source found {r['found']:.1%} strict, {r['fair']:.1%} fair (source or one at "
              f"least as similar); source kept apart by the exact check {r['apart']:.1%}")
        if "brute_p50" in r:
            print(f"    rapidfuzz scan ({r['brute_n']} queries): p50 {r['brute_p50'] / 1000:.1f} ms  "
                  f"p99 {r['brute_p99'] / 1000:.1f} ms  ({r['brute_p50'] / r['p50']:.0f}x the LSH lookup)")
        del r
        gc.collect()
    if len(results) > 1:
        small, large = results[0], results[-1]
        print(f"cost ratio {large['n']}/{small['n']}: lookup mean {large['mean'] / small['mean']:.2f}x, "
              f"p50 {large['p50'] / small['p50']:.2f}x, with features {large['p50_total'] / small['p50_total']:.2f}x")


if __name__ == "__main__":
    main()
