"""The omnichannel command line: run, init, check, db, import, export, quarantine, outbox, eval, sandbox, demo."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
import textwrap
from pathlib import Path
from typing import Any

from omnichannel.config import Config, load_config, mask_url
from omnichannel.errors import ConfigError, OmnichannelError
from omnichannel.logs import setup_logging

log = logging.getLogger("omnichannel.cli")
DEFAULT_CONFIG = "config.yaml"  # looked for in the working directory
PACKAGED_CONFIG = Path(__file__).resolve().with_name("default_config.yaml")  # the shipped config, in the package
LOG_LEVELS = ["DEBUG", "INFO", "WARNING", "ERROR"]

DESCRIPTION = """\
Collect citizen complaints from every channel (Telegram, WhatsApp, Facebook, Instagram, X, email, the
web form), store them durably, group duplicates, route them to agencies (OPD) and SP4N-LAPOR!, and
carry the agencies' answers back to every citizen on their own channel.

The config file is -c FILE, else $OMNICHANNEL_CONFIG, else ./config.yaml, else the default config
shipped in the package. -c/--config and --log-level may be given before or after the command.
Try `omnichannel demo` to see the whole flow on this machine, `omnichannel COMMAND --help` for
the options of a command."""


def config_source(args: argparse.Namespace) -> tuple[Path, bool]:
    """The config file a command reads, and whether it is the packaged default.

    An explicit ``-c FILE`` or ``$OMNICHANNEL_CONFIG`` must exist (else a configuration error, exit 2);
    without either, ``./config.yaml`` is read when present, else the default config shipped in the package.
    """
    given = getattr(args, "config", None) or os.environ.get("OMNICHANNEL_CONFIG")
    if given:
        return Path(given), False
    if Path(DEFAULT_CONFIG).is_file():
        return Path(DEFAULT_CONFIG), False
    return PACKAGED_CONFIG, True


def load_cli_config(args: argparse.Namespace) -> Config:
    """Load the command's config and set up logging (``--log-level`` wins over ``logging.level``).

    On the packaged default config the first log line says so. ``args.config_path`` and
    ``args.config_packaged`` record what was read.
    """
    path, packaged = config_source(args)
    config = load_config(path)
    setup_logging(getattr(args, "log_level", None) or config.logging.level, config.logging.format)
    args.config_path, args.config_packaged = path, packaged
    if packaged:
        log.warning("no %s in %s and no -c/--config or $OMNICHANNEL_CONFIG: running on the packaged default "
                    "config %s (`omnichannel init` writes a copy to edit)", DEFAULT_CONFIG, Path.cwd(), path)
    return config


_config = load_cli_config


def _sqlite_file(url: str) -> Path | None:
    """The file of a SQLite store's URL; None for PostgreSQL and an in-memory store."""
    if not url.startswith("sqlite") or "///" not in url:
        return None
    path = url.split("///", 1)[1].split("?", 1)[0]
    return Path(path) if path and path != ":memory:" else None


async def _store(config: Config, migrate: bool = True, existing: bool = False) -> Any:
    """Open the config's store. A SQLite file that is not there yet is created (with a warning naming where),
    or with ``existing`` refused: a command run from another working directory than the daemon's would
    otherwise read, back up or change a new, empty store instead of the daemon's (``data_dir`` is relative
    to the working directory)."""
    from omnichannel.store import Store

    path = _sqlite_file(config.store.url)
    if path is not None and not path.exists():
        where = (f"no store at {path} (a relative data_dir is taken from the working directory, here {Path.cwd()}: "
                 "run the command where the daemon runs, or set OMNICHANNEL_DATA_DIR)")
        if existing:
            raise OmnichannelError(f"{where}; `omnichannel db upgrade` creates an empty one")
        log.warning("%s: creating a new, empty store", where)
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
    if not args.config_packaged:
        log.info("config %s", args.config_path.resolve())
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
    text = resources.files("omnichannel").joinpath("default_config.yaml").read_text(encoding="utf-8")
    if args.region:
        from omnichannel.config_init import for_region, region_name, timezone_of

        try:
            text = for_region(text, args.region)
        except ValueError as exc:
            print(f"omnichannel: {exc}", file=sys.stderr)
            return 2
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text, encoding="utf-8")
    print(f"wrote {target}: SQLite store under ./data, web intake on 127.0.0.1:8080, channels disabled "
          "until their credentials are set (see README, Configuration)")
    if args.region:
        print(f"  routing.gazetteer: {region_name(args.region)} ({args.region}), every kecamatan and kelurahan "
              f"from the Kemendagri dataset; sla.timezone {timezone_of(args.region)}\n"
              "  the agencies, their names and remits are still Kota Semarang's: write your Pemda's own (as its "
              "Perwal on OPD duties states them) into agencies[].remit; the router routes by them")
    return 0


def _enabled(items: list[Any], noun: str) -> str:
    """``5 connectors (1 enabled: web; disabled: telegram, x)``."""
    on = [c.name for c in items if c.enabled]
    off = [c.name for c in items if not c.enabled]
    detail = f"{len(on)} enabled" + (f": {', '.join(on)}" if on else "") + (f"; disabled: {', '.join(off)}" if off else "")
    return f"{len(items)} {noun}{'' if len(items) == 1 else 's'} ({detail})"


def dump_yaml(data: Any) -> str:
    """YAML laid out as people write it: short lists and mappings of plain values on one line."""
    import yaml

    class Dumper(yaml.SafeDumper):
        pass

    def plain(values: Any) -> bool:
        return bool(values) and not any(isinstance(v, dict | list) for v in values)

    def sequence(dumper: yaml.SafeDumper, data: list[Any]) -> Any:
        return dumper.represent_sequence("tag:yaml.org,2002:seq", data, flow_style=plain(data))

    def mapping(dumper: yaml.SafeDumper, data: dict[str, Any]) -> Any:
        # a short record, or a long table of numbers (the router's word weights), on one (wrapped) line
        flow = plain(data.values()) and (len(str(data)) < 90
                                         or all(isinstance(v, int | float) for v in data.values()))
        return dumper.represent_mapping("tag:yaml.org,2002:map", data.items(), flow_style=flow)

    Dumper.add_representer(list, sequence)
    Dumper.add_representer(dict, mapping)
    return yaml.dump(data, Dumper=Dumper, allow_unicode=True, sort_keys=False, width=110)


def cmd_check(args: argparse.Namespace) -> int:
    """Validate the config; say what is enabled; --dump prints it as YAML; --connect probes every enabled plugin."""
    if args.reference:
        from omnichannel.config_reference import reference

        print(reference(), end="")
        return 0
    config = _config(args)
    where = f"{args.config_path}" + (f" (the packaged default: no {DEFAULT_CONFIG} in {Path.cwd()})"
                                     if args.config_packaged else "")
    summary = (f"config OK: {where}\n"
               f"  {_enabled(config.connectors, 'connector')}\n"
               f"  {_enabled(config.forwarders, 'forwarder')}\n"
               f"  {len(config.agencies)} agencies: {', '.join(a.code for a in config.agencies)}\n"
               f"  store {mask_url(config.store.url)}")
    # with --dump the summary is YAML comments, so `check --dump > effective.yaml` writes a file YAML reads
    print("\n".join(f"# {line}" for line in summary.splitlines()) if args.dump else summary)
    if args.dump:
        print(f"# {args.config_path} as the daemon reads it: defaults filled in, ${{VAR}} resolved, secrets masked")
        print(dump_yaml(config.redacted()), end="")
    if not args.connect:
        return 0
    return asyncio.run(probe_all(config))


async def probe_all(config: Config) -> int:
    """``check --connect``: start, probe and stop each enabled connector and forwarder, one at a time.

    A forwarder is started as the daemon starts it (with the store and the templates), so its probe
    uses the clients ``start`` opened; a connector's probe opens its own. ``stop`` always runs, so no
    session or connection is left open. Returns 1 when any probe failed.
    """
    from omnichannel import registry
    from omnichannel.protocols import PluginContext
    from omnichannel.templates import Templates

    failures = 0
    try:
        store = await _store(config, migrate=False)
        if not await store.ping():
            await store.close()
            raise OmnichannelError("no answer")
    except Exception as exc:
        print(f"store: FAILED: {type(exc).__name__}: {exc}")
        return 1
    print(f"store: reachable ({mask_url(config.store.url)})")
    templates = Templates(config.templates, config.templates_dir)
    try:
        for section, table in (("connectors", registry.CONNECTORS), ("forwarders", registry.FORWARDERS)):
            for cfg in getattr(config, section):
                if not cfg.enabled:
                    continue
                plugin = None
                try:
                    plugin = registry.load(table[cfg.kind][0])(cfg.name, cfg)
                    if section == "forwarders":
                        ctx = PluginContext(name=cfg.name, data_dir=config.data_dir,
                                            attachments_dir=config.data_dir / "attachments",
                                            templates=templates, logger=logging.getLogger(f"omnichannel.plugin.{cfg.name}"),
                                            extra={"config": config, "store": store}, probe_only=True)
                        await asyncio.wait_for(plugin.start(ctx), 30)
                    print(f"{cfg.name}: {await asyncio.wait_for(plugin.probe(), 30)}")
                except Exception as exc:
                    failures += 1
                    print(f"{cfg.name}: FAILED: {type(exc).__name__}: {exc}")
                finally:
                    if plugin is not None:
                        try:
                            await asyncio.wait_for(plugin.stop(), 30)
                        except Exception as exc:
                            log.warning("%s: stop after the probe failed: %s: %s", cfg.name, type(exc).__name__, exc)
    finally:
        await store.close()
    return 1 if failures else 0


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

        store = await _store(config, migrate=False, existing=args.action != "upgrade")
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

        store = await _store(config, existing=True)
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

        store = await _store(config, existing=True)
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
    with ``--cross-city`` both per held-out city, the router configured for each city, or with ``--corrections``
    the second half's agency accuracy with and without the first half's corrections."""
    from omnichannel import registry

    if args.corrections is not None:
        argv = [args.corrections] if args.corrections else []
        config = config_source(args)[0]
        argv += ["--config", str(config)] if config.is_file() else []
        argv += (["--json"] if args.json else []) + [arg for city in args.city or [] for arg in ("--city", city)]
        return registry.load(registry.EVAL_CORRECTIONS)(argv)
    if args.cross_city is not None:
        argv = [args.cross_city] if args.cross_city else []
        config = config_source(args)[0]
        argv += ["--config", str(config)] if config.is_file() else []
        argv += (["--json"] if args.json else []) + (["--rules-only"] if args.rules_only else [])
        argv += ["--shipped-agencies"] if args.shipped_agencies else []
        argv += ["--embeddings"] if args.embeddings else []
        argv += [arg for city in args.city or [] for arg in ("--city", city)]
        argv += [arg for city in args.exclude or [] for arg in ("--exclude", city)]
        argv += ["--errors", args.errors_city] if args.errors_city else []
        argv += ["--jobs", str(args.jobs)] if args.jobs else []
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
    argv = [str(path), "--config", str(config_source(args)[0])] + (["--errors"] if args.errors else [])
    return registry.load(registry.EVAL_DEDUP if "case" in first else registry.EVAL_ROUTING)(argv)


IMPORT_FORMAT = """\
record format (a record without a required field goes to quarantine with the reason, the rest go on):
  required  channel (whatsapp, telegram, email, x, webform, lapor, …), sender.id (the citizen's id on that
            channel: a phone number, a handle, an address), text, received_at (ISO 8601; no zone = UTC)
  optional  sender.name, sender.email, sender.phone, subject, external_id (the channel's message id: importing
            the same id again counts as a duplicate; without it the record's bytes are its id), anonymous
  JSON Lines, one object a line:
    {"channel": "whatsapp", "sender": {"id": "6281234567890", "name": "Sri"}, "text": "Lampu jalan mati",
     "received_at": "2026-03-02T08:15:00+07:00", "external_id": "wamid.123"}
  CSV, a header row naming the columns, sender fields dotted:
    channel,sender.id,sender.name,text,received_at,external_id
Records are routed in received_at order across channels, whatever the file's order."""


def _describe(text: str) -> str:
    """A description filled to the terminal-friendly width, paragraph by paragraph."""
    return "\n\n".join(textwrap.fill(" ".join(p.split()), 96) for p in text.strip().split("\n\n"))


def _command(sub: Any, name: str, help: str, description: str) -> argparse.ArgumentParser:
    return sub.add_parser(name, help=help, description=_describe(description),
                          formatter_class=argparse.RawDescriptionHelpFormatter)


def _global_options(parser: argparse.ArgumentParser, top: bool) -> None:
    """-c/--config and --log-level; on a subcommand they default to SUPPRESS so they never undo the top level's."""
    group = parser.add_argument_group("global options (before or after the command)")
    default = None if top else argparse.SUPPRESS
    group.add_argument("-c", "--config", metavar="FILE", default=default,
                       help="config file (default: $OMNICHANNEL_CONFIG, else ./config.yaml, else the default "
                            "config shipped in the package)")
    group.add_argument("--log-level", choices=LOG_LEVELS, default=default,
                       help="log level of this command (default: logging.level of the config)")


def _spread(parser: argparse.ArgumentParser, seen: set[int] | None = None) -> None:
    """Give every subcommand, at every depth, the global options and a description (its help when unset)."""
    seen = set() if seen is None else seen
    for action in parser._actions:
        if not isinstance(action, argparse._SubParsersAction):
            continue
        helps = {choice.dest: choice.help for choice in action._choices_actions}
        for name, sub in action.choices.items():
            if id(sub) in seen:
                continue  # an alias of a parser already done
            seen.add(id(sub))
            if not sub.description and helps.get(name):
                sub.description = helps[name][0].upper() + helps[name][1:] + "."
            if not any("--config" in a.option_strings for a in sub._actions):
                _global_options(sub, top=False)
            _spread(sub, seen)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser: every command, option and action with its help."""
    parser = argparse.ArgumentParser(prog="omnichannel", description=DESCRIPTION,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    _global_options(parser, top=True)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND",
                                title="commands", description="(omnichannel COMMAND --help for each)")
    p = _command(sub, "run", "run the daemon until SIGTERM/SIGINT", """
        Run the daemon: every enabled connector, the router, the dispatcher and the HTTP server
        (web intake, webhooks, /petugas, /readyz, /metrics). SIGTERM or SIGINT drains in-flight work
        and exits 0; a configuration error exits 2.

        Without -c and without ./config.yaml it runs on the default config shipped in the package
        (SQLite under ./data, the web form on http://127.0.0.1:8080) and its first log line says so.""")
    p.set_defaults(func=cmd_run)
    p = _command(sub, "init", "write the shipped config.yaml into a directory", """
        Write the shipped config.yaml (SQLite store under ./data, the web form enabled, every other
        channel present but disabled until its credentials are set) into DIRECTORY. An existing
        config.yaml is never overwritten.""")
    p.add_argument("directory", nargs="?", default=".", metavar="DIRECTORY",
                   help="where to write config.yaml (default: the working directory)")
    p.add_argument("--region", metavar="CODE",
                   help="the Pemda's Kemendagri kabupaten/kota code (e.g. 52.71): its gazetteer and time zone "
                        "instead of Kota Semarang's")
    p.set_defaults(func=cmd_init)
    p = _command(sub, "check", "validate the config, say what is enabled, --connect to each", """
        Validate the config (errors name the key and exit 2) and say which connectors and forwarders
        are enabled. --dump prints the config as the daemon reads it, as YAML with secrets masked;
        --connect really connects to the store and to every enabled channel and destination.""")
    p.add_argument("--connect", action="store_true",
                   help="start, probe (log in, look up the account) and stop every enabled connector and "
                        "forwarder; exit 1 when one fails")
    p.add_argument("--dump", action="store_true",
                   help="print the config as YAML: defaults filled in, ${VAR} resolved, secrets masked")
    p.add_argument("--reference", action="store_true", help="print the reference of every config key (Markdown)")
    p.set_defaults(func=cmd_check)
    p = _command(sub, "db", "store migrations and backups", """
        Schema migrations of the store (also applied at start unless store.migrate_on_start is false)
        and an online, consistent copy of the SQLite store.""")
    p.add_argument("action", choices=["upgrade", "current", "backup"],
                   help="upgrade: apply pending migrations; current: show the schema revision; backup: copy "
                        "the SQLite store to TARGET while the daemon runs")
    p.add_argument("target", nargs="?", metavar="TARGET", help="backup: the file to write")
    p.set_defaults(func=cmd_db)
    p = _command(sub, "import", "import a JSONL or CSV backlog", """
        Import a backlog (JSON Lines or CSV, one complaint a record) through the same ingest and router
        path as the live channels; records already imported are counted as duplicates.""")
    p.epilog = IMPORT_FORMAT
    p.add_argument("file", metavar="FILE", help="the .jsonl or .csv file")
    p.add_argument("--no-route", action="store_true", help="store only; the daemon routes later")
    p.set_defaults(func=cmd_import)
    p = _command(sub, "export", "export envelopes with their complaints and decisions", """
        Write one record per envelope (what a channel handed over) with its complaint, its outcome and
        the router's decisions.""")
    p.add_argument("--format", choices=["jsonl", "csv"], default="jsonl", help="output format (default: jsonl)")
    p.add_argument("-o", "--output", metavar="FILE", help="write to FILE instead of standard output")
    p.set_defaults(func=cmd_export)
    p = _command(sub, "quarantine", "envelopes that could not be processed", """
        Envelopes that could not be processed are kept whole in quarantine: list them, show one, retry
        them after a fix, or export them.""")
    qsub = p.add_subparsers(dest="action", required=True, metavar="ACTION", title="actions")
    q = qsub.add_parser("list", help="quarantined envelopes with their reasons")
    q.add_argument("--all", action="store_true", help="include released items")
    q = qsub.add_parser("show", help="one item in full (JSON), with its raw content")
    q.add_argument("id", type=int, metavar="ID", help="the item id (from list)")
    q = qsub.add_parser("retry", help="process items again (after a fix); released ones leave quarantine")
    q.add_argument("ids", type=int, nargs="*", metavar="ID", help="item ids (default: all)")
    qsub.add_parser("export", help="every item as JSON Lines on standard output")
    p.set_defaults(func=cmd_quarantine)
    p = _command(sub, "eval", "routing and dedup quality on a labelled JSONL file, or per held-out city", """
        Measure the router on a labelled JSON Lines file: rows labelled with agency/kind give routing
        quality, rows labelled with case give grouping (dedup) quality. With --cross-city, each city of
        a directory is held out in turn: the router is configured for it (its remits, gazetteer and
        accounts) and tuned on the others. With --corrections, the first half of a city's stream is
        routed, its mistakes reassigned as a coordinator would, and the second half routed with and
        without those corrections.""")
    p.add_argument("file", metavar="FILE", nargs="?", help="labelled JSON Lines file")
    p.add_argument("--errors", action="store_true", help="list every wrong decision")
    p.add_argument("--cross-city", nargs="?", const="", metavar="DIR",
                   help="score each city of DIR (default tests/data/cities) with the router configured for it")
    p.add_argument("--corrections", nargs="?", const="", metavar="DIR",
                   help="what officers' corrections are worth: route the first half of each measured city's stream "
                        "(semarang, bandung under DIR, default tests/data/cities), reassign its mistakes, route the "
                        "second half; agency accuracy on the second half with and without them")
    p.add_argument("--city", action="append",
                   help="with --cross-city or --corrections: only this city (repeatable)")
    p.add_argument("--json", action="store_true", help="with --cross-city or --corrections: print the figures as JSON")
    p.add_argument("--rules-only", action="store_true", help="with --cross-city: without the learned layer")
    p.add_argument("--shipped-agencies", action="store_true",
                   help="with --cross-city: keep this config's agencies and remits, change only the region and "
                        "gazetteer (a new user who sets routing.gazetteer.region and nothing else)")
    p.add_argument("--exclude", action="append", metavar="CITY",
                   help="with --cross-city: leave this city out altogether, neither scored nor trained on "
                        "(repeatable; excluding the held-out cities gives the tuning cities' leave-one-out)")
    p.add_argument("--jobs", type=int, metavar="N",
                   help="with --cross-city: score N cities at once in worker processes (default: one per CPU; "
                        "the figures are the same)")
    p.add_argument("--embeddings", action="store_true",
                   help="with --cross-city: with sentence embeddings (the embed extra), their head trained on the "
                        "same cities as the learned layer")
    p.add_argument("--errors-of", dest="errors_city", metavar="CITY",
                   help="with --cross-city: list the wrong decisions of this city (a tuning city, never a held-out one)")
    p.set_defaults(func=cmd_eval)
    from omnichannel import registry

    for target in registry.CLI_EXTENSIONS:
        try:
            registry.load(target)(sub)
        except (ImportError, AttributeError):
            pass
    _spread(parser)
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
