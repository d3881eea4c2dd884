"""The ``omnichannel`` command: run, check, db, import/export, quarantine, outbox, eval, sandbox, demo."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
from pathlib import Path
from typing import Any

from omnichannel.config import Config, load_config
from omnichannel.errors import ConfigError, OmnichannelError
from omnichannel.logs import setup_logging

log = logging.getLogger("omnichannel.cli")
DEFAULT_CONFIG = os.environ.get("OMNICHANNEL_CONFIG", "config.yaml")


def _config(args: argparse.Namespace) -> Config:
    config = load_config(args.config)
    setup_logging(args.log_level or config.logging.level, config.logging.format)
    return config


async def _store(config: Config, migrate: bool = True) -> Any:
    from omnichannel.store import Store

    store = Store(config.store.url)
    await store.open(migrate=migrate and config.store.migrate_on_start)
    return store


async def _pipeline(config: Config, store: Any) -> Any:
    from omnichannel import registry
    from omnichannel.templates import Templates

    try:
        cls = registry.load(registry.PIPELINE)
    except (ImportError, AttributeError):
        return None
    pipeline = cls(config, store, Templates(config.templates, config.templates_dir))
    await pipeline.start()
    return pipeline


def cmd_run(args: argparse.Namespace) -> int:
    """Run the daemon until SIGTERM/SIGINT."""
    from omnichannel.daemon import run_daemon

    config = _config(args)
    try:  # uvloop (optional) makes the HTTP intake markedly faster; asyncio's loop works the same
        import uvloop
    except ImportError:
        return asyncio.run(run_daemon(config))
    return uvloop.run(run_daemon(config))


def cmd_init(args: argparse.Namespace) -> int:
    """Write the shipped config.yaml into a directory (never over an existing one)."""
    from importlib import resources

    target = Path(args.directory) / "config.yaml"
    if target.exists():
        print(f"omnichannel: {target} exists; not overwriting it", file=sys.stderr)
        return 1
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(resources.files("omnichannel").joinpath("default_config.yaml").read_text(encoding="utf-8"),
                      encoding="utf-8")
    print(f"wrote {target}: SQLite store under ./data, web intake on 127.0.0.1:8080, channels disabled "
          "until their credentials are set (see README, Configuration)")
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    """Validate the config; with --connect, really connect every enabled plugin."""
    if args.reference:
        from omnichannel.config_reference import reference

        print(reference(), end="")
        return 0
    config = _config(args)
    print(f"config OK: {len(config.connectors)} connectors, {len(config.forwarders)} forwarders, "
          f"{len(config.agencies)} agencies; store {config.store.url.split('://')[0]}")
    if args.dump:
        print(json.dumps(config.redacted(), indent=2, ensure_ascii=False, default=str))
    if not args.connect:
        return 0

    async def probe_all() -> int:
        from omnichannel import registry

        failures = 0
        store = await _store(config, migrate=False)
        await store.close()
        print("store: reachable")
        for section, table in (("connectors", registry.CONNECTORS), ("forwarders", registry.FORWARDERS)):
            for cfg in getattr(config, section):
                if not cfg.enabled:
                    continue
                try:
                    plugin = registry.load(table[cfg.kind][0])(cfg.name, cfg)
                    print(f"{cfg.name}: {await asyncio.wait_for(plugin.probe(), 30)}")
                except Exception as exc:
                    failures += 1
                    print(f"{cfg.name}: FAILED: {type(exc).__name__}: {exc}")
        return 1 if failures else 0

    return asyncio.run(probe_all())


def _backup_sqlite(url: str, target: Path) -> None:
    """Online, consistent copy of the SQLite store (safe while the daemon writes)."""
    import sqlite3

    source_path = url.split("///", 1)[1]
    if not Path(source_path).is_file():
        raise OmnichannelError(f"no store at {source_path}")
    source = sqlite3.connect(f"file:{source_path}?mode=ro", uri=True)
    dest = sqlite3.connect(target)
    try:
        source.backup(dest)
    finally:
        dest.close()
        source.close()


def cmd_db(args: argparse.Namespace) -> int:
    """Migrations and backups."""
    config = _config(args)
    if args.action == "backup":
        if not args.target:
            print("omnichannel: db backup needs a target file", file=sys.stderr)
            return 1
        if not config.store.url.startswith("sqlite"):
            print("omnichannel: for PostgreSQL use pg_dump (see docs/operations.md)", file=sys.stderr)
            return 1
        _backup_sqlite(config.store.url, Path(args.target))
        print(f"backed up {config.store.url.split('///', 1)[1]} to {args.target}")
        return 0

    async def go() -> None:
        from omnichannel.migrate import current, upgrade

        store = await _store(config, migrate=False)
        try:
            if args.action == "upgrade":
                await upgrade(store)
            print(f"store at revision {await current(store)}")
        finally:
            await store.close()

    asyncio.run(go())
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    """Import a JSON Lines or CSV backlog through the live ingest and router path."""
    config = _config(args)
    path = Path(args.file)
    if not path.is_file():
        print(f"omnichannel: no such file: {path}", file=sys.stderr)
        return 2

    async def go() -> dict[str, int]:
        from omnichannel.transfer import import_file

        store = await _store(config)
        try:
            pipeline = None if args.no_route else await _pipeline(config, store)
            return await import_file(store, path, pipeline, progress=sys.stderr.isatty())
        finally:
            await store.close()

    tally = asyncio.run(go())
    print(f"imported {tally['records']} records: {tally['new']} new ({tally['complaint']} complaints, "
          f"{tally['follow_up']} follow-ups, {tally['skipped']} skipped, {tally['quarantined']} quarantined), "
          f"{tally['duplicate']} duplicate")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    """Write one record per envelope with its complaint and decisions."""
    config = _config(args)

    async def go() -> int:
        from omnichannel.transfer import export

        store = await _store(config)
        try:
            if args.output:
                with open(args.output, "w", encoding="utf-8", newline="") as fh:  # noqa: ASYNC230
                    return await export(store, fh, args.format)
            return await export(store, sys.stdout, args.format)
        finally:
            await store.close()

    count = asyncio.run(go())
    print(f"exported {count} envelopes", file=sys.stderr)
    return 0


def cmd_quarantine(args: argparse.Namespace) -> int:
    """List, show, retry or export quarantined envelopes."""
    config = _config(args)

    async def go() -> int:
        from omnichannel import quarantine

        store = await _store(config)
        try:
            if args.action == "list":
                items = await quarantine.list_items(store, include_resolved=args.all)
                for item in items:
                    print(f"{item['id']:>6}  {item['connector']:<12} {item['external_id'][:40]:<40} "
                          f"retries={item['retry_count']}  {item['reason']}")
                print(f"{len(items)} quarantined")
            elif args.action == "show":
                item = await quarantine.show(store, args.id)
                if item is None:
                    print(f"no quarantined item {args.id}", file=sys.stderr)
                    return 1
                print(json.dumps(item, indent=2, ensure_ascii=False))
            elif args.action == "retry":
                tally = await quarantine.retry(store, config, args.ids or None)
                print(f"retried {tally['retried']}: {tally['released']} released, "
                      f"{tally['still_quarantined']} still quarantined")
            elif args.action == "export":
                n = await quarantine.export_items(store, sys.stdout)
                print(f"exported {n} items", file=sys.stderr)
            return 0
        finally:
            await store.close()

    return asyncio.run(go())


def cmd_eval(args: argparse.Namespace) -> int:
    """Print routing quality (rows labelled with agency/kind) or dedup quality (rows labelled with case), or
    with ``--cross-city`` both per held-out city, the router configured for each city."""
    from omnichannel import registry

    if args.cross_city is not None:
        argv = [args.cross_city] if args.cross_city else []
        argv += ["--config", args.config] if Path(args.config).is_file() else []
        argv += (["--json"] if args.json else []) + (["--rules-only"] if args.rules_only else [])
        argv += [arg for city in args.city or [] for arg in ("--city", city)]
        return registry.load(registry.EVAL_CITIES)(argv)
    if not args.file:
        print("omnichannel: eval needs a labelled file or --cross-city", file=sys.stderr)
        return 2
    path = Path(args.file)
    if not path.is_file():
        print(f"omnichannel: no such file: {path}", file=sys.stderr)
        return 2
    with path.open(encoding="utf-8") as fh:
        first = json.loads(next(line for line in fh if line.strip()))
    argv = [str(path), "--config", args.config] + (["--errors"] if args.errors else [])
    return registry.load(registry.EVAL_DEDUP if "case" in first else registry.EVAL_ROUTING)(argv)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (subcommands)."""
    parser = argparse.ArgumentParser(prog="omnichannel", description=__doc__)
    parser.add_argument("-c", "--config", default=DEFAULT_CONFIG, help="config file (default: %(default)s)")
    parser.add_argument("--log-level", choices=["DEBUG", "INFO", "WARNING", "ERROR"], default=None)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("run", help="run the daemon").set_defaults(func=cmd_run)
    p = sub.add_parser("init", help="write the shipped config.yaml into a directory")
    p.add_argument("directory", nargs="?", default=".")
    p.set_defaults(func=cmd_init)
    p = sub.add_parser("check", help="validate the config (and --connect to every channel)")
    p.add_argument("--connect", action="store_true")
    p.add_argument("--dump", action="store_true", help="print the config with secrets masked")
    p.add_argument("--reference", action="store_true", help="print the reference of every config key")
    p.set_defaults(func=cmd_check)
    p = sub.add_parser("db", help="store migrations and backups")
    p.add_argument("action", choices=["upgrade", "current", "backup"])
    p.add_argument("target", nargs="?", help="backup: the file to write")
    p.set_defaults(func=cmd_db)
    p = sub.add_parser("import", help="import a JSONL or CSV backlog")
    p.add_argument("file")
    p.add_argument("--no-route", action="store_true", help="store only; the daemon routes later")
    p.set_defaults(func=cmd_import)
    p = sub.add_parser("export", help="export envelopes with their complaints and decisions")
    p.add_argument("--format", choices=["jsonl", "csv"], default="jsonl")
    p.add_argument("-o", "--output")
    p.set_defaults(func=cmd_export)
    p = sub.add_parser("quarantine", help="envelopes that could not be processed")
    qsub = p.add_subparsers(dest="action", required=True)
    q = qsub.add_parser("list")
    q.add_argument("--all", action="store_true", help="include released items")
    q = qsub.add_parser("show")
    q.add_argument("id", type=int)
    q = qsub.add_parser("retry")
    q.add_argument("ids", type=int, nargs="*", help="item ids (default: all)")
    qsub.add_parser("export")
    p.set_defaults(func=cmd_quarantine)
    p = sub.add_parser("eval", help="routing and dedup quality on a labelled JSONL file, or per held-out city")
    p.add_argument("file", nargs="?")
    p.add_argument("--errors", action="store_true", help="list every wrong decision")
    p.add_argument("--cross-city", nargs="?", const="", metavar="DIR",
                   help="score each city of DIR (default tests/data/cities) with the router configured for it")
    p.add_argument("--city", action="append", help="with --cross-city: only this held-out city (repeatable)")
    p.add_argument("--json", action="store_true", help="with --cross-city: print the figures as JSON")
    p.add_argument("--rules-only", action="store_true", help="with --cross-city: without the learned layer")
    p.set_defaults(func=cmd_eval)
    from omnichannel import registry

    for target in registry.CLI_EXTENSIONS:
        try:
            registry.load(target)(sub)
        except (ImportError, AttributeError):
            pass
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point; config errors exit 2 with the key named, never a traceback."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except ConfigError as exc:
        print(f"omnichannel: configuration error: {exc}", file=sys.stderr)
        return 2
    except OmnichannelError as exc:
        print(f"omnichannel: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
