"""``omnichannel train``: build the learned layer from the labelled cities in the repository.

Every city directory under ``tests/data/cities`` (its ``routing.jsonl`` and its agencies' remits) is a
source; ``--exclude`` leaves cities out (the cross-city evaluation trains without the held-out one).
The same files give the same model, byte for byte: rows are sorted, features hashed with CRC-32 and the
optimiser starts from zeros with a fixed schedule.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from router.eval.cities import DEFAULT_CONFIG, DEFAULT_DIR, load_cities, train_on
from router.eval.routing import load_routing_config
from router.model import MODEL_PATH


def main(argv: list[str] | None = None) -> int:
    """Train and write the model."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("directory", nargs="?", type=Path, default=DEFAULT_DIR)
    parser.add_argument("--config", type=Path, default=DEFAULT_CONFIG)
    parser.add_argument("--exclude", action="append", default=[], help="leave this city out (repeatable)")
    parser.add_argument("-o", "--output", type=Path, default=MODEL_PATH)
    args = parser.parse_args(argv)
    if not args.directory.is_dir():
        print(f"omnichannel: no such directory: {args.directory}", file=sys.stderr)
        return 2
    cities = [c for c in load_cities(args.directory) if c.slug not in args.exclude]
    if not cities:
        print("omnichannel: no city to train on", file=sys.stderr)
        return 2
    model = train_on(cities, load_routing_config(args.config))
    model.save(args.output)
    rows = sum(s["rows"] for s in model.sources.values())
    print(f"trained on {rows} messages of {', '.join(model.sources)}: kind {len(model.kind.labels)} labels "
          f"(T={model.kind.temperature}), agency {len(model.agency.labels)} labels "
          f"(T={model.agency.temperature}) → {args.output}")
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
    p.add_argument("-o", "--output", type=Path, default=MODEL_PATH,
                   help="where to write the model (default: the copy shipped with the package)")
    p.set_defaults(func=lambda args: main([str(args.directory), "--config", str(_config_path(args)), "-o",
                                           str(args.output)] + [a for c in args.exclude for a in ("--exclude", c)]))


def _config_path(args: argparse.Namespace) -> Path:
    path = Path(getattr(args, "config", "") or "")
    return path if path.is_file() else DEFAULT_CONFIG


if __name__ == "__main__":
    sys.exit(main())
