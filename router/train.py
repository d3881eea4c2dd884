"""``omnichannel train``: build the learned layer from the labelled cities in the repository.

Every city directory under ``tests/data/cities`` (its ``routing.jsonl`` and its agencies' remits) is a
source; ``--exclude`` leaves cities out (the cross-city evaluation trains without the held-out one).
Officers' corrections fold in as more labelled messages (the complaint's masked text, the agency the
coordinator chose): ``--corrections FILE`` reads them from a JSON Lines file that ``--export-corrections
FILE`` wrote from the store, ``--store`` straight from the configured store. The same inputs give the
same model, byte for byte: rows are sorted, features hashed with CRC-32 and the optimiser starts from
zeros with a fixed schedule.

``--embeddings`` writes the embedding head instead (``router/data/embed_head.npz``, the ``embed`` extra): the
same rows, embedded with one thread and rounded to float16 (kept in the embedder's on-disk cache, so a
second run embeds nothing), the same deterministic fit. The shipped head leaves out every held-out city:
``omnichannel train --embeddings --exclude surabaya`` (the others say ``shipped_model: false``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path
from typing import Any

from router.eval.cities import DEFAULT_CONFIG, DEFAULT_DIR, head_on, load_cities, train_on
from router.eval.routing import load_routing_config
from router.model import MODEL_PATH


def main(argv: list[str] | None = None, corrections: list[dict[str, Any]] | None = None) -> int:
    """Train and write the model (``corrections``: rows read from a store, added to ``--corrections FILE``)."""
    from router.corrections import read_examples

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("directory", nargs="?", type=Path, default=DEFAULT_DIR)
    parser.add_argument("--config", type=Path, default=DEFAULT_CONFIG)
    parser.add_argument("--exclude", action="append", default=[], help="leave this city out (repeatable)")
    parser.add_argument("--include-held-out", action="store_true",
                        help="train on cities marked shipped_model: false too")
    parser.add_argument("--corrections", type=Path, action="append", default=[],
                        help="officers' corrections exported as JSON Lines (repeatable)")
    parser.add_argument("--embeddings", action="store_true", help="write the embedding head (the embed extra)")
    parser.add_argument("-o", "--output", type=Path, default=None)
    args = parser.parse_args(argv)
    if not args.directory.is_dir():
        print(f"omnichannel: no such directory: {args.directory}", file=sys.stderr)
        return 2
    found = [c for c in load_cities(args.directory) if c.slug not in args.exclude]
    # a held-out city says so in its city.yaml (shipped_model: false): the shipped model never sees it, so
    # importing its messages stays a check nobody tuned on; --include-held-out trains on it anyway
    cities = [c for c in found if args.include_held_out or c.facts.get("shipped_model", True) is not False]
    if len(cities) < len(found):
        print(f"left out (shipped_model: false in city.yaml): "
              f"{', '.join(c.slug for c in found if c not in cities)}", file=sys.stderr)
    if not cities:
        print("omnichannel: no city to train on", file=sys.stderr)
        return 2
    extra = list(corrections or [])
    for path in args.corrections:
        try:
            extra += read_examples(path)
        except (OSError, ValueError) as exc:
            print(f"omnichannel: --corrections: {exc}", file=sys.stderr)
            return 2
    if args.embeddings:
        return _train_head(cities, args, extra)
    output = args.output or MODEL_PATH
    model = train_on(cities, load_routing_config(args.config), extra)
    model.save(output)
    rows = sum(s["rows"] for s in model.sources.values())
    print(f"trained on {rows} messages of {', '.join(model.sources)}: kind {len(model.kind.labels)} labels "
          f"(T={model.kind.temperature}), agency {len(model.agency.labels)} labels "
          f"(T={model.agency.temperature}) → {output}")
    return 0


def _train_head(cities: list[Any], args: argparse.Namespace, extra: list[dict[str, Any]]) -> int:
    """Train and write the embedding head (``--embeddings``)."""
    from router.embed import EmbeddingsUnavailableError
    from router.embed_head import HEAD_PATH

    output = args.output or HEAD_PATH
    try:
        head = head_on(cities, load_routing_config(args.config), extra)
    except EmbeddingsUnavailableError as exc:
        print(f"omnichannel: --embeddings: {exc}", file=sys.stderr)
        return 2
    head.save(output)
    rows = sum(s["rows"] for s in head.sources.values())
    print(f"embedding head trained on {rows} messages of {', '.join(head.sources)}: kind {len(head.kind.labels)} "
          f"labels (T={head.kind.temperature}), agency {len(head.agency.labels)} labels "
          f"(T={head.agency.temperature}) → {output}")
    return 0


def add_cli(subparsers: Any) -> None:
    """Register ``omnichannel train``."""
    p = subparsers.add_parser("train", help="build the router's learned layer from the labelled cities",
                              description="Train the linear model the router consults where its rules are unsure, "
                                          "from the labelled cities' messages and their agencies' remits; the same "
                                          "files give the same weights.")
    p.add_argument("directory", nargs="?", type=Path, default=DEFAULT_DIR,
                   help="the labelled cities, one folder each (default: %(default)s)")
    p.add_argument("--exclude", action="append", default=[], help="leave this city out (repeatable)")
    p.add_argument("--include-held-out", action="store_true",
                   help="train on the cities whose city.yaml says shipped_model: false (held-out cities) too")
    p.add_argument("--corrections", metavar="FILE", action="append", default=[],
                   help="fold in officers' corrections from a JSON Lines file (written by --export-corrections; "
                        "rows with text, agency and kind; repeatable)")
    p.add_argument("--store", action="store_true",
                   help="fold in the corrections recorded in the configured store (-c/--config's store.url)")
    p.add_argument("--export-corrections", metavar="FILE",
                   help="write the store's corrections as JSON Lines (masked text, kind, agency) and exit, "
                        "to keep them in the repository and train from the file")
    p.add_argument("--embeddings", action="store_true",
                   help="write the embedding head instead of the model (needs the embed extra; the shipped one: "
                        "--embeddings --exclude surabaya)")
    p.add_argument("-o", "--output", type=Path, default=None,
                   help="where to write the model or head (default: the copy shipped with the package)")
    p.set_defaults(func=_cli)


def _cli(args: argparse.Namespace) -> int:
    argv = [str(args.directory), "--config", str(_config_path(args))]
    argv += ["-o", str(args.output)] if args.output else []
    argv += ["--embeddings"] if args.embeddings else []
    argv += [a for c in args.exclude for a in ("--exclude", c)]
    argv += ["--include-held-out"] if args.include_held_out else []
    argv += [a for f in args.corrections for a in ("--corrections", f)]
    if not (args.store or args.export_corrections):
        return main(argv)
    rows = asyncio.run(_store_corrections(args))
    if args.export_corrections:
        out = Path(args.export_corrections)
        out.write_text("".join(json.dumps(r, ensure_ascii=False, sort_keys=True) + "\n" for r in rows),
                       encoding="utf-8")
        print(f"exported {len(rows)} corrections → {out}")
        return 0
    return main(argv, corrections=rows)


async def _store_corrections(args: argparse.Namespace) -> list[dict[str, Any]]:
    """The reassignment corrections of the configured store, as training rows."""
    from omnichannel.cli import _config, _store
    from router.corrections import corrected_examples

    store = await _store(_config(args))
    try:
        async with store.session() as session:
            return await corrected_examples(session)
    finally:
        await store.close()


def _config_path(args: argparse.Namespace) -> Path:
    path = Path(getattr(args, "config", "") or "")
    return path if path.is_file() else DEFAULT_CONFIG


if __name__ == "__main__":
    sys.exit(main())
